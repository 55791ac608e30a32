"""The e-mail pages in a real browser on a phone: the invitation's confirmation, the worker's dates and
reminders, one resident's e-mail section, and the resident's opt-out page fit 360 px and pass axe."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from surveyhub.models import Participant
from surveyhub.services import accounts, participants
from tests.browser.conftest import assert_phone_friendly
from tests.browser.test_job_pages import check_axe, log_in
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def mail_on(live, monkeypatch):
    """E-mail set up (nothing is sent: the tests stop at the confirmation)."""
    monkeypatch.setitem(live.app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(live.app.config, "MAIL_FROM", "surveyhub@noord.example")


@pytest.fixture
def worker(live):
    with live.db() as session:
        user = accounts.create_user(session, live.actor.organisation_id, f"mail-{uuid.uuid4().hex[:8]}@noord.example",
                                    "worker", PASSWORD)
        session.commit()
    return user


@pytest.fixture
def place(live):
    project = live.project()
    with live.db() as session:
        added = participants.add_participants(session, live.actor, project.slug, entries=[
            ("Zoë Çelik", "zoe@example.org"), ("Bram", "bram@example.org"), ("Cor", None)])
        session.commit()
    return project, added


def test_invite_confirmation_on_a_phone(live, new_context, worker, place, mail_on):
    project, _added = place
    page = new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True).new_page()
    log_in(page, live, worker)
    page.goto(f"{live.url}/projects/{project.slug}")
    page.get_by_role("link", name="Uitnodiging mailen").click()
    assert page.get_by_text("2 bewoners krijgen een e-mail.").is_visible()
    assert page.get_by_text("1 bewoner heeft geen e-mailadres").is_visible()
    assert page.get_by_role("button", name="Verstuur 2 e-mails").is_visible()
    assert_phone_friendly(page, 360)
    check_axe(page)


def test_dates_reminders_and_a_residents_mail_on_a_phone(live, new_context, worker, place, mail_on):
    project, added = place
    page = new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True).new_page()
    log_in(page, live, worker)
    page.goto(f"{live.url}/projects/{project.slug}/schedule")
    assert page.get_by_label("Herinnering sturen na (dagen)").is_visible()
    assert_phone_friendly(page, 360)
    check_axe(page)
    page.goto(f"{live.url}/projects/{project.slug}/waves/post/opening")
    assert page.get_by_label("en mail de uitnodiging meteen").is_checked()
    assert_phone_friendly(page, 360)
    check_axe(page)
    page.goto(f"{live.url}/projects/{project.slug}/participants/{added[0].code}")
    assert page.get_by_label("E-mailadres (niet verplicht)").input_value() == "zoe@example.org"
    assert_phone_friendly(page, 360)
    check_axe(page)


#: The button and the heading after it, per language.
OPT_OUT_WORDS = {"nl": ("Stuur mij geen herinneringen meer", "Je krijgt geen herinneringen meer"),
                 "ar": ("لا ترسلوا لي تذكيرات بعد الآن", "لن تصلك تذكيرات بعد الآن")}


@pytest.mark.parametrize("lang", ["nl", "ar"])
def test_opt_out_page_on_a_phone(live, new_context, place, lang):
    from playwright.sync_api import expect

    _project, added = place
    page = new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True).new_page()
    page.goto(f"{live.url}/q/{added[1].token}/geen-herinneringen?lang={lang}")
    words, done = OPT_OUT_WORDS[lang]
    button = page.get_by_role("button", name=words)
    assert button.is_visible()
    assert_phone_friendly(page, 360)
    check_axe(page)
    button.click()
    expect(page.get_by_role("heading", name=done)).to_be_visible()
    assert live.scalar(select(Participant.reminders_opt_out_at).where(Participant.code == added[1].code)) is not None
    check_axe(page)
