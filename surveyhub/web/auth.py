"""Login and logout for workers, admins and funders."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from surveyhub.db import get_session
from surveyhub.extensions import limiter
from surveyhub.services import accounts, audit
from surveyhub.web.forms import ActionForm, LoginForm
from surveyhub.web.session_user import LoginUser, public

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("manage.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        session = get_session()
        info = accounts.authenticate(session, form.email.data, form.password.data)
        if info is None:
            session.rollback()
            form.password.errors.append(_("The e-mail address or password is not right."))
        else:
            audit.record(session, "user.login", organisation_id=info.organisation_id, user_id=info.id)
            session.commit()
            login_user(LoginUser(info))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@public
def logout():
    form = ActionForm()
    if form.validate_on_submit():
        logout_user()
        flash(_("You are logged out."))
    return redirect(url_for("auth.login"))
