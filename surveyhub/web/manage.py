"""The worker's pages: dashboard, projects and their waves."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired, Length

from surveyhub.db import get_session
from surveyhub.measures.questions import radio_choices
from surveyhub.plugins import get_registry
from surveyhub.services import access, instruments, project_form, projects, retention
from surveyhub.services.errors import UserError
from surveyhub.web.errors import user_message
from surveyhub.web.forms import ActionForm, ProjectForm
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("manage", __name__)


class ShareForm(FlaskForm):
    """One button beside a funder: share the project (1) or stop sharing (0)."""

    funder = HiddenField(validators=[DataRequired(), Length(max=254)])
    shared = HiddenField(validators=[AnyOf(["0", "1"])])


@bp.route("/")
@requires("project.list")
def dashboard():
    items = projects.list_projects(get_session(), current_actor())
    return render_template("manage/dashboard.html", projects=items, purges=_purges())


def _purges(slug: str | None = None) -> list:
    """Retention purges due within 30 days, for the notice workers see (none for funders)."""
    return retention.upcoming(get_session(), current_actor(), slug=slug,
                              default_months=current_app.config["RETENTION_MONTHS"])


def _chooser(form: ProjectForm) -> list:
    """The instrument chooser's entries; the form's checkboxes take their values."""
    actor = current_actor()
    entries = instruments.chooser(get_session(), get_registry(), actor.organisation_id, _current_lang())
    form.instruments.choices = radio_choices((c.ref, c.name) for c in entries)
    return entries


def _current_lang() -> str:
    from surveyhub.i18n import current_language
    return current_language()


def _setup(form: ProjectForm) -> projects.Setup:
    return projects.Setup(form_length=form.form_length.data, question_mode=form.question_mode.data,
                          language=form.language.data, period=(form.period_start.data, form.period_end.data))


def _show_form(form: ProjectForm, entries: list, project=None):
    """The form with, per wave, the questions and minutes of what is chosen now (so a worker sees the cost)."""
    session, actor = get_session(), current_actor()
    totals = project_form.planned_totals(session, get_registry(), actor, form.instruments.data or [],
                                     form.form_length.data or "full", bool(form.retrospective.data),
                                     slug=project.slug if project else None)
    default_months = project_form.organisation_retention(session, actor, current_app.config["RETENTION_MONTHS"])
    locked = project is not None and any(w.started for w in project.waves)
    from surveyhub.services.questionnaire import SECONDS_START
    live = {"start": SECONDS_START, "instruments": {entry.ref: entry.figures for entry in entries},
            "extra": project_form.extra_figures(session, actor, project.slug if project else None)}
    return render_template("manage/project_form.html", form=form, project=project, entries=entries,
                           totals=totals, default_months=default_months, locked=locked, live=live)


def _recalculating() -> bool:
    """The "work out the time again" button: show the figures, save nothing (works without JavaScript)."""
    return request.method == "POST" and request.form.get("recalc") == "1"


@bp.route("/projects/new", methods=["GET", "POST"])
@requires("project.setup")
def project_new():
    form = ProjectForm()
    entries = _chooser(form)
    if not _recalculating() and form.validate_on_submit():
        session = get_session()
        try:
            info = projects.create_project(session, get_registry(), current_actor(), form.name.data,
                                           form.instruments.data, form.retrospective.data, form.description.data,
                                           retention_months=form.retention_months.data, setup=_setup(form))
        except UserError as exc:
            session.rollback()
            form.instruments.errors.append(user_message(exc))
        else:
            session.commit()
            flash(_("Project created. The pre wave (nulmeting) is open."))
            return redirect(url_for("manage.project", slug=info.slug))
    return _show_form(form, entries)


@bp.route("/projects/<slug>")
@requires("project.list")
def project(slug: str):
    session, actor = get_session(), current_actor()
    info = projects.get_project(session, actor, slug)
    shares = projects.funder_shares(session, actor, slug) if actor.can("project.setup") else []
    badges_given = project_form.badge_count(session, access.project(session, actor, slug, "project.setup")).issued \
        if actor.can("project.setup") else 0
    return render_template("manage/project.html", project=info, action=ActionForm(), shares=shares,
                           purges=_purges(slug), badges_given=badges_given)


@bp.route("/projects/<slug>/edit", methods=["GET", "POST"])
@requires("project.setup")
def project_edit(slug: str):
    session = get_session()
    info = projects.get_project(session, current_actor(), slug)
    form = ProjectForm(data={"name": info.name, "description": info.description,
                             "retrospective": info.retrospective, "instruments": info.instruments,
                             "retention_months": info.retention_months, "form_length": info.form_length,
                             "question_mode": info.question_mode, "language": info.language,
                             "period_start": info.period_start, "period_end": info.period_end})
    entries = _chooser(form)
    if not _recalculating() and form.validate_on_submit():
        try:
            projects.update_project(session, get_registry(), current_actor(), slug, form.name.data,
                                    form.description.data, form.retrospective.data, form.instruments.data,
                                    retention_months=form.retention_months.data, setup=_setup(form))
        except UserError as exc:
            session.rollback()
            form.instruments.errors.append(user_message(exc))
        else:
            session.commit()
            flash(_("Project saved."))
            return redirect(url_for("manage.project", slug=slug))
    return _show_form(form, entries, info)


@bp.route("/projects/<slug>/waves/<kind>/<status>", methods=["POST"])
@requires("project.setup")
def wave_status(slug: str, kind: str, status: str):
    if status not in ("open", "closed") or not ActionForm().validate_on_submit():
        return redirect(url_for("manage.project", slug=slug))
    session = get_session()
    try:
        projects.set_wave_status(session, current_actor(), slug, kind, status)
    except UserError as exc:  # NotFound passes: another organisation's project is a 404, like every other page
        session.rollback()
        flash(user_message(exc), "error")
    else:
        session.commit()
    return redirect(url_for("manage.project", slug=slug))


@bp.route("/projects/<slug>/share", methods=["POST"])
@requires("project.setup")
def share(slug: str):
    """Share the project's dashboard and reports with a funder of the organisation, or stop sharing."""
    form = ShareForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            changed = projects.set_share(session, current_actor(), slug, form.funder.data, form.shared.data == "1")
        except UserError as exc:
            session.rollback()
            flash(user_message(exc), "error")
        else:
            session.commit()
            if changed:
                flash(_("The project is now shared with %(email)s.", email=form.funder.data) if form.shared.data == "1"
                      else _("The project is no longer shared with %(email)s.", email=form.funder.data))
    return redirect(url_for("manage.project", slug=slug))
