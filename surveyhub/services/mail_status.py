"""What the worker's e-mail pages show: whom an invitation would reach, each resident's latest message,
and a resident's e-mail address (optional: nobody needs one to take part).

The counts of ``invite_preview`` follow the rule ``invitations.invite`` keeps (one invitation per resident
with an address and a working link, never a second one for the same wave), so the confirmation page says
beforehand what the button will do; the page after sending shows what ``invite`` itself counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.models import WAVE_KINDS, OutboxMessage, Participant, Project, Token
from surveyhub.services import access, audit
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Conflict, Invalid
from surveyhub.services.projects import refuse_if_archived
from surveyhub.text import clean_optional


@dataclass(frozen=True)
class InvitePreview:
    """What "mail the invitation" would do for one wave, before anything is queued."""

    wave_kind: str
    #: Residents who would get an e-mail now.
    to_send: int
    #: Residents without an e-mail address (the worker gives them the link another way).
    no_address: int
    #: Residents who had an invitation for this wave already (queued, sent or failed).
    already_invited: int
    #: The chosen residents' codes that exist in the project (all when none were chosen).
    codes: tuple[str, ...]


@dataclass(frozen=True)
class MailLine:
    """One message to a resident, as the worker sees it: never the text or the address."""

    kind: str
    wave_kind: str
    #: queued, sending, sent or failed
    status: str
    #: When it was sent, else when it was queued.
    when: datetime
    error: str | None


def dedupe_key(participant_id: int, wave_kind: str) -> str:
    """The invitation's key in the outbox (the same as ``invitations.invite`` writes)."""
    return f"invitation:{participant_id}:{wave_kind}"


def invite_preview(session: Session, actor: Actor, slug: str, wave_kind: str,
                   participant_codes: list[str] | None = None, *, draft_ok: bool = False) -> InvitePreview:
    """Count who would get an invitation for the open wave ``wave_kind`` (optionally only ``participant_codes``).

    ``draft_ok``: the wave may still be closed (the confirmation before opening it counts ahead).
    """
    project = access.project(session, actor, slug, "project.residents")
    refuse_if_archived(project)
    wave = next((w for w in project.waves if w.kind == wave_kind), None)
    if wave_kind not in WAVE_KINDS or wave is None:
        raise Invalid(N_("unknown wave %(wave)r (choose pre, post or followup)"), wave=wave_kind)
    if wave.status != "open" and not draft_ok:
        raise Conflict(N_("this wave is not open, so residents cannot fill it in yet; open the wave first"))
    query = select(Participant.id, Participant.code, Participant.email).where(Participant.project_id == project.id)
    if participant_codes is not None:
        query = query.where(Participant.code.in_(participant_codes[:5000]))
    found = session.execute(query.order_by(Participant.id)).all()
    linked = set(session.scalars(select(Token.participant_id).where(
        Token.participant_id.in_([pid for pid, _code, _email in found]), Token.revoked_at.is_(None))))
    invited = set(session.scalars(select(OutboxMessage.participant_id).where(
        OutboxMessage.project_id == project.id, OutboxMessage.kind == "invitation",
        OutboxMessage.wave_kind == wave_kind)))
    to_send = no_address = already = 0
    for pid, _code, email in found:
        if not (email or "").strip() or pid not in linked:
            no_address += 1
        elif pid in invited:
            already += 1
        else:
            to_send += 1
    return InvitePreview(wave_kind, to_send, no_address, already, tuple(code for _pid, code, _email in found))


def latest_by_code(session: Session, actor: Actor, slug: str) -> dict[str, MailLine]:
    """Each resident's most recent message (code -> line), for the compact status on the residents page."""
    project = access.project(session, actor, slug, "project.residents")
    rows = session.execute(
        select(Participant.code, OutboxMessage.kind, OutboxMessage.wave_kind, OutboxMessage.status,
               OutboxMessage.sent_at, OutboxMessage.created_at, OutboxMessage.error)
        .join(Participant, Participant.id == OutboxMessage.participant_id)
        .where(OutboxMessage.project_id == project.id).order_by(OutboxMessage.id))
    return {code: MailLine(kind, wave_kind, status, sent_at or created_at, error)
            for code, kind, wave_kind, status, sent_at, created_at, error in rows}


def normalise_address(email: str | None) -> str | None:
    """A resident's address checked (no delivery check: nothing leaves the server here), or None when empty."""
    email = (clean_optional(email) or "").strip()
    if not email:
        return None
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid(N_("this is not an e-mail address: %(email)s"), email=email[:254]) from exc


def set_email(session: Session, actor: Actor, slug: str, code: str, email: str | None) -> str | None:
    """Change or remove resident ``code``'s e-mail address; the audit trail names the resident, never the address."""
    from surveyhub.services.participants import get_participant

    project = access.project(session, actor, slug, "project.residents")
    refuse_if_archived(project)
    participant = get_participant(session, actor, slug, code, project=project)
    address = normalise_address(email)
    if address != participant.email:
        participant.email = address
        audit.record(session, "participant.email", actor=actor, target=f"project:{slug}/{code}",
                     project_id=project.id, details={"change": "removed" if address is None else "changed"})
        session.flush()
    return address


# --- the resident's opt-out page -----------------------------------------------------------------------

_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class OptOutTarget:
    """Whose reminders a link in a reminder stops, for the opt-out page."""

    #: The resident's project (its name heads the page; its instruments' languages are offered).
    project: Project
    opted_out: bool
    #: The link still opens the questionnaire (a link the worker renewed since does not, but still stops reminders).
    current: bool


def opt_out_target(session: Session, token: str) -> OptOutTarget | None:
    """The project and state behind a personal link from a reminder (also an older, renewed link); None when
    no link has that token. A token of the wrong shape never reaches the database (PostgreSQL refuses a NUL)."""
    if not _TOKEN_SHAPE.fullmatch(token or ""):
        return None
    found = session.execute(
        select(Project, Participant.reminders_opt_out_at, Token.revoked_at)
        .join(Participant, Participant.project_id == Project.id).join(Token, Token.participant_id == Participant.id)
        .where(Token.token == token)).first()
    if found is None:
        return None
    project, opted_out_at, revoked_at = found
    return OptOutTarget(project, opted_out_at is not None, revoked_at is None)
