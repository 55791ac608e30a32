"""Reading jobs: who may see which, how far they are, and their result file.

The user who started a job sees it, and so do the admins of its organisation;
anyone else is told it does not exist (``NotFound``), like another
organisation's project. The command line reads any job by its number. The
work itself (claiming, finishing, re-enqueuing) is ``services.jobs``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyhub.models import Job, JobFile, JobItem, Project, User
from surveyhub.models._types import utcnow
from surveyhub.services.access import ADMIN, Actor
from surveyhub.services.errors import NotFound


@dataclass(frozen=True)
class JobView:
    """One job as its pages and the command line show it."""

    public_id: str
    kind: str
    title: str
    status: str
    total: int
    done: int
    failed: int
    message: str | None
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    result_name: str | None
    result_type: str | None
    result_size: int | None
    project_slug: str | None
    seen: bool
    #: Item errors, first few (what failed, in words), for the job page.
    problems: tuple[str, ...] = ()
    #: The project's name, for the job's page and the list of downloads (the title may not say it).
    project_name: str | None = None
    #: Who started it (name, else e-mail address), for an admin's list of the organisation's jobs.
    started_by: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return int(100 * (self.done + self.failed) / self.total) if self.total else 0

    @property
    def ready(self) -> bool:
        """Done with a result to download."""
        return self.status == "done" and self.result_size is not None


def _visible(actor: Actor, query):
    """The actor's own jobs; an admin also sees every job of their organisation."""
    query = query.where(Job.organisation_id == actor.organisation_id)
    if actor.role == ADMIN:
        return query
    return query.where(Job.created_by_id == actor.user_id) if actor.user_id is not None else query.where(False)


def _view(session: Session, job: Job, problems: tuple[str, ...] = ()) -> JobView:
    # session.get: a list of one user's jobs for one project reads the project and the user once, not per job
    project = session.get(Project, job.project_id) if job.project_id else None
    slug, project_name = (project.slug, project.name) if project is not None else (None, None)
    return JobView(public_id=job.public_id, kind=job.kind, title=job.title, status=job.status, total=job.total,
                   done=job.done, failed=job.failed, message=job.message, created_at=job.created_at,
                   finished_at=job.finished_at, expires_at=job.expires_at, result_name=job.result_name,
                   result_type=job.result_type, result_size=job.result_size, project_slug=slug,
                   seen=job.seen_at is not None, problems=problems, project_name=project_name,
                   started_by=_starter(session, job.created_by_id))


def _starter(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return (user.name or user.email) if user is not None else None


def _job(session: Session, actor: Actor, public_id: str) -> Job:
    job = session.scalar(_visible(actor, select(Job).where(Job.public_id == public_id))
                         .execution_options(populate_existing=True))
    if job is None:
        raise NotFound("no such job")
    return job


def view(session: Session, actor: Actor, public_id: str) -> JobView:
    """One of the actor's jobs (another's, or another organisation's, is not found)."""
    job = _job(session, actor, public_id)
    return _view(session, job, _problems(session, job.id))


def view_by_id(session: Session, job_id: int) -> JobView:
    """A job by its number, for the command line (which acts for the whole installation)."""
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        raise NotFound("no such job")
    return _view(session, job, _problems(session, job.id))


def latest(session: Session, *, limit: int = 20) -> list[tuple[int, JobView]]:
    """The installation's newest jobs with their numbers, for the command line."""
    found = session.scalars(select(Job).order_by(Job.id.desc()).limit(limit)
                            .execution_options(populate_existing=True)).all()
    return [(job.id, _view(session, job)) for job in found]


def problem_text(stored: str, gettext=None) -> str:
    """A failed item's stored reason (``{"msgid", "params"}``) in words; ``gettext`` translates it."""
    from surveyhub.services.errors import Message

    try:
        data = json.loads(stored)
        message = Message(str(data["msgid"]), **dict(data.get("params") or {}))
    except (ValueError, TypeError, KeyError):
        return stored
    return message.translated(gettext) if gettext is not None else str(message)


def _problems(session: Session, job_id: int) -> tuple[str, ...]:
    found = session.scalars(select(JobItem.error).where(JobItem.job_id == job_id, JobItem.status == "failed")
                            .order_by(JobItem.position).limit(5))
    return tuple(problem for problem in found if problem)


def recent(session: Session, actor: Actor, *, limit: int = 30) -> list[JobView]:
    """The actor's jobs, newest first."""
    jobs = session.scalars(_visible(actor, select(Job)).order_by(Job.created_at.desc(), Job.id.desc())
                           .limit(limit).execution_options(populate_existing=True)).all()
    return [_view(session, job) for job in jobs]


def unseen_ready(session: Session, actor: Actor) -> list[JobView]:
    """Jobs the actor started that finished since they last looked: the "ready" notice."""
    if actor.user_id is None:
        return []
    jobs = session.scalars(select(Job).where(Job.created_by_id == actor.user_id, Job.seen_at.is_(None),
                                             Job.status.in_(("done", "failed")))
                           .order_by(Job.finished_at.desc()).limit(5)
                           .execution_options(populate_existing=True)).all()
    return [_view(session, job) for job in jobs]


def mark_seen(session: Session, actor: Actor, public_id: str) -> None:
    """The user who started the job has seen it finished (flushes)."""
    job = _job(session, actor, public_id)
    if job.created_by_id == actor.user_id and job.status in ("done", "failed") and job.seen_at is None:
        job.seen_at = utcnow()
        session.flush()


def result_chunks(session: Session, actor: Actor, public_id: str, *,
                  session_factory: Callable[[], AbstractContextManager[Session]] | None = None,
                  ) -> tuple[JobView, Iterator[bytes]]:
    """The result file of one of the actor's done jobs, as a view and an iterator of its chunks.

    :param session_factory: read each chunk in a short session of its own (a web download): the caller can
        end its own session before the file is sent, and a slow or abandoned download holds no connection.
    """
    return _result(session, _job(session, actor, public_id), session_factory)


def result_chunks_by_id(session: Session, job_id: int) -> tuple[JobView, Iterator[bytes]]:
    """A done job's result by its number, for the command line (which acts for the whole installation)."""
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        raise NotFound("no such job")
    return _result(session, job, None)


def _result(session: Session, job: Job, session_factory) -> tuple[JobView, Iterator[bytes]]:
    if job.status != "done" or job.result_size is None:
        raise NotFound("this job has no file (yet)")
    ids = session.scalars(select(JobFile.id).where(JobFile.job_id == job.id).order_by(JobFile.position)).all()

    def read(reader: Session, file_id: int) -> bytes:
        return reader.scalar(select(JobFile.data).where(JobFile.id == file_id)) or b""

    def chunks() -> Iterator[bytes]:  # one chunk in memory at a time
        for file_id in ids:
            if session_factory is None:
                yield read(session, file_id)
                continue
            with session_factory() as own:
                data = read(own, file_id)
            yield data
    return _view(session, job), chunks()


#: Items that must be finished before the page guesses the time left (the first ones include start-up).
PACE_AFTER = 3


def seconds_left(session: Session, actor: Actor, public_id: str, *, now: datetime | None = None) -> float | None:
    """An estimate of the time the running job still needs, from when its finished items finished; None until
    a few are done, and once it is finished.

    The pace is the time between the first and the last finished item per item after the first
    (several workers make it faster, as they should); the time since the last one counts as spent.
    """
    job = _job(session, actor, public_id)
    if job.status in ("done", "failed"):
        return None
    count, first, last = session.execute(
        select(func.count(), func.min(JobItem.finished_at), func.max(JobItem.finished_at))
        .where(JobItem.job_id == job.id, JobItem.finished_at.is_not(None))).one()
    left = job.total - count
    if count < PACE_AFTER or left <= 0 or first is None or last is None:
        return None
    per_item = (last - first).total_seconds() / (count - 1)
    since_last = ((now or utcnow()) - last).total_seconds()
    return max(0.0, left * per_item - max(0.0, since_last))
