"""axe-core (WCAG 2.1 A and AA) on every kind of resident page, in Dutch and in English, on a phone.

Each scene brings a resident to one page type; the page must have no axe
violations and must also pass the phone checks (no sideways scrolling, large
touch targets).
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE, assert_phone_friendly
from tests.test_questionnaire import Resident, all_agree, finish_wave, key

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
INSTRUMENTS = ("organising", "network")  # agree items, an open question and the 0-10 row


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe
    return Axe()


@pytest.fixture(scope="module")
def scenes(live):
    """Residents in every state, arranged through the app itself (a test client on the live app)."""
    project = live.project(INSTRUMENTS, retrospective=True, extra_number=True)
    closed_project = live.project(INSTRUMENTS)

    def resident(slug=project.slug) -> Resident:
        return Resident(live.app.test_client(), live.resident(slug).token)

    started, answering, near_end = resident(), resident(), resident()
    answering.consent()
    near_end.consent()
    for n in range(3):  # organising, network, "Tot slot" (open questions): the extra number question is next
        near_end.submit(n, {}, move="anyway")
    looking_back, finished = resident(), resident()
    for person in (looking_back, finished):
        person.consent()
        finish_wave(person, "3")
    closed = resident(closed_project.slug)
    closed.consent()
    closed.submit(0, all_agree("4"))
    live.set_wave(closed_project.slug, "pre", "closed")
    live.set_wave(project.slug, "post", "open")
    for n in range(2):  # post wave: organising and network now, then the look-back pages
        looking_back.submit(n, {}, move="anyway")
    finish_wave(finished, "5")
    return {"project": project, "started": started, "answering": answering, "near_end": near_end,
            "looking_back": looking_back, "finished": finished, "closed": closed}


def _url(live, resident: Resident, path: str, lang: str) -> str:
    return f"{live.url}{resident.base}{path}?lang={lang}"


def open_start(page, live, scenes, lang):
    page.goto(_url(live, scenes["started"], "", lang))
    return page.locator("input[name=consent]")


def open_consent_error(page, live, scenes, lang):
    page.goto(_url(live, scenes["started"], "", lang))
    with page.expect_navigation():
        page.locator("button[type=submit]").click()
    return page.locator("#consent-error")


def open_question_page(page, live, scenes, lang):
    page.goto(_url(live, scenes["answering"], "/p/0", lang))
    return page.locator("fieldset")


def open_number_row_page(page, live, scenes, lang):
    page.goto(_url(live, scenes["near_end"], "/p/2", lang))  # "Tot slot": network's 0-10 row
    return page.locator(".options-row")


def open_validation_error(page, live, scenes, lang):
    page.goto(_url(live, scenes["near_end"], "/p/3", lang))
    page.locator(f"[name={key('q1', '_project')}]").fill("99")
    with page.expect_navigation():
        page.locator("button[value=next]").click()
    return page.locator(f"#{key('q1', '_project')}-error")


def open_retrospective(page, live, scenes, lang):
    page.goto(_url(live, scenes["looking_back"], "/p/2", lang))
    return page.locator(".lead-in")


def open_thank_you(page, live, scenes, lang):
    page.goto(_url(live, scenes["finished"], "/done", lang))
    return page.locator(".summary li")


def open_closed(page, live, scenes, lang):
    page.goto(_url(live, scenes["closed"], "", lang))
    return page.get_by_role("heading", name=live.ui("This questionnaire is closed", lang))


def open_code_page(page, live, scenes, lang):
    page.goto(f"{live.url}/a/{scenes['project'].anonymous_token}?lang={lang}")
    return page.locator("input[name=mother]")


def open_code_error(page, live, scenes, lang):
    page.goto(f"{live.url}/a/{scenes['project'].anonymous_token}?lang={lang}")
    with page.expect_navigation():
        page.locator("button[type=submit]").click()
    return page.locator(".error-summary")


SCENES = [open_start, open_consent_error, open_question_page, open_number_row_page, open_validation_error,
          open_retrospective, open_thank_you, open_closed, open_code_page, open_code_error]


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("scene", SCENES, ids=lambda f: f.__name__.removeprefix("open_"))
def test_resident_pages_have_no_wcag_violations(live, scenes, new_context, axe, scene, lang):
    from playwright.sync_api import expect

    page = new_context(**PHONE).new_page()
    landmark = scene(page, live, scenes, lang)
    expect(landmark.first).to_be_visible()  # the scene really reached its page
    assert page.locator("html").get_attribute("lang") == lang
    results = axe.run(page, options=AXE_OPTIONS)
    assert results.response["toolOptions"]["runOnly"]["values"] == AXE_OPTIONS["runOnly"]["values"]
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()
    assert_phone_friendly(page)
