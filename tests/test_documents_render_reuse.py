"""What the renderer reuses between documents, and the QR image it writes itself."""

from __future__ import annotations

import io

import segno
from PIL import Image

from surveyhub.rendering.render import Renderer, qr_png


def test_the_qr_png_has_exactly_the_pixels_of_segnos_own():
    for url in ("http://surveyhub.test/verify/K7P2-4QX9-MT3R", "https://example.org/verify/ABCD-EFGH-JKLM?x=1"):
        code = segno.make(url, error="m", mask=0)
        theirs = io.BytesIO()
        code.save(theirs, kind="png", scale=1, border=2)
        expected = Image.open(io.BytesIO(theirs.getvalue())).convert("L")
        ours = Image.open(io.BytesIO(qr_png(code.matrix)))
        assert ours.mode == "L" and ours.size == expected.size
        assert ours.tobytes() == expected.tobytes()


def test_a_stylesheet_is_parsed_once_per_brand_colour_with_the_colour_written_in(tmp_path):
    (tmp_path / "x.css").write_text("h1 { color: var(--brand); }", encoding="utf-8")
    renderer = Renderer(tmp_path)
    red, blue = renderer.stylesheet("x.css", "#aa0000"), renderer.stylesheet("x.css", "#0000aa")
    assert renderer.stylesheet("x.css", "#aa0000") is red and red is not blue
    assert renderer.stylesheet("x.css") is renderer.stylesheet("x.css")  # without a colour: as written
    # That the colour reaches the page is checked on real certificates (test_documents_certificate,
    # test_documents_hostile: the brand colour, or the default for a hostile one, is printed).
