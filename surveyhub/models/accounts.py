"""Organisations, their users, and the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyhub.db import Base
from surveyhub.models._types import UTCDateTime, utcnow

ROLES = ("admin", "worker", "funder")


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Display name, e.g. "Buurtwerk Noord".
    name: Mapped[str] = mapped_column(String(200), unique=True)
    #: URL- and CLI-safe name, unique.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Brand colour for documents and pages (#rrggbb).
    brand_colour: Mapped[str] = mapped_column(String(7), default="#1f5f8b")
    #: Closing text on certificates (plain text, escaped when shown).
    closing_text: Mapped[str | None] = mapped_column(Text)
    #: Logo image bytes (PNG or SVG) and its media type.
    logo: Mapped[bytes | None] = mapped_column()
    logo_type: Mapped[str | None] = mapped_column(String(40))
    #: Small-number thresholds; None means the app default.
    min_pairs_means: Mapped[int | None] = mapped_column(Integer)
    min_pairs_tests: Mapped[int | None] = mapped_column(Integer)
    min_cell: Mapped[int | None] = mapped_column(Integer)
    #: Months after a project's last wave before answers may be deleted.
    retention_months: Mapped[int | None] = mapped_column(Integer)
    #: PEM key and certificate for signing PDFs (optional).
    signing_key_pem: Mapped[bytes | None] = mapped_column()
    signing_cert_pem: Mapped[bytes | None] = mapped_column()
    #: How residents and funders reach the organisation (one line: phone, e-mail, address), on certificates.
    contact: Mapped[str | None] = mapped_column(String(300))
    #: Language of certificates made in bulk; None = each resident's own language.
    certificate_language: Mapped[str | None] = mapped_column(String(10))
    #: Certificates in "landscape" (default) or "portrait".
    certificate_orientation: Mapped[str] = mapped_column(String(10), default="landscape",
                                                         server_default="landscape")
    #: May this organisation's projects count (anonymously, pooled) in the installation's reference values?
    shares_reference: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'worker', 'funder')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: Lower-cased e-mail address, the login name.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    #: What the person does, e.g. "Opbouwwerker"; printed under the signature line on certificates.
    job_title: Mapped[str | None] = mapped_column(String(200))
    #: argon2id hash.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Raised on logout-everywhere and password change; a session cookie carries the
    #: version it was made with and stops working once they differ.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Base32 TOTP secret once two-factor sign-in is switched on; None when off.
    totp_secret: Mapped[str | None] = mapped_column(String(64))

    organisation: Mapped[Organisation] = relationship(back_populates="users")


class PasswordReset(Base):
    """A one-time password reset link an admin sent; only the SHA-256 of its token is kept."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RateCounter(Base):
    """A fixed-window hit counter shared by every worker process (rate limits in the database)."""

    __tablename__ = "rate_counters"

    #: What is counted, e.g. "login:addr:203.0.113.9" or "login:account:ann@example.org".
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    #: Start of the current window, seconds since the epoch.
    window_start: Mapped[int] = mapped_column(Integer)
    hits: Mapped[int] = mapped_column(Integer, default=0)


class PluginProblem(Base):
    """A plugin failure, stored so the admin page shows it whichever worker process saw it."""

    __tablename__ = "plugin_problems"
    __table_args__ = (UniqueConstraint("plugin", "hook", name="uq_plugin_problems_plugin_hook"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin: Mapped[str] = mapped_column(String(200))
    #: The hook or stage ("import", "register", a hook name, a question type).
    hook: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: The acting user; None for the CLI or a resident.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: What happened, e.g. "user.create", "document.revoke".
    action: Mapped[str] = mapped_column(String(80))
    #: What it happened to, e.g. "project:buurttuin".
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: The project it concerns, for filtering; kept as a plain id so the trail outlives the project.
    project_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: Who, as shown then: the user's e-mail, "cli", "resident" or "system".
    actor: Mapped[str | None] = mapped_column(String(254))
    #: Where from: the client address (web) or "cli".
    source: Mapped[str | None] = mapped_column(String(64))
