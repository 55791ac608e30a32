"""Background jobs: a job, its small idempotent items, its result file, and the e-mail outbox.

Huey moves the work between processes and machines; these tables guarantee it
is done exactly once (``surveyhub.services.jobs``). A job is split into items
(one certificate, one report, one e-mail); each item is claimed with a
conditional UPDATE, so two workers never run the same item, and an item whose
worker was killed is found by its stale claim and run again. The result is
kept in the database in chunks (every app server and worker shares it) until
the job expires.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyhub.db import Base
from surveyhub.models._types import UTCDateTime, utcnow

JOB_STATUSES = ("queued", "running", "finishing", "done", "failed")
ITEM_STATUSES = ("pending", "running", "done", "failed")
MAIL_STATUSES = ("queued", "sending", "sent", "failed")


class Job(Base):
    """One piece of background work a user (or the system) started."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'finishing', 'done', 'failed')", name="status"),
        Index("ix_jobs_status_heartbeat", "status", "heartbeat_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: In URLs (``/jobs/<public_id>``): random, so job numbers cannot be guessed or counted.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    #: What the job makes, e.g. ``certificates.zip`` (``surveyhub.services.job_kinds``).
    kind: Mapped[str] = mapped_column(String(40))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                        index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Plain values the kind needs (slug, language, ...); never personal data beyond codes.
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    #: A line for the job list ("Certificates — Speeltuin De Bolder").
    title: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(10), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    #: Why the job failed, in words for the user (English msgid, translated when shown).
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set by every item a worker starts or finishes; a stale heartbeat gets the job's items re-enqueued.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The result and the job are deleted after this.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    result_name: Mapped[str | None] = mapped_column(String(200))
    result_type: Mapped[str | None] = mapped_column(String(80))
    result_size: Mapped[int | None] = mapped_column(Integer)
    #: When the user who started it saw that it was done (the "ready" notice stops then).
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    items: Mapped[list[JobItem]] = relationship(back_populates="job", cascade="all, delete-orphan",
                                                passive_deletes=True)


class JobItem(Base):
    """One small idempotent step of a job: one certificate, one e-mail, one whole report."""

    __tablename__ = "job_items"
    __table_args__ = (
        UniqueConstraint("job_id", "position", name="uq_job_items_position"),
        CheckConstraint("status IN ('pending', 'running', 'done', 'failed')", name="status"),
        Index("ix_job_items_job_status", "job_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    #: What the item is about, e.g. a participant code or an outbox id.
    key: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Which worker claimed it (host:pid) and when; a claim older than the stale age is taken over.
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Plain values the item produced (a document code, a file name).
    result: Mapped[dict | None] = mapped_column(JSON)
    #: The bytes the item produced (one certificate PDF) until the job's result is assembled.
    output: Mapped[bytes | None] = mapped_column(LargeBinary)
    error: Mapped[str | None] = mapped_column(Text)

    job: Mapped[Job] = relationship(back_populates="items")


class JobFile(Base):
    """The job's result, in chunks of at most 1 MiB, streamed in order when downloaded."""

    __tablename__ = "job_files"
    __table_args__ = (UniqueConstraint("job_id", "position", name="uq_job_files_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class OutboxMessage(Base):
    """One e-mail to a resident: composed when queued, sent once by a job."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name="status"),
        CheckConstraint("kind IN ('invitation', 'reminder')", name="kind"),
        Index("ix_outbox_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    #: Erasing a resident deletes their messages (the address is personal data).
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    #: invitation or reminder.
    kind: Mapped[str] = mapped_column(String(20))
    #: pre, post or followup.
    wave_kind: Mapped[str] = mapped_column(String(10))
    #: 0 for an invitation, 1, 2, ... for the reminders of one wave.
    number: Mapped[int] = mapped_column(Integer, default=0)
    #: ``kind:participant:wave:number``: the second invitation for the same wave is never queued.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(10), default="nl")
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    #: The Message-ID header, fixed when queued: a retried send is recognisably the same message.
    message_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Why sending failed, for the worker ("the mail server refused the address").
    error: Mapped[str | None] = mapped_column(Text)
    queued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
