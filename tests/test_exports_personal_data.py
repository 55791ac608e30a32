"""THREATS.md 20: what leaves the organisation (row exports, the report JSON and PDF, the summary table)
holds no personal links, e-mail addresses or names — only pseudonymous codes and numbers."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from surveyhub.services import access, participants
from tests.fixtures.factories import csrf_token
from tests.fixtures.outcomes import csv_file, import_csv, new_project, with_outcome_instruments

NAMES = ["Fatima Yilmaz-Ozturk", "Jan-Willem Zeldzaam"]
EMAILS = ["fatima.yilmaz@voorbeeld.nl", "jw.zeldzaam@voorbeeld.nl"]


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


@pytest.fixture
def named_project(app, runner, session, make_org, tmp_path):
    """Two residents invited by name and e-mail, with answers in both waves (imported by their codes)."""
    org = make_org("Buurtwerk Noord")
    slug = new_project(app, session, org, ["rating"])
    actor = access.Actor(organisation_id=org.id, role="admin")
    invited = participants.add_participants(session, actor, slug, entries=list(zip(NAMES, EMAILS)))
    session.commit()
    header = ["participant", "rating", "story"]
    for wave, values in (("pre", (4, 5)), ("post", (7, 8))):
        rows = [[inv.code, value, "Ik heb veel geleerd"] for inv, value in zip(invited, values)]
        import_csv(runner, slug, wave, csv_file(tmp_path / f"{wave}.csv", header, rows))
    return org, slug, invited


def _no_personal_data(data: bytes | str, invited, where: str) -> None:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    for secret in [*NAMES, *EMAILS, *(inv.token for inv in invited)]:
        assert secret not in text, f"{where} holds {secret!r}"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "sav"])
def test_row_exports_hold_codes_not_names_emails_or_links(runner, named_project, tmp_path, fmt):
    _, slug, invited = named_project
    target = tmp_path / f"export.{fmt}"
    done = runner.invoke(args=["responses", "export", slug, "--format", fmt, "-o", str(target)])
    assert done.exit_code == 0, done.output
    raw = target.read_bytes()
    if fmt == "xlsx":
        import openpyxl
        book = openpyxl.load_workbook(io.BytesIO(raw))
        raw = "\n".join(str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row).encode()
    _no_personal_data(raw, invited, f"the {fmt} export")
    assert invited[0].code.encode() in raw  # the pseudonymous code is what identifies a row


def test_reports_and_summary_hold_no_names_emails_or_links(app, named_project, make_user, client_for, session):
    org, slug, invited = named_project
    worker = make_user("worker", org=org)
    client = client_for(worker.email)
    report_json = client.get(f"/projects/{slug}/outcomes/report.json")
    assert report_json.status_code == 200
    _no_personal_data(report_json.data, invited, "the report JSON")
    summary = client.get(f"/projects/{slug}/outcomes/summary.csv")
    assert summary.status_code == 200
    _no_personal_data(summary.data, invited, "the summary table")
    page = client.get(f"/projects/{slug}/documents")
    started = client.post(f"/projects/{slug}/documents/report.pdf", data={"csrf_token": csrf_token(page.text)})
    pdf = client.get(started.headers["Location"] + "/download")  # made by a job (run at once in tests)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    _no_personal_data(text, invited, "the report PDF")
