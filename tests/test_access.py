"""Organisation scoping and role checks, through the pages and through the services.

Another organisation's project is "not found" (404), so its existence does not
leak; a funder sees only projects shared with them, and there only the outcomes:
every other project page is a 404 to them; only admins reach ``/admin`` (403).
The full walk over every route is ``test_permission_matrix.py``.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from surveyhub.plugins import get_registry
from surveyhub.models import Participant, Project, User, Wave
from surveyhub.services import access, accounts, participants, projects
from surveyhub.services.errors import Forbidden, NotFound
from tests.fixtures.factories import csrf_token


ADMIN_PAGES = ["/admin/users", "/admin/plugins", "/admin/instruments", "/admin/audit",
               "/admin/instruments/organising/2"]


@pytest.fixture
def two_orgs(session, make_org, make_user, make_project):
    """Organisation A with a worker and a funder (project A is shared with them), organisation B with its own project."""
    org_a, org_b = make_org("Buurtwerk Noord"), make_org("Welzijn Zuid")
    found = {
        "org_a": org_a, "org_b": org_b,
        "worker_a": make_user("worker", org_a), "funder_a": make_user("funder", org_a),
        "project_a": make_project(org_a, "Buurttuin Noord"),
        "project_b": make_project(org_b, "Speeltuin Zuid"),
    }
    projects.set_share(session, access.Actor(organisation_id=org_a.id, role="admin"), found["project_a"].slug,
                       found["funder_a"].email, True)
    session.commit()
    return found


def _token(client) -> str:
    return csrf_token(client.get("/").text)


def _read(session, statement):
    """One value, read fresh; the transaction ends at once so it never holds SQLite's write lock."""
    value = session.scalar(statement)
    session.commit()
    return value


def _wave_status(session, slug: str, kind: str) -> str:
    return _read(session, select(Wave.status).join(Project).where(Project.slug == slug, Wave.kind == kind))


# --- another organisation's project: 404 ---------------------------------------------------------

def test_worker_gets_404_for_another_organisations_project(client_for, session, two_orgs):
    worker = client_for(two_orgs["worker_a"].email)
    slug_b = two_orgs["project_b"].slug
    token = _token(worker)

    assert worker.get(f"/projects/{slug_b}").status_code == 404
    assert worker.get(f"/projects/{slug_b}/edit").status_code == 404
    edit = worker.post(f"/projects/{slug_b}/edit", data={"csrf_token": token, "name": "Overgenomen",
                                                         "instruments": ["organising@2"]})
    assert edit.status_code == 404
    close = worker.post(f"/projects/{slug_b}/waves/pre/closed", data={"csrf_token": token})
    assert close.status_code == 404

    assert _read(session, select(Project.name).where(Project.slug == slug_b)) == "Speeltuin Zuid"
    assert _wave_status(session, slug_b, "pre") == "open"


def test_the_404_page_does_not_reveal_the_other_project(client_for, two_orgs):
    worker = client_for(two_orgs["worker_a"].email)
    page = worker.get(f"/projects/{two_orgs['project_b'].slug}")
    missing = worker.get("/projects/no-such-project")
    assert page.status_code == missing.status_code == 404
    assert "Speeltuin Zuid" not in page.text
    # The same page, byte for byte, but for the CSRF token, which is signed with the second it was made in
    # (two requests a second apart on a busy machine get different ones).
    assert _without_csrf(page.text) == _without_csrf(missing.text)


def _without_csrf(html: str) -> str:
    return re.sub(r'(name="csrf[-_]token"[^>]*content="|name="csrf_token"[^>]*value=")[^"]*', r"\1", html)


def test_funder_gets_404_for_another_organisations_project(client_for, two_orgs):
    funder = client_for(two_orgs["funder_a"].email)
    assert funder.get(f"/projects/{two_orgs['project_b'].slug}").status_code == 404


def test_admin_cannot_deactivate_a_user_of_another_organisation(client_for, session, two_orgs, make_user):
    admin = client_for(make_user("admin", two_orgs["org_a"]).email)
    target = make_user("worker", two_orgs["org_b"])
    response = admin.post(f"/admin/users/{target.id}/deactivate", data={"csrf_token": _token(admin)})
    assert response.status_code == 404
    assert _read(session, select(User.active).where(User.id == target.id)) is True
    assert target.email not in admin.get("/admin/users").text


# --- funders read shared outcomes, never change anything: 404 ----------------------------------

def test_funder_can_read_the_dashboard_and_the_project(client_for, two_orgs):
    funder = client_for(two_orgs["funder_a"].email)
    dashboard = funder.get("/")
    assert dashboard.status_code == 200
    assert "Buurttuin Noord" in dashboard.text
    project = funder.get(f"/projects/{two_orgs['project_a'].slug}")
    assert project.status_code == 200
    assert "Buurttuin Noord" in project.text
    # No buttons that would only lead to a refusal.
    assert "/waves/" not in project.text
    assert f"/projects/{two_orgs['project_a'].slug}/edit" not in project.text
    assert "/projects/new" not in dashboard.text


def test_funder_cannot_create_a_project(client_for, session, two_orgs):
    funder = client_for(two_orgs["funder_a"].email)
    token = _token(funder)
    assert funder.get("/projects/new").status_code == 404
    response = funder.post("/projects/new", data={"csrf_token": token, "name": "Stiekem project",
                                                  "instruments": ["organising@2"]})
    assert response.status_code == 404
    assert _read(session, select(Project.id).where(Project.name == "Stiekem project")) is None


def test_funder_cannot_edit_a_project(client_for, session, two_orgs):
    funder = client_for(two_orgs["funder_a"].email)
    slug = two_orgs["project_a"].slug
    token = _token(funder)
    assert funder.get(f"/projects/{slug}/edit").status_code == 404
    response = funder.post(f"/projects/{slug}/edit", data={"csrf_token": token, "name": "Hernoemd",
                                                           "instruments": ["organising@2"]})
    assert response.status_code == 404
    assert _read(session, select(Project.name).where(Project.slug == slug)) == "Buurttuin Noord"


def test_funder_cannot_open_or_close_a_wave(client_for, session, two_orgs):
    funder = client_for(two_orgs["funder_a"].email)
    slug = two_orgs["project_a"].slug
    token = _token(funder)
    for kind, status, before in [("pre", "closed", "open"), ("post", "open", "draft")]:
        assert _wave_status(session, slug, kind) == before
        response = funder.post(f"/projects/{slug}/waves/{kind}/{status}", data={"csrf_token": token})
        assert response.status_code == 404
        assert _wave_status(session, slug, kind) == before


@pytest.mark.parametrize("role", ["worker", "funder"])
def test_only_admins_reach_admin_pages(client_for, make_user, two_orgs, role):
    user = client_for(two_orgs[f"{role}_a"].email)
    assert {path: user.get(path).status_code for path in ADMIN_PAGES} == {path: 403 for path in ADMIN_PAGES}
    admin = client_for(make_user("admin", two_orgs["org_a"]).email)
    assert {path: admin.get(path).status_code for path in ADMIN_PAGES} == {path: 200 for path in ADMIN_PAGES}


def test_funder_cannot_create_or_deactivate_users(client_for, session, two_orgs):
    funder = client_for(two_orgs["funder_a"].email)
    token = _token(funder)
    created = funder.post("/admin/users", data={"csrf_token": token, "email": "new@example.org",
                                                "role": "admin", "password": "a long password"})
    assert created.status_code == 403
    worker_id = two_orgs["worker_a"].id
    deactivated = funder.post(f"/admin/users/{worker_id}/deactivate", data={"csrf_token": token})
    assert deactivated.status_code == 403
    assert _read(session, select(User.id).where(User.email == "new@example.org")) is None
    assert _read(session, select(User.active).where(User.id == worker_id)) is True


# --- workers run projects but do not manage -----------------------------------------------------

def test_worker_cannot_create_users(client_for, session, two_orgs):
    worker = client_for(two_orgs["worker_a"].email)
    response = worker.post("/admin/users", data={"csrf_token": _token(worker), "email": "boss@example.org",
                                                 "role": "admin", "password": "a long password"})
    assert response.status_code == 403
    assert _read(session, select(User.id).where(User.email == "boss@example.org")) is None


def test_worker_sees_no_admin_menu(client_for, two_orgs):
    worker = client_for(two_orgs["worker_a"].email)
    assert "/admin/" not in worker.get("/").text


def test_worker_can_close_and_open_waves_of_own_project(client_for, session, two_orgs):
    worker = client_for(two_orgs["worker_a"].email)
    slug = two_orgs["project_a"].slug
    token = _token(worker)
    response = worker.post(f"/projects/{slug}/waves/pre/closed", data={"csrf_token": token})
    assert response.status_code == 302
    assert _wave_status(session, slug, "pre") == "closed"
    worker.post(f"/projects/{slug}/waves/post/open", data={"csrf_token": token})
    assert _wave_status(session, slug, "post") == "open"


def test_worker_can_create_and_edit_a_project(client_for, session, two_orgs):
    worker = client_for(two_orgs["worker_a"].email)
    token = _token(worker)
    created = worker.post("/projects/new", data={"csrf_token": token, "name": "Groene Straat",
                                                 "instruments": ["organising@2", "network@2"]})
    assert created.status_code == 302
    slug, org_id = session.execute(select(Project.slug, Project.organisation_id)
                                   .where(Project.name == "Groene Straat")).one()
    session.commit()
    assert org_id == two_orgs["org_a"].id
    assert created.headers["Location"].endswith(f"/projects/{slug}")

    edited = worker.post(f"/projects/{slug}/edit",
                         data={"csrf_token": token, "name": "Groene Straat Oost", "instruments": ["organising@2"]})
    assert edited.status_code == 302
    assert _read(session, select(Project.name).where(Project.slug == slug)) == "Groene Straat Oost"


# --- not logged in ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/projects/new", "/projects/anything", "/admin/users"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_anonymous_wave_post_changes_nothing(client, session, make_org, make_project):
    slug = make_project(make_org()).slug
    token = csrf_token(client.get("/login").text)
    response = client.post(f"/projects/{slug}/waves/pre/closed", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert _wave_status(session, slug, "pre") == "open"


# --- the services enforce the same rules (the CLI and plugins go through them too) ---------------

def _actor(org, role: str) -> access.Actor:
    return access.Actor(organisation_id=org.id, role=role)


def test_services_hide_other_organisations_projects(app, session, two_orgs):
    worker = _actor(two_orgs["org_a"], "worker")
    slug_b = two_orgs["project_b"].slug
    with pytest.raises(NotFound):
        projects.get_project(session, worker, slug_b)
    with pytest.raises(NotFound):
        projects.set_wave_status(session, worker, slug_b, "pre", "closed")
    with pytest.raises(NotFound):
        projects.update_project(session, get_registry(app), worker, slug_b, "X", None, False, ["organising@2"])
    with pytest.raises(NotFound):
        participants.add_participants(session, worker, slug_b, count=1)
    assert [p.slug for p in projects.list_projects(session, worker)] == [two_orgs["project_a"].slug]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Participant)) == 0


def test_services_refuse_changes_by_a_funder(app, session, two_orgs):
    funder = access.Actor(organisation_id=two_orgs["org_a"].id, role="funder", user_id=two_orgs["funder_a"].id)
    slug = two_orgs["project_a"].slug
    with pytest.raises(Forbidden):
        projects.create_project(session, get_registry(app), funder, "Nieuw", ["organising"])
    with pytest.raises(NotFound):
        projects.set_wave_status(session, funder, slug, "pre", "closed")
    with pytest.raises(NotFound):
        projects.update_project(session, get_registry(app), funder, slug, "X", None, False, ["organising@2"])
    with pytest.raises(NotFound):
        participants.add_participants(session, funder, slug, count=1)
    assert projects.get_project(session, funder, slug).name == "Buurttuin Noord"


def test_only_admins_manage_users(session, two_orgs):
    org_a = two_orgs["org_a"]
    for role in ("worker", "funder"):
        with pytest.raises(Forbidden):
            accounts.list_users(session, _actor(org_a, role))
        with pytest.raises(Forbidden):
            accounts.set_active(session, _actor(org_a, role), two_orgs["worker_a"].id, False)
        with pytest.raises(Forbidden):
            accounts.create_user(session, org_a.id, f"x-{role}@example.org", "admin", "a long password",
                                 actor=_actor(org_a, role))


def test_admin_services_stay_inside_their_organisation(session, make_user, two_orgs):
    admin_b_info = make_user("admin", two_orgs["org_b"])
    admin_b = access.Actor(organisation_id=two_orgs["org_b"].id, role="admin", user_id=admin_b_info.id)
    with pytest.raises(NotFound):
        accounts.set_active(session, admin_b, two_orgs["worker_a"].id, False)
    with pytest.raises(NotFound):
        accounts.create_user(session, two_orgs["org_a"].id, "spy@example.org", "admin", "a long password",
                             actor=admin_b)
    assert {u.email for u in accounts.list_users(session, admin_b)} == {admin_b_info.email}


def test_unknown_roles_may_do_nothing(session, two_orgs):
    stranger = _actor(two_orgs["org_a"], "visitor")
    with pytest.raises(Forbidden):
        projects.list_projects(session, stranger)
