"""Preview: the resident's pages exactly as residents see them, for the worker who sets a project up.

Nothing is stored: no participant, no response, no consent. The preview posts like the
resident's page (with a CSRF token) so validation messages show the same way.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from surveyhub.db import get_session
from surveyhub.i18n import current_language
from surveyhub.plugins import get_registry
from surveyhub.services import access, responses
from surveyhub.services.resident import code_page
from surveyhub.web.questionnaire_forms import page_form_class
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("preview", __name__)


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
    if request.method == "POST":
        _values, errors = code_page(pages[n], request.form, types, lang)
        for key, message in errors.items():
            getattr(form, key).errors = [message]
        if not errors:
            target = n - 1 if request.form.get("move") == "back" else n + 1
            if target >= len(pages):
                flash(_("End of the preview. Nothing was saved."))
                return redirect(url_for("setup.questionnaire", slug=slug))
            return redirect(url_for("preview.page", slug=slug, kind=kind, n=max(0, target)))
    return render_template("manage/preview.html", form=form, page=pages[n], slots=shown, n=n, n_pages=len(pages),
                           project=project, wave={"kind": kind}, expired=False, back_url=None)
