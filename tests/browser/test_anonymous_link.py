"""The anonymous link in a real browser: the same own code before and after pairs the answers.

The same phone goes on as the same participant (its cookie); another phone with the
same code starts a new participant, whose answers pair with the first by code.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from surveyhub.models import Participant, Project, Response, Wave
from tests.browser.conftest import PHONE, assert_phone_friendly, choose, legends

pytestmark = pytest.mark.browser


def make_code(page, live, project, letters: dict) -> None:
    page.goto(f"{live.url}/a/{project.anonymous_token}")
    assert_phone_friendly(page)
    page.get_by_label(live.ui("First letter of your mother's first name"), exact=True).fill(letters["mother"])
    page.get_by_label(live.ui("First letter of your father's first name"), exact=True).fill(letters["father"])
    page.get_by_label(live.ui("Your birth month"), exact=True).select_option("7")
    page.get_by_label(live.ui("How many older brothers do you have?"), exact=True).select_option("1")
    page.get_by_label(live.ui("How many older sisters do you have?"), exact=True).select_option("0")
    page.get_by_label(live.ui("First letter of the town where you were born"), exact=True).fill(letters["town"])
    with page.expect_navigation():
        page.get_by_role("button", name=live.ui("Next"), exact=True).tap()


def answer_wave(page, live, answer: str) -> None:
    while "/done" not in page.url:
        for question in legends(page):
            choose(page, question, answer)
        button = page.locator("button[value=next]")
        with page.expect_navigation():
            button.tap()
        assert_phone_friendly(page)


def consent(page, live) -> None:
    assert "/q/" in page.url
    assert page.get_by_text(live.ui("Keep this link. Then you can continue later.")).is_visible()
    page.get_by_text(live.ui("Yes, I want to take part and I agree that my answers are stored.")).tap()
    with page.expect_navigation():
        page.get_by_role("button", name=live.ui("Start"), exact=True).tap()


def participants(live, project) -> int:
    return live.scalar(select(func.count()).select_from(Participant).join(Project)
                       .where(Project.slug == project.slug))


def test_pre_and_post_by_the_same_own_code_pair_up(live, new_context):
    project = live.project()
    phone = new_context(**PHONE)
    before = phone.new_page()
    make_code(before, live, project, {"mother": "F", "father": "A", "town": "R"})
    consent(before, live)
    answer_wave(before, live, "Niet mee eens")

    live.set_wave(project.slug, "pre", "closed")
    live.set_wave(project.slug, "post", "open")
    same_phone = phone.new_page()  # months later, the same phone
    make_code(same_phone, live, project, {"mother": "f", "father": "a", "town": "r"})  # lower case this time
    # Recognised by this phone: consent was given before, so a welcome back, then the first page.
    with same_phone.expect_navigation():
        same_phone.get_by_role("link", name=live.ui("Start"), exact=True).tap()
    same_phone.wait_for_url("**/p/0")
    assert participants(live, project) == 1

    after = new_context(**PHONE).new_page()  # another phone, no cookies: the code alone opens nothing
    make_code(after, live, project, {"mother": "f", "father": "a", "town": "r"})
    consent(after, live)  # a new participant, asked again
    answer_wave(after, live, "Mee eens")

    rows = live.query(select(Wave.kind, Response.participant_id, Response.status, Participant.self_code)
                      .join(Wave).join(Participant).join(Project, Project.id == Participant.project_id)
                      .where(Project.slug == project.slug, Response.status == "completed").order_by(Wave.id))
    assert [kind for kind, _pid, _status, _code in rows] == ["pre", "post"]
    assert rows[0][1] != rows[1][1] and rows[0][3] == rows[1][3], "two participants, one code: paired by code"
