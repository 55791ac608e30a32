"""In a real browser (issue 12): a worker confirms and undoes a fuzzy pair of own codes, and the report's
pairs follow (``report.json`` read before and after each click); the verify page's verdicts on a phone.

Both pages fit a 360 px phone with full-size touch targets and pass axe.
"""

from __future__ import annotations

import json
import uuid

import pytest

from surveyhub.services import access, accounts
from surveyhub.services import documents as docs
from tests.browser.conftest import PHONE, assert_phone_friendly
from tests.fixtures.factories import PASSWORD
from tests.fixtures.outcomes import answer, at_levels

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture(scope="module")
def place(live):
    """A worker; a project where one resident came back on another phone and typed May for April."""
    project = live.project(("organising",))
    with live.db() as session:
        worker = accounts.create_user(session, live.actor.organisation_id,
                                      f"paren-{uuid.uuid4().hex[:8]}@noord.example", "worker", PASSWORD)
        session.commit()
        for code, wave, self_code, level in (("A-SAME1", "pre", "a|b|1|0|2|x", 2), ("A-SAME2", "post", "a|b|1|0|2|x", 3),
                                             ("A-APRIL", "pre", "m|j|4|1|0|u", 2), ("A-MAY", "post", "m|j|5|1|0|u", 4)):
            answer(live.app, session, project.slug, wave, code, at_levels(session, project.slug, {"organising": level}),
                   self_code=self_code)
    return {"worker": worker, "project": project}


def _login(live, new_context, email: str, **options):
    page = new_context(**options).new_page()
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(f"{live.url}/")
    return page


def _axe_clean(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()


def _pairs(page, live, slug: str) -> tuple[int, int, int]:
    """(paired, paired by code, fuzzy pairs) from the report JSON, as the logged-in worker downloads it."""
    found = page.request.get(f"{live.url}/projects/{slug}/outcomes/report.json")
    assert found.ok, found.status
    part = json.loads(found.body())["participation"]
    return part["paired"], part["paired_by_code"], part["fuzzy_pairs"]


def test_confirm_and_undo_change_the_reports_pairs(live, new_context, place):
    page = _login(live, new_context, place["worker"].email, **PHONE)
    slug = place["project"].slug
    assert _pairs(page, live, slug) == (2, 1, 1)

    page.goto(f"{live.url}/projects/{slug}")
    page.get_by_role("link", name="Eigen codes en paren").click()
    card = page.locator("article.pair-card")
    assert card.count() == 1
    # The differing answer, in words and highlighted; the five equal answers hidden.
    assert card.locator("mark").all_inner_texts() == ["april", "mei"]
    assert card.get_by_text("gelijk (verborgen)").count() == 5
    assert_phone_friendly(page)
    _axe_clean(page)

    card.get_by_role("button", name="Nee, twee bewoners").click()
    page.get_by_text("Losgemaakt: het rapport telt deze twee bewoners apart.").wait_for()
    assert _pairs(page, live, slug) == (1, 1, 0)  # the two count apart
    assert_phone_friendly(page)
    _axe_clean(page)

    page.locator("article.pair-card").get_by_role("button", name="Ja, één bewoner").click()
    page.get_by_text("Bevestigd: deze antwoorden zijn van één bewoner.").wait_for()
    assert _pairs(page, live, slug) == (2, 2, 0)  # one resident again, no longer fuzzy

    page.locator("article.pair-card").get_by_role("button", name="Keuze terugdraaien").click()
    page.get_by_text("Keuze teruggedraaid").wait_for()
    assert _pairs(page, live, slug) == (2, 1, 1)  # as the codes pair on their own


def test_the_verify_page_tells_each_verdict_apart_on_a_phone(live, new_context, place):
    slug = place["project"].slug
    with live.db() as session:
        actor = access.Actor(organisation_id=live.actor.organisation_id, role="admin")
        issued = docs.issue_resident_document(session, actor, slug, "A-APRIL", base_url=live.url)
        session.commit()
    page = new_context(**PHONE).new_page()
    seen = {}

    def look(status: str, word: str) -> None:
        box = page.locator(f'.verify-result[data-status="{status}"]')
        assert box.get_by_role("heading", level=2).inner_text() == word
        assert box.locator("svg.verify-icon").is_visible()
        seen[status] = box.evaluate("el => getComputedStyle(el).borderTopColor")
        assert_phone_friendly(page)
        _axe_clean(page)

    page.goto(f"{live.url}/verify/{issued.code}")
    look("genuine", "Echt")
    page.goto(f"{live.url}/verify")
    changed = bytearray(issued.pdf)
    changed[len(changed) // 2] ^= 0x01
    page.get_by_label("PDF-bestand").set_input_files({"name": "certificaat.pdf", "mimeType": "application/pdf",
                                                       "buffer": bytes(changed)})
    page.get_by_role("button", name="Controleer het bestand").click()
    look("altered", "Veranderd")
    page.goto(f"{live.url}/verify/ZZZZ-ZZZZ-ZZZZ")
    look("unknown", "Onbekend")
    with live.db() as session:
        docs.revoke(session, actor, issued.code, "Verkeerde naam")
        session.commit()
    page.goto(f"{live.url}/verify/{issued.code}")
    look("revoked", "Ingetrokken")
    assert len(set(seen.values())) == 4, seen  # four colours
