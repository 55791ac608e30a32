"""Webhooks: an organisation's endpoints, the events written for them, signing and the address check.

An event becomes one ``WebhookDelivery`` per active endpoint of the organisation that subscribed to it,
written in the same transaction as the change (an outbox, like the e-mail outbox): a change that rolls
back sends nothing, and a change that is stored is sent even when the queue was away (the minute tick
finds it). After the commit the new deliveries are handed to a dispatcher the queue layer registered
(services never import Huey); ``services.webhook_delivery`` sends them.

Payloads hold no personal data beyond the pseudonymous participant code; a resident's display name is
added to ``response.completed`` only for an endpoint whose scopes hold ``projects:manage`` (the same scope
that lets an API token read residents). Never answers, scores, e-mail addresses or links.

Signing follows the Standard Webhooks convention: ``v1,`` + base64(HMAC-SHA256(secret, "id.timestamp.body")),
the secret being the base64 part after ``whsec_``.

Addresses (SSRF): a target must be http(s) without credentials, https unless an admin allowed a private
address, and its host must resolve only to public addresses unless ``allow_private``. The check runs on save
and again at every send, and the sender connects to the address it checked (no second lookup).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from surveyhub.db import after_commit
from surveyhub.models import Project, WebhookDelivery, WebhookEndpoint
from surveyhub.models._types import utcnow
from surveyhub.models.integrations import API_SCOPES, WEBHOOK_EVENTS
from surveyhub.services import access, audit
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Invalid, NotFound
from surveyhub.services.webhook_addresses import (MAX_URL, Resolver, Target, resolve_host, check_url,  # noqa: F401
                                                  refused_address)

EVENTS = WEBHOOK_EVENTS
#: The event of "Stuur testgebeurtenis": sent to one endpoint, whatever it subscribed to.
TEST_EVENT = "webhook.test"
#: The scope that lets a payload carry a resident's display name.
NAME_SCOPE = "projects:manage"
SWITCHED_OFF = N_("The endpoint is switched off.")
#: How long the previous secret still signs beside a new one, so a receiver can switch over.
SECRET_OVERLAP = timedelta(hours=24)

# --- signing -----------------------------------------------------------------------------------------------

def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header value (Standard Webhooks, ``v1``)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signatures(secrets: Iterable[str], message_id: str, timestamp: int, body: str) -> str:
    """The header value with one signature per secret, space-separated (during a secret's rotation)."""
    return " ".join(signature(secret, message_id, timestamp, body) for secret in secrets)


def signing_secrets(secret: str, previous: str | None, previous_until: datetime | None,
                    now: datetime | None = None) -> list[str]:
    """The secrets that sign a message now: the current one, and the previous one until its overlap ends."""
    if previous and previous_until is not None and previous_until > (now or utcnow()):
        return [secret, previous]
    return [secret]


def verify(secret: str, message_id: str, timestamp: int, body: str, header: str) -> bool:
    """Does one of the header's space-separated ``v1`` signatures match? (For receivers' tests and docs.)"""
    wanted = signature(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(wanted, part) for part in header.split() if part.startswith("v1,"))


def stored_reason(msgid: str, **params) -> str:
    """A failed attempt's reason as stored: msgid and parameters (translated where shown)."""
    return json.dumps({"msgid": msgid, "params": params})


# --- events --------------------------------------------------------------------------------------------------

#: engine -> weak reference to a bound method(list of delivery ids), set by the queue layer for each app.
#: Both sides are weak: the method's queue holds its app, and the app its engine, so a strong value
#: would keep every app ever made alive (one per test).
_DISPATCHERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def set_dispatcher(engine, dispatch: Callable[[list[int]], object]) -> None:
    """Who hands new deliveries to the queue once they are committed (``surveyhub.queue.init_app``):
    a bound method of an object its app keeps (the app's queue)."""
    _DISPATCHERS[engine] = weakref.WeakMethod(dispatch)  # type: ignore[arg-type]


def _dispatch_after_commit(session: Session, ids: list[int]) -> None:
    held = _DISPATCHERS.get(session.get_bind())
    dispatch = held() if held is not None else None
    if dispatch is not None and ids:
        after_commit(session, lambda: dispatch(ids))


def body(event_type: str, data: dict, now: datetime | None = None) -> str:
    """The exact JSON body: type, ISO-8601 UTC timestamp, data."""
    return json.dumps({"type": event_type, "timestamp": _iso(now or utcnow()), "data": data}, ensure_ascii=False,
                      separators=(",", ":"))


def _scopes(endpoint: WebhookEndpoint) -> set[str]:
    return set((endpoint.scopes or "").split())


def emit(session: Session, organisation_id: int, event_type: str, data: dict, *,
         named: dict | None = None) -> list[int]:
    """Write one delivery per active endpoint subscribed to ``event_type`` (in the caller's transaction).

    ``named`` is added to ``data`` only for endpoints holding ``projects:manage`` (a resident's name).
    Returns the new deliveries' ids; they are dispatched once the transaction commits.
    """
    endpoints = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == organisation_id,
                                                              WebhookEndpoint.active.is_(True))).all()
    now = utcnow()
    rows = []
    for endpoint in endpoints:
        if event_type not in (endpoint.events or []):
            continue
        payload = dict(data, **named) if named and NAME_SCOPE in _scopes(endpoint) else data
        rows.append(WebhookDelivery(endpoint_id=endpoint.id, organisation_id=organisation_id, event_type=event_type,
                                    message_id=new_message_id(), payload=body(event_type, payload, now),
                                    status="pending", attempts=0, next_attempt_at=now))
    if not rows:
        return []
    session.add_all(rows)
    session.flush()
    ids = [row.id for row in rows]
    _dispatch_after_commit(session, ids)
    return ids


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if moment else None


def response_completed(session: Session, project, wave, response, entered_by: str | None) -> list[int]:
    """``response.completed``: project, wave, the resident's code, when, and whether a worker typed it in
    (never who: a worker's address is personal data too). Their name only for ``projects:manage``."""
    participant = response.participant
    return emit(session, project.organisation_id, "response.completed",
                {"project": project.slug, "wave": wave.kind, "participant": participant.code,
                 "completed_at": _iso(response.completed_at), "entered_by": "worker" if entered_by else "resident"},
                named={"display_name": participant.display_name})


def document_issued(session: Session, organisation_id: int, project_id: int | None, *, code: str, kind: str,
                    participant_code: str | None) -> list[int]:
    """``document.issued``: its verification code, kind, project and (a certificate) the resident's code."""
    slug = session.scalar(select(Project.slug).where(Project.id == project_id)) if project_id else None
    data = {"code": code, "kind": kind, "project": slug}
    if participant_code:
        data["participant"] = participant_code
    return emit(session, organisation_id, "document.issued", data)


def by_whom(actor: Actor) -> str:
    """Who did it, without naming a person: "system" for dated waves, else the role."""
    return "system" if actor.source == "system" else actor.role


def via(actor: Actor) -> str:
    source = actor.source or ""
    if source in ("system", "cli"):
        return source
    return "api" if source.startswith("api:") else "web"


def forget_participant(session: Session, organisation_id: int, project_slug: str, code: str) -> int:
    """On erasure: delete the deliveries that mention this resident's code (a ``participant.erased``
    event stays, it is how the receiver hears to erase them too). Returns how many went."""
    return _forget(session, organisation_id, project_slug, code)


def forget_project(session: Session, organisation_id: int, project_slug: str) -> int:
    """At the end of a project's retention period: delete its deliveries that mention a resident (their
    code, and their name for a named endpoint), sent or still waiting, as their other data goes. Returns
    how many went."""
    return _forget(session, organisation_id, project_slug, None)


def _forget(session: Session, organisation_id: int, project_slug: str, code: str | None) -> int:
    needle = json.dumps(code if code is not None else project_slug, ensure_ascii=False)[1:-1]
    candidates = session.execute(select(WebhookDelivery.id, WebhookDelivery.payload).where(
        WebhookDelivery.organisation_id == organisation_id, WebhookDelivery.event_type != "participant.erased",
        WebhookDelivery.payload.contains(needle, autoescape=True))).all()
    doomed = []
    for delivery_id, payload in candidates:
        try:
            data = json.loads(payload).get("data") or {}
        except (ValueError, AttributeError):
            continue
        if data.get("project") == project_slug and data.get("participant") is not None \
                and (code is None or data.get("participant") == code):
            doomed.append(delivery_id)
    if doomed:
        session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(doomed))
                        .execution_options(synchronize_session=False))
    return len(doomed)


# --- endpoints (the admin's page and CLI) -----------------------------------------------------------------------

@dataclass(frozen=True)
class EndpointInfo:
    id: int
    url: str
    description: str
    events: list[str]
    scopes: list[str]
    allow_private: bool
    active: bool
    secret: str
    created_at: datetime
    #: Until when the previous secret still signs beside this one (after "make a new secret"), else None.
    previous_until: datetime | None = None


def _info(row: WebhookEndpoint) -> EndpointInfo:
    overlap = len(signing_secrets(row.secret, row.previous_secret, row.previous_secret_until)) > 1
    return EndpointInfo(row.id, row.url, row.description or "", list(row.events or []),
                        sorted(_scopes(row)), bool(row.allow_private), bool(row.active), row.secret, row.created_at,
                        row.previous_secret_until if overlap else None)


def _clean(events: Iterable[str], scopes: Iterable[str]) -> tuple[list[str], str]:
    chosen = [event for event in EVENTS if event in set(events)]
    unknown = set(events) - set(EVENTS)
    if unknown:
        raise Invalid(N_("unknown event %(event)r"), event=sorted(unknown)[0])
    if not chosen:
        raise Invalid(N_("Choose at least one event."))
    bad = set(scopes) - set(API_SCOPES)
    if bad:
        raise Invalid(N_("unknown scope %(scope)r"), scope=sorted(bad)[0])
    return chosen, " ".join(scope for scope in API_SCOPES if scope in set(scopes))


def _own(session: Session, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    access.require(actor, "org.manage")
    row = session.get(WebhookEndpoint, endpoint_id)
    if row is None or row.organisation_id != actor.organisation_id:
        raise NotFound("no such webhook endpoint")
    return row


def list_endpoints(session: Session, actor: Actor) -> list[EndpointInfo]:
    access.require(actor, "org.manage")
    rows = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == actor.organisation_id)
                           .order_by(WebhookEndpoint.id)).all()
    return [_info(row) for row in rows]


def get_endpoint(session: Session, actor: Actor, endpoint_id: int) -> EndpointInfo:
    return _info(_own(session, actor, endpoint_id))


def save_endpoint(session: Session, actor: Actor, *, url: str, description: str = "", events: Iterable[str],
                  scopes: Iterable[str] = (), allow_private: bool = False, endpoint_id: int | None = None,
                  resolve: Resolver = resolve_host, private_allowed: bool = False) -> EndpointInfo:
    """Add an endpoint (``endpoint_id`` None) or change one; the URL is checked (``check_url``).

    ``allow_private`` (an admin's tick for their own network) counts only where the operator permits it:
    ``private_allowed``, from the ``WEBHOOK_ALLOW_PRIVATE`` setting.
    """
    access.require(actor, "org.manage")
    events, scope_text = _clean(list(events), list(scopes))
    url = (url or "").strip()
    if allow_private and not private_allowed:
        raise Invalid(N_("This SurveyHub only sends to public addresses; its operator has not allowed "
                         "addresses on your own network."))
    check_url(url, allow_private=allow_private, resolve=resolve, may_allow=private_allowed)
    if endpoint_id is None:
        row = WebhookEndpoint(organisation_id=actor.organisation_id, secret=new_secret(), active=True,
                              created_by_id=actor.user_id)
        session.add(row)
    else:
        row = _own(session, actor, endpoint_id)
    row.url, row.description = url, (description or "").strip()[:200] or None
    row.events, row.scopes, row.allow_private = events, scope_text, bool(allow_private)
    session.flush()
    audit.record(session, "webhook.create" if endpoint_id is None else "webhook.update", actor=actor,
                 target=f"webhook:{row.id}", details={"events": events, "allow_private": bool(allow_private)})
    return _info(row)


def rotate_secret(session: Session, actor: Actor, endpoint_id: int) -> EndpointInfo:
    """A new secret. For ``SECRET_OVERLAP`` every message carries two signatures, with the new secret and
    the one it replaces, so the receiver can switch over without refusing a message; a secret that leaked
    is stopped at once with ``retire_previous_secret``."""
    row = _own(session, actor, endpoint_id)
    row.previous_secret, row.previous_secret_until = row.secret, utcnow() + SECRET_OVERLAP
    row.secret = new_secret()
    audit.record(session, "webhook.rotate", actor=actor, target=f"webhook:{row.id}")
    session.flush()
    return _info(row)


def retire_previous_secret(session: Session, actor: Actor, endpoint_id: int) -> EndpointInfo:
    """Stop signing with the previous secret now (it leaked, or the receiver has the new one already)."""
    row = _own(session, actor, endpoint_id)
    if row.previous_secret is not None:
        row.previous_secret, row.previous_secret_until = None, None
        audit.record(session, "webhook.retire_secret", actor=actor, target=f"webhook:{row.id}")
        session.flush()
    return _info(row)


def set_active(session: Session, actor: Actor, endpoint_id: int, active: bool) -> None:
    """Switch an endpoint off or on again.

    Off: no new deliveries are written, and the waiting ones fail now ("switched off") rather than at their
    next planned attempt, hours away perhaps; once it is on again the admin tries them again from the log.
    A delivery being sent at this moment finishes its attempt."""
    row = _own(session, actor, endpoint_id)
    row.active = bool(active)
    if not active:
        session.execute(update(WebhookDelivery)
                        .where(WebhookDelivery.endpoint_id == row.id, WebhookDelivery.status == "pending")
                        .values(status="failed", next_attempt_at=None, last_status_code=None,
                                last_error=stored_reason(SWITCHED_OFF))
                        .execution_options(synchronize_session=False))
    audit.record(session, "webhook.enable" if active else "webhook.disable", actor=actor, target=f"webhook:{row.id}")
    session.flush()


def delete_endpoint(session: Session, actor: Actor, endpoint_id: int) -> None:
    """Delete an endpoint with its delivery log."""
    row = _own(session, actor, endpoint_id)
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == row.id))
    audit.record(session, "webhook.delete", actor=actor, target=f"webhook:{row.id}")
    session.delete(row)
    session.flush()


def queue_test_event(session: Session, actor: Actor, endpoint_id: int) -> int:
    """A ``webhook.test`` delivery for one endpoint (whatever it subscribed to); its id, not yet sent."""
    row = _own(session, actor, endpoint_id)
    delivery = WebhookDelivery(endpoint_id=row.id, organisation_id=row.organisation_id, event_type=TEST_EVENT,
                               message_id=new_message_id(), status="pending", attempts=0, next_attempt_at=utcnow(),
                               payload=body(TEST_EVENT, {"endpoint": row.id, "message": "Test from SurveyHub"}))
    session.add(delivery)
    session.flush()
    return delivery.id
