"""``surveyhub network``: create, join, add-project, remove-project, viewer-add, report (issue 14, point 4)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from surveyhub.models import AuditEvent, NetworkMember, NetworkProject, NetworkViewer
from tests.fixtures.outcomes import answer, new_project, with_outcome_instruments
from tests.fixtures.clock import local_today


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


def run(runner, *args, ok: bool = True):
    result = runner.invoke(args=["network", *args])
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    else:
        assert result.exit_code == 1, (result.output, result.exception)
        assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1, result.output
        assert "Traceback" not in result.output
    return result


def test_a_network_from_the_command_line_to_its_report(app, session, runner, make_org, make_user, tmp_path):
    make_org("Buurtwerk Noord")
    south = make_org("Welzijn Zuid")
    funder = make_user("funder", south, email="wethouder@gemeente.example")
    created = run(runner, "create", "Samen Oost", "--org", "Buurtwerk Noord", "--area", "Oost, Utrecht")
    slug, code_line = created.stdout.splitlines()
    assert slug == "samen-oost" and code_line.startswith("join code: ") and len(code_line) > len("join code: ") + 10
    assert "2 organisations" in run(runner, "join", slug, "--org", "welzijn-zuid").stdout
    assert "already a member" in run(runner, "join", slug, "--org", "Welzijn Zuid", ok=False).output
    project = new_project(app, session, south, ["rating"], name="Moestuin Zuid")
    for i in range(3):
        answer(app, session, project, "pre", f"R{i}", {("rating", "rating"): 4})
        answer(app, session, project, "post", f"R{i}", {("rating", "rating"): 7})
    assert "now counts" in run(runner, "add-project", slug, project).stdout
    assert "already counted" in run(runner, "add-project", slug, project).stdout
    assert "can read the report" in run(runner, "viewer-add", slug, funder.email).stdout
    assert session.scalar(select(NetworkViewer.user_id)) == funder.id
    today = local_today()
    out = tmp_path / "network.json"
    run(runner, "report", slug, "--from", (today - timedelta(days=1)).isoformat(), "--to", today.isoformat(),
        "-o", str(out))
    found = json.loads(out.read_text())
    assert found["network"]["slug"] == slug and [o["name"] for o in found["organisations"]] == [
        "Buurtwerk Noord", "Welzijn Zuid"]
    assert found["organisations"][1]["residents"] == "<5" and found["organisations"][1]["scales"][0]["too_few"]
    printed = json.loads(run(runner, "report", slug, "--from", today.isoformat(), "--to", today.isoformat()).stdout)
    assert printed["period"] == {"start": today.isoformat(), "end": today.isoformat()}
    assert session.scalar(select(AuditEvent.target).where(AuditEvent.action == "download.report")) == f"network:{slug}"
    assert "no longer counts" in run(runner, "remove-project", slug, project).stdout
    assert session.scalar(select(NetworkProject.id)) is None
    session.commit()
    assert len(session.scalars(select(NetworkMember)).all()) == 2


def test_errors_are_one_line(app, session, runner, make_org, make_project):
    make_org("Buurtwerk Noord")
    other = make_org("Welzijn Zuid")
    run(runner, "create", "Samen Oost", "--org", "Buurtwerk Noord", "--area", "Oost")
    outside = make_project(other, "Speeltuin Zuid")
    for args in (["create", "Samen Oost", "--org", "Geen Org", "--area", "Oost"],
                 ["create", " ", "--org", "Buurtwerk Noord", "--area", "Oost"],
                 ["join", "no-such-network", "--org", "Welzijn Zuid"],
                 ["add-project", "samen-oost", outside.slug],  # Welzijn Zuid is not a member
                 ["add-project", "samen-oost", "no-such-project"],
                 ["viewer-add", "samen-oost", "nobody@example.org"],
                 ["report", "samen-oost", "--from", "2026-02-01", "--to", "2026-01-01"],
                 ["report", "samen-oost", "--from", "gisteren", "--to", "2026-01-01"],
                 ["report", "no-such-network", "--from", "2026-01-01", "--to", "2026-02-01"]):
        run(runner, *args, ok=False)
