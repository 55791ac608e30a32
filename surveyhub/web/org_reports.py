"""The organisation's report page: choose a period, read the figures across projects, make the PDF or get the JSON.

``/organisation/report`` (capability ``org.outcomes``; a funder's holds only the
projects shared with them) shows the report of one period: this year, last year or
two dates of the reader's choice. The figures and sentences are the PDF's own
(``rendering.across_report`` on the same JSON, ``services.org_report``), so page and
PDF never disagree. "PDF maken" starts a job (``services.across_jobs``) whose page
offers the file; "JSON downloaden" gives the report JSON. The period form is a GET
form (it changes nothing); the PDF is started by a POST with its CSRF token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length

from surveyhub.i18n import current_language
from surveyhub.rendering import across_report
from surveyhub.locale import Numbers
from surveyhub.services import access, audit, org_documents, org_report
from surveyhub.services.errors import UserError
from surveyhub.web.errors import user_message
from surveyhub.web.jobs import start as start_job
from surveyhub.web.outcome_format import chart_min_width
from surveyhub.web.session_user import requires, service_context, today

bp = Blueprint("org_reports", __name__)

CHOICES = ("this_year", "last_year", "custom")


@dataclass
class Period:
    """The period asked for: the choice and the typed dates as typed (kept on an error), and the dates read."""

    choice: str = "this_year"
    typed_start: str = ""
    typed_end: str = ""
    start: date | None = None
    end: date | None = None
    errors: dict[str, str] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.start is not None and self.end is not None


def read_date(text: str) -> date | None:
    """``2026-01-31`` (a date field) or ``31-1-2026`` (typed the Dutch way); None when it is neither."""
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def period_from(args, today: date) -> Period:
    """The period the form asks for; this year when nothing is chosen."""
    choice = args.get("period", "this_year")
    period = Period(choice if choice in CHOICES else "this_year", args.get("from", "")[:40], args.get("to", "")[:40])
    if period.choice == "this_year":
        period.start, period.end = date(today.year, 1, 1), date(today.year, 12, 31)
    elif period.choice == "last_year":
        period.start, period.end = date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    else:
        errors = {}
        period.start, period.end = read_date(period.typed_start), read_date(period.typed_end)
        if period.start is None:
            errors["from"] = _("Fill in the first day as a date, for example 1-1-%(year)s.", year=today.year)
        if period.end is None:
            errors["to"] = _("Fill in the last day as a date, for example 31-12-%(year)s.", year=today.year)
        if period.start and period.end and period.start > period.end:
            errors["to"] = _("The last day comes before the first day. Swap them, or choose other dates.")
        period.errors = errors or None
    return period


class PdfForm(FlaskForm):
    """"PDF maken": the period shown (hidden) and the PDF's language."""

    start = HiddenField()
    end = HiddenField()
    lang = SelectField(choices=[SelectChoice("nl", "Nederlands"), SelectChoice("en", "English")])


class RevokeForm(FlaskForm):
    """"Intrekken": the reason, and ``confirm`` once the admin said yes on the confirmation page."""

    code = HiddenField(validators=[DataRequired(), Length(max=64)])
    reason = StringField(validators=[DataRequired(), Length(max=500)])
    confirm = HiddenField()


def _draw(svg: str) -> dict:
    return {"svg": Markup(svg), "min_width": chart_min_width(svg)}


def view(report: dict, lang: str) -> dict:
    """What the page shows of the report: the PDF's own figures and sentences, in the page's language."""
    t = across_report.words(lang)
    return {"t": t, "period": across_report.period_text(report["period"], lang),
            "figures": across_report.headline(report, lang, t), "projects": across_report.projects(report, lang, t),
            "skills": across_report.skills(report, _draw, lang, t),
            "skills_lead": across_report.report_words.common_lead(report["scales"], lang, t),
            "versions": across_report.version_notes(report, lang, t),
            "reliable_change": across_report.reliable_change(report, lang, t),
            "limitations": across_report.limitations(report, lang, t)}


@bp.route("/organisation/report")
@requires("org.outcomes")
def page():
    ctx = service_context()
    period = period_from(request.args, today())
    report, problem = None, None
    if period.ok:
        try:
            report = org_report.build(ctx, start=period.start, end=period.end)  # type: ignore[arg-type]
        except UserError as exc:
            problem = user_message(exc)
    lang = current_language()
    form = PdfForm(formdata=None, start=period.start.isoformat() if period.ok else "",  # type: ignore[union-attr]
                   end=period.end.isoformat() if period.ok else "", lang=lang)  # type: ignore[union-attr]
    organisation = access.organisation(ctx.session, ctx.actor)
    status = 400 if period.errors else 200
    return render_template("org_reports/page.html", period=period, report=report, problem=problem,
                           view=view(dict(report), lang) if report else None, form=form,
                           organisation=organisation.name, funder=ctx.actor.role == access.FUNDER,
                           years=(today().year, today().year - 1),
                           issued=issued_rows(ctx, lang) if ctx.actor.can("org.documents") else None), status


def issued_rows(ctx, lang: str) -> list[dict]:
    """The issued reports as the page lists them: words and dates in the page's language."""
    n = Numbers(lang)
    languages = {"nl": "Nederlands", "en": "English"}
    rows = []
    for found in org_documents.list_reports(ctx.session, ctx.actor):
        period = ({"start": found.start.isoformat(), "end": found.end.isoformat()}
                  if found.start is not None and found.end is not None else None)
        status = (_("Revoked: %(reason)s", reason=found.revoked_reason) if found.revoked else
                  _("A newer version exists") if found.superseded else _("Valid"))
        rows.append({"report": found, "title": found.title, "period": across_report.short_period(period, lang)
                     if period else _("See the title"), "language": languages.get(found.language, found.language),
                     "issued": n.date(found.issued_at), "by": found.issued_by or _("the command line"),
                     "status": status, "what": (_("Network report: %(name)s", name=found.network_name)
                                               if found.kind == "network_report" and found.network_name
                                               else _("Network report") if found.kind == "network_report"
                                               else _("Year report"))})
    return rows


@bp.route("/organisation/report/revoke", methods=["POST"])
@requires("org.manage")
def revoke():
    """Revoke an issued report: the reason first, then a page that asks to confirm; only then is it revoked.

    The code is a form field: another organisation's report, or a project's document, is not found (404).
    """
    ctx = service_context()
    form = RevokeForm()
    back = url_for("org_reports.page") + "#issued"
    if not form.validate_on_submit():
        flash(_("Give a reason for revoking the report."), "error")
        return redirect(back)
    found = org_documents.find(ctx.session, ctx.actor, form.code.data or "")
    if found.revoked:
        return redirect(back)
    if form.confirm.data != "yes":
        return render_template("org_reports/revoke.html", found=found, form=form,
                               issued=Numbers(current_language()).date(found.issued_at))
    try:
        org_documents.revoke(ctx.session, ctx.actor, found.code, form.reason.data or "")
    except UserError as exc:
        ctx.session.rollback()
        flash(user_message(exc), "error")
    else:
        ctx.session.commit()
        flash(_("Report %(code)s is revoked. The check page now says so.", code=found.code))
    return redirect(back)


@bp.route("/organisation/report.json")
@requires("org.outcomes")
def report_json():
    ctx = service_context()
    period = period_from(request.args, today())
    if not period.ok:
        return page()
    report = org_report.build(ctx, start=period.start, end=period.end)  # type: ignore[arg-type]
    body = json.dumps(report, allow_nan=False, ensure_ascii=False, indent=2)
    audit.record(ctx.session, "download.report", actor=ctx.actor, target=f"organisation:{ctx.actor.organisation_id}",
                 details={"kind": "org_report", "format": "json", "start": report["period"]["start"],
                          "end": report["period"]["end"]})
    ctx.session.commit()
    name = f"{report['organisation']['slug']}-{report['period']['start']}-{report['period']['end']}.json"
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.route("/organisation/report/pdf", methods=["POST"])
@requires("org.outcomes")
def pdf():
    form = PdfForm()
    start, end = read_date(form.start.data or ""), read_date(form.end.data or "")
    if not form.validate_on_submit() or start is None or end is None or start > end:
        # A forged or stale form: show this year's report again, with nothing started.
        return page()
    lang = form.lang.data
    period = {"start": start.isoformat(), "end": end.isoformat()}
    title = _("Organisation report %(period)s (PDF)",
              period=across_report.short_period(period, current_language()))
    return start_job("org_report.pdf", keys=[], params={**period, "lang": lang}, title=title)
