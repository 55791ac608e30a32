"""The worker's pairs page: anonymous residents the report counts as one, with confirm and undo.

Thin routes over ``services.pair_review``. Residents' pairing is individual
data, so the page and its decisions need ``project.residents`` (funders never).
Every decision is a POST with a CSRF token and a redirect back to the pair.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from surveyhub.db import get_session
from surveyhub.services import pair_review
from surveyhub.services.errors import UserError
from surveyhub.web.errors import user_message
from surveyhub.web.forms import ActionForm
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("pairs", __name__)

#: The six parts of a self-made code, as the worker reads them (``ParticipantCodeForm.PARTS``).
CODE_PARTS = (_l("Mother's first name, first letter"), _l("Father's first name, first letter"),
              _l("Birth month"), _l("Older brothers"), _l("Older sisters"), _l("Town of birth, first letter"))
#: Part index of the birth month, whose answer is shown as a month's name.
MONTH_PART = 2
DONE = {"confirmed": _l("Confirmed: these two answers are from one resident."),
        "undone": _l("Undone: the report counts these two residents apart."),
        "reset": _l("Decision taken back: the report pairs these two by their codes again.")}


def answer_text(part: int, value: str) -> str:
    """One code answer as the worker reads it: a month's name, "don't know", or the letter or number."""
    if value in ("", "?"):
        return _("don't know") if value == "?" else _("(empty)")
    if part == MONTH_PART and value.isdigit() and 1 <= int(value) <= 12:
        return format_date(date(2000, int(value), 1), "MMMM")  # CLDR's month name in the page's language
    return value.upper() if value.isalpha() else value


@bp.route("/projects/<slug>/pairs")
@requires(pair_review.CAPABILITY)
def overview(slug: str):
    found = pair_review.review(get_session(), current_actor(), slug)
    return render_template("manage/pairs.html", review=found, slug=slug, parts=CODE_PARTS, answer_text=answer_text)


@bp.route("/projects/<slug>/pairs/<key>", methods=["POST"])
@requires(pair_review.CAPABILITY)
def decide(slug: str, key: str):
    first, second = pair_review.parse_key(key)
    decision = request.form.get("decision", "")
    if ActionForm().validate_on_submit():
        session = get_session()
        try:
            pair_review.decide(session, current_actor(), slug, first, second, decision)
        except UserError as exc:
            session.rollback()
            flash(user_message(exc), "error")
        else:
            session.commit()
            flash(str(DONE[decision]))
    return redirect(url_for("pairs.overview", slug=slug) + f"#pair-{key}")
