"""The audit trail: who did what, when, where.

Services record an event with the acting ``Actor`` (who and where) in the same
transaction as the change, so an event exists exactly when the change does.
Never a token, a personal link or answer text in ``target`` or ``details``.

Admins read the trail of their own organisation (``page``, ``all_events``),
filtered by user, event, project and period; ``web.audit_labels`` turns
the codes and times into what the admin page and its CSV show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from surveyhub.models import AuditEvent, Project, User
from surveyhub.services import access

if TYPE_CHECKING:
    from surveyhub.services.access import Actor


def record(session: Session, action: str, *, actor: Actor | None = None, organisation_id: int | None = None,
           user_id: int | None = None, target: str | None = None, project_id: int | None = None,
           details: dict | None = None, who: str | None = None, source: str | None = None) -> None:
    """Add one event. ``actor`` fills organisation, user, who and where unless given explicitly.

    :param action: what happened, a dotted code such as ``"participant.erase"``.
    :param target: what it happened to, e.g. ``"project:buurttuin/R-4K7P2"``; never a token or answer text.
    :param who: for events without an actor: ``"resident"``, ``"system"`` or an e-mail address.
    """
    if actor is not None:
        organisation_id = organisation_id if organisation_id is not None else actor.organisation_id
        user_id = user_id if user_id is not None else actor.user_id
        who = who or actor.label
        source = source or actor.source
    session.add(AuditEvent(action=action, organisation_id=organisation_id, user_id=user_id, target=target,
                           project_id=project_id, details=details, actor=who, source=source))


# --- downloads -------------------------------------------------------------------------------------

#: The download event of each kind of issued document; other kinds are ``download.document``.
DOCUMENT_DOWNLOADS = {"report": "download.report", "sheet": "download.link_sheet"}


def document_download(kind: str) -> str:
    """The action code for handing out an issued document of ``kind``."""
    return DOCUMENT_DOWNLOADS.get(kind, "download.document")


def download(session: Session, actor: Actor, action: str, slug: str, *, target: str | None = None,
             project_id: int | None = None, **details) -> None:
    """Record that ``actor`` downloaded something of project ``slug`` (details: format, kind, counts).

    The project is looked up within the actor's organisation (unless the caller gives its
    ``project_id``), so the event can be filtered by project.
    """
    if project_id is None:
        project_id = session.scalar(select(Project.id).where(Project.slug == slug,
                                                             Project.organisation_id == actor.organisation_id))
    record(session, action, actor=actor, target=target or f"project:{slug}", project_id=project_id,
           details={key: value for key, value in details.items() if value is not None} or None)


# --- reading the trail -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """Which events to show; ``since`` and ``until`` are UTC bounds (``until`` exclusive)."""

    user_id: int | None = None
    action: str | None = None
    project_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Event:
    """One event as the admin page and the CSV show it."""

    id: int
    created_at: datetime
    action: str
    who: str
    target: str | None
    project: str | None
    details: dict | None
    source: str | None


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    total: int
    number: int
    pages: int


@dataclass(frozen=True)
class Choices:
    """What the filters offer: the organisation's users, projects and the event codes seen."""

    users: list[tuple[int, str]]
    projects: list[tuple[int, str]]
    actions: list[str]


def period(start: date | None, end: date | None, tz: tzinfo) -> tuple[datetime | None, datetime | None]:
    """Local calendar days ``start``..``end`` (both included) as UTC bounds."""
    def midnight(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=tz).astimezone(timezone.utc)
    return (midnight(start) if start else None), (midnight(end + timedelta(days=1)) if end else None)


def count(session: Session, actor: Actor, filters: Filters) -> int:
    """How many of the actor's organisation's events match."""
    access.require(actor, "org.manage")
    query = _query(session, actor.organisation_id, filters)
    return session.scalar(select(func.count()).select_from(query.with_only_columns(AuditEvent.id)
                                                            .order_by(None).subquery())) or 0


def page(session: Session, actor: Actor, filters: Filters, number: int = 1, per_page: int = 100) -> EventPage:
    """One page of the actor's organisation's events, newest first."""
    query = _query(session, actor.organisation_id, filters)
    total = count(session, actor, filters)
    pages = max(1, -(-total // per_page))
    number = min(max(1, number), pages)
    rows = session.execute(query.limit(per_page).offset((number - 1) * per_page)).all()
    return EventPage(_events(session, actor.organisation_id, rows), total, number, pages)


def all_events(session: Session, actor: Actor, filters: Filters, batch: int = 5000) -> Iterator[Event]:
    """Every matching event, newest first, read in short transactions (for a streamed CSV)."""
    access.require(actor, "org.manage")
    last = None
    while True:
        query = _query(session, actor.organisation_id, filters).limit(batch)
        if last is not None:  # after the last one sent: events added meanwhile neither repeat nor shift the rest
            query = query.where(or_(AuditEvent.created_at < last.created_at,
                                    and_(AuditEvent.created_at == last.created_at, AuditEvent.id < last.id)))
        rows = session.execute(query).all()
        events = _events(session, actor.organisation_id, rows)
        session.commit()  # end the read: a long download never holds SQLite's lock
        yield from events
        if len(rows) < batch:
            return
        last = events[-1]


def choices(session: Session, actor: Actor) -> Choices:
    access.require(actor, "org.manage")
    org = actor.organisation_id
    users = session.execute(select(User.id, User.email).where(User.organisation_id == org).order_by(User.email))
    projects = session.execute(select(Project.id, Project.name).where(Project.organisation_id == org)
                               .order_by(Project.name))
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.organisation_id == org).distinct())
    return Choices([(u.id, u.email) for u in users], [(p.id, p.name) for p in projects], sorted(actions))


#: Plain columns, not ORM objects: an export of 100,000 events builds no identity map.
_COLUMNS = (AuditEvent.id, AuditEvent.created_at, AuditEvent.action, AuditEvent.actor, AuditEvent.target,
            AuditEvent.project_id, AuditEvent.details, AuditEvent.source)


def _query(session: Session, organisation_id: int, filters: Filters):
    query = (select(*_COLUMNS, User.email).outerjoin(User, User.id == AuditEvent.user_id)
             .where(AuditEvent.organisation_id == organisation_id)
             .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()))
    if filters.user_id is not None:
        query = query.where(AuditEvent.user_id == filters.user_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.since is not None:
        query = query.where(AuditEvent.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.created_at < filters.until)
    if filters.project_id is not None:
        query = query.where(_of_project(session, organisation_id, filters.project_id))
    return query


def _of_project(session: Session, organisation_id: int, project_id: int):
    """Events with this project id, or older events that name the project only in their target."""
    slug = session.scalar(select(Project.slug).where(Project.id == project_id,
                                                     Project.organisation_id == organisation_id))
    if slug is None:
        return AuditEvent.project_id == project_id
    by_target = or_(AuditEvent.target == f"project:{slug}",
                    AuditEvent.target.startswith(f"project:{slug}/", autoescape=True))
    return or_(AuditEvent.project_id == project_id, and_(AuditEvent.project_id.is_(None), by_target))


def _events(session: Session, organisation_id: int, rows) -> list[Event]:
    ids = {row.project_id for row in rows if row.project_id is not None}
    slugs = dict(session.execute(select(Project.id, Project.slug).where(
        Project.id.in_(ids), Project.organisation_id == organisation_id)).all()) if ids else {}
    return [Event(row.id, row.created_at, row.action, row.actor or row.email or "", row.target,
                  slugs.get(row.project_id, f"#{row.project_id}") if row.project_id is not None else None,
                  row.details, row.source)
            for row in rows]
