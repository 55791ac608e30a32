"""The anonymous link in a real browser: the same own code before and after pairs the answers."""

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


def test_pre_and_post_by_the_same_own_code_pair_up(live, new_context):
    project = live.project()
    before = new_context(**PHONE).new_page()
    make_code(before, live, project, {"mother": "F", "father": "A", "town": "R"})
    assert "/q/" in before.url
    before.get_by_text(live.ui("Yes, I want to take part and I agree that my answers are stored.")).tap()
    with before.expect_navigation():
        before.get_by_role("button", name=live.ui("Start"), exact=True).tap()
    answer_wave(before, live, "Niet mee eens")

    live.set_wave(project.slug, "post", "open")
    after = new_context(**PHONE).new_page()  # another phone, no cookies, months later
    make_code(after, live, project, {"mother": "f", "father": "a", "town": "r"})  # lower case this time
    after.wait_for_url("**/p/0")  # recognised: consent was given before
    answer_wave(after, live, "Mee eens")

    rows = live.query(select(Wave.kind, Response.participant_id, Response.status).join(Wave).join(Project)
                      .where(Project.slug == project.slug).order_by(Wave.id))
    assert [(kind, status) for kind, _pid, status in rows] == [("pre", "completed"), ("post", "completed")]
    assert rows[0][1] == rows[1][1], "the two answers belong to different participants"
    assert live.scalar(select(func.count()).select_from(Participant).join(Project)
                       .where(Project.slug == project.slug)) == 1
