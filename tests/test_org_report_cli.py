"""``surveyhub report --org ORG --from DATE --to DATE``: the organisation report from the command line,
and one clear line for every mistake."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from surveyhub.models import AuditEvent
from tests.fixtures.outcomes import with_outcome_instruments
from tests.test_across import rated_project, spread


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


@pytest.fixture
def org(app, session, make_org):
    found = make_org("Buurtwerk Noord")
    rated_project(app, session, found, "Buurttuin", spread(12, 1), spread(12, 2, 3, 10), prefix="A")
    rated_project(app, session, found, "Oud project", [3, 4, 5, 6, 7], [4, 5, 6, 7, 8], prefix="B",
                  completed=datetime(2024, 3, 1, tzinfo=timezone.utc))
    return found


def test_the_organisation_report_as_json_on_standard_output_and_in_a_file(app, session, runner, org, tmp_path):
    result = runner.invoke(args=["report", "--org", "buurtwerk-noord", "--from", "2026-01-01", "--to", "2026-12-31"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["organisation"]["name"] == "Buurtwerk Noord"
    assert report["period"] == {"start": "2026-01-01", "end": "2026-12-31"}
    assert [row["name"] for row in report["projects"]] == ["Buurttuin"] and report["totals"]["pairs"] == 12
    # By name too, with the thresholds of the call; written to a file.
    target = tmp_path / "jaar.json"
    result = runner.invoke(args=["report", "--org", "Buurtwerk Noord", "--from", "2024-01-01", "--to", "2026-12-31",
                                 "--min-n", "3", "-o", str(target)])
    assert result.exit_code == 0, result.output
    report = json.loads(target.read_text(encoding="utf-8"))
    assert report["thresholds"]["min_means"] == 3 and report["thresholds"]["sources"]["min_means"] == "call"
    assert {row["name"] for row in report["projects"]} == {"Buurttuin", "Oud project"}
    assert report["scales"][0]["projects"] == 2 and report["scales"][0]["n_pairs"] == 17
    # Handing out the figures is in the audit trail, with the period.
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "download.report")).all()
    assert [event.target for event in events] == ["organisation:buurtwerk-noord"] * 2
    assert events[1].details == {"format": "json", "period": "2024-01-01..2026-12-31"}


def test_the_organisation_report_as_a_registered_pdf_that_verifies(app, session, runner, org, tmp_path):
    target = tmp_path / "jaarverslag.pdf"
    result = runner.invoke(args=["report", "--org", "buurtwerk-noord", "--from", "2026-01-01", "--to", "2026-12-31",
                                 "--format", "pdf", "-o", str(target)])
    assert result.exit_code == 0, (result.output, result.exception)
    assert target.read_bytes().startswith(b"%PDF") and "verification code" in result.stderr
    code = result.stderr.rsplit("verification code ", 1)[1].strip(" )\n")
    checked = runner.invoke(args=["verify", str(target)])
    assert checked.exit_code == 0 and checked.output.startswith("genuine:") and code in checked.output
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "download.report")).all()
    assert event.target == "organisation:buurtwerk-noord" and event.details["document"] == code
    assert event.details["format"] == "pdf" and event.details["period"] == "2026-01-01..2026-12-31"


@pytest.mark.parametrize(("args", "message"), [
    (["--org", "nobody", "--from", "2026-01-01", "--to", "2026-12-31"], "no organisation 'nobody'"),
    (["--org", "buurtwerk-noord", "--from", "2026-13-01", "--to", "2026-12-31"],
     "--from: '2026-13-01' is not a date; write it as YYYY-MM-DD"),
    (["--org", "buurtwerk-noord", "--from", "2026-12-31", "--to", "2026-01-01"],
     "--from 2026-12-31 is after --to 2026-01-01"),
    (["--org", "buurtwerk-noord", "--from", "2026-01-01"], "--org needs --to DATE (YYYY-MM-DD)"),
    (["--from", "2026-01-01", "--to", "2026-12-31"], "--from and --to go with --org ORG"),
    (["buurttuin", "--org", "buurtwerk-noord", "--from", "2026-01-01", "--to", "2026-12-31"],
     "give either PROJECT or --org, not both"),
    ([], "give a PROJECT, or --org ORG --from DATE --to DATE"),
])
def test_mistakes_get_one_clear_line(runner, org, args, message):
    result = runner.invoke(args=["report", *args])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {message}"
