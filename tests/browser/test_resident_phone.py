"""A resident on a small phone: consent, both waves, stopping half-way and coming back."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from surveyhub.models import Answer, Response, Wave
from tests.browser.conftest import PHONE, assert_phone_friendly, choose, legends, participant_of

pytestmark = pytest.mark.browser

ORGANISING_PROUD = "Waar ben je trots op in dit project?"


def _next(page, live, last: bool = False) -> None:
    label = live.ui("Send my answers") if last else live.ui("Next")
    with page.expect_navigation():
        page.get_by_role("button", name=label, exact=True).tap()
    assert_phone_friendly(page)


def _answer_all(page, answer: str) -> None:
    for question in legends(page):
        choose(page, question, answer)


def test_a_resident_answers_both_waves_on_a_phone_and_resumes_later(live, phone, new_context):
    from playwright.sync_api import expect

    project = live.project(instruments=("organising", "conversation"))
    token = live.resident(project.slug).token
    page = phone
    page.goto(live.link(token))
    assert_phone_friendly(page)

    consent = page.get_by_role("checkbox", name=live.ui(
        "Yes, I want to take part and I agree that my answers are stored."))
    page.get_by_text(live.ui("Yes, I want to take part and I agree that my answers are stored.")).tap()
    expect(consent).to_be_checked()
    page.get_by_role("button", name=live.ui("Start"), exact=True).tap()
    page.wait_for_url("**/p/0")
    assert_phone_friendly(page)

    # Pre wave: organising (7 items), conversation (6 items), then "Tot slot": the open question.
    assert len(legends(page)) == 7
    _answer_all(page, "Niet eens, niet oneens")
    _next(page, live)
    _answer_all(page, "Niet mee eens")
    _next(page, live)
    page.get_by_label(ORGANISING_PROUD, exact=True).fill("Dat ik de buurtbarbecue heb geregeld.")
    _next(page, live, last=True)
    expect(page.get_by_role("heading", level=1)).to_have_text(live.ui("Thank you!"))

    live.set_wave(project.slug, "post", "open")  # the worker opens the post wave

    page.goto(live.link(token))
    expect(page.get_by_role("heading", level=1)).to_have_text(live.ui("Welcome back!"))  # consent is asked once
    assert_phone_friendly(page)
    page.get_by_role("link", name=live.ui("Start"), exact=True).tap()
    page.wait_for_url("**/p/0")
    _answer_all(page, "Helemaal mee eens")
    _next(page, live)
    _answer_all(page, "Mee eens")
    _next(page, live)
    page.get_by_label(ORGANISING_PROUD, exact=True).fill("De opening van de tuin.")
    page.get_by_role("button", name=live.ui("Previous"), exact=True).tap()  # going back saves the page too
    page.wait_for_url("**/p/1")
    page.context.close()  # the resident puts the phone away: the browser forgets everything

    page = new_context(**PHONE).new_page()
    page.goto(live.link(token))
    page.wait_for_url("**/p/2")  # straight back to the furthest page reached
    assert_phone_friendly(page)
    expect(page.get_by_label(ORGANISING_PROUD, exact=True)).to_have_value("De opening van de tuin.")
    page.get_by_role("button", name=live.ui("Previous"), exact=True).tap()
    page.wait_for_url("**/p/1")
    for question in legends(page):
        expect(page.get_by_role("group", name=question, exact=True)
               .get_by_role("radio", name="Mee eens", exact=True)).to_be_checked()
    page.get_by_role("button", name=live.ui("Previous"), exact=True).tap()
    page.wait_for_url("**/p/0")
    assert_phone_friendly(page)
    for question in legends(page):
        expect(page.get_by_role("group", name=question, exact=True)
               .get_by_role("radio", name="Helemaal mee eens", exact=True)).to_be_checked()
    _next(page, live)
    _next(page, live)
    _next(page, live, last=True)
    assert page.url.endswith("/done")
    # Growth named once, in one sentence for every skill that grew.
    assert live.ui("You have grown in %(skill)s.", skill="Plannen en organiseren en Praten en luisteren") \
        in page.inner_text("main")

    participant = participant_of(live, token)
    rows = live.query(select(Wave.kind, Response.status, Response.channel).join(Wave)
                      .where(Response.participant_id == participant).order_by(Wave.id))
    assert rows == [("pre", "completed", "web"), ("post", "completed", "web")]
    post_answers = live.query(select(Answer.item_id, Answer.value_num, Answer.value_text).join(Response)
                              .join(Wave).where(Response.participant_id == participant, Wave.kind == "post"))
    assert len(post_answers) == 7 + 1 + 6
    assert {v for item, v, _t in post_answers if item.startswith("org_") and item != "org_proud_of"} == {5.0}
    assert {v for item, v, _t in post_answers if item.startswith("con_")} == {4.0}
    assert ("org_proud_of", None, "De opening van de tuin.") in post_answers


def test_a_page_without_javascript_can_be_completed(live, new_context):
    project = live.project()
    token = live.resident(project.slug).token
    page = new_context(java_script_enabled=False, **PHONE).new_page()
    page.goto(live.link(token))
    page.get_by_text(live.ui("Yes, I want to take part and I agree that my answers are stored.")).click()
    page.get_by_role("button", name=live.ui("Start"), exact=True).click()
    page.wait_for_url(re.compile(r"/p/0(#consent-error)?$"))
    assert page.locator(".read-aloud").count() == 0  # really without the script
    page.get_by_role("button", name=live.ui("Next"), exact=True).click()  # nothing filled in yet
    page.wait_for_url(re.compile(r"/p/0#page-check$"))  # the browser scrolls to the question it asks
    assert page.get_by_role("heading", name=live.ui("You have not filled anything in. Continue anyway?")).is_visible()
    page.get_by_role("link", name=live.ui("Back to the questions"), exact=True).click()
    for question in legends(page):
        choose(page, question, "Mee eens", tap=False)
    page.get_by_role("button", name=live.ui("Next"), exact=True).click()
    page.wait_for_url(re.compile(r"/p/1(#page-check)?$"))  # without the script the form names where to scroll
    page.get_by_label(ORGANISING_PROUD, exact=True).fill("Zonder JavaScript gaat het ook.")
    page.get_by_role("button", name=live.ui("Send my answers"), exact=True).click()
    page.wait_for_url(re.compile(r"/done(#page-check)?$"))
    participant = participant_of(live, token)
    [(status,)] = live.query(select(Response.status).where(Response.participant_id == participant))
    assert status == "completed"
    answers = live.query(select(Answer.item_id).join(Response).where(Response.participant_id == participant))
    assert len(answers) == 8
