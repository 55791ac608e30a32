"""Withdrawal: erase everything about one resident (the AVG right to erasure).

``erase`` removes the participant and all that hangs on them — answers, scale
scores, free texts, consents, personal links, name, e-mail and self-made code —
in one transaction. Documents issued to them stay in the register (so a check
of the code can answer) but are revoked as ``withdrawn`` and no longer point
to anyone. Earlier audit events that named the resident's code now carry a
pseudonym instead, and one ``participant.erase`` event with that pseudonym
records the erasure. The project counts the withdrawal; reports and exports
leave the resident out because their rows are gone.

A resident erases through their own link (``reason="resident"``); a worker or
the command line acts on a resident's request (``reason="request"``) through
``export_for_worker`` and ``erase_for_worker``, which check the permission
matrix and audit the download.
"""

from __future__ import annotations

import secrets
import typing
from dataclasses import dataclass

from sqlalchemy import String, cast, delete, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from surveyhub.rendering import texts
from surveyhub.models import (Answer, AuditEvent, Consent, Document, Participant, Project, Response, ScaleScore,
                              Token)
from surveyhub.models._types import utcnow
from surveyhub.services import access, audit, contributions, webhooks
from surveyhub.services.access import Actor
from surveyhub.services.document_register import WITHDRAWN
from surveyhub.services.errors import N_, Invalid, NotFound
from surveyhub.services.resident_data import personal_data

#: Why a resident was erased: they withdrew through their own link, or a worker acted on their request.
REASONS = ("resident", "request")


@dataclass(frozen=True)
class Erased:
    """What an erasure removed; ``pseudonym`` is the only name the audit trail keeps."""

    pseudonym: str
    responses: int
    answers: int
    documents: int


def erase(session: Session, participant_id: int, reason: str, actor_label: str, *,
          actor: Actor | None = None) -> Erased:
    """Erase one participant and everything stored about them; the caller commits.

    :param reason: one of ``REASONS`` (never free text: it is kept in the audit trail).
    :param actor_label: who, as the audit trail shows it ("resident", or the worker's e-mail).
    :param actor: the worker or CLI actor, for the audit event's user and source.
    :raises NotFound: the participant does not exist (any more).
    """
    if reason not in REASONS:
        raise Invalid(N_("unknown reason %(reason)r"), reason=reason)
    participant = session.get(Participant, participant_id)
    if participant is None:
        raise NotFound("no such resident")
    project = session.get_one(Project, participant.project_id)
    pseudonym = "erased-" + secrets.token_hex(6)
    documents = _withdraw_documents(session, participant.id, project)
    from surveyhub.services import badges  # revoked and cut loose before the participant row goes

    badges.revoke_for_erasure(session, participant.id, pseudonym)
    _pseudonymise_audit(session, project, participant.code, pseudonym)
    responses = select(Response.id).where(Response.participant_id == participant.id)
    answers = _rows(session.execute(delete(Answer).where(Answer.response_id.in_(responses))))
    session.execute(delete(ScaleScore).where(ScaleScore.response_id.in_(responses)))
    n_responses = _rows(session.execute(delete(Response).where(Response.participant_id == participant.id)))
    session.execute(delete(Consent).where(Consent.participant_id == participant.id))
    session.execute(delete(Token).where(Token.participant_id == participant.id))
    contributions.erase_proposals(session, participant.id)  # their own words; their activity entries cascade
    if _rows(session.execute(delete(Participant).where(Participant.id == participant.id))) != 1:
        raise NotFound("no such resident")  # erased by a parallel request: the caller rolls back
    session.execute(update(Project).where(Project.id == project.id)
                    .values(withdrawn_count=Project.withdrawn_count + 1))
    webhooks.forget_participant(session, project.organisation_id, project.slug, participant.code)
    webhooks.emit(session, project.organisation_id, "participant.erased",
                  {"project": project.slug, "participant": participant.code})
    result = Erased(pseudonym, n_responses, answers, documents)
    audit.record(session, "participant.erase", actor=actor, organisation_id=project.organisation_id,
                 project_id=project.id, target=f"project:{project.slug}/{pseudonym}",
                 who=None if actor is not None else actor_label,
                 details={"reason": reason, "responses": n_responses, "documents": documents})
    session.flush()
    session.expire(project)
    return result


def _withdraw_documents(session: Session, participant_id: int, project: Project) -> int:
    """Revoke the resident's documents as withdrawn and cut their link to the resident.

    The link is cut *before* the participant row goes: the foreign key cascades, and
    the register entry must stay so that checking the code says "withdrawn".
    """
    docs = list(session.scalars(select(Document).where(Document.participant_id == participant_id)))
    now = utcnow()
    for doc in docs:
        titles = texts.TITLES.get(doc.language, texts.TITLES["nl"])
        doc.title = f"{titles.get(doc.kind, doc.kind)} — {project.name}"[:300]  # never a name
        doc.participant_id = None
        doc.revoked_at = doc.revoked_at or now
        doc.revoked_reason = WITHDRAWN
    session.flush()
    return len(docs)


#: Events whose target names a wave, never a resident.
_NOT_ABOUT_RESIDENTS = ("wave.", "responses.import")


def _pseudonymise_audit(session: Session, project: Project, code: str, pseudonym: str) -> None:
    """Replace the resident's code in earlier audit events (targets and detail values) by the pseudonym."""
    named = f"project:{project.slug}/{code}"
    candidates = session.scalars(select(AuditEvent).where(
        AuditEvent.organisation_id == project.organisation_id,
        or_(AuditEvent.target.contains(code, autoescape=True),
            cast(AuditEvent.details, String).contains(code, autoescape=True))))
    for event in candidates:
        if event.action.startswith(_NOT_ABOUT_RESIDENTS):
            continue  # "project:<slug>/pre" names a wave, even if an imported code happens to be "pre"
        if event.target == named or (event.target or "").startswith(named + "/"):
            event.target = f"project:{project.slug}/{pseudonym}" + (event.target or "")[len(named):]
        if event.details and _mentions(event.details, code):
            event.details = _replace(event.details, code, pseudonym)
    session.flush()


def _mentions(value, code: str) -> bool:
    if isinstance(value, dict):
        return any(_mentions(v, code) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, code) for v in value)
    return value == code


def _replace(value, code: str, pseudonym: str):
    if isinstance(value, dict):
        return {k: _replace(v, code, pseudonym) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, code, pseudonym) for v in value]
    return pseudonym if value == code else value


# --- on a resident's request, by a worker or the command line ----------------------------------------

def find(session: Session, actor: Actor, slug: str, code: str) -> int:
    """The id of resident ``code`` in project ``slug``; NotFound outside the actor's reach."""
    project = access.project(session, actor, slug, "project.residents")
    found = session.scalar(select(Participant.id).where(Participant.project_id == project.id,
                                                        Participant.code == code))
    if found is None:
        raise NotFound(f"no participant {code!r}")
    return found


def export_for_worker(session: Session, actor: Actor, slug: str, code: str, lang: str = "nl") -> dict:
    """Everything stored about resident ``code``, for handing to them; the download is audited."""
    participant_id = find(session, actor, slug, code)
    data = personal_data(session, participant_id, lang)
    audit.record(session, "participant.export_data", actor=actor, target=f"project:{slug}/{code}",
                 project_id=session.scalar(select(Participant.project_id)
                                           .where(Participant.id == participant_id)))
    return data


def erase_for_worker(session: Session, actor: Actor, slug: str, code: str) -> Erased:
    """Erase resident ``code`` on their request (audited with the actor)."""
    return erase(session, find(session, actor, slug, code), "request", actor.label, actor=actor)


def _rows(result: typing.Any) -> int:
    """Rows a DELETE touched (SQLAlchemy types ``Session.execute`` as a plain ``Result``)."""
    return typing.cast(CursorResult, result).rowcount
