"""The worker's document pages: certificates (one or all as ZIP), the report, paper questionnaires, link sheets.

Downloads are GET links: issuing is idempotent (an unchanged document is
handed out again with its own code, see ``services.documents``), so a repeated
click never registers a duplicate. Each download commits its read before
rendering, so no database transaction stays open while WeasyPrint works.
Revoking is a POST for admins.
"""

from __future__ import annotations

import io
import zipfile

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from surveyhub.db import get_session
from surveyhub.measures.registry import get_registry
from surveyhub.plugins import get_host
from surveyhub.services import access
from surveyhub.services import documents as docs
from surveyhub.services.errors import Forbidden, NotFound, ServiceError
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("documents", __name__)
KINDS = ("pre", "post", "followup")


class RevokeForm(FlaskForm):
    reason = StringField("Reason", validators=[DataRequired(), Length(max=500)])


def _lang() -> str:
    wanted = request.args.get("doc_lang") or str(get_locale() or "nl")
    return "en" if wanted == "en" else "nl"


def _base_url() -> str:
    return current_app.config["BASE_URL"]


def _pdf(issued: docs.IssuedDocument):
    response = send_file(io.BytesIO(issued.pdf), mimetype="application/pdf", as_attachment=True,
                         download_name=issued.filename)
    response.headers["X-Document-Code"] = issued.code
    response.headers["Cache-Control"] = "no-store"  # names and links of residents
    return response


def _issue(prepare):
    """prepare (read), commit, render (no transaction), register (write), commit."""
    session = get_session()
    prepared = prepare(session)
    session.commit()
    issued = docs.register(session, prepared, docs.render(prepared))
    session.commit()
    return issued


def _or_back(slug: str, work):
    """Run ``work``; a user error becomes a message on the documents page."""
    try:
        return work()
    except (NotFound, Forbidden):
        raise
    except ServiceError as exc:
        get_session().rollback()
        flash(str(exc), "error")
        return redirect(url_for("documents.overview", slug=slug))


@bp.route("/projects/<slug>/documents")
@requires("project.outcomes")
def overview(slug: str):
    session = get_session()
    actor = current_actor()
    project = access.project(session, actor, slug, "project.outcomes")
    residents = docs.certificate_candidates(session, actor, slug) if actor.can("project.rows") else []
    return render_template("documents/overview.html", project=project, residents=residents,
                           issued=docs.list_documents(session, actor, slug), revoke_form=RevokeForm(),
                           waves=KINDS)


@bp.route("/projects/<slug>/documents/certificate/<code>.pdf")
@requires("project.rows")
def certificate(slug: str, code: str):
    name = (request.args.get("name") or "").strip()[:200] or None
    line = (request.args.get("line") or "").strip()[:300] or None
    return _or_back(slug, lambda: _pdf(_issue(lambda s: docs.prepare_certificate(
        s, current_actor(), slug, code, base_url=_base_url(), lang=_lang(), name=name, personal_line=line,
        host=get_host()))))


@bp.route("/projects/<slug>/documents/certificates.zip")
@requires("project.rows")
def certificates_zip(slug: str):
    session = get_session()
    actor = current_actor()
    residents = docs.certificate_candidates(session, actor, slug)
    if not residents:
        flash(_("No resident has finished a questionnaire yet."), "error")
        return redirect(url_for("documents.overview", slug=slug))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # PDFs are compressed already
        for resident in residents:
            issued = _issue(lambda s, code=resident.code: docs.prepare_certificate(
                s, actor, slug, code, base_url=_base_url(), lang=_lang(), host=get_host()))
            archive.writestr(issued.filename, issued.pdf)
    buffer.seek(0)
    response = send_file(buffer, mimetype="application/zip", as_attachment=True,
                         download_name=f"certificates-{slug}.zip")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/projects/<slug>/documents/report.pdf")
@requires("project.outcomes")
def report(slug: str):
    return _or_back(slug, lambda: _pdf(_issue(lambda s: docs.prepare_report(
        s, get_registry(), current_actor(), slug, base_url=_base_url(), lang=_lang(), host=get_host()))))


@bp.route("/projects/<slug>/documents/questionnaire-<kind>.pdf")
@requires("project.rows")
def questionnaire(slug: str, kind: str):
    if kind not in KINDS:
        return redirect(url_for("documents.overview", slug=slug))
    return _or_back(slug, lambda: _pdf(_issue(lambda s: docs.prepare_questionnaire(
        s, current_actor(), slug, kind, lang=_lang()))))


@bp.route("/projects/<slug>/documents/links.pdf")
@requires("project.rows")
def link_sheet(slug: str):
    return _or_back(slug, lambda: _pdf(_issue(lambda s: docs.prepare_link_sheet(
        s, current_actor(), slug, base_url=_base_url(), lang=_lang()))))


@bp.route("/projects/<slug>/documents/<code>/revoke", methods=["POST"])
@requires("org.manage")
def revoke(slug: str, code: str):
    session = get_session()
    access.project(session, current_actor(), slug, "org.manage")
    form = RevokeForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for revoking the document."), "error")
        return redirect(url_for("documents.overview", slug=slug))
    try:
        info = docs.revoke(session, current_actor(), code, form.reason.data)
    except (NotFound, Forbidden):
        raise
    except ServiceError as exc:
        session.rollback()
        flash(str(exc), "error")
    else:
        session.commit()
        flash(_("Document %(code)s is revoked. The check page now says so.", code=info.code))
    return redirect(url_for("documents.overview", slug=slug))
