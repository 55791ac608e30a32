"""Activities as a worker records them (``services.activities``, ``services.activity_import``), on both backends.

What a worker does: record an activity with the residents who took part and their roles, change it,
delete it, import a spreadsheet of them; what they then see: the list newest first and per resident
the activities, hours and roles, read through ``services.participation`` (never counted again).
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, insert, select, update

from surveyhub.models import Activity, ActivityParticipant, AuditEvent, Participant
from surveyhub.plugins import get_registry
from surveyhub.services import access, activities, activity_import, archive, erasure, participation
from surveyhub.services.context import ServiceContext
from surveyhub.services.errors import Conflict, Invalid, NotFound
from surveyhub.services.imports import ImportRefused
from surveyhub.services.outcomes import Thresholds

TODAY = date.today()


def context(app, session, org_id: int, role: str = "worker", user_id: int | None = None) -> ServiceContext:
    return ServiceContext(session=session, actor=access.Actor(organisation_id=org_id, role=role, user_id=user_id,
                                                              source="test"),
                          registry=get_registry(app), host=None, thresholds=Thresholds(), base_url="http://t")


@pytest.fixture
def place(app, session, make_org, make_project, make_participant):
    """A project with four residents: Anna, Bram, Cas (named) and one with only a code."""
    org = make_org("Buurtwerk Activiteiten")
    slug = make_project(org, "Speeltuin").slug
    codes = {name: make_participant(org, slug, name).code for name in ("Anna", "Bram", "Cas")}
    codes["anon"] = make_participant(org, slug, None).code
    return {"org": org, "slug": slug, "codes": codes, "ctx": context(app, session, org.id)}


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_a_worker_records_activities_and_sees_them_newest_first_with_each_residents_profile(session, place):
    ctx, slug, c = place["ctx"], place["slug"], place["codes"]
    first = activities.record(ctx, slug, happened_on=TODAY - timedelta(days=10), kind="Vergadering", hours="1,5",
                              title="  Eerste   bewonersavond ",
                              participants=[(c["Anna"], "voorzitter", None), (c["Bram"], None, None)])
    second = activities.record(ctx, slug, happened_on=(TODAY - timedelta(days=2)).isoformat(), kind="werkdag",
                               hours=4, participants=[(c["Anna"], "organiser", None), (c["Bram"], "vrijwilliger", 2),
                                                      (c["Cas"].lower(), "participant", "")])
    session.commit()
    assert (first["kind"], first["hours"], first["title"], first["residents"]) == ("meeting", 1.5,
                                                                                    "Eerste bewonersavond", 2)
    assert first["roles"] == {"participant": 1, "chair": 1}

    listed = activities.list_for_project(ctx, slug)
    assert [row["id"] for row in listed] == [second["id"], first["id"]]
    assert listed[0]["roles"] == {"participant": 1, "volunteer": 1, "organiser": 1} and listed[0]["residents"] == 3

    detail = activities.detail(ctx, slug, second["id"])
    assert [(e["name"], e["role"], e["hours"]) for e in detail["entries"]] == [
        ("Anna", "organiser", None), ("Bram", "volunteer", 2.0), ("Cas", "participant", None)]

    profile = {row["name"]: row for row in activities.residents_profile(ctx, slug)}
    assert list(profile) == ["Anna", "Bram", "Cas"]  # most active first
    assert (profile["Anna"]["activities"], profile["Anna"]["hours"], profile["Anna"]["roles"]) == (
        2, 5.5, ("organiser", "chair"))
    assert (profile["Bram"]["activities"], profile["Bram"]["hours"], profile["Bram"]["roles"]) == (
        2, 3.5, ("participant", "volunteer"))
    assert profile["Cas"]["hours"] == 4.0
    # The one reading of intensity, not a second count: the profile is what services.participation says.
    project_id = session.scalar(select(Activity.project_id).where(Activity.id == first["id"]))
    read = participation.by_participant(session, [project_id])
    assert sorted((i.activities, i.hours, i.roles) for i in read.values()) == sorted(
        (r["activities"], r["hours"], r["roles"]) for r in profile.values())

    totals = activities.overview(ctx, slug)["totals"]
    assert totals == {"activities": 2, "hours": 5.5, "residents": 3, "resident_hours": 13.0}


@pytest.mark.parametrize("fields, words", [
    ({"happened_on": TODAY + timedelta(days=2)}, "future"),
    ({"happened_on": "1999-12-31"}, "before 2000"),
    ({"happened_on": "12-05-2026"}, "not a date"),
    ({"hours": "25"}, "0 to 24"),
    ({"hours": -1}, "0 to 24"),
    ({"hours": float("nan")}, "0 to 24"),
    ({"hours": "twee"}, "not a number of hours"),
    ({"kind": "feest"}, "not a kind of activity"),
    ({"title": "x" * 201}, "longer than 200"),
    ({"participants": [("R-NOPE", None, None)]}, "no resident with code"),
    ({"participants": [("ANNA", "boss", None)]}, "not a role"),
    ({"participants": [("ANNA", None, None), ("anna ", "chair", None)]}, "listed twice"),
    ({"participants": [("ANNA", None, "30")]}, "0 to 24"),
])
def test_values_a_worker_mistyped_are_refused_and_nothing_is_stored(session, place, fields, words):
    ctx, slug, c = place["ctx"], place["slug"], place["codes"]
    values = {"happened_on": TODAY, "kind": "meeting", "hours": 2, "title": None, "participants": []}
    values.update(fields)
    values["participants"] = [(c["Anna"] if code.strip().upper() == "ANNA" else code, role, own)
                              for code, role, own in values["participants"]]
    with pytest.raises(Invalid) as raised:
        activities.record(ctx, slug, **values)
    session.rollback()
    assert words in str(raised.value)
    assert count(session, Activity) == 0 and count(session, ActivityParticipant) == 0


def test_tomorrow_is_accepted_for_a_worker_a_time_zone_ahead(session, place):
    recorded = activities.record(place["ctx"], place["slug"], happened_on=TODAY + timedelta(days=1), kind="event",
                                 hours="0")
    assert recorded["date"] == TODAY + timedelta(days=1) and recorded["hours"] == 0.0


def test_a_second_save_with_the_same_form_key_records_nothing_more(session, place):
    ctx, slug, c = place["ctx"], place["slug"], place["codes"]
    once = activities.record(ctx, slug, happened_on=TODAY, kind="meeting", hours=2,
                             participants=[(c["Anna"], None, None)], nonce="form-key-1")
    session.commit()
    again = activities.record(ctx, slug, happened_on=TODAY, kind="meeting", hours=2,
                              participants=[(c["Anna"], None, None)], nonce="form-key-1")
    session.commit()
    assert again["id"] == once["id"] and count(session, Activity) == 1 and count(session, ActivityParticipant) == 1
    other = activities.record(ctx, slug, happened_on=TODAY, kind="meeting", hours=2, nonce="form-key-2")
    session.commit()
    assert other["id"] != once["id"] and count(session, Activity) == 2


def test_two_saves_of_one_form_at_the_same_moment_make_one_activity(app, session, place):
    """Two clicks whose requests run at once: the second waits for the first and finds its key."""
    codes, org_id, slug = place["codes"], place["org"].id, place["slug"]
    database = app.extensions["surveyhub.db"]
    start, ids, failures = threading.Barrier(2), [], []

    def save():
        try:
            with database.session() as own:
                ctx = context(app, own, org_id)
                start.wait(timeout=30)
                recorded = activities.record(ctx, slug, happened_on=TODAY, kind="workday", hours=3,
                                             participants=[(codes["Bram"], "volunteer", None)], nonce="same-click")
                own.commit()
                ids.append(recorded["id"])
        except Exception as exc:  # noqa: BLE001  (reported below)
            failures.append(exc)

    threads = [threading.Thread(target=save) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures and len(ids) == 2 and ids[0] == ids[1]
    assert count(session, Activity) == 1 and count(session, ActivityParticipant) == 1


def test_changing_an_activity_replaces_who_took_part_and_deleting_removes_it_all(session, place):
    ctx, slug, c = place["ctx"], place["slug"], place["codes"]
    made = activities.record(ctx, slug, happened_on=TODAY, kind="meeting", hours=2,
                             participants=[(c["Anna"], None, None), (c["Bram"], None, None)])
    changed = activities.update(ctx, slug, made["id"], happened_on=TODAY - timedelta(days=1), kind="training",
                                hours="3.25", title="Cursus", participants=[(c["Bram"], "chair", None),
                                                                            (c["Cas"], None, 1)])
    session.commit()
    assert (changed["kind"], changed["hours"], changed["title"], changed["date"]) == (
        "training", 3.25, "Cursus", TODAY - timedelta(days=1))
    assert [(e["name"], e["role"], e["hours"]) for e in changed["entries"]] == [("Bram", "chair", None),
                                                                               ("Cas", "participant", 1.0)]
    gone = activities.delete(ctx, slug, made["id"])
    session.commit()
    assert gone["residents"] == 2 and count(session, Activity) == 0 and count(session, ActivityParticipant) == 0
    with pytest.raises(NotFound):
        activities.delete(ctx, slug, made["id"])
    session.rollback()
    actions = session.execute(select(AuditEvent.action, AuditEvent.target, AuditEvent.details)
                              .where(AuditEvent.action.like("activity.%")).order_by(AuditEvent.id)).all()
    assert [a for a, _t, _d in actions] == ["activity.record", "activity.update", "activity.delete"]
    for _action, target, details in actions:  # the trail names the activity, never a resident
        assert not any(code in f"{target} {details}" for code in c.values())


def test_a_resident_ticked_by_the_worker_confirms_their_own_entry_and_one_left_waiting_stays(session, place):
    """A contribution a resident added from their link waits for a worker; ticking them confirms it."""
    ctx, slug, c = place["ctx"], place["slug"], place["codes"]
    made = activities.record(ctx, slug, happened_on=TODAY, kind="event", hours=2, participants=[(c["Anna"], None, None)])
    ids = dict(session.execute(select(Participant.code, Participant.id)).all())
    for code in (c["Bram"], c["Cas"]):  # as services.contributions stores one (None would fire the ORM's default)
        session.execute(insert(ActivityParticipant).values(
            activity_id=made["id"], participant_id=ids[code], role="volunteer", source="resident",
            note="Ik zette koffie", confirmed_at=None))
    session.commit()
    activities.update(ctx, slug, made["id"], happened_on=TODAY, kind="event", hours=2,
                      participants=[(c["Anna"], None, None), (c["Bram"], "volunteer", None)])
    session.commit()
    entries = {code: (source, note, confirmed is not None) for code, source, note, confirmed in session.execute(
        select(Participant.code, ActivityParticipant.source, ActivityParticipant.note, ActivityParticipant.confirmed_at)
        .join(Participant, Participant.id == ActivityParticipant.participant_id))}
    assert entries[c["Bram"]] == ("resident", "Ik zette koffie", True)
    assert entries[c["Cas"]] == ("resident", "Ik zette koffie", False)  # still the resident's to have confirmed


def test_funders_and_other_organisations_find_nothing_and_an_archived_project_takes_no_activity(
        app, session, place, make_org, make_user):
    ctx, slug = place["ctx"], place["slug"]
    made = activities.record(ctx, slug, happened_on=TODAY, kind="meeting", hours=1)
    session.commit()
    funder = context(app, session, place["org"].id, role="funder", user_id=make_user("funder", place["org"]).id)
    stranger = context(app, session, make_org("Welzijn Zuid").id, role="admin")
    for other in (funder, stranger):
        for call in (lambda x: activities.list_for_project(x, slug), lambda x: activities.detail(x, slug, made["id"]),
                     lambda x: activities.residents_profile(x, slug), lambda x: activities.delete(x, slug, made["id"]),
                     lambda x: activities.record(x, slug, happened_on=TODAY, kind="meeting", hours=1),
                     lambda x: activity_import.import_csv(x, slug, b"date,kind,hours,title,participant,role\n")):
            with pytest.raises(NotFound):
                call(other)
    archive.set_archived(session, access.Actor(organisation_id=place["org"].id, role="admin"), slug, True)
    session.commit()
    with pytest.raises(Conflict):
        activities.record(context(app, session, place["org"].id), slug, happened_on=TODAY, kind="meeting", hours=1)


def test_erasing_a_resident_removes_their_activity_entries(session, place):
    ctx, slug, c = place["ctx"], place["slug"], place["codes"]
    made = activities.record(ctx, slug, happened_on=TODAY, kind="workday", hours=3,
                             participants=[(c["Anna"], "organiser", None), (c["Bram"], None, None)])
    session.commit()
    anna = session.scalar(select(Participant.id).where(Participant.code == c["Anna"]))
    erasure.erase(session, anna, "request", "worker@example.org")
    session.commit()
    session.expire_all()
    assert anna not in session.scalars(select(ActivityParticipant.participant_id)).all()
    assert activities.detail(ctx, slug, made["id"])["residents"] == 1
    assert [row["name"] for row in activities.residents_profile(ctx, slug)] == ["Bram"]


# --- import -------------------------------------------------------------------------------------------

def test_a_spreadsheet_of_activities_is_imported_grouped_into_activities_and_a_rerun_adds_nothing(session, place):
    ctx, slug, c = place["ctx"], place["slug"], place["codes"]
    day = (TODAY - timedelta(days=7)).isoformat()
    text = ("date;kind;hours;title;participant;role;participant_hours\n"
            f"{day};vergadering;1,5;Bewonersavond café;{c['Anna']};voorzitter;\n"
            f"{day};vergadering;1,5;Bewonersavond café;{c['Bram']};;\n"
            f"{day};werkdag;4;;{c['Anna']};organisator;2,5\n"
            "\n"
            f"{day};Werkdag;4;;{c['Cas']};Vrijwilliger;\n")
    result = activity_import.import_csv(ctx, slug, text.encode("cp1252"))
    session.commit()
    assert (result.activities, result.entries) == (2, 4)
    rows = {row["kind"]: row for row in activities.list_for_project(ctx, slug)}
    assert rows["meeting"]["title"] == "Bewonersavond café" and rows["meeting"]["roles"] == {"participant": 1, "chair": 1}
    assert rows["workday"]["hours"] == 4.0 and rows["workday"]["roles"] == {"volunteer": 1, "organiser": 1}
    anna = next(r for r in activities.residents_profile(ctx, slug) if r["name"] == "Anna")
    assert anna["hours"] == 4.0 and anna["activities"] == 2
    again = activity_import.import_csv(ctx, slug, text.encode("cp1252"))
    session.commit()
    assert (again.activities, again.entries) == (0, 0) and count(session, ActivityParticipant) == 4


def test_a_file_with_bad_rows_is_refused_whole_with_every_problem_listed(session, place):
    ctx, slug, c = place["ctx"], place["slug"], place["codes"]
    future = (TODAY + timedelta(days=5)).isoformat()
    text = ("date,kind,hours,title,participant,role\n"
            f"2026-01-10,meeting,2,Avond,{c['Anna']},participant\n"
            f"{future},feest,30,Avond,R-ONBEKEND,baas\n"
            f"2026-01-10,meeting,2,Avond,{c['Anna']},chair\n"
            f"2026-01-10,meeting,2,Avond,,participant\n")
    with pytest.raises(ImportRefused) as raised:
        activity_import.import_csv(ctx, slug, text)
    session.rollback()
    problems = raised.value.problems
    assert [p.split(":")[0] for p in problems] == ["row 3"] * 5 + ["row 4", "row 5"]
    assert any("column 'date'" in p and "future" in p for p in problems)
    assert any("column 'kind'" in p for p in problems) and any("column 'hours'" in p for p in problems)
    assert any("column 'participant'" in p and "R-ONBEKEND" in p for p in problems)
    assert any("column 'role'" in p for p in problems)
    assert "(row 2)" in problems[5] and "empty" in problems[6]
    assert str(raised.value) == "nothing was imported: the file has 7 problems"
    assert count(session, Activity) == 0


def test_a_file_without_the_columns_is_refused_by_its_header(session, place):
    with pytest.raises(ImportRefused) as raised:
        activity_import.import_csv(place["ctx"], place["slug"], "datum,soort,participant,participant,extra\n")
    assert any("no 'date' column" in p for p in raised.value.problems)
    assert any("unknown column 'extra'" in p for p in raised.value.problems)
    assert any("'participant' appears twice" in p for p in raised.value.problems)
    with pytest.raises(ImportRefused):
        activity_import.import_csv(place["ctx"], place["slug"], b"")
    with pytest.raises(ImportRefused) as raised:
        activity_import.import_csv(place["ctx"], place["slug"], "date,kind,hours,title,participant,role\n\n")
    assert raised.value.problems == ["the file has no rows with activities"]


def test_the_retention_purge_removes_who_took_part_and_keeps_the_activities(app, session, place):
    """After the retention period no resident is tied to an activity; what the project did stays."""
    from datetime import datetime, timezone

    from surveyhub.models import Project
    from surveyhub.services import retention

    ctx, slug, c = place["ctx"], place["slug"], place["codes"]
    activities.record(ctx, slug, happened_on=TODAY, kind="workday", hours=3, title="Bouwdag",
                      participants=[(c["Anna"], "organiser", None), (c["Bram"], None, None)])
    session.commit()
    project = session.scalar(select(Project).where(Project.slug == slug))
    project_id = project.id
    for wave in project.waves:  # the retention clock starts when the last wave closes
        wave.status, wave.closed_at = "closed", datetime.now(timezone.utc)
    session.commit()
    far = datetime(TODAY.year + 30, 1, 1, tzinfo=timezone.utc)
    assert retention.purge_project(session, get_registry(app), project_id, now=far) is not None
    session.commit()
    assert count(session, ActivityParticipant) == 0 and count(session, Activity) == 1
    [row] = activities.list_for_project(context(app, session, place["org"].id), slug)
    assert (row["title"], row["residents"]) == ("Bouwdag", 0)


def test_the_retention_purge_removes_a_residents_words_from_their_proposals(app, session, place):
    """A resident's own proposal carries their words as its title: unconfirmed it goes with them, confirmed it
    stays as what the project did, without a title."""
    from datetime import datetime, timezone

    from surveyhub.models import Participant, Project
    from surveyhub.services import contributions, retention

    project = session.scalar(select(Project).where(Project.slug == place["slug"]))
    anna = session.scalar(select(Participant.id).where(Participant.code == place["codes"]["Anna"]))
    contributions.propose(session, anna, project.id, happened_on=TODAY, kind="event",
                          description="Soep voor de buren", hours=2, role="organiser", today=TODAY)
    bram = session.scalar(select(Participant.id).where(Participant.code == place["codes"]["Bram"]))
    contributions.propose(session, bram, project.id, happened_on=TODAY, kind="workday",
                          description="Boodschappen voor mijn zieke buurman", hours=1, role="volunteer", today=TODAY)
    session.execute(update(Activity).where(Activity.title == "Boodschappen voor mijn zieke buurman")
                    .values(confirmed_at=datetime.now(timezone.utc)))
    session.commit()
    assert session.scalar(select(Activity.title).where(Activity.confirmed_at.is_(None))) == "Soep voor de buren"
    for wave in project.waves:
        wave.status, wave.closed_at = "closed", datetime.now(timezone.utc)
    session.commit()
    far = datetime(TODAY.year + 30, 1, 1, tzinfo=timezone.utc)
    assert retention.purge_project(session, get_registry(app), project.id, now=far) is not None
    session.commit()
    # The confirmed one stays as what the project did, without the resident's words.
    assert session.execute(select(Activity.kind, Activity.title)).all() == [("workday", None)]
    assert count(session, ActivityParticipant) == 0
