"""A full certificate still shows every line: words that would run past the foot of their box.

The middle of a certificate is a box of fixed height, so that the signature and the check always
sit on the page; a resident with a role, activities, chairing, three outputs and a closing text
used to lose the line "Je groeide het meest in ..." below it, cut off unseen (7 of the demo's 31
certificates). ``rendering.certificate.fit`` sets such a page smaller, then names fewer outputs.
Read back with the text's position on the page (``pdftotext -bbox``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date

import pytest

from surveyhub.rendering import certificate
from tests.fixtures.documents import pdf_reader
from tests.test_certificate_words import item, scale
from tests.test_documents_render import ISSUED, cert_data

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")

OUTPUTS = [{"date": date(2026, 4, 18), "description": "Ontwerp gekozen met de kinderen van De Vlinder"},
           {"date": date(2026, 5, 12), "description": "Speeltuin geopend met de hele straat en de school"},
           {"date": date(2026, 9, 20), "description": "Onderhoudsploeg van zes bewoners gestart"}]


def full(orientation: str, **changes) -> dict:
    """Everything a certificate can say at once."""
    grown = [scale("Samenwerken", [item("samenwerken met mensen die anders denken", 0.25, 1.0),
                                   item("samen met de groep een oplossing zoeken", 0.5, 1.0)], grew=True,
                   start=2.4, now=3.9),
             scale("Netwerk in de buurt", [item("mensen uit de buurt met elkaar in contact brengen", 0.25, 1.0)],
                   grew=True, start=2.0, now=4.1)]
    data = cert_data(
        scales=grown, outputs=OUTPUTS,
        participant={"display_name": "Henk", "code": "R-TGL4Y", "role": "leidde de bouwploeg op zaterdag"},
        activities={"count": 9, "hours": 30, "organised": 3, "chaired": 2},
        organisation={"name": "Buurtwerk Noord", "brand_colour": "#1f5f8b", "logo": None, "logo_type": None,
                      "orientation": orientation, "contact": "030 123 45 67 · info@buurtwerk.example.org",
                      "closing_text": "Dank je wel voor alles wat je voor de buurt hebt gedaan."})
    data.update(changes)
    return data


def words_with_positions(pdf: bytes, tmp_path) -> list[tuple[str, float]]:
    """Every word on the first page with the top of its box, in points from the top."""
    (tmp_path / "c.pdf").write_bytes(pdf)
    html = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(tmp_path / "c.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    return [(word, float(y)) for y, word in re.findall(r'<word xMin="[^"]+" yMin="([^"]+)"[^>]*>([^<]*)</word>',
                                                       html)]


def top_of(words, *sequence: str) -> float:
    """Where the words of ``sequence`` stand together on the page (their first word's top)."""
    texts = [word for word, _ in words]
    for start in range(len(texts) - len(sequence) + 1):
        if texts[start:start + len(sequence)] == list(sequence):
            return words[start][1]
    raise AssertionError(f"{' '.join(sequence)!r} is not on the page")


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_every_line_of_a_full_certificate_stands_above_the_signature(orientation, tmp_path):
    pdf = certificate.render(full(orientation), code="K7P2-4QX9-MT3R", issued_at=ISSUED,
                             verify_url="http://surveyhub.test/verify/K7P2-4QX9-MT3R", sections=[])
    words = words_with_positions(pdf, tmp_path)
    signed = top_of(words, "Uitgereikt", "op")

    for line in (("Henk", "kan", "nu"), ("Henk", "deed", "mee", "aan", "9"), ("Henk", "was", "2", "keer"),
                 ("Leidde", "de", "bouwploeg"), ("Je", "groeide", "het", "meest"), ("Dank", "je", "wel")):
        assert top_of(words, *line) < signed, f"{' '.join(line)} runs into the signature"
    assert len(pdf_reader(pdf).pages) == 1


def test_a_certificate_that_fits_is_laid_out_as_before():
    """The usual certificate is not set smaller: fit finds nothing to tighten."""
    from weasyprint import HTML

    from surveyhub.rendering.render import RefusingFetcher, get_renderer

    short = cert_data(participant={"display_name": "Fatima", "code": "R-4K7P2", "role": None}, outputs=[])
    ctx, images = certificate.context(short, code="K7P2-4QX9-MT3R", issued_at=ISSUED,
                                      verify_url="http://surveyhub.test/verify/K7P2-4QX9-MT3R", sections=[])
    renderer = get_renderer()
    document = HTML(string=renderer.html(certificate.TEMPLATE, ctx),
                    url_fetcher=RefusingFetcher(images.by_uri)).render(
        font_config=renderer.font_config, stylesheets=[renderer.stylesheet("certificate.css", ctx["brand"])])
    assert certificate.fit(document, ctx) is None

    crowded, images = certificate.context(full("landscape"), code="K7P2-4QX9-MT3R", issued_at=ISSUED,
                                          verify_url="http://surveyhub.test/verify/K7P2-4QX9-MT3R", sections=[])
    document = HTML(string=renderer.html(certificate.TEMPLATE, crowded),
                    url_fetcher=RefusingFetcher(images.by_uri)).render(
        font_config=renderer.font_config, stylesheets=[renderer.stylesheet("certificate.css", crowded["brand"])])
    tighter = certificate.fit(document, crowded)
    assert tighter is not None and tighter["pages"][0]["dense"] is True
    assert tighter["pages"][0]["did"]["together"] == crowded["pages"][0]["did"]["together"]  # smaller first
