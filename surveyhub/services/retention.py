"""Retention: how long a project keeps personal data, and the purge that removes it afterwards.

A project keeps residents' personal data for ``retention_months`` (the
project's own, else the organisation's, else the installation's setting)
after its clock starts: when its last wave closed, or, while no wave has
closed, from the last response. :func:`purge_due` is the one place that says
when that is. :func:`purge_project` then removes everything about the
residents and keeps only the anonymous, suppressed report (``purged_summary``)
so the organisation can still show its impact. :func:`run_purge` goes through
every due project, each in its own short transaction; the daily task of the
job queue (``surveyhub.queue``) and ``surveyhub retention purge`` both call it.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from surveyhub.db import retry_on_busy
from surveyhub.models import (Activity, ActivityParticipant, Answer, Consent, Document, Organisation, Participant,
                              Project, ProjectOutput, Response, ScaleScore, Token, Wave)
from surveyhub.models._types import utcnow
from surveyhub.services import audit, outcomes
from surveyhub.services.access import Actor

#: The installation's default when neither project nor organisation sets one (``RETENTION_MONTHS``).
DEFAULT_MONTHS = 24
#: Workers see a purge coming this many days ahead.
NOTICE_DAYS = 30
#: Document kinds that name a resident: revoked at the purge, and their title loses any name.
PERSONAL_KINDS = ("certificate", "participation")
#: Titles of personal documents after the purge (the document's language, else Dutch).
_TITLES = {"nl": {"certificate": "Certificaat", "participation": "Certificaat van deelname"},
           "en": {"certificate": "Certificate", "participation": "Certificate of participation"}}


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus whole calendar months; the 31st becomes the month's last day."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def months_for(project: Project, org: Organisation | None, default: int = DEFAULT_MONTHS) -> int:
    """The project's retention period in months: its own, else the organisation's, else ``default``."""
    for value in (project.retention_months, org.retention_months if org is not None else None):
        if value is not None:
            return int(value)
    return int(default)


def clock_start(session: Session, project: Project) -> datetime | None:
    """When the retention clock started: the last wave's close, else the last response; None before both.

    The later of the two is taken, so an answer typed in after a wave closed is never purged early.
    """
    last_closed, last_answer = _clock_facts(session, project.id).get(project.id, (None, None))
    return _later(last_closed, last_answer)


def _clock_facts(session: Session, project_id: int | None = None) -> dict[int, tuple]:
    """Project id -> (last wave close, last response change), in two grouped queries."""
    closes = select(Wave.project_id, func.max(Wave.closed_at)).where(Wave.status == "closed").group_by(Wave.project_id)
    answers = (select(Wave.project_id, func.max(Response.updated_at)).join(Response, Response.wave_id == Wave.id)
               .group_by(Wave.project_id))
    if project_id is not None:
        closes, answers = closes.where(Wave.project_id == project_id), answers.where(Wave.project_id == project_id)
    facts: dict[int, list] = {}
    for position, query in enumerate((closes, answers)):
        for pid, moment in session.execute(query):
            facts.setdefault(pid, [None, None])[position] = _aware(moment)
    return {pid: tuple(pair) for pid, pair in facts.items()}


def _later(*moments) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def _aware(moment):
    # func.max() over a UTCDateTime column comes back untyped on SQLite: a string or a naive datetime.
    if moment is None or isinstance(moment, datetime) and moment.tzinfo is not None:
        return moment
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def purge_due(session: Session, project: Project, default_months: int = DEFAULT_MONTHS) -> datetime | None:
    """When the project's personal data is due for deletion; None while its clock has not started."""
    return _due(clock_start(session, project), project, session.get(Organisation, project.organisation_id),
                default_months)


def _due(start: datetime | None, project: Project, org: Organisation | None, default_months: int) -> datetime | None:
    return None if start is None else add_months(start, months_for(project, org, default_months))


@dataclass(frozen=True)
class Promise:
    """What the start page tells a resident: the period, and the last month when it is already known."""

    months: int
    #: When the data is deleted, once no wave is open; else None (the clock may still move).
    until: datetime | None


def promise(session: Session, project: Project, default_months: int = DEFAULT_MONTHS) -> Promise:
    """The retention period a resident is told; a date only when no later wave can move it."""
    org = session.get(Organisation, project.organisation_id)
    months = months_for(project, org, default_months)
    # While a wave is open, its close moves the date: then only the period is promised.
    settled = not any(w.status == "open" for w in project.waves) and any(w.status == "closed" for w in project.waves)
    due = purge_due(session, project, default_months) if settled else None
    return Promise(months, due)


@dataclass(frozen=True)
class DuePurge:
    """A project whose personal data is (or soon will be) purged."""

    project_id: int
    slug: str
    name: str
    organisation_id: int
    residents: int
    due: datetime
    months: int

    def days_left(self, now: datetime | None = None) -> int:
        """Whole days until the purge, rounded up; 0 when it is due."""
        return max(0, math.ceil((self.due - (now or utcnow())).total_seconds() / 86400))


def _residents(session: Session, project_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Participant)
                          .where(Participant.project_id == project_id)) or 0


def due_projects(session: Session, *, default_months: int = DEFAULT_MONTHS, now: datetime | None = None,
                 within_days: int = 0, organisation_id: int | None = None) -> list[DuePurge]:
    """Projects not yet purged whose purge is due by ``now`` plus ``within_days``, soonest first."""
    horizon = (now or utcnow()) + timedelta(days=within_days)
    query = select(Project).where(Project.purged_at.is_(None)).order_by(Project.id)
    if organisation_id is not None:
        query = query.where(Project.organisation_id == organisation_id)
    facts = _clock_facts(session)
    found = []
    for project in session.scalars(query):
        org = session.get(Organisation, project.organisation_id)
        due = _due(_later(*facts.get(project.id, ())), project, org, default_months)
        if due is not None and due <= horizon:
            found.append(DuePurge(project.id, project.slug, project.name, project.organisation_id,
                                  _residents(session, project.id), due, months_for(project, org, default_months)))
    return sorted(found, key=lambda d: d.due)


def upcoming(session: Session, actor: Actor, *, default_months: int = DEFAULT_MONTHS,
             slug: str | None = None) -> list[DuePurge]:
    """Purges in the next :data:`NOTICE_DAYS` days in the actor's organisation (or of one project)."""
    if not actor.can("project.setup"):
        return []
    found = due_projects(session, default_months=default_months, within_days=NOTICE_DAYS,
                         organisation_id=actor.organisation_id)
    return [d for d in found if slug is None or d.slug == slug]


@dataclass(frozen=True)
class PurgeResult:
    slug: str
    residents: int
    responses: int
    answers: int
    documents: int


def purge_project(session: Session, registry, project_id: int, *, thresholds: outcomes.Thresholds | None = None,
                  default_months: int = DEFAULT_MONTHS, now: datetime | None = None, who: str = "system",
                  source: str = "system") -> PurgeResult | None:
    """Remove every resident's personal data from one project and keep its suppressed report.

    Flushes; the caller commits. None when the project is gone, already purged (idempotent) or
    no longer due (a wave was opened again since the list of due projects was made).
    """
    project = session.get(Project, project_id)
    if project is None or project.purged_at is not None:
        return None
    due = purge_due(session, project, default_months)
    if due is None or due > (now or utcnow()):
        return None
    actor = Actor(organisation_id=project.organisation_id, role="admin", source=source)
    summary = outcomes.project_report(session, registry, actor, project.slug, defaults=thresholds)
    summary["quotes"] = []  # free text may name someone; only numbers stay
    for output in summary["project"]["outputs"]:
        output["photo"] = False  # a photo may show residents: it goes with their data (the line stays)
    counts = _delete_residents(session, project)
    session.execute(update(ProjectOutput).where(ProjectOutput.project_id == project.id)
                    .values(photo=None, photo_type=None), execution_options={"synchronize_session": False})
    project.purged_summary = dict(summary)
    project.purged_at = utcnow()
    for wave in project.waves:
        if wave.status == "open":
            wave.status, wave.closed_at = "closed", project.purged_at
    audit.record(session, "retention.purge", organisation_id=project.organisation_id, project_id=project.id,
                 target=f"project:{project.slug}", who=who, source=source,
                 details={"residents": counts.residents, "responses": counts.responses,
                          "answers": counts.answers, "documents": counts.documents})
    session.flush()
    return PurgeResult(project.slug, counts.residents, counts.responses, counts.answers, counts.documents)


def _delete_residents(session: Session, project: Project) -> PurgeResult:
    """Unlink documents, then delete scores, answers, responses, consents, tokens, activity entries and participants."""
    participants = select(Participant.id).where(Participant.project_id == project.id)
    responses = select(Response.id).where(Response.participant_id.in_(participants))
    documents = _unlink_documents(session, project, participants)
    from surveyhub.services import badges, webhooks  # their badges stay valid; what we kept beside them goes

    badges.forget_for_retention(session, project.id)
    webhooks.forget_project(session, project.organisation_id, project.slug)  # messages naming a resident
    n_answers = session.scalar(select(func.count()).select_from(Answer).where(Answer.response_id.in_(responses)))
    n_responses = session.scalar(select(func.count()).select_from(Response)
                                 .where(Response.participant_id.in_(participants)))
    n_residents = _residents(session, project.id)
    for model, column, ids in ((ScaleScore, ScaleScore.response_id, responses),
                               (Answer, Answer.response_id, responses),
                               (Response, Response.participant_id, participants),
                               (Consent, Consent.participant_id, participants),
                               (Token, Token.participant_id, participants),
                               (ActivityParticipant, ActivityParticipant.participant_id, participants)):
        session.execute(delete(model).where(column.in_(ids)), execution_options={"synchronize_session": False})
    # Activities stay (what the project did), except those only a resident proposed and nobody confirmed;
    # a confirmed proposal keeps its date, kind and hours but not its title: the resident's own words.
    session.execute(delete(Activity).where(Activity.project_id == project.id, Activity.confirmed_at.is_(None)),
                    execution_options={"synchronize_session": False})
    session.execute(update(Activity).where(Activity.project_id == project.id, Activity.proposed_by_id.is_not(None))
                    .values(title=None), execution_options={"synchronize_session": False})
    session.execute(delete(Participant).where(Participant.project_id == project.id),
                    execution_options={"synchronize_session": False})
    session.expire_all()
    return PurgeResult(project.slug, n_residents, n_responses or 0, n_answers or 0, documents)


def _unlink_documents(session: Session, project: Project, participants) -> int:
    """Personal documents: revoked for "retention", titled without a name, no longer tied to anyone.

    The participant link must go first: deleting a participant would cascade to their documents,
    and the register entry (code, hash, revoked) is what ``/verify`` answers from.
    """
    now = utcnow()
    docs = list(session.scalars(select(Document).where(
        Document.project_id == project.id,
        (Document.participant_id.in_(participants)) | (Document.kind.in_(PERSONAL_KINDS)))))
    for doc in docs:
        if doc.kind in PERSONAL_KINDS:
            titles = _TITLES.get(doc.language, _TITLES["nl"])
            doc.title = f"{titles[doc.kind]} — {project.name}"[:300]
            if doc.revoked_at is None:
                doc.revoked_at, doc.revoked_reason = now, "retention"
    session.execute(update(Document).where(Document.project_id == project.id, Document.participant_id.is_not(None))
                    .values(participant_id=None), execution_options={"synchronize_session": False})
    session.flush()
    return len(docs)


def run_purge(session_factory, registry, *, default_months: int = DEFAULT_MONTHS,
              thresholds: outcomes.Thresholds | None = None, dry_run: bool = False, now: datetime | None = None,
              who: str = "system", source: str = "system") -> list[tuple[DuePurge, PurgeResult | None]]:
    """Purge every due project, each in its own short transaction; with ``dry_run`` only list them.

    :param session_factory: a callable returning a new session usable as a context manager.
    :returns: (what was due, what was removed — None on a dry run or when another run was first).
    """
    with session_factory() as session:
        due = due_projects(session, default_months=default_months, now=now)
    if dry_run:
        return [(item, None) for item in due]
    done = []
    for item in due:
        with session_factory() as session:
            # Safe to run again after a rollback: residents saving at the same moment never lose a page.
            result = retry_on_busy(session, partial(
                purge_project, session, registry, item.project_id, thresholds=thresholds,
                default_months=default_months, now=now, who=who, source=source))
        done.append((item, result))
    return done


def set_organisation_retention(session: Session, actor: Actor, months: int | None) -> None:
    """The organisation's default retention period in months (None: the installation's setting).

    Projects without a period of their own follow it; residents are told the period on the start page.
    """
    from surveyhub.services import access
    from surveyhub.services.projects import check_retention

    access.require(actor, "org.manage")
    org = access.organisation(session, actor)
    before, org.retention_months = org.retention_months, check_retention(months)
    session.flush()
    audit.record(session, "organisation.retention", actor=actor, target=f"organisation:{org.slug}",
                 details={"from": before, "to": org.retention_months})

