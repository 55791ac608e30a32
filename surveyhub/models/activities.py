"""What residents did in a project: activities, and who took part in which role.

A worker records an activity (a meeting, a work day, an event, a training) with its
date and hours, and ticks the residents who took part, each with a role. A resident
may add their own contribution from their link; it counts only once a worker has
confirmed it (``confirmed_at``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyhub.db import Base
from surveyhub.models._types import UTCDateTime, utcnow

#: Kinds of activity, in the order a worker's form offers them.
ACTIVITY_KINDS = ("meeting", "workday", "event", "training", "other")
#: Roles, from taking part to leading; "ever organised" means organiser or chair.
ACTIVITY_ROLES = ("participant", "volunteer", "organiser", "chair")
#: Roles that count as taking on a leading role in the exploratory analysis.
LEADING_ROLES = ("organiser", "chair")


class Activity(Base):
    """One activity of a project: "Bouwdag speeltuin", 12 May, a work day of 4 hours."""

    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint("kind IN ('meeting', 'workday', 'event', 'training', 'other')", name="kind"),
        CheckConstraint("hours >= 0 AND hours <= 24", name="hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    happened_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    #: A short name in the worker's words (plain text, escaped wherever shown); optional.
    title: Mapped[str | None] = mapped_column(String(200))
    #: How long the activity lasted; each participant's hours default to this.
    hours: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: A resident proposed this activity from their link; it counts once a worker confirms it.
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"))
    #: Set when recorded; None only while a resident's proposed activity waits for a worker. The ORM fills in
    #: "now" even when given None, so an unconfirmed row is written with a Core insert (services.contributions).
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)

    participants: Mapped[list[ActivityParticipant]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="ActivityParticipant.id")


class ActivityParticipant(Base):
    """One resident at one activity, in one role."""

    __tablename__ = "activity_participants"
    __table_args__ = (
        UniqueConstraint("activity_id", "participant_id", name="uq_activity_participants"),
        CheckConstraint("role IN ('participant', 'volunteer', 'organiser', 'chair')", name="role"),
        CheckConstraint("source IN ('worker', 'resident', 'import')", name="source"),
        CheckConstraint("hours IS NULL OR (hours >= 0 AND hours <= 24)", name="hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="participant")
    #: This resident's own hours when they differ from the activity's (came later, stayed longer).
    hours: Mapped[float | None] = mapped_column(Float)
    #: Who recorded it: a worker (page or CLI), an import, or the resident from their link.
    source: Mapped[str] = mapped_column(String(10), default="worker")
    #: The resident's own words about what they did (contributions from their link); plain text.
    note: Mapped[str | None] = mapped_column(String(300))
    #: When it started to count: at once for a worker's entry (the default), on confirmation for a
    #: resident's own (written as None with a Core insert: the ORM would fill in "now" even when given None).
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="participants")
