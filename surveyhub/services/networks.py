"""Neighbourhood networks: starting, joining and leaving one, opting projects in, letting a funder read.

An organisation's admin starts a network and becomes its coordinator; the other organisations
in the neighbourhood join with a code the coordinator hands them. The code is shown once and
only its SHA-256 is kept, so a leaked database holds no working code; wrong codes are counted
(``services.throttle``), so a code cannot be guessed. Each member's admin decides which of
their own projects count in the network; the coordinator's admin lets funder users (the
municipality) of member organisations read the report.

What one organisation learns about another here is its name and its role in the network; never
its projects, users or residents (the report, ``services.network_report``, holds only
suppressed aggregates). Every change is in the audit trail of the organisation that made it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from surveyhub.models import Network, NetworkMember, NetworkProject, NetworkViewer, Organisation, Project, User
from surveyhub.services import access, audit, throttle
from surveyhub.services.access import ADMIN, FUNDER
from surveyhub.services.context import ServiceContext
from surveyhub.services.errors import N_, Conflict, Forbidden, Invalid, NotFound, UserError
from surveyhub.services.slugs import unique_slug
from surveyhub.text import clean, clean_optional

#: Letters and digits nobody mixes up when reading a code aloud or typing it from paper (no 0/O, 1/I/L).
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
#: 12 characters of 31: about 59 bits, against at most a few dozen tries a day.
CODE_LENGTH = 12
#: Tries with a join code per organisation and per address, counted before the code is checked; a
#: code that works is taken back off the count, so only wrong codes use the budget.
JOIN_TRIES = "5 per 15 minutes; 20 per day"
COORDINATOR, MEMBER = "coordinator", "member"


class TooManyTries(UserError):
    """Too many wrong join codes from one organisation or address: the web answers 429."""


@dataclass(frozen=True)
class NetworkInfo:
    slug: str
    name: str
    area: str
    description: str | None
    #: The actor's place in it: "coordinator", "member" or (a funder let in) "viewer".
    role: str
    #: Member organisations.
    organisations: int


@dataclass(frozen=True)
class MemberRow:
    name: str
    role: str
    joined_at: datetime
    mine: bool


@dataclass(frozen=True)
class ProjectRow:
    """One of the actor's own organisation's projects, and whether it counts in the network."""

    slug: str
    name: str
    opted_in: bool
    archived: bool


@dataclass(frozen=True)
class ViewerRow:
    user_id: int
    email: str
    organisation: str


@dataclass(frozen=True)
class NetworkView:
    info: NetworkInfo
    members: list[MemberRow]
    #: The actor's organisation's projects (empty for a funder).
    projects: list[ProjectRow]
    #: Shown to the coordinator's admins and workers only (empty otherwise).
    viewers: list[ViewerRow]
    #: Can new organisations join with a code now?
    joining_open: bool
    #: May the actor change the join code and the viewers?
    coordinates: bool
    #: May the actor opt projects in and out and leave (the organisation's admin)?
    manages: bool


def hash_code(code: str) -> str:
    """SHA-256 of the code as typed, after dropping spaces and dashes and ignoring case."""
    return hashlib.sha256(normalise_code(code).encode("ascii", "ignore")).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in str(code).upper() if ch.isalnum())


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def _target(network: Network) -> str:
    return f"network:{network.slug}"


def _info(ctx: ServiceContext, network: Network, role: str | None) -> NetworkInfo:
    count = ctx.session.scalar(select(func.count(NetworkMember.id)).where(NetworkMember.network_id == network.id))
    shown = "viewer" if ctx.actor.role == FUNDER else (role or MEMBER)  # a funder reads; their organisation acts
    return NetworkInfo(network.slug, network.name, network.area, network.description, shown, int(count or 0))


def my_networks(ctx: ServiceContext) -> list[NetworkInfo]:
    """The networks the actor's organisation belongs to (a funder: those they were let into)."""
    access.require(ctx.actor, "network.outcomes")
    found = ctx.session.scalars(access.networks_query(ctx.actor).order_by(Network.name)).all()
    return [_info(ctx, one, access.network_role(ctx.session, ctx.actor, one.id)) for one in found]


def create(ctx: ServiceContext, *, name: str, area: str, description: str | None = None) -> tuple[NetworkInfo, str]:
    """Start a network with the actor's organisation as coordinator; returns it and its join code (shown once)."""
    access.require(ctx.actor, "network.manage")
    name, area = " ".join(clean(name or "").split()), " ".join(clean(area or "").split())
    description = clean_optional(description)
    if not name:
        raise Invalid(N_("Give the network a name."))
    if not area:
        raise Invalid(N_("Say which neighbourhood or village the network works in."))
    if len(name) > 200 or len(area) > 200 or len(description or "") > 2000:
        raise Invalid(N_("That text is too long."))
    slug = unique_slug(name, lambda s: ctx.session.scalar(select(Network.id).where(Network.slug == s)) is not None)
    code = _new_code()
    network = Network(slug=slug, name=name, area=area, description=description or None,
                      join_code_hash=hash_code(code), created_by_id=ctx.actor.user_id)
    network.members.append(NetworkMember(organisation_id=ctx.actor.organisation_id, role=COORDINATOR))
    ctx.session.add(network)
    ctx.session.flush()
    audit.record(ctx.session, "network.create", actor=ctx.actor, target=_target(network))
    return _info(ctx, network, COORDINATOR), code


def coordinator_of(session: Session, slug: str) -> int:
    """The coordinating organisation's id (the command line acts as its admin for viewers and the report)."""
    found = session.scalar(select(NetworkMember.organisation_id).join(Network, Network.id == NetworkMember.network_id)
                           .where(Network.slug == slug, NetworkMember.role == COORDINATOR))
    if found is None:
        raise NotFound(f"no network {slug!r}")
    return found


def _coordinated(ctx: ServiceContext, slug: str) -> Network:
    """The network, when the actor is an admin of its coordinating organisation."""
    network = access.network(ctx.session, ctx.actor, slug, "network.manage")
    if access.network_role(ctx.session, ctx.actor, network.id) != COORDINATOR:
        raise Forbidden("only the coordinating organisation may do this")
    return network


def new_join_code(ctx: ServiceContext, slug: str) -> str:
    """A fresh join code (the old one stops working); shown once."""
    network = _coordinated(ctx, slug)
    code = _new_code()
    network.join_code_hash = hash_code(code)
    audit.record(ctx.session, "network.join_code", actor=ctx.actor, target=_target(network))
    return code


def close_joining(ctx: ServiceContext, slug: str) -> None:
    """No code works any more until the coordinator makes a new one."""
    network = _coordinated(ctx, slug)
    network.join_code_hash = None
    audit.record(ctx.session, "network.close_joining", actor=ctx.actor, target=_target(network))


def join(ctx: ServiceContext, code: str, *, limiter: throttle.Throttle | None = None) -> NetworkInfo:
    """The actor's organisation joins the network whose current join code is ``code``.

    With a ``limiter`` every try counts against ``JOIN_TRIES`` for the organisation and for the
    address before the code is checked (so once over the limit, even the right code waits), and a
    try that works is taken back off the count.
    """
    access.require(ctx.actor, "network.manage")
    rates = throttle.parse(JOIN_TRIES)
    who = [f"org:{ctx.actor.organisation_id}", f"address:{ctx.actor.source or 'unknown'}"]
    if limiter is not None:
        allowed = [limiter.hit("network-join", rates, one) for one in who]
        if not all(allowed):
            raise TooManyTries(N_("Too many wrong join codes. Try again tomorrow, or ask the network for a new code."))
    if not normalise_code(code):
        raise Invalid(N_("Enter the join code."))
    network = ctx.session.scalar(select(Network).where(Network.join_code_hash == hash_code(code)))
    if network is None:
        raise Invalid(N_("This join code does not work. Check it, or ask the network for a new one."))
    if limiter is not None:
        for one in who:
            limiter.undo("network-join", rates, one)
    return _admit(ctx, network)


def admit(ctx: ServiceContext, slug: str) -> NetworkInfo:
    """The command line adds the actor's organisation to the network ``slug`` without a code (it is trusted)."""
    if ctx.actor.source != "cli":
        raise Forbidden("only the command line joins without a code")
    network = ctx.session.scalar(select(Network).where(Network.slug == slug))
    if network is None:
        raise NotFound(f"no network {slug!r}")
    return _admit(ctx, network)


def _admit(ctx: ServiceContext, network: Network) -> NetworkInfo:
    if access.network_role(ctx.session, ctx.actor, network.id) is not None:
        raise Conflict(N_("Your organisation is already a member of %(name)s."), name=network.name)
    ctx.session.add(NetworkMember(network_id=network.id, organisation_id=ctx.actor.organisation_id, role=MEMBER))
    ctx.session.flush()
    audit.record(ctx.session, "network.join", actor=ctx.actor, target=_target(network))
    _tell_coordinator(ctx, network, "network.member_join")
    return _info(ctx, network, MEMBER)


def _tell_coordinator(ctx: ServiceContext, network: Network, action: str) -> None:
    """The same event in the coordinating organisation's trail: who joined or left, by organisation name."""
    coordinator = ctx.session.scalar(select(NetworkMember.organisation_id).where(
        NetworkMember.network_id == network.id, NetworkMember.role == COORDINATOR))
    if coordinator is not None and coordinator != ctx.actor.organisation_id:
        name = ctx.session.scalar(select(Organisation.name).where(Organisation.id == ctx.actor.organisation_id))
        audit.record(ctx.session, action, organisation_id=coordinator, target=_target(network),
                     who="organisation", details={"organisation": name})


def leave(ctx: ServiceContext, slug: str) -> bool:
    """The actor's organisation leaves: its projects stop counting and its funders stop reading.

    A coordinator cannot leave while other organisations remain; alone, leaving ends the
    network. Returns True when the network was ended.
    """
    network = access.network(ctx.session, ctx.actor, slug, "network.manage")
    role = access.network_role(ctx.session, ctx.actor, network.id)
    others = ctx.session.scalar(select(func.count(NetworkMember.id)).where(
        NetworkMember.network_id == network.id, NetworkMember.organisation_id != ctx.actor.organisation_id))
    if role == COORDINATOR and others:
        raise Conflict(N_("You coordinate this network. Others are still in it, so you cannot leave yet."))
    audit.record(ctx.session, "network.leave", actor=ctx.actor, target=_target(network),
                 details={"ended": True} if not others else None)
    if not others:
        ctx.session.delete(network)
        ctx.session.flush()
        return True
    _tell_coordinator(ctx, network, "network.member_leave")
    own_projects = select(Project.id).where(Project.organisation_id == ctx.actor.organisation_id)
    own_users = select(User.id).where(User.organisation_id == ctx.actor.organisation_id)
    ctx.session.execute(delete(NetworkProject).where(NetworkProject.network_id == network.id,
                                                     NetworkProject.project_id.in_(own_projects)))
    ctx.session.execute(delete(NetworkViewer).where(NetworkViewer.network_id == network.id,
                                                    NetworkViewer.user_id.in_(own_users)))
    ctx.session.execute(delete(NetworkMember).where(NetworkMember.network_id == network.id,
                                                    NetworkMember.organisation_id == ctx.actor.organisation_id))
    ctx.session.flush()
    return False


def _own_project(ctx: ServiceContext, slug: str, project_slug: str) -> tuple[Network, Project]:
    network = access.network(ctx.session, ctx.actor, slug, "network.manage")
    project = ctx.project(project_slug, "project.setup")  # the actor's own organisation's, or NotFound
    return network, project


def opt_in(ctx: ServiceContext, slug: str, project_slug: str) -> bool:
    """The project counts in the network from now on; False when it already did."""
    network, project = _own_project(ctx, slug, project_slug)
    if ctx.session.scalar(select(NetworkProject.id).where(NetworkProject.network_id == network.id,
                                                          NetworkProject.project_id == project.id)):
        return False
    ctx.session.add(NetworkProject(network_id=network.id, project_id=project.id, added_by_id=ctx.actor.user_id))
    audit.record(ctx.session, "network.opt_in", actor=ctx.actor, target=_target(network), project_id=project.id)
    ctx.session.flush()
    return True


def opt_out(ctx: ServiceContext, slug: str, project_slug: str) -> bool:
    """The project no longer counts in the network; False when it did not."""
    network, project = _own_project(ctx, slug, project_slug)
    gone = ctx.session.execute(delete(NetworkProject).where(NetworkProject.network_id == network.id,
                                                            NetworkProject.project_id == project.id))
    if not gone.rowcount:  # type: ignore[attr-defined]
        return False
    audit.record(ctx.session, "network.opt_out", actor=ctx.actor, target=_target(network), project_id=project.id)
    return True


def add_viewer(ctx: ServiceContext, slug: str, email: str) -> ViewerRow:
    """Let a funder user of a member organisation read the network's report."""
    network = _coordinated(ctx, slug)
    wanted = " ".join(clean(email or "").split()).lower()
    members = select(NetworkMember.organisation_id).where(NetworkMember.network_id == network.id)
    user = ctx.session.scalar(select(User).where(User.email == wanted, User.role == FUNDER, User.active.is_(True),
                                                 User.organisation_id.in_(members))) if wanted else None
    if user is None:  # one message whether the address is unknown, another role or another organisation's
        raise Invalid(N_("No funder with this e-mail address in a member organisation. "
                         "Their organisation's admin first adds them as a funder user."))
    if ctx.session.scalar(select(NetworkViewer.id).where(NetworkViewer.network_id == network.id,
                                                         NetworkViewer.user_id == user.id)):
        raise Conflict(N_("%(email)s can already read this network's report."), email=user.email)
    ctx.session.add(NetworkViewer(network_id=network.id, user_id=user.id, added_by_id=ctx.actor.user_id))
    audit.record(ctx.session, "network.viewer_add", actor=ctx.actor, target=_target(network),
                 details={"viewer": user.email})
    ctx.session.flush()
    return ViewerRow(user.id, user.email, user.organisation.name)


def remove_viewer(ctx: ServiceContext, slug: str, user_id: int) -> bool:
    network = _coordinated(ctx, slug)
    viewer = ctx.session.scalar(select(NetworkViewer).where(NetworkViewer.network_id == network.id,
                                                            NetworkViewer.user_id == user_id))
    if viewer is None:
        return False
    email = ctx.session.scalar(select(User.email).where(User.id == user_id))
    ctx.session.delete(viewer)
    audit.record(ctx.session, "network.viewer_remove", actor=ctx.actor, target=_target(network),
                 details={"viewer": email})
    ctx.session.flush()
    return True


def view(ctx: ServiceContext, slug: str) -> NetworkView:
    """What the network's page shows the actor: members by name, their own projects, viewers (coordinator)."""
    network = access.network(ctx.session, ctx.actor, slug, "network.outcomes")
    role = access.network_role(ctx.session, ctx.actor, network.id)
    rows = ctx.session.execute(select(Organisation.id, Organisation.name, NetworkMember.role, NetworkMember.joined_at)
                               .join(NetworkMember, NetworkMember.organisation_id == Organisation.id)
                               .where(NetworkMember.network_id == network.id)
                               .order_by(NetworkMember.role, Organisation.name)).all()
    members = [MemberRow(name, member_role, joined, org_id == ctx.actor.organisation_id)
               for org_id, name, member_role, joined in rows]
    projects: list[ProjectRow] = []
    if role is not None and ctx.actor.role != FUNDER:
        opted = set(ctx.session.scalars(select(NetworkProject.project_id).where(
            NetworkProject.network_id == network.id)))
        own = ctx.session.scalars(access.projects_query(ctx.actor).order_by(Project.name)).all()
        projects = [ProjectRow(p.slug, p.name, p.id in opted, p.archived_at is not None) for p in own]
    coordinates = role == COORDINATOR and ctx.actor.role != FUNDER
    return NetworkView(info=_info(ctx, network, role), members=members, projects=projects,
                       viewers=_viewers(ctx, network) if coordinates else [],
                       joining_open=network.join_code_hash is not None,
                       coordinates=coordinates and ctx.actor.role == ADMIN,
                       manages=role is not None and ctx.actor.role == ADMIN)


def _viewers(ctx: ServiceContext, network: Network) -> list[ViewerRow]:
    rows = ctx.session.execute(select(User.id, User.email, Organisation.name)
                               .join(NetworkViewer, NetworkViewer.user_id == User.id)
                               .join(Organisation, Organisation.id == User.organisation_id)
                               .where(NetworkViewer.network_id == network.id).order_by(User.email)).all()
    return [ViewerRow(user_id, email, org) for user_id, email, org in rows]


def opted_in_projects(ctx: ServiceContext, network: Network) -> dict[int, list[int]]:
    """The network's opted-in project ids per organisation id (for the report; not shown as such)."""
    rows = ctx.session.execute(select(Project.organisation_id, Project.id)
                               .join(NetworkProject, NetworkProject.project_id == Project.id)
                               .join(NetworkMember, (NetworkMember.organisation_id == Project.organisation_id)
                                     & (NetworkMember.network_id == NetworkProject.network_id))
                               .where(NetworkProject.network_id == network.id)
                               .order_by(Project.organisation_id, Project.id)).all()
    found: dict[int, list[int]] = {}
    for org_id, project_id in rows:
        found.setdefault(org_id, []).append(project_id)
    return found
