"""Sending one webhook delivery once, retrying with growing pauses, and the delivery log.

:func:`send_one` claims the delivery with a conditional UPDATE (pending → sending, only once its time has
come) and commits that before it connects, so a duplicated task (the queue's and the minute tick's) sends
nothing twice at once. The URL is checked again at each send and the connection goes to the address that
check resolved (no second DNS lookup an attacker could rebind). Redirects are not followed, at most
``MAX_ANSWER`` bytes of the answer are read.

A 2xx answer delivers it; anything else is tried again after the next pause of ``WEBHOOK_RETRY_SCHEDULE``
(Standard Webhooks' 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), and after the last one it has failed. Every
attempt carries the same ``webhook-id`` (so the receiver can drop a duplicate) and a fresh timestamp and
signature. A worker killed while sending leaves a "sending" row; :func:`due` puts it back after
``LOST_AFTER`` and it is sent again, with the same ``webhook-id``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from surveyhub.models import WebhookDelivery, WebhookEndpoint
from surveyhub.models._types import utcnow
from surveyhub.services import webhooks
from surveyhub.services.webhook_http import NO_ANSWER, Answer, headers_for, post
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Conflict, NotFound, ServiceError

log = logging.getLogger(__name__)

DEFAULT_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
DEFAULT_TIMEOUT = 10.0
#: A delivery "sending" this long lost its worker: it goes back to pending.
LOST_AFTER = timedelta(minutes=5)
KEEP_DELIVERED = timedelta(days=30)
KEEP_FAILED = timedelta(days=90)

SWITCHED_OFF = webhooks.SWITCHED_OFF
HELD_BACK = N_("Not sent: the receiver did not answer another message in time a moment ago.")
#: After an attempt at an endpoint found no answer in time, its other messages do not connect for this
#: long (each counts a failed attempt and waits for its next pause): a receiver that never answers costs
#: the queue one timeout a minute, not one per message (a bulk import makes thousands).
HOLD_BACK = timedelta(seconds=60)


def retry_schedule(settings: Mapping) -> list[float]:
    """``WEBHOOK_RETRY_SCHEDULE``: seconds between attempts, as "5 300 1800" (or commas) or a list."""
    value = settings.get("WEBHOOK_RETRY_SCHEDULE")
    if value is None or value == "":
        return [float(step) for step in DEFAULT_SCHEDULE]
    steps = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    return [float(step) for step in steps]


reason = webhooks.stored_reason


def attempt_seconds(settings: Mapping) -> float:
    """``WEBHOOK_TIMEOUT``: the seconds one whole attempt may take (connect, send, the answer), kept under
    half of ``LOST_AFTER`` so an attempt still running is never taken for a lost one and sent twice at once."""
    value = float(settings.get("WEBHOOK_TIMEOUT") or DEFAULT_TIMEOUT)
    return max(0.1, min(value, LOST_AFTER.total_seconds() / 2))


def reason_parts(stored: str | None) -> tuple[str, dict] | None:
    if not stored:
        return None
    try:
        found = json.loads(stored)
        return str(found["msgid"]), dict(found.get("params") or {})
    except (ValueError, KeyError, TypeError):
        return stored, {}


# --- claiming and finishing -------------------------------------------------------------------------------------

def _claim(session: Session, delivery_id: int, now: datetime) -> bool:
    taken = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
               (WebhookDelivery.next_attempt_at.is_(None)) | (WebhookDelivery.next_attempt_at <= now))
        .values(status="sending", claimed_at=now, attempts=WebhookDelivery.attempts + 1)
        .execution_options(synchronize_session=False))
    session.commit()
    return bool(getattr(taken, "rowcount", 0) == 1)


def _finish(session: Session, delivery_id: int, **values) -> None:
    session.execute(update(WebhookDelivery)
                    .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "sending")
                    .values(**values).execution_options(synchronize_session=False))
    session.commit()


@dataclass(frozen=True)
class Sent:
    """What one call of :func:`send_one` did."""

    #: Whether this call made an attempt (False: not due, not pending, or taken by another worker).
    attempted: bool
    status: str
    status_code: int | None = None
    error: str | None = None
    #: Seconds until the next attempt, when one is planned.
    retry_in: float | None = None


class _HeldBack(Exception):
    """This attempt does not connect: the endpoint found no answer in time a moment ago."""


def _silent_lately(session: Session, endpoint_id: int, delivery_id: int, now: datetime) -> bool:
    """Did another message's real attempt at this endpoint end without an answer in time, within
    ``HOLD_BACK``? (Messages held back themselves do not count, so one real attempt a minute goes through;
    a test event always connects.)"""
    found = session.scalar(select(WebhookDelivery.id).where(
        WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.id != delivery_id,
        WebhookDelivery.status.in_(("pending", "failed")), WebhookDelivery.last_status_code.is_(None),
        WebhookDelivery.claimed_at >= now - HOLD_BACK,
        WebhookDelivery.last_error.contains(NO_ANSWER, autoescape=True)).limit(1))
    session.rollback()
    return found is not None


def send_one(session: Session, delivery_id: int, *, settings: Mapping,
             resolve: webhooks.Resolver | None = None) -> Sent:
    """Make one attempt at a due, pending delivery; nothing when it is not (a duplicated task)."""
    now = utcnow()
    if not _claim(session, delivery_id, now):
        status = session.scalar(select(WebhookDelivery.status).where(WebhookDelivery.id == delivery_id))
        session.rollback()
        return Sent(False, status or "gone")
    row = session.get_one(WebhookDelivery, delivery_id, populate_existing=True)
    endpoint = session.get_one(WebhookEndpoint, row.endpoint_id)
    message_id, payload, attempts, event_type = row.message_id, row.payload, row.attempts, row.event_type
    endpoint_id = row.endpoint_id
    secret, url, allow_private, active = endpoint.secret, endpoint.url, endpoint.allow_private, endpoint.active
    signing = webhooks.signing_secrets(secret, endpoint.previous_secret, endpoint.previous_secret_until, now)
    session.rollback()  # nothing held open while talking to the receiver
    if not active:
        _finish(session, delivery_id, status="failed", last_error=reason(SWITCHED_OFF), next_attempt_at=None)
        return Sent(True, "failed", error=reason(SWITCHED_OFF))
    try:
        if event_type != webhooks.TEST_EVENT and _silent_lately(session, endpoint_id, delivery_id, now):
            raise _HeldBack
        private_allowed = bool(int(settings.get("WEBHOOK_ALLOW_PRIVATE") or 0))
        target = webhooks.check_url(url, allow_private=allow_private and private_allowed,
                                    may_allow=private_allowed, **({"resolve": resolve} if resolve else {}))
        answer = post(target, headers_for(message_id, signing, payload), payload.encode(),
                      timeout=attempt_seconds(settings))
    except _HeldBack:
        answer = Answer(None, reason(HELD_BACK))
    except ServiceError as exc:
        answer = Answer(None, reason(exc.msgid, **{k: str(v) for k, v in exc.params.items()}))
    except Exception as exc:  # noqa: BLE001 - a failed attempt, retried; never a row left "sending" to break again
        log.exception("webhook delivery %s: the attempt broke", delivery_id)
        answer = Answer(None, reason(N_("The connection failed: %(error)s"), error=type(exc).__name__))
    if answer.error is None:
        _finish(session, delivery_id, status="delivered", delivered_at=utcnow(), last_status_code=answer.status,
                last_error=None, next_attempt_at=None)
        return Sent(True, "delivered", answer.status)
    schedule = retry_schedule(settings)
    log.info("webhook delivery %s: attempt %s failed (%s)", delivery_id, attempts, answer.status or answer.error)
    if attempts > len(schedule):
        _finish(session, delivery_id, status="failed", last_status_code=answer.status, last_error=answer.error,
                next_attempt_at=None)
        return Sent(True, "failed", answer.status, answer.error)
    wait = schedule[attempts - 1]
    _finish(session, delivery_id, status="pending", last_status_code=answer.status, last_error=answer.error,
            next_attempt_at=utcnow() + timedelta(seconds=wait))
    return Sent(True, "pending", answer.status, answer.error, retry_in=wait)


def due(session: Session, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Deliveries to hand to the queue now (the minute tick): pending and due, and those whose worker was
    lost while sending (put back to pending first)."""
    now = now or utcnow()
    session.execute(update(WebhookDelivery)
                    .where(WebhookDelivery.status == "sending", WebhookDelivery.claimed_at < now - LOST_AFTER)
                    .values(status="pending", next_attempt_at=now).execution_options(synchronize_session=False))
    session.commit()
    return list(session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at).limit(limit)))


def purge(session: Session, now: datetime | None = None) -> int:
    """Retention: delivered deliveries go after 30 days, failed ones after 90. Returns how many went."""
    now = now or utcnow()
    gone = session.execute(delete(WebhookDelivery).where(
        ((WebhookDelivery.status == "delivered") & (WebhookDelivery.created_at < now - KEEP_DELIVERED))
        | ((WebhookDelivery.status == "failed") & (WebhookDelivery.created_at < now - KEEP_FAILED)))
        .execution_options(synchronize_session=False))
    session.commit()
    return int(getattr(gone, "rowcount", 0) or 0)


# --- the log ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeliveryInfo:
    id: int
    event_type: str
    message_id: str
    created_at: datetime
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None


def log_of(session: Session, actor: Actor, endpoint_id: int, limit: int = 100) -> list[DeliveryInfo]:
    """An endpoint's deliveries, newest first."""
    webhooks.get_endpoint(session, actor, endpoint_id)
    rows = session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
                           .order_by(WebhookDelivery.id.desc()).limit(limit)).all()
    return [DeliveryInfo(r.id, r.event_type, r.message_id, r.created_at, r.status, r.attempts, r.last_status_code,
                         r.last_error, r.next_attempt_at if r.status == "pending" else None, r.delivered_at)
            for r in rows]


def retry(session: Session, actor: Actor, delivery_id: int, endpoint_id: int | None = None) -> int:
    """A failed delivery once more, now (the admin's "opnieuw proberen"); the caller commits and dispatches.
    ``endpoint_id``: the endpoint the page named, which the delivery must belong to."""
    row = session.get(WebhookDelivery, delivery_id)
    if row is None or row.organisation_id != actor.organisation_id \
            or (endpoint_id is not None and row.endpoint_id != endpoint_id):
        raise NotFound("no such delivery")
    webhooks.get_endpoint(session, actor, row.endpoint_id)  # org.manage, own organisation
    if row.status != "failed":
        raise Conflict(N_("Only a failed delivery can be tried again."))
    if not session.scalar(select(WebhookEndpoint.active).where(WebhookEndpoint.id == row.endpoint_id)):
        raise Conflict(N_("This webhook is switched off. Switch it on first, then try again."))
    row.status, row.next_attempt_at = "pending", utcnow()
    session.flush()
    return row.id
