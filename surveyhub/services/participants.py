"""Participants: pseudonymous residents, their personal links, and the anonymous project link."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from surveyhub.models import WAVE_KINDS, Participant, Project, Token
from surveyhub.services import access, audit, short_codes
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Invalid, Message
from surveyhub.services.projects import refuse_if_archived
from surveyhub.text import clean_optional

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: codes are read aloud and typed
MAX_BATCH = 5000


@dataclass(frozen=True)
class Invitation:
    code: str
    display_name: str | None
    email: str | None
    token: str
    #: The token's short code for typing (``services.short_codes``), stored form.
    short_code: str | None = None

    def link(self, base_url: str) -> str:
        return f"{base_url}/q/{self.token}"

    def short_link(self, base_url: str) -> str | None:
        return short_codes.link(base_url, self.short_code) if self.short_code else None


def new_token() -> str:
    """192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def new_code(session: Session, project_id: int, prefix: str = "R") -> str:
    while True:
        code = f"{prefix}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(5))
        if not session.scalar(select(Participant.id).where(Participant.project_id == project_id,
                                                           Participant.code == code)):
            return code


def _add_one(session: Session, project: Project, display_name: str | None, email: str | None,
             source: str = "link") -> Invitation:
    display_name, email = clean_optional(display_name), clean_optional(email)
    participant = Participant(project_id=project.id, code=new_code(session, project.id),
                              display_name=display_name, email=email, source=source)
    token = Token(token=new_token())
    participant.tokens.append(token)
    session.add(participant)
    short_codes.ensure(session, [token])  # flushes
    return Invitation(participant.code, display_name, email, token.token, token.short_code)


def parse_lines(lines: list[str]) -> list[tuple[str | None, str | None]]:
    """Each non-empty line: ``name``, ``name, e-mail`` or ``name; e-mail``; every bad line listed."""
    entries: list[tuple[str | None, str | None]] = []
    errors: list[Message] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip().lstrip("\ufeff")
        if not text:
            continue
        name_text, _sep, email_text = text.replace(";", ",").partition(",")
        name, email = name_text.strip() or None, email_text.strip() or None
        if email and "@" not in email:
            errors.append(Message(N_("line %(number)s: %(email)r is not an e-mail address"), number=number,
                                  email=email))
        elif name and len(name) > 200:
            errors.append(Message(N_("line %(number)s: the name is longer than 200 characters"), number=number))
        else:
            entries.append((name, email))
    if errors:
        raise Invalid(N_("nothing was added: %(problems)s"), problems=errors)
    return entries


def add_participants(session: Session, actor: Actor, slug: str, *, count: int | None = None,
                     entries: list[tuple[str | None, str | None]] | None = None) -> list[Invitation]:
    """Add ``count`` anonymous residents, or one per (name, e-mail) entry."""
    project = access.project(session, actor, slug, "project.setup")
    refuse_if_archived(project)
    if count is not None:
        if not 1 <= count <= MAX_BATCH:
            raise Invalid(N_("the count must be between 1 and %(max)s"), max=MAX_BATCH)
        entries = [(None, None)] * count
    if not entries:
        raise Invalid(N_("no participants given"))
    if len(entries) > MAX_BATCH:
        raise Invalid(N_("at most %(max)s participants at a time"), max=MAX_BATCH)
    invitations = [_add_one(session, project, name, email) for name, email in entries]
    audit.record(session, "participants.add", actor=actor, target=f"project:{slug}", project_id=project.id,
                 details={"count": len(invitations)})
    return invitations


def invitations(session: Session, actor: Actor, slug: str, codes: list[str]) -> list[Invitation]:
    """The residents with these codes as ``add_participants`` returned them (their working link), in the
    order given; a resident erased or without a working link since is left out (an API retry's answer)."""
    project = access.project(session, actor, slug, "project.setup")
    found = {p.code: p for p in session.scalars(select(Participant).where(
        Participant.project_id == project.id, Participant.code.in_(codes)))}
    result = []
    for code in codes:
        participant = found.get(code)
        token = next((t for t in participant.tokens if t.revoked_at is None), None) if participant else None
        if participant is not None and token is not None:
            result.append(Invitation(code, participant.display_name, participant.email, token.token,
                                     token.short_code))
    return result


def participant_by_token(session: Session, token: str) -> Participant | None:
    """The participant of an active personal link, else None."""
    found = session.scalar(select(Token).where(Token.token == token, Token.revoked_at.is_(None)))
    return found.participant if found else None


@dataclass(frozen=True)
class ParticipantRow:
    code: str
    display_name: str | None
    email: str | None
    source: str
    token: str | None
    #: wave kind -> "not_started" | "busy" | "done"
    status: dict
    #: The working link's short code (stored form), None without a working link.
    short_code: str | None = None
    #: The first open wave this resident has not finished ("pre", "post", "followup"), else None.
    next_wave: str | None = None
    #: Codes of other participants the report counts as this same resident (an own code typed again
    #: after losing the device's cookie: ``pair_review.linked_participants``); their waves are merged in.
    also: tuple[str, ...] = ()


def overview(session: Session, actor: Actor, slug: str, *, with_links: bool = False) -> list[ParticipantRow]:
    """Every participant with the state of each wave, for the worker's overview.

    ``with_links``: also each working link's short code (an older link gets one here), and the
    list of links is recorded in the audit trail (``participants.view_links``, a count, never a token).
    """
    from surveyhub.models import Response, Wave

    project = access.project(session, actor, slug, "project.residents")
    waves = {w.id: w.kind for w in project.waves}
    open_kinds = [kind for kind in WAVE_KINDS if any(w.kind == kind and w.status == "open" for w in project.waves)]
    states = {}
    for participant_id, wave_id, stored in session.execute(
            select(Response.participant_id, Response.wave_id, Response.status)
            .join(Wave).where(Wave.project_id == project.id)):
        states[(participant_id, waves[wave_id])] = "done" if stored == "completed" else "busy"
    found = list(session.scalars(select(Participant).where(Participant.project_id == project.id)
                                 .order_by(Participant.id).options(selectinload(Participant.tokens))))
    tokens = {p.id: next((t for t in p.tokens if t.revoked_at is None), None) for p in found}
    shorts: dict[int, str] = {}
    if with_links:
        working = [token for token in tokens.values() if token is not None]
        shorts = dict(zip((token.id for token in working), short_codes.ensure(session, working)))
        if working:
            audit.record(session, "participants.view_links", actor=actor, target=f"project:{slug}",
                         project_id=project.id, details={"count": len(working)})
    linked = _linked(session, project, found)
    merged: dict[int, list[Participant]] = {}
    for q in found:
        if q.id in linked:
            merged.setdefault(linked[q.id], []).append(q)
    rows = []
    for p in found:
        if p.id in linked:
            continue  # shown on the row of the resident they pair with
        token = tokens[p.id]
        others = merged.get(p.id, [])
        status = {kind: _furthest(states.get((q.id, kind), "not_started") for q in [p, *others])
                  for kind in waves.values()}
        rows.append(ParticipantRow(p.code, p.display_name, p.email, p.source, token.token if token else None,
                                   status, shorts.get(token.id) if token else None,
                                   next((kind for kind in open_kinds if status.get(kind) != "done"), None),
                                   tuple(q.code for q in others)))
    return rows


_PROGRESS = ("not_started", "busy", "done")


def _furthest(states) -> str:
    return max(states, key=_PROGRESS.index)


def _linked(session: Session, project: Project, found: list[Participant]) -> dict[int, int]:
    """Anonymous participants paired by their own code: id -> the participant whose row shows them."""
    if sum(1 for p in found if p.source == "anonymous") < 2:
        return {}
    from surveyhub.services import pair_review

    return pair_review.linked_participants(session, project)


def wave_minutes(session: Session, actor: Actor, slug: str) -> dict[str, int]:
    """Estimated minutes per wave kind, from the questions that wave asks (for invitations)."""
    from surveyhub.services import questionnaire, responses

    project = access.project(session, actor, slug, "project.residents")
    return {w.kind: questionnaire.estimated_minutes(responses.pages_for(project, w.kind)) for w in project.waves}


def get_participant(session: Session, actor: Actor, slug: str, code: str, *,
                    project: Project | None = None) -> Participant:
    """Resident ``code`` of project ``slug``; ``project``: that project, when the caller read it already."""
    from surveyhub.services.errors import NotFound

    if project is None:
        project = access.project(session, actor, slug, "project.residents")
    else:
        access.check(actor, slug, "project.residents")
    participant = session.scalar(select(Participant).where(Participant.project_id == project.id,
                                                           Participant.code == code))
    if participant is None:
        raise NotFound(f"no participant {code!r}")
    return participant


def view_link(session: Session, actor: Actor, slug: str, code: str) -> str | None:
    """The token of the participant's working personal link, for the worker who hands it out.

    Each view is in the audit trail (``participant.view_link``), naming the resident's code, never the token.
    """
    found = view_links(session, actor, slug, code)
    return found[0] if found else None


def view_links(session: Session, actor: Actor, slug: str, code: str) -> tuple[str, str] | None:
    """(token, short code) of the participant's working personal link; audited like ``view_link``.

    A link made before short codes existed gets its code here, the first time a worker looks at it.
    """
    participant = get_participant(session, actor, slug, code)
    token = next((t for t in participant.tokens if t.revoked_at is None), None)
    if token is None:
        return None
    [short_code] = short_codes.ensure(session, [token])
    audit.record(session, "participant.view_link", actor=actor, target=f"project:{slug}/{code}",
                 project_id=participant.project_id)
    return token.token, short_code


def renew_link(session: Session, actor: Actor, slug: str, code: str) -> str:
    """Revoke the participant's links and issue a new one (e.g. a link was shared by mistake)."""
    from surveyhub.models._types import utcnow

    participant = get_participant(session, actor, slug, code)
    access.require(actor, "project.residents")
    for token in participant.tokens:
        if token.revoked_at is None:
            token.revoked_at = utcnow()
    token = Token(token=new_token())
    participant.tokens.append(token)
    short_codes.ensure(session, [token])  # a new code too: the old one stops working with the old token
    audit.record(session, "participant.renew_link", actor=actor, target=f"project:{slug}/{code}",
                 project_id=participant.project_id)
    return token.token


def renew_links(session: Session, actor: Actor, slug: str, codes: list[str]) -> list[str]:
    """A new link for each resident in ``codes`` (each audited like ``renew_link``); the codes renewed.

    Unknown codes are skipped; a resident chosen twice gets one new link.
    """
    project = access.project(session, actor, slug, "project.residents")
    refuse_if_archived(project)
    known = set(session.scalars(select(Participant.code).where(Participant.project_id == project.id,
                                                               Participant.code.in_(codes))))
    renewed = [code for code in dict.fromkeys(codes) if code in known]
    for code in renewed:
        renew_link(session, actor, slug, code)
    return renewed
