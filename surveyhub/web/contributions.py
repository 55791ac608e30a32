"""What a resident did: their own page "What I did" from their link, and the worker's list to confirm.

``/q/<token>/did`` resolves the link like the questionnaire pages (one budget of misses,
the project's languages, the same page for a link that no longer works) and shows the
resident's activities, what still waits for a worker, and two small forms: "I was at this
activity too" and "something else". ``/projects/<slug>/activities/to-confirm`` lists what
residents added, for a worker to confirm or (after a confirmation step) to remove.
Both sides call ``services.contributions``; nothing is counted here.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext, pgettext
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, HiddenField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from surveyhub.db import get_session
from surveyhub.extensions import csrf
from surveyhub.i18n import current_language
from surveyhub.locale import Numbers
from surveyhub.models import ACTIVITY_KINDS, ACTIVITY_ROLES
from surveyhub.services import contributions, resident_contact
from surveyhub.services.errors import NotFound, UserError
from surveyhub.web.errors import user_message
from surveyhub.web.questionnaire import limit_guessing, resident_link
from surveyhub.web.session_user import current_actor, public, requires, service_context

bp = Blueprint("contributions", __name__)

def kind_names() -> dict[str, str]:
    """Kinds of activity in the worker's activity pages' words (``web.activities``): one name for one thing."""
    return {"meeting": pgettext("activity kind", "Meeting"), "workday": pgettext("activity kind", "Work day"),
            "event": pgettext("activity kind", "Event"), "training": pgettext("activity kind", "Training"),
            "other": pgettext("activity kind", "Other")}


#: Roles as the resident says them ("I ..."), from taking part to leading.
ROLE_CHOICES = {"participant": _l("I took part"), "volunteer": _l("I helped as a volunteer"),
                "organiser": _l("I organised it"), "chair": _l("I chaired it or spoke for the group")}
def role_names() -> dict[str, str]:
    """Roles as a worker reads them, as on the worker's activity pages."""
    return {"participant": pgettext("activity role", "Participant"),
            "volunteer": pgettext("activity role", "Volunteer"),
            "organiser": pgettext("activity role", "Organiser"),
            "chair": pgettext("activity role", "Chair or spokesperson")}


def _choices(names: dict, keys) -> list[SelectChoice]:
    return [SelectChoice(key, names[key]) for key in keys]


class PickForm(FlaskForm):
    """"I was there too": one of the project's recent activities, the role, a note."""

    #: Any id is let through to the service, which tells "not on the list" from "already on your list".
    activity = RadioField(_l("Which activity?"), choices=[], validate_choice=False,
                          validators=[InputRequired(_l("Choose an activity.")),
                                      Regexp(r"^\d{1,9}$", message=_l("Choose an activity."))])
    role = RadioField(_l("What did you do?"), choices=_choices(ROLE_CHOICES, ACTIVITY_ROLES), default="participant",
                      validators=[InputRequired(_l("Choose what you did there."))])
    note = TextAreaField(_l("Want to tell more? (you may leave this empty)"),
                         validators=[Optional(), Length(max=contributions.MAX_NOTE)])


class OtherForm(FlaskForm):
    """Something else the resident did: when, what kind, what, how long, the role, a note."""

    happened_on = DateField(_l("When was it?"), validators=[InputRequired(_l("Fill in the date."))])
    kind = RadioField(_l("What kind of activity?"), choices=[SelectChoice(kind, kind) for kind in ACTIVITY_KINDS],
                      validators=[InputRequired(_l("Choose what kind of activity it was."))])
    description = StringField(_l("What did you do? A few words are enough."),
                              validators=[InputRequired(_l("Write in a few words what you did.")),
                                          Length(max=contributions.MAX_DESCRIPTION)])
    hours = DecimalField(_l("How many hours, about?"), places=None,
                         validators=[InputRequired(_l("Fill in the hours.")),
                                     NumberRange(min=0.25, max=contributions.MAX_HOURS)])
    role = RadioField(_l("What did you do?"), choices=_choices(ROLE_CHOICES, ACTIVITY_ROLES), default="participant",
                      validators=[InputRequired(_l("Choose what you did there."))])
    note = TextAreaField(_l("Want to tell more? (you may leave this empty)"),
                         validators=[Optional(), Length(max=contributions.MAX_NOTE)])


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
    pick.activity.choices = [SelectChoice(str(o.activity_id), "") for o in offers]
    other = OtherForm(prefix="other")
    other.kind.choices = _choices(kind_names(), ACTIVITY_KINDS)
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
                           kind_name=_kind_name, role_words=_role_words, hours_text=_hours_text,
                           today=date.today().isoformat()), status


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
    flash(_("Thank you! Your community worker will look at it soon."), "ok")
    return True


def _expired_notice(sent: str | None, form: FlaskForm) -> None:
    """A form left open for hours loses its CSRF token: say so in plain words (nothing was stored)."""
    if sent and "csrf_token" in form.errors:
        form.form_errors.append(_("This page was open for a long time. Please send it again."))


def _kind_name(kind: str) -> str:
    return kind_names().get(kind, kind)


def _hours_text(value: float) -> str:
    """"3 hours", "2.5 hours" ("3 uur", "2,5 uur"): whole hours without decimals, else up to two."""
    decimals = 0 if float(value).is_integer() else (1 if round(value * 10, 6).is_integer() else 2)
    shown = Numbers(current_language()).number(value, decimals)
    return ngettext("%(hours)s hour", "%(hours)s hours", 1 if value == 1 else 2, hours=shown)


def _role_words(role: str) -> str:
    """What a resident did in a role, in their own voice ("I organised it")."""
    return str(ROLE_CHOICES.get(role, role))


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
                           removing=removing, kind_name=_kind_name, hours_text=_hours_text,
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
