"""The document engine without a database: formats, codes, the sandbox, the URL fetcher, determinism."""

from __future__ import annotations

import io

from datetime import date, datetime, timezone

import pytest

from surveyhub.rendering import certificate, formatting, render, verify
from surveyhub.rendering.render import Images, RefusingFetcher, logo_kind, org_text
from tests.fixtures.documents import fetch_log, pdf_reader, pdf_text  # noqa: F401 (fixture)

ISSUED = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


def cert_data(**changes) -> dict:
    data = {
        "kind": "certificate", "lang": "nl",
        "participant": {"display_name": "Fatima", "code": "R-4K7P2"},
        "project": {"name": "Speeltuin De Vlinder", "slug": "speeltuin"},
        "organisation": {"name": "Buurtwerk Noord", "brand_colour": "#c0392b", "closing_text": None,
                         "logo": None, "logo_type": None},
        "scales": [
            {"title": "Plannen en organiseren", "start": 2.4, "now": 3.6, "low": 1, "high": 5, "grew": True,
             "level_start": "Op weg", "level_now": "Goed bezig", "higher_is_better": True},
            {"title": "Samenwerken", "start": 3.9, "now": 3.1, "low": 1, "high": 5, "grew": False,
             "level_start": "Sterk", "level_now": "Goed bezig", "higher_is_better": True},
        ],
        "issuer_name": None, "personal_line": None,
    }
    data.update(changes)
    return data


def render_cert(data=None, code="K7P2-4QX9-MT3R") -> bytes:
    return certificate.render(data or cert_data(), code=code, issued_at=ISSUED,
                              verify_url=f"http://surveyhub.test/verify/{code}", sections=[])


# --- formats ---------------------------------------------------------------------------------------

def test_dutch_numbers_use_a_decimal_comma_and_dates_read_as_words():
    assert formatting.number(3.6, 1) == "3,6"
    assert formatting.number(3.6, 1, "en") == "3.6"
    assert formatting.number(-0.001, 2) == "0,00"  # never "-0,00"
    assert formatting.interval([0.5231, 1.4769]) == "0,52 tot 1,48"
    assert formatting.p_value(0.0005) == "< 0,001"
    assert formatting.percent(0.8667) == "87%"
    assert formatting.count("<5") == "<5"
    assert formatting.long_date(date(2026, 11, 25)) == "25 november 2026"
    assert formatting.long_date(date(2026, 11, 25), "en") == "25 November 2026"
    # 23:30 UTC on 25 November is already the 26th in the Netherlands.
    assert formatting.long_date(datetime(2026, 11, 25, 23, 30, tzinfo=timezone.utc)) == "26 november 2026"


# --- codes -----------------------------------------------------------------------------------------

def test_codes_are_random_readable_and_typed_forgivingly():
    first, second = verify.new_code(), verify.new_code()
    assert first != second and len(first) == 14 and first.count("-") == 2
    assert not set(first.replace("-", "")) & set("01IO")
    assert verify.normalise_code(" k7p2 4qx9-mt3r ") == "K7P2-4QX9-MT3R"
    assert verify.normalise_code("K7P2-4QX9-MT3") is None
    assert verify.normalise_code("O0O0-4QX9-MT3R") is None


def test_the_code_is_found_in_the_pdf_even_when_the_file_is_damaged():
    pdf = render_cert(code="K7P2-4QX9-MT3R")
    assert verify.find_code(pdf) == "K7P2-4QX9-MT3R"
    damaged = bytearray(pdf)
    damaged[len(pdf) // 2] ^= 0xFF
    assert verify.find_code(bytes(damaged)) == "K7P2-4QX9-MT3R"
    assert verify.find_code(b"%PDF-1.7\nnothing here\n%%EOF") is None


# --- the sandbox for organisation texts --------------------------------------------------------------

def test_organisation_text_fills_placeholders_and_nothing_else():
    values = {"naam": "Fatima", "project": "Speeltuin"}
    assert org_text("Goed gedaan, {{ naam }}!", values) == "Goed gedaan, Fatima!"
    attack = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    assert org_text(attack, values) == attack  # shown as typed, never evaluated
    loop = "{% for a in range(99999) %}{% for b in range(99999) %}x{% endfor %}{% endfor %}"
    assert org_text(loop, values) == loop
    assert org_text("{{ naam", values) == "{{ naam"  # a syntax error: as typed
    assert org_text("{{ naam|upper }}", values) == "{{ naam|upper }}"
    assert len(org_text("x" * 50_000, values)) == render.ORG_TEXT_LIMIT


# --- the URL fetcher --------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://169.254.169.254/latest/meta-data/",
                                 "https://example.org/logo.png", "ftp://example.org/x", "data:image/png;base64,AAAA",
                                 "surveyhub-font:../../secret"])
def test_the_fetcher_refuses_anything_it_did_not_produce(url):
    fetcher = RefusingFetcher(fonts=True)
    with pytest.raises(ValueError):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_the_fetcher_serves_its_own_images_and_fonts():
    images = Images()
    uri = images.add(b"\x89PNG\r\n\x1a\nfake", "image/png")
    fetcher = RefusingFetcher(images.by_uri, fonts=True)
    assert fetcher.fetch(uri).read() == b"\x89PNG\r\n\x1a\nfake"
    assert fetcher.fetch("surveyhub-font:DejaVuSans.ttf").read()[:4] == b"\x00\x01\x00\x00"
    assert fetcher.refused == []


def test_a_logo_is_used_only_when_its_bytes_are_the_image_it_claims():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(out, format="PNG")
    png = out.getvalue()
    assert logo_kind(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "image/png") is None  # only the magic bytes
    assert logo_kind(png, "image/png") == "image/png"
    assert logo_kind(png, "image/svg+xml") is None
    assert logo_kind(b"<html>", "image/png") is None
    assert logo_kind(b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', "image/svg+xml") == "image/svg+xml"
    outside = b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>'
    assert logo_kind(outside, "image/svg+xml") is None
    assert logo_kind(b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024), "image/png") is None


# --- rendering --------------------------------------------------------------------------------------

def test_the_same_data_code_and_date_give_the_same_bytes():
    assert render_cert() == render_cert()
    assert render_cert() != render_cert(cert_data(personal_line="Dank je wel!"))


def test_a_pdf_is_pdf_ua_with_title_and_language(fetch_log, caplog):
    reader = pdf_reader(render_cert())
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "nl"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert reader.metadata.title == "Certificaat voor Fatima — Speeltuin De Vlinder"
    assert b"pdfuaid" in root["/Metadata"].get_object().get_data()
    assert fetch_log.forbidden() == []
    assert not [r for r in caplog.records if r.name.startswith("weasyprint") and r.levelname == "ERROR"]


def test_a_skill_that_went_down_is_not_shown_and_no_level_word_is():
    # Neither scale has can-do wording (as a plugin's instrument may not): the grown skill is named.
    text = pdf_text(render_cert())
    assert "Fatima groeide in Plannen en organiseren." in text
    assert "Je groeide het meest in Plannen en organiseren." in text
    assert "Samenwerken" not in text  # it went down: not named at all, so no decline can be read
    for level in ("Op weg", "Goed bezig", "Sterk"):  # no level word, not even the higher one at the start
        assert level.casefold() not in text.casefold()


def test_only_a_plain_hex_colour_reaches_the_stylesheet():
    from surveyhub.rendering.svg import DEFAULT_COLOUR, safe_colour

    assert safe_colour("#C0392B") == "#c0392b"
    for absurd in ("red;} body { display: none }", "url(http://169.254.169.254/)", "#12345", None, 0x1F5F8B,
                   "#1f5f8b; background: url(x)"):
        assert safe_colour(absurd) == DEFAULT_COLOUR


@pytest.mark.parametrize("base_url", ["http://surveyhub.test", "https://enquete.samenlevingsopbouw-amsterdam-noord.nl"])
def test_a_printed_personal_link_never_breaks_inside_its_token(base_url):
    from surveyhub.rendering import paper

    # Tokens that start with a hyphen or underscore (both occur in URL-safe tokens) gave the line breaker a spot.
    tokens = ["-5lUjj4OMoGVqZz7JgWzvKbCKX4h8dFs", "_aB-cD_eF-gH_iJ-kL_mN-oP_qR-sT_uV", "Zz" * 16]
    data = {"lang": "nl", "project": {"name": "Speeltuin De Vlinder", "slug": "speeltuin"},
            "organisation": {"name": "Buurtwerk Noord", "brand_colour": "#c0392b"},
            "residents": [{"name": f"Bewoner {n}", "code": f"R-{n:05d}", "link": f"{base_url}/q/{token}"}
                          for n, token in enumerate(tokens)]}
    pdf = paper.render_sheet(data, code="K7P2-4QX9-MT3R", issued_at=ISSUED)
    text = pdf_text(pdf)
    for token in tokens:
        assert token in text
    assert text.count("/q/") == len(tokens)
