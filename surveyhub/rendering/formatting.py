"""Numbers and dates in documents: ``surveyhub.locale.Numbers`` with nothing written for a missing value.

Documents say in words why a figure is missing, so a missing value is ``""``
here (the dashboard writes a dash). Kept as functions because templates and
older callers use them; every one is a line over :class:`surveyhub.locale.Numbers`.
"""

from __future__ import annotations

from datetime import date, datetime

from surveyhub.locale import LOCAL_TIME, Numbers, iso_utc, language  # noqa: F401 (re-exported)


def numbers(lang: str) -> Numbers:
    """The documents' formatter: a missing value is written as nothing."""
    return Numbers(lang, missing="")


def number(value: float | int | None, decimals: int = 2, lang: str = "nl") -> str:
    """``3.6`` → ``"3,60"`` (nl) or ``"3.60"`` (en); None or not finite → ``""``."""
    return numbers(lang).number(value, decimals)


def count(value: int | str | None, lang: str = "nl") -> str:
    """A count as shown: a whole number, or a suppression label such as ``"<5"`` as it is."""
    return numbers(lang).count(value)


def p_value(value: float | None, lang: str = "nl") -> str:
    return numbers(lang).p(value)


def percent(fraction: float | None, lang: str = "nl") -> str:
    """``0.867`` → ``"87%"``."""
    return numbers(lang).percent(fraction)


def interval(bounds: list[float] | None, decimals: int = 2, lang: str = "nl") -> str:
    """A 95% interval as ``"0,52 tot 1,48"`` (nl) or ``"0.52 to 1.48"`` (en)."""
    return numbers(lang).interval(bounds, decimals)


def long_date(moment: datetime | date, lang: str = "nl") -> str:
    """``"25 november 2026"``; a datetime is first put in Dutch local time."""
    return numbers(lang).date(moment)
