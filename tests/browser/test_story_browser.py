"""The page "Verhaal voor het rapport" in a real browser: on a phone nothing scrolls sideways, every
control is thumb-sized, axe finds nothing; a worker adds and corrects an output the way they would."""

from __future__ import annotations

import io
import uuid

import pytest

from surveyhub.models import Consent, Participant, Project, Token
from surveyhub.services import accounts, project_story, responses
from tests.browser.conftest import assert_phone_friendly
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture
def storied(live):
    """A worker, and a project with a story, an output with a photo and a shared open answer."""
    from PIL import Image
    from sqlalchemy import select

    from surveyhub.plugins import get_registry

    suffix = uuid.uuid4().hex[:8]  # the live site is shared: new addresses per test
    info = live.project()
    invitation = live.resident(info.slug)
    photo = io.BytesIO()
    Image.new("RGB", (640, 400), (90, 160, 70)).save(photo, "JPEG")
    with live.db() as session:
        worker = accounts.create_user(session, live.actor.organisation_id, f"story-{suffix}@noord.example", "worker",
                                      PASSWORD)
        project_story.update_story(session, live.actor, info.slug, funder_name="Gemeente Utrecht – Initiatievenfonds",
                                   period_start="2026-02-01", meetings_held=14)
        project_story.add_output(session, live.actor, info.slug, "2026-05-12",
                                 "Speeltuin geopend met een feest voor de hele straat en de school ernaast",
                                 photo=photo.getvalue())
        participant = session.scalar(select(Participant).join(Token).where(Token.token == invitation.token))
        session.add(Consent(participant_id=participant.id, wording_version="1", language="nl", share_quotes=True))
        project = session.get(Project, participant.project_id)
        wave = next(w for w in project.waves if w.kind == "pre")
        response = responses.get_or_start(session, participant, wave)
        responses.save_answers(session, response, {("now", "organising", "org_proud_of"):
                                                   "Ik heb de koffie geregeld op elke bewonersavond."})
        responses.complete(session, project, response, get_registry(live.app).scoring_methods)
        session.commit()
    return info.slug, worker


def log_in(page, live, user) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mailadres").fill(user.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()


@pytest.mark.parametrize("width", [360, 1280])
def test_the_story_page_fits_a_phone_and_is_accessible(live, new_context, storied, width):
    from axe_playwright_python.sync_playwright import Axe

    slug, worker = storied
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    log_in(page, live, worker)
    page.goto(f"{live.url}/projects/{slug}/story")
    assert page.get_by_role("heading", name="Verhaal voor het rapport").is_visible()
    assert page.locator(".output img").evaluate("img => img.naturalWidth") > 0  # the photo route answers
    if width == 360:
        assert_phone_friendly(page, width)
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()


def test_a_worker_adds_an_output_with_a_photo_and_picks_a_quote_on_a_phone(live, phone, storied, tmp_path):
    from PIL import Image
    from playwright.sync_api import expect

    slug, worker = storied
    log_in(phone, live, worker)
    phone.goto(f"{live.url}/projects/{slug}/story")
    picture = tmp_path / "bouwdag.png"
    Image.new("RGB", (1200, 900), (200, 60, 40)).save(picture, "PNG")
    add = phone.locator("form", has=phone.get_by_role("button", name="Toevoegen"))  # each output has its own form
    add.get_by_label("Datum").fill("2026-04-18")
    add.get_by_label("Wat er gebeurde of gemaakt is").fill("Eerste bouwdag")
    add.get_by_label("Foto (mag ook zonder)").set_input_files(str(picture))
    add.get_by_role("button", name="Toevoegen").click()
    expect(phone.get_by_text("Toegevoegd aan wat het project deed.")).to_be_visible()
    assert phone.get_by_role("button", name="Verwijderen Eerste bouwdag").is_visible()
    assert "18 april 2026" in phone.locator(".outputs").inner_text()
    assert phone.locator(".output img").count() == 2
    # Correct the first output: open "Wijzigen", change its line, save.
    phone.locator("details.edit-output summary").first.click()  # the first output: the one just added
    edit = phone.locator("details[open] form")
    edit.get_by_label("Wat er gebeurde of gemaakt is").fill("Eerste bouwdag met twintig buren")
    edit.get_by_role("button", name="Opslaan").click()
    expect(phone.get_by_text("Bewaard.")).to_be_visible()
    assert "Eerste bouwdag met twintig buren" in phone.locator(".outputs").inner_text()
    phone.get_by_role("button", name="Gebruik in rapport").click()
    expect(phone.get_by_text("In het rapport", exact=True)).to_be_visible()


def test_the_worker_sets_name_and_job_title_on_a_phone(live, phone, storied):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    _slug, worker = storied
    log_in(phone, live, worker)
    phone.goto(f"{live.url}/account/profile")
    assert_phone_friendly(phone, 360)
    assert Axe().run(phone, options=AXE_OPTIONS).violations_count == 0
    phone.get_by_label("Je naam").fill("Sanne de Vries")
    phone.get_by_label("Je functie").fill("Opbouwwerker")
    phone.get_by_role("button", name="Opslaan").click()
    expect(phone.get_by_text("Je naam en functie zijn bewaard.")).to_be_visible()
    assert phone.get_by_label("Je naam").input_value() == "Sanne de Vries"
