"""The admin's API tokens pages in a real browser, with and without script: make a token, see it once, list,
revoke.

Every page passes axe and, on a 360 px phone, has no sideways scrolling and 44 px touch targets.
"""

from __future__ import annotations

import re

import pytest

from surveyhub.services import accounts
from tests.browser.conftest import assert_phone_friendly
from tests.browser.test_dashboard_browser import AXE_OPTIONS, log_in
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.browser


def _axe(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()


def _check(page, width: int, script: bool) -> None:
    """axe needs script in the page: the run without script checks the flow, the one with it the pages."""
    if script:
        _axe(page)
        if width == 360:
            assert_phone_friendly(page, width)


@pytest.fixture
def admin(live, request) -> str:
    suffix = request.node.callspec.id
    email = f"tokens-admin-{suffix}@example.org"
    with live.db() as session:
        accounts.create_user(session, live.actor.organisation_id, email, "admin", PASSWORD)
        accounts.create_user(session, live.actor.organisation_id,
                             f"een-lang-adres-van-de-gemeente-{suffix}@financier-van-de-buurt.example", "funder",
                             PASSWORD)
        session.commit()
    return email


@pytest.mark.parametrize("width, script", [(360, False), (360, True), (1280, True)])
def test_a_token_is_made_shown_once_and_revoked(live, new_context, admin, width, script):
    page = new_context(viewport={"width": width, "height": 800}, java_script_enabled=script).new_page()
    log_in(page, live.url, admin)
    page.goto(f"{live.url}/admin/api-tokens")
    _check(page, width, script)
    page.get_by_role("link", name="Nieuwe token").click()
    _check(page, width, script)

    page.get_by_label("Naam", exact=True).fill(f"Gemeentedashboard {width} {script}")
    page.get_by_label("Financier: leest alleen wat één financier mag lezen").check()
    page.get_by_label(re.compile("^Uitkomsten lezen")).check()
    page.get_by_label("Account van de financier (alleen voor een token van een financier)").select_option(
        index=1)
    page.get_by_label("Stopt na (dagen)").fill("365")
    page.get_by_role("button", name="Token maken").click()
    page.get_by_role("heading", name="Je nieuwe token").wait_for()
    token = page.locator("code").inner_text()
    assert token.startswith("shk_")
    _check(page, width, script)

    page.get_by_role("link", name="Terug naar API-tokens").click()
    row = page.get_by_role("row").filter(has_text=f"Gemeentedashboard {width} {script}")
    assert token not in page.content() and "werkt tot" in row.inner_text()
    _check(page, width, script)
    row.get_by_role("link", name=re.compile("^Intrekken")).click()
    _check(page, width, script)
    page.get_by_role("button", name="Voorgoed intrekken").click()
    page.get_by_text("is ingetrokken").wait_for()
    assert "ingetrokken op" in page.get_by_role("row").filter(has_text=f"Gemeentedashboard {width} {script}").inner_text()
    _check(page, width, script)
