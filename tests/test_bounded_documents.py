"""Bounded documents: issued only by POST, made by a job when longer than a request, within a render budget.

A document is registered only when its bytes were made; a request never runs
into the worker timeout (all certificates, link sheets and the report are
jobs, one item per document or part); every render is stopped when over its
time or memory budget; a logo is a small PNG, JPEG or self-contained SVG; and ``/verify``
answers a hostile PDF quickly, looking the file up before parsing anything.
"""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from sqlalchemy import func, select

from surveyhub.rendering import budget as budgets
from surveyhub.rendering import logo as logos
from surveyhub.models import Document, Organisation
from surveyhub.services import document_batches as batches
from surveyhub.services import documents as docs
from tests.fixtures.documents import demo, pdf_text  # noqa: F401 (fixture)
from tests.fixtures.factories import csrf_token
from tests.test_document_jobs import job_file


@pytest.fixture
def worker(session, demo, make_user, client_for):
    org = session.get(Organisation, demo.org_id)
    session.rollback()
    return client_for(make_user("worker", org).email)


def registered(session) -> int:
    count = session.scalar(select(func.count()).select_from(Document))
    session.rollback()
    return count


def post(client, url: str, **fields):
    slug = url.split("/")[2]
    return client.post(url, data={"csrf_token": csrf_token(client.get(f"/projects/{slug}/documents").text),
                                  **fields})


def candidate(session, demo):
    found = docs.certificate_candidates(session, demo.actor, demo.slug)[0]
    session.rollback()
    return found


# --- issuing only by POST with CSRF --------------------------------------------------------------------

def test_a_plain_get_with_name_and_line_issues_nothing(worker, session, demo):
    resident = candidate(session, demo)
    url = f"/projects/{demo.slug}/documents/certificate/{resident.code}.pdf"
    sent = worker.get(url, query_string={"name": "Iemand Anders", "line": "Gratis certificaat"})
    assert sent.status_code == 405
    assert worker.post(url, data={"name": "Iemand Anders"}).status_code == 400  # no CSRF token
    for path in ("report.pdf", "certificates.zip", "links.pdf", "questionnaire-pre.pdf"):
        assert worker.get(f"/projects/{demo.slug}/documents/{path}").status_code == 405, path
    assert registered(session) == 0
    made = post(worker, url, name="Fatima B.", line="Dank je!")
    assert made.status_code == 200 and "Fatima B." in pdf_text(made.data)
    assert registered(session) == 1


def test_special_characters_in_a_name_make_a_certificate_not_an_error(worker, session, demo):
    resident = candidate(session, demo)
    made = post(worker, f"/projects/{demo.slug}/documents/certificate/{resident.code}.pdf",
                name="Fa\x00tima\u0301 \u202eB.\x07", line="Dank\r\nje wel\x1b!")
    assert made.status_code == 200
    text = pdf_text(made.data)
    assert "Fatimá" in text and "Dank" in text and "\x00" not in text


def test_the_documents_page_offers_post_forms_with_a_csrf_token(worker, demo):
    page = worker.get(f"/projects/{demo.slug}/documents").text
    assert 'method="get"' not in page
    assert page.count('name="csrf_token"') >= 5
    assert f'<form method="post" action="/projects/{demo.slug}/documents/certificates.zip"' in page


# --- work longer than a request runs as a job ------------------------------------------------------

def test_one_button_makes_every_certificate_and_every_registered_one_is_in_the_zip(worker, session, demo):
    page = worker.get(f"/projects/{demo.slug}/documents").text
    assert "(ZIP)" in page and "Certificaten 1 tot" not in page  # no parts any more, however many residents
    response = post(worker, f"/projects/{demo.slug}/documents/certificates.zip")
    with zipfile.ZipFile(io.BytesIO(job_file(worker, response).data)) as archive:
        names = archive.namelist()
    assert len(names) == len(set(names)) == 31  # 2 anonymous, paired as one resident
    assert registered(session) == 31
    assert post(worker, f"/projects/{demo.slug}/documents/certificates-2.zip").status_code == 404
    assert registered(session) == 31


def test_a_render_that_fails_once_is_tried_again_and_nothing_is_registered_twice(worker, session, demo,
                                                                                  monkeypatch):
    calls = {"n": 0}
    real = docs.render

    def failing(prepared):
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("the render died")
        return real(prepared)

    monkeypatch.setattr(docs, "render", failing)
    response = post(worker, f"/projects/{demo.slug}/documents/certificates.zip")
    with zipfile.ZipFile(io.BytesIO(job_file(worker, response).data)) as archive:
        assert len(archive.namelist()) == 31
    assert registered(session) == 31


def test_a_zip_over_its_time_budget_is_stopped_and_registers_nothing(app, worker, session, demo):
    app.config["RENDER_TIMEOUT_SECONDS"] = 0.05
    response = post(worker, f"/projects/{demo.slug}/documents/certificates.zip")
    assert response.status_code == 302
    assert "duurde te lang" in worker.get(response.headers["Location"]).text  # said on the job's page
    assert registered(session) == 0


def test_the_link_sheet_comes_in_parts_in_one_file(worker, session, demo, monkeypatch):
    monkeypatch.setattr(batches, "RESIDENTS_PER_SHEET", 20)
    page = worker.get(f"/projects/{demo.slug}/documents").text
    assert "Persoonlijke links van bewoners 1 tot 20" not in page  # one button for the whole sheet
    first = job_file(worker, post(worker, f"/projects/{demo.slug}/documents/links.pdf"))
    assert pdf_text(first.data).count("/q/") == 32  # 30 invited, 2 on the anonymous link
    again = job_file(worker, post(worker, f"/projects/{demo.slug}/documents/links.pdf"))
    assert again.data == first.data and registered(session) == 2  # the same parts are not issued twice


def test_a_report_with_many_sections_is_made_by_a_job(worker, session, demo):
    response = post(worker, f"/projects/{demo.slug}/documents/report.pdf")
    assert response.status_code == 302 and response.headers["Location"].startswith("/jobs/")
    assert "Impactrapportage" in pdf_text(job_file(worker, response).data)
    assert registered(session) == 1


# --- the render budget -----------------------------------------------------------------------------

def _sleep_forever():
    time.sleep(60)


def _allocate():
    return len(bytearray(3 * 1024 * 1024 * 1024))


def test_a_render_over_its_time_budget_is_stopped():
    # _sleep_forever returns after 60 s: only a stopped child raises here
    with pytest.raises(budgets.OverBudget):
        budgets.run(_sleep_forever, budgets.Budget(seconds=0.5))


def test_a_render_over_its_memory_budget_is_stopped():
    with pytest.raises(budgets.OverBudget):
        budgets.run(_allocate, budgets.Budget(seconds=20, memory_mb=200))


def _fail():
    raise ValueError("kapot")


def test_a_render_within_budget_returns_its_result_and_a_failure_says_why():
    assert budgets.run(lambda: b"%PDF-" + b"x" * 10, budgets.Budget()) == b"%PDF-xxxxxxxxxx"
    with pytest.raises(budgets.RenderFailed, match="kapot"):
        budgets.run(_fail, budgets.Budget())


def _what_the_child_has():
    from surveyhub.rendering.render import get_renderer

    renderer = get_renderer()
    return renderer._warm, sorted(name for name, brand in renderer._stylesheets if brand is None)


def test_a_budgeted_render_starts_from_a_warm_renderer():
    """The parent parses and loads once; every child starts with it (a cold child parsed it all again)."""
    warm, sheets = batches._within(_what_the_child_has, budgets.Budget())
    assert warm
    assert sheets == ["across_report.css", "certificate.css", "questionnaire.css", "report.css", "sheet.css"]


def test_a_renderer_that_cannot_warm_up_still_renders_in_its_child(monkeypatch):
    from surveyhub.rendering import render

    def broken(self):
        raise OSError("fonts missing")
    monkeypatch.setattr(render.Renderer, "warm_up", broken)
    assert batches._within(lambda: b"%PDF-ok", budgets.Budget()) == b"%PDF-ok"
    with pytest.raises(batches.RenderFailed, match="kapot"):
        batches._within(_fail, budgets.Budget())


# --- logos -------------------------------------------------------------------------------------------

def _png(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, format="PNG")
    return out.getvalue()


NESTED_USE = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
              b'<defs><g id="a0"><rect width="1" height="1"/></g>'
              + b"".join(b'<g id="a%d"><use href="#a%d"/><use href="#a%d"/><use href="#a%d"/><use href="#a%d"/>'
                         b'<use href="#a%d"/><use href="#a%d"/><use href="#a%d"/><use href="#a%d"/></g>'
                         % ((i,) + (i - 1,) * 8) for i in range(1, 10))
              + b'</defs><use href="#a9"/></svg>')


@pytest.mark.parametrize("data, reason", [
    (NESTED_USE, "<use>"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "<script>"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>', "<foreignobject>"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>', "<image>"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(http://x.example/a)"/></svg>', "outside"),
    (b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>', "DOCTYPE"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "script attributes"),
    (b'<svg xmlns="http://www.w3.org/2000/svg">' + b"<rect/>" * 600 + b"</svg>", "at most 500 elements"),
    (b'<svg xmlns="http://www.w3.org/2000/svg">' + b" " * 70_000 + b"</svg>", "at most 64 KB"),
    (_png(2500, 10), "2500×10 pixels"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not a readable PNG"),
    (b"GIF89a....", "PNG, JPEG or SVG"),
])
def test_a_logo_that_is_not_small_and_self_contained_is_refused_with_a_reason(data, reason):
    with pytest.raises(logos.LogoError, match=reason.replace("(", r"\(")):
        logos.check_logo(data)
    assert logos.logo_kind(data, None) is None


def test_good_logos_pass():
    assert logos.check_logo(_png(400, 200), "image/png") == "image/png"
    assert logos.check_logo(b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><defs>'
                            b'<linearGradient id="g"/></defs><rect fill="url(#g)" width="10" height="10"/></svg>',
                            "image/svg+xml") == "image/svg+xml"


def _images(pdf: bytes) -> int:
    from pypdf import PdfReader

    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_stored_nested_use_logo_is_left_out_and_the_certificate_is_quick(app, worker, session, demo):
    # a logo stored before the upload checks existed never reaches WeasyPrint, which would draw millions of shapes
    resident = candidate(session, demo)
    org = session.get(Organisation, demo.org_id)
    org.logo, org.logo_type = _png(300, 100), "image/png"
    session.commit()
    with_logo = post(worker, f"/projects/{demo.slug}/documents/certificate/{resident.code}.pdf")
    org = session.get(Organisation, demo.org_id)
    org.logo, org.logo_type = NESTED_USE, "image/svg+xml"
    session.commit()
    made = post(worker, f"/projects/{demo.slug}/documents/certificate/{resident.code}.pdf")
    assert with_logo.status_code == 200 and made.status_code == 200
    assert _images(made.data) == _images(with_logo.data) - 1


def test_the_logo_command_stores_a_good_logo_and_refuses_a_bad_one(runner, session, demo, tmp_path):
    good, bad = tmp_path / "logo.png", tmp_path / "logo.svg"
    good.write_bytes(_png(300, 100))
    bad.write_bytes(NESTED_USE)
    org = session.get(Organisation, demo.org_id)
    slug = org.slug
    session.rollback()
    refused = runner.invoke(args=["org", "logo", slug, str(bad)])
    assert refused.exit_code == 1 and "<use>" in refused.output
    stored = runner.invoke(args=["org", "logo", slug, str(good)])
    assert stored.exit_code == 0, stored.output
    org = session.get(Organisation, demo.org_id)
    assert org.logo_type == "image/png" and bytes(org.logo) == good.read_bytes()
    session.rollback()


# --- /verify ------------------------------------------------------------------------------------------

def _hostile_pdf() -> bytes:
    """4 KB that cost pypdf over 8 s of CPU to read: three pages sharing 300,000 text operators."""
    import zlib

    stream = zlib.compress(b"BT /F1 1 Tf " + b"(a) Tj " * 300_000 + b"ET", 9)
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Contents 3 0 R "
            b"/Resources << /Font << /F1 7 0 R >> >> >>")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [4 0 R 5 0 R 6 0 R] /Count 3 >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
               page, page, page, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.7\n")
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def test_a_crafted_pdf_is_answered_quickly(client, session, monkeypatch):
    from surveyhub.rendering import verify as codes

    data = _hostile_pdf()
    assert len(data) < 100_000
    stopped = []

    def spied(work, budget):
        try:
            return budgets.run(work, budget)
        except budgets.OverBudget as exc:
            stopped.append((budget, exc))
            raise

    monkeypatch.setattr(codes, "run", spied)
    page = client.get("/verify")
    response = client.post("/verify", data={"csrf_token": csrf_token(page.text),
                                            "file": (io.BytesIO(data), "x.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and 'data-status="unknown"' in response.text
    # the text read was stopped by its one-second budget instead of taking pypdf's 8 s of CPU
    assert [budget for budget, _ in stopped] == [codes.TEXT_BUDGET]


def test_a_registered_file_is_genuine_without_being_parsed(app, worker, session, demo, monkeypatch):
    from surveyhub.rendering import verify as codes

    made = job_file(worker, post(worker, f"/projects/{demo.slug}/documents/report.pdf"))

    def no_parsing(_data):
        raise AssertionError("a registered file must not be parsed")

    monkeypatch.setattr(codes, "find_code", no_parsing)
    result = docs.verify_file(session, made.data)
    session.rollback()
    assert result.status == "genuine"


def test_an_admin_uploads_a_logo_and_a_nested_use_svg_is_refused_with_the_reason(session, demo, make_user,
                                                                                   client_for):
    org = session.get(Organisation, demo.org_id)
    session.rollback()
    admin = client_for(make_user("admin", org).email)

    def upload(data: bytes, name: str):
        token = csrf_token(admin.get("/admin/logo").text)
        return admin.post("/admin/logo", data={"csrf_token": token, "file": (io.BytesIO(data), name),
                                               "upload": "Uploaden"}, content_type="multipart/form-data")

    refused = upload(NESTED_USE, "logo.svg")
    assert refused.status_code == 200 and "wat niet mag in een logo (&lt;use&gt;)" in refused.text
    assert session.scalar(select(Organisation.logo).where(Organisation.id == demo.org_id)) is None
    session.rollback()
    saved = upload(_png(300, 100), "logo.png")
    assert saved.status_code == 302
    assert 'src="data:image/png;base64,' in admin.get("/admin/logo").text
    assert session.scalar(select(Organisation.logo_type).where(Organisation.id == demo.org_id)) == "image/png"
    session.rollback()
    worker = client_for(make_user("worker", org).email)
    assert worker.get("/admin/logo").status_code in (403, 404)
