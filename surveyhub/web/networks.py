"""Neighbourhood networks' pages: my networks, start one, join with a code, a network's page, its report.

A network's pages look the network up before anything else (``network_page``): to an organisation
that is not a member, and to a funder who was not let in, the network does not exist (404). A
funder who was let in reads only the report. Routes stay thin: the rules are in
``services.networks`` and ``services.network_report``.
"""

from __future__ import annotations

import json
from functools import wraps

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from surveyhub.extensions import get_throttle
from surveyhub.services import access, audit, network_report, networks
from surveyhub.services.access import FUNDER
from surveyhub.services.errors import UserError
from surveyhub.web.errors import user_message
from surveyhub.db import get_session
from surveyhub.web.session_user import current_actor, requires, service_context, today

bp = Blueprint("networks", __name__, url_prefix="/networks")


class NewNetworkForm(FlaskForm):
    name = StringField(_l("Name of the network"), validators=[
        DataRequired(_l("Give the network a name.")), Length(max=200, message=_l("Use at most 200 characters."))])
    area = StringField(_l("Neighbourhood or village"), validators=[
        DataRequired(_l("Say which neighbourhood or village the network works in.")),
        Length(max=200, message=_l("Use at most 200 characters."))])
    description = TextAreaField(_l("What the network is for (optional)"), validators=[
        Optional(), Length(max=2000, message=_l("Use at most 2000 characters."))])


class JoinForm(FlaskForm):
    code = StringField(_l("Join code"), validators=[DataRequired(_l("Enter the join code.")), Length(max=40)])


class ViewerForm(FlaskForm):
    email = StringField(_l("E-mail address of the funder"), validators=[
        DataRequired(_l("Enter an e-mail address.")), Length(max=254)])


class LeaveForm(FlaskForm):
    confirm = BooleanField(_l("Yes, my organisation leaves this network"))


class PdfForm(FlaskForm):
    """"PDF maken": the period shown (hidden) and the PDF's language."""

    start = HiddenField()
    end = HiddenField()
    lang = SelectField(choices=[SelectChoice("nl", "Nederlands"), SelectChoice("en", "English")])


def network_page(capability: str):
    """Login required; the network in the URL must be one the user may see, with ``capability``.

    Looked up before the view runs, so a non-member (or a funder not let in, or a funder on a page
    other than the report) gets 404 and a worker on an admin's form 403. Kept on the view
    (``view.capability``) for the matrix test.
    """
    if capability not in access.MATRIX:
        raise ValueError(f"unknown capability {capability!r}")

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(network: str, **kwargs):
            ctx = service_context()
            access.network(ctx.session, ctx.actor, network, capability)
            return view(network, **kwargs)
        wrapped.capability = capability
        return wrapped
    return decorator


def _done(message: str | None = None, network: str | None = None):
    ctx = service_context()
    ctx.session.commit()
    if message:
        flash(message)
    return redirect(url_for("networks.show", network=network) if network else url_for("networks.index"))


def _failed(exc: UserError, network: str | None = None):
    service_context().session.rollback()
    flash(user_message(exc), "error")
    return redirect(url_for("networks.show", network=network) if network else url_for("networks.index"))


@bp.route("")
@requires("network.outcomes")
def index():
    ctx = service_context()
    return render_template("networks/index.html", networks=networks.my_networks(ctx),
                           manages=ctx.actor.can("network.manage"), join_form=JoinForm(formdata=None))


@bp.route("/new", methods=["GET", "POST"])
@requires("network.manage")
def new():
    form = NewNetworkForm()
    if form.validate_on_submit():
        ctx = service_context()
        try:
            info, code = networks.create(ctx, name=form.name.data, area=form.area.data,
                                         description=form.description.data)
        except UserError as exc:
            ctx.session.rollback()
            form.form_errors.append(user_message(exc))
        else:
            ctx.session.commit()
            return render_template("networks/code.html", info=info, code=code, created=True)
    return render_template("networks/new.html", form=form), 400 if form.errors else 200


@bp.route("/join", methods=["GET", "POST"])
@requires("network.manage")
def join():
    form = JoinForm()
    status = 200
    if form.validate_on_submit():
        ctx = service_context()
        try:
            info = networks.join(ctx, form.code.data, limiter=get_throttle())
        except networks.TooManyTries as exc:
            ctx.session.rollback()
            form.code.errors = [user_message(exc)]
            status = 429
        except UserError as exc:
            ctx.session.rollback()
            form.code.errors = [user_message(exc)]
            status = 400
        else:
            return _done(_("Your organisation is now a member of %(name)s. Choose which projects count in it.",
                           name=info.name), info.slug)
    elif form.errors:
        status = 400
    return render_template("networks/join.html", form=form), status


@bp.route("/<network>")
@network_page("network.outcomes")
def show(network: str):
    ctx = service_context()
    if ctx.actor.role == FUNDER:  # a funder let in reads the report, nothing else
        return redirect(url_for("networks.report_page", network=network))
    return _show(network)


def _show(network: str, new_code: str | None = None, viewer_form: ViewerForm | None = None, status: int = 200):
    seen = networks.view(service_context(), network)
    return render_template("networks/show.html", seen=seen, new_code=new_code,
                           viewer_form=viewer_form or ViewerForm(formdata=None),
                           leave_form=LeaveForm(formdata=None)), status


@bp.route("/<network>/projects", methods=["POST"])
@network_page("network.manage")
def projects(network: str):
    """Opt one of my organisation's projects in (``change=in``) or out (``change=out``)."""
    ctx = service_context()
    project, change = request.form.get("project", ""), request.form.get("change")
    if not project or change not in ("in", "out"):
        flash(_("Choose a project."), "error")
        return redirect(url_for("networks.show", network=network))
    try:
        if change == "in":
            networks.opt_in(ctx, network, project)
        else:
            networks.opt_out(ctx, network, project)
    except UserError as exc:
        return _failed(exc, network)
    return _done(_("The project now counts in the network.") if change == "in"
                 else _("The project no longer counts in the network."), network)


@bp.route("/<network>/join-code", methods=["POST"])
@network_page("network.manage")
def join_code(network: str):
    code = networks.new_join_code(service_context(), network)
    service_context().session.commit()
    return _show(network, new_code=code)


@bp.route("/<network>/close-joining", methods=["POST"])
@network_page("network.manage")
def close_joining(network: str):
    networks.close_joining(service_context(), network)
    return _done(_("Joining is closed. Make a new code when another organisation wants to join."), network)


@bp.route("/<network>/viewers", methods=["POST"])
@network_page("network.manage")
def add_viewer(network: str):
    form = ViewerForm()
    if not form.validate_on_submit():
        return _show(network, viewer_form=form, status=400)
    ctx = service_context()
    try:
        added = networks.add_viewer(ctx, network, form.email.data)
    except UserError as exc:
        ctx.session.rollback()
        form.email.errors = [user_message(exc)]
        return _show(network, viewer_form=form, status=400)
    return _done(_("%(email)s can now read the network's report.", email=added.email), network)


@bp.route("/<network>/viewers/remove", methods=["POST"])
@network_page("network.manage")
def remove_viewer(network: str):
    user_id = request.form.get("user_id", "")
    if not user_id.isdigit():
        flash(_("Choose who no longer reads the report."), "error")
        return redirect(url_for("networks.show", network=network))
    networks.remove_viewer(service_context(), network, int(user_id))
    return _done(_("They can no longer read the network's report."), network)


@bp.route("/<network>/leave", methods=["POST"])
@network_page("network.manage")
def leave(network: str):
    form = LeaveForm()
    if not (form.validate_on_submit() and form.confirm.data):
        flash(_("Tick the box to confirm that your organisation leaves the network."), "error")
        return redirect(url_for("networks.show", network=network))
    try:
        ended = networks.leave(service_context(), network)
    except UserError as exc:
        return _failed(exc, network)
    return _done(_("The network has ended.") if ended else _("Your organisation has left the network."))


# --- the network's report ----------------------------------------------------------------------------------

def _report_view(report: dict, lang: str) -> dict:
    """What the page shows: the PDF's own figures and sentences (``rendering.across_report``), side by side."""
    from surveyhub.rendering import across_report
    from surveyhub.web.org_reports import view

    shown = view(report, lang)
    shown["organisations"] = across_report.organisations(report, lang, shown["t"])
    return shown


@bp.route("/<network>/report")
@network_page("network.outcomes")
def report_page(network: str):
    from surveyhub.i18n import current_language
    from surveyhub.web.org_reports import period_from

    ctx = service_context()
    period = period_from(request.args, today())
    report, problem = None, None
    if period.ok:
        try:
            report = network_report.report(ctx, network, start=period.start, end=period.end)  # type: ignore[arg-type]
        except UserError as exc:
            problem = user_message(exc)
    lang = current_language()
    form = PdfForm(formdata=None, start=period.start.isoformat() if period.ok else "",  # type: ignore[union-attr]
                   end=period.end.isoformat() if period.ok else "", lang=lang)  # type: ignore[union-attr]
    info = next(one for one in networks.my_networks(ctx) if one.slug == network)
    return render_template("networks/report.html", info=info, period=period, report=report, problem=problem,
                           view=_report_view(report, lang) if report else None, form=form,
                           years=(today().year, today().year - 1),
                           viewer=ctx.actor.role == FUNDER), 400 if period.errors else 200


@bp.route("/<network>/report.json")
@network_page("network.outcomes")
def report_json(network: str):
    from surveyhub.web.org_reports import period_from

    ctx = service_context()
    period = period_from(request.args, today())
    if not period.ok:
        return report_page(network)
    report = network_report.report(ctx, network, start=period.start, end=period.end)  # type: ignore[arg-type]
    audit.record(ctx.session, "download.report", actor=ctx.actor, target=f"network:{network}",
                 details={"kind": "network_report", "format": "json", "start": report["period"]["start"],
                          "end": report["period"]["end"]})
    ctx.session.commit()
    name = f"{network}-{report['period']['start']}-{report['period']['end']}.json"
    return Response(json.dumps(report, allow_nan=False, ensure_ascii=False, indent=2), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/<network>/report/pdf", methods=["POST"])
@network_page("network.outcomes")
def report_pdf(network: str):
    """"PDF maken": a job (kind ``network_report.pdf``) whose page offers the registered PDF."""
    from surveyhub.i18n import current_language
    from surveyhub.rendering.across_report import short_period
    from surveyhub.web.jobs import start as start_job
    from surveyhub.web.org_reports import read_date

    form = PdfForm()
    start, end = read_date(form.start.data or ""), read_date(form.end.data or "")
    if not form.validate_on_submit() or start is None or end is None or start > end:
        return report_page(network)  # a forged or stale form: the report again, nothing started
    period = {"start": start.isoformat(), "end": end.isoformat()}
    found = access.network(get_session(), current_actor(), network, "network.outcomes")
    title = _("Network report %(name)s %(period)s (PDF)", name=found.name,
              period=short_period(period, current_language()))
    return start_job("network_report.pdf", keys=[], params={**period, "lang": form.lang.data, "network": network},
                     title=title)
