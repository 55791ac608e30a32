"""The admin's users page in a real browser: on a phone one block per user, on a desktop every button in view."""

from __future__ import annotations

import pytest

from surveyhub.services import accounts
from tests.browser.conftest import assert_phone_friendly
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture
def admin(live, request):
    """An admin and a worker with a long e-mail address; new addresses per test (the live site is shared)."""
    suffix = request.node.callspec.id
    with live.db() as session:
        admin = accounts.create_user(session, live.actor.organisation_id, f"users-admin-{suffix}@noord.example",
                                     "admin", PASSWORD)
        accounts.create_user(session, live.actor.organisation_id,
                             f"een-heel-lang-adres.voor-de-opbouwwerker-{suffix}@buurtwerk-noord.example", "worker",
                             PASSWORD)
        session.commit()
    return admin


def log_in(page, live, admin) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mailadres").fill(admin.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()


@pytest.mark.parametrize("width", [360, 1280])
def test_the_users_page_never_scrolls_sideways_and_is_accessible(live, new_context, admin, width):
    from axe_playwright_python.sync_playwright import Axe

    page = new_context(viewport={"width": width, "height": 800}).new_page()
    log_in(page, live, admin)
    page.goto(f"{live.url}/admin/users")
    if width == 360:
        assert_phone_friendly(page, width)
    # Every button of every row is inside the table's visible box: nothing hides behind a sideways scroll.
    table = page.locator("table.users").bounding_box()
    for button in page.locator("table.users button").all():
        box = button.bounding_box()
        assert box["x"] >= table["x"] and box["x"] + box["width"] <= table["x"] + table["width"] + 0.5, \
            button.inner_text()
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()
