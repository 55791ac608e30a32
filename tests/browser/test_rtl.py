"""An Arabic resident on a 360 px phone: the pages run right to left, with axe at 0 violations.

The site here has its own instruments folder: two small instruments written in
all five resident languages (``tests/test_languages.py``), so the test does not
depend on which shipped instruments have Arabic yet. The resident chooses
Arabic, gives consent, answers the first page by the answers' Arabic words and
goes on. On every page the html has ``dir="rtl"``; the progress bar fills from
the right and, where both buttons share a row, "Next" sits left of "Previous".
"""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import select

from surveyhub.locale import catalog
from surveyhub.models import Answer, Response
from tests.browser.conftest import PHONE, assert_phone_friendly, serve_site
from tests.test_languages import write_instruments

pytestmark = pytest.mark.browser

#: A text of the interface as the Arabic catalog has it (the pages read the same catalog).
arabic = catalog("ar").gettext
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture(scope="module")
def site(sqlite_template, tmp_path_factory):
    """A live SurveyHub whose instruments speak Arabic (the shared ``live`` site has the shipped ones)."""
    instance = tmp_path_factory.mktemp("rtl")
    with serve_site(sqlite_template, instance, "rtl-server",
                    INSTRUMENTS_DIR=str(write_instruments(instance / "instruments"))) as live_site:
        yield live_site


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe
    return Axe()


def _check_page(page, axe) -> None:
    """Right to left, in Arabic, no axe violations, fits the phone."""
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    results = axe.run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()
    assert_phone_friendly(page)


def _darkness(image, x: int, y: int) -> int:
    red, green, blue = image.getpixel((x, y))[:3]
    return 765 - (red + green + blue)


def _assert_progress_fills_from_the_right(page) -> None:
    """Page 1 of 2: the filled (dark) half of the bar is its right half."""
    from PIL import Image

    bar = page.locator("progress")
    assert bar.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert bar.evaluate("el => el.value / el.max") == 0.5
    shot = Image.open(BytesIO(bar.screenshot())).convert("RGB")
    width, height = shot.size
    right, left = _darkness(shot, int(width * 0.85), height // 2), _darkness(shot, int(width * 0.15), height // 2)
    assert right > left + 100, f"the progress bar should fill from the right (dark {right} right, {left} left)"


def test_an_arabic_resident_answers_a_page_right_to_left(site, new_context, axe):
    from playwright.sync_api import expect

    project = site.project(instruments=("talen", "samen"))
    token = site.resident(project.slug).token
    page = new_context(**PHONE).new_page()

    page.goto(site.link(token, "ar"))
    _check_page(page, axe)
    expect(page.get_by_role("link", name="Nederlands")).to_be_visible()  # the way back to Dutch
    page.get_by_role("checkbox").first.check()
    page.get_by_role("button", name=arabic("Start"), exact=True).click()

    expect(page.get_by_role("group", name="أساعد جارًا.")).to_be_visible()
    _check_page(page, axe)
    _assert_progress_fills_from_the_right(page)
    for question in ("أساعد جارًا.", "أتكلم في اجتماع.", "أعرف أناسًا في الحي."):
        option = page.get_by_role("group", name=question, exact=True).get_by_role("radio", name="أوافق", exact=True)
        option.tap()
        expect(option).to_be_checked()
    page.get_by_role("button", name=arabic("Next"), exact=True).click()

    expect(page.get_by_role("button", name=arabic("Previous"), exact=True)).to_be_visible()
    _check_page(page, axe)
    page.set_viewport_size({"width": 768, "height": 900})  # room for both buttons on one row
    forward = page.locator(".nav-buttons button[value=next]").bounding_box()
    back = page.get_by_role("button", name=arabic("Previous"), exact=True).bounding_box()
    assert abs(forward["y"] - back["y"]) < 2, "both buttons on one row"
    assert forward["x"] + forward["width"] <= back["x"], "Next is on the left, Previous on the right"

    [(language,)] = site.query(select(Response.language))  # this site's only resident
    assert language == "ar"
    stored = site.query(select(Answer.item_id, Answer.value_num).join(Response, Answer.response_id == Response.id)
                        .where(Answer.instrument_id == "talen"))
    assert sorted(stored) == [("tal_1", 4.0), ("tal_2", 4.0), ("tal_3", 4.0)]
