"""A worker types a paper form into the grid with the keyboard only, and the grid passes axe on a phone
and on a desktop (it may scroll down on a phone, never sideways)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from surveyhub.models import Answer, Consent, Response
from surveyhub.services import accounts
from tests.browser.conftest import PHONE, assert_phone_friendly, participant_of
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
_ACTIVE = "() => ({name: document.activeElement.name || null, kind: document.activeElement.dataset.kind || null," \
          " text: (document.activeElement.innerText || '').trim()})"


@pytest.fixture
def paper_form(live):
    """A resident of a project with statements, an open question, a 0–10 row and an extra number question."""
    project = live.project(("organising", "network"), extra_number=True)
    invitation = live.resident(project.slug)
    email = f"papier-{uuid.uuid4().hex[:8]}@noord.example"
    with live.db() as session:
        accounts.create_user(session, live.actor.organisation_id, email, "worker", PASSWORD)
        session.commit()
    return project, invitation, email


def log_in(page, live, email: str) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/login" not in url)


def grid_url(live, project, invitation) -> str:
    return f"{live.url}/projects/{project.slug}/participants/{invitation.code}/paper/pre/grid"


def typed_for(kind: str, index: int) -> str:
    """What the paper says for the index-th question of a kind: a ticked box, a number, or words."""
    return {"choice": str(1 + index % 5), "scale": "7", "number": "12", "yes_no": "1"}.get(kind, "Samen koken")


def test_a_worker_enters_a_whole_paper_form_with_the_keyboard_only(live, new_context, paper_form):
    project, invitation, email = paper_form
    page = new_context().new_page()
    log_in(page, live, email)
    page.goto(grid_url(live, project, invitation))
    names = page.eval_on_selector_all(".cell input, .cell textarea", "els => els.map(e => e.name)")
    assert len(names) >= 15

    page.keyboard.press("Space")  # the consent box has the focus when the grid opens
    assert page.is_checked("#consent")
    page.keyboard.press("Tab")  # past "may be quoted" (left unticked)
    page.keyboard.press("Tab")
    typed, keys = {}, 2
    for index, name in enumerate(names):
        active = page.evaluate(_ACTIVE)
        assert active["name"] == name, (index, active)
        value = typed_for(active["kind"], index)
        page.keyboard.type(value)
        keys += 1 if active["kind"] == "text" else len(value)  # the words themselves are typing, not steps
        typed[name] = value
        if page.evaluate(_ACTIVE)["name"] == name:  # numbers and words: the worker moves on herself
            page.keyboard.press("Tab")
            keys += 1
    assert page.evaluate(_ACTIVE)["text"] == "Controleren"
    page.keyboard.press("Enter")  # the summary, without a trip to the server
    summary = page.locator("#grid-summary")
    assert f"{len(names)} van de {len(names)} vragen ingevuld." in summary.inner_text()
    assert page.evaluate(_ACTIVE)["text"] == "Opslaan"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    keys += 3
    assert page.url.endswith(f"/participants/{invitation.code}")
    assert "De papieren antwoorden zijn bewaard" in page.content()
    assert keys <= len(names) * 1.5  # about one key per question (words counted as one)

    participant = participant_of(live, invitation.token)
    [(channel, status)] = live.query(select(Response.channel, Response.status)
                                     .where(Response.participant_id == participant))
    assert (channel, status) == ("paper", "completed")
    assert live.scalar(select(Consent.recorded_by_id).where(Consent.participant_id == participant)) is not None
    stored = {f"{block}__{instrument}__{item}": text if text is not None else num
              for block, instrument, item, num, text in live.query(
                  select(Answer.block, Answer.instrument_id, Answer.item_id, Answer.value_num, Answer.value_text)
                  .join(Response).where(Response.participant_id == participant))}
    assert stored == {name: value if not value[0].isdigit() else float(value) for name, value in typed.items()}


def test_a_cell_with_a_box_that_is_not_there_says_so_at_once(live, new_context, paper_form):
    project, invitation, email = paper_form
    page = new_context().new_page()
    log_in(page, live, email)
    page.goto(grid_url(live, project, invitation))
    first = page.locator(".cell input").first
    first.focus()
    page.keyboard.type("9")
    assert first.get_attribute("aria-invalid") == "true"
    assert page.evaluate(_ACTIVE)["name"] == first.get_attribute("name")  # stays put to be corrected
    assert "Typ een cijfer van 1 tot en met 5" in page.locator(".cell.has-error .error").inner_text()
    page.keyboard.press("Backspace")
    page.keyboard.type("x")
    assert first.get_attribute("aria-invalid") is None
    assert page.locator(".cell .echo").first.inner_text() == "twee kruisjes: telt als niet ingevuld"
    assert page.evaluate(_ACTIVE)["name"] == page.locator(".cell input").nth(1).get_attribute("name")
    page.keyboard.press("ArrowUp")  # back up to correct it: typing replaces what was there
    page.keyboard.type("3")
    assert first.input_value() == "3"
    assert page.locator(".cell .echo").first.inner_text() == "Niet eens, niet oneens"


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_grid_has_no_wcag_violations(live, new_context, paper_form, device):
    from axe_playwright_python.sync_playwright import Axe

    project, invitation, email = paper_form
    page = new_context(**(PHONE if device == "phone" else DESKTOP)).new_page()
    log_in(page, live, email)
    page.goto(grid_url(live, project, invitation))
    axe = Axe()
    for state in ("open", "a wrong cell", "the summary"):
        if state == "a wrong cell":
            page.locator(".cell input").first.fill("9")
            page.locator(".cell input").first.dispatch_event("input")
        elif state == "the summary":
            page.locator(".cell input").first.fill("4")
            page.check("#consent")
            page.get_by_role("button", name="Controleren").click()
            assert page.locator("#grid-summary").is_visible()
        results = axe.run(page, options=AXE_OPTIONS)
        assert results.response["passes"], "axe checked nothing"
        assert results.violations_count == 0, f"{state}: " + results.generate_report()
        if device == "phone":
            assert_phone_friendly(page)


def test_without_the_script_the_grid_checks_on_the_server_and_stays_accessible(live, new_context, paper_form):
    """No JavaScript: Check goes to the server; a wrong box comes back marked, then the summary and Save."""
    from axe_playwright_python.sync_playwright import Axe

    project, invitation, email = paper_form
    page = new_context(**PHONE).new_page()
    page.route("**/paper.js", lambda route: route.abort())  # the grid's script never arrives (axe still runs)
    log_in(page, live, email)
    page.goto(grid_url(live, project, invitation))
    cells = page.locator(".cell input")
    cells.nth(0).fill("9")
    cells.nth(1).fill("x")
    page.check("#consent")
    page.get_by_role("button", name="Controleren").click()
    axe = Axe()
    assert page.locator("#error-summary").is_visible()
    assert cells.nth(0).get_attribute("aria-invalid") == "true" and cells.nth(1).input_value() == "x"
    for state in ("the errors", "the summary"):
        if state == "the summary":
            cells.nth(0).fill("4")
            page.get_by_role("button", name="Controleren").click()
            assert "Twee vakjes aangekruist (telt als niet ingevuld): 1.2" in page.locator("#grid-summary").inner_text()
        results = axe.run(page, options=AXE_OPTIONS)
        assert results.violations_count == 0, f"{state}: " + results.generate_report()
        assert_phone_friendly(page)
    page.get_by_role("button", name="Opslaan").click()
    assert page.url.endswith(f"/participants/{invitation.code}")
    participant = participant_of(live, invitation.token)
    assert live.query(select(Response.status).where(Response.participant_id == participant)) == [("completed",)]
