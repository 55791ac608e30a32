"""The webhook pages in a real browser (plain forms, no script of their own): add an endpoint, send a test event,
no sideways scrolling on a 360 px phone, touch targets of 44 px, axe at 0 violations on a phone and a desktop."""

from __future__ import annotations

import pytest

from surveyhub.services import accounts
from tests.browser.conftest import assert_phone_friendly
from tests.fixtures.webhook_receiver import receiver  # noqa: F401 - the fixture
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture
def admin(live, request, monkeypatch):
    monkeypatch.setitem(live.app.config, "WEBHOOK_ALLOW_PRIVATE", 1)  # the receiver runs on this machine
    suffix = request.node.callspec.id
    with live.db() as session:
        admin = accounts.create_user(session, live.actor.organisation_id, f"webhooks-admin-{suffix}@noord.example",
                                     "admin", PASSWORD)
        session.commit()
    return admin


def check(page, width: int) -> None:
    from axe_playwright_python.sync_playwright import Axe

    if width == 360:
        assert_phone_friendly(page, width)
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("width", [360, 1280])
def test_add_a_webhook_send_a_test_and_read_the_log(live, new_context, admin, receiver, width, tmp_path):
    page = new_context(viewport={"width": width, "height": 800}).new_page()  # the pages have no script; axe needs it
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mailadres").fill(admin.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.goto(f"{live.url}/admin/webhooks")
    check(page, width)

    page.get_by_label("Webadres (URL)").fill("https://169.254.169.254/latest/meta-data/")
    page.get_by_label("Een meting is opengegaan").check()
    page.get_by_role("button", name="Webhook toevoegen").click()
    assert "169.254.169.254" in page.locator(".error").first.inner_text()
    check(page, width)

    page.get_by_label("Webadres (URL)").fill(receiver.url)
    page.get_by_label("Omschrijving (voor jezelf)").fill(f"CRM {width}")
    page.get_by_label("Sta een adres op ons eigen netwerk toe (privé, lokaal of http://)").check()
    page.get_by_role("button", name="Webhook toevoegen").click()
    assert "Webhook toegevoegd" in page.locator(".flashes").inner_text()
    page.get_by_role("button", name="Stuur testgebeurtenis").click()
    assert "Testbericht afgeleverd (antwoord 200)." in page.locator(".flashes").inner_text()
    assert len(receiver.wait_for(1)) == 1
    assert "afgeleverd" in page.locator("table.deliveries").inner_text()
    page.screenshot(path=str(tmp_path / f"webhook-{width}.png"), full_page=True)  # to look at after a run
    check(page, width)


@pytest.mark.parametrize("width", [pytest.param(360, id="no-description")])
def test_a_webhook_without_a_description_fits_a_phone(live, new_context, admin, receiver, width):
    """The page's heading and the list name it by its URL then: a long address wraps, not the page."""
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mailadres").fill(admin.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.goto(f"{live.url}/admin/webhooks")
    page.get_by_label("Webadres (URL)").fill(receiver.url + "/a-rather-long-path-without-breaks-for-a-crm-1234567890")
    page.get_by_label("Een meting is opengegaan").check()
    page.get_by_label("Sta een adres op ons eigen netwerk toe (privé, lokaal of http://)").check()
    page.get_by_role("button", name="Webhook toevoegen").click()
    assert "Webhook toegevoegd" in page.locator(".flashes").inner_text()
    check(page, width)
    page.goto(f"{live.url}/admin/webhooks")
    check(page, width)
