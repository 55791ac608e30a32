"""Setting up without the command line, in a real browser on a 360 px phone: the new-project form with
its instrument chooser, the questionnaire set-up, the organisation settings and the CSV import — each
without sideways scrolling, with large touch targets and no axe violations; and a worker creating a
project with two instruments by label text."""

from __future__ import annotations

import re

import pytest

from surveyhub.services import accounts
from tests.browser.conftest import PHONE, assert_phone_friendly
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture
def people(live, request):
    suffix = re.sub(r"\W", "", request.node.name)[-40:]
    with live.db() as session:
        admin = accounts.create_user(session, live.actor.organisation_id, f"setup-admin-{suffix}@noord.example",
                                     "admin", PASSWORD)
        worker = accounts.create_user(session, live.actor.organisation_id, f"setup-worker-{suffix}@noord.example",
                                      "worker", PASSWORD)
        session.commit()
    return {"admin": admin, "worker": worker}


def log_in(page, live, user) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mailadres").fill(user.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()


def assert_no_axe_violations(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def test_a_worker_sets_up_a_project_on_a_phone(live, new_context, people):
    page = new_context(**PHONE).new_page()
    log_in(page, live, people["worker"])
    page.goto(f"{live.url}/projects/new")
    assert_phone_friendly(page)
    assert_no_axe_violations(page)
    page.get_by_label("Naam van het project").fill("Moestuin aan de Kade")
    page.get_by_role("checkbox", name=re.compile("^Plannen en organiseren")).first.check()
    page.get_by_role("checkbox", name=re.compile("^Samenwerken")).first.check()
    page.get_by_role("radio", name=re.compile("^Kort")).check()
    page.get_by_role("checkbox", name=re.compile("terugblik")).check()
    totals = page.locator("#wave-totals table")
    live_sum = totals.inner_text()  # worked out in the page as the boxes were ticked
    assert re.search(r"Nulmeting\s+\d+\s+ongeveer \d+", live_sum)
    page.get_by_role("button", name="Tijd opnieuw berekenen").click()
    assert totals.inner_text() == live_sum, "the page's sum is the server's"
    assert page.get_by_role("checkbox", name=re.compile("^Samenwerken")).first.is_checked(), "nothing lost"
    page.get_by_role("radio", name=re.compile("^Eén vraag per scherm")).check()
    page.get_by_role("button", name="Opslaan").click()
    assert "De nulmeting staat open" in page.content()


def test_a_form_error_is_shown_at_the_top_and_accessible(live, new_context, people):
    page = new_context(**PHONE).new_page()
    log_in(page, live, people["worker"])
    page.goto(f"{live.url}/projects/new")
    page.get_by_label("Naam van het project").fill("Zonder vragenlijst")
    page.get_by_role("button", name="Opslaan").click()
    assert page.get_by_role("alert").filter(has_text="Kies minstens één vragenlijst.").count() == 1
    assert_phone_friendly(page)
    assert_no_axe_violations(page)


def test_questionnaire_setup_page_on_a_phone(live, new_context, people):
    project = live.project(("organising",))
    page = new_context(**PHONE).new_page()
    log_in(page, live, people["worker"])
    page.goto(f"{live.url}/projects/{project.slug}/questionnaire")
    page.get_by_label("Soort antwoord").select_option("choices")
    page.get_by_label("Vraag in het Nederlands").fill("Wat heb je gedaan?")
    page.get_by_label(re.compile("^Antwoorden om uit te kiezen")).fill("Koken\nTuinieren")
    page.get_by_role("checkbox", name="Vervolgmeting").uncheck()
    page.get_by_role("button", name="Vraag toevoegen").click()
    assert "Koken; Tuinieren" in page.content()
    assert_phone_friendly(page)
    assert_no_axe_violations(page)


@pytest.mark.parametrize("width", [360, 1280])
def test_the_settings_page_is_accessible(live, new_context, people, width):
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    log_in(page, live, people["admin"])
    page.goto(f"{live.url}/admin/settings")
    if width == 360:
        assert_phone_friendly(page, width)
    assert_no_axe_violations(page)
    page.get_by_label("Minste aantal paren voor gemiddelden").fill("1")
    page.get_by_role("button", name="Instellingen opslaan").click()
    assert "niet ruimer" in page.content()
    assert_no_axe_violations(page)


def test_the_import_pages_on_a_phone(live, new_context, people, tmp_path):
    project = live.project(("organising",))
    page = new_context(**PHONE).new_page()
    log_in(page, live, people["worker"])
    page.goto(f"{live.url}/projects/{project.slug}/import")
    assert_phone_friendly(page)
    assert_no_axe_violations(page)
    columns = page.locator("details code").text_content().split(",")
    good = tmp_path / "antwoorden.csv"
    good.write_text(",".join(columns[:3]) + "\nP-1,4,5\n", encoding="utf-8")
    page.get_by_label("CSV-bestand").set_input_files(str(good))
    page.get_by_role("button", name="Importeren").click()
    assert page.get_by_role("heading", name="Importeren klaar").count() == 1, page.locator("main").inner_text()
    assert_phone_friendly(page)
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Deze import terugdraaien").click()
    assert "De import is teruggedraaid" in page.content()
