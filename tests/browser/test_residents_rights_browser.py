"""A resident's rights in a real browser on a small phone: see, download, withdraw.

The resident answers the questionnaire, follows "Mijn gegevens" from the
thank-you page, reads what is stored, downloads it as a file, and withdraws
after the confirmation page. Every page passes axe (WCAG 2.1 A and AA) and the
phone checks (no sideways scrolling at 360 px, large touch targets).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from surveyhub.models import Participant
from tests.browser.conftest import PHONE, assert_phone_friendly, participant_of
from tests.browser.test_accessibility import AXE_OPTIONS
from tests.test_questionnaire import Resident, finish_wave

pytestmark = pytest.mark.browser

WORDS = "Ik heb de kerstmarkt met de buren geregeld."
QUESTION = "Ik kan een buurtactiviteit van begin tot eind plannen."


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe
    return Axe()


def _finished_resident(live) -> str:
    project = live.project()
    token = live.resident(project.slug).token
    resident = Resident(live.app.test_client(), token)
    resident.consent(share_quotes=True)
    finish_wave(resident, "4", WORDS)
    return token


def _check(page, axe) -> None:
    results = axe.run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()
    assert_phone_friendly(page)


def test_a_resident_sees_downloads_and_withdraws_on_a_phone(live, new_context, axe, tmp_path):
    from playwright.sync_api import expect

    token = _finished_resident(live)
    participant_id = participant_of(live, token)
    page = new_context(accept_downloads=True, **PHONE).new_page()
    page.goto(f"{live.url}/q/{token}/done")
    _check(page, axe)

    with page.expect_navigation():
        page.get_by_role("link", name=live.ui("My data"), exact=True).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(live.ui("What we keep about you"))
    expect(page.get_by_text(QUESTION, exact=True)).to_be_visible()
    expect(page.get_by_text(WORDS, exact=True)).to_be_visible()
    _check(page, axe)

    with page.expect_download() as download_info:
        page.get_by_role("link", name=live.ui("Download your data"), exact=True).tap()
    saved = tmp_path / "mijn-gegevens.json"
    download_info.value.save_as(saved)
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert WORDS in [a["answer"] for a in data["responses"][0]["answers"]]

    with page.expect_navigation():
        page.get_by_role("link", name=live.ui("Stop and delete my data"), exact=True).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(live.ui("Stop taking part"))
    expect(page.get_by_text(live.ui("You cannot undo this."))).to_be_visible()
    _check(page, axe)

    with page.expect_navigation():
        page.get_by_role("button", name=live.ui("Yes, delete everything"), exact=True).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(live.ui("Your data has been deleted"))
    assert page.url.endswith("/withdrawn")
    _check(page, axe)
    assert live.scalar(select(Participant.id).where(Participant.id == participant_id)) is None

    page.goto(f"{live.url}/q/{token}")
    assert page.locator("h1").inner_text() != live.ui("Welcome")  # the link no longer works


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_my_data_and_withdraw_pages_pass_axe_in_both_languages(live, new_context, axe, lang):
    from playwright.sync_api import expect

    token = _finished_resident(live)
    page = new_context(**PHONE).new_page()
    for path, heading in (("/my-data", "What we keep about you"), ("/withdraw", "Stop taking part")):
        page.goto(f"{live.url}/q/{token}{path}?lang={lang}")
        expect(page.get_by_role("heading", level=1)).to_have_text(live.ui(heading, lang))
        assert page.locator("html").get_attribute("lang") == lang
        _check(page, axe)
