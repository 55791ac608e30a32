"""The resident's forms and words on "What I did" (``web.contributions``): every text here is a resident's.

Kept apart from the worker's list to confirm, so that the residents' languages (``docs/languages.md``,
``tests/test_languages.py``) cover exactly what a resident reads.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l, ngettext, pgettext
from flask_wtf import FlaskForm
import re

from wtforms import DateField, RadioField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from surveyhub.i18n import current_language
from surveyhub.locale import Numbers
from surveyhub.models import ACTIVITY_KINDS, ACTIVITY_ROLES
from surveyhub.services.contributions import MAX_DESCRIPTION, MAX_HOURS, MAX_NOTE

#: Roles as the resident says them ("I ..."), from taking part to leading.
ROLE_CHOICES = {"participant": _l("I took part"), "volunteer": _l("I helped as a volunteer"),
                "organiser": _l("I organised it"), "chair": _l("I chaired it or spoke for the group")}
#: After a contribution is stored (the page it leads to says it waits for a worker).
THANKS = _l("Thank you! Your community worker will look at it soon.")
#: A form whose CSRF token ran out (a page left open for hours): nothing was stored.
EXPIRED = _l("This page was open for a long time. Please send it again.")


def kind_names() -> dict[str, str]:
    """Kinds of activity in the worker's activity pages' words (``web.activities``): one name for one thing."""
    return {"meeting": pgettext("activity kind", "Meeting"), "workday": pgettext("activity kind", "Work day"),
            "event": pgettext("activity kind", "Event"), "training": pgettext("activity kind", "Training"),
            "other": pgettext("activity kind", "Other")}


def kind_name(kind: str) -> str:
    return kind_names().get(kind, kind)


def role_words(role: str) -> str:
    """What a resident did in a role, in their own voice ("I organised it")."""
    return str(ROLE_CHOICES.get(role, role))


def hours_text(value: float) -> str:
    """"3 hours", "2.5 hours" ("3 uur", "2,5 uur"): whole hours without decimals, else up to two."""
    decimals = 0 if float(value).is_integer() else (1 if round(value * 10, 6).is_integer() else 2)
    shown = Numbers(current_language()).number(value, decimals)
    return ngettext("%(hours)s hour", "%(hours)s hours", 1 if value == 1 else 2, hours=shown)


#: Hours as a resident types them: 2, 1,5 or 1.5 (the decimal comma is Dutch), at most two decimals.
_HOURS = re.compile(r"^\d{1,2}(?:[.,]\d{1,2})?$")


class HoursField(StringField):
    """Hours typed as text, read with a decimal comma or dot; ``data`` is a float, or None when it is no number.

    A text field (``inputmode="decimal"``) rather than a number field: "1,5" is how a Dutch resident
    writes it, and words such as "NaN" or "sNaN" never reach a comparison.
    """

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = float(text.replace(",", ".")) if _HOURS.match(text) else None

    def _value(self) -> str:
        """What the resident typed, kept when the page comes back with a message."""
        return self.raw_data[0] if self.raw_data else ("" if self.data is None else f"{self.data:g}")


def _hours_in_range(form, field) -> None:
    if field.data is None or not 0 < field.data <= MAX_HOURS:
        raise ValidationError(_l("Fill in the hours: more than 0, at most %(n)s.", n=int(MAX_HOURS)))


def _choices(names: dict, keys) -> list[SelectChoice]:
    return [SelectChoice(key, names[key]) for key in keys]


class PickForm(FlaskForm):
    """"I was there too": one of the project's recent activities, the role, a note."""

    #: Any id is let through to the service, which tells "not on the list" from "already on your list".
    activity = RadioField(_l("Which activity?"), choices=[], validate_choice=False,
                          validators=[InputRequired(_l("Choose an activity.")),
                                      Regexp(r"^\d{1,9}$", message=_l("Choose an activity."))])
    role = RadioField(_l("What did you do?"), choices=_choices(ROLE_CHOICES, ACTIVITY_ROLES), default="participant",
                      validators=[InputRequired(_l("Choose what you did there."))])
    note = TextAreaField(_l("Want to tell more? (you may leave this empty)"),
                         validators=[Optional(), Length(max=MAX_NOTE)])

    def offer(self, offers) -> None:
        """The activities to pick from (``contributions.offers``); the page writes their words."""
        self.activity.choices = [SelectChoice(str(o.activity_id), "") for o in offers]


class OtherForm(FlaskForm):
    """Something else the resident did: when, what kind, what, how long, the role, a note."""

    happened_on = DateField(_l("When was it?"), validators=[InputRequired(_l("Fill in the date."))])
    kind = RadioField(_l("What kind of activity?"), choices=[SelectChoice(kind, kind) for kind in ACTIVITY_KINDS],
                      validators=[InputRequired(_l("Choose what kind of activity it was."))])
    description = StringField(_l("What did you do? A few words are enough."),
                              validators=[InputRequired(_l("Write in a few words what you did.")),
                                          Length(max=MAX_DESCRIPTION)])
    hours = HoursField(_l("How many hours, about?"),
                       validators=[InputRequired(_l("Fill in the hours.")), _hours_in_range])
    role = RadioField(_l("What did you do?"), choices=_choices(ROLE_CHOICES, ACTIVITY_ROLES), default="participant",
                      validators=[InputRequired(_l("Choose what you did there."))])
    note = TextAreaField(_l("Want to tell more? (you may leave this empty)"),
                         validators=[Optional(), Length(max=MAX_NOTE)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = _choices(kind_names(), ACTIVITY_KINDS)  # in the request's language
