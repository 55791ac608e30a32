"""Signing in and out for workers, admins and funders, and one-time reset links.

Login is limited per address (``LOGIN_RATE_LIMIT``) and per typed e-mail
address (``LOGIN_ACCOUNT_RATE_LIMIT``), counted in the store every worker
process shares. The per-account limit counts failures for any typed address,
account or not, so its message says nothing about who has an account. With
two-factor sign-in on, a right password leads to a second step that asks for
the app's code; until then nobody is logged in.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import (Blueprint, abort, flash, make_response, redirect, render_template, request, session as cookie,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from surveyhub.db import get_session
from surveyhub.extensions import get_throttle, rates
from surveyhub.services import accounts, credentials, passwords
from surveyhub.services.errors import NotFound
from surveyhub.services.throttle import Rate
from surveyhub.web import limits
from surveyhub.web.account_forms import CodeForm, NewPasswordForm, password_messages
from surveyhub.web.forms import ActionForm, LoginForm
from surveyhub.web.session_user import LoginUser, public

bp = Blueprint("auth", __name__)

#: How long the second step (the code) may take after the right password.
PENDING_SECONDS = 300
PENDING = "pending_login"
#: A code is accepted once; a second use of the same code within the hour is refused.
USED_CODE = [Rate(1, 3600)]


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("manage.dashboard")


def _attempt_allowed(email: str):
    """Count one attempt; a page to show when a limit is used up, else None."""
    if not limits.hit("login-address", "LOGIN_RATE_LIMIT", limits.client_address()):
        abort(429)
    if not limits.hit("login-account", "LOGIN_ACCOUNT_RATE_LIMIT", email):
        minutes = max(1, max(rate.seconds for rate in rates("LOGIN_ACCOUNT_RATE_LIMIT")) // 60)
        return _("Too many failed attempts with this e-mail address. Wait %(minutes)s minutes and try again.",
                 minutes=minutes)
    return None


def _succeeded(email: str) -> None:
    """A right password does not count towards the per-account limit."""
    limits.release()
    get_throttle().undo("login-account", rates("LOGIN_ACCOUNT_RATE_LIMIT"), email)


def _failed(email: str, step: str) -> None:
    session = get_session()
    session.rollback()
    accounts.record_failed_login(session, email, limits.client_address(), step)
    session.commit()


def _finish(info: accounts.UserInfo, next_url: str | None):
    session = get_session()
    info = accounts.record_login(session, info.id, limits.client_address())
    session.commit()
    cookie.pop(PENDING, None)
    login_user(LoginUser(info))
    return redirect(_safe_next(next_url))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        refused = _attempt_allowed(email)
        if refused:
            form.email.errors.append(refused)
            return render_template("auth/login.html", form=form)
        info = accounts.authenticate(get_session(), email, form.password.data)
        if info is None:
            _failed(email, "password")
            form.password.errors.append(_("The e-mail address or password is not right."))
            return render_template("auth/login.html", form=form)
        get_session().commit()  # a rehashed password
        _succeeded(email)
        if not info.totp:
            return _finish(info, request.args.get("next"))
        cookie[PENDING] = {"user": info.id, "version": info.session_version, "email": email,
                           "until": time.time() + PENDING_SECONDS, "next": request.args.get("next")}
        return redirect(url_for("auth.login_code"))
    return render_template("auth/login.html", form=form)


def _pending() -> dict | None:
    pending = cookie.get(PENDING)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        cookie.pop(PENDING, None)
        return None
    return pending


@bp.route("/login/code", methods=["GET", "POST"])
@public
def login_code():
    """The second step: the code from the authenticator app."""
    pending = _pending()
    if pending is None:
        flash(_("Log in again, please: the time for the code has passed."))
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        refused = _attempt_allowed(pending["email"])
        if refused:
            form.code.errors.append(refused)
            return render_template("auth/code.html", form=form)
        session = get_session()
        info = accounts.get_user(session, pending["user"])
        secret = credentials.totp_secret(session, pending["user"])
        if info is None or info.session_version != pending["version"] or secret is None:
            cookie.pop(PENDING, None)
            return redirect(url_for("auth.login"))
        step = credentials.code_step(secret, form.code.data)
        limits.release()
        if step is None or not get_throttle().hit("totp-used", USED_CODE, f"{info.id}:{step}"):
            _failed(pending["email"], "code")
            form.code.errors.append(_("This code is not right. Type the code your app shows now."))
            return render_template("auth/code.html", form=form)
        _succeeded(pending["email"])
        return _finish(info, pending.get("next"))
    return render_template("auth/code.html", form=form)


@bp.route("/logout", methods=["POST"])
@public
def logout():
    form = ActionForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            session = get_session()
            accounts.logout(session, current_user.id, limits.client_address())
            session.commit()
        logout_user()
        cookie.pop(PENDING, None)
        flash(_("You are logged out."))
    return redirect(url_for("auth.login"))


def _private(response):
    """The page holds a secret link: never cached, never passed on as a referrer."""
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
@limits.count_misses("reset-link", "TOKEN_RATE_LIMIT")
def reset(token: str):
    """Set a new password through a one-time link an admin handed over."""
    session = get_session()
    email = credentials.reset_email(session, token)
    if email is None:
        return _private((render_template("auth/reset_invalid.html"), 404))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            credentials.use_reset(session, token, form.password.data, limits.client_address())
        except passwords.WeakPassword as exc:
            session.rollback()
            form.password.errors.extend(password_messages(exc.codes))
        except NotFound:
            session.rollback()
            return _private((render_template("auth/reset_invalid.html"), 404))
        else:
            session.commit()
            logout_user()
            flash(_("Your new password is set. Log in with it."))
            return redirect(url_for("auth.login"))
    return _private(render_template("auth/reset.html", form=form, email=email))
