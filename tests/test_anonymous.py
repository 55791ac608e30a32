"""The anonymous project link: residents make their own code, so pre and post pair without names."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyhub.models import Participant, Response, Token, Wave
from surveyhub.services import access, projects
from tests.fixtures.factories import csrf_token
from tests.test_questionnaire import Resident, count, finish_wave
from tests.test_questionnaire import query  # noqa: F401  (fixture)

PARTS = ("mother", "father", "month", "brothers", "sisters", "birthplace")
CODE = {"mother": "M", "father": "j", "month": "3", "brothers": "0", "sisters": "2", "birthplace": "u"}


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")


@pytest.fixture
def project(org, make_project):
    return make_project(org, "Buurttuin")


def make_code(client, project, answers: dict, lang: str = "nl"):
    url = f"/a/{project.anonymous_token}"
    page = client.get(f"{url}?lang={lang}")
    assert page.status_code == 200
    return client.post(url, data={"csrf_token": csrf_token(page.text), **answers})


def personal_token(response) -> str:
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    assert "/q/" in location
    return location.rsplit("/q/", 1)[1]


def test_the_anonymous_link_asks_the_six_code_questions(client, project):
    page = client.get(f"/a/{project.anonymous_token}")
    assert page.status_code == 200
    for name in PARTS:
        assert f'name="{name}"' in page.text
        assert f'<label for="{name}"' in page.text  # every question has a visible label
    assert 'name="consent"' not in page.text  # consent follows, on the resident's own link


def test_a_code_with_an_empty_answer_is_refused(client, project, query):
    refused = make_code(client, project, {**CODE, "father": "  "}, lang="en")
    assert refused.status_code == 200
    assert 'class="error-summary"' in refused.text
    assert "Answer all six questions" in refused.text  # what to do, not just that it failed
    assert count(query, Participant) == 0


def test_more_than_a_letter_is_refused(client, project, query):
    refused = make_code(client, project, {**CODE, "mother": "Maria"})
    assert refused.status_code == 200 and 'class="error-summary"' in refused.text
    assert count(query, Participant) == 0


def test_the_same_code_in_other_case_and_spacing_resumes_the_same_participant(app, client, project, query):
    first = personal_token(make_code(client, project, CODE))
    # On the same device (its cookie); on another device the code alone opens nothing saved
    # (tests/test_self_code_privacy.py).
    again = personal_token(make_code(client, project, {**CODE, "mother": " m ", "father": "J", "birthplace": "U "}))
    assert again == first
    assert count(query, Participant) == 1
    other = personal_token(make_code(client, project, {**CODE, "sisters": "1"}))
    assert other != first
    [(source, self_code)] = query(select(Participant.source, Participant.self_code)
                                  .join(Token).where(Token.token == first))
    assert source == "anonymous" and self_code == "m|j|3|0|2|u"


def test_answers_by_code_in_pre_and_post_belong_to_one_participant(app, session, org, project, query):
    phone = app.test_client()
    pre = Resident(phone, personal_token(make_code(phone, project, CODE)))
    pre.consent()
    finish_wave(pre, "2")
    projects.set_wave_status(session, access.Actor(organisation_id=org.id, role="admin"), project.slug,
                             "post", "open")
    session.commit()

    # months later, on the same phone
    post = Resident(phone, personal_token(make_code(phone, project, {**CODE, "mother": "m"})))
    welcome = post.open()  # consent is not asked twice: a welcome back, then the first page
    assert welcome.status_code == 200 and 'name="consent"' not in welcome.text
    assert f'href="{post.base}/p/0"' in welcome.text
    finish_wave(post, "4")
    rows = query(select(Wave.kind, Response.participant_id, Response.status).join(Wave).order_by(Wave.kind))
    assert [(kind, status) for kind, _pid, status in rows] == [("post", "completed"), ("pre", "completed")]
    assert len({pid for _kind, pid, _status in rows}) == 1
    assert count(query, Participant) == 1


def test_an_unknown_anonymous_link_is_not_found(client, project):
    assert client.get("/a/no-such-project-link").status_code == 404
    page = client.get(f"/a/{project.anonymous_token}")
    assert client.post("/a/no-such-project-link",
                       data={"csrf_token": csrf_token(page.text), **CODE}).status_code == 404
