"""Who asks a resident to take part, and how to reach them: for the start, welcome-back and dead-end pages.

Residents answer more gladly when they see a face they know: the organisation
(its logo and contact line) and the community worker who set the project up
(``Project.created_by_id``: name and job title). Plain values only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.models import Organisation, Participant, Project, Token, User
from surveyhub.rendering.logo import logo_kind


@dataclass(frozen=True)
class WhoAsks:
    organisation: str
    #: One line: phone, e-mail or address (``Organisation.contact``); None when the admin left it empty.
    contact: str | None
    worker_name: str | None
    worker_title: str | None
    #: The organisation has a logo that passes the logo rules (``rendering.logo``).
    has_logo: bool


def who_asks(session: Session, project: Project) -> WhoAsks:
    org = session.get_one(Organisation, project.organisation_id)
    worker = session.get(User, project.created_by_id) if project.created_by_id is not None else None
    return WhoAsks(organisation=org.name, contact=(org.contact or "").strip() or None,
                   worker_name=(worker.name or "").strip() or None if worker is not None else None,
                   worker_title=(worker.job_title or "").strip() or None if worker is not None else None,
                   has_logo=logo_kind(org.logo, org.logo_type) is not None)


def logo(session: Session, project: Project) -> tuple[bytes, str] | None:
    """The organisation's logo and its media type, when it passes the logo rules; else None."""
    org = session.get_one(Organisation, project.organisation_id)
    kind = logo_kind(org.logo, org.logo_type)
    return (org.logo, kind) if kind is not None and org.logo else None


#: What a personal link's token is made of (``participants.new_token``: URL-safe base64).
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+")


def revoked_link_project(session: Session, token: str) -> Project | None:
    """The project of a personal link that no longer works (a new link was made), for the dead-end page.

    Only a link that once existed names its project: an unknown or guessed one names nothing.
    """
    if not token or len(token) > 64 or not _TOKEN_SHAPE.fullmatch(token):
        return None  # a link never holds other characters (and PostgreSQL refuses a NUL in a query)
    return session.scalar(select(Project).join(Participant, Participant.project_id == Project.id)
                          .join(Token, Token.participant_id == Participant.id)
                          .where(Token.token == token, Token.revoked_at.is_not(None)).limit(1))
