"""Background work on Huey: the queue, its tasks, its periodic tasks and its consumer.

The queue is chosen by ``SURVEYHUB_QUEUE_URL``:

* empty (the default): ``SqliteHuey`` in the instance folder (``queue.sqlite3``); ``surveyhub serve``
  starts one consumer beside gunicorn, so one machine needs no other server;
* ``redis://host:port/db``: ``RedisHuey``, consumed by ``surveyhub worker`` on any machine;
* ``immediate``: every task runs at once in the process that enqueues it (tests only).

Huey only moves the work. What is done, and done once, is kept in the job table
(``surveyhub.services.jobs``): a task names one job item; the item is claimed
with a conditional UPDATE before it runs, so a duplicated or retried task does
nothing twice, and the periodic ``tick`` enqueues again the items of jobs whose
heartbeat went stale (their worker was killed: Huey does not acknowledge
tasks). The kinds of jobs are collected here from the services that define them.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper

from surveyhub.db import get_db
from surveyhub.plugins import get_host, get_registry
from surveyhub.services import (across_jobs, api_idempotency, document_jobs, jobs, mail, maintenance, webhook_delivery,
                               webhooks)
from surveyhub.services.context import ServiceContext
from surveyhub.services.errors import N_, NotFound, ServiceError, UserError
from surveyhub.services.job_kinds import JobRun, Kind
from surveyhub.services.outcomes import Thresholds

log = logging.getLogger(__name__)

#: Every kind of job, by name.
KINDS: dict[str, Kind] = {kind.name: kind for module in (document_jobs, across_jobs, mail, maintenance)
                          for kind in module.KINDS}
#: Seconds before a failed attempt is tried again.
RETRY_DELAY = 10


def worker_name() -> str:
    """This process, as a claim records it: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def make_huey(url: str, instance_path: str | Path) -> Huey:
    """The Huey for ``SURVEYHUB_QUEUE_URL``: SQLite in the instance folder, Redis, or immediate (tests)."""
    url = (url or "").strip()
    if url == "immediate":
        return MemoryHuey("surveyhub", immediate=True)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("surveyhub", url=url)
    if url:
        from surveyhub.config import ConfigError
        raise ConfigError(f"SURVEYHUB_QUEUE_URL: not a queue ({url[:40]!r}); leave it empty for the built-in "
                          f"queue, or write redis://host:6379/0")
    return SqliteHuey("surveyhub", filename=str(Path(instance_path) / "queue.sqlite3"))


@dataclass
class Queue:
    """The app's queue: its Huey and the tasks registered on it."""

    app: Flask
    huey: Huey
    run_item: TaskWrapper
    send_mail: TaskWrapper
    daily: TaskWrapper | None = None
    send_webhook: TaskWrapper | None = None

    @property
    def immediate(self) -> bool:
        return bool(self.huey.immediate)

    def enqueue(self, item_ids: Iterable[int]) -> bool:
        """Enqueue one task per job item (call after the job is committed).

        When the queue cannot be reached (Redis down), the items stay pending in the job table and the
        periodic ``tick`` enqueues them once it runs again; the user's page shows the job as waiting.
        Returns False then.
        """
        try:
            for item_id in item_ids:
                self.run_item(item_id)
        except Exception:  # noqa: BLE001 - the job table keeps the work; nothing is lost
            if self.immediate:
                raise
            log.exception("the job queue could not be reached; the job waits in the job table")
            return False
        return True

    def send(self, message_id: int) -> bool:
        """Enqueue sending one outbox message (after it is committed); False when the queue is away
        (``services.mail.tick`` sends it later)."""
        try:
            self.send_mail(message_id)
        except Exception:  # noqa: BLE001 - the outbox keeps the message
            if self.immediate:
                raise
            log.exception("the job queue could not be reached; the e-mail waits in the outbox")
            return False
        return True

    def deliver(self, delivery_ids: Iterable[int]) -> bool:
        """Enqueue sending webhook deliveries (after they are committed); False when the queue is away
        (the minute ``tick`` finds them, ``webhook_delivery.due``)."""
        try:
            for delivery_id in delivery_ids:
                self.send_webhook(delivery_id)  # type: ignore[misc]
        except Exception:  # noqa: BLE001 - the deliveries table keeps the event
            if self.immediate:
                raise
            log.exception("the job queue could not be reached; the webhook waits in the deliveries table")
            return False
        return True

    def settings(self) -> dict:
        return dict(self.app.config)


def init_app(app: Flask) -> None:
    """Build the app's queue and register the tasks on it (the web enqueues; ``surveyhub worker`` consumes)."""
    huey = make_huey(str(app.config.get("QUEUE_URL") or ""), app.instance_path)
    queue = Queue(app, huey, run_item=None, send_mail=None)  # type: ignore[arg-type]
    queue.run_item = huey.task(name="surveyhub.run_item")(lambda item_id: _run_item(queue, item_id))
    queue.send_mail = huey.task(name="surveyhub.send_mail")(lambda message_id: _send_mail(queue, message_id))
    queue.send_webhook = huey.task(name="surveyhub.send_webhook")(lambda delivery_id: _send_webhook(queue, delivery_id))
    webhooks.set_dispatcher(get_db(app).engine, queue.deliver)
    huey.periodic_task(crontab(minute="*"), name="surveyhub.tick")(lambda: _tick(queue))
    queue.daily = huey.periodic_task(crontab(minute="17", hour="3"), name="surveyhub.daily")(lambda: _daily(queue))

    @huey.on_startup()
    def _fresh_connections() -> None:  # a forked worker process must not share its parent's connections
        get_db(app).engine.dispose(close=False)

    app.extensions["surveyhub.queue"] = queue


def get_queue(app: Flask | None = None) -> Queue:
    return (app or current_app).extensions["surveyhub.queue"]


def stale_seconds(app: Flask) -> float:
    return float(app.config.get("JOB_STALE_SECONDS") or 120)


def context_for(queue: Queue, session, actor, lang: str = "nl") -> ServiceContext:
    config = queue.app.config
    return ServiceContext(session=session, actor=actor, registry=get_registry(queue.app), host=get_host(queue.app),
                          thresholds=Thresholds.from_settings(config), base_url=config["BASE_URL"], lang=lang,
                          timezone=config["TIMEZONE"])


def _error_text(exc: BaseException) -> str:
    """A failed item's reason: the message as msgid and parameters (translated where shown), else a fixed line."""
    if isinstance(exc, ServiceError):
        params = {key: value if isinstance(value, (str, int, float)) else str(value)
                  for key, value in exc.params.items()}
        return json.dumps({"msgid": exc.msgid, "params": params})
    return json.dumps({"msgid": N_("Something went wrong while making this part; the log has the details.")})


def _run_item(queue: Queue, item_id: int) -> None:
    """Run one job item, once; then assemble the job's result if this was its last item."""
    app = queue.app
    with app.app_context(), get_db(app).session() as session:
        claim = jobs.claim(session, item_id, worker_name(), stale_seconds=stale_seconds(app))
        if claim is None:  # done, or running elsewhere: a duplicated task; the job may still need finishing
            job_id = session.scalar(_job_of(item_id))
            if job_id is not None:
                _maybe_finish(queue, session, job_id)
            return
        kind = KINDS.get(claim.kind)
        try:
            if kind is None:
                raise UserError(N_("This kind of job is not known here: %(kind)s"), kind=claim.kind)
            done = kind.run_item(_run_for(queue, session, claim, kind), claim.key)
        except (UserError, NotFound) as exc:
            session.rollback()
            jobs.fail_item(session, claim, _error_text(exc), final=True)
        except Exception as exc:  # noqa: BLE001 - any other failure is tried again, a few times
            session.rollback()
            log.exception("job %s item %s failed (attempt %s)", claim.job_id, claim.key, claim.attempt)
            final = claim.attempt >= jobs.MAX_ATTEMPTS
            jobs.fail_item(session, claim, _error_text(exc), final=final)
            if not final:
                if queue.immediate:
                    queue.run_item(item_id)
                else:
                    queue.run_item.schedule((item_id,), delay=RETRY_DELAY)
                return
        else:
            jobs.finish_item(session, claim, result=done.result, output=done.output)
        _maybe_finish(queue, session, claim.job_id)


def _run_for(queue: Queue, session, claim: jobs.Claim, kind: Kind) -> JobRun:
    """What a kind's step gets, acting as the job's user with their role today: a user removed since, or
    whose role no longer holds the kind's capability, stops the job (``NotFound``, a final failure)."""
    actor = jobs.actor_for(session, claim)
    if not actor.can(kind.capability):
        raise NotFound("the user who started this job may no longer do it")
    return JobRun(ctx=context_for(queue, session, actor, str(claim.params.get("lang") or "nl")),
                  params=claim.params, settings=queue.app.config, job_id=claim.job_id,
                  beat=lambda: jobs.beat(session, claim.job_id))


def _job_of(item_id: int):
    from sqlalchemy import select

    from surveyhub.models import JobItem
    return select(JobItem.job_id).where(JobItem.id == item_id)


def _maybe_finish(queue: Queue, session, job_id: int) -> None:
    """If every item is done and no one else took it, make the result (or mark the job done)."""
    app = queue.app
    if not jobs.claim_finish(session, job_id, stale_seconds=stale_seconds(app)):
        return
    from surveyhub.models import Job

    job = session.get(Job, job_id, populate_existing=True)
    kind = KINDS.get(job.kind)
    if kind is None or kind.finish is None:
        jobs.complete(session, job_id)
        return
    if job.done == 0:
        jobs.fail(session, job_id, N_("Nothing could be made; see the reasons below."))
        return
    try:
        claim = jobs.Claim(job_id=job.id, item_id=0, kind=job.kind, key="", position=-1, attempt=0,
                           params=dict(job.params or {}), organisation_id=job.organisation_id,
                           project_id=job.project_id, created_by_id=job.created_by_id)
        result = kind.finish(_run_for(queue, session, claim, kind))
        if result is None:
            jobs.complete(session, job_id)
        else:
            jobs.store_result(session, job_id, name=result.name, mime=result.mime, chunks=result.chunks)
    except Exception:  # noqa: BLE001 - the job fails with a reason; the worker goes on
        session.rollback()
        log.exception("job %s: its result could not be made", job_id)
        jobs.fail(session, job_id, N_("The result could not be put together. Please try again."))


def _send_mail(queue: Queue, message_id: int) -> None:
    """Send one queued e-mail, once (``services.mail.send_one`` claims it first)."""
    app = queue.app
    with app.app_context(), get_db(app).session() as session:
        again = mail.send_one(session, message_id, settings=app.config)
    if again is not None:  # the server was busy or the rate limit reached: try later
        if queue.immediate:
            return
        queue.send_mail.schedule((message_id,), delay=again)


def _send_webhook(queue: Queue, delivery_id: int) -> None:
    """One attempt at a webhook delivery (``services.webhook_delivery.send_one`` claims it first); a failed
    attempt is scheduled again after its pause (in immediate mode the minute tick does that)."""
    app = queue.app
    with app.app_context(), get_db(app).session() as session:
        sent = webhook_delivery.send_one(session, delivery_id, settings=app.config)
    if sent.retry_in is not None and not queue.immediate:
        queue.send_webhook.schedule((delivery_id,), delay=sent.retry_in)  # type: ignore[union-attr]


def _tick(queue: Queue) -> None:
    """Every minute: re-enqueue the work of stale jobs, open and close dated waves, queue due reminders,
    send queued mail whose task was lost, delete expired results."""
    app = queue.app
    seconds = stale_seconds(app)
    with app.app_context(), get_db(app).session() as session:
        jobs.give_up(session, stale_seconds=seconds)
        for found in jobs.stale(session, stale_seconds=seconds):
            if found.item_ids:
                log.warning("job %s: its worker stopped; %d item(s) enqueued again", found.job_id,
                            len(found.item_ids))
                queue.enqueue(found.item_ids)
            else:
                _maybe_finish(queue, session, found.job_id)
        jobs.expire(session)
        for message_id in mail.tick(session, settings=app.config):
            queue.send(message_id)
        queue.deliver(webhook_delivery.due(session))


def _daily(queue: Queue) -> None:
    """Once a day: the retention purge (personal data of projects past their retention period)."""
    app = queue.app
    with app.app_context(), get_db(app).session() as session:
        webhook_delivery.purge(session)  # delivered after 30 days, failed after 90
        api_idempotency.purge(session)  # API idempotency keys after a day
    if not int(app.config.get("RETENTION_PURGE_DAILY", 1) or 0):
        return
    with app.app_context():
        maintenance.retention_purge(get_db(app).session, get_registry(app), app.config)
