"""Idempotency keys for the API's POSTs that make something (a project, residents).

A client that sends ``Idempotency-Key: <its own unique value>`` may send the same request again after a
timeout or a dropped connection: the work is done once, and the retry gets the same answer. The key is
stored with what the request made, in the same transaction as the work, so the two are committed
together or not at all; when two requests with one key race, the second's transaction fails on the key's
unique index and rolls back whole, and it answers as a retry. A key is kept a day (``KEEP``), per token.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from surveyhub.models import ApiIdempotencyKey
from surveyhub.models._types import utcnow

#: How long a key is remembered: a retry comes within seconds or minutes, never a day later.
KEEP = timedelta(hours=24)
#: The longest key accepted (the IETF draft's keys are UUIDs; clients may use their own).
MAX_KEY = 255


@dataclass(frozen=True)
class Remembered:
    """A request made before with this key: which operation, its fingerprint, and what it made."""

    operation: str
    fingerprint: str
    result: dict


def fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 of the request that a key stands for: the same key with another request is a client's error."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def lookup(session: Session, token_id: int, key: str, now: datetime | None = None) -> Remembered | None:
    """The request made with ``key`` by this token within ``KEEP``, else None."""
    row = session.scalar(select(ApiIdempotencyKey).where(
        ApiIdempotencyKey.token_id == token_id, ApiIdempotencyKey.key == key,
        ApiIdempotencyKey.created_at > (now or utcnow()) - KEEP))
    return Remembered(row.operation, row.fingerprint, dict(row.result or {})) if row is not None else None


def remember(session: Session, token_id: int, key: str, operation: str, fingerprint_: str, result: dict) -> None:
    """Store the key with what the work made, in the work's transaction (flushed now: a racing request with
    the same key fails here, on the unique index, and its whole transaction rolls back).

    An expired row with the same key is replaced.
    """
    session.execute(delete(ApiIdempotencyKey).where(
        ApiIdempotencyKey.token_id == token_id, ApiIdempotencyKey.key == key,
        ApiIdempotencyKey.created_at <= utcnow() - KEEP))
    session.add(ApiIdempotencyKey(token_id=token_id, key=key, operation=operation, fingerprint=fingerprint_,
                                  result=result))
    session.flush()


def purge(session: Session, now: datetime | None = None) -> int:
    """Forget keys older than ``KEEP`` (the daily task); returns how many."""
    gone = session.execute(delete(ApiIdempotencyKey).where(ApiIdempotencyKey.created_at <= (now or utcnow()) - KEEP))
    session.commit()
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]
