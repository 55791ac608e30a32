"""Participants, their links, consent, responses, answers and scale scores."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, false,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyhub.db import Base
from surveyhub.models._types import UTCDateTime, utcnow


class Participant(Base):
    """A pseudonymous resident in one project."""

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("project_id", "code", name="uq_participants_code"),
        # Not unique: a resident who lost their device cookie and link starts again as a new
        # participant with the same code, and pairing matches the two by code.
        Index("ix_participants_project_self_code", "project_id", "self_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    #: Pseudonymous code shown to workers and in exports, e.g. "R-4K7P2".
    code: Mapped[str] = mapped_column(String(64))
    #: Normalised self-generated code ("a|3|...") from the anonymous link, if any.
    self_code: Mapped[str | None] = mapped_column(String(200))
    #: Optional name for the worker's overview and the certificate.
    display_name: Mapped[str | None] = mapped_column(String(200))
    #: What the resident did in the project, in the worker's words ("organiseerde de opening"); on the certificate.
    role: Mapped[str | None] = mapped_column(String(200))
    #: Optional: invitations and reminders by e-mail; never needed to take part.
    email: Mapped[str | None] = mapped_column(String(254))
    #: The resident asked for no more reminders (the link in every reminder).
    reminders_opt_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: How the participant came in: link, anonymous, import or paper.
    source: Mapped[str] = mapped_column(String(20), default="link")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tokens: Mapped[list[Token]] = relationship(back_populates="participant", cascade="all, delete-orphan")
    responses: Mapped[list[Response]] = relationship(back_populates="participant", cascade="all, delete-orphan")


class Token(Base):
    """A personal link: ``/q/<token>``; at least 128 bits of randomness."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    #: Eight characters from an unambiguous alphabet for typing a printed link (``/k/<short_code>``).
    short_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    participant: Mapped[Participant] = relationship(back_populates="tokens")


class Consent(Base):
    """A resident's consent, with the wording version they agreed to."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    wording_version: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(10))
    #: May quotes from open answers appear (anonymously) in the funder report?
    share_quotes: Mapped[bool] = mapped_column(Boolean, default=False)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Worker who recorded a paper consent form, if any.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Response(Base):
    """One participant's answers to one wave."""

    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("participant_id", "wave_id", name="uq_responses_participant_wave"),
        CheckConstraint("status IN ('started', 'completed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="started")
    #: Index of the page the resident should see next (resume point).
    current_page: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str] = mapped_column(String(10), default="nl")
    #: Worker who typed in a paper questionnaire or imported it; None for residents.
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: web, paper or import.
    channel: Mapped[str] = mapped_column(String(10), default="web")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    participant: Mapped[Participant] = relationship(back_populates="responses")
    answers: Mapped[list[Answer]] = relationship(back_populates="response", cascade="all, delete-orphan")
    scores: Mapped[list[ScaleScore]] = relationship(back_populates="response", cascade="all, delete-orphan")


class Answer(Base):
    """One answer; ``block`` is "now", or "then" for the retrospective block."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("response_id", "block", "instrument_id", "item_id", name="uq_answers_item"),
        CheckConstraint("block IN ('now', 'then')", name="block"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    block: Mapped[str] = mapped_column(String(5), default="now")
    #: The instrument id, or "_project" for a project's extra questions.
    instrument_id: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[str] = mapped_column(String(64))
    #: Coded value as answered (before reverse coding), for scored and number items.
    value_num: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(Text)
    #: The worker chose this open answer for the report (shown only while the resident shares quotes).
    chosen_quote: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    response: Mapped[Response] = relationship(back_populates="answers")


class ScaleScore(Base):
    __tablename__ = "scale_scores"
    __table_args__ = (
        UniqueConstraint("response_id", "block", "instrument_id", "scale_id", name="uq_scale_scores"),
        CheckConstraint("block IN ('now', 'then')", name="block"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    block: Mapped[str] = mapped_column(String(5), default="now")
    instrument_id: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[int] = mapped_column(Integer)
    scale_id: Mapped[str] = mapped_column(String(64))
    #: None when fewer than min_answered items were answered.
    score: Mapped[float | None] = mapped_column(Float)
    n_answered: Mapped[int] = mapped_column(Integer, default=0)

    response: Mapped[Response] = relationship(back_populates="scores")
