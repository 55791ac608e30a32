"""Sharing a project with a funder: on the project page, on the command line, and in the demo.

A funder sees a project only once an admin or worker of the same organisation
shared it with them, and then only its outcomes and reports. Sharing and
unsharing are in the audit trail.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyhub.cli import cli
from surveyhub.models import AuditEvent, ProjectShare
from surveyhub.services import demo
from tests.fixtures.factories import csrf_token


@pytest.fixture
def setting(make_org, make_user, make_project):
    org = make_org("Buurtwerk Noord")
    return {"org": org, "project": make_project(org, "Buurttuin"), "worker": make_user("worker", org),
            "funder": make_user("funder", org), "stranger": make_user("funder", make_org("Welzijn Zuid"))}


def _events(session, action: str) -> list[tuple]:
    rows = session.execute(select(AuditEvent.actor, AuditEvent.target, AuditEvent.details)
                           .where(AuditEvent.action == action)).all()
    session.commit()
    return [tuple(row) for row in rows]


def _share(client, slug: str, email: str, shared: bool):
    page = client.get(f"/projects/{slug}")
    return client.post(f"/projects/{slug}/share", data={"csrf_token": csrf_token(page.text), "funder": email,
                                                        "shared": "1" if shared else "0"})


def test_a_worker_shares_and_unshares_a_project_with_a_funder(client_for, session, setting):
    slug, funder_email = setting["project"].slug, setting["funder"].email
    worker, funder = client_for(setting["worker"].email), client_for(funder_email)
    assert funder_email in worker.get(f"/projects/{slug}").text  # the funders of the organisation are listed
    assert funder.get(f"/projects/{slug}/outcomes").status_code == 404

    assert _share(worker, slug, funder_email, True).status_code == 302
    assert funder.get(f"/projects/{slug}/outcomes").status_code == 200
    assert "Buurttuin" in funder.get("/").text
    assert _events(session, "project.share") == [(setting["worker"].email, f"project:{slug}", {"funder": funder_email})]

    assert _share(worker, slug, funder_email, False).status_code == 302
    assert funder.get(f"/projects/{slug}/outcomes").status_code == 404
    assert "Buurttuin" not in funder.get("/").text
    assert _events(session, "project.unshare") == [(setting["worker"].email, f"project:{slug}", {"funder": funder_email})]


def test_only_funders_of_the_same_organisation_can_be_shared_with(client_for, session, setting):
    slug = setting["project"].slug
    worker = client_for(setting["worker"].email)
    for email in (setting["stranger"].email, setting["worker"].email, "nobody@example.org"):
        response = _share(worker, slug, email, True)
        assert response.status_code == 302
    assert session.scalar(select(ProjectShare.id)) is None
    session.commit()
    assert setting["stranger"].email not in worker.get(f"/projects/{slug}").text


def test_sharing_needs_a_csrf_token_and_is_not_for_funders(client_for, session, setting):
    slug, funder_email = setting["project"].slug, setting["funder"].email
    worker = client_for(setting["worker"].email)
    forged = worker.post(f"/projects/{slug}/share", data={"funder": funder_email, "shared": "1"})
    assert forged.status_code == 400
    funder = client_for(funder_email)
    token = csrf_token(funder.get("/").text)
    assert funder.post(f"/projects/{slug}/share", data={"csrf_token": token, "funder": funder_email,
                                                        "shared": "1"}).status_code == 404
    assert session.scalar(select(ProjectShare.id)) is None
    session.commit()


def test_the_command_line_shares_and_unshares(runner, client_for, setting):
    slug, funder_email = setting["project"].slug, setting["funder"].email
    result = runner.invoke(cli, ["project", "share", slug, "--funder", funder_email])
    assert result.exit_code == 0, result.output
    assert f"{slug}: shared with {funder_email}" in result.output
    assert client_for(funder_email).get(f"/projects/{slug}").status_code == 200
    result = runner.invoke(cli, ["project", "share", slug, "--funder", funder_email, "--remove"])
    assert result.exit_code == 0 and "no longer shared" in result.output
    refused = runner.invoke(cli, ["project", "share", slug, "--funder", setting["stranger"].email])
    assert refused.exit_code != 0 and "not a funder of this organisation" in refused.output


def test_the_demo_funder_sees_the_demo_numbers_but_no_resident(runner, client_for):
    output = runner.invoke(cli, ["demo"]).output
    [(email, password)] = [line.split()[1::2] for line in output.splitlines() if line.strip().startswith("funder")]
    funder = client_for(email, password)
    dashboard = funder.get("/")
    assert demo.DEMO_PROJECT in dashboard.text
    slug = demo.DEMO_PROJECT.lower().replace(" ", "-")
    assert funder.get(f"/projects/{slug}/outcomes").status_code == 200
    assert funder.get(f"/projects/{slug}/participants").status_code == 404
    assert "Fatima" not in funder.get(f"/projects/{slug}").text
