"""The worker's document pages: certificates (one or all as ZIP), the report, paper questionnaires, link sheets.

Making a document issues (registers, and may sign) it, so every download is
a POST with a CSRF token, never a link another site could make a browser
follow. Issuing is idempotent (an unchanged document is handed out again with
its own code, see ``services.documents``), so a repeated click never
registers a duplicate. Each download commits its read before rendering, so no
database transaction stays open while WeasyPrint works; the render runs
within a time and memory budget (``RENDER_TIMEOUT_SECONDS``,
``RENDER_MEMORY_MB``), and ZIPs and link sheets come in parts that fit it
(``services.document_batches``). Revoking is a POST for admins.
"""

from __future__ import annotations

import io
import zipfile

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from surveyhub.db import get_session
from surveyhub.i18n import current_language
from surveyhub.locale import resident_language
from surveyhub.plugins import get_host
from surveyhub.services import access, audit
from surveyhub.services import document_batches as batches
from surveyhub.services import document_context as dc
from surveyhub.services import documents as docs
from surveyhub.services.errors import UserError
from surveyhub.web.errors import user_message
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


def _issue(prepare, audited: bool = True):
    """prepare (read), commit, render (no transaction), register and record the download (write), commit."""
    session = get_session()
    prepared = prepare(session)
    session.commit()
    issued = docs.register(session, prepared, batches.render(prepared, _budget()))
    if audited:  # the ZIP records one event for all its certificates
        details = {"kind": prepared.kind, "participant": prepared.participant_code, "language": prepared.language}
        audit.record(session, audit.document_download(prepared.kind), actor=current_actor(),
                     target=f"document:{issued.code}", project_id=prepared.project_id,
                     details={key: value for key, value in details.items() if value is not None})
    session.commit()
    return issued


def _budget() -> batches.Budget:
    config = current_app.config
    return batches.Budget(float(config.get("RENDER_TIMEOUT_SECONDS", 20)), int(config.get("RENDER_MEMORY_MB", 1024)))


def _too_large_message(exc: batches.TooLarge, slug: str) -> str:
    if exc.what == "report":
        return _("This report has %(n)s parts, more than the %(max)s that can be made here. Ask your admin to "
                 "make it with: surveyhub report %(slug)s --format pdf -o report.pdf", n=exc.count, max=exc.limit,
                 slug=slug)
    return _("That is more than one download can hold (at most %(max)s). Choose one of the parts below.",
             max=exc.limit)


def _or_back(slug: str, work):
    """Run ``work``; a user error becomes a message on the documents page."""
    try:
        return work()
    except batches.TooLarge as exc:
        get_session().rollback()
        flash(_too_large_message(exc, slug), "error")
        return redirect(url_for("documents.overview", slug=slug))
    except batches.RenderStopped:
        get_session().rollback()
        flash(_("Making this document took too long, so it was stopped. Nothing was issued. Try a smaller part, "
                "or ask your admin to make it with the surveyhub command."), "error")
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
    sheet_parts = batches.parts(batches.sheet_size(session, actor, slug), batches.RESIDENTS_PER_SHEET) if rows else []
    return render_template("documents/overview.html", project=project, residents=residents,
                           issued=docs.list_documents(session, actor, slug), revoke_form=RevokeForm(),
                           waves=KINDS, form=IssueForm(),
                           zip_parts=batches.parts(len(residents), batches.CERTIFICATES_PER_ZIP),
                           book_parts=batches.parts(len(residents), batches.CERTIFICATES_PER_BOOK),
                           sheet_parts=sheet_parts)


@bp.route("/projects/<slug>/documents/certificate/<code>.pdf", methods=["POST"])
@requires("project.rows")
def certificate(slug: str, code: str):
    form = IssueForm()
    name = (form.name.data or "").strip()[:200] or None
    line = (form.line.data or "").strip()[:300] or None
    ctx = service_context()
    return _or_back(slug, lambda: _pdf(_issue(lambda s: docs.prepare_certificate(
        s, ctx.actor, slug, code, base_url=ctx.base_url, lang=_resident_lang(), name=name, personal_line=line,
        host=ctx.host, project=ctx.project(slug, "project.rows"), registry=ctx.registry))))


@bp.route("/projects/<slug>/documents/certificates.zip", methods=["POST"])
@bp.route("/projects/<slug>/documents/certificates-<int:part>.zip", methods=["POST"])
@requires("project.rows")
def certificates_zip(slug: str, part: int = 1):
    """One part of the certificates: all rendered first, registered together once every one was made."""
    return _certificate_part(slug, part, "zip", batches.CERTIFICATES_PER_ZIP, _zip)


def _certificate_part(slug: str, part: int, extension: str, per_part: int, make):
    """Part ``part`` of the residents with a certificate (``per_part`` each), made into one file by ``make``."""
    session = get_session()
    actor = current_actor()
    candidates = docs.certificate_candidates(session, actor, slug, by_name=extension == "pdf")
    if not candidates:
        flash(_("No resident has finished a questionnaire yet."), "error")
        return redirect(url_for("documents.overview", slug=slug))
    name = f"certificates-{slug}.{extension}" if len(candidates) <= per_part \
        else f"certificates-{slug}-{part}.{extension}"
    return _or_back(slug, lambda: make(session, actor, slug, name, batches.part_slice(candidates, part, per_part)))


def _zip(session, actor, slug: str, name: str, residents: list):
    ctx = service_context()
    project = ctx.project(slug, "project.rows")  # read once for the whole ZIP
    lang = _bulk_lang(session, project)
    prepared = [docs.prepare_certificate(session, actor, slug, r.code, base_url=_base_url(), lang=lang,
                                         host=get_host(), project=project, registry=ctx.registry)
                for r in residents]
    session.commit()
    rendered = batches.render_all(prepared, _budget())  # all or nothing; no transaction open meanwhile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # PDFs are compressed already
        for one, drawn in zip(prepared, rendered):
            archive.writestr(one.filename, drawn.pdf)
    # Registered only now, with the whole ZIP made and about to be sent.
    issued = batches.register_all(session, prepared, rendered)
    audit.download(session, actor, "download.certificates", slug, count=len(issued), language=lang)
    session.commit()
    buffer.seek(0)
    response = send_file(buffer, mimetype="application/zip", as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/projects/<slug>/documents/certificates.pdf", methods=["POST"])
@bp.route("/projects/<slug>/documents/certificates-<int:part>.pdf", methods=["POST"])
@requires("project.rows")
def certificates_book(slug: str, part: int = 1):
    """All certificates as one PDF to print, in name order; each is registered as for the ZIP."""
    return _certificate_part(slug, part, "pdf", batches.CERTIFICATES_PER_BOOK, _book)


def _book(session, actor, slug: str, name: str, residents: list):
    from surveyhub.rendering import certificate

    ctx = service_context()
    project = ctx.project(slug, "project.rows")
    lang = _bulk_lang(session, project)
    prepared = [docs.prepare_certificate(session, actor, slug, r.code, base_url=_base_url(), lang=lang,
                                         host=get_host(), project=project, registry=ctx.registry)
                for r in residents]
    session.commit()
    title = f"{certificate.book_title(lang)} — {project.name}"
    rendered, book = batches.render_book(prepared, _budget(), title)  # no transaction open meanwhile
    issued = batches.register_all(session, prepared, rendered)
    audit.download(session, actor, "download.certificates", slug, count=len(issued), language=lang,
                   format="pdf")
    session.commit()
    response = send_file(io.BytesIO(book), mimetype="application/pdf", as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"  # names of residents
    return response


@bp.route("/projects/<slug>/documents/report.pdf", methods=["POST"])
@requires("project.outcomes")
def report(slug: str):
    ctx = service_context()
    return _or_back(slug, lambda: _pdf(_issue(lambda s: batches.prepare_report(
        s, ctx.registry, ctx.actor, slug, base_url=ctx.base_url, lang=_lang(), host=ctx.host,
        defaults=ctx.thresholds, project=ctx.project(slug, "project.outcomes")))))


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
@bp.route("/projects/<slug>/documents/links-<int:part>.pdf", methods=["POST"])
@requires("project.rows")
def link_sheet(slug: str, part: int = 1):
    chosen = list(dict.fromkeys(c.strip()[:40] for c in request.form.getlist("participant") if c.strip()))
    if len(chosen) > 1:  # from the residents page: the cards of the residents chosen there
        return _or_back(slug, lambda: _pdf(_issue(lambda s: batches.prepare_chosen_sheet(
            s, current_actor(), slug, chosen, base_url=_base_url(), lang=_lang()))))
    resident_code = chosen[0] if chosen else None
    if resident_code:  # from a resident's page: just their card
        return _or_back(slug, lambda: _pdf(_issue(lambda s: docs.prepare_link_card(
            s, current_actor(), slug, resident_code, base_url=_base_url(), lang=_lang()))))
    return _or_back(slug, lambda: _pdf(_issue(lambda s: batches.prepare_sheet_part(
        s, current_actor(), slug, part, base_url=_base_url(), lang=_lang()))))


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
