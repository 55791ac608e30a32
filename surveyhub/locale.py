"""The one place that decides the reader's language and how a number, date or list is written.

Pure (no Flask): pages, PDFs, charts and exports all format through
:class:`Numbers`, so "3,60" on the dashboard is "3,60" in the funder's PDF and in
a chart's description. Two interface languages everywhere: Dutch (the default,
what residents read) and English. Residents' pages and certificates also speak
Turkish, Arabic and Polish (:data:`RESIDENT_LANGUAGES`; Arabic right to left).
Web code gets the request's language from Flask-Babel and passes it through
:func:`language` (or :func:`resident_language`); documents get it from the caller.

Missing values (``None``: not computable, or hidden because a group is small)
are written as ``missing`` — a dash on pages, nothing in documents, which say
why in words instead.
"""

from __future__ import annotations

import gettext
import io
import math
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

#: Interface languages of every page (workers, admins, funders).
LANGUAGES = ("nl", "en")
#: Languages of residents' pages and certificates: the interface languages and the drafts for residents
#: who read Turkish, Arabic or Polish better than Dutch (docs/languages.md).
RESIDENT_LANGUAGES = ("nl", "en", "tr", "ar", "pl")
#: Each language by its own name, as a resident looks for it in a language chooser.
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English", "tr": "Türkçe", "ar": "العربية", "pl": "Polski"}
#: Languages written right to left.
RTL_LANGUAGES = frozenset({"ar"})
DEFAULT_LANGUAGE = "nl"
DASH = "–"
#: Where the catalogs live: ``<lang>/LC_MESSAGES/messages.po``.
CATALOG_DIR = Path(__file__).parent / "translations"

try:
    #: Dates are the day in the Netherlands, where the residents and workers are.
    LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
except ZoneInfoNotFoundError:  # a system without time zone data: dates in UTC
    LOCAL_TIME = timezone.utc  # type: ignore[assignment]

_WORDS = {"nl": {"to": "tot", "and": "en", "comma": ", "}, "en": {"to": "to", "and": "and", "comma": ", "},
          "tr": {"to": "ile", "and": "ve", "comma": ", "}, "ar": {"to": "إلى", "and": "و", "comma": "، "},
          "pl": {"to": "do", "and": "i", "comma": ", "}}


def language(value: object, allowed: tuple[str, ...] = LANGUAGES) -> str:
    """``"en"`` for any English tag (``en``, ``en-GB``, ``en_US``, a Babel ``Locale``), else ``"nl"``;
    with ``allowed`` (e.g. :data:`RESIDENT_LANGUAGES`) any of those by its primary tag.

    Dutch is the fallback because residents read Dutch: an unknown or missing
    language must never leave them with English.
    """
    primary = str(value or "").replace("_", "-").split("-")[0].strip().lower()
    return primary if primary in allowed else DEFAULT_LANGUAGE


def resident_language(value: object) -> str:
    """A language residents' pages and certificates can speak (``"ar-EG"`` → ``"ar"``), else Dutch."""
    return language(value, RESIDENT_LANGUAGES)


def direction(lang: object) -> str:
    """``"rtl"`` for a language written right to left (Arabic), else ``"ltr"``: the ``dir`` of a page."""
    return "rtl" if resident_language(lang) in RTL_LANGUAGES else "ltr"


def offered_languages(instrument_languages: list[list[str]] | list[tuple[str, ...]]) -> list[str]:
    """The languages a project's residents may choose: those every instrument has, and always Dutch.

    ``instrument_languages`` holds each instrument's ``languages`` list. In
    :data:`RESIDENT_LANGUAGES` order, Dutch first; a language the interface
    cannot speak is never offered, whatever an instrument has.
    """
    shared = set(RESIDENT_LANGUAGES)
    for languages in instrument_languages:
        shared &= set(languages or ())
    return [lang for lang in RESIDENT_LANGUAGES if lang in shared or lang == DEFAULT_LANGUAGE]


@lru_cache(maxsize=None)
def catalog(lang: str) -> gettext.NullTranslations:
    """The gettext catalog of a language, read from its ``.po`` once per process (no Flask, no instance folder).

    English is the source language, so it has no catalog: the English texts are
    the msgids. Documents read their words here; pages get the same catalog
    through Flask-Babel.
    """
    lang = resident_language(lang)
    path = CATALOG_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as fh:
        messages = read_po(fh, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, messages)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def translate(text: dict | str | None, lang: str) -> str:
    """A translation object (``{"nl": ..., "en": ...}``) in ``lang``, else its base language, else Dutch,
    else any language it has; a plain string as it is."""
    if isinstance(text, str):
        return text
    if not text:
        return ""
    for code in (lang, str(lang).split("-")[0], DEFAULT_LANGUAGE):
        if text.get(code):
            return text[code]
    return next(iter(text.values()))


def join_words(words: list[str], lang: str) -> str:
    """``["a", "b", "c"]`` → ``"a, b en c"`` (nl) or ``"a, b and c"`` (en)."""
    if len(words) <= 1:
        return "".join(words)
    joining = _WORDS[resident_language(lang)]
    return joining["comma"].join(words[:-1]) + f" {joining['and']} " + words[-1]


def local_today(zone: str) -> date:
    """Today on the installation's clock (``SURVEYHUB_TIMEZONE``): the day a worker or a report means."""
    return datetime.now(ZoneInfo(zone)).date()


def iso_utc(moment: datetime) -> str:
    """The moment as ``2026-11-25T10:00:00Z``: stable, language-free text for metadata and JSON."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class Numbers:
    """Numbers, counts, p-values, intervals, percentages, dates and lists in one language.

    ``Numbers("nl").number(3.6)`` → ``"3,60"``; ``Numbers("en").number(3.6)`` → ``"3.60"``.
    Rounding is half-to-even on the float, then ``+ 0.0`` so that a tiny negative
    never shows as ``"-0,00"``.
    """

    def __init__(self, lang: object = DEFAULT_LANGUAGE, missing: str = DASH):
        self.lang = resident_language(lang)
        self.missing = missing

    def number(self, value: float | int | None, decimals: int = 2) -> str:
        """A measured value with a fixed number of decimals; None, a bool or not finite → ``missing``."""
        if value is None or isinstance(value, bool):
            return self.missing
        value = float(value)
        if not math.isfinite(value):
            return self.missing
        pattern = "0" if decimals <= 0 else "0." + "0" * decimals
        return format_decimal(round(value, decimals) + 0.0, pattern, locale=self.lang)

    def signed(self, value: float | None, decimals: int = 2) -> str:
        """A change: ``"+0,43"``, ``"-0,27"``, ``"0,00"``."""
        text = self.number(value, decimals)
        if text == self.missing or text.startswith(("-", "−")) or float(value) <= 0:  # type: ignore[arg-type]
            return text
        return "+" + text

    def count(self, value: int | str | None) -> str:
        """A whole number with grouping (``"1.200"``), or a suppression label such as ``"<5"`` as it is."""
        if value is None:
            return self.missing
        if isinstance(value, str):
            return value
        return format_decimal(int(value), "#,##0", locale=self.lang)

    def p(self, value: float | None) -> str:
        """A p-value with three decimals; below 0.001 as ``"< 0,001"``."""
        if value is None:
            return self.missing
        return "< " + self.number(0.001, 3) if value < 0.001 else self.number(value, 3)

    def interval(self, bounds: list[float] | tuple[float, float] | None, decimals: int = 2) -> str:
        """A 95% interval as ``"0,52 tot 1,48"`` (nl) or ``"0.52 to 1.48"`` (en)."""
        if not bounds or bounds[0] is None or bounds[1] is None:
            return self.missing
        return f"{self.number(bounds[0], decimals)} {_WORDS[self.lang]['to']} {self.number(bounds[1], decimals)}"

    def percent(self, fraction: float | None) -> str:
        """``0.867`` → ``"87%"``."""
        if fraction is None:
            return self.missing
        return self.number(fraction * 100, 0) + "%"

    def date(self, moment: datetime | date) -> str:
        """``"25 november 2026"``; a datetime is first put in Dutch local time (naive means UTC)."""
        if isinstance(moment, datetime):
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            moment = moment.astimezone(LOCAL_TIME).date()
        return format_date(moment, "d MMMM y", locale=self.lang)

    def words(self, words: list[str]) -> str:
        """``"a, b en c"``."""
        return join_words(words, self.lang)
