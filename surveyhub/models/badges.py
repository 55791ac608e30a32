"""Open Badges 3.0: an organisation's signing keys and the credentials it issued.

A credential is a signed statement (VC-JWT) that a resident showed growth or reached a level
on one skill (an instrument scale). The JWT is kept so the resident can download the same
credential again; its place on the organisation's status list (``status_index``) lets it be
revoked later without re-issuing anything else.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from surveyhub.db import Base
from surveyhub.models._types import UTCDateTime, utcnow

#: What a project issues badges for: nothing, reliable improvement, a level reached, or either.
BADGE_RULES = ("off", "improvement", "level", "either")
#: Why one credential was issued.
BADGE_KINDS = ("improvement", "level")


class SigningKey(Base):
    """An organisation's Ed25519 key for Open Badges (the public half is published as a JWK)."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: The JWK ``kid``: the RFC 7638 thumbprint of the public key.
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    #: The public key as a JWK (``kty: OKP, crv: Ed25519, x``).
    public_jwk: Mapped[dict] = mapped_column(JSON)
    #: The private key, PKCS#8 PEM. Never leaves the server.
    private_pem: Mapped[bytes] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: A retired key signs nothing new but stays published, so older credentials still verify.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BadgeCredential(Base):
    """One issued OpenBadgeCredential: a resident, a skill, why, and the signed JWT."""

    __tablename__ = "badge_credentials"
    __table_args__ = (
        # One valid badge per resident, skill and kind; one replaced after a correction (``badges.CORRECTED``)
        # stays revoked beside the new one.
        Index("uq_badge_credentials_award", "project_id", "participant_code", "skill", "kind", unique=True,
              sqlite_where=text("revoked_at IS NULL"), postgresql_where=text("revoked_at IS NULL")),
        UniqueConstraint("organisation_id", "status_index", name="uq_badge_credentials_status_index"),
        CheckConstraint("kind IN ('improvement', 'level')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The credential's ``id`` is ``urn:uuid:<public_id>``.
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    #: Erasing the resident revokes the credential and forgets who it was for.
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"),
                                                       index=True)
    participant_code: Mapped[str] = mapped_column(String(64))
    #: The scale code, e.g. ``cooperation@1:together``, and the instrument it comes from.
    skill: Mapped[str] = mapped_column(String(130))
    instrument_id: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    #: For a level badge: the level's key.
    level: Mapped[str | None] = mapped_column(String(40))
    #: Plain values the credential states (scores, the level's name), for pages and listings.
    facts: Mapped[dict] = mapped_column(JSON, default=dict)
    #: The bit on the organisation's status list (BitstringStatusList) that revokes it.
    status_index: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[int] = mapped_column(ForeignKey("signing_keys.id", ondelete="RESTRICT"))
    jwt: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(200))
