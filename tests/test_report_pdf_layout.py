"""The impact report read back as a funder reads it: page 1, page 2, every page full enough, honest words.

The demo project gets a story first (funder, period, outputs with a photo,
meetings, volunteer hours, recommendations), as a worker records it through
``services.project_story``. Every figure checked here is the report JSON's.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone

import pytest

from surveyhub.plugins import get_registry
from surveyhub.rendering import formatting as fmt
from surveyhub.rendering import texts
from surveyhub.services import documents as docs
from surveyhub.services import outcomes, project_story
from tests.fixtures.documents import BASE_URL, demo, pdf_reader, pdf_text  # noqa: F401 (fixture)
from tests.fixtures.images import assert_looks_like, page_png

#: Words no generated sentence may use: causal claims (there is no comparison group), "still",
#: claims nobody can make about privacy, and reliable change described as chance.
FORBIDDEN = {
    "nl": ("dankzij", "heeft geleid tot", "leidde tot", "nog steeds", "niemand herkenbaar",
           "niemand kan worden herkend", "groter dan toeval", "opgeleverd", "door het project komt"),
    "en": ("thanks to", "led to", "brought residents", "still ", "nobody can be recognised",
           "larger than chance", "caused by", "because of the project"),
}
#: A page (but the last) must be at least this full, measured as the lowest inked row of its body.
MIN_FILL = 1 / 3


def photo_jpeg() -> bytes:
    """A small photo-like JPEG: sky, grass and a red climbing frame."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 500), (150, 200, 235))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 330, 800, 500], fill=(90, 160, 70))
    draw.rectangle([260, 160, 560, 180], fill=(200, 50, 40))
    for x in (270, 540):
        draw.rectangle([x, 160, x + 16, 380], fill=(200, 50, 40))
    draw.ellipse([620, 40, 720, 140], fill=(250, 210, 60))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def tell_the_story(session, demo_project) -> None:
    """The demo project's story, as a worker fills it in on "Verhaal voor het rapport"."""
    actor, slug = demo_project.actor, demo_project.slug
    project_story.update_story(session, actor, slug, funder_name="Gemeente Utrecht – Initiatievenfonds",
                               period_start="2026-02-01", period_end="2026-10-31", meetings_held=14,
                               volunteer_hours=320,
                               recommendations="Ga door met de bouwploeg: bewoners willen het onderhoud zelf "
                                               "regelen.\nBetrek de school bij de opening van het tweede deel.")
    for day, line, photo in (("2026-03-04", "Eerste bewonersavond: 40 buren denken mee", None),
                             ("2026-04-18", "Ontwerp gekozen met de kinderen van De Vlinder", None),
                             ("2026-05-12", "Speeltuin geopend", photo_jpeg()),
                             ("2026-09-20", "Onderhoudsploeg van zes bewoners gestart", None)):
        project_story.add_output(session, actor, slug, day, line, photo=photo)
    session.commit()


def issue(app, session, d, **kwargs):
    report = outcomes.project_report(session, get_registry(app), d.actor, d.slug)
    issued = docs.issue_report(session, get_registry(app), d.actor, d.slug, base_url=BASE_URL, report=report,
                               **kwargs)
    session.commit()
    return report, issued


@pytest.fixture
def storied(app, session, demo):  # noqa: F811 (fixture)
    tell_the_story(session, demo)
    return demo


def page_texts(pdf: bytes) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in pdf_reader(pdf).pages]


def test_page_one_shows_the_headline_figures_of_the_json(app, session, storied):
    report, issued = issue(app, session, storied)
    first = page_texts(issued.pdf)[0]
    part = report["participation"]
    assert "Speeltuin De Vlinder" in first and "Buurtwerk Demo" in first
    assert "1 februari 2026 tot 31 oktober 2026" in first
    assert "Financier: Gemeente Utrecht – Initiatievenfonds" in first
    # A big figure and its label are two blocks: the text layer may join them without a space.
    for value, label in ((part["invited"], "bewoners uitgenodigd"), (part["pre"], "deden mee aan de start"),
                         (part["post"], "deden mee aan het eind")):
        assert re.search(rf"(^| ){value} ?{label}", first), (value, label)
    # The share who clearly improved, on the skill with the largest shown share, with its Wilson interval.
    shown = [e for e in report["scales"] if e["rci"]["improved_share"] is not None]
    best = max(shown, key=lambda e: e["rci"]["improved_share"])
    lo, hi = best["rci"]["improved_ci95"]
    share = re.escape(fmt.percent(best["rci"]["improved_share"]))
    assert re.search(rf"{share} ?ging duidelijk vooruit in {best['title']['nl'].lower()}", first)
    assert f"95%-interval {fmt.percent(lo)} tot {fmt.percent(hi)}, van {best['n_pairs']} bewoners" in first
    assert report["quotes"][0]["text"] in first
    assert f"Code: {issued.code}" in first


def test_page_two_says_what_the_project_did_beside_the_results(app, session, storied):
    report, issued = issue(app, session, storied)
    second = page_texts(issued.pdf)[1]
    assert "Wat het project deed" in second and "De uitkomsten in het kort" in second
    assert "14 bijeenkomsten met bewoners" in second and "320 uur vrijwilligerswerk door bewoners" in second
    assert "12 mei 2026 Speeltuin geopend" in second
    assert f"{report['participation']['paired']} bewoners vulden de vragenlijst in bij de start én aan het eind." \
        in second
    for entry in report["scales"]:
        assert f"{entry['title']['nl']}: gemiddeld hoger ({fmt.number(entry['pre']['mean'], 1)} → " \
               f"{fmt.number(entry['post']['mean'], 1)})" in second
    text = pdf_text(issued.pdf)
    assert "Ga door met de bouwploeg" in text.split("Aanbevelingen", 1)[1]


def _fill(png: bytes) -> float:
    """How far down the page body the lowest inked row lies, as a share of the body (footer left out)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    width, height = image.size
    top, bottom = round(height * 20 / 297), round(height * (297 - 22) / 297)  # the page margins
    pixels = image.load()
    for y in range(bottom - 1, top, -1):
        if any(pixels[x, y] < 200 for x in range(width)):
            return (y - top) / (bottom - top)
    return 0.0


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_no_page_but_the_last_is_nearly_empty(app, session, storied, lang):
    _report, issued = issue(app, session, storied, lang=lang)
    pages = len(pdf_reader(issued.pdf).pages)
    fills = [_fill(page_png(issued.pdf, page, dpi=30)) for page in range(1, pages)]
    assert all(fill >= MIN_FILL for fill in fills), fills
    assert pages <= 13, pages  # the demo: 16 pages before the rebuild, 11 after; 13 with "what seems to work" (issue 14)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_no_generated_sentence_overclaims(app, session, storied, lang):
    from surveyhub.rendering import report_words

    report, issued = issue(app, session, storied, lang=lang)
    text = pdf_text(issued.pdf).lower()
    words = " ".join(str(value) for value in texts.REPORT[lang].values()).lower()
    for forbidden in FORBIDDEN[lang]:
        assert forbidden not in text, forbidden
        assert forbidden not in words, forbidden
    # The look-back is self-perceived change in its own words, never "clearly improved" or "grew".
    assert report["retrospective"]
    for entry in report["retrospective"]:
        line = report_words.retro_line(entry, lang, texts.REPORT[lang])
        assert line.lower().split(".", 1)[0] in text  # its first sentence (a line may cross a page break)
        assert ("zelf ervaren verandering" if lang == "nl" else "self-perceived change") in line.lower()
        for claim in (("vooruit", "gegroeid", "duidelijk") if lang == "nl" else ("improved", "grew", "clearly")):
            assert claim not in line.lower(), line
    # One name per category everywhere.
    for other in (("betrouwbaar vooruit", "geen betrouwbare verandering", "betrouwbaar achteruit",
                   "duidelijk omlaag") if lang == "nl" else
                  ("reliably improved", "no reliable change", "reliably deteriorated", "clearly went down")):
        assert other not in text, other


def test_suppressed_counts_are_drawn_as_marked_bars():
    from surveyhub.rendering import charts

    svg = charts.reliable_change_bars([{"label": "Samenwerken", "improved": "≥5", "unchanged": 17,
                                        "deteriorated": "<5"}], title="RC", lang="nl")
    bars = [part for part in svg.split("<rect")[1:] if 'stroke-dasharray="4 2"' in part]
    assert len(bars) == 3  # "≥5", "<5" and the legend's sample: outlined, hatched, never no bar
    assert svg.count("<line") >= 6  # the hatching
    assert "gearceerd: kleine groep, precies aantal niet getoond" in svg
    for part in bars[:2]:
        width = float(part.split('width="', 1)[1].split('"', 1)[0])
        assert width > 20  # up to the threshold 5 on a scale where 17 is the longest bar


def test_page_one_looks_like_its_reference(app, session, storied, monkeypatch):
    """The cover's layout, held by a reference image (fixed code and date, so the QR code is the same)."""
    from surveyhub.rendering import verify

    monkeypatch.setattr(verify, "new_code", lambda: "K7P2-4QX9-MT3R")
    monkeypatch.setattr(docs, "_now", lambda: datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc))
    _report, issued = issue(app, session, storied)
    assert_looks_like(page_png(issued.pdf, 1), "report-page-1.png")


def test_the_named_main_skill_leads_page_one_and_keeps_its_own_p(app, session, storied):
    project_story.update_story(session, storied.actor, storied.slug, primary_scale="cooperation/cooperation")
    session.commit()
    report, issued = issue(app, session, storied)
    main = next(e for e in report["scales"] if e["primary"])
    assert main["scale"] == "cooperation" and main["rci"]["improved_share"] is not None
    first = page_texts(issued.pdf)[0]
    assert re.search(rf"{re.escape(fmt.percent(main['rci']['improved_share']))} ?ging duidelijk vooruit in "
                     "samenwerken", first)
    text = pdf_text(issued.pdf)
    assert "Samenwerken (hoofdvaardigheid van het project)" in text
    assert "Het project noemde Samenwerken als hoofdvaardigheid" in text
    assert fmt.p_value(main["test"]["p_holm"]) in text.split("p-waarde (Holm)", 1)[1]


def test_one_chart_and_the_tables_hold_ten_skills(app, session, demo):  # noqa: F811 (fixture)
    from surveyhub.rendering import charts, report_appendix

    report = outcomes.project_report(session, get_registry(app), demo.actor, demo.slug)
    ten = [dict(entry, title={"nl": f"Vaardigheid {i + 1}", "en": f"Skill {i + 1}"})
           for i, entry in enumerate(report["scales"] * 2)]
    svg = charts.change_dumbbell(charts.change_rows(ten, "nl"), title="Alle vaardigheden", lang="nl")
    height = float(svg.split('viewBox="0 0 640 ', 1)[1].split('"', 1)[0])
    assert all(f">Vaardigheid {i}<" in svg for i in range(1, 11))
    assert height <= 640  # printed 160 mm wide, ten skills stay within one A4 page
    sizes = [int(size) for size in re.findall(r'font-size="(\d+)"', svg)]
    assert min(sizes) >= 12  # 8.5 pt at 160 mm
    tables = report_appendix._tables("T", ten, "row_pre", report["thresholds"], "nl", texts.REPORT["nl"])
    assert [len(table["skills"]) for table in tables] == [5, 5]
    assert all(row["words"] for table in tables for row in table["rows"])  # every row has its line of words
