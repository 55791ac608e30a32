"""The pages: a resident's "Wat ik deed" from their own link, and the worker's list to confirm.

Driven the way people use them: a resident opens their link on a phone, adds what they did,
sends it twice, goes back; a worker confirms one and removes another after a confirmation
step. Another resident's link shows nothing of hers, a funder and another organisation get
404, a dead link gets the questionnaire's dead-end page, and every word the resident typed
comes out escaped.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from surveyhub.models import Activity, ActivityParticipant, AuditEvent, Participant, Project
from surveyhub.services import participants, participation
from tests.fixtures.factories import csrf_token
from tests.test_contributions import add_activity

NOTE = '<script>alert("x")</script> Ik zette de koffie'


@pytest.fixture
def world(app, session, make_org, make_user, make_project, make_participant):
    org = make_org()
    users = {"worker": make_user("worker", org), "funder": make_user("funder", org),
             "stranger": make_user("admin", make_org("Welzijn Zuid"))}
    slug = make_project(org).slug
    fatima = make_participant(org, slug, "Fatima")
    kees = make_participant(org, slug, "Kees Geheim")
    ids = dict(session.execute(select(Participant.code, Participant.id)).all())
    project_id = session.scalar(select(Project.id).where(Project.slug == slug))
    today = date.today()
    bouwdag = add_activity(session, project_id, today - timedelta(days=10), "workday", "Bouwdag speeltuin", 4,
                           {ids[fatima.code]: "organiser", ids[kees.code]: "participant"})
    avond = add_activity(session, project_id, today - timedelta(days=3), "meeting", "Bewonersavond", 2,
                         {ids[kees.code]: "chair"})
    session.commit()
    return {"org": org, "users": users, "slug": slug, "project_id": project_id, "fatima": fatima, "kees": kees,
            "ids": ids, "bouwdag": bouwdag, "avond": avond}


def _pick(client, token: str, activity: int, role: str = "volunteer", note: str = "", page=None):
    page = page or client.get(f"/q/{token}/did")
    return client.post(f"/q/{token}/did", data={"which": "pick", "pick-csrf_token": _token(page.text, "pick"),
                                                "pick-activity": str(activity), "pick-role": role,
                                                "pick-note": note})


def _token(html: str, prefix: str) -> str:
    import re
    match = re.search(rf'name="{prefix}-csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(rf'value="([^"]+)"[^>]*name="{prefix}-csrf_token"', html)
    assert match, f"no {prefix} CSRF token on the page"
    return match.group(1)


def _entries(session, participant_id: int) -> int:
    count = session.scalar(select(func.count()).select_from(ActivityParticipant)
                           .where(ActivityParticipant.participant_id == participant_id))
    session.commit()
    return count


def test_a_resident_sees_what_they_did_in_plain_dutch_and_never_another_residents_name(app, world):
    client = app.test_client()
    page = client.get(f"/q/{world['fatima'].token}/did")
    assert page.status_code == 200
    text = page.text
    assert '<html lang="nl"' in text and "Wat ik deed" in text
    assert "Je deed mee aan 1 activiteit (4 uur)." in text and "Bij 1 daarvan was je organisator" in text
    assert "Bouwdag speeltuin" in text and "Ik organiseerde het" in text
    # She may pick the meeting she is not on yet: its title and date, never who else came.
    assert "Bewonersavond" in text and "Kees" not in text and world["kees"].code not in text
    assert page.headers["Cache-Control"] == "no-store"
    english = client.get(f"/q/{world['fatima'].token}/did?lang=en").text
    assert "What I did" in english and "You took part in 1 activity (4 hours)." in english


def test_adding_twice_or_after_the_back_button_says_it_is_already_there(app, session, world):
    client = app.test_client()
    token = world["fatima"].token
    form_page = client.get(f"/q/{token}/did")
    sent = _pick(client, token, world["avond"], note=NOTE, page=form_page)
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/did#waiting")
    after = client.get(sent.headers["Location"]).text
    assert "Dank je wel!" in after and "Wacht op bevestiging" in after
    assert "&lt;script&gt;" in after and "<script>alert" not in after
    # The back button: the old page's form, sent again.
    again = _pick(client, token, world["avond"], page=form_page)
    assert again.status_code == 400 and "Dit staat er al." in again.text
    assert _entries(session, world["ids"][world["fatima"].code]) == 2
    # Not counted before a worker confirms it.
    assert participation.of(session, world["project_id"], world["ids"][world["fatima"].code]).activities == 1


def test_something_else_is_added_once_and_a_bad_date_is_explained(app, session, world):
    client = app.test_client()
    token = world["fatima"].token
    page = client.get(f"/q/{token}/did")
    data = {"which": "other", "other-csrf_token": _token(page.text, "other"),
            "other-happened_on": date.today().isoformat(), "other-kind": "event",
            "other-description": "Soep gemaakt voor de opening", "other-hours": "2.5", "other-role": "organiser",
            "other-note": ""}
    assert client.post(f"/q/{token}/did", data=data).status_code == 302
    assert client.post(f"/q/{token}/did", data=data).status_code == 400  # a double click
    future = client.post(f"/q/{token}/did", data={**data, "other-happened_on": "2099-01-01"})
    assert future.status_code == 400 and "tot en met vandaag" in future.text
    proposals = session.scalar(select(func.count()).select_from(Activity).where(Activity.confirmed_at.is_(None)))
    session.commit()
    assert proposals == 1
    assert "Soep gemaakt voor de opening" in client.get(f"/q/{token}/did").text


def test_a_form_without_its_token_stores_nothing_and_asks_again(app, session, world):
    client = app.test_client()
    client.get(f"/q/{world['fatima'].token}/did")
    sent = client.post(f"/q/{world['fatima'].token}/did",
                       data={"which": "pick", "pick-activity": str(world["avond"]), "pick-role": "participant"})
    assert sent.status_code == 400 and "Stuur het nog een keer" in sent.text
    assert _entries(session, world["ids"][world["fatima"].code]) == 1


def test_another_residents_link_shows_and_decides_nothing_of_hers(app, session, world):
    fatima, kees = app.test_client(), app.test_client()
    _pick(fatima, world["fatima"].token, world["avond"], note="Mijn eigen woorden")
    page = kees.get(f"/q/{world['kees'].token}/did").text
    assert "Mijn eigen woorden" not in page and "Fatima" not in page
    # Kees cannot put himself on Fatima's waiting proposal, nor reach the worker's list.
    entry = contributions_of(session, world["ids"][world["fatima"].code])
    assert kees.get(f"/projects/{world['slug']}/activities/to-confirm").status_code == 302  # to the login page
    assert kees.post(f"/projects/{world['slug']}/activities/to-confirm",
                     data={"entry": entry, "decision": "confirm"}).status_code in (302, 400)
    assert session.get(ActivityParticipant, entry).confirmed_at is None


def contributions_of(session, participant_id: int) -> int:
    entry = session.scalar(select(ActivityParticipant.id).where(ActivityParticipant.participant_id == participant_id,
                                                                ActivityParticipant.confirmed_at.is_(None)))
    session.commit()
    return entry


def test_a_dead_link_gets_the_questionnaires_dead_end_page(app, session, world):
    client = app.test_client()
    assert client.get("/q/not-a-link/did").status_code == 404
    actor_org = world["org"]
    from surveyhub.services import access
    actor = access.Actor(organisation_id=actor_org.id, role="admin")
    participants.renew_link(session, actor, world["slug"], world["fatima"].code)
    session.commit()
    old = client.get(f"/q/{world['fatima'].token}/did")
    assert old.status_code == 404 and "Buurttuin" in old.text  # the old link names its project, nothing more
    assert "Bouwdag" not in old.text


def test_the_worker_confirms_one_and_removes_another_after_asking(app, session, world, client_for):
    resident = app.test_client()
    _pick(resident, world["fatima"].token, world["avond"], role="chair", note=NOTE)
    fatima_id = world["ids"][world["fatima"].code]
    entry = contributions_of(session, fatima_id)
    worker = client_for(world["users"]["worker"].email)
    url = f"/projects/{world['slug']}/activities/to-confirm"
    listing = worker.get(url)
    assert listing.status_code == 200
    assert "Bewonersavond" in listing.text and world["fatima"].code in listing.text
    assert "&lt;script&gt;" in listing.text and "<script>alert" not in listing.text
    token = csrf_token(listing.text)
    confirmed = worker.post(url, data={"csrf_token": token, "entry": entry, "decision": "confirm"})
    assert confirmed.status_code == 302
    assert "Bevestigd" in worker.get(url).text
    assert participation.of(session, world["project_id"], fatima_id).activities == 2
    session.commit()
    # A second resident contribution, not confirmed: a confirmation step first, then it is gone.
    page = resident.get(f"/q/{world['fatima'].token}/did")
    data = {"which": "other", "other-csrf_token": _token(page.text, "other"),
            "other-happened_on": date.today().isoformat(), "other-kind": "other",
            "other-description": "Iets wat niet klopt", "other-hours": "1", "other-role": "participant"}
    assert resident.post(f"/q/{world['fatima'].token}/did", data=data).status_code == 302
    second = contributions_of(session, fatima_id)
    asking = worker.get(f"{url}?remove={second}")
    assert "Deze bijdrage niet bevestigen?" in asking.text and "Ja, weghalen" in asking.text
    assert contributions_of(session, fatima_id) == second  # asking removed nothing
    removed = worker.post(url, data={"csrf_token": token, "entry": second, "decision": "remove"})
    assert removed.status_code == 302
    assert contributions_of(session, fatima_id) is None
    assert session.scalar(select(func.count()).select_from(Activity).where(Activity.title == "Iets wat niet klopt")) == 0
    actions = sorted(session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("contribution.%"))))
    session.commit()
    assert actions == ["contribution.confirm", "contribution.reject"]
    # A second click on the same button: a plain message, no error page.
    again = worker.post(url, data={"csrf_token": token, "entry": second, "decision": "remove"}, follow_redirects=True)
    assert again.status_code == 200 and "wacht niet meer op bevestiging" in again.text


def test_a_funder_and_another_organisation_get_404(app, world, client_for):
    url = f"/projects/{world['slug']}/activities/to-confirm"
    for who in ("funder", "stranger"):
        client = client_for(world["users"][who].email)
        assert client.get(url).status_code == 404, who
        assert client.post(url, data={"csrf_token": csrf_token(client.get("/").text), "entry": 1,
                                      "decision": "confirm"}).status_code == 404, who


def test_the_residents_page_for_the_worker_names_what_they_did(app, session, world, client_for):
    worker = client_for(world["users"]["worker"].email)
    page = worker.get(f"/projects/{world['slug']}/participants/{world['fatima'].code}").text
    assert "Deed mee aan 1 activiteit (4 uur); organiseerde of leidde er 1." in page


def test_the_done_page_links_to_what_i_did(app, world):
    from tests.test_questionnaire import Resident, finish_wave
    resident = Resident(app.test_client(), world["fatima"].token)
    resident.consent()
    finish_wave(resident, "4")
    done = resident.open("/done").text
    assert f'href="/q/{world["fatima"].token}/did"' in done and "Wat ik deed" in done


def test_the_activities_page_links_to_what_waits(app, world, client_for):
    worker = client_for(world["users"]["worker"].email)
    activities = f"/projects/{world['slug']}/activities"
    assert "te bevestigen" not in worker.get(activities).text
    _pick(app.test_client(), world["fatima"].token, world["avond"])
    page = worker.get(activities).text
    assert "1 te bevestigen" in page and f'href="{activities}/to-confirm"' in page


def test_my_data_shows_what_they_did_and_what_waits(app, world):
    client = app.test_client()
    _pick(client, world["fatima"].token, world["avond"], note="Ik zette de koffie.")
    page = client.get(f"/q/{world['fatima'].token}/my-data").text
    assert "Wat je deed" in page and "Bouwdag speeltuin" in page and "Bewonersavond" in page
    assert "Wacht op bevestiging" in page and "Ik zette de koffie." in page and "Kees" not in page
    data = client.get(f"/q/{world['fatima'].token}/my-data.json").get_json()
    assert [a["title"] for a in data["activities"]] == ["Bouwdag speeltuin", "Bewonersavond"]
