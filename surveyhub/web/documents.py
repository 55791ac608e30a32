"""The worker's document pages: certificates (one or all), the report, paper questionnaires, link sheets.

Making a document issues (registers, and may sign) it, so every download is
a POST with a CSRF token, never a link another site could make a browser
follow. Issuing is idempotent (an unchanged document is handed out again with
its own code, see ``services.documents``), so a repeated click never
registers a duplicate.

One small PDF (a certificate, a resident's card, a paper questionnaire) is
made at once: the request commits its read, renders within a time and memory
budget (``RENDER_TIMEOUT_SECONDS``, ``RENDER_MEMORY_MB``) and registers. Work
that can take longer than a request (all certificates as a ZIP or a book, the
report, link sheets) starts a job (``services.document_jobs``) and sends the
browser to its page, where the file waits when it is done. Revoking is a POST
for admins.
"""

from __future__ import annotations

import io

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from surveyhub.db import get_session
from surveyhub.i18n import current_language
from surveyhub.locale import resident_language
from surveyhub.services import access, audit
from surveyhub.services import document_batches as batches
from surveyhub.services import document_context as dc
from surveyhub.services import document_jobs
from surveyhub.services import documents as docs
from surveyhub.services.errors import UserError
from surveyhub.web.errors import user_message
from surveyhub.web.jobs import start as start_job
from surveyhub.web.session_user import current_actor, requires, service_context

bp = Blueprint("documents", __name__)
KINDS = ("pre", "post", "followup")


class RevokeForm(FlaskForm):
    reason = StringField("Reason", validators=[DataRequired(), Length(max=500)])


class IssueForm(FlaskForm):
    """A download button: the CSRF token, and for a certificate the name and personal line on it."""

    name = StringField("Name", validators=[Optional(), Length(max=200)])
    line = StringField("Personal line", validators=[Optional(), Length(max=300)])


def _lang() -> str:
    wanted = request.values.get("doc_lang") or current_language()
    return "en" if wanted == "en" else "nl"


def _resident_lang() -> str | None:
    """A certificate's language: the one asked for (``doc_lang``, also tr, ar or pl), else None, the resident's
    own."""
    wanted = request.values.get("doc_lang")
    return resident_language(wanted) if wanted else None


def _bulk_lang(session, project) -> str | None:
    """Certificates made in bulk: the language asked for, else the organisation's, else each resident's own."""
    return _resident_lang() or dc.bulk_certificate_language(session, project)


def _base_url() -> str:
    return current_app.config["BASE_URL"]


def _pdf(issued: docs.IssuedDocument):
    response = send_file(io.BytesIO(issued.pdf), mimetype="application/pdf", as_attachment=True,
                         download_name=issued.filename)
    response.headers["X-Document-Code"] = issued.code
    response.headers["Cache-Control"] = "no-store"  # names and links of residents
    return response


def _issue(prepare):
    """prepare (read), commit, render (no transaction), register and record the download (write), commit."""
    session = get_session()
    prepared = prepare(session)
    session.commit()
    issued = docs.register(session, prepared, batches.render(prepared, _budget()))
    details = {"kind": prepared.kind, "participant": prepared.participant_code, "language": prepared.language}
    audit.record(session, audit.document_download(prepared.kind), actor=current_actor(),
                 target=f"document:{issued.code}", project_id=prepared.project_id,
                 details={key: value for key, value in details.items() if value is not None})
    session.commit()
    return issued


def _budget() -> batches.Budget:
    return batches.budget_from(current_app.config)


def _or_back(slug: str, work):
    """Run ``work`` (an instant download); a user error becomes a message on the documents page."""
    try:
        return work()
    except batches.RenderStopped:
        get_session().rollback()
        flash(_("Making this document took too long, so it was stopped. Nothing was issued."), "error")
        return redirect(url_for("documents.overview", slug=slug))
    except batches.RenderFailed:
        get_session().rollback()
        current_app.logger.exception("a document could not be made")
        flash(_("This document could not be made. Nothing was issued."), "error")
        return redirect(url_for("documents.overview", slug=slug))
    except UserError as exc:
        get_session().rollback()
        flash(user_message(exc), "error")
        return redirect(url_for("documents.overview", slug=slug))


@bp.route("/projects/<slug>/documents")
@requires("project.outcomes")
def overview(slug: str):
    session = get_session()
    actor = current_actor()
    project = access.project(session, actor, slug, "project.outcomes")
    rows = actor.can("project.rows")
    residents = docs.certificate_candidates(session, actor, slug) if rows else []
    return render_template("documents/overview.html", project=project, residents=residents,
                           issued=docs.list_documents(session, actor, slug), revoke_form=RevokeForm(),
                           waves=KINDS, form=IssueForm())


@bp.route("/projects/<slug>/documents/certificate/<code>.pdf", methods=["POST"])
@requires("project.rows")
def certificate(slug: str, code: str):
    """One certificate, at once: one small PDF fits a request well."""
    form = IssueForm()
    name = (form.name.data or "").strip()[:200] or None
    line = (form.line.data or "").strip()[:300] or None
    ctx = service_context()
    return _or_back(slug, lambda: _pdf(_issue(lambda s: docs.prepare_certificate(
        s, ctx.actor, slug, code, base_url=ctx.base_url, lang=_resident_lang(), name=name, personal_line=line,
        host=ctx.host, project=ctx.project(slug, "project.rows"), registry=ctx.registry))))


@bp.route("/projects/<slug>/documents/certificates.zip", methods=["POST"])
@requires("project.rows")
def certificates_zip(slug: str):
    """All certificates as a ZIP, made by a job: one item per resident."""
    return _certificates_job(slug, "certificates.zip", _("All certificates (ZIP)"))


@bp.route("/projects/<slug>/documents/certificates.pdf", methods=["POST"])
@requires("project.rows")
def certificates_book(slug: str):
    """All certificates as one PDF to print, in name order, made by a job; each is registered as for the ZIP."""
    return _certificates_job(slug, "certificates.pdf", _("All certificates in one PDF, to print"), by_name=True)


def _certificates_job(slug: str, kind: str, title: str, by_name: bool = False):
    session = get_session()
    ctx = service_context()
    project = ctx.project(slug, "project.rows")
    candidates = docs.certificate_candidates(session, ctx.actor, slug, by_name=by_name)
    if not candidates:
        flash(_("No resident has finished a questionnaire yet."), "error")
        return redirect(url_for("documents.overview", slug=slug))
    params = {"slug": slug, "lang": _lang(), "certificate_lang": _bulk_lang(session, project)}
    return start_job(kind, keys=[c.code for c in candidates], params=params, title=title,
                     project_id=project.id)


@bp.route("/projects/<slug>/documents/report.pdf", methods=["POST"])
@requires("project.outcomes")
def report(slug: str):
    """The impact report, made by a job (a large report may take longer than a request)."""
    project = service_context().project(slug, "project.outcomes")
    return start_job("report.pdf", keys=[], params={"slug": slug, "lang": _lang()},
                     title=_("Impact report (PDF)"), project_id=project.id)


@bp.route("/projects/<slug>/documents/questionnaire-<kind>.pdf", methods=["POST"])
@requires("project.rows")
def questionnaire(slug: str, kind: str):
    if kind not in KINDS:
        return redirect(url_for("documents.overview", slug=slug))
    # From a resident's page: printed for that resident, with their code on it.
    resident_code = (request.form.get("participant") or "").strip()[:40] or None
    return _or_back(slug, lambda: _pdf(_issue(lambda s: docs.prepare_questionnaire(
        s, current_actor(), slug, kind, lang=_lang(), participant_code=resident_code,
        retention_months=current_app.config["RETENTION_MONTHS"]))))


@bp.route("/projects/<slug>/documents/links.pdf", methods=["POST"])
@requires("project.rows")
def link_sheet(slug: str):
    """One resident's card at once; the sheet of all residents, or of those chosen, by a job."""
    chosen = list(dict.fromkeys(c.strip()[:40] for c in request.form.getlist("participant") if c.strip()))
    if len(chosen) == 1:  # from a resident's page: just their card
        return _or_back(slug, lambda: _pdf(_issue(lambda s: docs.prepare_link_card(
            s, current_actor(), slug, chosen[0], base_url=_base_url(), lang=_lang()))))
    session = get_session()
    project = service_context().project(slug, "project.rows")
    total = len(chosen) if chosen else batches.sheet_size(session, current_actor(), slug)
    params: dict = {"slug": slug, "lang": _lang()}
    if chosen:  # from the residents page: the cards of the residents chosen there
        params["codes"] = chosen
    return start_job("links.pdf", keys=document_jobs.sheet_keys(total), params=params,
                     title=_("Sheet of personal links with QR codes (PDF)"),
                     project_id=project.id)


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
    except UserError as exc:
        session.rollback()
        flash(user_message(exc), "error")
    else:
        session.commit()
        flash(_("Document %(code)s is revoked. The check page now says so.", code=info.code))
    return redirect(url_for("documents.overview", slug=slug))
