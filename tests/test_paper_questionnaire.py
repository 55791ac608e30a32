"""The paper questionnaire (issue 11, item 4): a grid that fits its page budget, the online consent, a code.

Statements are rows and the answers columns, labelled once in a header row
(never a label broken inside a word); the demo's final questionnaire fits on
four pages; the consent is the start page's own wording with the retention
period and a signature line; printed for one resident, it carries their code.
"""

from __future__ import annotations

import html
import re

import pytest

from surveyhub.services import access, participants
from surveyhub.services import documents as docs
from tests.fixtures.documents import demo, pdf_reader, pdf_text  # noqa: F401 (fixture)
from tests.fixtures.factories import csrf_token

AGREE_SCALE = ["Helemaal niet mee eens", "Niet mee eens", "Niet eens, niet oneens", "Mee eens", "Helemaal mee eens"]
PAGE_BUDGET = 4


@pytest.fixture
def resident(app, session, make_org, make_project, make_user):
    org = make_org()
    project = make_project(org, instruments=("organising", "conversation"), retrospective=True)
    actor = access.Actor(organisation_id=org.id, role="admin")
    [invitation] = participants.add_participants(session, actor, project.slug, entries=[("Anna", None)])
    session.commit()
    return {"project": project, "actor": actor, "invitation": invitation, "worker": make_user("worker", org)}


def _layout(pdf_data: dict):
    """The questionnaire as WeasyPrint lays it out (same template, stylesheet and fonts as the PDF)."""
    from datetime import datetime, timezone

    from weasyprint import HTML

    from surveyhub.rendering import paper
    from surveyhub.rendering.render import RefusingFetcher, get_renderer

    ctx, images = paper.questionnaire_context(pdf_data, code="K7P2-4QX9-MT3R",
                                              issued_at=datetime(2026, 11, 25, tzinfo=timezone.utc))
    renderer = get_renderer()
    return HTML(string=renderer.html("questionnaire.html", ctx), url_fetcher=RefusingFetcher(images.by_uri)).render(
        stylesheets=[renderer.stylesheet("questionnaire.css", "#1f5f8b")], font_config=renderer.font_config)


def _classes(box) -> set[str]:
    element = getattr(box, "element", None)
    return set((element.get("class") or "").split()) if element is not None else set()


def test_the_demos_final_questionnaire_is_a_grid_within_the_page_budget(demo, session):
    issued = docs.questionnaire_pdf(session, demo.actor, demo.slug, "post", lang="nl")
    session.commit()
    pages = len(pdf_reader(issued.pdf).pages)
    assert pages <= PAGE_BUDGET
    text = pdf_text(issued.pdf)
    # Looking back, statements are in the past tense ("Vóór het project kon ik ...": retrospective_text).
    statements = len(re.findall(r"Ik |Als |Voor |Vóór |In een |Ik'", text))
    assert statements >= 30  # the whole questionnaire is there: five skills, now and looking back
    # The five labels head the answer columns, once per grid and sheet, not once per statement.
    assert 1 <= text.count("Helemaal mee eens") <= 2 * pages


def test_each_statement_is_a_row_with_a_box_under_every_answer(app, session, resident):
    from surveyhub.services import document_context as dc

    project = access.project(session, resident["actor"], resident["project"].slug, "project.rows")
    data = dc.questionnaire_data(session, project, "post", "nl")
    document = _layout(data)
    grids = [box for page in document.pages for box in page._page_box.descendants() if "grid" in _classes(box)]
    assert grids
    rows = header_rows = 0
    for grid in grids:
        for row in (box for box in grid.descendants() if type(box).__name__ == "TableRowBox"):
            cells = [cell for cell in row.children if "answer" in _classes(cell)]
            boxes = [b for cell in cells for b in cell.descendants() if "box" in _classes(b)]
            headers = [cell for cell in cells if cell.element_tag == "th"]
            if headers:
                assert [" ".join(text_of(cell).split()) for cell in headers] == AGREE_SCALE
                header_rows += 1
            elif cells:
                assert len(boxes) == len(AGREE_SCALE)
                rows += 1
    n_items = sum(len(page["questions"]) for page in data["pages"]
                  if all(q["kind"] == "choice" and len(q["options"]) == 5 for q in page["questions"]))
    assert rows >= n_items > 0  # (a grid split over two sheets lays its rows out once)
    # Each grid (or its part on a sheet) has one header row with the labels; the statements share it.
    assert header_rows == len(grids) and rows >= 5 * len(grids)


def text_of(box) -> str:
    return " ".join(child.text for child in box.descendants() if type(child).__name__ == "TextBox")


def test_no_answer_label_is_broken_inside_a_word(app, session, resident):
    from surveyhub.services import document_context as dc

    project = access.project(session, resident["actor"], resident["project"].slug, "project.rows")
    document = _layout(dc.questionnaire_data(session, project, "pre", "nl"))
    words = {word for label in AGREE_SCALE for word in label.split()}
    checked = 0
    for page in document.pages:
        for cell in page._page_box.descendants():
            if cell.element_tag == "th" and "answer" in _classes(cell):
                for line in (box for box in cell.descendants() if type(box).__name__ == "TextBox"):
                    assert set(line.text.split()) <= words, line.text  # every piece a whole word
                    checked += 1
    assert checked >= len(AGREE_SCALE)


def test_the_consent_on_paper_is_the_consent_on_screen(client, session, resident):
    start = client.get(f"/q/{resident['invitation'].token}")
    assert start.status_code == 200
    on_screen = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", start.text)).split())
    issued = docs.questionnaire_pdf(session, resident["actor"], resident["project"].slug, "pre", lang="nl")
    session.commit()
    on_paper = pdf_text(issued.pdf)
    sentences = ["Alleen de opbouwwerkers van Buurtwerk Noord zien je antwoorden.",
                 "We bewaren je antwoorden tot 24 maanden na de laatste meting.",
                 "Daarna verwijderen we alles wat over jou gaat.",
                 "Je kiest zelf of je meedoet.",
                 "Ja, ik wil meedoen."]
    for sentence in sentences:
        assert sentence in on_screen and sentence in on_paper, sentence
    assert "Handtekening" in on_paper


def test_printed_for_one_resident_it_carries_their_code(client_for, session, resident):
    slug, code = resident["project"].slug, resident["invitation"].code
    general = docs.questionnaire_pdf(session, resident["actor"], slug, "pre")
    personal = docs.questionnaire_pdf(session, resident["actor"], slug, "pre", participant_code=code)
    session.commit()
    assert code not in pdf_text(general.pdf) and code in pdf_text(personal.pdf)
    assert personal.code != general.code and code in personal.filename

    worker = client_for(resident["worker"].email)
    page = worker.get(f"/projects/{slug}/participants/{code}")
    assert 'name="participant" value="%s"' % code in page.text
    printed = worker.post(f"/projects/{slug}/documents/questionnaire-pre.pdf",
                          data={"csrf_token": csrf_token(page.text), "participant": code})
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    assert code in pdf_text(printed.data)


def test_the_questionnaires_layout_stays_as_reviewed():
    """Page 1 against the reviewed image (tests/reference/paper-questionnaire-p1.png): consent, then the grid."""
    from datetime import datetime, timezone

    from surveyhub.rendering import paper
    from tests.fixtures.images import assert_looks_like, page_png

    statements = ["Ik kan een buurtactiviteit van begin tot eind plannen.",
                  "Ik weet hoe ik een ruimte regel voor een bijeenkomst.",
                  "Als er iets geregeld moet worden, laat ik dat liever aan anderen over.",
                  "Ik kan taken verdelen over de mensen die helpen."]
    page = {"title": "Plannen en organiseren", "then": False, "lead_in": "",
            "questions": [{"kind": "choice", "text": text, "help": "", "options": AGREE_SCALE} for text in statements]}
    data = {"lang": "nl", "wave": "post", "project": {"name": "Speeltuin De Vlinder", "slug": "speeltuin"},
            "organisation": {"name": "Buurtwerk Noord", "brand_colour": "#1f5f8b"}, "resident_code": "R-4K7P2",
            "pages": [page, {**page, "then": True, "lead_in": "Denk terug aan de tijd vóór het project."}],
            "consent": {"facts": ["Alleen de opbouwwerkers van Buurtwerk Noord zien je antwoorden.",
                                  "We bewaren je antwoorden tot 24 maanden na de laatste meting.",
                                  "Je kiest zelf of je meedoet."],
                        "agree": "Ja, ik wil meedoen.", "share_quotes": "Wat ik zelf opschrijf, mag in het verslag."}}
    pdf = paper.render_questionnaire(data, code="K7P2-4QX9-MT3R", issued_at=datetime(2026, 11, 25, tzinfo=timezone.utc))
    assert_looks_like(page_png(pdf), "paper-questionnaire-p1.png")


def test_a_grid_runs_on_while_the_answers_stay_the_same():
    from surveyhub.rendering.paper import paper_parts

    def choice(text, options=AGREE_SCALE):
        return {"kind": "choice", "text": text, "help": "", "options": options}

    def page(title, *questions, then=False):
        return {"title": title, "then": then, "lead_in": "", "questions": list(questions)}

    four = ["Nooit", "Soms", "Vaak", "Altijd"]
    eleven = [str(n) for n in range(11)]
    parts = paper_parts([
        page("Plannen", choice("a"), choice("b")),
        page("Plannen", choice("c"), then=True),           # same scale: the same grid goes on
        page("Praten", choice("d", four), choice("e", four)),  # another scale: a new grid
        page("Netwerk", choice("f", four), {"kind": "text", "text": "g", "help": ""}, choice("h", eleven),
             choice("i", four)),
    ])
    shape = [(p["kind"], [(r["kind"], r.get("text") or r.get("title"), r["number"]) for r in p.get("rows", [])])
             if p["kind"] == "grid" else (p["kind"], (p.get("item") or p)["number"]) for p in parts]
    assert shape == [
        ("grid", [("heading", "Plannen", 1), ("statement", "a", 1), ("statement", "b", 2),
                  ("heading", "Plannen", 2), ("statement", "c", 1)]),
        ("grid", [("heading", "Praten", 3), ("statement", "d", 1), ("statement", "e", 2),
                  ("heading", "Netwerk", 4), ("statement", "f", 1)]),
        ("single", 2),   # a written answer stands alone ...
        ("single", 3),   # ... and so does a scale too long for a grid
        ("grid", [("statement", "i", 4)]),
    ]
