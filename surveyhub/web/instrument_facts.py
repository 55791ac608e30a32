"""What the admin's instrument pages say about a definition: its questions, its short form, its languages.

Plain values for the templates. A translation's status comes from the
definition (``definition.translation_status``); the words for it are here, so
the list and the detail page say it the same way. A draft is never shown as
checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from surveyhub.measures.definition import AUTHORED_LANGUAGES, item_counts, translation_status

#: Language names as a Dutch or English worker reads them (residents see each language's own name).
LANGUAGE_NAMES = {"nl": _l("Dutch"), "en": _l("English"), "tr": _l("Turkish"), "ar": _l("Arabic"),
                  "pl": _l("Polish")}
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur"})
STATUS_WORDS = {
    "authored": _l("Written by the makers"),
    "confirmed": _l("Checked by a native speaker"),
    "draft": _l("Draft — not yet checked by a native speaker"),
}


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    #: "authored" (Dutch or English, as written), "confirmed" or "draft"
    status: str
    direction: str

    @property
    def status_words(self) -> str:
        return str(STATUS_WORDS[self.status])


@dataclass(frozen=True)
class InstrumentFacts:
    items: int
    #: scored items in the short form; None when the instrument has none
    short_items: int | None
    languages: tuple[Language, ...]

    def language(self, code: str) -> Language | None:
        return next((lang for lang in self.languages if lang.code == code), None)


def language_name(code: str) -> str:
    return str(LANGUAGE_NAMES.get(code, code))


def facts(data: dict) -> InstrumentFacts:
    """The item counts and each language's status of one definition.

    The languages are the ones the definition lists, else the ones its item
    texts are written in (an upload need not list them), Dutch first.
    """
    full, short = item_counts(data)
    codes = data.get("languages") or sorted(
        {lang for scale in data.get("scales") or [] for item in scale.get("items") or []
         for lang in item.get("text") or {}}, key=lambda lang: (lang != "nl", lang != "en", lang))
    marked = data.get("translation_status") or {}
    status = translation_status(data | {"languages": codes})
    languages = tuple(
        Language(code, language_name(code),
                 "authored" if code in AUTHORED_LANGUAGES and code not in marked else status[code],
                 "rtl" if code.split("-")[0] in RIGHT_TO_LEFT else "ltr")
        for code in codes)
    return InstrumentFacts(full, short if short != full else None, languages)
