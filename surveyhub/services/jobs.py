"""The job table: work split into small items that are each done exactly once, whatever the queue does.

Huey does not acknowledge tasks: a consumer killed while it runs one loses it,
and a retried or duplicated task runs twice. So the queue only *moves* work;
this module decides what is done:

* ``create`` writes a job and one item per step (a certificate, an e-mail, a
  whole report) and returns the item ids to enqueue.
* ``claim`` takes an item with one conditional UPDATE: pending, or running
  with a claim older than ``stale_seconds`` (its worker died). A second
  delivery of the same task finds it taken and does nothing.
* ``finish_item`` / ``fail_item`` record the outcome once (a late duplicate
  changes nothing) and beat the job's heartbeat.
* ``claim_finish`` lets exactly one worker assemble the result once every item
  is done; ``store_result`` writes it in chunks every app server can stream.
* ``stale`` lists the unfinished work of jobs whose heartbeat stopped, for the
  periodic task that enqueues it again; ``expire`` deletes old results.

Everything here takes a session and plain values (no Flask, no Huey).
"""

from __future__ import annotations

import json
import secrets
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from surveyhub.models import Job, JobFile, JobItem, User
from surveyhub.models._types import utcnow
from surveyhub.services.access import ADMIN, Actor
from surveyhub.services.errors import N_, NotFound

#: Result files are stored and streamed in chunks of this size.
CHUNK_BYTES = 1024 * 1024
#: A result is kept this long after the job is done, then deleted with the job.
KEEP_DAYS = 7
#: An item may be tried this often before it counts as failed.
MAX_ATTEMPTS = 3
#: The reason stored for an item whose worker died on every attempt (as ``problem_text`` reads it).
_STOPPED_THRICE = json.dumps({"msgid": N_("the worker stopped while making it, three times")})


@dataclass(frozen=True)
class Claim:
    """An item a worker now runs: what it needs to know, in plain values."""

    job_id: int
    item_id: int
    kind: str
    key: str
    position: int
    attempt: int
    params: dict
    organisation_id: int | None
    project_id: int | None
    created_by_id: int | None


def _count(result) -> int:
    """The rows an UPDATE changed (its result is a CursorResult)."""
    return typing.cast(CursorResult, result).rowcount


def new_public_id() -> str:
    return secrets.token_urlsafe(12)


def create(session: Session, *, kind: str, keys: list[str], params: dict, title: str, actor: Actor | None,
           project_id: int | None = None, organisation_id: int | None = None,
           keep_days: int = KEEP_DAYS) -> tuple[Job, list[int]]:
    """A new job with one item per key, flushed; returns it and the item ids to enqueue (after commit).

    A job without keys still gets one item (the whole work is one step, e.g. a report).
    """
    now = utcnow()
    job = Job(public_id=new_public_id(), kind=kind, params=dict(params), title=title[:300], status="queued",
              total=len(keys) or 1, done=0, failed=0, created_at=now,
              organisation_id=organisation_id if organisation_id is not None else (actor.organisation_id
                                                                                     if actor else None),
              project_id=project_id, created_by_id=actor.user_id if actor else None,
              expires_at=now + timedelta(days=keep_days))
    session.add(job)
    session.flush()
    items = [JobItem(job_id=job.id, position=position, key=str(key)[:120], status="pending", attempts=0)
             for position, key in enumerate(keys or [""])]
    session.add_all(items)
    session.flush()
    return job, [item.id for item in items]


def claim(session: Session, item_id: int, worker: str, *, stale_seconds: float) -> Claim | None:
    """Take the item for ``worker``; None when it is done, failed, or running elsewhere and not stale.

    Commits: the claim must be visible to every other worker before the work starts.
    """
    now = utcnow()
    stale_before = now - timedelta(seconds=stale_seconds)
    taken = session.execute(
        update(JobItem)
        .where(JobItem.id == item_id, JobItem.attempts < MAX_ATTEMPTS,
               or_(JobItem.status == "pending",
                   and_(JobItem.status == "running", JobItem.claimed_at < stale_before)))
        .values(status="running", claimed_by=worker[:120], claimed_at=now, attempts=JobItem.attempts + 1)
        .execution_options(synchronize_session=False))
    if _count(taken) != 1:
        session.rollback()
        return None
    row = session.execute(
        select(Job.id, JobItem.key, JobItem.position, JobItem.attempts, Job.kind, Job.params, Job.organisation_id,
               Job.project_id, Job.created_by_id).join(Job, Job.id == JobItem.job_id)
        .where(JobItem.id == item_id)).one()
    session.execute(update(Job).where(Job.id == row.id, Job.status == "queued")
                    .values(status="running", started_at=now).execution_options(synchronize_session=False))
    session.execute(update(Job).where(Job.id == row.id).values(heartbeat_at=now)
                    .execution_options(synchronize_session=False))
    claim_ = Claim(job_id=row.id, item_id=item_id, kind=row.kind, key=row.key, position=row.position,
                   attempt=row.attempts, params=dict(row.params or {}), organisation_id=row.organisation_id,
                   project_id=row.project_id, created_by_id=row.created_by_id)
    session.commit()
    return claim_


def finish_item(session: Session, claim_: Claim, *, result: dict | None = None, output: bytes | None = None) -> bool:
    """Record the item as done (once: a duplicate that finishes later changes nothing). Commits."""
    now = utcnow()
    changed = _count(session.execute(
        update(JobItem).where(JobItem.id == claim_.item_id, JobItem.status.in_(("pending", "running")))
        .values(status="done", finished_at=now, result=result, output=output, error=None)
        .execution_options(synchronize_session=False)))
    if changed:
        session.execute(update(Job).where(Job.id == claim_.job_id)
                        .values(done=Job.done + 1, heartbeat_at=now).execution_options(synchronize_session=False))
    session.commit()
    return bool(changed)


def fail_item(session: Session, claim_: Claim, error: str, *, final: bool) -> None:
    """Record a failed attempt; ``final``: no more tries, the item counts as failed. Commits."""
    now = utcnow()
    values: dict = {"error": error[:2000]}
    if final:
        values.update(status="failed", finished_at=now)
    else:
        values.update(status="pending", claimed_by=None, claimed_at=None)
    changed = _count(session.execute(
        update(JobItem).where(JobItem.id == claim_.item_id, JobItem.status == "running").values(**values)
        .execution_options(synchronize_session=False)))
    if changed and final:
        session.execute(update(Job).where(Job.id == claim_.job_id)
                        .values(failed=Job.failed + 1, heartbeat_at=now).execution_options(synchronize_session=False))
    session.commit()


def beat(session: Session, job_id: int) -> None:
    """The job is alive (a long item calls this now and then). Commits."""
    session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow())
                    .execution_options(synchronize_session=False))
    session.commit()


def claim_finish(session: Session, job_id: int, *, stale_seconds: float) -> bool:
    """True for exactly one caller once no item is pending or running: that caller assembles the result.

    A job left "finishing" by a killed worker is taken over once its heartbeat is stale. Commits.
    """
    now = utcnow()
    unfinished = exists().where(JobItem.job_id == job_id, JobItem.status.in_(("pending", "running")))
    stale_before = now - timedelta(seconds=stale_seconds)
    taken = _count(session.execute(
        update(Job).where(Job.id == job_id, ~unfinished,
                          or_(Job.status.in_(("queued", "running")),
                              and_(Job.status == "finishing", Job.heartbeat_at < stale_before)))
        .values(status="finishing", heartbeat_at=now).execution_options(synchronize_session=False)))
    session.commit()
    return taken == 1


def outputs(session: Session, job_id: int) -> Iterator[tuple[str, dict | None, bytes | None]]:
    """The done items' key, result and bytes, in order, one row in memory at a time."""
    ids = session.scalars(select(JobItem.id).where(JobItem.job_id == job_id, JobItem.status == "done")
                          .order_by(JobItem.position)).all()
    for item_id in ids:
        key, result, output = session.execute(
            select(JobItem.key, JobItem.result, JobItem.output).where(JobItem.id == item_id)).one()
        yield key, result, output


def item_results(session: Session, job_id: int) -> list[tuple[str, dict | None]]:
    """The done items' key and result, in order (no bytes)."""
    return [(key, result) for key, result in session.execute(
        select(JobItem.key, JobItem.result).where(JobItem.job_id == job_id, JobItem.status == "done")
        .order_by(JobItem.position))]


def store_result(session: Session, job_id: int, *, name: str, mime: str, chunks: Iterable[bytes]) -> None:
    """Write the result file in chunks (replacing an earlier, half-written one), then mark the job done.

    Clears the items' bytes: the result holds them now. Commits.
    """
    session.execute(delete(JobFile).where(JobFile.job_id == job_id))
    size = 0
    position = 0
    pending = b""
    for chunk in chunks:
        pending += chunk
        while len(pending) >= CHUNK_BYTES:
            session.add(JobFile(job_id=job_id, position=position, data=pending[:CHUNK_BYTES]))
            size += CHUNK_BYTES
            position += 1
            pending = pending[CHUNK_BYTES:]
            session.flush()
    if pending or position == 0:
        session.add(JobFile(job_id=job_id, position=position, data=pending))
        size += len(pending)
    session.execute(update(Job).where(Job.id == job_id).values(result_name=name[:200], result_type=mime[:80],
                                                                result_size=size))
    complete(session, job_id)


def complete(session: Session, job_id: int, message: str | None = None) -> None:
    """The job is done (with or without a result file). Commits."""
    now = utcnow()
    job = session.get(Job, job_id, populate_existing=True)
    status = "failed" if job is not None and job.failed and not job.done else "done"
    session.execute(update(Job).where(Job.id == job_id)
                    .values(status=status, finished_at=now, heartbeat_at=now,
                            message=message if message is not None else Job.message)
                    .execution_options(synchronize_session=False))
    session.execute(update(JobItem).where(JobItem.job_id == job_id).values(output=None)
                    .execution_options(synchronize_session=False))
    session.commit()


def fail(session: Session, job_id: int, message: str) -> None:
    """The whole job failed (``message``: an English msgid for the user). Commits."""
    now = utcnow()
    session.execute(update(Job).where(Job.id == job_id)
                    .values(status="failed", finished_at=now, heartbeat_at=now, message=message[:2000])
                    .execution_options(synchronize_session=False))
    session.execute(update(JobItem).where(JobItem.job_id == job_id).values(output=None)
                    .execution_options(synchronize_session=False))
    session.commit()


@dataclass(frozen=True)
class Stale:
    """A job whose heartbeat stopped: the items to enqueue again, or only its result to assemble."""

    job_id: int
    item_ids: tuple[int, ...]


def stale(session: Session, *, stale_seconds: float, now: datetime | None = None) -> list[Stale]:
    """Unfinished jobs whose last sign of life is older than ``stale_seconds``.

    Their pending items and the running items of a dead claim are returned to be enqueued
    again (``claim`` takes over a stale claim); a job with no such item needs its result
    assembled (``claim_finish``).
    """
    now = now or utcnow()
    before = now - timedelta(seconds=stale_seconds)
    last_sign = func.coalesce(Job.heartbeat_at, Job.created_at)
    jobs = session.scalars(select(Job.id).where(Job.status.in_(("queued", "running", "finishing")),
                                                last_sign < before)).all()
    found = []
    for job_id in jobs:
        item_ids = session.scalars(
            select(JobItem.id).where(JobItem.job_id == job_id, JobItem.attempts < MAX_ATTEMPTS,
                                     or_(JobItem.status == "pending",
                                         and_(JobItem.status == "running", JobItem.claimed_at < before)))
            .order_by(JobItem.position)).all()
        found.append(Stale(job_id, tuple(item_ids)))
    return found


def give_up(session: Session, *, stale_seconds: float) -> list[int]:
    """Items running on a dead claim after their last attempt count as failed; returns their jobs. Commits."""
    before = utcnow() - timedelta(seconds=stale_seconds)
    rows = session.execute(select(JobItem.id, JobItem.job_id).where(
        JobItem.status == "running", JobItem.attempts >= MAX_ATTEMPTS, JobItem.claimed_at < before)).all()
    for item_id, job_id in rows:
        changed = _count(session.execute(update(JobItem).where(JobItem.id == item_id, JobItem.status == "running")
                                  .values(status="failed", finished_at=utcnow(),
                                          error=_STOPPED_THRICE)
                                  .execution_options(synchronize_session=False)))
        if changed:
            session.execute(update(Job).where(Job.id == job_id).values(failed=Job.failed + 1)
                            .execution_options(synchronize_session=False))
    session.commit()
    return sorted({job_id for _item, job_id in rows})


def expire(session: Session, now: datetime | None = None) -> int:
    """Delete jobs (and their results) past their expiry. Commits; returns how many."""
    now = now or utcnow()
    ids = session.scalars(select(Job.id).where(Job.expires_at < now)).all()
    if ids:
        session.execute(delete(JobFile).where(JobFile.job_id.in_(ids)))
        session.execute(delete(JobItem).where(JobItem.job_id.in_(ids)))
        session.execute(delete(Job).where(Job.id.in_(ids)))
    session.commit()
    return len(ids)


def actor_for(session: Session, claim_: Claim) -> Actor:
    """Who the job acts as: its user with their role today (a removed user's job stops), else the
    command line as an admin of the job's organisation."""
    if claim_.created_by_id is None:
        if claim_.organisation_id is None:
            raise NotFound("a job without an organisation")
        return Actor(organisation_id=claim_.organisation_id, role=ADMIN, source="job")
    user = session.get(User, claim_.created_by_id)
    if user is None or not user.active or user.organisation_id != claim_.organisation_id:
        raise NotFound("the user who started this job is no longer there")
    return Actor(organisation_id=user.organisation_id, role=user.role, user_id=user.id, email=user.email,
                 source="job")
