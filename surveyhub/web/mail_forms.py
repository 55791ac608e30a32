"""Forms of the e-mail pages: a project's wave dates and reminders, opening a wave, a resident's address."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, FormField, IntegerField, SelectField
from wtforms.fields import SelectChoice
from wtforms.form import Form
from wtforms.validators import Length, NumberRange, Optional


class WaveDatesForm(Form):
    """One wave's days (a subform: no CSRF token of its own)."""

    open_on = DateField(_l("Opens by itself on"), validators=[Optional()])
    close_on = DateField(_l("Closes by itself after"), validators=[Optional()])


class ScheduleForm(FlaskForm):
    pre = FormField(WaveDatesForm)
    post = FormField(WaveDatesForm)
    followup = FormField(WaveDatesForm)
    reminder_days = IntegerField(
        _l("Send a reminder after (days)"),
        validators=[Optional(), NumberRange(min=1, max=60, message=_l("Enter a number of days from 1 to 60."))],
        description=_l("Leave empty for no reminders."))
    reminder_count = SelectField(_l("At most (times)"), default="1", coerce=int,
                                 choices=[SelectChoice(1, "1"), SelectChoice(2, "2"), SelectChoice(3, "3")])


class WaveOpenForm(FlaskForm):
    mail = BooleanField(_l("and mail the invitation right away"))


class EmailForm(FlaskForm):
    email = EmailField(_l("E-mail address (optional)"), validators=[Optional(), Length(max=254)],
                       description=_l("For invitations and reminders. Nobody needs an e-mail address to take part."))


class OptOutForm(FlaskForm):
    """The one button of the opt-out page (with a CSRF token; the one-click POST of RFC 8058 has none)."""
