"""Who may do what: the one place that scopes every query to an organisation.

Every service that reads or changes organisation data takes an ``Actor`` and
goes through these functions. Another organisation's data is reported as not
found (404), never as forbidden, so its existence does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.models import Organisation, Project
from surveyhub.services.errors import Forbidden, NotFound

#: What each role may do. Funders read; workers run projects; admins also manage.
PERMISSIONS = {
    "admin": {"read", "write", "manage"},
    "worker": {"read", "write"},
    "funder": {"read"},
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a logged-in user, or the command line for one organisation."""

    organisation_id: int
    role: str
    user_id: int | None = None
    email: str | None = None

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, set())


def require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(f"a {actor.role} may not do this")


def organisation(session: Session, actor: Actor) -> Organisation:
    org = session.get(Organisation, actor.organisation_id)
    if org is None:
        raise NotFound("organisation not found")
    return org


def project(session: Session, actor: Actor, slug: str, permission: str = "read") -> Project:
    """The actor's project by slug; NotFound for other organisations' projects."""
    require(actor, permission)
    found = session.scalar(select(Project).where(Project.slug == slug,
                                                 Project.organisation_id == actor.organisation_id))
    if found is None:
        raise NotFound(f"no project {slug!r}")
    return found


def projects_query(actor: Actor):
    """A select() of the actor's projects, for listing."""
    require(actor, "read")
    return select(Project).where(Project.organisation_id == actor.organisation_id)


def cli_actor(session: Session, project_slug: str | None = None, org_id: int | None = None) -> Actor:
    """The command line acts as an admin of the organisation that owns the project."""
    if project_slug is not None:
        org_id = session.scalar(select(Project.organisation_id).where(Project.slug == project_slug))
        if org_id is None:
            raise NotFound(f"no project {project_slug!r}")
    if org_id is None:
        raise NotFound("no organisation given")
    return Actor(organisation_id=org_id, role="admin")
