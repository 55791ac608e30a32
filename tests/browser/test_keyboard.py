"""A resident who uses only the keyboard: Tab, Space, the arrow keys and Enter. No mouse."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyhub.models import Answer, Consent, Response
from tests.browser.conftest import participant_of

pytestmark = pytest.mark.browser

MAX_TABS = 40

_FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {tag: el.tagName.toLowerCase(), type: el.type || null, name: el.name || null,
          value: el.value === undefined ? null : el.value, checked: !!el.checked,
          text: (el.innerText || '').trim(), href: el.getAttribute('href'),
          outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
          shadow: style.boxShadow !== 'none'};
}"""


def tab_to(page, wanted, what: str) -> dict:
    """Press Tab until the focused element matches ``wanted``; it must show that it has focus."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if wanted(focused):
            assert focused["outline"] or focused["shadow"], f"no visible focus on {what}: {focused}"
            return focused
    raise AssertionError(f"{what} cannot be reached with Tab")


def press_and_wait(page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def question_names(page) -> list[str]:
    return page.eval_on_selector_all(".question", "els => els.map(e => e.id.slice(2))")


def answer_page_by_keyboard(page, choice_index: int, text: str) -> dict:
    """Every question on the page: radios by Space and arrows, open questions by typing."""
    chosen = {}
    for name in question_names(page):
        focused = tab_to(page, lambda f, n=name: f["name"] == n, name)
        if focused["type"] == "radio":
            page.keyboard.press("Space")
            for _ in range(choice_index):
                page.keyboard.press("ArrowDown")
            chosen[name] = page.evaluate("() => document.activeElement.value")
            assert page.evaluate("() => document.activeElement.checked"), name
        else:
            page.keyboard.type(text)
            chosen[name] = text
    return chosen


def test_consent_and_a_whole_wave_with_the_keyboard_only(live, new_context):
    project = live.project(instruments=("organising", "network"))
    token = live.resident(project.slug).token
    page = new_context().new_page()
    page.goto(live.link(token))

    skip = tab_to(page, lambda f: f["tag"] == "a", "the first link")
    assert skip["href"] == "#main", "the skip link must come first"
    box = page.evaluate("() => document.activeElement.getBoundingClientRect().toJSON()")
    assert box["left"] >= 0 and box["height"] >= 44, f"the skip link is not visible when focused: {box}"

    tab_to(page, lambda f: f["name"] == "consent", "the consent box")
    page.keyboard.press("Space")
    assert page.evaluate("() => document.activeElement.checked")
    tab_to(page, lambda f: f["tag"] == "button" and f["type"] == "submit", "the start button")
    press_and_wait(page, "Enter")
    assert page.url.endswith("/p/0")

    chosen, n = {}, 0
    while not page.url.endswith("/done"):
        chosen.update(answer_page_by_keyboard(page, choice_index=3, text=f"Getypt op pagina {n + 1}"))
        tab_to(page, lambda f: f["tag"] == "button" and f["value"] == "next", "the next button")
        press_and_wait(page, "Enter")
        n += 1
    assert n == 3  # organising (7, then its open question), network (6 items and the 0-10 row)
    assert page.get_by_role("heading", level=1).inner_text() == live.ui("Thank you!")

    participant = participant_of(live, token)
    assert live.scalar(select(Consent.id).where(Consent.participant_id == participant))
    stored = dict(live.query(select(Answer.item_id, Answer.value_num).join(Response)
                             .where(Response.participant_id == participant, Answer.value_text.is_(None))))
    assert len(stored) == 7 + 6 + 1
    assert set(v for item, v in stored.items() if item != "net_helpers") == {4.0}  # 4th option of agree5
    assert stored["net_helpers"] == 3.0  # the 0-10 row: 0 then three steps
    assert {k.split("__")[-1] for k in chosen} == {*stored, "org_proud_of"}
