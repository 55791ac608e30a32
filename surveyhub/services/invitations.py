"""Invitations and reminders by e-mail, waves that open and close on their dates, and the resident's opt-out.

Every message is composed when it is queued, for one resident in their
language, and stored in the outbox under a dedupe key
(``invitation:<participant>:<wave>``, ``reminder:<participant>:<wave>:<n>``):
the unique key makes a second invitation for the same wave impossible, even
when two workers press the button at once. The caller commits, then hands the
returned ids to the queue (``surveyhub.queue.get_queue().send_mail``).

E-mail is optional for residents: a resident without an address is counted
(the worker gives them the link another way), never refused.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from surveyhub.models import (WAVE_KINDS, Consent, Organisation, OutboxMessage, Participant, Project, Response,
                              Token, User, Wave)
from surveyhub.models._types import utcnow
from surveyhub.services import access, audit, mail_compose, projects, short_codes
from surveyhub.services.mail_compose import FAILED_OPTED_OUT, configured, opt_out_link
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Invalid, UserError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InviteResult:
    #: Outbox ids of the messages queued now (hand each to the queue after the commit).
    queued: list[int]
    #: Residents chosen who have no e-mail address.
    skipped_no_address: int
    #: Residents who had an invitation for this wave already.
    already_invited: int


@dataclass(frozen=True)
class SentView:
    """One message to a resident, as the worker sees it (no address, no text)."""

    kind: str  # invitation or reminder
    wave_kind: str
    number: int
    status: str  # queued, sending, sent or failed
    queued_at: datetime
    sent_at: datetime | None
    #: Why it failed, as an English msgid (translate where shown).
    error: str | None


def _wave(project: Project, wave_kind: str) -> Wave:
    if wave_kind not in WAVE_KINDS:
        raise Invalid(N_("unknown wave %(wave)r (choose pre, post or followup)"), wave=wave_kind)
    return next(w for w in project.waves if w.kind == wave_kind)


def invite(session: Session, actor: Actor, slug: str, wave_kind: str, *, participant_codes: list[str] | None = None,
           base_url: str, settings: Mapping) -> InviteResult:
    """Queue one invitation per resident with an e-mail address who has had none for this wave.

    ``participant_codes``: only these residents (None: everyone in the project). The wave must be open.
    """
    project = access.project(session, actor, slug, "project.residents")
    projects.refuse_if_archived(project)
    wave = _wave(project, wave_kind)
    if wave.status == "draft":
        raise Invalid(N_("This wave is not open yet. Open it first, then send the invitations."))
    if wave.status == "closed":
        raise Invalid(N_("This wave is closed. Invitations go out only while a wave is open."))
    if not configured(settings):
        raise UserError(N_("E-mail is not set up on this installation."))
    query = select(Participant).where(Participant.project_id == project.id).order_by(Participant.id)
    if participant_codes is not None:
        query = query.where(Participant.code.in_(list(dict.fromkeys(participant_codes))))
    chosen = list(session.scalars(query))
    result = _queue(session, project, wave_kind, "invitation", chosen, base_url=base_url, settings=settings,
                    queued_by_id=actor.user_id)
    audit.record(session, "mail.invite", actor=actor, target=f"project:{slug}/{wave_kind}", project_id=project.id,
                 details={"wave": wave_kind, "queued": len(result.queued), "no_address": result.skipped_no_address,
                          "already": result.already_invited})
    session.flush()
    return result


def _queue(session: Session, project: Project, wave_kind: str, kind: str, chosen: list[Participant], *,
           base_url: str, settings: Mapping, queued_by_id: int | None = None, number: int = 0) -> InviteResult:
    """Compose and store one message per resident in ``chosen`` (those with an address and no such message)."""
    with_address = [p for p in chosen if (p.email or "").strip()]
    keys = {p.id: _dedupe_key(kind, p.id, wave_kind, number) for p in with_address}
    taken = set()
    values = list(keys.values())
    for start in range(0, len(values), 500):
        taken |= set(session.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.in_(values[start:start + 500]))))
    common = _common(session, project, wave_kind, base_url)
    languages = _languages(session, [p.id for p in with_address])
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    tokens = _tokens(session, [p.id for p in with_address if keys[p.id] not in taken])
    codes = dict(zip(tokens, short_codes.ensure(session, list(tokens.values()))))
    queued: list[int] = []
    already = 0
    for participant in with_address:
        if keys[participant.id] in taken:
            already += 1
            continue
        token = tokens.get(participant.id)
        if token is None:  # every link was withdrawn: there is nothing to invite to
            continue
        code = codes[participant.id]
        lang = mail_compose.mail_language(languages.get(participant.id) or project.language)
        composed = mail_compose.compose(mail_compose.Facts(
            kind=kind, wave_kind=wave_kind, lang=lang, link=f"{base_url}/q/{token.token}",
            short_link=short_codes.link(base_url, code), short_code=short_codes.display(code),
            resident_name=participant.display_name,
            opt_out_url=opt_out_link(base_url, token.token) if kind == "reminder" else None, **common))
        statement = insert(OutboxMessage).values(
            organisation_id=project.organisation_id, project_id=project.id, participant_id=participant.id,
            kind=kind, wave_kind=wave_kind, number=number, dedupe_key=keys[participant.id],
            to_address=(participant.email or "").strip(), language=lang, subject=composed.subject[:300],
            body_text=composed.text, body_html=composed.html,
            message_id=mail_compose.new_message_id(str(settings.get("MAIL_FROM") or "")), status="queued",
            attempts=0, queued_by_id=queued_by_id, created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(OutboxMessage.id)
        new_id = session.execute(statement).scalar()
        if new_id is None:  # queued by someone else a moment ago
            already += 1
        else:
            queued.append(int(new_id))
    return InviteResult(queued=queued, skipped_no_address=len(chosen) - len(with_address), already_invited=already)


def _tokens(session: Session, participant_ids: list[int]) -> dict[int, Token]:
    """Each resident's working personal link (the newest), read in a few queries."""
    found: dict[int, Token] = {}
    for start in range(0, len(participant_ids), 500):
        for token in session.scalars(select(Token).where(
                Token.participant_id.in_(participant_ids[start:start + 500]), Token.revoked_at.is_(None))
                .order_by(Token.id)):
            found[token.participant_id] = token
    return found


def _dedupe_key(kind: str, participant_id: int, wave_kind: str, number: int) -> str:
    if kind == "invitation":
        return f"invitation:{participant_id}:{wave_kind}"
    return f"reminder:{participant_id}:{wave_kind}:{number}"


def _common(session: Session, project: Project, wave_kind: str, base_url: str) -> dict:
    """What every message of a project's wave says: who asks, how long it takes, whom to ask."""
    from surveyhub.services import questionnaire, responses

    org = session.get_one(Organisation, project.organisation_id)
    worker = session.get(User, project.created_by_id) if project.created_by_id is not None else None
    return {"organisation": org.name, "project": project.name,
            "minutes": questionnaire.estimated_minutes(responses.pages_for(project, wave_kind)),
            "worker_name": ((worker.name or "").strip() or None) if worker is not None else None,
            "contact": (org.contact or "").strip() or None}


def _languages(session: Session, participant_ids: list[int]) -> dict[int, str]:
    """Each resident's language: the one they last answered in, else the one they gave consent in
    (else, not in the result, the project's)."""
    found: dict[int, str] = {}
    for start in range(0, len(participant_ids), 500):
        chunk = participant_ids[start:start + 500]
        consents = session.execute(select(Consent.participant_id, Consent.language).where(
            Consent.participant_id.in_(chunk)).order_by(Consent.given_at, Consent.id))
        answered = session.execute(select(Response.participant_id, Response.language).where(
            Response.participant_id.in_(chunk)).order_by(Response.updated_at, Response.id))
        for participant_id, language in [*consents, *answered]:  # the later wins
            if language:
                found[participant_id] = language
    return found


# --- what was sent -----------------------------------------------------------------------------------

def history(session: Session, actor: Actor, slug: str, participant_code: str) -> list[SentView]:
    """What was sent to one resident, and when, oldest first."""
    from surveyhub.services.participants import get_participant

    participant = get_participant(session, actor, slug, participant_code)
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.participant_id == participant.id)
                           .order_by(OutboxMessage.created_at, OutboxMessage.id))
    return [SentView(kind=row.kind, wave_kind=row.wave_kind, number=row.number, status=row.status,
                     queued_at=row.created_at, sent_at=row.sent_at, error=row.error) for row in rows]


# --- opting out --------------------------------------------------------------------------------------

_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def opt_out(session: Session, token: str) -> bool:
    """The resident behind a personal link (also an old, renewed one) gets no more reminders.

    Reminders already queued for them are not sent. True when the link is known. Flushes; the caller commits.
    """
    if not token or not _TOKEN_SHAPE.fullmatch(token):
        return False
    participant = session.scalar(select(Participant).join(Token, Token.participant_id == Participant.id)
                                 .where(Token.token == token))
    if participant is None:
        return False
    if participant.reminders_opt_out_at is None:
        participant.reminders_opt_out_at = utcnow()
        slug, organisation_id = session.execute(select(Project.slug, Project.organisation_id)
                                                .where(Project.id == participant.project_id)).one()
        audit.record(session, "participant.reminders_opt_out", organisation_id=organisation_id,
                     target=f"project:{slug}/{participant.code}", project_id=participant.project_id,
                     who="resident")
    for message in session.scalars(select(OutboxMessage).where(
            OutboxMessage.participant_id == participant.id, OutboxMessage.kind == "reminder",
            OutboxMessage.status == "queued")):
        message.status, message.error = "failed", FAILED_OPTED_OUT
    session.flush()
    return True


# --- waves on their dates ----------------------------------------------------------------------------

def _system(organisation_id: int) -> Actor:
    return Actor(organisation_id=organisation_id, role=access.ADMIN, source="system")


def apply_wave_dates(session: Session, today: date, *, settings: Mapping | None = None) -> list[str]:
    """Open draft waves whose ``open_on`` has come and close open waves after their ``close_on``.

    The same service as a worker's button (``projects.set_wave_status``), audited as "system". A wave that
    opens by its date gets its invitations queued when e-mail is set up (``mail.tick`` hands them to the
    queue at once). A wave a worker opened again after its closing day is left open.
    Returns what changed, as ``"<slug>/<wave> opened|closed"``.
    """
    changed: list[str] = []
    zone = ZoneInfo(str((settings or {}).get("TIMEZONE") or "Europe/Amsterdam"))
    due = session.execute(
        select(Wave.kind, Wave.status, Wave.opened_at, Wave.close_on, Project.slug, Project.organisation_id)
        .join(Project)
        .where(Project.archived_at.is_(None), Project.purged_at.is_(None),
               ((Wave.status == "draft") & (Wave.open_on <= today)
                & ((Wave.close_on.is_(None)) | (Wave.close_on >= today)))
               | ((Wave.status == "open") & (Wave.close_on < today)))).all()
    for kind, status, opened_at, close_on, slug, organisation_id in due:
        target = "open" if status == "draft" else "closed"
        if target == "closed" and opened_at is not None and close_on is not None \
                and opened_at.astimezone(zone).date() > close_on:
            continue  # a worker opened it again after its closing day: theirs to close
        actor = _system(organisation_id)
        try:
            projects.set_wave_status(session, actor, slug, kind, target)
        except UserError as exc:
            log.warning("wave %s/%s could not be %s on its date: %s", slug, kind, target, exc)
            continue
        changed.append(f"{slug}/{kind} {'opened' if target == 'open' else 'closed'}")
        if target == "open" and settings is not None and configured(settings):
            try:
                invite(session, actor, slug, kind, base_url=str(settings.get("BASE_URL") or ""), settings=settings)
            except UserError as exc:
                log.warning("wave %s/%s opened on its date; its invitations could not be queued: %s", slug, kind,
                            exc)
    session.flush()
    return changed


# --- reminders ---------------------------------------------------------------------------------------

def due_reminders(session: Session, now: datetime, base_url: str, settings: Mapping) -> list[int]:
    """Queue the reminders that are due; their outbox ids.

    A resident's reminder n (1, 2, ... up to ``reminder_count``) of a wave is due ``n × reminder_days`` days
    after the wave opened, and never within ``reminder_days`` of the last message about that wave (an
    invitation sent late is not followed by a reminder the next minute). Only to residents with an address
    who have not finished the wave and did not opt out, while the wave is open.
    """
    if not configured(settings):
        return []
    rows = session.execute(select(Wave, Project).join(Project).where(
        Wave.status == "open", Wave.opened_at.is_not(None), Project.reminder_days.is_not(None),
        Project.reminder_days > 0, Project.archived_at.is_(None), Project.purged_at.is_(None))).all()
    queued: list[int] = []
    for wave, project in rows:
        days = int(project.reminder_days or 0)
        if wave.opened_at is None or now - wave.opened_at < timedelta(days=days):
            continue
        queued += _remind(session, project, wave, now, days, base_url, settings)
    session.flush()
    return queued


def _remind(session: Session, project: Project, wave: Wave, now: datetime, days: int, base_url: str,
            settings: Mapping) -> list[int]:
    """The due reminders of one wave, grouped by their number."""
    finished = exists().where(Response.participant_id == Participant.id, Response.wave_id == wave.id,
                              Response.status == "completed")
    recent = exists().where(OutboxMessage.participant_id == Participant.id, OutboxMessage.wave_kind == wave.kind,
                            OutboxMessage.created_at > now - timedelta(days=days))
    reminded = (select(func.count(OutboxMessage.id)).where(
        OutboxMessage.participant_id == Participant.id, OutboxMessage.wave_kind == wave.kind,
        OutboxMessage.kind == "reminder").correlate(Participant).scalar_subquery())
    most = max(1, int(project.reminder_count or 1))
    by_number: dict[int, list[Participant]] = {}
    for participant, sent in session.execute(select(Participant, reminded).where(
            Participant.project_id == project.id, Participant.email.is_not(None), Participant.email != "",
            Participant.reminders_opt_out_at.is_(None), ~finished, ~recent).order_by(Participant.id)):
        number = int(sent) + 1
        if number <= most and now - (wave.opened_at or now) >= timedelta(days=number * days):
            by_number.setdefault(number, []).append(participant)
    queued: list[int] = []
    for number, chosen in sorted(by_number.items()):
        result = _queue(session, project, wave.kind, "reminder", chosen, base_url=base_url, settings=settings,
                        number=number)
        if result.queued:
            audit.record(session, "mail.remind", organisation_id=project.organisation_id, who="system",
                         source="system", target=f"project:{project.slug}/{wave.kind}", project_id=project.id,
                         details={"wave": wave.kind, "number": number, "queued": len(result.queued)})
        queued += result.queued
    return queued
