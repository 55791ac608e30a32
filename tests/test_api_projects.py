"""The API's project and wave routes: read, create, open and close, as a script with a token does."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyhub.models import AuditEvent, Project
from surveyhub.services import access, archive, projects
from tests.fixtures.factories import bearer

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, kind: str) -> dict:
    """An RFC 9457 problem of ``kind`` with every member a client reads."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["type"].endswith(f"/api/v1/problems/{kind}")
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def admin_of(org) -> access.Actor:
    return access.Actor(organisation_id=org.id, role="admin")


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")


@pytest.fixture
def project(org, make_project):
    return make_project(org, "Speeltuin De Vlinder", instruments=("organising", "cooperation"))


@pytest.fixture
def token(org, make_api_token):
    return make_api_token(org)


def audit_actions(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# --- reading -------------------------------------------------------------------------------------

def test_a_project_reads_with_its_waves_and_instruments(client, project, token):
    response = client.get(f"/api/v1/projects/{project.slug}", headers=bearer(token))
    assert response.status_code == 200
    body = response.get_json()
    assert body["slug"] == project.slug and body["name"] == "Speeltuin De Vlinder"
    assert body["instruments"] == project.instruments and len(body["instruments"]) == 2
    assert [(w["kind"], w["status"]) for w in body["waves"]] == [("pre", "open"), ("post", "draft"),
                                                                ("followup", "draft")]
    assert body["participants"] == 0 and body["archived"] is False


def test_a_project_route_carries_no_personal_data_or_links(client, org, project, token, make_participant):
    invitation = make_participant(org, project.slug, "Fatima Yilmaz")
    text = client.get(f"/api/v1/projects/{project.slug}", headers=bearer(token)).get_data(as_text=True)
    listed = client.get("/api/v1/projects", headers=bearer(token)).get_data(as_text=True)
    for secret in ("Fatima", invitation.token, invitation.code):
        assert secret not in text and secret not in listed


def test_another_organisations_project_is_not_found(client, make_org, make_project, make_api_token, project):
    other = make_org("Elders")
    token = make_api_token(other)
    for path in (f"/api/v1/projects/{project.slug}", f"/api/v1/projects/{project.slug}/participants"):
        assert_problem(client.get(path, headers=bearer(token)), 404, "not-found")
    assert_problem(client.post(f"/api/v1/projects/{project.slug}/waves/post/open", headers=bearer(token)),
                   404, "not-found")
    assert client.get("/api/v1/projects", headers=bearer(token)).get_json() == {"projects": []}


def test_an_unknown_project_and_no_token(client, token):
    assert_problem(client.get("/api/v1/projects/nope", headers=bearer(token)), 404, "not-found")
    response = client.get("/api/v1/projects/nope")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_funder_token_reads_only_the_projects_shared_with_its_funder(client, session, org, make_project, make_user,
                                                                       make_api_token):
    shared, private = make_project(org, "Gedeeld"), make_project(org, "Niet gedeeld")
    funder = make_user("funder", org=org, email="fonds@example.org")
    projects.set_share(session, admin_of(org), shared.slug, funder.email, True)
    session.commit()
    token = make_api_token(org, role="funder", scopes=("outcomes:read",), funder_email=funder.email)
    listed = client.get("/api/v1/projects", headers=bearer(token)).get_json()
    assert [p["slug"] for p in listed["projects"]] == [shared.slug]
    assert client.get(f"/api/v1/projects/{shared.slug}", headers=bearer(token)).status_code == 200
    assert_problem(client.get(f"/api/v1/projects/{private.slug}", headers=bearer(token)), 404, "not-found")


# --- creating ------------------------------------------------------------------------------------

def test_creating_a_project_answers_201_with_its_location_and_opens_the_pre_wave(client, session, token):
    response = client.post("/api/v1/projects", headers=bearer(token), json={
        "name": "Buurttuin Oost", "instruments": ["organising@2", "cooperation"], "description": "Samen tuinieren.",
        "form_length": "short", "period_start": "2026-01-05", "period_end": "2026-06-30"})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["slug"] == "buurttuin-oost" and body["description"] == "Samen tuinieren."
    assert body["instruments"][0] == "organising@2" and body["instruments"][1].startswith("cooperation@")
    assert body["form_length"] == "short" and body["period_end"] == "2026-06-30"
    assert body["waves"][0] == {"kind": "pre", "status": "open", "started": 0, "completed": 0}
    assert response.headers["Location"].endswith("/api/v1/projects/buurttuin-oost")
    assert client.get(response.headers["Location"], headers=bearer(token)).get_json() == body
    [event] = audit_actions(session, "project.create")
    assert event.target == "project:buurttuin-oost" and event.actor.startswith("api:shk_")


def test_a_second_project_of_the_same_name_gets_its_own_slug(client, token):
    slugs = [client.post("/api/v1/projects", headers=bearer(token),
                         json={"name": "Buurttuin", "instruments": ["organising"]}).get_json()["slug"]
             for _ in range(2)]
    assert slugs[0] == "buurttuin" and slugs[1] != slugs[0]


@pytest.mark.parametrize(("body", "field"), [
    ({"instruments": ["organising"]}, "name"),
    ({"name": "X", "instruments": []}, "instruments"),
    ({"name": "X", "instruments": ["organising"], "language": "fr"}, "language"),
    ({"name": "X", "instruments": ["organising"], "retention_months": 0}, "retention_months"),
    ({"name": "X", "instruments": ["organising"], "colour": "red"}, "colour"),
    ({"name": "X", "instruments": [""]}, "instruments"),
    ({"name": "X", "instruments": ["organising"], "retrospective": 0}, "retrospective"),  # no guessing at 0 or "yes"
])
def test_a_request_that_does_not_fit_names_the_field(client, token, body, field):
    problem = assert_problem(client.post("/api/v1/projects", headers=bearer(token), json=body), 422,
                             "validation-error")
    assert any(error["location"].split(".")[-1] == field or field in error["location"] for error in problem["errors"])


def test_an_unknown_instrument_is_a_422_naming_the_instruments(client, session, token):
    problem = assert_problem(client.post("/api/v1/projects", headers=bearer(token),
                                         json={"name": "X", "instruments": ["no-such-thing"]}), 422, "validation-error")
    [error] = problem["errors"]
    assert error["location"].split(".")[-1] == "instruments" and "no-such-thing" in error["message"]
    session.expire_all()
    assert session.scalar(select(Project).where(Project.name == "X")) is None


def test_a_rule_of_the_service_is_a_422(client, token):
    problem = assert_problem(client.post("/api/v1/projects", headers=bearer(token), json={
        "name": "X", "instruments": ["organising"], "period_start": "2026-06-01", "period_end": "2026-01-01"}),
        422, "invalid")
    assert problem["detail"]


def test_creating_needs_the_projects_manage_scope(client, org, make_api_token):
    token = make_api_token(org, scopes=("outcomes:read",))
    response = client.post("/api/v1/projects", headers=bearer(token), json={"name": "X", "instruments": ["organising"]})
    assert_problem(response, 403, "insufficient-scope")
    assert 'scope="projects:manage"' in response.headers["WWW-Authenticate"]


# --- waves ---------------------------------------------------------------------------------------

def test_opening_and_closing_waves_is_audited_and_idempotent(client, session, project, token):
    base = f"/api/v1/projects/{project.slug}/waves"
    opened = client.post(f"{base}/post/open", headers=bearer(token))
    assert opened.status_code == 200 and opened.get_json() == {"kind": "post", "status": "open", "started": 0,
                                                               "completed": 0}
    again = client.post(f"{base}/post/open", headers=bearer(token))
    assert again.status_code == 200 and again.get_json()["status"] == "open"
    assert [e.target for e in audit_actions(session, "wave.open")] == [f"project:{project.slug}/post"]
    closed = client.post(f"{base}/pre/close", headers=bearer(token))
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert client.post(f"{base}/pre/close", headers=bearer(token)).get_json()["status"] == "closed"
    assert len(audit_actions(session, "wave.close")) == 1
    waves = {w["kind"]: w["status"] for w in client.get(f"/api/v1/projects/{project.slug}",
                                                         headers=bearer(token)).get_json()["waves"]}
    assert waves == {"pre": "closed", "post": "open", "followup": "draft"}


def test_a_wave_kind_that_does_not_exist_is_not_found(client, project, token):
    """404, not 422: the URL names a wave, and a project has only pre, post and followup (the OpenAPI
    document lists them as the path parameter's enum)."""
    assert_problem(client.post(f"/api/v1/projects/{project.slug}/waves/middle/open", headers=bearer(token)),
                   404, "not-found")


def test_waves_of_an_archived_project_do_not_change(client, session, org, project, token):
    archive.set_archived(session, admin_of(org), project.slug, True)
    session.commit()
    assert_problem(client.post(f"/api/v1/projects/{project.slug}/waves/post/open", headers=bearer(token)),
                   409, "conflict")


def test_a_funder_or_a_token_without_the_scope_cannot_open_a_wave(client, session, org, project, make_user,
                                                                  make_api_token):
    funder = make_user("funder", org=org, email="fonds@example.org")
    projects.set_share(session, admin_of(org), project.slug, funder.email, True)
    session.commit()
    funder_token = make_api_token(org, role="funder", funder_email=funder.email)
    reader = make_api_token(org, scopes=("outcomes:read", "documents:read"))
    assert_problem(client.post(f"/api/v1/projects/{project.slug}/waves/post/open", headers=bearer(funder_token)),
                   404, "not-found")
    assert_problem(client.post(f"/api/v1/projects/{project.slug}/waves/post/open", headers=bearer(reader)),
                   403, "insufficient-scope")
    session.expire_all()
    assert projects.get_project(session, admin_of(org), project.slug).waves[1].status == "draft"


def test_the_openapi_document_describes_these_routes(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/projects"]) and "get" in paths["/api/v1/projects/{slug}"]
    opening = paths["/api/v1/projects/{slug}/waves/{kind}/open"]["post"]
    [kind] = [p for p in opening["parameters"] if p["name"] == "kind"]
    assert kind["in"] == "path" and kind["schema"]["enum"] == ["pre", "post", "followup"]
    assert {"200", "404", "409"} <= set(opening["responses"])
    creating = paths["/api/v1/projects"]["post"]
    assert "requestBody" in creating and {"201", "422", "403"} <= set(creating["responses"])
    listing = paths["/api/v1/projects/{slug}/participants"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"slug", "limit", "offset"}
