"""Issued documents and their verification record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from surveyhub.db import Base
from surveyhub.models._types import UTCDateTime, utcnow


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("kind IN ('certificate', 'participation', 'report', 'questionnaire', 'sheet', "
                        "'org_report', 'network_report')",
                        name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public verification code, printed on the document and in its QR code.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    #: SHA-256 of the issued file, hex.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    #: The network a network report describes (``organisation_id`` is then the issuing member).
    network_id: Mapped[int | None] = mapped_column(ForeignKey("networks.id", ondelete="SET NULL"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    #: A short public title, e.g. "Certificaat — Buurttuin Noord".
    title: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(10), default="nl")
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)
