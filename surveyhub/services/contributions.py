"""What a resident did, seen from their own link, and what they add themselves for a worker to confirm.

A resident sees the activities a worker recorded for them, and may add a contribution:
either "I was at this activity too" (one of the project's recent confirmed activities) or
"something else" (a date, a kind, a short description, hours), each with the role they had
and a note in their own words. Such an entry is stored unconfirmed
(``ActivityParticipant.confirmed_at`` None; for "something else" also a proposed
``Activity`` with ``confirmed_at`` None) and counts nowhere (``participation.counted``)
until a worker of the project confirms it. A worker who does not confirm it removes it.

Plain values in and out. The resident's side takes the participant and project a personal
link resolved to (``resident.open_session``), never a slug; the worker's side asks the
permission matrix (``project.residents``). Adding the same thing twice (a double click, the
back button, a second try) is refused with "already on your list", never stored twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveyhub.models import ACTIVITY_KINDS, ACTIVITY_ROLES, Activity, ActivityParticipant, Participant, Project
from surveyhub.models._types import utcnow
from surveyhub.locale import iso_utc
from surveyhub.services import access, audit, participation
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Conflict, Invalid, NotFound
from surveyhub.services.participation import Intensity
from surveyhub.text import clean

#: How many of the project's latest activities a resident may pick from.
OFFERED = 20
#: How far back a resident may date "something else" (older things are for the worker to record).
OLDEST_DAYS = 2 * 365
MAX_DESCRIPTION = 200
MAX_NOTE = 300
MAX_HOURS = 24.0
#: The largest id an integer column holds on both backends.
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Entry:
    """One activity on a resident's own list (``id`` is the ``ActivityParticipant``)."""

    id: int
    happened_on: date
    kind: str
    title: str | None
    role: str
    #: The resident's hours at it (their own where recorded, else the activity's).
    hours: float
    note: str | None
    confirmed: bool
    #: The resident proposed the activity itself ("something else").
    proposed: bool
    #: Who recorded it: "worker", "import" or "resident".
    source: str
    added_at: datetime


@dataclass(frozen=True)
class MyRecord:
    """What a resident's "What I did" page shows: confirmed entries, entries waiting, and the totals."""

    done: list[Entry]
    waiting: list[Entry]
    #: From confirmed records only (``participation.of``).
    intensity: Intensity


@dataclass(frozen=True)
class Offer:
    """A project activity a resident may say they were at: what, when, what kind; never who else came."""

    activity_id: int
    happened_on: date
    kind: str
    title: str | None


def _entries(session: Session, query) -> list[Entry]:
    hours = func.coalesce(ActivityParticipant.hours, Activity.hours)
    rows = session.execute(query.add_columns(hours))
    return [Entry(id=link.id, happened_on=activity.happened_on, kind=activity.kind, title=activity.title,
                  role=link.role, hours=float(total or 0.0), note=link.note,
                  confirmed=link.confirmed_at is not None and activity.confirmed_at is not None,
                  proposed=activity.proposed_by_id is not None and activity.proposed_by_id == link.participant_id,
                  source=link.source, added_at=link.created_at)
            for link, activity, total in rows]


def _of_resident(participant_id: int, project_id: int):
    return (select(ActivityParticipant, Activity).join(Activity, Activity.id == ActivityParticipant.activity_id)
            .where(ActivityParticipant.participant_id == participant_id, Activity.project_id == project_id))


def my_record(session: Session, participant_id: int, project_id: int) -> MyRecord:
    """The resident's activities, newest first: confirmed ones, then those waiting for a worker."""
    entries = _entries(session, _of_resident(participant_id, project_id)
                       .order_by(Activity.happened_on.desc(), Activity.id.desc()))
    return MyRecord(done=[e for e in entries if e.confirmed], waiting=[e for e in entries if not e.confirmed],
                    intensity=participation.of(session, project_id, participant_id))


def my_entries(session: Session, participant_id: int) -> list[dict]:
    """Every activity entry of a participant as JSON-ready values, for their personal data download."""
    query = (select(ActivityParticipant, Activity).join(Activity, Activity.id == ActivityParticipant.activity_id)
             .where(ActivityParticipant.participant_id == participant_id)
             .order_by(Activity.happened_on, ActivityParticipant.id))
    return [{"date": e.happened_on.isoformat(), "kind": e.kind, "title": e.title, "role": e.role, "hours": e.hours,
             "note": e.note, "confirmed": e.confirmed, "recorded_by": e.source, "added_at": iso_utc(e.added_at)}
            for e in _entries(session, query)]


def offers(session: Session, participant_id: int, project_id: int, *, today: date | None = None,
           limit: int = OFFERED) -> list[Offer]:
    """The project's latest confirmed activities up to today that the resident is not on yet.

    Never one a resident proposed: its title is that resident's own words about what they did,
    not a group activity to join.
    """
    today = today or date.today()
    mine = select(ActivityParticipant.activity_id).where(ActivityParticipant.participant_id == participant_id)
    rows = session.execute(
        select(Activity.id, Activity.happened_on, Activity.kind, Activity.title)
        .where(Activity.project_id == project_id, Activity.confirmed_at.is_not(None),
               Activity.proposed_by_id.is_(None), Activity.happened_on <= today, Activity.id.not_in(mine))
        .order_by(Activity.happened_on.desc(), Activity.id.desc()).limit(limit))
    return [Offer(*row) for row in rows]


# --- the resident adds ---------------------------------------------------------------------------

def _open_project(session: Session, project_id: int) -> Project:
    project = session.get_one(Project, project_id)
    if project.archived_at is not None or project.purged_at is not None:
        raise Invalid(N_("This project has ended. You can no longer add anything."))
    return project


def _role(role: str) -> str:
    if role not in ACTIVITY_ROLES:
        raise Invalid(N_("Choose what you did there."))
    return role


def _note(note: str | None) -> str | None:
    text = " ".join(clean(note or "").split())  # NUL and control characters: PostgreSQL refuses NUL
    if len(text) > MAX_NOTE:
        raise Invalid(N_("Your note is too long. Use at most %(n)s characters."), n=MAX_NOTE)
    return text or None


def add_to_activity(session: Session, participant_id: int, project_id: int, activity_id: int, role: str,
                    note: str | None = None) -> Entry:
    """The resident was at one of the project's confirmed activities (``offers``); waits for a worker.

    :raises Conflict: the resident is already on that activity (recorded by a worker, or added before).
    :raises Invalid: not one of the project's confirmed activities, or a value out of bounds.
    """
    _open_project(session, project_id)
    role, note = _role(role), _note(note)
    activity = session.scalar(select(Activity).where(Activity.id == activity_id, Activity.project_id == project_id,
                                                     Activity.confirmed_at.is_not(None)))
    if activity is None:
        raise Invalid(N_("Choose one of the activities on the list."))
    try:
        with session.begin_nested():  # the unique key decides between two clicks at once
            entry_id = _insert_waiting(session, activity.id, participant_id, role, note)
    except IntegrityError:
        raise Conflict(N_("This is already on your list.")) from None
    return _entry(session, entry_id)


def _insert_waiting(session: Session, activity_id: int, participant_id: int, role: str, note: str | None) -> int:
    """An unconfirmed entry. A Core insert: the ORM would give an explicit ``confirmed_at=None`` its default (now)."""
    return session.execute(insert(ActivityParticipant).values(
        activity_id=activity_id, participant_id=participant_id, role=role, note=note, source="resident",
        confirmed_at=None).returning(ActivityParticipant.id)).scalar_one()


def propose(session: Session, participant_id: int, project_id: int, *, happened_on: date, kind: str,
            description: str, hours: float, role: str, note: str | None = None,
            today: date | None = None) -> Entry:
    """Something else the resident did: a proposed activity with them in it; waits for a worker.

    The same proposal again (same day, kind and description) is a Conflict, also when two
    requests send it at once: the resident's row is locked first.
    """
    _open_project(session, project_id)
    role, note = _role(role), _note(note)
    title = " ".join(clean(description or "").split())
    if not title:
        raise Invalid(N_("Write in a few words what you did."))
    if len(title) > MAX_DESCRIPTION:
        raise Invalid(N_("Your description is too long. Use at most %(n)s characters."), n=MAX_DESCRIPTION)
    if kind not in ACTIVITY_KINDS:
        raise Invalid(N_("Choose what kind of activity it was."))
    today = today or date.today()
    if happened_on > today or happened_on < today - timedelta(days=OLDEST_DAYS):
        raise Invalid(N_("Choose a date from the past two years, up to today."))
    if hours is None or not 0 < hours <= MAX_HOURS:
        raise Invalid(N_("Fill in the hours: more than 0, at most %(n)s."), n=int(MAX_HOURS))
    _lock(session, participant_id)
    same = session.scalar(select(Activity.id).where(
        Activity.project_id == project_id, Activity.proposed_by_id == participant_id,
        Activity.happened_on == happened_on, Activity.kind == kind, func.lower(Activity.title) == title.lower()))
    if same is not None:
        raise Conflict(N_("This is already on your list."))
    activity_id = session.execute(insert(Activity).values(
        project_id=project_id, happened_on=happened_on, kind=kind, title=title, hours=round(float(hours), 2),
        proposed_by_id=participant_id, confirmed_at=None).returning(Activity.id)).scalar_one()
    return _entry(session, _insert_waiting(session, activity_id, participant_id, role, note))


def _lock(session: Session, participant_id: int) -> None:
    """Serialise one resident's additions: a write to their row (SQLite: the write lock; PostgreSQL: the row)."""
    session.execute(update(Participant).where(Participant.id == participant_id)
                    .values(code=Participant.code))


def _entry(session: Session, entry_id: int) -> Entry:
    [entry] = _entries(session, select(ActivityParticipant, Activity)
                       .join(Activity, Activity.id == ActivityParticipant.activity_id)
                       .where(ActivityParticipant.id == entry_id))
    return entry


# --- the worker confirms -------------------------------------------------------------------------

@dataclass(frozen=True)
class Pending:
    """A resident's contribution waiting for a worker: who, what, and the resident's own words."""

    id: int
    code: str
    name: str | None
    happened_on: date
    kind: str
    title: str | None
    role: str
    hours: float
    note: str | None
    #: The resident proposed the activity itself (it counts from the confirmation on).
    proposed: bool


def _pending_query(project_id: int):
    hours = func.coalesce(ActivityParticipant.hours, Activity.hours)
    return (select(ActivityParticipant.id, Participant.code, Participant.display_name, Activity.happened_on,
                   Activity.kind, Activity.title, ActivityParticipant.role, hours, ActivityParticipant.note,
                   Activity.proposed_by_id == ActivityParticipant.participant_id)
            .join(Activity, Activity.id == ActivityParticipant.activity_id)
            .join(Participant, Participant.id == ActivityParticipant.participant_id)
            .where(Activity.project_id == project_id, ActivityParticipant.confirmed_at.is_(None)))


def _pending(row) -> Pending:
    entry_id, code, name, happened_on, kind, title, role, hours, note, proposed = row
    return Pending(id=entry_id, code=code, name=name, happened_on=happened_on, kind=kind, title=title, role=role,
                   hours=float(hours or 0.0), note=note, proposed=bool(proposed))


def pending(session: Session, actor: Actor, slug: str) -> list[Pending]:
    """Every contribution of the project's residents waiting for a worker, oldest first."""
    project = access.project(session, actor, slug, "project.residents")
    return [_pending(row) for row in session.execute(_pending_query(project.id)
                                                      .order_by(ActivityParticipant.created_at,
                                                                ActivityParticipant.id))]


def pending_count(session: Session, project_id: int) -> int:
    """How many contributions wait (for the "N to confirm" link on the worker's activities page)."""
    return session.scalar(select(func.count(ActivityParticipant.id))
                          .join(Activity, Activity.id == ActivityParticipant.activity_id)
                          .where(Activity.project_id == project_id, ActivityParticipant.confirmed_at.is_(None))) or 0


def get_pending(session: Session, actor: Actor, slug: str, entry_id: int) -> Pending:
    """One waiting contribution of the project; NotFound when it is not (or no longer) waiting."""
    project = access.project(session, actor, slug, "project.residents")
    if not 0 < entry_id <= MAX_ID:  # a number the database cannot hold is no entry (not a 500)
        raise NotFound(N_("This contribution is no longer waiting."))
    row = session.execute(_pending_query(project.id).where(ActivityParticipant.id == entry_id)).first()
    if row is None:
        raise NotFound(N_("This contribution is no longer waiting."))
    return _pending(row)


def confirm(session: Session, actor: Actor, slug: str, entry_id: int) -> Pending:
    """It counts from now: the entry (and the activity the resident proposed) confirmed by the actor; audited."""
    found = get_pending(session, actor, slug, entry_id)
    now = utcnow()
    link = session.get_one(ActivityParticipant, entry_id)
    done = session.execute(update(ActivityParticipant)
                           .where(ActivityParticipant.id == entry_id, ActivityParticipant.confirmed_at.is_(None))
                           .values(confirmed_at=now, confirmed_by_id=actor.user_id)
                           .execution_options(synchronize_session=False))
    if getattr(done, "rowcount", 1) != 1:
        raise NotFound(N_("This contribution is no longer waiting."))  # a colleague was quicker
    session.execute(update(Activity).where(Activity.id == link.activity_id, Activity.confirmed_at.is_(None))
                    .values(confirmed_at=now).execution_options(synchronize_session=False))
    session.expire(link)
    _audit(session, actor, slug, "contribution.confirm", found, link.activity_id)
    return found


def reject(session: Session, actor: Actor, slug: str, entry_id: int) -> Pending:
    """Not confirmed: the entry is removed, and the activity the resident proposed when no one else is on it."""
    found = get_pending(session, actor, slug, entry_id)
    activity_id = session.scalar(select(ActivityParticipant.activity_id).where(ActivityParticipant.id == entry_id))
    session.execute(delete(ActivityParticipant).where(ActivityParticipant.id == entry_id,
                                                      ActivityParticipant.confirmed_at.is_(None))
                    .execution_options(synchronize_session=False))
    others = select(ActivityParticipant.id).where(ActivityParticipant.activity_id == Activity.id).exists()
    session.execute(delete(Activity).where(and_(Activity.id == activity_id, Activity.confirmed_at.is_(None),
                                                ~others)).execution_options(synchronize_session=False))
    _audit(session, actor, slug, "contribution.reject", found, activity_id)
    return found


def _audit(session: Session, actor: Actor, slug: str, action: str, found: Pending, activity_id: int | None) -> None:
    """Who decided about whose contribution; never the resident's note (their words stay out of the trail)."""
    project_id = session.scalar(select(Project.id).where(Project.slug == slug,
                                                         Project.organisation_id == actor.organisation_id))
    audit.record(session, action, actor=actor, target=f"project:{slug}/{found.code}", project_id=project_id,
                 details={"activity": activity_id, "role": found.role, "proposed": found.proposed})


def erase_proposals(session: Session, participant_id: int) -> int:
    """Remove the resident's own words in the activities they proposed, for erasure; returns activities removed.

    One nobody confirmed, or confirmed with nobody else on it, goes whole (it was their contribution
    alone); one a worker put others on stays without its title (the description was theirs).
    """
    others = (select(ActivityParticipant.id).where(ActivityParticipant.activity_id == Activity.id,
                                                   ActivityParticipant.participant_id != participant_id).exists())
    result = session.execute(delete(Activity).where(Activity.proposed_by_id == participant_id,
                                                    (Activity.confirmed_at.is_(None)) | ~others)
                             .execution_options(synchronize_session=False))
    session.execute(update(Activity).where(Activity.proposed_by_id == participant_id).values(title=None)
                    .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
