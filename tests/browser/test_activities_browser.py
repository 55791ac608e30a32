"""The pages "Activiteiten" in a real browser: a worker records an activity on a phone, taps only, in a few
steps; nothing scrolls sideways at 360 px, every control is thumb-sized, axe finds nothing (phone and desktop)."""

from __future__ import annotations

import re
import uuid

import pytest

from surveyhub.services import accounts, participants
from tests.browser.conftest import PHONE, assert_phone_friendly
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
NAMES = ("Fatima El Amrani", "Henk Jansen", "Priya Ramdin-Bisoendat van der Heijden-Koopmans", "Sven")


@pytest.fixture
def place(live):
    """A worker and a project with four named residents (one with a long name)."""
    suffix = uuid.uuid4().hex[:8]  # the live site is shared: new addresses per test
    info = live.project()
    with live.db() as session:
        worker = accounts.create_user(session, live.actor.organisation_id, f"act-{suffix}@noord.example", "worker",
                                      PASSWORD)
        participants.add_participants(session, live.actor, info.slug, entries=[(name, None) for name in NAMES])
        session.commit()
    return info.slug, worker


def log_in(page, live, user) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mailadres").fill(user.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()


def resident(page, name: str):
    """A resident's row to tick, by the name it shows (their code follows it)."""
    return page.get_by_role("checkbox", name=re.compile("^" + re.escape(name)))


def assert_accessible(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()


def test_a_worker_records_an_activity_on_a_phone(live, new_context, place):
    from playwright.sync_api import expect

    slug, worker = place
    page = new_context(**PHONE).new_page()
    log_in(page, live, worker)
    page.goto(f"{live.url}/projects/{slug}")
    page.get_by_role("link", name="Activiteiten", exact=True).tap()
    expect(page.get_by_role("heading", name="Activiteiten", exact=True)).to_be_visible()
    assert_phone_friendly(page)
    assert_accessible(page)

    page.get_by_role("link", name="Activiteit vastleggen").tap()
    expect(page.get_by_role("heading", name="Activiteit vastleggen")).to_be_visible()
    assert_phone_friendly(page)
    assert_accessible(page)
    # The date is today and 2 hours is filled in: a worker taps the kind, the residents and a role, and saves.
    page.get_by_label("Werkdag").tap()
    page.get_by_label("Hoeveel uur?").fill("3,5")
    resident(page, "Fatima El Amrani").tap()
    resident(page, "Priya Ramdin-Bisoendat van der Heijden-Koopmans").tap()
    page.get_by_label("Rol van Fatima El Amrani").select_option(label="Organisator")
    page.get_by_role("button", name="Opslaan").tap()

    expect(page.get_by_text("Activiteit vastgelegd: 2 bewoners")).to_be_visible()
    assert page.url.endswith(f"/projects/{slug}/activities")
    card = page.locator(".activity-card").first
    expect(card).to_contain_text("Werkdag")
    expect(card).to_contain_text("3,5 uur")
    profile = page.locator("table.activity-profile")
    expect(profile).to_contain_text("Fatima El Amrani")
    expect(profile).to_contain_text("Organisator")
    assert_phone_friendly(page)
    assert_accessible(page)

    # Next time: the same residents, one tap.
    page.get_by_role("link", name="Activiteit vastleggen").tap()
    page.get_by_role("link", name="Dezelfde bewoners als de vorige keer").tap()
    expect(resident(page, "Fatima El Amrani")).to_be_checked()
    expect(resident(page, "Henk Jansen")).not_to_be_checked()
    assert page.get_by_label("Rol van Fatima El Amrani").input_value() == "organiser"


def test_a_mistake_is_shown_on_the_phone_and_the_pages_are_accessible_on_a_desktop(live, new_context, place):
    from playwright.sync_api import expect

    slug, worker = place
    phone = new_context(**PHONE).new_page()
    log_in(phone, live, worker)
    phone.goto(f"{live.url}/projects/{slug}/activities/new")
    phone.get_by_label("Hoeveel uur?").fill("30")
    resident(phone, "Henk Jansen").tap()
    phone.get_by_role("button", name="Opslaan").tap()
    expect(phone.get_by_role("alert")).to_contain_text("het aantal uur moet van 0 tot 24 zijn")
    expect(resident(phone, "Henk Jansen")).to_be_checked()
    assert_phone_friendly(phone)
    assert_accessible(phone)

    desktop = new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(desktop, live, worker)
    desktop.goto(f"{live.url}/projects/{slug}/activities/new")
    resident(desktop, "Sven").check()
    desktop.get_by_role("button", name="Opslaan").click()
    expect(desktop.get_by_text("Activiteit vastgelegd: 1 bewoner")).to_be_visible()
    assert_accessible(desktop)
    desktop.get_by_role("link", name=re.compile("^Verwijderen")).click()
    expect(desktop.get_by_role("heading", name="Deze activiteit verwijderen?")).to_be_visible()
    assert_accessible(desktop)
    desktop.get_by_role("button", name="Activiteit verwijderen").click()
    expect(desktop.get_by_text("Activiteit verwijderd.")).to_be_visible()
