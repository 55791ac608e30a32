"""The page "Verhaal voor het rapport": what a project did, for page 1 and 2 of the impact report.

Thin routes over ``services.project_story``: the story fields (funder, period,
counts, main outcome, recommendations), outputs and milestones with an
optional photo, and the quotes the worker picks for the report. A form with
an error is shown again with what the worker typed. Admins and workers only
(``project.setup``; picking quotes reads residents' answers: ``project.residents``).

The output form uploads a photo of up to 8 MB while the installation's upload
limit (``SURVEYHUB_MAX_UPLOAD_BYTES``) is smaller, so that one view raises the
limit for its own request. The global CSRF check would read the form before
the view can, so the view is exempt from it and the form checks its own token.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional

from surveyhub.db import get_session
from surveyhub.extensions import csrf
from surveyhub.i18n import current_language
from surveyhub.measures.definition import translate
from surveyhub.services import project_story
from surveyhub.services.errors import NotFound, UserError
from surveyhub.services.story_photos import MAX_UPLOAD
from surveyhub.web.errors import user_message
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("story", __name__)

#: The output form's own request limit: the photo plus room for the other fields.
OUTPUT_REQUEST_LIMIT = MAX_UPLOAD + 64 * 1024


class StoryForm(FlaskForm):
    funder_name = StringField(_l("Funder"), validators=[Optional(), Length(max=200)],
                              description=_l("Who pays for the project, e.g. Gemeente Utrecht – Initiatievenfonds."))
    period_start = DateField(_l("Start of the project"), validators=[Optional()])
    period_end = DateField(_l("End of the project"), validators=[Optional()])
    meetings_held = IntegerField(_l("Meetings with residents"), validators=[Optional(), NumberRange(0, 1_000_000)],
                                 render_kw={"inputmode": "numeric", "min": 0})
    volunteer_hours = IntegerField(_l("Hours of volunteer work by residents"),
                                   validators=[Optional(), NumberRange(0, 1_000_000)],
                                   render_kw={"inputmode": "numeric", "min": 0})
    primary_scale = SelectField(_l("Main skill of the project"), choices=[],
                                description=_l("The report tests this skill first. Choose none to treat all "
                                               "skills alike."))
    recommendations = TextAreaField(_l("Recommendations"), validators=[Optional(), Length(max=4000)],
                                    description=_l("What you advise the funder, in a few short lines."),
                                    render_kw={"rows": 5})


class OutputForm(FlaskForm):
    happened_on = DateField(_l("Date"), validators=[DataRequired(_l("Choose a date."))])
    description = StringField(_l("What happened or was made"), validators=[DataRequired(_l("Write one line.")),
                                                                          Length(max=300)],
                              description=_l("One line, e.g. Speeltuin geopend."),
                              render_kw={"maxlength": 300})
    photo = FileField(_l("Photo (optional)"), description=_l("JPEG or PNG, at most 8 MB."),
                      render_kw={"accept": "image/jpeg,image/png"})


class EditOutputForm(FlaskForm):
    """One output's form on the page; its fields carry the output's id as a prefix (``o12-``), so the
    labels of every output's form are unique."""

    happened_on = DateField(_l("Date"), validators=[DataRequired(_l("Choose a date."))])
    description = StringField(_l("What happened or was made"), validators=[DataRequired(_l("Write one line.")),
                                                                          Length(max=300)],
                              render_kw={"maxlength": 300})
    photo = FileField(_l("New photo (optional)"), description=_l("JPEG or PNG, at most 8 MB."),
                      render_kw={"accept": "image/jpeg,image/png"})
    remove_photo = BooleanField(_l("Remove the photo"))


def _edit_form(output: project_story.OutputRow, formdata=None) -> EditOutputForm:
    return EditOutputForm(formdata=formdata, prefix=f"o{output['id']}-",
                          data={"happened_on": output["date"], "description": output["description"]})


class RemoveOutputForm(FlaskForm):
    output_id = HiddenField(validators=[DataRequired()])


class QuoteForm(FlaskForm):
    answer_id = HiddenField(validators=[DataRequired()])
    chosen = HiddenField(validators=[AnyOf(["0", "1"])])


def _story_form(story: project_story.Story, formdata=None) -> StoryForm:
    form = StoryForm(formdata=formdata, data={name: story[name] for name in project_story.STORY_FIELDS})
    lang = current_language()
    form.primary_scale.choices = [SelectChoice("", _("None: all skills alike"))] + [
        SelectChoice(choice["value"], translate(choice["title"], lang) or choice["value"])
        for choice in story["scales"]]
    if formdata is None and story["primary_scale"] is None:
        form.primary_scale.data = ""
    return form


def _page(slug: str, *, story_form: StoryForm | None = None, output_form: OutputForm | None = None,
          edited: tuple[int, EditOutputForm] | None = None, status: int = 200):
    session, actor = get_session(), current_actor()
    story = project_story.story(session, actor, slug)
    quotes = project_story.quote_choices(session, actor, slug) if actor.can("project.residents") else []
    # Forms not posted now are blank or hold what is stored (and never parse this request's body).
    edit_forms = {output["id"]: _edit_form(output) for output in story["outputs"]}
    if edited is not None and edited[0] in edit_forms:
        edit_forms[edited[0]] = edited[1]
    body = render_template("story/story.html", story=story, quotes=quotes,
                           story_form=story_form or _story_form(story),
                           output_form=output_form or OutputForm(formdata=None),
                           edit_forms=edit_forms, edit_open=edited[0] if edited else None,
                           any_chosen=any(quote["chosen"] for quote in quotes))
    return body, status


def _parse_upload() -> bool:
    """Parse this request's body within the output forms' own limit; False when it is larger."""
    request.max_content_length = OUTPUT_REQUEST_LIMIT
    try:
        request.files, request.form  # noqa: B018  (parse now, within this view's limit)
    except RequestEntityTooLarge:
        return False
    return True


def _photo(form) -> bytes | None:
    upload = form.photo.data
    return upload.read(MAX_UPLOAD + 1) if upload and upload.filename else None


@bp.route("/projects/<slug>/story")
@requires("project.setup")
def page(slug: str):
    return _page(slug)


@bp.route("/projects/<slug>/story", methods=["POST"])
@requires("project.setup")
def save_story(slug: str):
    session = get_session()
    form = _story_form(project_story.story(session, current_actor(), slug), formdata=request.form)
    if form.validate_on_submit():
        try:
            project_story.update_story(session, current_actor(), slug,
                                       **{name: getattr(form, name).data for name in project_story.STORY_FIELDS})
        except UserError as exc:
            session.rollback()
            form.form_errors.append(user_message(exc))
        else:
            session.commit()
            flash(_("The story for the report is saved."))
            return redirect(url_for("story.page", slug=slug) + "#story")
    return _page(slug, story_form=form, status=400)


@bp.route("/projects/<slug>/story/outputs", methods=["POST"])
@csrf.exempt  # OutputForm checks its own token, after the view has raised the upload limit
@requires("project.setup")
def add_output(slug: str):
    if not _parse_upload():
        form = OutputForm(formdata=None)
        form.photo.errors = [_("The photo is larger than 8 MB. Choose a smaller photo.")]
        return _page(slug, output_form=form, status=413)
    form = OutputForm()
    if form.validate_on_submit():
        session = get_session()
        photo = _photo(form)
        try:
            project_story.add_output(session, current_actor(), slug, form.happened_on.data, form.description.data,
                                     photo=photo)
        except UserError as exc:
            session.rollback()
            (form.photo if photo else form.description).errors = [user_message(exc)]
        else:
            session.commit()
            flash(_("Added to what the project did."))
            return redirect(url_for("story.page", slug=slug) + "#outputs")
    return _page(slug, output_form=form, status=400)


@bp.route("/projects/<slug>/story/outputs/edit", methods=["POST"])
@csrf.exempt  # EditOutputForm checks its own token, after the view has raised the upload limit
@requires("project.setup")
def edit_output(slug: str):
    """Change one output (``?output=ID``): its date, its line, a new photo or none."""
    output_id = request.args.get("output", "")
    if not output_id.isdigit():
        return Response(status=400)
    session, actor = get_session(), current_actor()
    stored = next((row for row in project_story.outputs(session, actor, slug) if row["id"] == int(output_id)), None)
    if stored is None:
        flash(_("This was removed already."), "error")
        return redirect(url_for("story.page", slug=slug) + "#outputs")
    if not _parse_upload():
        form = _edit_form(stored)
        form.photo.errors = [_("The photo is larger than 8 MB. Choose a smaller photo.")]
        return _page(slug, edited=(stored["id"], form), status=413)
    form = EditOutputForm(prefix=f"o{stored['id']}-")
    if form.validate_on_submit():
        photo = _photo(form)
        try:
            project_story.update_output(session, actor, slug, stored["id"], happened_on=form.happened_on.data,
                                        description=form.description.data, photo=photo,
                                        remove_photo=form.remove_photo.data)
        except UserError as exc:
            session.rollback()
            (form.photo if photo else form.description).errors = [user_message(exc)]
        else:
            session.commit()
            flash(_("Saved."))
            return redirect(url_for("story.page", slug=slug) + f"#output-{stored['id']}")
    return _page(slug, edited=(stored["id"], form), status=400)


@bp.route("/projects/<slug>/story/outputs/remove", methods=["POST"])
@requires("project.setup")
def remove_output(slug: str):
    form = RemoveOutputForm()
    if form.validate_on_submit() and form.output_id.data.isdigit():
        session = get_session()
        try:
            project_story.remove_output(session, current_actor(), slug, int(form.output_id.data))
        except NotFound:
            session.rollback()  # removed already (a second click, another tab): nothing left to do
        except UserError as exc:
            session.rollback()
            flash(user_message(exc), "error")
        else:
            session.commit()
            flash(_("Removed."))
    return redirect(url_for("story.page", slug=slug) + "#outputs")


@bp.route("/projects/<slug>/story/photo")
@requires("project.setup")
def photo(slug: str):
    """One output's photo (``?output=ID``): only for the project's workers and admins."""
    output_id = request.args.get("output", "")
    if not output_id.isdigit():
        return Response(status=400)
    data, kind = project_story.output_photo(get_session(), current_actor(), slug, int(output_id))
    response = Response(data, mimetype=kind)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/projects/<slug>/story/quotes", methods=["POST"])
@requires("project.residents")
def choose_quote(slug: str):
    form = QuoteForm()
    if form.validate_on_submit() and form.answer_id.data.isdigit():
        session = get_session()
        try:
            project_story.choose_quote(session, current_actor(), slug, int(form.answer_id.data),
                                       chosen=form.chosen.data == "1")
        except NotFound:
            session.rollback()
            flash(_("This answer can no longer be used."), "error")
        except UserError as exc:
            session.rollback()
            flash(user_message(exc), "error")
        else:
            session.commit()
    return redirect(url_for("story.page", slug=slug) + "#quotes")
