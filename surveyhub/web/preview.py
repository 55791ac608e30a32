"""Preview: the resident's pages exactly as residents see them, for the worker who sets a project up.

The start page (or, for a later wave, the welcome back) and every question
page, rendered with the resident's own templates and marked as a preview.
Nothing is stored: no participant, no response, no consent. The preview posts
like the resident's page (with a CSRF token) so the consent box, validation
messages and "nothing filled in — continue anyway?" show the same way.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from surveyhub.db import get_session
from surveyhub.i18n import current_language
from surveyhub.plugins import get_registry
from surveyhub.services import access, resident_contact, responses
from surveyhub.services.resident import code_page, nothing_answered
from surveyhub.web.questionnaire import start_page_context
from surveyhub.web.questionnaire_forms import ConsentForm, page_form_class
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("preview", __name__)


def _note(kind: str) -> str:
    from flask import current_app
    names = current_app.jinja_env.globals["wave_name"]
    return _("Preview of %(wave)s: this is what residents see. Nothing is saved.", wave=names(kind))


def _logo_src(project) -> str | None:
    """The logo inline (the resident's logo address needs a personal link)."""
    import base64

    shown = resident_contact.logo(get_session(), project)
    return f"data:{shown[1]};base64,{base64.b64encode(shown[0]).decode('ascii')}" if shown else None


@bp.route("/projects/<slug>/preview/<any(pre, post, followup):kind>", methods=["GET", "POST"])
@requires("project.setup")
def start(slug: str, kind: str):
    """The start page with its consent box (pre wave), or the welcome back of a later wave."""
    session = get_session()
    project = access.project(session, current_actor(), slug, "project.setup")
    pages = responses.pages_for(project, kind)
    context = start_page_context(session, project, kind, pages, logo_src=_logo_src(project))
    first = url_for("preview.page", slug=slug, kind=kind, n=0)
    if kind != "pre":
        return render_template("questionnaire/welcome_back.html", token=None, start_url=first,
                               preview_note=_note(kind), **context)
    form = ConsentForm()
    if form.validate_on_submit():
        if form.consent.data:
            return redirect(first)
        form.consent.errors.append(_("Tick the box if you want to take part."))
    return render_template("questionnaire/start.html", form=form, own_link=None, anonymous_start=False,
                           short_link=None, preview_note=_note(kind), **context)


@bp.route("/projects/<slug>/preview/<any(pre, post, followup):kind>/<int:n>", methods=["GET", "POST"])
@requires("project.setup")
def page(slug: str, kind: str, n: int):
    """Exactly the resident's page, without saving anything."""
    project = access.project(get_session(), current_actor(), slug, "project.setup")
    pages = responses.pages_for(project, kind)
    if not 0 <= n < len(pages):
        abort(404)
    lang = current_language()
    types = get_registry().question_types
    form_class, shown = page_form_class(pages[n], types, lang)
    form = form_class()  # with its CSRF token: the app-wide check refuses a preview POST without one
    empty = False
    if request.method == "POST":
        values, errors = code_page(pages[n], request.form, types, lang)
        for key, message in errors.items():
            getattr(form, key).errors = [message]
        empty = not errors and request.form.get("move") == "next" and nothing_answered(pages[n], values)
        if not errors and not empty:
            target = n - 1 if request.form.get("move") == "back" else n + 1
            if target >= len(pages):
                flash(_("End of the preview. Nothing was saved."))
                return redirect(url_for("setup.questionnaire", slug=slug))
            return redirect(url_for("preview.page", slug=slug, kind=kind, n=max(0, target)))
    return render_template("manage/preview.html", form=form, page=pages[n], slots=shown, n=n, n_pages=len(pages),
                           project=project, wave={"kind": kind}, expired=False, empty=empty, back_url=None,
                           preview_note=_note(kind))
