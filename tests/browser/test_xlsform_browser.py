"""An admin on a phone, without JavaScript, uploads a broken XLSForm and downloads an instrument as one:
the errors name sheet, row and column on the page, axe at 0, no sideways scrolling."""

from __future__ import annotations

import pytest

from surveyhub.services import xlsform
from tests.browser.conftest import PHONE, assert_phone_friendly
from tests.browser.test_instruments_browser import AXE_OPTIONS, admin_email, axe, log_in  # noqa: F401 - fixtures
from tests.test_xlsform import AGREE3, good_survey, workbook

pytestmark = pytest.mark.browser


def upload_broken(page, live, tmp_path) -> str:
    survey = good_survey()
    survey[2][0] = "select_one agree9"
    bad = tmp_path / "buurtquiz.xlsx"
    bad.write_bytes(workbook(survey, AGREE3))
    page.goto(f"{live.url}/admin/instruments")
    page.get_by_label("Bestand met het meetinstrument (YAML of XLSForm .xlsx)").set_input_files(str(bad))
    page.get_by_role("button", name="Uploaden").click()
    return page.get_by_role("alert").inner_text()


def test_a_broken_upload_and_a_download_work_without_javascript(live, new_context, admin_email,  # noqa: F811
                                                                 tmp_path):
    page = new_context(**PHONE, java_script_enabled=False).new_page()
    log_in(page, live, admin_email)
    assert "buurtquiz.xlsx: survey, row 4, column type: unknown list 'agree9'" in upload_broken(page, live, tmp_path)
    page.goto(f"{live.url}/admin/instruments/organising/2")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download als XLSForm (Kobo/ODK)").click()
    saved = tmp_path / "organising.xlsx"
    download.value.save_as(saved)
    assert xlsform.parse_xlsform(saved.read_bytes(), "organising.xlsx")["id"] == "organising"


def test_the_errors_of_a_broken_upload_pass_axe_on_a_phone(live, new_context, axe, admin_email,  # noqa: F811
                                                           tmp_path):
    page = new_context(**PHONE).new_page()
    log_in(page, live, admin_email)
    assert "column type: unknown list 'agree9'" in upload_broken(page, live, tmp_path)
    results = axe.run(page, options=AXE_OPTIONS)
    assert results.response["violations"] == [], [v["id"] for v in results.response["violations"]]
    assert_phone_friendly(page)
