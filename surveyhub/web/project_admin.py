"""Admin pages for a project's life cycle and the organisation's privacy register.

Archive (read-only, hidden from the active list, reversible), restore, and
delete after typing the project's name; the processing register (AVG art. 30)
generated from the real configuration. Every page needs ``org.manage``.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from surveyhub.db import get_session
from surveyhub.services import access, archive, privacy_register, projects, retention
from surveyhub.services.errors import UserError
from surveyhub.web.forms import ActionForm
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("project_admin", __name__)


#: Changes still allowed in an archived project: its life cycle, revoking documents, the impact report,
#: a blank printable questionnaire, the preview (stores nothing), sharing with a funder, and a
#: resident's erasure request (a right that outlives the project).
STILL_ALLOWED = {"project_admin.set_archived", "project_admin.delete", "documents.revoke", "documents.report",
                 "documents.questionnaire", "preview.start", "preview.page", "manage.share", "resident_requests.erase"}


@bp.before_app_request
def _archived_is_read_only():
    """A POST that would change an archived (or purged) project goes back to its page with a message."""
    slug = (request.view_args or {}).get("slug")
    if request.method != "POST" or slug is None or request.endpoint in STILL_ALLOWED:
        return None
    reason = archive.read_only(get_session(), current_actor(), slug) if current_user.is_authenticated else None
    if reason is None:
        return None
    flash(_("The personal data of this project was deleted after its retention period. Only numbers about the "
            "whole group are kept.") if reason == "purged"
          else _("This project is archived: it is read-only and residents cannot answer."), "error")
    return redirect(url_for("manage.project", slug=slug))


class DeleteForm(FlaskForm):
    name = StringField(validators=[DataRequired(), Length(max=200)])


@bp.route("/admin/projects")
@requires("org.manage")
def project_list():
    rows = archive.list_projects(get_session(), current_actor())
    return render_template("admin/projects.html", rows=rows, action=ActionForm())


@bp.route("/projects/<slug>/<any(archive, restore):change>", methods=["POST"])
@requires("org.manage")
def set_archived(slug: str, change: str):
    if ActionForm().validate_on_submit():
        session = get_session()
        if archive.set_archived(session, current_actor(), slug, change == "archive"):
            session.commit()
            flash(_("Project archived. It is read-only and no longer in the project list.") if change == "archive"
                  else _("Project restored."))
    return redirect(url_for("project_admin.project_list"))


@bp.route("/projects/<slug>/delete", methods=["GET", "POST"])
@requires("org.manage")
def delete(slug: str):
    session = get_session()
    info = projects.get_project(session, current_actor(), slug)
    form = DeleteForm()
    if form.validate_on_submit():
        try:
            archive.delete_project(session, current_actor(), slug, form.name.data)
        except UserError:
            session.rollback()
            form.name.errors.append(_("That is not the name of this project. Nothing was deleted."))
        else:
            session.commit()
            flash(_("Project %(name)s and everything in it was deleted.", name=info.name))
            return redirect(url_for("project_admin.project_list"))
    return render_template("admin/project_delete.html", project=info, form=form)


class RetentionForm(FlaskForm):
    retention_months = IntegerField(_l("Keep residents' personal data for (months after the last wave closes)"),
                                    description=_l("Leave empty to use the installation's setting."),
                                    validators=[Optional(), NumberRange(min=1, max=projects.MAX_RETENTION_MONTHS)])


@bp.route("/admin/privacy", methods=["GET", "POST"])
@requires("org.manage")
def privacy():
    session, actor = get_session(), current_actor()
    org = access.organisation(session, actor)
    form = RetentionForm(data={"retention_months": org.retention_months})
    if form.validate_on_submit():
        retention.set_organisation_retention(session, actor, form.retention_months.data)
        session.commit()
        flash(_("The retention period is saved. Projects without a period of their own follow it."))
        return redirect(url_for("project_admin.privacy"))
    register = privacy_register.build(session, actor.organisation_id, current_app.config, _)
    return render_template("admin/privacy.html", register=register, form=form,
                           default_months=current_app.config["RETENTION_MONTHS"])
