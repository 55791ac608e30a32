"""The page "Activiteiten": a worker records what residents did, on a phone, in under a minute.

Thin routes over ``services.activities``. The list shows the totals, a big
"Activiteit vastleggen" button, the activities (newest first) and per resident
how many activities, hours and which roles. The form is one screen: the date
(today), the kind as big buttons, the hours, an optional title, then every
resident as a big row to tick with a role beside it; "the same residents as
last time" ticks the previous activity's residents with their roles. No
JavaScript is needed anywhere.

A second click on save must not record the activity twice: the form carries a
one-time key (``nonce``) that the service remembers with the activity it made.
Deleting asks first (a page of its own, so it works without JavaScript). Admins
and workers only (``project.residents``): the page names residents.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Callable

from babel.numbers import format_decimal
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext, pgettext

from surveyhub.db import get_session
from surveyhub.i18n import current_language
from surveyhub.models import ACTIVITY_KINDS, ACTIVITY_ROLES
from surveyhub.services import activities as service
from surveyhub.services import activity_values, contributions
from surveyhub.services.errors import NotFound, UserError
from surveyhub.web.errors import user_message
from surveyhub.web.session_user import requires, service_context, today

bp = Blueprint("activities", __name__)

CAPABILITY = service.CAPABILITY
DEFAULT_HOURS = "2"
#: From this many residents the form shows them in letters to open (a phone need not scroll past all of them).
GROUP_FROM = 60
FIELDS = ("happened_on", "kind", "hours", "title")


@bp.app_template_filter("activity_hours")
def activity_hours(value: float | None) -> str:
    """Hours as a worker writes them: "2", "1,5" (Dutch) or "1.5"."""
    return "" if value is None else format_decimal(value, "#,##0.##", locale=current_language())


@bp.app_template_global()
def activity_kind(kind: str) -> str:
    """What a kind of activity is called on screen (other pages that show activities may use it too)."""
    labels = {"meeting": pgettext("activity kind", "Meeting"), "workday": pgettext("activity kind", "Work day"),
              "event": pgettext("activity kind", "Event"), "training": pgettext("activity kind", "Training"),
              "other": pgettext("activity kind", "Other")}
    return labels.get(kind, kind)


@bp.app_template_global()
def activity_role(role: str) -> str:
    """What a role at an activity is called on screen."""
    labels = {"participant": pgettext("activity role", "Participant"),
              "volunteer": pgettext("activity role", "Volunteer"),
              "organiser": pgettext("activity role", "Organiser"),
              "chair": pgettext("activity role", "Chair or spokesperson")}
    return labels.get(role, role)


@bp.route("/projects/<slug>/activities")
@requires(CAPABILITY)
def index(slug: str):
    ctx = service_context()
    project = ctx.project(slug, CAPABILITY)
    return render_template("activities/index.html", project=project, overview=service.overview(ctx, slug),
                           to_confirm=contributions.pending_count(ctx.session, project.id))


@bp.route("/projects/<slug>/activities/new", methods=["GET", "POST"])
@requires(CAPABILITY)
def new(slug: str):
    ctx = service_context()
    if request.method == "GET":
        ticked = service.previous(ctx, slug) if request.args.get("same") == "1" else {}
        values = {"happened_on": today().isoformat(), "kind": "meeting", "hours": DEFAULT_HOURS, "title": "",
                  "nonce": secrets.token_urlsafe(16)}
        return _form(slug, values, ticked)
    values, ticked = _posted()
    errors = _field_errors(values)
    if not errors:
        try:
            recorded = service.record(ctx, slug, **_facts(values), participants=_entries(ticked),
                                      nonce=values["nonce"] or None)
        except UserError as exc:
            get_session().rollback()
            errors["form"] = user_message(exc)
        else:
            get_session().commit()
            flash(ngettext("Activity recorded: %(num)s resident", "Activity recorded: %(num)s residents",
                           recorded["residents"]))
            return redirect(url_for("activities.index", slug=slug))
    return _form(slug, values, ticked, errors=errors, status=400)


@bp.route("/projects/<slug>/activities/<int:activity>/edit", methods=["GET", "POST"])
@requires(CAPABILITY)
def edit(slug: str, activity: int):
    ctx = service_context()
    if request.method == "GET":
        stored = service.detail(ctx, slug, activity)
        values = {"happened_on": stored["date"].isoformat(), "kind": stored["kind"],
                  "hours": activity_hours(stored["hours"]), "title": stored["title"] or "", "nonce": ""}
        # A resident's contribution still waiting is confirmed on its own list, not by saving this form.
        ticked = {entry["code"]: entry["role"] for entry in stored["entries"] if entry["confirmed"]}
        return _form(slug, values, ticked, activity=activity)
    values, ticked = _posted()
    errors = _field_errors(values)
    if not errors:
        try:
            saved = service.update(ctx, slug, activity, **_facts(values),
                                   participants=_entries(ticked, _own_hours(ctx, slug, activity)))
        except UserError as exc:
            get_session().rollback()
            errors["form"] = user_message(exc)
        else:
            get_session().commit()
            flash(ngettext("Activity saved: %(num)s resident", "Activity saved: %(num)s residents",
                           saved["residents"]))
            return redirect(url_for("activities.index", slug=slug))
    return _form(slug, values, ticked, errors=errors, activity=activity, status=400)


@bp.route("/projects/<slug>/activities/<int:activity>/delete", methods=["GET", "POST"])
@requires(CAPABILITY)
def delete(slug: str, activity: int):
    """GET asks "are you sure?"; POST deletes. A second POST finds it gone and says so."""
    ctx = service_context()
    if request.method == "GET":
        return render_template("activities/delete.html", project=ctx.project(slug, CAPABILITY),
                               activity=service.detail(ctx, slug, activity))
    try:
        service.delete(ctx, slug, activity)
    except NotFound:
        get_session().rollback()
        flash(_("This activity was deleted already."), "error")
    except UserError as exc:
        get_session().rollback()
        flash(user_message(exc), "error")
    else:
        get_session().commit()
        flash(_("Activity deleted."))
    return redirect(url_for("activities.index", slug=slug))


# --- the form ----------------------------------------------------------------------------------------

def _form(slug: str, values: dict, ticked: dict[str, str], *, errors: dict | None = None,
          activity: int | None = None, status: int = 200):
    ctx = service_context()
    # Residents who said themselves they were at this activity: shown with their role, ticking confirms it.
    waiting = {} if activity is None else {entry["code"]: entry["role"] for entry in
                                           service.detail(ctx, slug, activity)["entries"] if not entry["confirmed"]}
    residents = [{**resident, "n": n, "ticked": resident["code"] in ticked, "waiting": resident["code"] in waiting,
                  "role": ticked.get(resident["code"], waiting.get(resident["code"], "participant"))}
                 for n, resident in enumerate(service.roster(ctx, slug), start=1)]
    has_previous = activity is None and bool(service.previous(ctx, slug))
    body = render_template("activities/form.html", project=ctx.project(slug, CAPABILITY), values=values,
                           residents=residents, groups=_by_letter(residents) if len(residents) >= GROUP_FROM else [],
                           errors=errors or {}, activity=activity, has_previous=has_previous,
                           kinds=ACTIVITY_KINDS, roles=ACTIVITY_ROLES)
    return body, status


def _by_letter(residents: list[dict]) -> list[tuple[str, list[dict]]]:
    """The roster (sorted by name) in groups by first letter ("É" with "E"; a digit or sign under "#")."""
    groups: dict[str, list[dict]] = {}
    for resident in residents:
        first = unicodedata.normalize("NFKD", (resident["name"] or resident["code"]).strip()[:1]).upper()[:1]
        groups.setdefault(first if first.isalpha() else "#", []).append(resident)
    return sorted(groups.items(), key=lambda item: (item[0] == "#", item[0]))


def _posted() -> tuple[dict, dict[str, str]]:
    """The form's values as typed, and the ticked residents with their roles (``{code: role}``)."""
    values = {name: request.form.get(name, "").strip() for name in (*FIELDS, "nonce")}
    ticked = {}
    for code in request.form.getlist("resident"):
        role = request.form.get(f"role:{code}", "participant")
        ticked[code] = role if role in ACTIVITY_ROLES else "participant"
    return values, ticked


def _field_errors(values: dict) -> dict[str, str]:
    """A message beside each field the service would refuse (the service checks again when saving)."""
    checks: dict[str, Callable] = {"happened_on": activity_values.parse_day, "kind": activity_values.parse_kind,
                                   "hours": activity_values.parse_hours, "title": activity_values.parse_title}
    errors = {}
    for name, check in checks.items():
        if name == "happened_on" and not values[name]:
            errors[name] = _("Choose the date of the activity.")
            continue
        try:
            check(values[name])
        except UserError as exc:
            errors[name] = user_message(exc)
    return errors


def _facts(values: dict) -> dict:
    return {name: values[name] for name in FIELDS}


def _entries(ticked: dict[str, str], own_hours: dict[str, float] | None = None) -> list[service.Entry]:
    """What the service takes; ``own_hours`` keeps the hours a resident gave apart from the activity's
    (recorded by the command line, an import or the resident), which the form does not show."""
    own_hours = own_hours or {}
    return [(code, role, own_hours.get(code)) for code, role in ticked.items()]


def _own_hours(ctx, slug: str, activity: int) -> dict[str, float]:
    return {entry["code"]: entry["hours"] for entry in service.detail(ctx, slug, activity)["entries"]
            if entry["hours"] is not None}
