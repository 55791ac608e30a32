"""The audit trail: who did what, when, where.

Services record an event with the acting ``Actor`` (who and where) in the same
transaction as the change, so an event exists exactly when the change does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from surveyhub.models import AuditEvent

if TYPE_CHECKING:
    from surveyhub.services.access import Actor


def record(session: Session, action: str, *, actor: Actor | None = None, organisation_id: int | None = None,
           user_id: int | None = None, target: str | None = None, project_id: int | None = None,
           details: dict | None = None, who: str | None = None, source: str | None = None) -> None:
    """Add one event. ``actor`` fills organisation, user, who and where unless given explicitly.

    :param action: what happened, a dotted code such as ``"participant.erase"``.
    :param target: what it happened to, e.g. ``"project:buurttuin/R-4K7P2"``; never a token or answer text.
    :param who: for events without an actor: ``"resident"``, ``"system"`` or an e-mail address.
    """
    if actor is not None:
        organisation_id = organisation_id if organisation_id is not None else actor.organisation_id
        user_id = user_id if user_id is not None else actor.user_id
        who = who or actor.label
        source = source or actor.source
    session.add(AuditEvent(action=action, organisation_id=organisation_id, user_id=user_id, target=target,
                           project_id=project_id, details=details, actor=who, source=source))
