"""Importing answers from a CSV file in the browser: upload, a clear result (counts, or every bad row),
and undo — what ``surveyhub responses import`` does, without the command line.

The file is checked whole before anything is stored (``services.imports``): one
bad row and nothing is stored, with every problem listed. A stored import can be
taken back from its result page (``services.import_history``).
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired

from surveyhub.db import get_session
from surveyhub.plugins import get_host, get_registry
from surveyhub.services import access, import_history, imports, responses
from surveyhub.services.errors import UserError
from surveyhub.web.errors import user_message
from surveyhub.web.forms import ActionForm
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("import_page", __name__)


class ImportForm(FlaskForm):
    wave = RadioField(_l("Which answers are in the file?"), default="pre", validators=[InputRequired(
        _l("Choose the wave the answers belong to."))], choices=[
        SelectChoice("pre", _l("Pre wave (nulmeting)")), SelectChoice("post", _l("Post wave (eindmeting)")),
        SelectChoice("retro", _l("Retrospective block of the post wave (terugblik)")),
        SelectChoice("followup", _l("Follow-up wave"))])
    file = FileField(_l("CSV file"))


def _project(slug: str):
    return access.project(get_session(), current_actor(), slug, "project.residents")


@bp.route("/projects/<slug>/import", methods=["GET", "POST"])
@requires("project.residents")
def upload(slug: str):
    project = _project(slug)
    form = ImportForm()
    problems: list[str] = []
    if form.validate_on_submit():
        limit = current_app.config["MAX_UPLOAD_BYTES"]
        data = form.file.data.read(limit + 1) if form.file.data else b""
        if not data:
            form.file.errors.append(_("Choose a CSV file."))
        elif len(data) > limit:
            form.file.errors.append(_("The file is too large: at most %(mb)s MB.", mb=limit // (1024 * 1024)))
        else:
            session = get_session()
            try:
                result = imports.import_responses(session, get_registry(), current_actor(), slug, form.wave.data,
                                                  data, on_score_error=get_registry().scoring_error_handler(
                                                      get_host()), on_completed=responses.announcer(get_host()),
                                                  badges_base_url=current_app.config["BASE_URL"])
            except imports.ImportRefused as exc:
                session.rollback()
                problems = exc.problems
                form.file.errors.append(user_message(exc))
            except UserError as exc:
                session.rollback()
                form.file.errors.append(user_message(exc))
            else:
                session.commit()
                token = import_history.remember(current_app.instance_path, current_actor(), slug, form.wave.data,
                                                result.undo)
                flash(_("The answers are imported."))
                return redirect(url_for("import_page.result", slug=slug, token=token, rows=result.rows,
                                        new=result.new_participants, completed=result.completed,
                                        waiting=result.waiting))
    return render_template("manage/import.html", project=project, form=form, problems=problems,
                           columns=import_history.expected_columns(project))


@bp.route("/projects/<slug>/import/<token>")
@requires("project.residents")
def result(slug: str, token: str):
    project = _project(slug)
    try:
        data = import_history.pending(current_app.instance_path, current_actor(), slug, token)
    except UserError as exc:
        flash(user_message(exc), "error")
        return redirect(url_for("import_page.upload", slug=slug))
    counts = {key: request.args.get(key, type=int) or 0 for key in ("rows", "new", "completed", "waiting")}
    return render_template("manage/import_result.html", project=project, token=token, counts=counts,
                           wave=data["wave"], action=ActionForm())


@bp.route("/projects/<slug>/import/<token>/undo", methods=["POST"])
@requires("project.residents")
def undo(slug: str, token: str):
    _project(slug)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("import_page.result", slug=slug, token=token))
    session = get_session()
    try:
        import_history.take_back(session, get_registry(), current_actor(), current_app.instance_path, slug, token)
    except UserError as exc:
        session.rollback()
        flash(user_message(exc), "error")
        return redirect(url_for("import_page.upload", slug=slug))
    session.commit()
    import_history.forget(current_app.instance_path, token)
    flash(_("The import is undone: the residents and answers it added are gone, changed answers are back."))
    return redirect(url_for("import_page.upload", slug=slug))
