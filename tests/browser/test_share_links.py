"""The worker shares residents' links in a real browser (issue 12): Copy puts the exact link on the
clipboard, and the residents page, a resident's page, their scores and every confirmation pass axe and
fit a 360 px phone with full-size touch targets."""

from __future__ import annotations

import uuid

import pytest

from surveyhub.services import accounts
from tests.browser.conftest import assert_phone_friendly
from tests.fixtures.factories import PASSWORD
from tests.test_questionnaire import Resident, finish_wave

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}


@pytest.fixture(scope="module")
def place(live):
    """A worker, a project with a look-back, and residents: one finished both waves, two not started."""
    with live.db() as session:
        worker = accounts.create_user(session, live.actor.organisation_id, f"deel-{uuid.uuid4().hex[:8]}@noord.example",
                                      "worker", PASSWORD)
        session.commit()
    project = live.project(("organising",), retrospective=True)
    finished, first, second = (live.resident(project.slug) for _ in range(3))
    resident = Resident(live.app.test_client(), finished.token)
    resident.consent()
    finish_wave(resident, "2")
    live.set_wave(project.slug, "post", "open")
    finish_wave(resident, "4")
    return {"worker": worker, "project": project, "finished": finished, "waiting": [first, second]}


def _worker_page(live, new_context, place, **options):
    context = new_context(**options)
    page = context.new_page()
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mailadres").fill(place["worker"].email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(f"{live.url}/")
    return context, page


def _axe_clean(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()


def test_copy_puts_the_exact_link_on_the_clipboard(live, new_context, place):
    context, page = _worker_page(live, new_context, place, **PHONE)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    slug, resident = place["project"].slug, place["waiting"][1]
    page.goto(f"{live.url}/projects/{slug}/participants")
    page.get_by_role("button", name=f"Kopieer de link van {resident.code}").click()
    page.get_by_text("Gekopieerd.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == f"{live.url}/q/{resident.token}"

    # Choose two residents and copy their links at once: one link a line, in the page's order.
    for invitation in place["waiting"]:
        page.get_by_role("checkbox", name=f"Kies {invitation.code}").check()
    page.get_by_role("button", name="Gekozen links kopiëren").click()
    page.get_by_text("Links gekopieerd: 2").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == "\n".join(
        f"{live.url}/q/{invitation.token}" for invitation in place["waiting"])


def test_choose_everyone_ticks_every_box_without_a_reload(live, new_context, place):
    _context, page = _worker_page(live, new_context, place, **PHONE)
    page.goto(f"{live.url}/projects/{place['project'].slug}/participants")
    boxes = page.locator("input[name=participant]")
    assert boxes.count() == 3
    page.get_by_role("link", name="Kies iedereen").click()
    assert all(boxes.nth(i).is_checked() for i in range(3))
    assert page.url.endswith("/participants")  # the script did it, no reload
    page.get_by_role("link", name="Kies niemand").click()
    assert not any(boxes.nth(i).is_checked() for i in range(3))


def test_the_worker_pages_pass_axe_and_fit_a_phone(live, new_context, place):
    _context, page = _worker_page(live, new_context, place, **PHONE)
    slug, finished = place["project"].slug, place["finished"]
    base = f"{live.url}/projects/{slug}"
    seen = []

    def check(what: str) -> None:
        assert_phone_friendly(page)
        _axe_clean(page)
        seen.append(what)

    page.goto(f"{base}/participants")
    check("residents page")
    page.goto(f"{base}/participants/{finished.code}")
    check("a resident's page")
    page.get_by_role("link", name="Scores en groei, om samen te bekijken").click()
    page.get_by_role("heading", name="Zelf ervaren verandering").first.wait_for()
    check("scores and growth")
    page.goto(f"{base}/participants/{finished.code}")
    page.get_by_role("button", name="Nieuwe link maken…").click()
    page.get_by_role("heading", name="Een nieuwe link maken voor 1 bewoner?").wait_for()
    check("new link: confirm")
    page.goto(f"{base}/participants")
    for invitation in place["waiting"]:
        page.get_by_role("checkbox", name=f"Kies {invitation.code}").check()
    page.get_by_role("button", name="Nieuwe links…").click()
    page.get_by_role("heading", name="Nieuwe links maken voor 2 bewoners?").wait_for()
    check("new links: confirm")
    page.goto(base)
    page.get_by_role("button", name="Sluiten… Eindmeting").click()
    page.get_by_role("heading", name="Eindmeting sluiten?").wait_for()
    check("close a wave: confirm")
    page.goto(base)
    check("project page")
    assert len(seen) == 7
