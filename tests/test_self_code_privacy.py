"""A self-made code pairs pre with post, but never shows or changes answers already saved.

Resuming needs something only the resident has: this device's cookie (set by the
anonymous start, signed, scoped to the project's link) or their own resume link.
Someone who knows the six code facts on another device starts a new participant
with the same code; that is also how a resident who lost both still finishes, and
the report pairs the two by code.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from surveyhub.models import Participant, Project, Response, Token, Wave
from tests.fixtures.factories import csrf_token
from tests.test_anonymous import CODE, make_code, personal_token
from tests.test_questionnaire import (ORG_ITEMS, ParsedPage, Resident, count, finish_wave, key, set_wave,
                                      stored_answers)
from tests.test_questionnaire import query  # noqa: F401  (fixture)

SECRET = "Ik heb samen met mijn buurvrouw de straat schoongemaakt"
DEVICE_COOKIE = "surveyhub_device"


@pytest.fixture
def settings():
    """Extra app settings; a test overrides this by parametrizing ``settings``."""
    return {}


@pytest.fixture
def app_config(app_config, settings):
    return {**app_config, **settings}


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")


@pytest.fixture
def project(org, make_project):
    return make_project(org, "Buurttuin")


def start_by_code(client, project, answers=CODE) -> Resident:
    return Resident(client, personal_token(make_code(client, project, answers)))


def answer_first_page(resident: Resident) -> None:
    """Consent and distinct answers on the first page, then stop."""
    resident.consent()
    answers = {key(item): value for item, value in zip(ORG_ITEMS, "4544245")}
    assert resident.submit(0, answers).status_code == 302


def answer_everything(resident: Resident) -> None:
    resident.consent()
    finish_wave(resident, "4", text=SECRET)


def device_cookie(client, project):
    return client.get_cookie(DEVICE_COOKIE, path=f"/a/{project.anonymous_token}")


def test_the_code_facts_on_another_device_show_no_saved_answers(app, project, query):
    owner = start_by_code(app.test_client(), project)
    answer_everything(owner)
    saved = stored_answers(query, owner.token)
    assert SECRET in saved.values()

    stranger_client = app.test_client()
    stranger = start_by_code(stranger_client, project)
    assert stranger.token != owner.token
    assert count(query, Participant) == 2
    seen = stranger.open(follow_redirects=True).text + stranger.open("/p/0", follow_redirects=True).text
    assert SECRET not in seen
    assert ParsedPage(stranger.open("/p/0", follow_redirects=True).text).checked == {}
    assert owner.token not in seen


def test_the_code_facts_on_another_device_cannot_overwrite_saved_answers(app, project, query):
    owner = start_by_code(app.test_client(), project)
    answer_first_page(owner)
    saved = stored_answers(query, owner.token)

    stranger = start_by_code(app.test_client(), project)
    stranger.consent()
    assert stranger.submit(0, {key(item): "1" for item in ORG_ITEMS}).status_code == 302
    assert stored_answers(query, owner.token) == saved
    # The stranger's answers are their own new response, not the owner's.
    assert set(stored_answers(query, stranger.token).values()) == {1.0}


def test_the_same_device_resumes_where_it_stopped(app, project, query):
    phone = app.test_client()
    owner = start_by_code(phone, project)
    answer_first_page(owner)
    again = make_code(phone, project, {**CODE, "mother": " m ", "father": "J"})  # case and spaces differ
    assert personal_token(again) == owner.token
    assert count(query, Participant) == 1
    assert owner.open().headers["Location"].endswith("/p/1")


def test_the_device_cookie_is_signed_httponly_and_scoped_to_the_project(app, project, query):
    phone = app.test_client()
    owner = start_by_code(phone, project)
    cookie = device_cookie(phone, project)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert cookie.path == f"/a/{project.anonymous_token}"
    assert not cookie.secure  # the test BASE_URL is plain http
    assert cookie.expires is not None

    # A forged cookie holding someone's link, or a cookie for another code, resumes nobody.
    thief = app.test_client()
    thief.set_cookie(DEVICE_COOKIE, owner.token, path=f"/a/{project.anonymous_token}")
    assert personal_token(make_code(thief, project, CODE)) != owner.token
    other_code = personal_token(make_code(phone, project, {**CODE, "sisters": "1"}))
    assert other_code != owner.token
    assert count(query, Participant) == 3


@pytest.mark.parametrize("settings", [{"BASE_URL": "https://surveyhub.test"}])
def test_the_device_cookie_is_secure_behind_https(app, project):
    phone = app.test_client()
    start_by_code(phone, project)
    cookie = phone.get_cookie(DEVICE_COOKIE, domain="localhost", path=f"/a/{project.anonymous_token}")
    assert cookie is not None and cookie.secure


def test_a_double_click_on_the_code_form_makes_one_participant(app, project, query):
    phone = app.test_client()
    url = f"/a/{project.anonymous_token}"
    data = {"csrf_token": csrf_token(phone.get(url).text), **CODE}
    first = phone.post(url, data=data)
    phone.delete_cookie(DEVICE_COOKIE, path=url)  # the second click left before the first answer came
    second = phone.post(url, data=data)
    assert personal_token(first) == personal_token(second)
    assert count(query, Participant) == 1


def test_the_resident_sees_their_own_resume_link(app, project):
    owner = start_by_code(app.test_client(), project)
    page = owner.open()
    assert page.status_code == 200
    assert f"/q/{owner.token}" in page.text
    assert "Bewaar deze link. Dan kun je later verder." in page.text
    assert "met dezelfde link" not in page.text


def report(client_for, make_user, org, project) -> dict:
    worker = client_for(make_user("worker", org).email)
    body = worker.get(f"/projects/{project.slug}/outcomes/report.json")
    assert body.status_code == 200
    return json.loads(body.data)["participation"]


def waves(query, project) -> list[tuple]:
    return query(select(Wave.kind, Response.participant_id, Response.status).join(Wave).join(Project)
                 .where(Project.slug == project.slug).order_by(Response.id))


def test_a_resident_who_lost_device_and_link_finishes_as_a_new_response_that_pairs_by_code(
        app, session, org, project, query, client_for, make_user):
    before = start_by_code(app.test_client(), project)
    before.consent()
    finish_wave(before, "2")
    set_wave(session, org, project.slug, "pre", "closed")
    set_wave(session, org, project.slug, "post", "open")
    # The old participant opened the post wave once on the lost phone, and never finished it.
    before.open()
    before.submit(0, {key(item): "3" for item in ORG_ITEMS})

    after = start_by_code(app.test_client(), project, {**CODE, "mother": "m"})  # a new phone, no link
    assert after.token != before.token
    after.consent()
    finish_wave(after, "4")
    rows = waves(query, project)
    assert [(kind, status) for kind, _pid, status in rows] == [("pre", "completed"), ("post", "started"),
                                                             ("post", "completed")]
    assert rows[0][1] != rows[2][1]
    participation = report(client_for, make_user, org, project)
    assert participation["paired_by_code"] == 1 and participation["paired"] == 1
    assert participation["ambiguous_codes"] == 0


def test_two_completed_responses_with_one_code_in_a_wave_stay_unpaired(app, session, org, project, query,
                                                                     client_for, make_user):
    for _ in range(2):  # two people who happen to share the code facts, each on their own phone
        resident = start_by_code(app.test_client(), project)
        resident.consent()
        finish_wave(resident, "2")
    set_wave(session, org, project.slug, "pre", "closed")
    set_wave(session, org, project.slug, "post", "open")
    later = start_by_code(app.test_client(), project)
    later.consent()
    finish_wave(later, "4")
    participation = report(client_for, make_user, org, project)
    assert participation["paired"] == 0 and participation["ambiguous_codes"] == 1
    assert count(query, Token) == 3


def test_two_clicks_at_the_same_moment_make_one_participant(app, project, query):
    url = f"/a/{project.anonymous_token}"
    phone = app.test_client()
    data = {"csrf_token": csrf_token(phone.get(url).text), **CODE}
    session_cookie = phone.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    clicks = []
    for _ in range(2):  # one browser: the same session cookie, the same form
        click = app.test_client()
        click.set_cookie(session_cookie.key, session_cookie.value)
        clicks.append(click)
    barrier = threading.Barrier(2)

    def send(click):
        barrier.wait()
        return click.post(url, data=data)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(send, clicks))
    assert personal_token(answers[0]) == personal_token(answers[1])
    assert count(query, Participant) == 1
