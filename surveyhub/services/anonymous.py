"""The anonymous project link: residents make their own code so pre and post match without names."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveyhub.models import Participant, Project, Token
from surveyhub.services.participants import new_code, new_token

#: A letter, or "?" for "don't know"; numbers as chosen.
MAX_PART_LENGTH = 2


def normalise_parts(parts: list[str]) -> list[str]:
    """Trim, case-fold and collapse whitespace, so 'a ' and 'A' are the same answer."""
    return [" ".join(p.split()).casefold() for p in parts]


def self_code(parts: list[str]) -> str:
    normalised = normalise_parts(parts)
    if len(normalised) != 6 or any(not p for p in normalised):
        raise ValueError(_l("Answer all six questions. Don't know? Type a question mark."))
    if any(len(p) > MAX_PART_LENGTH for p in normalised):
        raise ValueError(_l("Use only the first letter."))
    return "|".join(normalised)


def project_by_token(session: Session, token: str) -> Project | None:
    if not token or len(token) > 64:
        return None
    return session.scalar(select(Project).where(Project.anonymous_token == token))


def participant_for_code(session: Session, project: Project, parts: list[str]) -> str:
    """The personal token of the participant with this code; a new participant the first time."""
    code = self_code(parts)
    query = select(Participant).where(Participant.project_id == project.id, Participant.self_code == code)
    participant = session.scalar(query)
    if participant is None:
        participant = Participant(project_id=project.id, code=new_code(session, project.id, prefix="A"),
                                  self_code=code, source="anonymous")
        participant.tokens.append(Token(token=new_token()))
        try:
            with session.begin_nested():
                session.add(participant)
        except IntegrityError:  # the same code submitted twice at once
            participant = session.scalar(query)
    active = [t for t in participant.tokens if t.revoked_at is None]
    if not active:
        token = Token(token=new_token())
        participant.tokens.append(token)
        session.flush()
        active = [token]
    return active[0].token
