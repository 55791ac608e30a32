"""A reviewer's cases for activities and residents' contributions: what a careful worker or resident hits.

Changing an activity keeps what residents' own hours were; a resident's contribution still waiting is
not confirmed by saving the activity it is on; an id too large for the database is a 404, not a 500;
control characters in a resident's words are stored cleaned; a date as Dutch Excel writes it
(``12-5-2026``) is read day first in a file. Both backends (the ``session`` fixture).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from surveyhub.models import ActivityParticipant, Participant, Project
from surveyhub.services import activities, activity_import, activity_values, contributions
from surveyhub.services.errors import Invalid
from surveyhub.services.imports import ImportRefused
from tests.fixtures.factories import csrf_token
from tests.test_activities import context

TODAY = date.today()


@pytest.fixture
def place(app, session, make_org, make_user, make_project, make_participant, client_for):
    org = make_org("Buurtwerk Review")
    slug = make_project(org, "Speeltuin").slug
    people = {name: make_participant(org, slug, name) for name in ("Anna", "Bram")}
    worker = make_user("worker", org)
    session.commit()
    ids = dict(session.execute(select(Participant.code, Participant.id)).all())
    project_id = session.scalar(select(Project.id).where(Project.slug == slug))
    return {"org": org, "slug": slug, "people": people, "ids": ids, "project_id": project_id,
            "worker": client_for(worker.email), "ctx": context(app, session, org.id, user_id=worker.id),
            "base": f"/projects/{slug}/activities"}


def _own_hours(session, activity_id: int) -> dict[int, float | None]:
    session.expire_all()
    return dict(session.execute(select(ActivityParticipant.participant_id, ActivityParticipant.hours)
                                .where(ActivityParticipant.activity_id == activity_id)).all())


def _edit(place, activity_id: int, **fields):
    worker = place["worker"]
    page = worker.get(f"{place['base']}/{activity_id}/edit")
    assert page.status_code == 200
    ticked = re.findall(r'name="resident" value="([^"]+)" checked', page.text)
    data = {"csrf_token": csrf_token(page.text), "nonce": "", "happened_on": TODAY.isoformat(), "kind": "meeting",
            "hours": "3", "title": "Bewonersavond", "resident": ticked}
    for code in ticked:
        role = re.search(rf'name="role:{re.escape(code)}".*?<option value="(\w+)" selected', page.text, re.S)
        data[f"role:{code}"] = role.group(1)
    data.update(fields)
    return page, worker.post(f"{place['base']}/{activity_id}/edit", data=data)


def test_changing_an_activitys_title_on_the_page_keeps_each_residents_own_hours(session, place):
    anna, bram = place["people"]["Anna"].code, place["people"]["Bram"].code
    made = activities.record(place["ctx"], place["slug"], happened_on=TODAY, kind="meeting", hours="3",
                             title="Bewonersavond", participants=[(anna, "chair", "1,5"), (bram, None, None)])
    session.commit()
    _page, saved = _edit(place, made["id"], title="Bewonersavond juni")
    assert saved.status_code == 302
    assert _own_hours(session, made["id"]) == {place["ids"][anna]: 1.5, place["ids"][bram]: None}


def test_saving_an_activity_does_not_confirm_a_residents_contribution_still_waiting(session, place):
    anna, bram = place["people"]["Anna"], place["people"]["Bram"]
    made = activities.record(place["ctx"], place["slug"], happened_on=TODAY - timedelta(days=1), kind="meeting",
                             hours="3", title="Bewonersavond", participants=[(anna.code, None, None)])
    session.commit()
    contributions.add_to_activity(session, place["ids"][bram.code], place["project_id"], made["id"], "volunteer",
                                  "Ik zette koffie")
    session.commit()
    page, saved = _edit(place, made["id"], title="Bewonersavond juni")
    assert f'name="resident" value="{bram.code}" checked' not in page.text
    # ... but shown as waiting, in the role they gave, so that ticking them confirms what they said
    assert "Heeft dit zelf doorgegeven. Vink aan om te bevestigen." in page.text
    assert re.search(rf'name="role:{re.escape(bram.code)}"(?:(?!</select>).)*<option value="volunteer" selected',
                     page.text, re.S)
    assert saved.status_code == 302
    session.expire_all()
    waiting = session.scalar(select(ActivityParticipant).where(
        ActivityParticipant.participant_id == place["ids"][bram.code]))
    assert waiting is not None and waiting.confirmed_at is None and waiting.note == "Ik zette koffie"
    assert contributions.pending_count(session, place["project_id"]) == 1


@pytest.mark.parametrize("path", ["/{n}/edit", "/{n}/delete"])
def test_an_activity_id_too_large_for_the_database_is_not_found(session, place, path):
    huge = "9" * 30
    assert place["worker"].get(place["base"] + path.format(n=huge)).status_code == 404


def test_a_decision_on_a_contribution_id_too_large_is_refused_calmly(session, place):
    worker = place["worker"]
    page = worker.get(f"{place['base']}/to-confirm")
    answer = worker.post(f"{place['base']}/to-confirm", data={"csrf_token": csrf_token(page.text),
                                                              "entry": "9" * 30, "decision": "confirm"})
    assert answer.status_code in (302, 404)


def test_control_characters_in_a_residents_words_are_stored_cleaned(session, place):
    bram = place["people"]["Bram"]
    entry = contributions.propose(session, place["ids"][bram.code], place["project_id"],
                                  happened_on=TODAY - timedelta(days=2), kind="event",
                                  description="Soep\x00 koken\u202e", hours=2.0, role="organiser",
                                  note="Met\x00 de\x07 buren")
    session.commit()
    assert "\x00" not in (entry.title or "") and "\x00" not in (entry.note or "") and "\x07" not in entry.note
    assert "Soep" in entry.title and "buren" in entry.note


def test_a_date_as_dutch_excel_writes_it_is_read_day_first_in_a_file():
    june = date(2026, 6, 1)
    assert activity_values.parse_day("12-5-2026", june, day_first=True) == date(2026, 5, 12)
    assert activity_values.parse_day("03.04.2026", june, day_first=True) == date(2026, 4, 3)
    for wrong in ("31-2-2026", "03/04/2026", "12-5.2026", "5-12-26"):
        with pytest.raises(Invalid):
            activity_values.parse_day(wrong, june, day_first=True)
    with pytest.raises(Invalid):  # typed on the page or the command line: year-month-day, nothing guessed
        activity_values.parse_day("12-5-2026", june)


def test_a_dutch_excel_file_of_activities_imports(session, place):
    anna = place["people"]["Anna"].code
    day = TODAY - timedelta(days=5)
    data = ("\ufeffdate;kind;hours;title;participant;role\r\n"
            f"{day.day}-{day.month}-{day.year};Vergadering;1,5;Bewonersavond;{anna};Voorzitter\r\n").encode("utf-8")
    imported = activity_import.import_csv(place["ctx"], place["slug"], data)
    assert (imported.activities, imported.entries) == (1, 1)


def _archive(session, project_id: int) -> None:
    from surveyhub.models._types import utcnow
    session.get_one(Project, project_id).archived_at = utcnow()
    session.commit()


def test_an_archived_projects_waiting_contributions_are_neither_confirmed_nor_removed(session, place):
    bram = place["people"]["Bram"]
    made = activities.record(place["ctx"], place["slug"], happened_on=TODAY - timedelta(days=1), kind="meeting",
                             hours="2", participants=[])
    session.commit()
    entry = contributions.add_to_activity(session, place["ids"][bram.code], place["project_id"], made["id"],
                                          "volunteer")
    session.commit()
    _archive(session, place["project_id"])
    worker = place["worker"]
    page = worker.get(f"{place['base']}/to-confirm")
    for decision in ("confirm", "remove"):
        answer = worker.post(f"{place['base']}/to-confirm", data={"csrf_token": csrf_token(page.text),
                                                                  "entry": str(entry.id), "decision": decision})
        assert answer.status_code == 302
        assert "gearchiveerd" in worker.get(answer.headers["Location"]).text
    session.expire_all()
    assert contributions.pending_count(session, place["project_id"]) == 1


def test_an_import_matching_a_residents_proposal_records_its_own_activity_and_confirms_who_waits(session, place):
    anna, bram = place["people"]["Anna"], place["people"]["Bram"]
    day = TODAY - timedelta(days=3)
    proposal = contributions.propose(session, place["ids"][anna.code], place["project_id"], happened_on=day,
                                     kind="event", description="Buurtfeest", hours=3.0, role="organiser")
    made = activities.record(place["ctx"], place["slug"], happened_on=day, kind="meeting", hours="2",
                             title="Bewonersavond", participants=[])
    contributions.add_to_activity(session, place["ids"][bram.code], place["project_id"], made["id"], "volunteer")
    session.commit()
    data = ("date,kind,hours,title,participant,role\n"
            f"{day.isoformat()},event,3,Buurtfeest,{bram.code},participant\n"
            f"{day.isoformat()},meeting,2,Bewonersavond,{bram.code},chair\n")
    imported = activity_import.import_csv(place["ctx"], place["slug"], data)
    session.commit()
    assert (imported.activities, imported.entries) == (1, 2)
    from surveyhub.services import participation
    assert participation.of(session, place["project_id"], place["ids"][bram.code]).activities == 2
    assert participation.of(session, place["project_id"], place["ids"][anna.code]).activities == 0
    assert proposal.confirmed is False and contributions.pending_count(session, place["project_id"]) == 1


def _other(client, token: str, hours: str, description: str):
    from tests.test_contributions_pages import _token
    page = client.get(f"/q/{token}/did")
    return client.post(f"/q/{token}/did", data={
        "which": "other", "other-csrf_token": _token(page.text, "other"),
        "other-happened_on": (TODAY - timedelta(days=1)).isoformat(), "other-kind": "event",
        "other-description": description, "other-hours": hours, "other-role": "volunteer", "other-note": ""})


def test_a_resident_writes_hours_with_a_decimal_comma_and_odd_numbers_get_one_plain_message(app, session, place):
    client, token = app.test_client(), place["people"]["Bram"].token
    assert _other(client, token, "1,5", "Soep gemaakt").status_code == 302
    session.expire_all()
    stored = contributions.my_record(session, place["ids"][place["people"]["Bram"].code], place["project_id"])
    assert [entry.hours for entry in stored.waiting] == [1.5]
    for typed in ("sNaN", "NaN", "Infinity", "1e309", "-1", "0", "25", "twee"):
        answer = _other(client, token, typed, f"Iets anders {typed}")
        assert answer.status_code == 400, typed
        assert "Vul het aantal uren in: meer dan 0, hoogstens 24." in answer.text, typed
        assert f'value="{typed}"' in answer.text  # what was typed is kept


def test_a_file_with_a_cell_too_large_for_csv_is_refused_with_its_line(session, place):
    anna = place["people"]["Anna"].code
    data = ("date,kind,hours,title,participant,role\n"
            f"{TODAY.isoformat()},meeting,2,\"{'x' * 200_000}\",{anna},participant\n")
    with pytest.raises(ImportRefused) as refused:
        activity_import.import_csv(place["ctx"], place["slug"], data)
    assert refused.value.problems[0].startswith("line ")


def test_a_worker_cannot_decide_another_organisations_contribution_through_their_own_project(
        session, place, make_org, make_project, make_participant):
    other = make_org("Welzijn Zuid")
    their_slug = make_project(other, "Moestuin Zuid").slug
    theirs = make_participant(other, their_slug, "Dirk Zuid")
    session.commit()
    their_project = session.scalar(select(Project.id).where(Project.slug == their_slug))
    their_id = session.scalar(select(Participant.id).where(Participant.code == theirs.code,
                                                           Participant.project_id == their_project))
    entry = contributions.propose(session, their_id, their_project, happened_on=TODAY - timedelta(days=1),
                                  kind="event", description="Geheime soep", hours=2.0, role="organiser",
                                  note="Alleen voor Zuid")
    session.commit()
    worker = place["worker"]
    page = worker.get(f"{place['base']}/to-confirm")
    assert "Geheime soep" not in page.text and "Alleen voor Zuid" not in page.text
    for decision in ("confirm", "remove"):
        answer = worker.post(f"{place['base']}/to-confirm", data={"csrf_token": csrf_token(page.text),
                                                                  "entry": str(entry.id), "decision": decision})
        assert answer.status_code == 302
    assert "Alleen voor Zuid" not in worker.get(f"{place['base']}/to-confirm?remove={entry.id}").text
    session.expire_all()
    assert contributions.pending_count(session, their_project) == 1


def test_a_residents_confirmed_proposal_is_offered_to_no_one_else_and_erasure_takes_its_words(
        app, session, place):
    from surveyhub.models import Activity
    from surveyhub.services import erasure
    anna, bram = place["ids"][place["people"]["Anna"].code], place["ids"][place["people"]["Bram"].code]
    alone = contributions.propose(session, anna, place["project_id"], happened_on=TODAY - timedelta(days=2),
                                  kind="other", description="Boodschappen gedaan voor mijn zieke buurman Kees",
                                  hours=1.0, role="volunteer")
    shared = contributions.propose(session, anna, place["project_id"], happened_on=TODAY - timedelta(days=3),
                                   kind="event", description="Annas soepfeest", hours=2.0, role="organiser")
    session.commit()
    actor = place["ctx"].actor
    for entry in (alone, shared):
        contributions.confirm(session, actor, place["slug"], entry.id)
    shared_id = session.scalar(select(Activity.id).where(Activity.title == "Annas soepfeest"))
    session.add(ActivityParticipant(activity_id=shared_id, participant_id=bram, role="participant"))
    session.commit()
    assert contributions.offers(session, bram, place["project_id"]) == []
    page = app.test_client().get(f"/q/{place['people']['Bram'].token}/did")
    assert "zieke buurman" not in page.text

    erasure.erase(session, anna, "resident", "resident")
    session.commit()
    titles = set(session.scalars(select(Activity.title)))
    assert not any(t and ("Kees" in t or "soep" in t) for t in titles)
    from surveyhub.services import participation
    assert participation.of(session, place["project_id"], bram).activities == 1  # Bram's part stays


def _statements(session, call) -> int:
    from sqlalchemy import event
    engine = session.get_bind()
    seen = []

    def count(*_args):
        seen.append(1)
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert call().status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_the_activities_page_costs_the_same_statements_for_many_activities_as_for_few(session, place):
    from surveyhub.models import Activity
    codes = [place["people"]["Anna"].code, place["people"]["Bram"].code]

    def add(n: int) -> None:
        for i in range(n):
            session.add(Activity(project_id=place["project_id"], happened_on=TODAY - timedelta(days=i), kind="event",
                                 hours=2, title=f"Activiteit {i}", participants=[
                                     ActivityParticipant(participant_id=place["ids"][code], role="participant")
                                     for code in codes]))
        session.commit()

    worker, base = place["worker"], place["base"]
    add(3)
    worker.get(base)  # the session and the caches warm
    few = _statements(session, lambda: worker.get(base))
    add(60)
    many = _statements(session, lambda: worker.get(base))
    assert few > 0 and many == few


def test_a_long_list_of_residents_comes_in_letters_and_ticks_still_save(session, place, make_participant):
    from surveyhub.web.activities import GROUP_FROM
    names = [f"{letter}bewoner {n}" for n in range(GROUP_FROM // 3 + 1) for letter in ("K", "M", "É")]
    for name in names:
        make_participant(place["org"], place["slug"], name)
    session.commit()
    worker, base = place["worker"], place["base"]
    page = worker.get(f"{base}/new")
    summaries = re.findall(r"<summary>(\S+) ", page.text)
    assert summaries == ["A", "B", "E", "K", "M"]  # Anna, Bram, Élise with E, then K and M
    assert "<script" not in page.text and page.text.count('name="resident"') == len(names) + 2
    code = re.search(r'name="resident" value="([^"]+)"', page.text.split("<summary>M ")[1]).group(1)
    data = {"csrf_token": csrf_token(page.text), "nonce": re.search(r'name="nonce" value="([^"]*)"', page.text)[1],
            "happened_on": TODAY.isoformat(), "kind": "meeting", "hours": "2", "title": "", "resident": [code],
            f"role:{code}": "chair"}
    assert worker.post(f"{base}/new", data=data).status_code == 302
    again = worker.get(f"{base}/new?same=1").text
    opened = re.findall(r'<details class="resident-group"( open)?>\s*<summary>(\S+) ', again)
    assert [letter for is_open, letter in opened if is_open] == ["M"]  # the letter with a ticked resident is open


def test_the_same_file_imported_twice_at_the_same_moment_is_stored_once(app, session, place):
    """Two runs of one import at once (two terminals, a retried job): the second waits and adds nothing."""
    import threading

    from surveyhub.models import Activity
    anna, bram = place["people"]["Anna"].code, place["people"]["Bram"].code
    data = ("date,kind,hours,title,participant,role\n"
            f"{TODAY.isoformat()},meeting,2,Bewonersavond,{anna},chair\n"
            f"{TODAY.isoformat()},meeting,2,Bewonersavond,{bram},participant\n")
    database = app.extensions["surveyhub.db"]
    start, results, failures = threading.Barrier(2), [], []

    def run():
        try:
            with database.session() as own:
                ctx = context(app, own, place["org"].id)
                start.wait(timeout=30)
                results.append(activity_import.import_csv(ctx, place["slug"], data))
                own.commit()
        except Exception as exc:  # noqa: BLE001  (reported below)
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures and len(results) == 2
    assert sorted((r.activities, r.entries) for r in results) == [(0, 0), (1, 2)]
    session.expire_all()
    assert len(session.scalars(select(Activity.id)).all()) == 1
    assert len(session.scalars(select(ActivityParticipant.id)).all()) == 2


def test_deleting_an_activity_says_first_that_a_residents_waiting_contribution_goes_too(session, place):
    bram = place["people"]["Bram"]
    made = activities.record(place["ctx"], place["slug"], happened_on=TODAY - timedelta(days=1), kind="meeting",
                             hours="2", participants=[(place["people"]["Anna"].code, None, None)])
    session.commit()
    contributions.add_to_activity(session, place["ids"][bram.code], place["project_id"], made["id"], "volunteer",
                                  "Ik zette koffie")
    session.commit()
    asked = place["worker"].get(f"{place['base']}/{made['id']}/delete")
    assert asked.status_code == 200
    assert "1 bewoner deed mee." in asked.text
    assert "1 bewoner gaf zelf door dat die erbij was en wacht op jouw bevestiging." in asked.text
