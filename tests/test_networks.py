"""Neighbourhood networks (issue 14, point 4): starting, joining, leaving, opting projects in, viewers.

Through ``services.networks`` on SQLite and PostgreSQL; the pages are in test_networks_pages.py,
the report in test_network_report.py, the commands in test_networks_cli.py.
"""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from surveyhub.models import AuditEvent, Network, NetworkMember, NetworkProject, NetworkViewer, Project
from surveyhub.plugins import get_registry
from surveyhub.services import networks, throttle
from surveyhub.services.access import Actor
from surveyhub.services.context import ServiceContext
from surveyhub.services.errors import Conflict, Forbidden, Invalid, NotFound
from surveyhub.services.outcomes import Thresholds


def context(app, session, org, role: str = "admin", user=None, source: str = "10.0.0.1") -> ServiceContext:
    actor = Actor(organisation_id=org.id, role=role, user_id=user.id if user else None,
                  email=user.email if user else None, source=source)
    return ServiceContext(session=session, actor=actor, registry=get_registry(app), host=None,
                          thresholds=Thresholds(), base_url="http://surveyhub.test")


class MemoryStore:
    """A throttle store in memory (the real ones are tested in test_rate_limits.py)."""

    def __init__(self):
        self.hits: dict[str, int] = {}

    def hit(self, key, seconds, now):
        self.hits[key] = self.hits.get(key, 0) + 1
        return self.hits[key]

    def peek(self, key, seconds, now):
        return self.hits.get(key, 0)

    def undo(self, key, seconds, now):
        self.hits[key] = max(0, self.hits.get(key, 0) - 1)


@pytest.fixture
def three(app, session, make_org):
    """Three organisations in one neighbourhood; the first starts a network."""
    north, south, west = make_org("Buurtwerk Noord"), make_org("Welzijn Zuid"), make_org("Dorpsteam West")
    info, code = networks.create(context(app, session, north), name="Samen Kanaleneiland",
                                 area="Kanaleneiland, Utrecht", description="Wij werken samen.")
    session.commit()
    return {"north": north, "south": south, "west": west, "slug": info.slug, "code": code}


def test_a_network_starts_with_its_organisation_as_coordinator_and_a_code_shown_once(app, session, three):
    network = session.scalar(select(Network).where(Network.slug == three["slug"]))
    assert three["slug"] == "samen-kanaleneiland" and network.area == "Kanaleneiland, Utrecht"
    [member] = network.members
    assert (member.organisation_id, member.role) == (three["north"].id, "coordinator")
    code = three["code"]
    plain = code.replace("-", "")
    assert len(plain) >= 10 and set(plain) <= set(networks.ALPHABET)
    assert not set(plain) & set("01OIL"), "an unambiguous alphabet"
    # Only the SHA-256 is stored; nothing in the database holds the code itself.
    assert network.join_code_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert code not in repr(session.scalars(select(AuditEvent)).all())
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.target == f"network:{three['slug']}")) \
        == "network.create"


def test_the_same_name_gets_another_slug_and_empty_names_are_refused(app, session, three):
    again, _code = networks.create(context(app, session, three["south"]), name="Samen Kanaleneiland", area="Utrecht")
    assert again.slug == "samen-kanaleneiland-2"
    with pytest.raises(Invalid):
        networks.create(context(app, session, three["south"]), name="  ", area="Utrecht")
    with pytest.raises(Invalid):
        networks.create(context(app, session, three["south"]), name="Naam", area="")
    with pytest.raises(Forbidden):
        networks.create(context(app, session, three["south"], role="worker"), name="Naam", area="Utrecht")


def test_joining_with_the_code_typed_loosely_and_a_clear_message_when_already_a_member(app, session, three):
    ctx = context(app, session, three["south"])
    info = networks.join(ctx, " " + three["code"].lower().replace("-", " ") + " ")
    session.commit()
    assert (info.slug, info.role, info.organisations) == (three["slug"], "member", 2)
    with pytest.raises(Conflict) as already:
        networks.join(ctx, three["code"])
    assert str(already.value) == "Your organisation is already a member of Samen Kanaleneiland."
    # The coordinating organisation's trail says who joined.
    assert session.scalar(select(AuditEvent.details).where(AuditEvent.action == "network.member_join",
                                                           AuditEvent.organisation_id == three["north"].id)) \
        == {"organisation": "Welzijn Zuid"}


def test_a_wrong_code_is_refused_and_a_new_code_or_closing_stops_the_old_one(app, session, three):
    south, west = context(app, session, three["south"]), context(app, session, three["west"])
    with pytest.raises(Invalid):
        networks.join(south, "AAAA-BBBB-CCCC")
    with pytest.raises(Invalid):
        networks.join(south, "")
    coordinator = context(app, session, three["north"])
    fresh = networks.new_join_code(coordinator, three["slug"])
    session.commit()
    with pytest.raises(Invalid):
        networks.join(south, three["code"])
    networks.join(south, fresh)
    networks.close_joining(coordinator, three["slug"])
    session.commit()
    with pytest.raises(Invalid):
        networks.join(west, fresh)
    with pytest.raises(Forbidden):  # a member's admin does not manage the code
        networks.new_join_code(south, three["slug"])
    with pytest.raises(NotFound):  # a non-member does not know the network exists
        networks.close_joining(west, three["slug"])


def test_guessing_codes_is_stopped_even_for_the_right_code_and_a_right_code_costs_nothing(app, session, three):
    limiter = throttle.Throttle(MemoryStore(), "secret")
    south = context(app, session, three["south"], source="10.0.0.7")
    tries = int(networks.JOIN_TRIES.split()[0])
    for _ in range(tries):
        with pytest.raises(Invalid):
            networks.join(south, "WRONG-CODE-XXXX", limiter=limiter)
    with pytest.raises(networks.TooManyTries):
        networks.join(south, three["code"], limiter=limiter)
    assert session.scalar(select(NetworkMember.id).where(NetworkMember.organisation_id == three["south"].id)) is None
    # Another organisation from another address is not held up, and its right code is taken off the count:
    # only the guesser's organisation and address have tries counted (each under both rates).
    networks.join(context(app, session, three["west"], source="10.0.0.8"), three["code"], limiter=limiter)
    counted = {key for key, count in limiter.store.hits.items() if count}
    assert len(counted) == 2 * len(throttle.parse(networks.JOIN_TRIES))


def test_leaving_takes_the_organisations_projects_and_funders_out(app, session, three, make_project, make_user):
    south = context(app, session, three["south"])
    networks.join(south, three["code"])
    project = make_project(three["south"], "Moestuin Zuid")
    funder = make_user("funder", three["south"])
    networks.opt_in(south, three["slug"], project.slug)
    networks.add_viewer(context(app, session, three["north"]), three["slug"], funder.email)
    session.commit()
    with pytest.raises(Conflict):  # the coordinator cannot leave while others remain
        networks.leave(context(app, session, three["north"]), three["slug"])
    assert networks.leave(south, three["slug"]) is False
    session.commit()
    assert session.scalar(select(NetworkProject.id)) is None
    assert session.scalar(select(NetworkViewer.id)) is None
    assert [m.organisation_id for m in session.scalars(select(NetworkMember))] == [three["north"].id]
    # Alone, the coordinator leaving ends the network, with its projects and viewers.
    north = context(app, session, three["north"])
    networks.opt_in(north, three["slug"], make_project(three["north"], "Speeltuin Noord").slug)
    networks.add_viewer(north, three["slug"], make_user("funder", three["north"]).email)
    session.commit()
    assert networks.leave(north, three["slug"]) is True
    session.commit()
    assert session.scalar(select(Network.id)) is None
    assert session.scalar(select(NetworkProject.id)) is None and session.scalar(select(NetworkViewer.id)) is None


def test_only_the_projects_own_admin_opts_it_in_and_only_as_a_member(app, session, three, make_project):
    south = context(app, session, three["south"])
    north_project = make_project(three["north"], "Speeltuin Noord")
    south_project = make_project(three["south"], "Moestuin Zuid")
    with pytest.raises(NotFound):  # not a member yet
        networks.opt_in(south, three["slug"], south_project.slug)
    networks.join(south, three["code"])
    with pytest.raises(NotFound):  # another organisation's project
        networks.opt_in(south, three["slug"], north_project.slug)
    with pytest.raises(Forbidden):  # a worker does not choose
        networks.opt_in(context(app, session, three["south"], role="worker"), three["slug"], south_project.slug)
    assert networks.opt_in(south, three["slug"], south_project.slug) is True
    assert networks.opt_in(south, three["slug"], south_project.slug) is False
    session.commit()
    project_id = session.scalar(select(Project.id).where(Project.slug == south_project.slug))
    assert networks.opted_in_projects(south, session.scalar(select(Network))) == {three["south"].id: [project_id]}
    assert networks.opt_out(south, three["slug"], south_project.slug) is True
    assert networks.opt_out(south, three["slug"], south_project.slug) is False
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.project_id == project_id)
                              .order_by(AuditEvent.id)).all()
    assert [a for a in actions if a.startswith("network.")] == ["network.opt_in", "network.opt_out"]


def test_a_viewer_must_be_a_funder_of_a_member_organisation(app, session, three, make_user):
    north = context(app, session, three["north"])
    own_funder, own_worker = make_user("funder", three["north"]), make_user("worker", three["north"])
    outside_funder = make_user("funder", three["west"])
    messages = set()
    for email in (own_worker.email, outside_funder.email, "nobody@example.org", ""):
        with pytest.raises(Invalid) as refused:
            networks.add_viewer(north, three["slug"], email)
        messages.add(str(refused.value))
    assert len(messages) == 1, "the same words whoever the address belongs to"
    row = networks.add_viewer(north, three["slug"], own_funder.email.upper())
    assert row.email == own_funder.email
    with pytest.raises(Conflict):
        networks.add_viewer(north, three["slug"], own_funder.email)
    session.commit()
    funder_ctx = context(app, session, three["north"], role="funder", user=own_funder)
    assert [n.role for n in networks.my_networks(funder_ctx)] == ["viewer"]
    assert networks.remove_viewer(north, three["slug"], own_funder.id) is True
    session.commit()
    assert networks.my_networks(funder_ctx) == []


def test_the_network_page_shows_members_by_name_own_projects_and_viewers_to_the_coordinator(
        app, session, three, make_project, make_user):
    south = context(app, session, three["south"])
    networks.join(south, three["code"])
    make_project(three["north"], "Speeltuin Noord")
    mine = make_project(three["south"], "Moestuin Zuid")
    networks.opt_in(south, three["slug"], mine.slug)
    funder = make_user("funder", three["north"])
    networks.add_viewer(context(app, session, three["north"]), three["slug"], funder.email)
    session.commit()
    seen = networks.view(south, three["slug"])
    assert [(m.name, m.role, m.mine) for m in seen.members] == [
        ("Buurtwerk Noord", "coordinator", False), ("Welzijn Zuid", "member", True)]
    assert [(p.name, p.opted_in) for p in seen.projects] == [("Moestuin Zuid", True)]
    assert seen.viewers == [] and not seen.coordinates and seen.manages
    coordinator = networks.view(context(app, session, three["north"]), three["slug"])
    assert [(p.name, p.opted_in) for p in coordinator.projects] == [("Speeltuin Noord", False)]
    assert [v.email for v in coordinator.viewers] == [funder.email] and coordinator.coordinates
    worker_view = networks.view(context(app, session, three["north"], role="worker"), three["slug"])
    assert not worker_view.coordinates and not worker_view.manages
    with pytest.raises(NotFound):
        networks.view(context(app, session, three["west"]), three["slug"])
