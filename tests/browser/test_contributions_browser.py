"""Adding what you did, on a small phone: from the thank-you page to "Wat ik deed" and back with one more.

The resident finishes the questionnaire, follows "Wat ik deed", sees the work day a worker
recorded, says they were at the meeting too (tapping big options) and adds something else
with a date, kind and hours. Every page passes axe (WCAG 2.1 A and AA), nothing scrolls
sideways at 360 px and every control is a large touch target; a worker then sees it waiting
and confirms it on a wide screen.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from surveyhub.models import ActivityParticipant, Project
from tests.browser.conftest import PHONE, assert_phone_friendly, participant_of
from tests.browser.test_accessibility import AXE_OPTIONS
from tests.test_contributions import add_activity
from tests.test_questionnaire import Resident, finish_wave

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe
    return Axe()


def _check(page, axe, width: int = 360) -> None:
    results = axe.run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()
    assert_phone_friendly(page, width)


def test_a_resident_adds_what_they_did_on_a_phone(live, new_context, axe, tmp_path):
    from playwright.sync_api import expect

    project = live.project()
    token = live.resident(project.slug).token
    resident = Resident(live.app.test_client(), token)
    resident.consent()
    finish_wave(resident, "4")
    participant_id = participant_of(live, token)
    with live.db() as session:
        project_id = session.scalar(select(Project.id).where(Project.slug == project.slug))
        add_activity(session, project_id, date.today() - timedelta(days=8), "workday", "Bouwdag speeltuin", 4,
                     {participant_id: "volunteer"})
        add_activity(session, project_id, date.today() - timedelta(days=2), "meeting", "Bewonersavond", 2, {})
        session.commit()

    page = new_context(**PHONE).new_page()
    page.goto(f"{live.url}/q/{token}/done")
    with page.expect_navigation():
        page.get_by_role("link", name=live.ui("What I did"), exact=True).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(live.ui("What I did"))
    expect(page.get_by_text("Bouwdag speeltuin")).to_be_visible()
    _check(page, axe)
    page.screenshot(path=str(tmp_path / "did-360.png"), full_page=True)

    # "I was at the meeting too, and I helped as a volunteer."
    pick = page.locator("#pick-form")
    pick.get_by_text("Bewonersavond").tap()
    pick.get_by_text(live.ui("I helped as a volunteer")).tap()
    pick.get_by_label(live.ui("Want to tell more? (you may leave this empty)")).fill("Ik zette de koffie.")
    with page.expect_navigation():
        pick.get_by_role("button", name=live.ui("Add")).tap()
    expect(page.get_by_text(live.ui("Thank you! Your community worker will look at it soon."))).to_be_visible()
    expect(page.get_by_role("heading", name=live.ui("Waiting for confirmation"))).to_be_visible()
    _check(page, axe)

    # Something else, with a mistake first: no hours.
    other = page.locator("#other-form")
    other.get_by_label(live.ui("When was it?")).fill((date.today() - timedelta(days=1)).isoformat())
    other.get_by_text("Activiteit", exact=True).tap()
    other.get_by_label(live.ui("What did you do? A few words are enough.")).fill("Soep gemaakt voor de opening")
    other.get_by_text(live.ui("I organised it")).tap()
    with page.expect_navigation():
        other.get_by_role("button", name=live.ui("Add")).tap()
    expect(page.locator("#other-form").get_by_text(live.ui("Fill in the hours."))).to_be_visible()
    _check(page, axe)
    page.screenshot(path=str(tmp_path / "did-error-360.png"), full_page=True)
    other = page.locator("#other-form")
    other.get_by_label(live.ui("How many hours, about?")).fill("2.5")
    with page.expect_navigation():
        other.get_by_role("button", name=live.ui("Add")).tap()
    expect(page.get_by_text("Soep gemaakt voor de opening")).to_be_visible()
    _check(page, axe)
    waiting = live.query(select(ActivityParticipant.note).where(ActivityParticipant.participant_id == participant_id,
                                                                ActivityParticipant.confirmed_at.is_(None)))
    assert sorted(note or "" for (note,) in waiting) == ["", "Ik zette de koffie."]


def test_a_worker_confirms_on_the_list(live, new_context, axe, tmp_path):
    from playwright.sync_api import expect

    from surveyhub.services import accounts, contributions

    project = live.project()
    token = live.resident(project.slug).token
    participant_id = participant_of(live, token)
    with live.db() as session:
        project_id = session.scalar(select(Project.id).where(Project.slug == project.slug))
        contributions.propose(session, participant_id, project_id, happened_on=date.today(), kind="event",
                              description="Soep gemaakt", hours=2, role="organiser", note="<b>Lekker</b>")
        accounts.create_user(session, live.actor.organisation_id, "worker.did@example.org", "worker",
                             "correct horse battery")
        session.commit()
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live.url}/login")
    page.get_by_label(live.ui("E-mail address")).fill("worker.did@example.org")
    page.get_by_label(live.ui("Password")).fill("correct horse battery")
    with page.expect_navigation():
        page.get_by_role("button", name=live.ui("Log in")).click()
    page.goto(f"{live.url}/projects/{project.slug}/activities/to-confirm")
    expect(page.get_by_text("<b>Lekker</b>")).to_be_visible()
    _check(page, axe, 1280)
    page.screenshot(path=str(tmp_path / "to-confirm-1280.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})  # on the worker's phone as well
    _check(page, axe)
    page.screenshot(path=str(tmp_path / "to-confirm-360.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name=live.ui("Confirm")).click()
    expect(page.get_by_text(live.ui("Nothing is waiting. When residents add something from their link, it appears "
                                    "here."))).to_be_visible()
