"""Other systems: organisation API tokens, webhook endpoints and their deliveries.

A token is shown once and kept only as its SHA-256 (a random 256-bit secret needs no slow
hash: nothing can be guessed from the digest). A webhook endpoint's secret must be kept as
it is, because every delivery is signed with it (Standard Webhooks); it is shown to admins
only. Deliveries are an outbox like the e-mail outbox: written in the same transaction as
the event, sent once by a job, retried with growing pauses.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from surveyhub.db import Base
from surveyhub.models._types import UTCDateTime, utcnow

#: What a token may be used for; the same words on webhook endpoints decide what a payload may hold.
API_SCOPES = ("outcomes:read", "projects:manage", "responses:import", "rows:export", "documents:read")
API_TOKEN_ROLES = ("admin", "worker", "funder")
#: The events an endpoint can subscribe to.
WEBHOOK_EVENTS = ("response.completed", "wave.opened", "wave.closed", "document.issued", "participant.erased")
DELIVERY_STATUSES = ("pending", "sending", "delivered", "failed")


class ApiToken(Base):
    """An organisation's key for the JSON API: a role, scopes, and (for a funder token) the funder it reads as."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("role IN ('admin', 'worker', 'funder')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: What it is for, in the admin's words ("CRM koppeling").
    name: Mapped[str] = mapped_column(String(100))
    #: The role it acts as (a key of ``access.MATRIX``'s roles).
    role: Mapped[str] = mapped_column(String(10), default="worker")
    #: A funder token reads what this funder user may read (the projects shared with them); it dies with them.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Space-separated scopes from ``API_SCOPES``.
    scopes: Mapped[str] = mapped_column(String(200))
    #: The token's first characters, shown in lists so an admin can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(20))
    #: SHA-256 (hex) of the whole token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The client address of the last use.
    last_used_from: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ApiIdempotencyKey(Base):
    """A POST made with an ``Idempotency-Key``: what it was and what it made, so a retry gets the same answer.

    Written in the same transaction as the work, so the work and its key are stored together or not at
    all. ``result`` names what was made (project slug, resident codes), never personal data: a replay
    reads those things again. Kept a day (``services.api_idempotency.KEEP``).
    """

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_api_idempotency_keys_token_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    #: The operation ("projects.create", "participants.add") and SHA-256 of method, path and body.
    operation: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class WebhookEndpoint(Base):
    """A URL of another system that receives an organisation's events, signed with its own secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(200))
    #: Event types (``WEBHOOK_EVENTS``) it receives.
    events: Mapped[list] = mapped_column(JSON, default=list)
    #: Space-separated scopes (``API_SCOPES``): ``projects:manage`` lets a payload carry a resident's name.
    scopes: Mapped[str] = mapped_column(String(200), default="")
    #: ``whsec_`` + base64 of 32 random bytes (Standard Webhooks).
    secret: Mapped[str] = mapped_column(String(100))
    #: The secret before the last "make a new secret", still signing beside the new one until
    #: ``previous_secret_until`` (Standard Webhooks: several signatures in one header during a rotation).
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: An admin allowed a private, loopback or link-local address (an on-premises system) on purpose.
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one endpoint: the exact body signed and sent, its attempts and the last answer."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'delivered', 'failed')", name="status"),
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(60))
    #: The ``webhook-id`` header: the same on every retry, so the receiver can drop duplicates.
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: The JSON body exactly as signed.
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    #: Why the last attempt failed, in words for the admin.
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
