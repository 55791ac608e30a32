"""Link cards (issue 11, item 4): every printed link whole, a short link to type, and whom to ask.

The cards are read back from the PDF (every link is there in one piece) and
measured in WeasyPrint's layout (every line of a link lies inside its card's
dashed border, so nothing is clipped when the cards are cut out).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

from surveyhub.models import Organisation, Token, User
from surveyhub.services import access, participants, short_codes
from surveyhub.services import documents as docs
from tests.fixtures.documents import pdf_reader, pdf_text

ISSUED = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
LONG_BASE = "https://enquete.samenlevingsopbouw-amsterdam-noord.nl"
#: Tokens that start with a hyphen or underscore (both occur in URL-safe tokens) once gave the line breaker a spot.
TOKENS = ["-5lUjj4OMoGVqZz7JgWzvKbCKX4h8dFs", "_aB-cD_eF-gH_iJ-kL_mN-oP_qR-sT_uV", "Zz" * 16]
CODES = ["K7P29XMC", "AAAAAAAA", "W2W2W2W2"]


def _sheet_data(base_url: str, names: list[str], contact: str | None = "020 123 45 67, info@buurtwerk.example.org",
                worker: str | None = "Fatima Yilmaz") -> dict:
    return {"lang": "nl", "project": {"name": "Speeltuin De Vlinder", "slug": "speeltuin"},
            "organisation": {"name": "Buurtwerk Noord", "brand_colour": "#c0392b", "contact": contact},
            "worker": worker,
            "residents": [{"name": name, "code": f"R-{n:05d}", "link": f"{base_url}/q/{TOKENS[n % 3]}",
                           "short_link": short_codes.link(base_url, CODES[n % 3])}
                          for n, name in enumerate(names)]}


def _layout(data: dict):
    """The sheet as WeasyPrint lays it out (the same template, stylesheet and fonts as the PDF)."""
    from weasyprint import HTML

    from surveyhub.rendering import paper
    from surveyhub.rendering.render import RefusingFetcher, get_renderer

    ctx, images = paper.sheet_context(data, code="K7P2-4QX9-MT3R", issued_at=ISSUED)
    renderer = get_renderer()
    return HTML(string=renderer.html("sheet.html", ctx), url_fetcher=RefusingFetcher(images.by_uri)).render(
        stylesheets=[renderer.stylesheet("sheet.css", "#c0392b")], font_config=renderer.font_config)


def _classes(box) -> set[str]:
    element = getattr(box, "element", None)
    return set((element.get("class") or "").split()) if element is not None else set()


def _text_boxes(box, clip=None):
    """(text, what clips it): every text in ``box``, with its nearest ancestor that hides overflow (or itself).

    A line that runs past such an ancestor (a name cut off with "…") is seen only within that ancestor.
    """
    from weasyprint.formatting_structure import boxes

    for child in getattr(box, "children", []):
        if isinstance(child, boxes.TextBox):
            if child.text.strip():
                yield child, clip or child
        else:
            hides = child.style["overflow"] != "visible" if hasattr(child, "style") else False
            yield from _text_boxes(child, child if hides and clip is None else clip)


def _outside(card, inner) -> bool:
    """Does ``inner`` reach beyond ``card``'s border box (a quarter of a point of slack for rounding)?"""
    left, top = card.border_box_x(), card.border_box_y()
    right, bottom = left + card.border_width(), top + card.border_height()
    slack = 0.35
    return (inner.position_x < left - slack or inner.position_y < top - slack
            or inner.position_x + inner.margin_width() > right + slack
            or inner.position_y + inner.margin_height() > bottom + slack)


def _cards(document):
    for page in document.pages:
        for box in page._page_box.descendants():
            if "card" in _classes(box):
                yield box


@pytest.mark.parametrize("base_url", ["http://surveyhub.test", LONG_BASE])
def test_every_link_is_printed_whole(base_url):
    from surveyhub.rendering import paper

    data = _sheet_data(base_url, [f"Bewoner {n}" for n in range(3)])
    text = pdf_text(paper.render_sheet(data, code="K7P2-4QX9-MT3R", issued_at=ISSUED))
    for token in TOKENS:
        assert f"/q/{token}" in text  # never broken inside the token
    for code in CODES:
        assert f"/k/{short_codes.display(code)}" in text  # nor inside the short code
    assert text.count("/q/") == text.count("/k/") == 3
    typed = base_url.removeprefix("https://")  # what a resident types: the browser adds https://
    assert typed.split("//")[-1].split(".")[0] in text


@pytest.mark.parametrize("base_url", ["http://surveyhub.test", LONG_BASE])
def test_every_line_of_a_card_lies_inside_its_border(base_url):
    names = ["Fatima", "Henk van den Berg-Oudshoorn de Vries tot Zuidewijn", "Aylin Özdemir", "Jo",
             "Marco", "Samira El Khatib-Bouazza", "Ingrid", "Joost", "Piet", "Ans"]
    cards = list(_cards(_layout(_sheet_data(base_url, names))))
    assert len(cards) == len(names)
    for card in cards:
        lines = list(_text_boxes(card))
        links = [line for line, clip in lines if "/k/" in line.text or "/q/" in line.text]
        assert any("/k/" in line.text for line in links) and any("/q/" in line.text for line in links)
        assert all(clip is line for line, clip in lines if line in links)  # no link is cut off by anything
        outside = [line.text for line, clip in lines if _outside(card, clip)]
        assert not outside, outside
        # Nothing is cut off either, but a long name (shortened with "…" on purpose).
        hidden = [line.text for line, clip in lines if clip is not line and "name" not in _classes(clip)
                  and _outside(clip, line)]
        assert not hidden, hidden
        images = [box for box in card.descendants() if "qr" in _classes(box)]
        assert len(images) == 1 and not _outside(card, images[0])


def test_links_stay_inside_even_with_absurd_names_and_contacts():
    data = _sheet_data(LONG_BASE + "/enquetes/buurtwerk", ["W" * 200, "x " * 100], contact="0" * 300,
                       worker="Anna " * 40)
    for card in _cards(_layout(data)):
        links = [(line, clip) for line, clip in _text_boxes(card) if "/k/" in line.text or "/q/" in line.text]
        assert links and not [line.text for line, clip in links if clip is not line or _outside(card, line)]


def test_a_card_says_what_it_is_and_whom_to_ask():
    from surveyhub.rendering import paper

    def text(**kwargs) -> str:
        return pdf_text(paper.render_sheet(_sheet_data("http://surveyhub.test", ["Anna"], **kwargs),
                                           code="K7P2-4QX9-MT3R", issued_at=ISSUED))

    full = text()
    assert "Je eigen link naar de vragenlijst van Speeltuin De Vlinder." in full
    assert "Vraag het aan Fatima Yilmaz van Buurtwerk Noord: 020 123 45 67, info@buurtwerk.example.org" in full
    assert "Vraag het aan Fatima Yilmaz van Buurtwerk Noord." in text(contact=None)
    assert "Vraag het aan Buurtwerk Noord: 020 123 45 67" in text(worker=None)
    assert "Vraag het aan Buurtwerk Noord." in text(worker=None, contact=" ")


def test_the_sheet_a_worker_prints_names_them_and_gives_older_links_a_code(app, session, make_org, make_project,
                                                                              make_user):
    org = make_org()
    project = make_project(org)
    worker = make_user("worker", org)
    session.get_one(User, worker.id).name = "Fatima Yilmaz"
    session.get_one(Organisation, org.id).contact = "020 123 45 67"
    actor = access.Actor(organisation_id=org.id, role="worker", user_id=worker.id)
    invitations = participants.add_participants(session, actor, project.slug, entries=[("Anna", None), ("Bas", None)])
    session.execute(update(Token).where(Token.token == invitations[1].token).values(short_code=None))  # made before
    session.commit()
    session.expire_all()

    sheet = docs.link_sheet_pdf(session, actor, project.slug, base_url="http://surveyhub.test")
    session.commit()
    backfilled = session.scalar(select(Token.short_code).where(Token.token == invitations[1].token))
    assert backfilled and short_codes.normalise(backfilled) == backfilled
    text = pdf_text(sheet.pdf)
    for code in (invitations[0].short_code, backfilled):  # the address may wrap before "/k/", never after
        assert f"/k/{short_codes.display(code)}" in text
    assert text.count("http://surveyhub.test") == 4  # short and full link of each card
    assert "Vraag het aan Fatima Yilmaz van Buurtwerk Noord: 020 123 45 67" in text
    assert len(pdf_reader(sheet.pdf).pages) == 1


def test_the_sheets_layout_stays_as_reviewed():
    """Page 1 against the reviewed image (tests/reference/link-sheet-p1.png): two cards a row, four rows."""
    from surveyhub.rendering import paper
    from tests.fixtures.images import assert_looks_like, page_png

    names = ["Fatima", "Henk van den Berg-Oudshoorn", "Aylin Özdemir", "Jo", "Marco", "Samira El Khatib"]
    pdf = paper.render_sheet(_sheet_data(LONG_BASE, names), code="K7P2-4QX9-MT3R", issued_at=ISSUED)
    assert_looks_like(page_png(pdf), "link-sheet-p1.png")


def test_a_worker_prints_one_residents_card_from_their_page(app, session, client_for, make_org, make_project,
                                                              make_user):
    from tests.fixtures.factories import csrf_token
    from tests.test_document_jobs import job_codes, job_file

    org = make_org()
    project = make_project(org)
    worker = make_user("worker", org)
    actor = access.Actor(organisation_id=org.id, role="admin")
    anna, bas = participants.add_participants(session, actor, project.slug, entries=[("Anna", None), ("Bas", None)])
    session.commit()
    client = client_for(worker.email)
    page = client.get(f"/projects/{project.slug}/participants/{bas.code}")
    assert f"http://surveyhub.test/k/{short_codes.display(bas.short_code)}" in page.text  # shown to type over
    printed = client.post(f"/projects/{project.slug}/documents/links.pdf",
                          data={"csrf_token": csrf_token(page.text), "participant": bas.code})
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    text = pdf_text(printed.data)
    assert f"/k/{short_codes.display(bas.short_code)}" in text and "Bas" in text
    assert short_codes.display(anna.short_code) not in text and "Anna" not in text
    assert bas.code in printed.headers["Content-Disposition"]
    # the whole sheet is still the whole sheet, and both are on record
    started = client.post(f"/projects/{project.slug}/documents/links.pdf", data={"csrf_token": csrf_token(page.text)})
    whole = job_file(client, started)  # the whole sheet is made by a job
    assert "Anna" in pdf_text(whole.data) and "Bas" in pdf_text(whole.data)
    assert job_codes(session, started) != [printed.headers["X-Document-Code"]]


def test_a_worker_prints_the_cards_of_the_residents_chosen_on_the_residents_page(app, session, client_for, make_org,
                                                                                 make_project, make_user):
    """Issue 12: choose residents, press "Print link cards": only their cards, on record under a title of its own."""
    import re

    from surveyhub.models import Document
    from tests.fixtures.factories import csrf_token
    from tests.test_document_jobs import job_codes, job_file

    org = make_org()
    project = make_project(org)
    worker = make_user("worker", org)
    actor = access.Actor(organisation_id=org.id, role="admin")
    anna, bas, cor = participants.add_participants(session, actor, project.slug,
                                                   entries=[("Anna", None), ("Bas", None), ("Cor", None)])
    session.commit()
    client = client_for(worker.email)
    page = client.get(f"/projects/{project.slug}/participants")
    # The print button sends the chosen boxes to the link sheet.
    assert re.search(rf'formaction="/projects/{project.slug}/documents/links.pdf"', page.text)
    started = client.post(f"/projects/{project.slug}/documents/links.pdf",
                          data={"csrf_token": csrf_token(page.text), "participant": [anna.code, cor.code]})
    printed = job_file(client, started)  # the chosen residents' cards are made by a job
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    text = pdf_text(printed.data)
    assert "Anna" in text and "Cor" in text and "Bas" not in text
    assert short_codes.display(bas.short_code) not in text
    (code,) = job_codes(session, started)
    title = session.scalar(select(Document.title).where(Document.code == code))
    assert f"({anna.code}, {cor.code})" in title
