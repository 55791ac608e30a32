"""What a resident did and adds themselves (``services.contributions``), on SQLite and PostgreSQL.

A worker recorded two activities; Fatima was at one as organiser. She says she was at the
other one too and proposes something else she did. Nothing she adds counts until a worker
confirms it (``participation``); adding the same thing twice is refused; a worker who does
not confirm removes it; every decision is audited without her words; her data download
holds all of it and erasure leaves none of her words behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from surveyhub.models import Activity, ActivityParticipant, AuditEvent, Participant, Project
from surveyhub.models._types import utcnow
from surveyhub.services import access, contributions, erasure, participation
from surveyhub.services.errors import Conflict, Invalid, NotFound
from surveyhub.services.resident_data import personal_data

TODAY = date(2026, 11, 30)
NOTE = "Ik heb de koffie geregeld <b>en</b> de stoelen neergezet."


@dataclass
class World:
    org: object
    slug: str
    project_id: int
    worker: access.Actor
    fatima: int
    kees: int
    fatima_code: str
    kees_code: str
    bouwdag: int
    vergadering: int


def add_activity(session, project_id: int, day: date, kind: str, title: str | None, hours: float,
                 people: dict[int, str], confirmed: bool = True) -> int:
    """An activity a worker recorded, with who took part in which role."""
    activity = Activity(project_id=project_id, happened_on=day, kind=kind, title=title, hours=hours)
    for participant_id, role in people.items():
        activity.participants.append(ActivityParticipant(participant_id=participant_id, role=role))
    session.add(activity)
    session.flush()
    if not confirmed:  # the ORM gives an explicit None its default (now): a resident's proposal is unconfirmed
        session.execute(update(Activity).where(Activity.id == activity.id).values(confirmed_at=None))
    return activity.id


@pytest.fixture
def world(session, make_org, make_user, make_project, make_participant) -> World:
    org = make_org()
    user = make_user("worker", org)
    slug = make_project(org).slug
    fatima = make_participant(org, slug, "Fatima")
    kees = make_participant(org, slug, "Kees Geheim")
    ids = dict(session.execute(select(Participant.code, Participant.id)).all())
    project_id = session.scalar(select(Project.id).where(Project.slug == slug))
    bouwdag = add_activity(session, project_id, TODAY - timedelta(days=10), "workday", "Bouwdag speeltuin", 4,
                           {ids[fatima.code]: "organiser", ids[kees.code]: "participant"})
    vergadering = add_activity(session, project_id, TODAY - timedelta(days=3), "meeting", "Bewonersavond", 2,
                               {ids[kees.code]: "chair"})
    session.commit()
    worker = access.Actor(organisation_id=org.id, role="worker", user_id=user.id, email=user.email)
    return World(org, slug, project_id, worker, ids[fatima.code], ids[kees.code], fatima.code, kees.code,
                 bouwdag, vergadering)


def test_a_resident_sees_what_a_worker_recorded_and_nothing_of_others(session, world):
    record = contributions.my_record(session, world.fatima, world.project_id)
    assert [(e.title, e.role, e.hours, e.confirmed) for e in record.done] == [
        ("Bouwdag speeltuin", "organiser", 4.0, True)]
    assert record.waiting == []
    assert record.intensity == participation.of(session, world.project_id, world.fatima)
    assert (record.intensity.activities, record.intensity.hours, record.intensity.led) == (1, 4.0, 1)
    # She may say she was at the meeting; the offer names what and when, never who else came.
    offers = contributions.offers(session, world.fatima, world.project_id, today=TODAY)
    assert [(o.activity_id, o.title, o.kind) for o in offers] == [(world.vergadering, "Bewonersavond", "meeting")]
    assert set(vars(offers[0])) == {"activity_id", "happened_on", "kind", "title"}


def test_an_offer_is_confirmed_past_and_of_this_project_only(session, world, make_project):
    add_activity(session, world.project_id, TODAY + timedelta(days=5), "event", "Straatfeest", 5, {})
    proposed = add_activity(session, world.project_id, TODAY - timedelta(days=1), "other", "Kees zijn idee", 1,
                            {world.kees: "participant"}, confirmed=False)
    other_project = session.scalar(select(Project.id).where(Project.slug == make_project(world.org, "Ander").slug))
    elsewhere = add_activity(session, other_project, TODAY - timedelta(days=1), "event", "Elders", 1, {})
    session.commit()
    offered = {o.activity_id for o in contributions.offers(session, world.fatima, world.project_id, today=TODAY)}
    assert offered == {world.vergadering}
    for activity_id in (proposed, elsewhere):
        with pytest.raises(Invalid):
            contributions.add_to_activity(session, world.fatima, world.project_id, activity_id, "participant")
        session.rollback()


def test_joining_an_activity_waits_for_a_worker_and_twice_is_already_there(session, world):
    entry = contributions.add_to_activity(session, world.fatima, world.project_id, world.vergadering, "volunteer",
                                          "  Ik  zette koffie. ")
    session.commit()
    assert (entry.confirmed, entry.note, entry.hours, entry.source) == (False, "Ik zette koffie.", 2.0, "resident")
    # Not counted before a worker confirms it.
    assert participation.of(session, world.project_id, world.fatima).activities == 1
    # Double click, back button, second try: refused, never stored twice.
    for role in ("volunteer", "organiser"):
        with pytest.raises(Conflict) as refused:
            contributions.add_to_activity(session, world.fatima, world.project_id, world.vergadering, role)
        assert refused.value.msgid == "This is already on your list."
        session.rollback()
    # Also an activity a worker already put her on.
    with pytest.raises(Conflict):
        contributions.add_to_activity(session, world.fatima, world.project_id, world.bouwdag, "participant")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ActivityParticipant)
                          .where(ActivityParticipant.participant_id == world.fatima)) == 2
    assert contributions.offers(session, world.fatima, world.project_id, today=TODAY) == []
    record = contributions.my_record(session, world.fatima, world.project_id)
    assert [e.title for e in record.waiting] == ["Bewonersavond"]


def test_something_else_is_a_proposed_activity_that_counts_once_confirmed(session, world):
    entry = contributions.propose(session, world.fatima, world.project_id, happened_on=TODAY - timedelta(days=2),
                                  kind="event", description="Soep gemaakt voor de opening", hours=2.5,
                                  role="organiser", note=NOTE, today=TODAY)
    session.commit()
    assert (entry.proposed, entry.confirmed, entry.hours) == (True, False, 2.5)
    activity = session.scalar(select(Activity).where(Activity.proposed_by_id == world.fatima))
    assert activity.confirmed_at is None and activity.title == "Soep gemaakt voor de opening"
    session.rollback()
    # The same again (another capitalisation, extra spaces) is already there.
    with pytest.raises(Conflict):
        contributions.propose(session, world.fatima, world.project_id, happened_on=TODAY - timedelta(days=2),
                              kind="event", description=" soep gemaakt  voor de opening", hours=2.5,
                              role="organiser", today=TODAY)
    session.rollback()
    assert participation.of(session, world.project_id, world.fatima).activities == 1

    [waiting] = contributions.pending(session, world.worker, world.slug)
    assert (waiting.code, waiting.name, waiting.note, waiting.proposed) == (world.fatima_code, "Fatima", NOTE, True)
    contributions.confirm(session, world.worker, world.slug, waiting.id)
    session.commit()
    counted = participation.of(session, world.project_id, world.fatima)
    assert (counted.activities, counted.hours, counted.led) == (2, 6.5, 2)
    link = session.get(ActivityParticipant, waiting.id)
    assert link.confirmed_by_id == world.worker.user_id and link.confirmed_at is not None
    assert session.get(Activity, link.activity_id).confirmed_at is not None
    assert contributions.pending(session, world.worker, world.slug) == []
    # A second click on Confirm: no longer waiting.
    with pytest.raises(NotFound):
        contributions.confirm(session, world.worker, world.slug, waiting.id)
    session.rollback()
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "contribution.confirm")).all()
    assert [e.target for e in events] == [f"project:{world.slug}/{world.fatima_code}"]
    assert "koffie" not in str(events[0].details) and events[0].user_id == world.worker.user_id


@pytest.mark.parametrize("changes, message", [
    ({"happened_on": TODAY + timedelta(days=1)}, "Choose a date from the past two years, up to today."),
    ({"happened_on": TODAY - timedelta(days=800)}, "Choose a date from the past two years, up to today."),
    ({"hours": 0}, "Fill in the hours: more than 0, at most %(n)s."),
    ({"hours": 25}, "Fill in the hours: more than 0, at most %(n)s."),
    ({"kind": "party"}, "Choose what kind of activity it was."),
    ({"role": "boss"}, "Choose what you did there."),
    ({"description": "   "}, "Write in a few words what you did."),
    ({"description": "x" * 201}, "Your description is too long. Use at most %(n)s characters."),
    ({"note": "x" * 301}, "Your note is too long. Use at most %(n)s characters."),
])
def test_a_proposal_out_of_bounds_is_refused_with_words_a_resident_can_act_on(session, world, changes, message):
    values = {"happened_on": TODAY, "kind": "workday", "description": "Geveegd", "hours": 1.0,
              "role": "volunteer", "note": None, **changes}
    with pytest.raises(Invalid) as refused:
        contributions.propose(session, world.fatima, world.project_id, today=TODAY, **values)
    assert refused.value.msgid == message
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Activity)) == 2


def test_not_confirming_removes_the_entry_and_a_proposal_nobody_else_is_on(session, world):
    joined = contributions.add_to_activity(session, world.fatima, world.project_id, world.vergadering, "chair")
    proposed = contributions.propose(session, world.fatima, world.project_id, happened_on=TODAY, kind="other",
                                     description="Flyers rondgebracht", hours=1, role="volunteer", today=TODAY)
    session.commit()
    contributions.reject(session, world.worker, world.slug, joined.id)
    contributions.reject(session, world.worker, world.slug, proposed.id)
    session.commit()
    assert session.get(Activity, world.vergadering) is not None  # the worker's activity stays
    assert session.scalar(select(func.count()).select_from(Activity)
                          .where(Activity.proposed_by_id == world.fatima)) == 0
    assert contributions.my_record(session, world.fatima, world.project_id).waiting == []
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "contribution.reject")) == 2
    with pytest.raises(NotFound):
        contributions.reject(session, world.worker, world.slug, joined.id)


def test_only_the_projects_workers_see_and_decide(session, world, make_org, make_user):
    entry = contributions.add_to_activity(session, world.fatima, world.project_id, world.vergadering, "volunteer")
    session.commit()
    funder = make_user("funder", world.org)
    stranger = make_user("admin", make_org("Welzijn Zuid"))
    for user in (funder, stranger):
        actor = access.Actor(organisation_id=user.organisation_id, role=user.role, user_id=user.id)
        for call in (contributions.pending, lambda s, a, slug: contributions.confirm(s, a, slug, entry.id),
                     lambda s, a, slug: contributions.reject(s, a, slug, entry.id)):
            with pytest.raises(NotFound):
                call(session, actor, world.slug)
            session.rollback()
    assert contributions.pending_count(session, world.project_id) == 1


def test_an_ended_project_takes_no_more_contributions(session, world):
    project = session.get(Project, world.project_id)
    project.archived_at = utcnow()
    session.commit()
    with pytest.raises(Invalid):
        contributions.add_to_activity(session, world.fatima, world.project_id, world.vergadering, "participant")
    session.rollback()
    with pytest.raises(Invalid):
        contributions.propose(session, world.fatima, world.project_id, happened_on=TODAY, kind="other",
                              description="Iets", hours=1, role="participant", today=TODAY)


def test_the_data_download_holds_the_activities_and_erasure_leaves_no_words(app, session, world):
    contributions.add_to_activity(session, world.fatima, world.project_id, world.vergadering, "volunteer", NOTE)
    contributions.propose(session, world.fatima, world.project_id, happened_on=TODAY, kind="other",
                          description="Buurtkrant rondgebracht in de Vlinderstraat", hours=1, role="volunteer",
                          today=TODAY)
    session.commit()
    data = personal_data(session, world.fatima)
    assert data["format_version"] == 3  # 3: the download lists Open Badges too (issue 15)
    assert [(a["title"], a["role"], a["confirmed"], a["recorded_by"]) for a in data["activities"]] == [
        ("Bouwdag speeltuin", "organiser", True, "worker"),
        ("Bewonersavond", "volunteer", False, "resident"),
        ("Buurtkrant rondgebracht in de Vlinderstraat", "volunteer", False, "resident")]
    assert data["activities"][1]["note"] == NOTE
    assert all("Kees" not in str(a) for a in data["activities"])

    erasure.erase(session, world.fatima, "resident", "resident")
    session.commit()
    assert session.scalar(select(func.count()).select_from(ActivityParticipant)
                          .where(ActivityParticipant.participant_id == world.fatima)) == 0
    titles = set(session.scalars(select(Activity.title)))
    assert titles == {"Bouwdag speeltuin", "Bewonersavond"}  # the worker's activities stay, her proposal is gone
    assert session.scalar(select(func.count()).select_from(ActivityParticipant)
                          .where(ActivityParticipant.note.is_not(None))) == 0
    # Kees's record is untouched.
    assert participation.of(session, world.project_id, world.kees).activities == 2


@pytest.mark.parametrize("kind_of_add", ["propose", "join"])
def test_two_clicks_at_the_same_moment_store_it_once(app, session, world, kind_of_add):
    """Two requests with the same contribution at once (a double tap on a slow phone): one stored, one refused."""
    import threading

    barrier, outcomes = threading.Barrier(2), []

    def click():
        with app.extensions["surveyhub.db"].session() as own:
            barrier.wait(timeout=30)
            try:
                if kind_of_add == "propose":
                    contributions.propose(own, world.fatima, world.project_id, happened_on=TODAY, kind="event",
                                          description="Soep gemaakt", hours=2, role="organiser", today=TODAY)
                else:
                    contributions.add_to_activity(own, world.fatima, world.project_id, world.vergadering,
                                                  "volunteer")
                own.commit()
                outcomes.append("stored")
            except Conflict:
                own.rollback()
                outcomes.append("already there")

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["already there", "stored"]
    waiting = contributions.my_record(session, world.fatima, world.project_id).waiting
    assert len(waiting) == 1
