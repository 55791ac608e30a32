"""Activities as a worker records them: what happened, when, how long, and who took part in which role.

A worker records an activity of a project (a meeting, a work day, an event, a
training) on the page "Activiteiten" or with ``surveyhub activities add``, and
ticks the residents who took part, each in a role (participant, volunteer,
organiser, chair); what they type is read by :mod:`surveyhub.services.activity_values`.
A file of past activities comes in through :mod:`surveyhub.services.activity_import`.
Residents' own contributions are :mod:`surveyhub.services.contributions`' business;
this module leaves an entry a resident made alone unless the worker ticks that
resident, which confirms it.

How much each resident did is read in one place, ``services.participation``:
:func:`residents_profile` shows that reading and never counts again.

Admins and workers only (``project.residents``: the list names residents); to a
funder every call is a 404. Every change is in the audit trail
(``activity.record``, ``activity.update``, ``activity.delete``) with the
activity's id and how many residents, never a resident's code or name. Values
in and out are plain: dates, strings, numbers, TypedDicts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from surveyhub.models import ACTIVITY_ROLES, Activity, ActivityParticipant, AuditEvent, Participant
from surveyhub.models._types import utcnow
from surveyhub.services import audit, participation
from surveyhub.services.context import ServiceContext
from surveyhub.services.errors import N_, Invalid, NotFound
from surveyhub.services.activity_values import (codes_of, find_code, parse_day, parse_hours, parse_kind, parse_role,
                                                parse_title)
from surveyhub.services.projects import refuse_if_archived

CAPABILITY = "project.residents"
#: How long a form's one-time key is remembered: a second click on save comes within seconds.
NONCE_DAYS = 2
#: The largest id an integer column holds on both backends.
MAX_ID = 2**31 - 1

#: One resident at an activity: ``(code, role, own hours or None)``.
Entry = tuple[str, "str | None", "float | str | None"]


class ActivityRow(TypedDict):
    id: int
    date: date
    kind: str
    title: str | None
    hours: float
    #: Residents who took part (confirmed entries).
    residents: int
    #: Residents per role, e.g. {"participant": 5, "organiser": 1}, in ``ACTIVITY_ROLES`` order.
    roles: dict[str, int]


class EntryRow(TypedDict):
    code: str
    name: str | None
    role: str
    #: The resident's own hours where they differ from the activity's.
    hours: float | None
    source: str
    #: False for a resident's own contribution still waiting for a worker (``services.contributions``).
    confirmed: bool


class ActivityDetail(ActivityRow):
    entries: list[EntryRow]


class ProfileRow(TypedDict):
    code: str
    name: str | None
    activities: int
    hours: float
    roles: tuple[str, ...]
    led: int


class Totals(TypedDict):
    activities: int
    #: Hours the activities lasted, added up.
    hours: float
    #: Residents who took part in at least one activity.
    residents: int
    #: Hours residents gave, added up (each resident's hours at each activity).
    resident_hours: float


class Overview(TypedDict):
    totals: Totals
    activities: list[ActivityRow]
    profile: list[ProfileRow]


class Resident(TypedDict):
    code: str
    name: str | None


# --- recording ---------------------------------------------------------------------------------------

def record(ctx: ServiceContext, slug: str, *, happened_on, kind: str, hours, title: str | None = None,
           participants: Sequence[Entry] = (), source: str = "worker", nonce: str | None = None) -> ActivityDetail:
    """Record an activity and who took part; the caller commits.

    :param participants: ``(code, role, own hours or None)`` per resident; a code appears once.
    :param nonce: the form's one-time key: a second save with the same key (a double click, the
        back button) records nothing and returns the activity the first one made.
    :raises Invalid: naming the first value that is not acceptable; nothing is stored then.
    """
    project = ctx.project(slug, CAPABILITY)
    refuse_if_archived(project)
    values = _checked(happened_on, kind, hours, title)
    wanted = _entries(ctx.session, project.id, participants)
    if nonce:
        serialise(ctx.session, project.id)
        earlier = _by_nonce(ctx.session, project.id, nonce)
        if earlier is not None:
            return detail(ctx, slug, earlier)
    activity = Activity(project_id=project.id, created_by_id=ctx.actor.user_id, **values)
    ctx.session.add(activity)
    ctx.session.flush()
    for participant_id, role, own_hours in wanted:
        ctx.session.add(ActivityParticipant(activity_id=activity.id, participant_id=participant_id, role=role,
                                            hours=own_hours, source=source, confirmed_by_id=ctx.actor.user_id))
    ctx.session.flush()
    details: dict = {"activity": activity.id, "kind": activity.kind, "residents": len(wanted)}
    if nonce:
        details["nonce"] = nonce
    audit.record(ctx.session, "activity.record", actor=ctx.actor, project_id=project.id,
                 target=f"project:{project.slug}/activity:{activity.id}", details=details)
    return detail(ctx, slug, activity.id)


def update(ctx: ServiceContext, slug: str, activity_id: int, *, happened_on, kind: str, hours,
           title: str | None = None, participants: Sequence[Entry] = ()) -> ActivityDetail:
    """Change an activity: its facts, and who took part (the list given replaces the one stored).

    A resident left off loses their entry at this activity; one ticked who had added the activity
    themselves keeps their own words, and their entry counts from now on (the worker confirmed it).
    """
    project = ctx.project(slug, CAPABILITY)
    refuse_if_archived(project)
    activity = _activity(ctx.session, project.id, activity_id)
    values = _checked(happened_on, kind, hours, title)
    wanted = {participant_id: (role, own) for participant_id, role, own in
              _entries(ctx.session, project.id, participants)}
    for name, value in values.items():
        setattr(activity, name, value)
    if activity.confirmed_at is None:
        activity.confirmed_at = utcnow()
    for entry in list(activity.participants):
        if entry.participant_id not in wanted:
            if entry.confirmed_at is not None:  # a resident's unconfirmed contribution is not the worker's to drop here
                activity.participants.remove(entry)
            continue
        entry.role, entry.hours = wanted.pop(entry.participant_id)
        if entry.confirmed_at is None:
            entry.confirmed_at, entry.confirmed_by_id = utcnow(), ctx.actor.user_id
    for participant_id, (role, own) in wanted.items():
        activity.participants.append(ActivityParticipant(participant_id=participant_id, role=role, hours=own,
                                                         source="worker", confirmed_by_id=ctx.actor.user_id))
    ctx.session.flush()
    row = detail(ctx, slug, activity.id)
    audit.record(ctx.session, "activity.update", actor=ctx.actor, project_id=project.id,
                 target=f"project:{project.slug}/activity:{activity.id}",
                 details={"activity": activity.id, "kind": activity.kind, "residents": row["residents"]})
    return row


def delete(ctx: ServiceContext, slug: str, activity_id: int) -> ActivityRow:
    """Delete an activity and every entry at it; returns what it was (for the page's message)."""
    project = ctx.project(slug, CAPABILITY)
    refuse_if_archived(project)
    activity = _activity(ctx.session, project.id, activity_id)
    row = _row_of(ctx.session, activity)
    ctx.session.delete(activity)
    ctx.session.flush()
    audit.record(ctx.session, "activity.delete", actor=ctx.actor, project_id=project.id,
                 target=f"project:{project.slug}/activity:{activity_id}",
                 details={"activity": activity_id, "kind": row["kind"], "residents": row["residents"]})
    return row


# --- reading -----------------------------------------------------------------------------------------

def list_for_project(ctx: ServiceContext, slug: str) -> list[ActivityRow]:
    """The project's recorded activities, newest first (a resident's proposal waiting for a worker is left out)."""
    project = ctx.project(slug, CAPABILITY)
    activities = ctx.session.scalars(
        select(Activity).where(Activity.project_id == project.id, Activity.confirmed_at.is_not(None))
        .order_by(Activity.happened_on.desc(), Activity.id.desc())).all()
    roles = _roles_per_activity(ctx.session, [a.id for a in activities])
    return [_row(activity, roles.get(activity.id, {})) for activity in activities]


def detail(ctx: ServiceContext, slug: str, activity_id: int) -> ActivityDetail:
    """One activity with every resident at it (a contribution still waiting for the worker included)."""
    project = ctx.project(slug, CAPABILITY)
    activity = _activity(ctx.session, project.id, activity_id)
    people = {pid: (code, name) for pid, code, name in ctx.session.execute(
        select(Participant.id, Participant.code, Participant.display_name)
        .where(Participant.id.in_([entry.participant_id for entry in activity.participants])))}
    entries: list[EntryRow] = [
        {"code": people[e.participant_id][0], "name": people[e.participant_id][1], "role": e.role,
         "hours": e.hours, "source": e.source, "confirmed": e.confirmed_at is not None}
        for e in activity.participants if e.participant_id in people]
    row = _row_of(ctx.session, activity)
    return {**row, "entries": entries}


def residents_profile(ctx: ServiceContext, slug: str) -> list[ProfileRow]:
    """Per resident who took part: activities, hours and roles (``services.participation``), most active first."""
    project = ctx.project(slug, CAPABILITY)
    intensity = participation.by_participant(ctx.session, [project.id])
    people = ctx.session.execute(select(Participant.id, Participant.code, Participant.display_name)
                                 .where(Participant.id.in_(list(intensity)))).all()
    rows: list[ProfileRow] = [
        {"code": code, "name": name, "activities": intensity[pid].activities, "hours": intensity[pid].hours,
         "roles": intensity[pid].roles, "led": intensity[pid].led} for pid, code, name in people]
    return sorted(rows, key=lambda r: (-r["activities"], -r["hours"], (r["name"] or r["code"]).casefold()))


def overview(ctx: ServiceContext, slug: str) -> Overview:
    """What the activities page shows: totals, the list (newest first) and the per-resident profile."""
    activities = list_for_project(ctx, slug)
    profile = residents_profile(ctx, slug)
    totals: Totals = {"activities": len(activities), "hours": round(sum(a["hours"] for a in activities), 2),
                      "residents": len(profile), "resident_hours": round(sum(p["hours"] for p in profile), 2)}
    return {"totals": totals, "activities": activities, "profile": profile}


def roster(ctx: ServiceContext, slug: str) -> list[Resident]:
    """The project's residents to tick, by name (or code where there is none)."""
    project = ctx.project(slug, CAPABILITY)
    people = ctx.session.execute(select(Participant.code, Participant.display_name)
                                 .where(Participant.project_id == project.id)).all()
    return sorted(({"code": code, "name": name} for code, name in people),
                  key=lambda r: ((r["name"] or r["code"]).casefold(), r["code"]))


def previous(ctx: ServiceContext, slug: str) -> dict[str, str]:
    """The residents of the activity recorded last, with their roles (``{code: role}``): "the same as last time"."""
    project = ctx.project(slug, CAPABILITY)
    last = ctx.session.scalar(select(Activity.id).where(Activity.project_id == project.id,
                                                        Activity.confirmed_at.is_not(None))
                              .order_by(Activity.created_at.desc(), Activity.id.desc()).limit(1))
    if last is None:
        return {}
    return dict(ctx.session.execute(
        select(Participant.code, ActivityParticipant.role)
        .join(Participant, Participant.id == ActivityParticipant.participant_id)
        .where(ActivityParticipant.activity_id == last, ActivityParticipant.confirmed_at.is_not(None))).all())


# --- helpers -----------------------------------------------------------------------------------------

def _checked(happened_on, kind, hours, title) -> dict:
    return {"happened_on": parse_day(happened_on), "kind": parse_kind(kind), "hours": parse_hours(hours),
            "title": parse_title(title)}


def _entries(session: Session, project_id: int, participants: Iterable[Entry]) -> list[tuple[int, str, float | None]]:
    """``(participant id, role, own hours)`` per entry, checked; Invalid for an unknown or repeated resident."""
    known = codes_of(session, project_id)
    seen: set[int] = set()
    found = []
    for code, role, own in participants:
        participant_id = find_code(known, str(code or ""))
        if participant_id in seen:
            raise Invalid(N_("resident %(code)r is listed twice; a resident takes part in an activity once"),
                          code=code)
        seen.add(participant_id)
        found.append((participant_id, parse_role(role), None if own in (None, "") else parse_hours(own)))
    return found


def serialise(session: Session, project_id: int) -> None:
    """Let saves of one project's activities wait for each other (a row lock on PostgreSQL, the write
    lock on SQLite), so the second of two clicks reads the first one's key after it committed, and
    the second of two runs of one import finds the first one's activities."""
    from surveyhub.models import Project
    session.execute(sql_update(Project).where(Project.id == project_id).values(id=Project.id)
                    .execution_options(synchronize_session=False))


def _by_nonce(session: Session, project_id: int, nonce: str) -> int | None:
    since = utcnow() - timedelta(days=NONCE_DAYS)
    for details in session.scalars(select(AuditEvent.details).where(
            AuditEvent.project_id == project_id, AuditEvent.action == "activity.record",
            AuditEvent.created_at >= since)):
        if details and details.get("nonce") == nonce:
            still = session.scalar(select(Activity.id).where(Activity.id == details.get("activity"),
                                                             Activity.project_id == project_id))
            if still is not None:
                return still
    return None


def _activity(session: Session, project_id: int, activity_id: int) -> Activity:
    if not 0 < activity_id <= MAX_ID:  # an id typed into the address that no integer column holds: not a 500
        raise NotFound(f"no activity {activity_id} in this project")
    activity = session.scalar(select(Activity).where(Activity.id == activity_id, Activity.project_id == project_id))
    if activity is None:
        raise NotFound(f"no activity {activity_id} in this project")
    return activity


def _roles_per_activity(session: Session, ids: list[int]) -> dict[int, dict[str, int]]:
    if not ids:
        return {}
    found: dict[int, Counter] = {}
    for activity_id, role, count in session.execute(
            select(ActivityParticipant.activity_id, ActivityParticipant.role, func.count(ActivityParticipant.id))
            .where(ActivityParticipant.activity_id.in_(ids), ActivityParticipant.confirmed_at.is_not(None))
            .group_by(ActivityParticipant.activity_id, ActivityParticipant.role)):
        found.setdefault(activity_id, Counter())[role] = int(count)
    return {aid: {role: roles[role] for role in ACTIVITY_ROLES if roles.get(role)} for aid, roles in found.items()}


def _row(activity: Activity, roles: dict[str, int]) -> ActivityRow:
    return {"id": activity.id, "date": activity.happened_on, "kind": activity.kind, "title": activity.title,
            "hours": activity.hours, "residents": sum(roles.values()), "roles": roles}


def _row_of(session: Session, activity: Activity) -> ActivityRow:
    return _row(activity, _roles_per_activity(session, [activity.id]).get(activity.id, {}))
