"""The admin's instrument pages on a phone and a desktop: each language's status readable, axe at 0, no
sideways scrolling, Arabic text right to left beside the Dutch."""

from __future__ import annotations

import uuid

import pytest

from surveyhub.services import accounts
from tests.browser.conftest import PHONE, assert_phone_friendly
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe
    return Axe()


@pytest.fixture
def admin_email(live):
    email = f"beheer-{uuid.uuid4().hex[:8]}@noord.example"
    with live.db() as session:
        accounts.create_user(session, live.actor.organisation_id, email, "admin", PASSWORD)
        session.commit()
    return email


def log_in(page, live, email: str) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_instrument_pages_show_draft_translations_and_pass_axe(live, new_context, axe, admin_email, device):
    page = new_context(**device).new_page()
    log_in(page, live, admin_email)
    width = device["viewport"]["width"]
    page.goto(f"{live.url}/admin/instruments")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="organising"))
    assert "Arabisch: concept" in " ".join(row.inner_text().split())
    pages = [f"{live.url}/admin/instruments", f"{live.url}/admin/instruments/organising/2"]
    page.get_by_role("link", name="organising").click()
    page.get_by_role("link", name="Arabisch").click()
    assert page.get_by_text("Arabisch: Concept — nog niet gecontroleerd door een moedertaalspreker").is_visible()
    arabic = page.locator('span[lang="ar"]').first
    assert arabic.get_attribute("dir") == "rtl" and arabic.inner_text().startswith("فكّر في الوقت قبل المشروع")
    pages.append(page.url)
    for url in pages:
        page.goto(url)
        results = axe.run(page, options=AXE_OPTIONS)
        assert results.response["violations"] == [], (url, [v["id"] for v in results.response["violations"]])
        assert page.evaluate("document.documentElement.scrollWidth") <= width, url
        if device is PHONE:
            assert_phone_friendly(page)
