"""WTForms built at run time from a questionnaire page: one field per item."""

from __future__ import annotations

from functools import lru_cache

from babel import support
from babel.dates import get_month_names
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path
from wtforms import BooleanField, HiddenField, SelectField, StringField

from surveyhub.measures.questions import radio_choices
from surveyhub.services import consent as consent_text
from surveyhub.services.questionnaire import Page


#: Form classes per (page, question types, language), built once per process: pages are shared
#: (``questionnaire.cached_pages``), so the same page object comes back on every request.
_FORMS: dict[tuple[int, int, str], tuple[Page, dict, type[FlaskForm], list]] = {}
_MAX_FORMS = 2048


def page_form_class(page: Page, types: dict, lang: str, on_error=None) -> tuple[type[FlaskForm], list]:
    """A form class for the page, and the slots that could be rendered.

    A plugin question type that fails to build its field is reported and its
    item left out, so the resident can go on. Only a page that built whole is
    cached, so a failing plugin is reported on every request.
    """
    key = (id(page), id(types), lang)
    cached = _FORMS.get(key)
    if cached is not None and cached[0] is page and cached[1] is types:  # ids are only unique while alive
        return cached[2], cached[3]
    problems = []

    def report(type_name: str, message: str | None = None) -> None:
        problems.append(type_name)
        if on_error and message:
            on_error(type_name, message)

    form_class, shown = _build(page, types, lang, report)
    if not problems and len(shown) == len(page.slots):  # an item left out is reported again next time
        if len(_FORMS) >= _MAX_FORMS:
            _FORMS.clear()
        _FORMS[key] = (page, types, form_class, shown)
    return form_class, shown


def _build(page: Page, types: dict, lang: str, on_error) -> tuple[type[FlaskForm], list]:
    fields, shown = {}, []
    for slot in page.slots:
        qtype = types.get(slot.item["type"])
        if qtype is None:
            if on_error:
                on_error(slot.item["type"], f"question type {slot.item['type']!r} is not installed")
            continue
        field = qtype.make_field(slot.item, {"answer_sets": slot.answer_sets, "lang": lang})
        if field is None:  # a plugin's type failed to build its field; its guard reported why
            if on_error:
                on_error(slot.item["type"])  # left out: this page is not cached
            continue
        fields[slot.key] = field
        shown.append(slot)
    fields["page_token"] = HiddenField()
    return type("QuestionnairePage", (_PageForm,), fields), shown


@lru_cache(maxsize=8)
def _wtforms_messages(locale: str):
    """WTForms' own messages in one language, read once per process (Flask-WTF reads them on every request)."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _PageForm(FlaskForm):
    """Base of every questionnaire page form: a resident's busiest request should not re-read catalogs."""

    class Meta:
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _wtforms_messages(str(get_locale() or "nl"))


class ConsentForm(FlaskForm):
    # The wording is shared with the paper questionnaire (``services.consent``).
    consent = BooleanField(_l(consent_text.AGREE))
    share_quotes = BooleanField(_l(consent_text.SHARE_QUOTES))


class ShortCodeForm(FlaskForm):
    """The code printed on a resident's card (``/k``). Opening a link changes nothing: no CSRF token needed."""

    class Meta:
        csrf = False

    code = StringField(_l("Your code"), render_kw={"autocomplete": "off", "autocapitalize": "characters",
                                                   "spellcheck": "false", "maxlength": 40,
                                                   "placeholder": "K7P2-9XMC"})


#: "Don't know" in every dropdown of the code: the same "?" a resident types in a letter field.
DONT_KNOW = ("?", _l("I don't know"))


def _month_choices() -> list:
    """Month names in the page's language (values stay 1–12, so codes made before still match)."""
    names = get_month_names("wide", context="stand-alone", locale=str(get_locale() or "nl"))
    return radio_choices([("", "–")] + [(str(m), names[m]) for m in range(1, 13)] + [DONT_KNOW])


def _count_choices() -> list:
    return radio_choices([("", "–")] + [(str(n), str(n)) for n in range(0, 5)] + [("5", _l("5 or more")), DONT_KNOW])


class ParticipantCodeForm(FlaskForm):
    """Six stable, non-identifying questions; together they make the resident's own code."""

    mother = StringField(_l("First letter of your mother's first name"),
                         description=_l("Why? This letter never changes, and it does not tell anyone who you are."),
                         render_kw={"maxlength": 1, "autocomplete": "off", "autocapitalize": "characters"})
    father = StringField(_l("First letter of your father's first name"),
                         render_kw={"maxlength": 1, "autocomplete": "off", "autocapitalize": "characters"})
    month = SelectField(_l("Your birth month"), choices=[])
    brothers = SelectField(_l("How many older brothers do you have?"), choices=_count_choices)
    sisters = SelectField(_l("How many older sisters do you have?"), choices=_count_choices)
    birthplace = StringField(_l("First letter of the town where you were born"),
                             render_kw={"maxlength": 1, "autocomplete": "off", "autocapitalize": "characters"})

    PARTS = ("mother", "father", "month", "brothers", "sisters", "birthplace")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.month.choices = _month_choices()

    def code_parts(self) -> list[str]:
        return [(getattr(self, name).data or "").strip() for name in self.PARTS]
