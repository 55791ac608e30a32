"""XLSForm where admins meet it: the instruments page takes an .xlsx, the detail page hands one out,
and ``surveyhub instruments import-xlsform | export-xlsform`` do the same on the command line."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select

from surveyhub.measures.definition import normalise
from surveyhub.models import InstrumentVersion
from surveyhub.plugins import get_registry
from surveyhub.services import xlsform, xlsform_export
from tests.fixtures.factories import csrf_token
from tests.test_instruments_admin import shown_errors
from tests.test_xlsform import AGREE3, good_survey, workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def admin(make_org, make_user, login):
    org = make_org("Buurtwerk Noord")
    login(make_user("admin", org=org).email)
    return org


def upload(client, content: bytes, filename: str = "buurtquiz.xlsx"):
    token = csrf_token(client.get("/admin/instruments?lang=en").text)
    return client.post("/admin/instruments?lang=en", data={"csrf_token": token, "file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data", follow_redirects=True)


def uploads(session) -> list[tuple[str, int]]:
    found = session.execute(select(InstrumentVersion.instrument_id, InstrumentVersion.version)
                            .where(InstrumentVersion.scope.like("org:%"))).all()
    session.rollback()
    return [tuple(row) for row in found]


def test_an_admin_uploads_an_xlsform_and_it_is_stored_like_a_yaml_file(client, session, admin):
    page = upload(client, workbook(good_survey(), AGREE3))
    assert page.status_code == 200 and "Instrument buurtquiz version 1 uploaded." in page.text
    assert uploads(session) == [("buurtquiz", 1)]
    detail = client.get("/admin/instruments/buurtquiz/1?lang=en")
    assert "Ik ken niemand." in detail.text and "(reverse)" in detail.text


def test_a_workbook_under_another_name_is_still_read_as_a_workbook(client, session, admin):
    page = upload(client, workbook(good_survey(), AGREE3), filename="buurtquiz.yaml")
    assert "Instrument buurtquiz version 1 uploaded." in page.text and uploads(session) == [("buurtquiz", 1)]


def test_a_bad_xlsform_shows_its_sheet_row_and_column_on_the_page_and_stores_nothing(client, session, admin):
    survey = good_survey()
    survey[1][2] = ""
    survey[2][5] = "soms"
    page = upload(client, workbook(survey, AGREE3))
    assert shown_errors(page) == [
        "buurtquiz.xlsx: survey, row 3, column label::Nederlands (nl): empty",
        "buurtquiz.xlsx: survey, row 4, column surveyhub_reverse: wrong value 'soms'; write true or false"]
    assert uploads(session) == []


def test_yaml_uploads_still_work(client, session, admin):
    from tests.test_instruments_admin import VALID

    page = upload(client, VALID.encode(), filename="buurtquiz.yaml")
    assert "Instrument buurtquiz version 1 uploaded." in page.text and uploads(session) == [("buurtquiz", 1)]


def test_the_detail_page_offers_the_instrument_as_xlsform(app, client, admin):
    detail = client.get("/admin/instruments/cooperation/2?lang=en")
    assert 'href="/admin/instruments/cooperation/2.xlsx"' in detail.text and "Download as XLSForm" in detail.text
    download = client.get("/admin/instruments/cooperation/2.xlsx")
    assert download.status_code == 200 and download.mimetype == XLSX
    assert 'filename="cooperation_v2.xlsx"' in download.headers["Content-Disposition"]
    back = xlsform.parse_xlsform(download.data, "cooperation_v2.xlsx", **get_registry(app).known())
    assert normalise(back) == get_registry(app).get("cooperation", 2).definition
    assert client.get("/admin/instruments/nothing/1.xlsx").status_code == 404


def test_the_dutch_page_says_it_in_dutch(client, admin):
    page = client.get("/admin/instruments?lang=nl")
    assert "Bestand met het meetinstrument (YAML of XLSForm .xlsx)" in page.text
    assert "Download als XLSForm (Kobo/ODK)" in client.get("/admin/instruments/cooperation/2?lang=nl").text


def test_only_admins_download_an_xlsform(client, make_org, make_user, login):
    org = make_org("Buurtwerk Noord")
    login(make_user("worker", org=org).email)
    assert client.get("/admin/instruments/cooperation/2.xlsx").status_code in (302, 403)


# --- command line ---------------------------------------------------------------------------

def test_export_then_import_on_the_command_line(app, runner, session, make_org, tmp_path):
    make_org("Buurtwerk Noord")
    out = tmp_path / "organising.xlsx"
    result = runner.invoke(args=["instruments", "export-xlsform", "organising", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out).sheetnames == ["survey", "choices", "settings", "surveyhub"]
    checked = runner.invoke(args=["instruments", "import-xlsform", str(out), "--check"])
    assert checked.exit_code == 0 and "valid (organising version" in checked.output
    # An installed id cannot be stored as an organisation's own: the same rule as a YAML upload.
    refused = runner.invoke(args=["instruments", "import-xlsform", str(out), "--org", "Buurtwerk Noord"])
    assert refused.exit_code == 1 and "belongs to an installed instrument" in refused.output
    own = tmp_path / "buurtquiz.xlsx"
    own.write_bytes(workbook(good_survey(), AGREE3))
    stored = runner.invoke(args=["instruments", "import-xlsform", str(own), "--org", "Buurtwerk Noord"])
    assert stored.exit_code == 0, stored.output
    assert uploads(session) == [("buurtquiz", 1)]
    again = tmp_path / "again.xlsx"
    exported = runner.invoke(args=["instruments", "export-xlsform", "buurtquiz@1", "--org", "Buurtwerk Noord",
                                   "-o", str(again)])
    assert exported.exit_code == 0, exported.output
    assert normalise(xlsform.parse_xlsform(again.read_bytes(), "again.xlsx")) == normalise(
        xlsform.parse_xlsform(own.read_bytes(), "own.xlsx"))


def test_the_command_line_lists_every_problem_and_exits_1(runner, tmp_path):
    bad = tmp_path / "bad.xlsx"
    survey = good_survey()
    survey[2][0] = "select_one agree9"
    bad.write_bytes(workbook(survey, AGREE3))
    result = runner.invoke(args=["instruments", "import-xlsform", str(bad), "--check"])
    assert result.exit_code == 1
    assert "survey, row 4, column type: unknown list 'agree9'" in result.output
    assert runner.invoke(args=["instruments", "import-xlsform", str(bad)]).exit_code == 2  # neither --org nor --check
    missing = runner.invoke(args=["instruments", "export-xlsform", "nothing", "-o", str(tmp_path / "x.xlsx")])
    assert missing.exit_code == 1 and "no instrument 'nothing'" in missing.output


def test_every_export_passes_pyxform(app):
    for loaded in get_registry(app).all():
        assert xlsform_export.check_with_pyxform(xlsform_export.export(loaded.definition)) == [], loaded.id
