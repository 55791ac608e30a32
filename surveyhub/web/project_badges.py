"""A project's Open Badges setting: which residents get a badge, and how many did.

``/projects/<slug>/badges`` (workers and admins, ``project.setup``) chooses the
project's rule (off, growth, a level reached, or both) and, for level badges,
the lowest level that earns one; ``services.badges.set_rule`` checks and stores
it. From then on a resident whose end questionnaire meets the rule gets their
badge when they finish it; "Give the badges now" issues them for residents who
already finished (``services.badges.issue_for_project``, idempotent).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField
from wtforms.fields import SelectChoice

from surveyhub.i18n import current_language
from surveyhub.locale import translate
from surveyhub.services import access, badges, project_form
from surveyhub.services.errors import UserError
from surveyhub.web.errors import user_message
from surveyhub.web.forms import ActionForm
from surveyhub.web.session_user import requires, service_context

bp = Blueprint("project_badges", __name__)


class BadgeRuleForm(FlaskForm):
    rule = RadioField(_l("Who gets a badge"), default="off",
                      choices=[SelectChoice("off", _l("Nobody: this project gives no badges")),
                               SelectChoice("improvement", _l("Progress: residents who clearly grew in a skill")),
                               SelectChoice("level", _l("Level reached: residents who reach a level at the end")),
                               SelectChoice("either", _l("Both: for progress and for a level reached"))])
    level = SelectField(_l("Lowest level that earns a badge"), choices=[],
                        description=_l("Only for level badges. The highest level is the default."))


@bp.route("/projects/<slug>/badges", methods=["GET", "POST"])
@requires("project.setup")
def setting(slug: str):
    ctx = service_context()
    project = access.project(ctx.session, ctx.actor, slug, "project.setup")
    form = BadgeRuleForm(data={"rule": project.badge_rule, "level": project.badge_level or ""})
    lang = current_language()
    form.level.choices = [SelectChoice("", _("The highest level"))] + [
        SelectChoice(key, translate(label, lang)) for key, label in badges.level_choices(ctx, slug)]
    problem = None
    if form.validate_on_submit():
        try:
            badges.set_rule(ctx, slug, form.rule.data, form.level.data or None)
        except UserError as exc:
            ctx.session.rollback()
            problem = user_message(exc)
        else:
            ctx.session.commit()
            flash(_("Saved: the rule for Open Badges."))
            return redirect(url_for("project_badges.setting", slug=slug))
    shown = render_template("project_badges/setting.html", project=project, form=form, problem=problem,
                            summary=project_form.badge_count(ctx.session, project), action=ActionForm())
    return shown, (400 if form.errors or problem else 200)


@bp.route("/projects/<slug>/badges/issue", methods=["POST"])
@requires("project.setup")
def issue(slug: str):
    """Badges for residents who finished before the rule was set (those who have one keep it)."""
    if ActionForm().validate_on_submit():
        ctx = service_context()
        project = access.project(ctx.session, ctx.actor, slug, "project.setup")
        before = project_form.badge_count(ctx.session, project).issued
        try:
            badges.issue_for_project(ctx, slug)
        except UserError as exc:
            ctx.session.rollback()
            flash(user_message(exc), "error")
        else:
            new = project_form.badge_count(ctx.session, project).issued - before
            ctx.session.commit()
            flash(ngettext("%(num)s new badge given.", "%(num)s new badges given.", new) if new
                  else _("No new badges: everyone who meets the rule has one already."))
    return redirect(url_for("project_badges.setting", slug=slug))
