"""Organisations, their users, and the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
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

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'worker', 'funder')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: Lower-cased e-mail address, the login name.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    #: argon2id hash.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(back_populates="users")


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
