"""The worker's pages: dashboard, projects and their waves."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired, Length

from surveyhub.db import get_session
from surveyhub.measures.definition import translate
from surveyhub.measures.questions import radio_choices
from surveyhub.plugins import get_registry
from surveyhub.services import instruments, projects, retention
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


def _instrument_choices(lang: str) -> list:
    actor = current_actor()
    available = instruments.available(get_session(), get_registry(), actor.organisation_id)
    return radio_choices((f"{a.id}@{a.version}", f"{translate(a.title, lang)} ({a.id} v{a.version})")
                         for a in available)


def _current_lang() -> str:
    from surveyhub.i18n import current_language
    return current_language()


@bp.route("/projects/new", methods=["GET", "POST"])
@requires("project.setup")
def project_new():
    form = ProjectForm()
    form.instruments.choices = _instrument_choices(_current_lang())
    if form.validate_on_submit():
        session = get_session()
        try:
            info = projects.create_project(session, get_registry(), current_actor(), form.name.data,
                                           form.instruments.data, form.retrospective.data, form.description.data,
                                           retention_months=form.retention_months.data)
        except UserError as exc:
            session.rollback()
            form.instruments.errors.append(user_message(exc))
        else:
            session.commit()
            flash(_("Project created. The pre wave (nulmeting) is open."))
            return redirect(url_for("manage.project", slug=info.slug))
    return render_template("manage/project_form.html", form=form, project=None)


@bp.route("/projects/<slug>")
@requires("project.list")
def project(slug: str):
    session, actor = get_session(), current_actor()
    info = projects.get_project(session, actor, slug)
    shares = projects.funder_shares(session, actor, slug) if actor.can("project.setup") else []
    return render_template("manage/project.html", project=info, action=ActionForm(), shares=shares,
                           purges=_purges(slug))


@bp.route("/projects/<slug>/edit", methods=["GET", "POST"])
@requires("project.setup")
def project_edit(slug: str):
    session = get_session()
    info = projects.get_project(session, current_actor(), slug)
    form = ProjectForm(data={"name": info.name, "description": info.description,
                             "retrospective": info.retrospective, "instruments": info.instruments,
                             "retention_months": info.retention_months})
    form.instruments.choices = _instrument_choices(_current_lang())
    if form.validate_on_submit():
        try:
            projects.update_project(session, get_registry(), current_actor(), slug, form.name.data,
                                    form.description.data, form.retrospective.data, form.instruments.data,
                                    retention_months=form.retention_months.data)
        except UserError as exc:
            session.rollback()
            form.instruments.errors.append(user_message(exc))
        else:
            session.commit()
            flash(_("Project saved."))
            return redirect(url_for("manage.project", slug=slug))
    return render_template("manage/project_form.html", form=form, project=info)


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
