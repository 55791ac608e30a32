"""Questionnaire set-up: instrument order and extra questions (the preview lives in web/preview.py)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from surveyhub.db import get_session
from surveyhub.services import access, projects
from surveyhub.services.errors import UserError
from surveyhub.web.errors import user_message
from surveyhub.web.forms import ActionForm, QuestionForm
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("setup", __name__)


@bp.route("/projects/<slug>/questionnaire", methods=["GET", "POST"])
@requires("project.setup")
def questionnaire(slug: str):
    session = get_session()
    project = access.project(session, current_actor(), slug, "project.setup")
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            projects.add_question(session, current_actor(), slug, form.qtype.data, form.text_nl.data,
                                  form.text_en.data, _number(form.minimum.data), _number(form.maximum.data),
                                  options=(form.options.data or "").splitlines(), waves=form.waves.data)
        except UserError as exc:
            session.rollback()
            (form.options if isinstance(exc, projects.BadOptions) else form.text_nl).errors.append(user_message(exc))
        else:
            session.commit()
            flash(_("Question added."))
            return redirect(url_for("setup.questionnaire", slug=slug))
    locked = projects.has_responses(session, project)
    return render_template("manage/questionnaire_setup.html", project=project, form=form, action=ActionForm(),
                           locked=locked)


def _number(value) -> float | None:
    """DecimalField gives a Decimal, which the JSON definition column cannot store."""
    return None if value is None else float(value)


@bp.route("/projects/<slug>/questionnaire/move/<instrument_id>/<any(up, down):direction>", methods=["POST"])
@requires("project.setup")
def move(slug: str, instrument_id: str, direction: str):
    return _change(slug, lambda s: projects.move_instrument(s, current_actor(), slug, instrument_id,
                                                            -1 if direction == "up" else 1))


@bp.route("/projects/<slug>/questionnaire/remove/<question_id>", methods=["POST"])
@requires("project.setup")
def remove(slug: str, question_id: str):
    return _change(slug, lambda s: projects.remove_question(s, current_actor(), slug, question_id))


def _change(slug: str, operation):
    session = get_session()
    access.project(session, current_actor(), slug, "project.setup")  # another organisation's project: 404, not a flash
    if ActionForm().validate_on_submit():
        try:
            operation(session)
        except UserError as exc:
            session.rollback()
            flash(user_message(exc), "error")
        else:
            session.commit()
    return redirect(url_for("setup.questionnaire", slug=slug))

