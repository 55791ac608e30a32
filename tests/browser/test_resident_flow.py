"""Issue 12 in a real browser: a short post wave one question per screen on a phone, the consent error
taking the focus, read-aloud reading the answers too, and axe on the new resident pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyhub.models import Answer, Project, Response, Wave
from surveyhub.services import participants
from tests.browser.conftest import PHONE, assert_phone_friendly, choose, legends, participant_of
from tests.browser.test_accessibility import AXE_OPTIONS
from tests.test_questionnaire import Resident, finish_wave

pytestmark = pytest.mark.browser

PROUD = "Waar ben je trots op in dit project?"
SHORT = {"organising": ["org_1", "org_2", "org_4", "org_6"], "conversation": ["con_1", "con_2", "con_3", "con_6"]}


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe
    return Axe()


def _settings(live, slug: str, **values) -> None:
    with live.db() as session:
        project = session.scalar(select(Project).where(Project.slug == slug))
        for name, value in values.items():
            setattr(project, name, value)
        session.commit()


def test_a_resident_finishes_a_short_post_wave_one_question_per_screen_on_a_phone(live, phone):
    from playwright.sync_api import expect

    project = live.project(instruments=("organising", "conversation"), retrospective=True)
    _settings(live, project.slug, form_length="short", question_mode="one")
    token = live.resident(project.slug).token
    earlier = Resident(live.app.test_client(), token)  # the pre wave, some months ago
    earlier.consent()
    finish_wave(earlier, "2")
    live.set_wave(project.slug, "post", "open")

    page = phone
    page.goto(live.link(token))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom terug!")
    expect(page.get_by_text("(17 vragen)")).to_be_visible()  # 4 + 4 statements now, 4 + 4 looking back, 1 open
    assert_phone_friendly(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Start", exact=True).tap()
    screens, looking_back = 0, 0
    while "/done" not in page.url:
        assert_phone_friendly(page)
        questions = legends(page)
        assert len(questions) + page.get_by_label(PROUD, exact=True).count() == 1  # one question per screen
        if page.locator(".then-badge").count():
            looking_back += 1
            expect(page.locator(".then-badge")).to_have_text("Vroeger")
            assert questions[0].startswith("Vóór het project")  # the past-tense wording, not the present one
        if questions:
            choose(page, questions[0], "Mee eens")
        else:
            expect(page.get_by_role("heading", level=1)).to_have_text("Tot slot")
            page.get_by_label(PROUD, exact=True).fill("De opening van de tuin.")
        screens += 1
        last = screens == 17
        with page.expect_navigation():
            page.get_by_role("button", name=live.ui("Send my answers") if last else live.ui("Next"),
                             exact=True).tap()
    assert (screens, looking_back) == (17, 8)
    expect(page.get_by_role("heading", level=1)).to_have_text(live.ui("Thank you!"))
    assert "Je bent gegroeid in" in page.inner_text("main")

    participant = participant_of(live, token)
    stored = live.query(select(Answer.block, Answer.item_id, Answer.value_num).join(Response).join(Wave)
                        .where(Response.participant_id == participant, Wave.kind == "post"))
    asked = SHORT["organising"] + SHORT["conversation"]
    assert sorted((b, i) for b, i, _v in stored if i != "org_proud_of") == sorted(
        [("now", i) for i in asked] + [("then", i) for i in asked])
    assert {v for _b, i, v in stored if i != "org_proud_of"} == {4.0}


def test_start_without_the_consent_tick_focuses_the_message(live, phone):
    token = live.resident(live.project().slug).token
    phone.goto(live.link(token))
    with phone.expect_navigation():
        phone.get_by_role("button", name=live.ui("Start"), exact=True).tap()
    focused = phone.evaluate("() => [document.activeElement.id, document.activeElement.textContent.trim()]")
    assert focused == ["consent-error", live.ui("Tick the box if you want to take part.")]
    box = phone.evaluate("() => document.activeElement.getBoundingClientRect().toJSON()")
    assert 0 <= box["top"] and box["bottom"] <= 740, f"the message is not in view: {box}"
    assert_phone_friendly(phone)


RECORD_SPEECH = """
window.__spoken = [];
window.SpeechSynthesisUtterance = function (text) { this.text = text; this.lang = ""; };
Object.defineProperty(window, "speechSynthesis", {configurable: true, value: {
  speak: function (u) { window.__spoken.push({text: u.text, lang: u.lang}); }, cancel: function () {} }});
"""
NO_SPEECH = """
Object.defineProperty(window, "speechSynthesis", {configurable: true, value: undefined});
"""


def _answering(live) -> str:
    token = live.resident(live.project().slug).token
    Resident(live.app.test_client(), token).consent()
    return token


def test_read_aloud_reads_the_question_and_its_answers(live, new_context):
    token = _answering(live)
    context = new_context(**PHONE)
    context.add_init_script(RECORD_SPEECH)
    page = context.new_page()
    page.goto(f"{live.link(token)}/p/0")
    questions = legends(page)
    buttons = page.locator(".question button.read-aloud")
    assert buttons.count() == len(questions) == 7  # one per question, none elsewhere
    assert page.locator("button.read-aloud").count() == 7
    first = buttons.first
    assert first.get_attribute("aria-label") == f"Voorlezen: {questions[0]}"
    assert first.inner_text().strip() == "Voorlezen"
    assert_phone_friendly(page)  # 44 px at least
    first.tap()
    [said] = page.evaluate("() => window.__spoken")
    assert said["lang"] == "nl-NL"
    assert said["text"].startswith(questions[0])
    for answer in ("Helemaal niet mee eens", "Niet mee eens", "Niet eens, niet oneens", "Mee eens",
                   "Helemaal mee eens"):
        assert answer in said["text"], answer


def test_without_speech_there_is_no_read_aloud_button(live, new_context):
    token = _answering(live)
    context = new_context(**PHONE)
    context.add_init_script(NO_SPEECH)
    page = context.new_page()
    page.goto(f"{live.link(token)}/p/0")
    assert len(legends(page)) == 7 and page.locator(".read-aloud").count() == 0


# --- axe on the new pages ----------------------------------------------------------------------------------

def _start(page, live):
    page.goto(live.link(live.resident(live.project().slug).token))
    return page.locator("input[name=consent]")


def _question_page(page, live):
    page.goto(f"{live.link(_answering(live))}/p/0")
    return page.locator("fieldset")


def _empty_page_question(page, live):
    page.goto(f"{live.link(_answering(live))}/p/0")
    with page.expect_navigation():
        page.locator("button[value=next]").click()
    return page.locator(".empty-check")


def _welcome_back(page, live):
    project = live.project()
    token = live.resident(project.slug).token
    earlier = Resident(live.app.test_client(), token)
    earlier.consent()
    finish_wave(earlier, "3")
    live.set_wave(project.slug, "post", "open")
    page.goto(live.link(token))
    return page.get_by_role("heading", name="Welkom terug!")


def _thank_you(page, live):
    project = live.project(instruments=("organising", "conversation"))
    token = live.resident(project.slug).token
    resident = Resident(live.app.test_client(), token)
    resident.consent()
    finish_wave(resident, "2")
    live.set_wave(project.slug, "post", "open")
    finish_wave(resident, "5")
    page.goto(f"{live.link(token)}/done")
    return page.locator(".summary .grown")


def _old_link(page, live):
    project = live.project()
    old = live.resident(project.slug)
    with live.db() as session:
        participants.renew_link(session, live.actor, project.slug, old.code)
        session.commit()
    page.goto(live.link(old.token))
    return page.get_by_text(f"Dit is een oude link voor {project.name}")


def _unknown_link(page, live):
    page.goto(live.link("no-such-link-at-all"))
    return page.get_by_role("heading", name="Deze link werkt niet")


@pytest.mark.parametrize("scene", [_start, _question_page, _empty_page_question, _welcome_back, _thank_you,
                                   _old_link, _unknown_link], ids=lambda f: f.__name__.strip("_"))
def test_the_new_resident_pages_have_no_wcag_violations(live, new_context, axe, scene):
    from playwright.sync_api import expect

    page = new_context(**PHONE).new_page()
    expect(scene(page, live).first).to_be_visible()
    results = axe.run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()
    assert_phone_friendly(page)


def test_after_an_anonymous_start_the_resident_copies_their_own_link(live, new_context):
    from playwright.sync_api import expect

    project = live.project()
    page = new_context(**PHONE, permissions=["clipboard-read", "clipboard-write"]).new_page()
    page.goto(f"{live.url}/a/{project.anonymous_token}")
    for label, letter in (("First letter of your mother's first name", "F"),
                          ("First letter of your father's first name", "A"),
                          ("First letter of the town where you were born", "R")):
        page.get_by_label(live.ui(label), exact=True).fill(letter)
    page.get_by_label(live.ui("Your birth month"), exact=True).select_option(label="maart")
    page.get_by_label(live.ui("How many older brothers do you have?"), exact=True).select_option(label="Weet ik niet")
    page.get_by_label(live.ui("How many older sisters do you have?"), exact=True).select_option("0")
    with page.expect_navigation():
        page.get_by_role("button", name=live.ui("Next"), exact=True).tap()
    assert "/q/" in page.url
    expect(page.get_by_text("Dit is jouw eigen link. Met de link van de groep kom je niet terug bij je antwoorden.")
           ).to_be_visible()
    own = page.url.split("?")[0]
    expect(page.locator(".own-link a")).to_have_text(own)
    assert_phone_friendly(page)
    page.get_by_role("button", name="Kopieer mijn link", exact=True).tap()
    expect(page.get_by_role("button", name="Gekopieerd", exact=True)).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == own
