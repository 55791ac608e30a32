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

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from surveyhub.models import Network, NetworkMember, NetworkViewer, Organisation, Project, ProjectShare
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
    # the organisation's year report across its projects (a funder's: only the projects shared with them)
    "org.outcomes": frozenset({ADMIN, WORKER, FUNDER}),
    # the organisation's issued year and network reports (who made them, their files); revoking is org.manage
    "org.documents": frozenset({ADMIN, WORKER}),
    # start or join a neighbourhood network, opt projects in or out, let a funder read the network's report
    "network.manage": frozenset({ADMIN}),
    # a network's suppressed report (members' admins and workers; funders only when let in as a viewer)
    "network.outcomes": frozenset({ADMIN, WORKER, FUNDER}),
}


#: API token scopes: what a token may be used for, on top of what its role may do (``MATRIX``).
#: An API route names one capability and one scope (``web.api.auth.api_route``); both must hold.
SCOPES: dict[str, str] = {
    "outcomes:read": "suppressed outcomes: dashboard figures, impact report JSON, the year report",
    "projects:manage": "projects, waves, participants, their status and their personal links",
    "responses:import": "import answers from a file, as the import page does",
    "rows:export": "row-level exports (one row per resident): personal data",
    "documents:read": "issued documents: list, download, verify",
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a logged-in user, or the command line for one organisation."""

    organisation_id: int
    role: str
    user_id: int | None = None
    email: str | None = None
    #: Where the action comes from, for the audit trail: the client address, "cli", or "api:<token prefix>".
    source: str | None = None
    #: An API token's scopes (``SCOPES``); None for a logged-in user or the command line.
    scopes: frozenset[str] | None = None
    #: The API token's row id (idempotency keys are per token); None for a user or the command line.
    token_id: int | None = None

    def can(self, capability: str) -> bool:
        """Does this role hold ``capability``? An unknown capability is a programming error."""
        return self.role in MATRIX[capability]

    @property
    def label(self) -> str:
        """Who, as the audit trail shows it ("system" for waves opened and closed on their dates)."""
        if self.email:
            return self.email
        if self.source in ("cli", "system") or (self.source or "").startswith("api:"):
            return self.source or self.role
        return self.role


def require(actor: Actor, capability: str) -> None:
    """Forbidden unless the actor's role holds ``capability`` (for pages outside any one project)."""
    if not actor.can(capability):
        raise Forbidden(f"a {actor.role} may not do this")


def organisation(session: Session, actor: Actor) -> Organisation:
    org = session.get(Organisation, actor.organisation_id)
    if org is None:
        raise NotFound("organisation not found")
    return org


def project(session: Session, actor: Actor, slug: str, capability: str) -> Project:
    """The actor's project by slug, when the actor may use ``capability`` on it.

    Another organisation's project, a project not shared with a funder, or a
    capability a funder lacks: NotFound, so nothing about the project leaks.
    A worker lacking a capability (revoking a document) gets Forbidden.
    """
    found = session.scalar(visible(actor, select(Project).where(Project.slug == slug)))
    if found is None:
        raise NotFound(f"no project {slug!r}")
    check(actor, slug, capability)
    return found


def check(actor: Actor, slug: str, capability: str) -> None:
    """For a project the actor may see: NotFound for a funder lacking ``capability``, else Forbidden."""
    if not actor.can(capability):
        if actor.role == FUNDER:
            raise NotFound(f"no project {slug!r}")
        raise Forbidden(f"a {actor.role} may not do this")


def visible(actor: Actor, query):
    """Narrow a select() over ``Project`` to the projects the actor may see at all."""
    query = query.where(Project.organisation_id == actor.organisation_id)
    if actor.role == FUNDER:
        shared = select(ProjectShare.project_id).where(ProjectShare.user_id == actor.user_id)
        query = query.where(Project.id.in_(shared))
    elif actor.role not in (ADMIN, WORKER):
        query = query.where(false())
    return query


def projects_query(actor: Actor):
    """A select() of the projects the actor may list (a funder's: only those shared with them)."""
    require(actor, "project.list")
    return visible(actor, select(Project))


def cli_actor(session: Session, project_slug: str | None = None, org_id: int | None = None) -> Actor:
    """The command line acts as an admin of the organisation that owns the project."""
    if project_slug is not None:
        org_id = session.scalar(select(Project.organisation_id).where(Project.slug == project_slug))
        if org_id is None:
            raise NotFound(f"no project {project_slug!r}")
    if org_id is None:
        raise NotFound("no organisation given")
    return Actor(organisation_id=org_id, role="admin", source="cli")


def networks_query(actor: Actor):
    """A select() of the networks the actor may see: their organisation's, or (a funder) those they were let into."""
    query = select(Network)
    if actor.role == FUNDER:
        let_in = select(NetworkViewer.network_id).where(NetworkViewer.user_id == actor.user_id)
        return query.where(Network.id.in_(let_in))
    if actor.role not in (ADMIN, WORKER):
        return query.where(false())
    member_of = select(NetworkMember.network_id).where(NetworkMember.organisation_id == actor.organisation_id)
    return query.where(Network.id.in_(member_of))


def network(session: Session, actor: Actor, slug: str, capability: str) -> Network:
    """The network ``slug`` when the actor may see it and use ``capability`` on it.

    A network the actor's organisation is not a member of (or a funder was not let into) is
    NotFound, as is a capability a funder lacks; a worker lacking one gets Forbidden.
    """
    found = session.scalar(networks_query(actor).where(Network.slug == slug))
    if found is None:
        raise NotFound(f"no network {slug!r}")
    if not actor.can(capability):
        if actor.role == FUNDER:
            raise NotFound(f"no network {slug!r}")
        raise Forbidden(f"a {actor.role} may not do this")
    return found


def network_role(session: Session, actor: Actor, network_id: int) -> str | None:
    """"coordinator" or "member" for the actor's organisation in the network; None when not a member."""
    return session.scalar(select(NetworkMember.role).where(NetworkMember.network_id == network_id,
                                                            NetworkMember.organisation_id == actor.organisation_id))
