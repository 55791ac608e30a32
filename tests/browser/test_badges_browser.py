"""Open Badges in a real browser on a small phone: the resident finds, downloads and checks a badge.

A resident of a project that gives level badges finishes both waves high, taps "Jouw badges" on
the thank-you page, downloads the badge (the very JWT that was signed), and an employer pastes
it on /verify and reads "Geldig". A worker sets the rule on the project's badge page. Every page
passes axe (WCAG 2.1 A and AA), does not scroll sideways at 360 px, and the resident's pages
have touch targets of at least 44 px.
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from surveyhub.models import BadgeCredential
from surveyhub.plugins import get_registry
from surveyhub.services import accounts, badges, context
from surveyhub.services.outcomes import Thresholds
from tests.browser.conftest import PHONE, assert_phone_friendly, participant_of
from tests.browser.test_accessibility import AXE_OPTIONS
from tests.fixtures.factories import PASSWORD
from tests.test_questionnaire import Resident, finish_wave

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe
    return Axe()


def _ctx(live, session, slug: str):
    return context.for_command(session, registry=get_registry(live.app), host=None, thresholds=Thresholds(),
                               base_url=live.url, project_slug=slug)


def _resident_with_a_badge(live) -> tuple[str, str]:
    project = live.project()
    with live.db() as session:
        badges.set_rule(_ctx(live, session, project.slug), project.slug, "level")
        session.commit()
    token = live.resident(project.slug).token
    Resident(live.app.test_client(), token).consent()
    finish_wave(Resident(live.app.test_client(), token), "2")
    live.set_wave(project.slug, "post", "open")
    finish_wave(Resident(live.app.test_client(), token), "5")  # the post wave's completion issues the badge
    return project.slug, token


def _accessible(page, axe) -> None:
    results = axe.run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()


def test_a_resident_downloads_a_badge_and_an_employer_checks_it(live, new_context, axe, tmp_path):
    from playwright.sync_api import expect

    _slug, token = _resident_with_a_badge(live)
    [stored] = live.query(select(BadgeCredential.jwt, BadgeCredential.public_id)
                          .where(BadgeCredential.participant_id == participant_of(live, token)))
    page = new_context(accept_downloads=True, **PHONE).new_page()
    page.goto(f"{live.url}/q/{token}/done")
    with page.expect_navigation():
        page.get_by_role("link", name=live.ui("Your badges"), exact=True).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(live.ui("Your badges"))
    expect(page.get_by_role("heading", level=2, name="Plannen en organiseren")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=live.ui("Put this on your CV"))).to_be_visible()
    _accessible(page, axe)
    assert_phone_friendly(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("^" + re.escape(live.ui("Download your badge")) + r"\W+Plannen en organiseren$")).tap()
    download = download_info.value
    english = new_context(**PHONE).new_page()
    english.goto(f"{live.url}/q/{token}/badges?lang=en")
    expect(english.get_by_role("heading", level=1)).to_have_text("Your badges")
    _accessible(english, axe)
    assert_phone_friendly(english)
    # badge-<skill>.jwt: the file a resident hands to an employer does not carry their code
    assert download.suggested_filename.startswith("badge-") and download.suggested_filename.endswith(".jwt")
    assert "organising" in download.suggested_filename and "R-" not in download.suggested_filename
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes() == stored.jwt.encode("ascii")

    employer = new_context(**PHONE).new_page()
    employer.goto(f"{live.url}/verify")
    _accessible(employer, axe)
    employer.get_by_label(live.ui("Badge file (.jwt)")).set_input_files(str(saved))
    with employer.expect_navigation():
        employer.get_by_role("button", name=live.ui("Check the badge"), exact=True).tap()
    result = employer.get_by_role("status")
    expect(result).to_have_attribute("data-status", "valid")
    expect(result.get_by_role("heading", level=2)).to_have_text(live.ui("Valid"))
    expect(employer.get_by_text("Plannen en organiseren: Sterk", exact=True)).to_be_visible()
    _accessible(employer, axe)
    assert employer.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_worker_sets_the_badge_rule_on_a_phone(live, new_context, axe):
    from playwright.sync_api import expect

    project = live.project()
    with live.db() as session:
        worker = accounts.create_user(session, live.actor.organisation_id, f"badge-{uuid.uuid4().hex[:6]}@noord.example",
                                      "worker", PASSWORD)
        session.commit()
    page = new_context(**PHONE).new_page()
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mailadres").fill(worker.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda current: "/login" not in current)
    page.goto(f"{live.url}/projects/{project.slug}")
    with page.expect_navigation():
        page.get_by_role("link", name=live.ui("Open Badges"), exact=True).click()
    _accessible(page, axe)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_label(live.ui("Both: for progress and for a level reached")).check()
    page.get_by_label(live.ui("Lowest level that earns a badge")).select_option("doing-well")
    with page.expect_navigation():
        page.get_by_role("button", name=live.ui("Save"), exact=True).click()
    expect(page.get_by_text(live.ui("Saved: the rule for Open Badges."))).to_be_visible()
    expect(page.get_by_label(live.ui("Both: for progress and for a level reached"))).to_be_checked()
    expect(page.get_by_role("button", name=live.ui("Give the badges now"))).to_be_visible()
    _accessible(page, axe)
