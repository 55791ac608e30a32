"""The admin's pages sit behind one "Beheer" disclosure in the menu: on a phone the menu stays two rows.

Without script the disclosure opens and its links work; open or closed it passes axe and fits 360 px with
44 px targets; a worker has no such menu.
"""

from __future__ import annotations

import pytest

from surveyhub.services import accounts
from tests.browser.conftest import assert_phone_friendly
from tests.browser.test_dashboard_browser import AXE_OPTIONS, log_in
from tests.fixtures.factories import PASSWORD


@pytest.fixture(scope="module")
def users(live):
    with live.db() as session:
        for email, role in (("menu-admin@example.org", "admin"), ("menu-worker@example.org", "worker")):
            accounts.create_user(session, live.actor.organisation_id, email, role, PASSWORD)
        session.commit()
    return live


def _axe(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("width", [360, 1280])
def test_the_admin_menu_opens_without_script_fits_and_leads_to_each_page(users, new_context, width):
    context = new_context(viewport={"width": width, "height": 800}, java_script_enabled=False)
    page = context.new_page()
    log_in(page, users.url, "menu-admin@example.org")
    page.goto(f"{users.url}/networks")
    header = page.locator(".site-header").bounding_box()
    if width == 360:
        assert header["height"] < 260, f"the menu takes {header['height']} px of a phone's screen"
    assert not page.get_by_role("link", name="Instellingen").is_visible()

    page.locator(".admin-menu summary").click()
    for name in ("Gebruikers", "Meetinstrumenten", "Instellingen", "Plug-ins", "Logboek", "Projectarchief",
                 "Privacy"):
        assert page.get_by_role("link", name=name, exact=True).is_visible(), name
    if width == 360:
        assert_phone_friendly(page, width)
    page.get_by_role("link", name="Logboek", exact=True).click()
    page.wait_for_url(lambda url: url.endswith("/admin/audit"))
    context.close()

    with_script = new_context(viewport={"width": width, "height": 800})
    page = with_script.new_page()
    log_in(page, users.url, "menu-admin@example.org")
    page.goto(f"{users.url}/networks")
    _axe(page)
    page.locator(".admin-menu summary").click()
    _axe(page)
    with_script.close()


def test_a_worker_has_no_admin_menu(users, new_context):
    page = new_context(viewport={"width": 360, "height": 800}).new_page()
    log_in(page, users.url, "menu-worker@example.org")
    page.goto(f"{users.url}/networks")
    assert page.locator(".admin-menu").count() == 0
    assert page.locator(".site-header").bounding_box()["height"] < 260
