"""WTForms for the worker and admin pages (CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, DateField, DecimalField, EmailField, IntegerField, PasswordField, RadioField,
                     SelectField, SelectMultipleField, StringField, TextAreaField)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget


class PlainNumber:
    """A finite number of sensible size: no NaN, no infinity, nothing beyond ``limit`` either way."""

    def __init__(self, limit: int = 1_000_000_000):
        self.limit = limit

    def __call__(self, form, field) -> None:
        value = field.data
        if value is None:
            return
        if not value.is_finite() or abs(value) > self.limit:
            raise ValidationError(_l("Enter a number from -1,000,000,000 to 1,000,000,000."))


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ProjectForm(FlaskForm):
    name = StringField(_l("Project name"), validators=[DataRequired(_l("Give the project a name.")),
                                                        Length(max=200, message=_l("Use at most 200 characters."))])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    instruments = MultiCheckboxField(_l("Instruments"), choices=[],
                                     validators=[DataRequired(_l("Choose at least one instrument."))])
    form_length = RadioField(_l("Length of the questionnaire"), default="full",
                             choices=[SelectChoice("full", _l("Full: every question")),
                                      SelectChoice("short", _l("Short: 3 or 4 questions per skill, where the "
                                                               "instrument has a short form"))])
    question_mode = RadioField(_l("How residents see the questions"), default="page",
                               choices=[SelectChoice("page", _l("A page of questions at a time")),
                                        SelectChoice("one", _l("One question per screen (easiest on a phone)"))])
    language = SelectField(_l("Language residents see first"), default="nl",
                           choices=[SelectChoice("nl", "Nederlands"), SelectChoice("en", "English"),
                                    SelectChoice("tr", "Türkçe"), SelectChoice("ar", "العربية"),
                                    SelectChoice("pl", "Polski")],
                           description=_l("Residents can switch to another language the instruments have."))
    period_start = DateField(_l("Project starts on"), validators=[Optional()],
                             description=_l("Optional. Shown on the report's cover."))
    period_end = DateField(_l("Project ends on"), validators=[Optional()])
    retrospective = BooleanField(_l("Ask the retrospective ('then') block in the post wave"))
    retention_months = IntegerField(
        _l("Keep personal data for (months after the last wave closes)"),
        validators=[Optional(), NumberRange(min=1, max=120, message=_l("Enter a number of months from 1 to 120."))])


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[SelectChoice("worker", _l("Community worker")),
                                            SelectChoice("admin", _l("Admin")),
                                            SelectChoice("funder", _l("Funder (read only)"))])
    password = PasswordField(_l("Password (at least 10 characters)"),
                             validators=[DataRequired(), Length(min=10, max=200)],
                             render_kw={"autocomplete": "new-password"})


class ActionForm(FlaskForm):
    """An empty form: a button that changes something still carries a CSRF token."""


class UploadForm(FlaskForm):
    file = FileField(_l("Instrument file (YAML or XLSForm .xlsx)"), validators=[DataRequired()])


class AddParticipantsForm(FlaskForm):
    name = StringField(_l("Name (optional)"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("E-mail address (optional)"), validators=[Optional(), Email(), Length(max=254)])
    names = TextAreaField(
        _l("Or paste a list: one resident per line, name and optionally a comma and an e-mail address"),
        validators=[Optional(), Length(max=500_000)])
    file = FileField(_l("Or upload a text file with the same list"))


class PaperConsentForm(FlaskForm):
    consent = BooleanField(_l("The resident signed the paper consent form"))
    share_quotes = BooleanField(_l("The resident agreed that written answers may be quoted without a name"))


class QuestionForm(FlaskForm):
    qtype = SelectField(_l("Type of answer"), choices=[
        SelectChoice("text", _l("Open text")), SelectChoice("yes_no", _l("Yes or no")),
        SelectChoice("number", _l("A number")), SelectChoice("choice", _l("One answer from your own list")),
        SelectChoice("choices", _l("Several answers from your own list"))])
    text_nl = StringField(_l("Question in Dutch"), validators=[
        DataRequired(_l("Write the question in Dutch.")), Length(max=500, message=_l("Use at most 500 characters."))])
    text_en = StringField(_l("Question in English (optional)"), validators=[Optional(), Length(max=500)])
    minimum = DecimalField(_l("Lowest number (for a number question)"), validators=[Optional(), PlainNumber()])
    maximum = DecimalField(_l("Highest number (for a number question)"), validators=[Optional(), PlainNumber()])
    options = TextAreaField(_l("Answers to choose from (for a list question): one per line"),
                            validators=[Optional(), Length(max=2000)], render_kw={"rows": 4})
    waves = MultiCheckboxField(_l("Ask this question in"), choices=[SelectChoice("pre", _l("Pre wave (nulmeting)")),
                                                                     SelectChoice("post", _l("Post wave (eindmeting)")),
                                                                     SelectChoice("followup", _l("Follow-up wave"))],
                               default=["pre", "post", "followup"],
                               description=_l("Tick nothing or everything to ask it in every wave."))
