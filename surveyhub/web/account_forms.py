"""Forms for signing in and for one's own account: new passwords, two-factor codes.

``password_messages`` words the password rules of ``services.passwords`` for the
page, so the reason shows beside the field in the reader's language.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from surveyhub.services import passwords

_CODE_ATTRS = {"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*", "maxlength": 8}


def password_messages(codes: list[str]) -> list[str]:
    """The password rules a new password breaks, as sentences for the page."""
    words = {
        "too_short": _("Use at least %(n)s characters.", n=passwords.MIN_LENGTH),
        "too_long": _("Use at most %(n)s characters.", n=passwords.MAX_LENGTH),
        "common": _("This password is used by many people, so it is easy to guess. Choose another one, "
                    "for example a few words in a row."),
        "email": _("Do not use your e-mail address or your name in the password."),
        "one_character": _("Do not use one character over and over."),
    }
    return [words[code] for code in codes]


def _new_password(label):
    return PasswordField(label, validators=[DataRequired(), Length(max=passwords.MAX_LENGTH)],
                         render_kw={"autocomplete": "new-password"})


def _repeat():
    return PasswordField(_l("New password again"),
                         validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
                         render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=passwords.MAX_LENGTH)],
                            render_kw={"autocomplete": "current-password"})
    password = _new_password(_l("New password (at least 10 characters)"))
    repeat = _repeat()


class NewPasswordForm(FlaskForm):
    password = _new_password(_l("New password (at least 10 characters)"))
    repeat = _repeat()


class CodeForm(FlaskForm):
    code = StringField(_l("Code from your app (6 digits)"), validators=[DataRequired(), Length(max=8)],
                       render_kw=_CODE_ATTRS)


class EnableTwoFactorForm(CodeForm):
    secret = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])
