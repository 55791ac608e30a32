"""What a resident did: their own page "What I did" from their link, and the worker's list to confirm.

``/q/<token>/did`` resolves the link like the questionnaire pages (one budget of misses,
the project's languages, the same page for a link that no longer works) and shows the
resident's activities, what still waits for a worker, and two small forms: "I was at this
activity too" and "something else". ``/projects/<slug>/activities/to-confirm`` lists what
residents added, for a worker to confirm or (after a confirmation step) to remove.
Both sides call ``services.contributions``; nothing is counted here.
"""

from __future__ import annotations


from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, pgettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import InputRequired

from surveyhub.db import get_session
from surveyhub.extensions import csrf
from surveyhub.i18n import current_language
from surveyhub.locale import Numbers
from surveyhub.services import contributions, resident_contact
from surveyhub.services.errors import NotFound, UserError
from surveyhub.web.contribution_forms import (EXPIRED, THANKS, OtherForm, PickForm, hours_text, kind_name,
                                              role_words)
from surveyhub.web.errors import user_message
from surveyhub.web.questionnaire import limit_guessing, resident_link
from surveyhub.web.session_user import current_actor, public, requires, service_context, today

bp = Blueprint("contributions", __name__)


def role_names() -> dict[str, str]:
    """Roles as a worker reads them, as on the worker's activity pages."""
    return {"participant": pgettext("activity role", "Participant"),
            "volunteer": pgettext("activity role", "Volunteer"),
            "organiser": pgettext("activity role", "Organiser"),
            "chair": pgettext("activity role", "Chair or spokesperson")}


# --- the resident's page -----------------------------------------------------------------------------

@bp.route("/q/<token>/did", methods=["GET", "POST"])
@public
@limit_guessing
def mine(token: str):
    link = resident_link(token)
    session = get_session()
    participant_id, project_id = link.participant.id, link.project.id
    offers = contributions.offers(session, participant_id, project_id)
    pick = PickForm(prefix="pick")
    pick.offer(offers)
    other = OtherForm(prefix="other")
    sent = request.form.get("which") if request.method == "POST" else None
    if sent == "pick" and pick.validate_on_submit():
        if _added(session, token, lambda: contributions.add_to_activity(
                session, participant_id, project_id, int(pick.activity.data), pick.role.data, pick.note.data),
                pick):
            return redirect(url_for("contributions.mine", token=token) + "#waiting")
    elif sent == "other" and other.validate_on_submit():
        if _added(session, token, lambda: contributions.propose(
                session, participant_id, project_id, happened_on=other.happened_on.data, kind=other.kind.data,
                description=other.description.data, hours=float(other.hours.data), role=other.role.data,
                note=other.note.data), other):
            return redirect(url_for("contributions.mine", token=token) + "#waiting")
    _expired_notice(sent, pick if sent == "pick" else other)
    record = contributions.my_record(session, participant_id, project_id)
    who = resident_contact.who_asks(session, link.project)
    ended = link.project.archived_at is not None or link.project.purged_at is not None
    numbers = Numbers(current_language())
    used = pick if sent == "pick" else other
    status = 400 if sent and (used.errors or used.form_errors) else 200
    return render_template("contributions/mine.html", token=token, project=link.project, record=record,
                           offers=offers, pick=pick, other=other, sent=sent, ended=ended,
                           waiting_for=who.worker_name or who.organisation, numbers=numbers,
                           kind_name=kind_name, role_words=role_words, hours_text=hours_text,
                           today=today().isoformat()), status


csrf.exempt(mine)  # the form checks its own token: a page left open long re-asks instead of failing


def _added(session, token: str, add, form: FlaskForm) -> bool:
    """Store the contribution; a problem (already on your list, a date too far back) is said above ``form``."""
    try:
        add()
    except UserError as exc:
        session.rollback()
        form.form_errors.append(user_message(exc))
        return False
    session.commit()
    flash(str(THANKS), "ok")
    return True


def _expired_notice(sent: str | None, form: FlaskForm) -> None:
    """A form left open for hours loses its CSRF token: say so in plain words (nothing was stored)."""
    if sent and "csrf_token" in form.errors:
        form.form_errors.append(str(EXPIRED))


@bp.errorhandler(404)
def _not_found(exc):
    """A resident's dead link gets the questionnaire's dead-end page; a worker's 404 the usual one."""
    if (request.view_args or {}).get("token"):
        from surveyhub.web.questionnaire import _dead_end
        return _dead_end(exc)
    return render_template("errors/404.html"), 404


# --- the worker's list to confirm ----------------------------------------------------------------------

class DecisionForm(FlaskForm):
    """Confirm or remove one waiting contribution (``entry`` is its id)."""

    entry = IntegerField(validators=[InputRequired()])
    decision = HiddenField(validators=[InputRequired()])


@bp.route("/projects/<slug>/activities/to-confirm", methods=["GET", "POST"])
@requires("project.residents")
def to_confirm(slug: str):
    session = get_session()
    actor = current_actor()
    form = DecisionForm()
    if form.validate_on_submit() and form.decision.data in ("confirm", "remove"):
        return _decide(session, slug, form.entry.data, form.decision.data)
    if request.method == "POST":
        flash(_("Choose a contribution to confirm."), "error")
        return redirect(url_for("contributions.to_confirm", slug=slug))
    waiting = contributions.pending(session, actor, slug)
    removing = None
    if request.args.get("remove", "").isdigit():
        removing = next((p for p in waiting if p.id == int(request.args["remove"])), None)
    project = service_context().project(slug, "project.residents")  # read once already, by ``requires``
    return render_template("contributions/to_confirm.html", slug=slug, project=project, waiting=waiting,
                           removing=removing, kind_name=kind_name, hours_text=hours_text,
                           role_name=lambda role: role_names().get(role, role), numbers=Numbers(current_language()))


def _decide(session, slug: str, entry_id: int, decision: str):
    actor = current_actor()
    try:
        if decision == "confirm":
            found = contributions.confirm(session, actor, slug, entry_id)
        else:
            found = contributions.reject(session, actor, slug, entry_id)
    except NotFound:
        session.rollback()
        flash(_("This contribution is no longer waiting."), "error")
        return redirect(url_for("contributions.to_confirm", slug=slug))
    session.commit()
    who = found.name or found.code
    if decision == "confirm":
        flash(_("Confirmed: it now counts for %(who)s.", who=who), "ok")
    else:
        flash(_("Removed the contribution of %(who)s.", who=who), "ok")
    return redirect(url_for("contributions.to_confirm", slug=slug))
