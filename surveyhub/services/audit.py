"""The audit trail: who did what, when."""

from __future__ import annotations

from sqlalchemy.orm import Session

from surveyhub.models import AuditEvent


def record(session: Session, action: str, *, organisation_id: int | None = None,
           user_id: int | None = None, target: str | None = None, details: dict | None = None) -> None:
    session.add(AuditEvent(action=action, organisation_id=organisation_id, user_id=user_id,
                           target=target, details=details))
