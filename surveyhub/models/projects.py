"""Projects, their waves and questionnaires, and the instrument versions they pin."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyhub.db import Base
from surveyhub.models._types import UTCDateTime, utcnow

WAVE_KINDS = ("pre", "post", "followup")


class InstrumentVersion(Base):
    """A snapshot of one instrument version as it was first used or uploaded.

    Responses score with this snapshot, so a later change to a YAML file can
    never change old scores; a changed definition under a used id and version
    is refused.
    """

    __tablename__ = "instrument_versions"
    __table_args__ = (UniqueConstraint("scope", "instrument_id", "version", name="uq_instrument_versions"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "*" for instruments from plugins and files, else the owning organisation's id.
    scope: Mapped[str] = mapped_column(String(20), default="*")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    instrument_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    #: SHA-256 of the canonical JSON of the definition.
    digest: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict] = mapped_column(JSON)
    #: Where it came from: a file path, a plugin name or "upload".
    source: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: Unique across the installation; used in URLs and on the CLI.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    #: Ask the post wave's retrospective ("then") block.
    retrospective: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Token of the anonymous project link (self-generated codes).
    anonymous_token: Mapped[str] = mapped_column(String(64), unique=True)
    #: Wording version of the consent text shown to residents.
    consent_version: Mapped[str] = mapped_column(String(20), default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Months after the last wave closes before personal data is purged; None = the organisation's default.
    retention_months: Mapped[int | None] = mapped_column(Integer)
    #: Archived projects are read-only and hidden from the worker's list.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the retention purge removed the personal data; only aggregates remain.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Residents who withdrew and were erased (counted in the method appendix).
    withdrawn_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Anonymous, suppressed report JSON kept after a purge so the impact can still be shown.
    purged_summary: Mapped[dict | None] = mapped_column(JSON)
    # --- the project's story, for page 1 and 2 of the impact report (all optional) ---
    #: Who funds the project, e.g. "Gemeente Utrecht, Initiatievenfonds".
    funder_name: Mapped[str | None] = mapped_column(String(200))
    #: When the project ran; the report's cover shows the period.
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    #: Meetings held with residents and volunteer hours given, as the worker counted them.
    meetings_held: Mapped[int | None] = mapped_column(Integer)
    volunteer_hours: Mapped[int | None] = mapped_column(Integer)
    #: The worker's recommendations, printed as written (plain text, escaped).
    recommendations: Mapped[str | None] = mapped_column(Text)
    #: The primary outcome named in the set-up, "instrument/scale"; None = Holm across all scales.
    primary_scale: Mapped[str | None] = mapped_column(String(130))
    # --- how residents meet the questionnaire ---
    #: "full" (every item) or "short" (each scale's ``short_form`` items); fixed once residents answer.
    form_length: Mapped[str] = mapped_column(String(10), default="full", server_default="full")
    #: "page" (a page per instrument block) or "one" (one question per screen, for phones).
    question_mode: Mapped[str] = mapped_column(String(10), default="page", server_default="page")
    #: The language residents see first (they may choose another the instruments have).
    language: Mapped[str] = mapped_column(String(10), default="nl", server_default="nl")
    #: E-mail reminders: the first this many days after a wave opened (None: no reminders) ...
    reminder_days: Mapped[int | None] = mapped_column(Integer)
    #: ... and at most this many per resident and wave, the same number of days apart.
    reminder_count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: Open Badges: issue a credential per resident and skill for "improvement" (reliable change at the
    #: post wave), "level" (a level reached), "either", or "off" (``models.badges.BADGE_RULES``).
    badge_rule: Mapped[str] = mapped_column(String(20), default="off", server_default="off")
    #: For level badges: the lowest level key that earns one (None: the instrument's highest level).
    badge_level: Mapped[str | None] = mapped_column(String(40))

    waves: Mapped[list[Wave]] = relationship(back_populates="project", cascade="all, delete-orphan",
                                             order_by="Wave.id")
    instruments: Mapped[list[ProjectInstrument]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectInstrument.position")
    questions: Mapped[list[ProjectQuestion]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectQuestion.position")
    outputs: Mapped[list[ProjectOutput]] = relationship(
        back_populates="project", cascade="all, delete-orphan",
        order_by="(ProjectOutput.happened_on, ProjectOutput.id)")


class ProjectOutput(Base):
    """What a project made or reached, as a worker records it: "Speeltuin geopend", 12 May, a photo."""

    __tablename__ = "project_outputs"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    happened_on: Mapped[date] = mapped_column(Date)
    #: One line, plain text (escaped wherever shown).
    description: Mapped[str] = mapped_column(String(300))
    #: Optional photo (JPEG or PNG, checked and scaled down on upload) and its media type.
    photo: Mapped[bytes | None] = mapped_column()
    photo_type: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    project: Mapped[Project] = relationship(back_populates="outputs")


class ProjectShare(Base):
    """A project an admin or worker shared with one funder: the funder sees its aggregates and reports."""

    __tablename__ = "project_shares"
    __table_args__ = (UniqueConstraint("project_id", "user_id", name="uq_project_shares_project_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Wave(Base):
    __tablename__ = "waves"
    __table_args__ = (
        UniqueConstraint("project_id", "kind", name="uq_waves_project_kind"),
        CheckConstraint("kind IN ('pre', 'post', 'followup')", name="kind"),
        CheckConstraint("status IN ('draft', 'open', 'closed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    #: pre (nulmeting), post (eindmeting) or followup (vervolgmeting).
    kind: Mapped[str] = mapped_column(String(10))
    #: draft (not yet opened), open or closed.
    status: Mapped[str] = mapped_column(String(10), default="draft")
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Opens by itself on this day (in the organisation's time zone), when still a draft.
    open_on: Mapped[date | None] = mapped_column(Date)
    #: Closes by itself after this day, when open.
    close_on: Mapped[date | None] = mapped_column(Date)

    project: Mapped[Project] = relationship(back_populates="waves")


class ProjectInstrument(Base):
    """One instrument in a project's questionnaire, pinned to a version."""

    __tablename__ = "project_instruments"
    __table_args__ = (UniqueConstraint("project_id", "instrument_id", name="uq_project_instruments"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    instrument_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    #: The snapshot this project answers and scores with.
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_versions.id"))

    project: Mapped[Project] = relationship(back_populates="instruments")
    snapshot: Mapped[InstrumentVersion] = relationship()


class ProjectQuestion(Base):
    """An extra, unscored question a worker added to a project."""

    __tablename__ = "project_questions"
    __table_args__ = (UniqueConstraint("project_id", "question_id", name="uq_project_questions"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    question_id: Mapped[str] = mapped_column(String(64))
    #: An item definition in the instrument format (type, text, answer set...).
    definition: Mapped[dict] = mapped_column(JSON)
    #: The wave kinds that ask it (["post"], ...); None = every wave.
    waves: Mapped[list | None] = mapped_column(JSON)

    project: Mapped[Project] = relationship(back_populates="questions")


class PairDecision(Base):
    """A worker's decision on a fuzzy pair of self-made codes: "confirmed" (the same resident) or "undone".

    The report pairs codes one answer apart only when unambiguous; a worker who
    knows better may undo such a pair (the two are then counted apart) or
    confirm it. ``first``/``second`` are the earlier and later wave's participants.
    """

    __tablename__ = "pair_decisions"
    __table_args__ = (
        UniqueConstraint("project_id", "first_participant_id", "second_participant_id", name="uq_pair_decisions"),
        CheckConstraint("decision IN ('confirmed', 'undone')", name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    first_participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    second_participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(String(10))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
