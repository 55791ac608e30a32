"""The admin's audit trail in a real browser: filter with the form, read Dutch labels and local times, axe clean."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from surveyhub.models import AuditEvent
from surveyhub.services import accounts
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture
def trail(live):
    """An admin and a worker of the live site's organisation, and two known events of the worker."""
    project = live.project()
    with live.db() as session:
        admin = accounts.create_user(session, live.actor.organisation_id, "audit-admin@noord.example", "admin",
                                     PASSWORD)
        worker = accounts.create_user(session, live.actor.organisation_id, "audit-worker@noord.example", "worker",
                                      PASSWORD)
        for action, at in (("download.export", datetime(2026, 11, 25, 13, 3, tzinfo=timezone.utc)),
                           ("wave.close", datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc))):
            session.add(AuditEvent(organisation_id=live.actor.organisation_id, user_id=worker.id,
                                   actor=worker.email, action=action, target=f"project:{project.slug}",
                                   details={"format": "xlsx"} if action == "download.export" else None,
                                   created_at=at, source="10.0.0.7"))
        session.commit()
    return admin, worker


def test_an_admin_filters_the_trail_and_the_page_is_accessible(live, new_context, trail):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    admin, worker = trail
    page = new_context().new_page()
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mailadres").fill(admin.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.goto(f"{live.url}/admin/audit")

    page.get_by_label("Wie").select_option(label=worker.email)
    page.get_by_label("Gebeurtenis").select_option(label="Export gedownload")
    page.get_by_role("button", name="Toon gebeurtenissen").click()

    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("25 november 2026 14:03")
    expect(rows.first).to_contain_text("formaat: xlsx")
    expect(page.get_by_label("Wie")).to_have_value(str(worker.id))  # the filter stays chosen
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()
