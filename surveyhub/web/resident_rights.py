"""A resident's rights from their own link: see what is stored, download it, withdraw.

``/q/<token>/my-data`` shows everything SurveyHub keeps about the resident (the
same dictionary ``services.resident_data`` gives workers and the CLI), and
``/q/<token>/my-data.json`` downloads it. ``/q/<token>/withdraw`` asks for
confirmation in plain words and then erases the resident
(``services.erasure``); the goodbye page that follows needs no link, since the
link no longer works. Links resolve and count towards the rate limit exactly
like the questionnaire pages. Nothing here may be cached.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from flask import Blueprint, Response, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm

from surveyhub.db import get_session
from surveyhub.rendering import formatting as fmt
from surveyhub.extensions import csrf
from surveyhub.i18n import current_language
from surveyhub.services import anonymous, erasure, resident
from surveyhub.services.errors import NotFound
from surveyhub.services.resident_data import personal_data
from surveyhub.web.questionnaire import limit_guessing, resident_link
from surveyhub.web.session_user import public

bp = Blueprint("resident_rights", __name__)
csrf.exempt(bp)  # the withdraw form checks its own token, so an expired one re-asks instead of failing

#: Where the goodbye page finds the project's name after the resident is gone.
GOODBYE_KEY = "withdrawn_from"


class WithdrawForm(FlaskForm):
    """Only the CSRF token: the button is the confirmation."""


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _lang() -> str:
    return current_language()


def _fingerprint(token: str) -> str:
    """What the goodbye session remembers of the erased link (the link itself never goes in a cookie)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _date(iso: str | None) -> str:
    """An ISO timestamp from the personal data as "25 november 2026"."""
    if not iso:
        return ""
    return fmt.long_date(datetime.fromisoformat(iso.replace("Z", "+00:00")), _lang())


@bp.app_template_filter("rights_number")
def _number(value) -> str:
    if value is None:
        return ""
    return fmt.number(value, 0 if float(value).is_integer() else 1, _lang())


@bp.route("/q/<token>/my-data")
@public
@limit_guessing
def my_data(token: str):
    link = resident_link(token)
    data = personal_data(get_session(), link.participant.id, _lang())
    return render_template("resident_rights/my_data.html", data=data, token=token, project=link.project,
                           date=_date)


@bp.route("/q/<token>/my-data.json")
@public
@limit_guessing
def my_data_json(token: str):
    link = resident_link(token)
    return json_download(personal_data(get_session(), link.participant.id, _lang()))


def json_download(data: dict) -> Response:
    """The personal data as a JSON file to save (also used by the worker's download)."""
    body = json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False)
    name = f"personal-data-{data['project']['slug']}-{data['participant']['code']}.json"
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{_safe(name)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _safe(name: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "-" for ch in name)


@bp.route("/q/<token>/withdraw", methods=["GET", "POST"])
@public
@limit_guessing
def withdraw(token: str):
    if request.method == "POST" and (session.get(GOODBYE_KEY) or {}).get("link") == _fingerprint(token):
        return redirect(url_for("resident_rights.goodbye"))  # a second click on the button just used
    link = resident_link(token)
    form = WithdrawForm()
    expired = False
    if form.is_submitted():
        if form.validate():
            return _erase(token, link)
        expired = True  # a long pause or a lost session: ask again, nothing erased
    return render_template("resident_rights/withdraw.html", form=form, token=token, project=link.project,
                           expired=expired), (400 if expired else 200)


def _erase(token: str, link: resident.Link):
    db = get_session()
    goodbye = {"project": link.project.name, "organisation": resident.organisation_name(db, link.project),
               "link": _fingerprint(token)}
    anonymous_path = url_for("questionnaire.anonymous_start", token=link.project.anonymous_token)
    try:
        erasure.erase(db, link.participant.id, "resident", "resident")
        db.commit()
    except NotFound:  # two clicks at once: the other request erased everything
        db.rollback()
    session[GOODBYE_KEY] = goodbye
    response = redirect(url_for("resident_rights.goodbye"))
    # A device that came in through the anonymous link forgets the erased link as well.
    response.delete_cookie(anonymous.DEVICE_COOKIE, path=anonymous_path)
    return response


@bp.route("/withdrawn")
@public
def goodbye():
    names = session.get(GOODBYE_KEY) or {}
    return render_template("resident_rights/goodbye.html", project={"name": names.get("project", "SurveyHub")},
                           organisation=names.get("organisation"))
