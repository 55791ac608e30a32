"""The admin's instrument pages say, per language, whether a translation is a draft, and how long each form is.

A translation nobody has checked must never look checked: the list and the
detail page name it a draft until the instrument's ``translation_status`` says
"confirmed".
"""

from __future__ import annotations

import html
import io
import re

import pytest

from tests.fixtures.factories import csrf_token

DRAFT = "Concept — nog niet gecontroleerd door een moedertaalspreker"

CHECKED_TURKISH = """\
id: buurtquiz
version: 1
title: {nl: Buurtquiz, en: Neighbourhood quiz, tr: Mahalle testi}
languages: [nl, en, tr]
translation_status: {tr: confirmed}
answer_sets:
  agree3:
    - {value: 1, label: {nl: Niet mee eens, en: Disagree, tr: Katılmıyorum}}
    - {value: 2, label: {nl: Neutraal, en: Neutral, tr: Kararsızım}}
    - {value: 3, label: {nl: Mee eens, en: Agree, tr: Katılıyorum}}
scales:
  - id: knowing
    title: {nl: De buurt kennen, en: Knowing the neighbourhood, tr: Mahalleyi tanımak}
    items:
      - {id: bq_1, type: choice, answer_set: agree3, text: {nl: Ik ken mijn buren., en: I know my neighbours.,
                                                             tr: Komşularımı tanırım.}}
      - {id: bq_2, type: choice, answer_set: agree3, text: {nl: Ik groet mijn buren., en: I greet my neighbours.,
                                                             tr: Komşularımı selamlarım.}}
    scoring: {method: mean, min_answered: 1}
"""


@pytest.fixture
def admin(make_org, make_user, login):
    org = make_org("Buurtwerk Noord")
    login(make_user("admin", org=org).email)
    return org


def text_of(page) -> str:
    """The page's words without tags, spaces folded, entities read."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


def row_of(page, instrument_id: str) -> str:
    row = re.search(rf'<tr><th scope="row"><a class="tool" href="/admin/instruments/{instrument_id}/\d+">.*?</tr>', page.text,
                    re.S)
    assert row, f"no row for {instrument_id}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row.group(0))).split())


def test_the_list_shows_item_counts_and_each_draft_language(client, admin):
    page = client.get("/admin/instruments")
    assert page.status_code == 200
    assert row_of(page, "organising").startswith(
        "organising 2 Plannen en organiseren 7 (korte versie: 4) "
        "Nederlands Engels Turks: concept Arabisch: concept Pools: concept ")
    assert "6 (korte versie: 4)" in row_of(page, "network")
    assert "nog niet gecontroleerd door een moedertaalspreker" in text_of(page)


def test_the_detail_page_names_every_language_with_its_status(client, admin):
    page = client.get("/admin/instruments/organising/2")
    words = text_of(page)
    assert "Vragen met een score: 7 (korte versie: 4)" in words
    assert "Nederlands: Geschreven door de makers" in words and "Engels: Geschreven door de makers" in words
    for name in ("Turks", "Arabisch", "Pools"):
        assert f"{name}: {DRAFT}" in words
    assert "Korte versie: org_1, org_2, org_4, org_6" in words
    # Dutch beside English by default, the look-back wording under each statement.
    assert "Terugblik: Vóór het project kon ik een buurtactiviteit van begin tot eind plannen." in words
    assert "Terugblik: Before the project, I could plan a neighbourhood activity from start to finish." in words


def test_one_other_language_at_a_time_beside_the_dutch_arabic_right_to_left(client, admin):
    page = client.get("/admin/instruments/organising/2?lang=ar")
    assert '<span lang="ar" dir="rtl">أستطيع أن أخطط لنشاط في الحي من البداية إلى النهاية.</span>' in page.text
    assert "I can plan a neighbourhood activity" not in page.text  # only the chosen language beside the Dutch
    assert '<strong aria-current="page">Arabisch</strong>' in page.text
    unknown = client.get("/admin/instruments/organising/2?lang=xx")
    assert "I can plan a neighbourhood activity from start to finish." in unknown.text  # back to English


def test_an_upload_marked_confirmed_shows_as_checked(client, admin):
    token = csrf_token(client.get("/admin/instruments").text)
    client.post("/admin/instruments", data={"csrf_token": token, "file": (io.BytesIO(CHECKED_TURKISH.encode()),
                                                                          "buurtquiz.yaml")},
                content_type="multipart/form-data", follow_redirects=True)
    listed = row_of(client.get("/admin/instruments"), "buurtquiz")
    assert "2 (geen korte versie)" not in listed and " 2 Nederlands Engels Turks " in listed
    words = text_of(client.get("/admin/instruments/buurtquiz/1?lang=tr"))
    assert "Turks: Gecontroleerd door een moedertaalspreker" in words
    assert "Vragen met een score: 2 (geen korte versie)" in words
    assert "concept" not in words.lower()
