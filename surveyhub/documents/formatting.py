"""Numbers and dates as the reader expects them: "3,6" and "25 november 2026" in Dutch.

Every number a document shows goes through here, so the PDF shows exactly the
report JSON's values, rounded the same way everywhere.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date
from babel.numbers import format_decimal

try:
    LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
except ZoneInfoNotFoundError:  # a system without time zone data: dates in UTC
    LOCAL_TIME = timezone.utc

def locale_of(lang: str) -> str:
    return "nl" if str(lang).split("-")[0] != "en" else "en"


def number(value: float | int | None, decimals: int = 2, lang: str = "nl") -> str:
    """``3.6`` → ``"3,60"`` (nl) or ``"3.60"`` (en); None or not finite → ``""``."""
    if value is None or isinstance(value, bool):
        return ""
    value = float(value)
    if not math.isfinite(value):
        return ""
    pattern = "0" if decimals <= 0 else "0." + "0" * decimals
    rounded = round(value, decimals) + 0.0  # + 0.0: never show "-0,00"
    return format_decimal(rounded, pattern, locale=locale_of(lang))


def count(value: int | str | None, lang: str = "nl") -> str:
    """A count as shown: a whole number, or a suppression label such as ``"<5"`` as it is."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return format_decimal(int(value), "#,##0", locale=locale_of(lang))


def p_value(value: float | None, lang: str = "nl") -> str:
    if value is None:
        return ""
    if value < 0.001:
        return "< " + number(0.001, 3, lang)
    return number(value, 3, lang)


def percent(fraction: float | None, lang: str = "nl") -> str:
    """``0.867`` → ``"87%"``."""
    if fraction is None:
        return ""
    return number(fraction * 100, 0, lang) + "%"


def interval(bounds: list[float] | None, decimals: int = 2, lang: str = "nl") -> str:
    """A 95% interval as ``"0,52 tot 1,48"`` (nl) or ``"0.52 to 1.48"`` (en)."""
    if not bounds or bounds[0] is None or bounds[1] is None:
        return ""
    word = "tot" if locale_of(lang) == "nl" else "to"
    return f"{number(bounds[0], decimals, lang)} {word} {number(bounds[1], decimals, lang)}"


def long_date(moment: datetime | date, lang: str = "nl") -> str:
    """``"25 november 2026"``; a datetime is first put in Dutch local time."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        moment = moment.astimezone(LOCAL_TIME).date()
    return format_date(moment, "d MMMM y", locale=locale_of(lang))


def iso_utc(moment: datetime) -> str:
    """The moment as ``2026-11-25T10:00:00Z``: stable text for PDF metadata."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
