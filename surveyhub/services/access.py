"""Who may do what: the permission matrix, and the one place that scopes every query.

``MATRIX`` is DESIGN.md's "Roles and privacy" table in code: each capability
names the roles that hold it. Every route declares the capability it needs
(``web.session_user.requires``) and every service asks ``require`` or
``project``. Another organisation's data is reported as not found (404), never
as forbidden, so its existence does not leak; a funder sees only the projects
shared with them, and every other page of a project is a 404 to them as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.models import Organisation, Project
from surveyhub.services.errors import Forbidden, NotFound

ADMIN, WORKER, FUNDER = "admin", "worker", "funder"

#: The permission matrix: capability -> the roles that hold it.
MATRIX: dict[str, frozenset[str]] = {
    # users, roles, branding, instruments, plugins, retention, the audit log, archiving and deleting projects
    "org.manage": frozenset({ADMIN}),
    # the list of projects (a funder's list holds only projects shared with them)
    "project.list": frozenset({ADMIN, WORKER, FUNDER}),
    # set up projects, waves and questionnaires, invite residents, share with a funder
    "project.setup": frozenset({ADMIN, WORKER}),
    # names, links, QR codes, progress, individual answers and scores, paper entry, residents' rights requests
    "project.residents": frozenset({ADMIN, WORKER}),
    # row-level exports (CSV/XLSX/SAV/JSON rows), certificates, link sheets
    "project.rows": frozenset({ADMIN, WORKER}),
    # the suppressed dashboard and issued impact reports of a project (funders: only when shared)
    "project.outcomes": frozenset({ADMIN, WORKER, FUNDER}),
    # Legacy names, being replaced by the capabilities above.
    "read": frozenset({ADMIN, WORKER, FUNDER}),
    "write": frozenset({ADMIN, WORKER}),
    "manage": frozenset({ADMIN}),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a logged-in user, or the command line for one organisation."""

    organisation_id: int
    role: str
    user_id: int | None = None
    email: str | None = None
    #: Where the action comes from, for the audit trail: the client address, or "cli".
    source: str | None = None

    def can(self, capability: str) -> bool:
        """Does this role hold ``capability``? An unknown capability is a programming error."""
        return self.role in MATRIX[capability]

    @property
    def label(self) -> str:
        """Who, as the audit trail shows it."""
        return self.email or ("cli" if self.source == "cli" else self.role)


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
    return Actor(organisation_id=org_id, role="admin", source="cli")
