"""Is this document genuine? The service, ``surveyhub verify FILE`` and the public ``/verify`` page.

genuine file → genuine; one changed byte → altered; a stranger's PDF →
unknown; a revoked document → revoked. Only genuine exits 0.
"""

from __future__ import annotations

import io

import pytest

from surveyhub.services import access
from surveyhub.services import documents as docs
from surveyhub.services.errors import ServiceError
from tests.fixtures.documents import BASE_URL, demo, pdf_text  # noqa: F401 (fixture)
from tests.fixtures.factories import csrf_token


@pytest.fixture
def issued(session, demo):
    resident = next(c for c in docs.certificate_candidates(session, demo.actor, demo.slug) if c.kind == "certificate")
    document = docs.issue_resident_document(session, demo.actor, demo.slug, resident.code, base_url=BASE_URL)
    session.commit()
    return document


def _changed(pdf: bytes, where: float = 0.5) -> bytes:
    data = bytearray(pdf)
    data[int(len(data) * where)] ^= 0x01
    return bytes(data)


def _stranger_pdf() -> bytes:
    from weasyprint import HTML
    return HTML(string="<h1>Certificaat</h1><p>Echt waar.</p>").write_pdf()


def _revoke(session, demo, code):
    docs.revoke(session, access.Actor(demo.org_id, "admin"), code, "Issued to the wrong resident")
    session.commit()


def test_the_service_tells_genuine_altered_unknown_and_revoked(session, demo, issued):
    genuine = docs.verify_file(session, issued.pdf)
    assert genuine.status == "genuine" and genuine.document.code == issued.code
    assert genuine.document.organisation == "Buurtwerk Demo" and genuine.document.project == "Speeltuin De Vlinder"
    for where in (0.1, 0.5, 0.9):  # a byte in the content, a font, the end
        altered = docs.verify_file(session, _changed(issued.pdf, where))
        assert altered.status == "altered" and altered.document.code == issued.code
    assert docs.verify_file(session, _stranger_pdf()).status == "unknown"
    assert docs.verify_file(session, b"not a pdf at all").status == "unknown"
    assert docs.verify_code(session, issued.code.lower().replace("-", " ")).status == "genuine"
    assert docs.verify_code(session, "ZZZZ-ZZZZ-ZZZZ").status == "unknown"
    assert docs.verify_code(session, "<script>").status == "unknown"

    _revoke(session, demo, issued.code)
    assert docs.verify_file(session, issued.pdf).status == "revoked"
    assert docs.verify_code(session, issued.code).document.revoked_reason == "Issued to the wrong resident"
    assert docs.verify_file(session, _changed(issued.pdf)).status == "altered"


def test_revoking_needs_an_admin_of_the_same_organisation(session, demo, issued, make_org):
    with pytest.raises(ServiceError):
        docs.revoke(session, access.Actor(demo.org_id, "worker"), issued.code, "no")
    other = make_org("Welzijn Zuid")
    with pytest.raises(ServiceError):
        docs.revoke(session, access.Actor(other.id, "admin"), issued.code, "no")
    with pytest.raises(ServiceError):
        docs.revoke(session, access.Actor(demo.org_id, "admin"), issued.code, "   ")
    session.rollback()
    assert docs.verify_code(session, issued.code).status == "genuine"


def test_cli_verify_exits_zero_only_for_a_genuine_file(runner, session, demo, issued, tmp_path):
    files = {"genuine": issued.pdf, "altered": _changed(issued.pdf), "unknown": _stranger_pdf()}
    session.rollback()
    for status, data in files.items():
        path = tmp_path / f"{status}.pdf"
        path.write_bytes(data)
        result = runner.invoke(args=["verify", str(path)])
        assert result.output.startswith(f"{status}:"), result.output
        assert result.exit_code == {"genuine": 0, "altered": 3, "unknown": 5}[status]
    assert issued.code in runner.invoke(args=["verify", str(tmp_path / "genuine.pdf")]).output

    _revoke(session, demo, issued.code)
    result = runner.invoke(args=["verify", str(tmp_path / "genuine.pdf")])
    assert result.exit_code == 4 and result.output.startswith("revoked:") and "wrong resident" in result.output

    missing = runner.invoke(args=["verify", str(tmp_path / "missing.pdf")])
    assert missing.exit_code != 0 and "Traceback" not in missing.output


def test_the_qr_code_leads_to_the_check_page(client, issued):
    page = client.get(f"/verify/{issued.code}")
    assert page.status_code == 200
    assert 'data-status="genuine"' in page.text and issued.code in page.text and "Buurtwerk Demo" in page.text
    assert 'data-status="unknown"' in client.get("/verify/ZZZZ-ZZZZ-ZZZZ").text
    typed = client.get("/verify", query_string={"code": issued.code.lower()})
    assert 'data-status="genuine"' in typed.text


def test_the_check_page_gives_the_date_in_words(client, issued):
    """A funder on a Dutch page reads "30 november 2026", not 2026-11-30."""
    from surveyhub.rendering.formatting import long_date

    page = client.get(f"/verify/{issued.code}").text
    assert long_date(issued.issued_at, "nl") in page
    assert issued.issued_at.strftime("%Y-%m-%d") not in page


def test_uploading_the_pdf_checks_that_it_is_unaltered(client, session, demo, issued):
    def upload(data: bytes):
        form = client.get("/verify")
        return client.post("/verify", data={"csrf_token": csrf_token(form.text),
                                            "file": (io.BytesIO(data), "certificaat.pdf")},
                           content_type="multipart/form-data")

    assert 'data-status="genuine"' in upload(issued.pdf).text
    assert 'data-status="altered"' in upload(_changed(issued.pdf)).text
    assert 'data-status="unknown"' in upload(_stranger_pdf()).text
    _revoke(session, demo, issued.code)
    revoked = upload(issued.pdf).text
    assert 'data-status="revoked"' in revoked and "Issued to the wrong resident" in revoked


def test_the_check_page_escapes_what_it_shows(client, session, demo, issued):
    docs.revoke(session, access.Actor(demo.org_id, "admin"), issued.code, '<script>alert("x")</script>')
    session.commit()
    page = client.get(f"/verify/{issued.code}").text
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;alert(" in page
    hostile = client.get('/verify/"><img src=x onerror=alert(1)>').text
    assert "<img src=x" not in hostile


@pytest.fixture
def app_config(app_config):
    return {**app_config, "VERIFY_RATE_LIMIT": "20 per minute"}


def test_the_check_page_is_rate_limited(client, issued):
    statuses = [client.get(f"/verify/{issued.code}").status_code for _ in range(21)]
    assert statuses[:20] == [200] * 20 and statuses[20] == 429
    assert client.get("/verify", query_string={"code": issued.code}).status_code == 429


def test_each_verdict_has_its_own_colour_icon_and_word(client, session, demo, issued):
    """Valid, changed, revoked, unknown: a funder tells them apart at a glance, not only by reading."""
    import re

    def verdict(page: str) -> tuple[str, str, str]:
        box = re.search(r'<div class="verify-result (verify-\w+)".*?<svg class="verify-icon".*?<path d="([^"]+)"'
                        r'.*?<h2>([^<]+)</h2>', page, re.S)
        assert box, page
        title = re.search(r"<title>([^<]+)</title>", page).group(1)
        assert title.startswith(box.group(3))  # the tab says the verdict too, in words
        return box.group(1), box.group(2), box.group(3)

    def upload(data: bytes) -> str:
        form = client.get("/verify")
        return client.post("/verify", data={"csrf_token": csrf_token(form.text),
                                            "file": (io.BytesIO(data), "certificaat.pdf")},
                           content_type="multipart/form-data").text

    found = {"genuine": verdict(client.get(f"/verify/{issued.code}").text),
             "altered": verdict(upload(_changed(issued.pdf))),
             "unknown": verdict(client.get("/verify/ZZZZ-ZZZZ-ZZZZ").text)}
    _revoke(session, demo, issued.code)
    found["revoked"] = verdict(client.get(f"/verify/{issued.code}").text)
    assert {status: word for status, (_cls, _icon, word) in found.items()} == {
        "genuine": "Echt", "altered": "Veranderd", "unknown": "Onbekend", "revoked": "Ingetrokken"}
    assert {cls for cls, _icon, _word in found.values()} == {f"verify-{s}" for s in found}
    assert len({icon for _cls, icon, _word in found.values()}) == 4  # four different icons


def test_every_page_has_the_favicon(client):
    """Staff, public and error pages link the brand's SVG icon; /favicon.ico answers for the rest."""
    for url in ("/login", "/verify", "/verify/ZZZZ-ZZZZ-ZZZZ", "/q/not-a-link"):
        page = client.get(url).text
        assert 'rel="icon" href="/favicon.svg" type="image/svg+xml"' in page, url
    with client.get("/favicon.svg") as svg:  # from memory: a dropped request leaves no file open
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"#1f5f8b" in svg.data
    with client.get("/favicon.ico") as ico:
        assert ico.status_code == 200 and ico.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
