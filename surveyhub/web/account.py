"""One's own account: name and job title, change the password, switch two-factor sign-in on or off.

Open to every logged-in user for their own account only (there is no user id
in these URLs). Changing the password ends every other session of the user;
this browser stays logged in with the new session version.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from surveyhub.db import get_session
from surveyhub.services import credentials, passwords, story_facts
from surveyhub.services.errors import UserError
from surveyhub.web import limits
from surveyhub.web.account_forms import (ChangePasswordForm, CodeForm, EnableTwoFactorForm,
                                         password_messages)
from surveyhub.web.errors import user_message
from surveyhub.web.session_user import LoginUser

bp = Blueprint("account", __name__, url_prefix="/account")

#: What the route-matrix test reads: any logged-in user, on their own account.
OWN_ACCOUNT = "own-account"


def own_account(view):
    """Login required; the page concerns only the logged-in user's own account."""
    wrapped = login_required(view)
    wrapped.capability = OWN_ACCOUNT
    return wrapped


class ProfileForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[Optional(), Length(max=200)],
                       render_kw={"autocomplete": "name"})
    job_title = StringField(_l("Your job title"), validators=[Optional(), Length(max=200)],
                            description=_l("For example: Opbouwwerker. Leave empty for “Opbouwwerker”."),
                            render_kw={"autocomplete": "organization-title"})


def _no_store(body):
    response = make_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/profile", methods=["GET", "POST"])
@own_account
def profile():
    """Name and job title, printed under the signature line of the certificates one issues."""
    session = get_session()
    form = ProfileForm(data=story_facts.profile(session, current_user.id))
    if form.validate_on_submit():
        try:
            story_facts.set_profile(session, current_user.id, form.name.data, form.job_title.data,
                                    limits.client_address())
        except UserError as exc:
            session.rollback()
            form.name.errors.append(user_message(exc))
        else:
            session.commit()
            flash(_("Your name and job title are saved."))
            return redirect(url_for("account.profile"))
    return _no_store(render_template("account/profile.html", form=form))


@bp.route("/password", methods=["GET", "POST"])
@own_account
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            info = credentials.change_password(session, current_user.id, form.current.data, form.password.data,
                                               limits.client_address())
        except credentials.WrongPassword:
            session.rollback()
            form.current.errors.append(_("This is not your current password."))
        except passwords.WeakPassword as exc:
            session.rollback()
            form.password.errors.extend(password_messages(exc.codes))
        else:
            session.commit()
            login_user(LoginUser(info))  # this browser goes on; every other session has ended
            flash(_("Your password is changed. On other devices you are logged out."))
            return redirect(url_for("account.password"))
    return _no_store(render_template("account/password.html", form=form))


@bp.route("/2fa", methods=["GET", "POST"])
@own_account
def two_factor():
    """Two-factor sign-in: set up with a QR code and a first code, or switch off with a current code."""
    if current_user.role not in credentials.TOTP_ROLES:
        abort(403)
    if current_user.info.totp:
        return _switch_off()
    form = EnableTwoFactorForm()
    if not form.secret.data:
        form.secret.data = credentials.new_totp_secret()
    if form.validate_on_submit():
        session = get_session()
        try:
            credentials.enable_totp(session, current_user.id, form.secret.data, form.code.data,
                                    limits.client_address())
        except credentials.WrongCode:
            session.rollback()
            form.code.errors.append(_("This code is not right. Type the code your app shows now."))
        else:
            session.commit()
            flash(_("Two-step login is on. From now on you type a code from your app when you log in."))
            return redirect(url_for("account.two_factor"))
    uri = credentials.totp_uri(form.secret.data, current_user.info.email)
    return _no_store(render_template("account/two_factor.html", form=form, uri=uri, secret=form.secret.data,
                                     enabled=False))


def _switch_off():
    form = CodeForm()
    if form.validate_on_submit():
        if not limits.hit("totp-off", "LOGIN_ACCOUNT_RATE_LIMIT", current_user.info.email):
            abort(429)  # a stolen session may not try every code
        session = get_session()
        try:
            credentials.disable_totp(session, current_user.id, form.code.data, limits.client_address())
        except credentials.WrongCode:
            session.rollback()
            form.code.errors.append(_("This code is not right. Type the code your app shows now."))
        else:
            session.commit()
            flash(_("Two-step login is off."))
            return redirect(url_for("account.two_factor"))
    return _no_store(render_template("account/two_factor.html", form=form, enabled=True))
