"""``Idempotency-Key`` on the API's POSTs that make something: a script that retries after a timeout
makes one project and adds its residents once, and gets the same answer again."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from surveyhub.models import ApiIdempotencyKey, Participant, Project
from surveyhub.models._types import utcnow
from surveyhub.services import api_idempotency
from tests.fixtures.factories import bearer
from tests.test_api_participants import org, project, token  # noqa: F401 - the fixtures
from tests.test_api_projects import assert_problem

RESIDENTS = {"participants": [{"display_name": "Fatima"}, {"display_name": "Kees", "email": "kees@example.org"}]}


def _with_key(token: str, key: str) -> dict:
    return {**bearer(token), "Idempotency-Key": key}


def _residents(session, project) -> int:
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(Participant).join(Project)
                           .where(Project.slug == project.slug))
    session.rollback()
    return count


def test_adding_residents_again_with_the_same_key_adds_nobody_and_answers_the_same(client, session, project,
                                                                                    token):
    url = f"/api/v1/projects/{project.slug}/participants"
    first = client.post(url, headers=_with_key(token, "7d9c0a1e-add-1"), json=RESIDENTS)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = client.post(url, headers=_with_key(token, "7d9c0a1e-add-1"), json=RESIDENTS)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()  # the same codes and links
    assert _residents(session, project) == 2

    other = client.post(url, headers=_with_key(token, "7d9c0a1e-add-2"), json=RESIDENTS)  # a new key: new work
    assert other.status_code == 201 and _residents(session, project) == 4
    plain = client.post(url, headers=bearer(token), json=RESIDENTS)  # no key: every request is new
    assert plain.status_code == 201 and _residents(session, project) == 6


def test_the_same_key_with_another_request_is_refused(client, session, project, token):
    url = f"/api/v1/projects/{project.slug}/participants"
    client.post(url, headers=_with_key(token, "key-1"), json=RESIDENTS)
    changed = client.post(url, headers=_with_key(token, "key-1"), json={"participants": [{"display_name": "Ans"}]})
    body = assert_problem(changed, 422, "idempotency-key-reused")
    assert "new key" in body["detail"]
    other_route = client.post("/api/v1/projects", headers=_with_key(token, "key-1"),
                              json={"name": "Buurttuin", "instruments": ["organising"]})
    assert_problem(other_route, 422, "idempotency-key-reused")
    assert _residents(session, project) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "sleutel-é", "tab\there"])
def test_an_unusable_key_is_a_400_and_nothing_is_made(client, session, project, token, key):
    answer = client.post(f"/api/v1/projects/{project.slug}/participants",
                         headers={**bearer(token), "Idempotency-Key": key}, json=RESIDENTS)
    assert_problem(answer, 400, "bad-idempotency-key")
    assert _residents(session, project) == 0


def test_a_key_belongs_to_its_token(client, session, org, project, token, make_api_token):
    url = f"/api/v1/projects/{project.slug}/participants"
    client.post(url, headers=_with_key(token, "shared"), json=RESIDENTS)
    second = client.post(url, headers=_with_key(make_api_token(org, name="CRM"), "shared"), json=RESIDENTS)
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    assert _residents(session, project) == 4


def test_creating_a_project_again_with_the_same_key_makes_one(client, session, org, token):
    body = {"name": "Buurttuin Oost", "instruments": ["organising"]}
    first = client.post("/api/v1/projects", headers=_with_key(token, '"a1b2c3"'), json=body)  # as a structured field
    again = client.post("/api/v1/projects", headers=_with_key(token, "a1b2c3"), json=body)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Location"] == first.headers["Location"]
    assert session.scalar(select(func.count()).select_from(Project).where(Project.organisation_id == org.id)) == 1


def test_a_refused_request_leaves_its_key_free(client, session, project, token):
    url = f"/api/v1/projects/{project.slug}/participants"
    refused = client.post(url, headers=_with_key(token, "k"), json={"participants": [{"email": "not an address"}]})
    assert refused.status_code == 422
    done = client.post(url, headers=_with_key(token, "k"), json=RESIDENTS)
    assert done.status_code == 201 and "Idempotent-Replayed" not in done.headers


def test_a_key_is_forgotten_after_a_day(app, client, session, project, token):
    url = f"/api/v1/projects/{project.slug}/participants"
    client.post(url, headers=_with_key(token, "old"), json=RESIDENTS)
    session.execute(update(ApiIdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    session.commit()
    assert client.post(url, headers=_with_key(token, "old"), json=RESIDENTS).status_code == 201
    assert _residents(session, project) == 4  # an old key is a new request
    session.execute(update(ApiIdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    session.commit()
    assert api_idempotency.purge(session) == 1
    assert session.scalar(select(func.count()).select_from(ApiIdempotencyKey)) == 0


def test_two_requests_with_one_key_at_the_same_moment_add_the_residents_once(app, session, project, token,
                                                                             monkeypatch):
    """The key is stored in the work's own transaction: the request that loses the race rolls back whole
    and answers as a retry of the winner. Both look the key up before either has stored it (forced here:
    the first look of each request finds nothing), so the loser meets the key's unique index."""
    url = f"/api/v1/projects/{project.slug}/participants"
    answers: list = []
    start = threading.Barrier(2)
    looked = threading.local()
    lookup = api_idempotency.lookup

    def late_lookup(*args, **kwargs):
        if not getattr(looked, "once", False):
            looked.once = True
            start.wait()  # both requests have looked, and found nothing, before either goes on
            return None
        return lookup(*args, **kwargs)

    monkeypatch.setattr(api_idempotency, "lookup", late_lookup)

    def send():
        client = app.test_client()
        answers.append(client.post(url, headers=_with_key(token, "race"), json=RESIDENTS))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answer.status_code for answer in answers) == [201, 201]
    assert sorted(answer.headers.get("Idempotent-Replayed", "") for answer in answers) == ["", "true"]
    assert answers[0].get_json() == answers[1].get_json()
    assert _residents(session, project) == 2
