"""The API's participant routes: add residents, list them with the state of each wave, hand out links."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyhub.models import AuditEvent, Participant, Project
from surveyhub.services import access, archive, projects
from tests.fixtures.factories import bearer
from tests.fixtures.outcomes import answer
from tests.test_api_projects import assert_problem


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")


@pytest.fixture
def project(org, make_project):
    return make_project(org, "Speeltuin De Vlinder")


@pytest.fixture
def token(org, make_api_token):
    return make_api_token(org)


def add(client, token, slug: str, *entries: dict):
    return client.post(f"/api/v1/projects/{slug}/participants", headers=bearer(token),
                       json={"participants": list(entries)})


def events(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# --- adding --------------------------------------------------------------------------------------

def test_adding_residents_answers_each_code_and_personal_link(client, session, project, token):
    response = add(client, token, project.slug, {"display_name": "Fatima", "email": "fatima@example.org"},
                   {"display_name": "Henk"}, {})
    assert response.status_code == 201, response.get_data(as_text=True)
    added = response.get_json()["participants"]
    assert [(p["display_name"], p["email"]) for p in added] == [("Fatima", "fatima@example.org"), ("Henk", None),
                                                                (None, None)]
    assert len({p["code"] for p in added}) == 3
    assert all(p["link"].startswith("http://surveyhub.test/q/") for p in added)
    assert all(p["short_link"] and p["short_link"].startswith("http://surveyhub.test/") for p in added)
    resident_page = client.get(added[0]["link"].removeprefix("http://surveyhub.test"))
    assert resident_page.status_code == 200 and 'name="consent"' in resident_page.get_data(as_text=True)
    [event] = events(session, "participants.add")
    assert event.details == {"count": 3} and event.actor.startswith("api:shk_")


def test_the_same_entry_twice_adds_two_residents_as_the_service_does(client, session, project, token):
    first = add(client, token, project.slug, {"display_name": "Henk"}).get_json()["participants"]
    second = add(client, token, project.slug, {"display_name": "Henk"}).get_json()["participants"]
    assert first[0]["code"] != second[0]["code"] and first[0]["link"] != second[0]["link"]
    session.expire_all()
    names = session.scalars(select(Participant.display_name).join(Project)
                            .where(Project.slug == project.slug)).all()
    assert names == ["Henk", "Henk"]


@pytest.mark.parametrize(("body", "field"), [
    ({"participants": [{"email": "not-an-address"}]}, "email"),
    ({"participants": [{"display_name": "x" * 201}]}, "display_name"),
    ({"participants": []}, "participants"),
    ({"participants": [{"name": "Henk"}]}, "name"),
    ({}, "participants"),
    ({"participants": [{}] * 1001}, "participants"),
])
def test_a_bad_entry_names_the_field_and_adds_nobody(client, session, project, token, body, field):
    response = client.post(f"/api/v1/projects/{project.slug}/participants", headers=bearer(token), json=body)
    problem = assert_problem(response, 422, "validation-error")
    assert any(field in error["location"].split(".") for error in problem["errors"]), problem["errors"]
    session.expire_all()
    assert session.scalar(select(Participant.id)) is None


def test_an_archived_project_takes_no_new_residents(client, session, org, project, token):
    archive.set_archived(session, access.Actor(organisation_id=org.id, role="admin"), project.slug, True)
    session.commit()
    assert_problem(add(client, token, project.slug, {}), 409, "conflict")


# --- listing -------------------------------------------------------------------------------------

def test_the_list_pages_in_a_stable_order_with_each_wave_state(app, client, session, project, token):
    codes = [p["code"] for p in add(client, token, project.slug, *({} for _ in range(5))).get_json()["participants"]]
    answer(app, session, project.slug, "pre", codes[0], {("organising", "org_1"): 4})
    answer(app, session, project.slug, "pre", codes[1], {("organising", "org_1"): 4}, complete=False)
    seen, offset, pages = [], 0, 0
    while offset is not None:
        page = client.get(f"/api/v1/projects/{project.slug}/participants?limit=2&offset={offset}",
                          headers=bearer(token)).get_json()
        assert page["total"] == 5 and page["limit"] == 2 and len(page["participants"]) <= 2
        seen += page["participants"]
        offset, pages = page["next_offset"], pages + 1
    assert pages == 3 and [p["code"] for p in seen] == codes
    states = {p["code"]: p["status"] for p in seen}
    assert states[codes[0]] == {"pre": "done", "post": "not_started", "followup": "not_started"}
    assert states[codes[1]]["pre"] == "busy" and states[codes[2]]["pre"] == "not_started"
    assert seen[1]["next_wave"] == "pre" and seen[0]["next_wave"] is None and seen[0]["has_link"] is True


def test_the_list_uses_100_rows_by_default_and_refuses_a_limit_out_of_range(client, project, token):
    add(client, token, project.slug, {})
    page = client.get(f"/api/v1/projects/{project.slug}/participants", headers=bearer(token)).get_json()
    assert page["limit"] == 100 and page["offset"] == 0 and page["next_offset"] is None
    for limit in (0, 501):
        problem = assert_problem(client.get(f"/api/v1/projects/{project.slug}/participants?limit={limit}",
                                            headers=bearer(token)), 422, "validation-error")
        assert any("limit" in error["location"] for error in problem["errors"])


def test_one_resident_reads_with_the_state_of_each_wave(client, project, token):
    [added] = add(client, token, project.slug, {"display_name": "Fatima"}).get_json()["participants"]
    one = client.get(f"/api/v1/projects/{project.slug}/participants/{added['code']}", headers=bearer(token))
    assert one.status_code == 200
    body = one.get_json()
    assert body["code"] == added["code"] and body["display_name"] == "Fatima" and body["source"] == "link"
    assert body["status"]["pre"] == "not_started" and "link" not in body
    assert_problem(client.get(f"/api/v1/projects/{project.slug}/participants/R-NOPE9", headers=bearer(token)),
                   404, "not-found")


# --- links ---------------------------------------------------------------------------------------

def test_getting_a_link_is_audited_by_code_never_by_token(client, session, project, token):
    [added] = add(client, token, project.slug, {}).get_json()["participants"]
    response = client.get(f"/api/v1/projects/{project.slug}/participants/{added['code']}/link", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json() == {"code": added["code"], "link": added["link"], "short_link": added["short_link"]}
    [event] = events(session, "participant.view_link")
    assert event.target == f"project:{project.slug}/{added['code']}" and event.actor.startswith("api:shk_")
    token_part = added["link"].rsplit("/", 1)[1]
    assert token_part not in repr((event.target, event.details, event.actor))


def test_a_renewed_link_is_the_one_handed_out(client, session, org, project, token):
    [added] = add(client, token, project.slug, {}).get_json()["participants"]
    from surveyhub.services import participants
    new = participants.renew_link(session, access.Actor(organisation_id=org.id, role="admin"), project.slug,
                                  added["code"])
    session.commit()
    link = client.get(f"/api/v1/projects/{project.slug}/participants/{added['code']}/link",
                      headers=bearer(token)).get_json()["link"]
    assert link.endswith(f"/q/{new}") and link != added["link"]


# --- who may -------------------------------------------------------------------------------------

def test_a_funder_token_never_gets_participants(client, session, org, project, make_user, make_api_token):
    [added] = add(client, make_api_token(org), project.slug, {"display_name": "Fatima"}).get_json()["participants"]
    funder = make_user("funder", org=org, email="fonds@example.org")
    projects.set_share(session, access.Actor(organisation_id=org.id, role="admin"), project.slug, funder.email, True)
    session.commit()
    token = make_api_token(org, role="funder", funder_email=funder.email)  # every scope, still a funder
    assert client.get(f"/api/v1/projects/{project.slug}", headers=bearer(token)).status_code == 200
    base = f"/api/v1/projects/{project.slug}/participants"
    for path in (base, f"{base}/{added['code']}", f"{base}/{added['code']}/link"):
        body = assert_problem(client.get(path, headers=bearer(token)), 404, "not-found")
        assert "Fatima" not in str(body)
    assert_problem(add(client, token, project.slug, {}), 404, "not-found")
    assert events(session, "participant.view_link") == []


def test_participants_need_the_projects_manage_scope(client, org, project, make_api_token):
    token = make_api_token(org, scopes=("outcomes:read", "rows:export", "documents:read", "responses:import"))
    base = f"/api/v1/projects/{project.slug}/participants"
    assert_problem(client.get(base, headers=bearer(token)), 403, "insufficient-scope")
    assert_problem(add(client, token, project.slug, {}), 403, "insufficient-scope")


def test_another_organisations_residents_are_not_found(client, org, project, token, make_org, make_api_token):
    [added] = add(client, token, project.slug, {}).get_json()["participants"]
    other = make_api_token(make_org("Elders"))
    base = f"/api/v1/projects/{project.slug}/participants"
    for path in (base, f"{base}/{added['code']}", f"{base}/{added['code']}/link"):
        assert_problem(client.get(path, headers=bearer(other)), 404, "not-found")
