"""WTForms built at run time from a questionnaire page: one field per item."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField

from surveyhub.measures.questions import radio_choices
from surveyhub.services.questionnaire import Page


def page_form_class(page: Page, types: dict, lang: str, on_error=None) -> tuple[type[FlaskForm], list]:
    """A form class for the page, and the slots that could be rendered.

    A plugin question type that fails to build its field is reported and its
    item left out, so the resident can go on.
    """
    fields, shown = {}, []
    for slot in page.slots:
        qtype = types.get(slot.item["type"])
        if qtype is None:
            if on_error:
                on_error(slot.item["type"], f"question type {slot.item['type']!r} is not installed")
            continue
        field = qtype.make_field(slot.item, {"answer_sets": slot.answer_sets, "lang": lang})
        if field is None:  # a plugin's type failed to build its field; its guard reported why
            continue
        fields[slot.key] = field
        shown.append(slot)
    fields["page_token"] = HiddenField()
    return type("QuestionnairePage", (FlaskForm,), fields), shown


class ConsentForm(FlaskForm):
    consent = BooleanField(_l("Yes, I want to take part and I agree that my answers are stored."))
    share_quotes = BooleanField(_l("My written answers may be quoted in the report, without my name."))


class ParticipantCodeForm(FlaskForm):
    """Six stable, non-identifying questions; together they make the resident's own code."""

    mother = StringField(_l("First letter of your mother's first name"),
                         render_kw={"maxlength": 1, "autocomplete": "off", "autocapitalize": "characters"})
    father = StringField(_l("First letter of your father's first name"),
                         render_kw={"maxlength": 1, "autocomplete": "off", "autocapitalize": "characters"})
    month = SelectField(_l("Your birth month"),
                        choices=radio_choices([("", "–")] + [(str(m), str(m)) for m in range(1, 13)]))
    brothers = SelectField(_l("How many older brothers do you have?"),
                           choices=radio_choices([("", "–")] + [(str(n), str(n)) for n in range(0, 5)]
                                                 + [("5", _l("5 or more"))]))
    sisters = SelectField(_l("How many older sisters do you have?"),
                          choices=radio_choices([("", "–")] + [(str(n), str(n)) for n in range(0, 5)]
                                                + [("5", _l("5 or more"))]))
    birthplace = StringField(_l("First letter of the town where you were born"),
                             render_kw={"maxlength": 1, "autocomplete": "off", "autocapitalize": "characters"})

    PARTS = ("mother", "father", "month", "brothers", "sisters", "birthplace")

    def code_parts(self) -> list[str]:
        return [(getattr(self, name).data or "").strip() for name in self.PARTS]
