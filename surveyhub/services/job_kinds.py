"""What a kind of job is: how one item is done, and how the done items become the result.

A kind lives beside the service it runs (``services.document_jobs``,
``services.mail``) as a ``Kind`` value in that module's ``KINDS`` list;
``surveyhub.queue`` collects them. Every step must be idempotent: an item may
run twice (a duplicated task, a worker killed after the work but before the
record), so it must not issue a second certificate or send a second e-mail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from surveyhub.services.context import ServiceContext


@dataclass(frozen=True)
class JobRun:
    """What a kind's steps get: the service context (acting as the user who started the job), the job's
    parameters, the app's settings, and a heartbeat for long steps."""

    ctx: ServiceContext
    params: Mapping
    settings: Mapping
    job_id: int
    beat: Callable[[], None] = field(default=lambda: None)


@dataclass(frozen=True)
class ItemDone:
    """What one item produced: plain values to keep, and bytes for the result (one certificate PDF)."""

    result: dict | None = None
    output: bytes | None = None


@dataclass(frozen=True)
class ResultFile:
    """The job's downloadable result."""

    name: str
    mime: str
    chunks: Iterable[bytes]


@dataclass(frozen=True)
class Kind:
    """One kind of job."""

    name: str
    #: Who may start it and download its result (a key of ``access.MATRIX``).
    capability: str
    #: Do one item (its key, e.g. a participant code); raise ``UserError`` for a failure no retry mends.
    run_item: Callable[[JobRun, str], ItemDone]
    #: Make the result from the done items (``services.jobs.outputs``); None: the items are the result.
    finish: Callable[[JobRun], ResultFile | None] | None = None
    #: Days the result is kept.
    keep_days: int = 7
