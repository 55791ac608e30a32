"""E-mail to residents: the outbox, and sending one queued message once.

(Filled in by the e-mail work; the queue calls ``tick`` every minute and
``send_one`` per message.)
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from surveyhub.services.job_kinds import Kind

KINDS: list[Kind] = []


def tick(session: Session, *, settings: Mapping) -> list[int]:
    """Every minute: the ids of outbox messages to hand to the queue now."""
    return []


def send_one(session: Session, message_id: int, *, settings: Mapping) -> float | None:
    """Send one queued message once; seconds to wait before trying again, or None when finished."""
    return None
