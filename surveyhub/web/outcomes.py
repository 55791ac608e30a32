"""The outcome dashboard of a project, and its downloads.

Workers, admins and funders of the project's organisation see what changed
(key figures, participation, change per scale with its 95% interval, reliable
change, the then-test, reliability); every chart has a table beside it with the
same numbers and every figure a line of words saying what it means; the
statistics sit folded behind "Details". Charts and sentences are the funder
report's own (``rendering.charts``, ``rendering.report``). Numbers follow the
page's language ("3,6" on Dutch pages).
Downloads: the report JSON and its summary table for every reader; the
residents' answers (CSV, Dutch Excel CSV, XLSX, SPSS, plugin formats) for
workers and admins only, streamed.
"""

from __future__ import annotations

import json

from flask import (Blueprint, Response, abort, flash, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_babel import gettext as _
from markupsafe import Markup

from surveyhub.db import get_session
from surveyhub.rendering import charts
from surveyhub.i18n import current_language
from surveyhub.locale import Numbers
from surveyhub.plugins import get_host
from surveyhub.services import audit, document_jobs, exports, outcomes
from surveyhub.services.errors import UserError
from surveyhub.services.report_contract import Report
from surveyhub.web.errors import user_message
from surveyhub.web.jobs import start as start_job
from surveyhub.web.outcome_format import chart_min_width, dashboard_view
from surveyhub.web.session_user import current_actor, requires, service_context

bp = Blueprint("outcomes", __name__)


def _lang() -> str:
    return current_language()


def _report(slug: str) -> Report:
    ctx = service_context()
    return outcomes.project_report(ctx.session, ctx.registry, ctx.actor, slug, defaults=ctx.thresholds,
                                   project=ctx.project(slug, "project.outcomes"))


@bp.route("/projects/<slug>/outcomes")
@requires("project.outcomes")
def dashboard(slug: str):
    report = _report(slug)
    lang = _lang()
    drawn = {name: {"svg": Markup(svg), "min_width": chart_min_width(svg)}
             for name, svg in charts.report_charts(report, lang).items()}
    plugin_formats = sorted(exports.plugin_formats(get_host())) if current_actor().can("project.rows") else []
    return render_template("outcomes/dashboard.html", report=report, charts=drawn,
                           view=dashboard_view(report, Numbers(lang), lang), slug=slug,
                           plugin_formats=plugin_formats)


@bp.route("/projects/<slug>/outcomes/report.json")
@requires("project.outcomes")
def report_json(slug: str):
    body = json.dumps(_report(slug), allow_nan=False, ensure_ascii=False, indent=2)
    audit.download(get_session(), current_actor(), "download.report", slug, format="json")
    get_session().commit()
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{slug}-report.json"'})


@bp.route("/projects/<slug>/outcomes/summary.<fmt>")
@requires("project.outcomes")
def summary(slug: str, fmt: str):
    """The report's per-scale numbers as a table (only what the report shows)."""
    dialect = request.args.get("dialect", "default")
    if fmt not in ("csv", "xlsx"):
        abort(404)
    try:
        exporter = exports.exporter_for(fmt, dialect=dialect)
    except UserError:  # an unknown dialect, or a dialect for xlsx
        abort(404)
    table = exports.summary_table(_report(slug))
    return _download(exporter, table, f"{slug}-summary", slug,
                     ("download.report", {"format": fmt, "dialect": _dialect(dialect), "table": "summary"}))


@bp.route("/projects/<slug>/export.<fmt>", methods=["GET", "POST"])
@requires("project.rows")
def export(slug: str, fmt: str):
    """Every response, one row per resident and wave; ``?dialect=excel-nl`` for Dutch Excel CSV.

    Streamed at once up to ``EXPORT_ROWS_INSTANT`` rows; a larger export is made by a job
    (``services.document_jobs``): the link shows a page with one button, whose POST (with its CSRF
    token) starts the job, so no other site can start work by making a browser follow a link.
    """
    dialect = request.args.get("dialect", "default")
    try:
        exporter = exports.exporter_for(fmt, get_host(), dialect)
    except UserError:
        abort(404)
    rows = document_jobs.export_rows(get_session(), current_actor(), slug)
    if rows > document_jobs.EXPORT_ROWS_INSTANT:
        if request.method != "POST":
            return render_template("outcomes/large_export.html", project=service_context().project(
                slug, "project.rows"), rows=rows, fmt=fmt, dialect=dialect, extension=exporter.extension.upper())
        # A large export may take longer than a request: a job makes it, its page offers the file.
        return start_job("export", keys=[], params={"slug": slug, "format": fmt, "dialect": dialect, "lang": _lang()},
                         title=_("Residents' answers (%(format)s)", format=exporter.extension.upper()),
                         project_id=service_context().project(slug, "project.rows").id)
    table = exports.response_table(get_session(), current_actor(), slug, lang=_lang())
    suffix = "-excel-nl" if dialect == "excel-nl" else ""
    return _download(exporter, table, f"{slug}-responses{suffix}", slug,
                     ("download.export", {"format": fmt, "dialect": _dialect(dialect), "table": "responses"}))


def _dialect(dialect: str) -> str | None:
    return None if dialect == "default" else dialect


def _download(exporter, table, stem: str, slug: str, event: tuple[str, dict]):
    # End this request's read transaction now; the rows are read in short ones while streaming,
    # so a slow download never holds SQLite's write lock.
    get_session().commit()
    try:
        body = exports.chunks(exporter, table)
    except UserError as exc:  # a plugin's exporter failed; nothing was sent yet
        get_session().rollback()
        flash(user_message(exc), "error")
        return redirect(url_for("outcomes.dashboard", slug=slug))
    action, details = event  # recorded once the file is ready to send
    audit.download(get_session(), current_actor(), action, slug, **details)
    get_session().commit()
    mimetype = exporter.mimetype + ("; charset=utf-8" if exporter.mimetype.startswith("text/") else "")
    return Response(stream_with_context(body), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{stem}.{exporter.extension}"',
                             "X-Content-Type-Options": "nosniff"})
