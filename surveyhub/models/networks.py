"""Neighbourhood networks: organisations working in one neighbourhood or village, side by side.

One organisation's admin starts a network and hands the others a join code; each member's
admin chooses which of their projects count in it (``NetworkProject``). The network's report
holds only suppressed aggregates; no organisation sees another's residents. Funder users
(the municipality) are let in by the coordinating admin (``NetworkViewer``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyhub.db import Base
from surveyhub.models._types import UTCDateTime, utcnow


class Network(Base):
    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: URL- and CLI-safe name, unique across the installation.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    #: E.g. "Samen Kanaleneiland".
    name: Mapped[str] = mapped_column(String(200))
    #: The neighbourhood or village, e.g. "Kanaleneiland, Utrecht".
    area: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    #: SHA-256 of the current join code (the code itself is shown once); None: joining closed.
    join_code_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    members: Mapped[list[NetworkMember]] = relationship(back_populates="network", cascade="all, delete-orphan",
                                                        order_by="NetworkMember.id")


class NetworkMember(Base):
    """An organisation in a network; the coordinator manages the join code and the viewers."""

    __tablename__ = "network_members"
    __table_args__ = (
        UniqueConstraint("network_id", "organisation_id", name="uq_network_members"),
        CheckConstraint("role IN ('coordinator', 'member')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(12), default="member")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    network: Mapped[Network] = relationship(back_populates="members")


class NetworkProject(Base):
    """A project its organisation's admin opted into a network (only aggregates leave the organisation)."""

    __tablename__ = "network_projects"
    __table_args__ = (UniqueConstraint("network_id", "project_id", name="uq_network_projects"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NetworkViewer(Base):
    """A funder user (say the municipality's) who may read the network's report."""

    __tablename__ = "network_viewers"
    __table_args__ = (UniqueConstraint("network_id", "user_id", name="uq_network_viewers"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
