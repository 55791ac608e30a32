"""All certificates as one PDF to print, and the certificate's layout held by a reference image.

The book holds one page per resident in name order, each page its resident's
own registered certificate (same code); it is made on the documents page
(by a job: one item per certificate, the book drawn in parts within the render
budget and joined) and by ``surveyhub certificates --book``. Page 1 of a fixed certificate is
compared with ``tests/reference/certificate-landscape.png`` so that a layout
regression fails.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from surveyhub.models import Document, Organisation, Participant, Project, ProjectOutput, User
from surveyhub.services import access
from surveyhub.services import document_batches as batches
from surveyhub.services import documents as docs
from tests.fixtures.documents import BASE_URL, demo, pdf_reader  # noqa: F401 (fixture)
from tests.fixtures.factories import csrf_token
from tests.fixtures.images import assert_looks_like, page_png
from tests.test_document_jobs import job_file
from tests.fixtures.outcomes import answer, at_levels
from tests.test_documents_certificate import assert_no_level_or_decline


def _plain(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()


def _page_texts(pdf: bytes) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in pdf_reader(pdf).pages]


def _registered(session) -> int:
    count = session.scalar(select(func.count()).select_from(Document))
    session.rollback()
    return count


def test_the_book_has_one_page_per_resident_in_name_order_each_its_own_certificate(session, demo):
    candidates = docs.certificate_candidates(session, demo.actor, demo.slug, by_name=True)
    prepared = [docs.prepare_certificate(session, demo.actor, demo.slug, c.code, base_url=BASE_URL)
                for c in candidates]
    session.commit()

    rendered, book = batches.render_book(prepared, None, "Certificaten — Speeltuin De Vlinder")
    issued = batches.register_all(session, prepared, rendered)
    session.commit()

    pages = _page_texts(book)
    assert len(pages) == len(candidates) == 31  # 30 invited, 2 on the anonymous link paired as one resident
    names = [c.display_name for c in candidates if c.display_name]
    assert names == [c.display_name for c in candidates[:len(names)]]  # the demo's 2 anonymous residents last
    assert [_plain(n) for n in names] == sorted(_plain(n) for n in names)  # "Ömer" among the O's
    for text, candidate, document in zip(pages, candidates, issued):
        assert (candidate.display_name or "") in text and f"Code: {document.code}" in text
        assert docs.verify_code(session, document.code).status == "genuine"
        assert_no_level_or_decline(text)  # thirty real residents, some of whom went down
    # A page of the book reads like the resident's own certificate.
    assert pages[0] == _page_texts(issued[0].pdf)[0]
    assert pdf_reader(book).metadata.title == "Certificaten — Speeltuin De Vlinder"


@pytest.fixture
def worker(session, demo, make_user, client_for):
    org = session.get(Organisation, demo.org_id)
    session.rollback()
    return client_for(make_user("worker", org).email)


def _post(client, url: str):
    slug = url.split("/")[2]
    return client.post(url, data={"csrf_token": csrf_token(client.get(f"/projects/{slug}/documents").text)})


def test_the_documents_page_makes_the_whole_book_with_one_button(worker, session, demo, monkeypatch):
    monkeypatch.setattr(batches, "CERTIFICATES_PER_BOOK", 20)  # drawn in two parts within the budget, one file
    page = worker.get(f"/projects/{demo.slug}/documents").text
    assert "Certificaten 1 tot en met 20" not in page and "Alle certificaten in één pdf, om te printen" in page

    response = job_file(worker, _post(worker, f"/projects/{demo.slug}/documents/certificates.pdf"))

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    pages = _page_texts(response.data)
    assert len(pages) == 31 and _registered(session) == 31
    everyone = [c.display_name for c in docs.certificate_candidates(session, demo.actor, demo.slug, by_name=True)]
    session.rollback()
    assert all((name or "") in text for name, text in zip(everyone, pages))


def test_a_book_over_its_time_budget_registers_nothing(app, worker, session, demo):
    page = worker.get(f"/projects/{demo.slug}/documents").text  # 30 residents: one button beside the ZIP
    assert f'action="/projects/{demo.slug}/documents/certificates.pdf"' in page
    assert "Alle certificaten in één pdf, om te printen" in page
    app.config["RENDER_TIMEOUT_SECONDS"] = 0.05
    response = _post(worker, f"/projects/{demo.slug}/documents/certificates.pdf")
    assert response.status_code == 302
    assert "duurde te lang" in worker.get(response.headers["Location"]).text  # said on the job's page
    assert _registered(session) == 0


def test_the_command_writes_the_book_beside_the_certificates(runner, session, demo, tmp_path):
    out = tmp_path / "certificaten"
    result = runner.invoke(args=["certificates", demo.slug, "-o", str(out), "-j", "1", "--book"])
    assert result.exit_code == 0, result.output
    book = out / f"certificates-{demo.slug}.pdf"
    assert book.exists() and len(pdf_reader(book.read_bytes()).pages) == 31
    assert len(list(out.glob("*.pdf"))) == 32 and _registered(session) == 31  # the book is not registered


# --- the layout, held by a reference image -------------------------------------------------------------

FIXED = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


def _fixed_certificate(app, session, make_org, make_project, make_participant, monkeypatch, orientation):
    from surveyhub.rendering import verify

    monkeypatch.setattr(verify, "new_code", lambda: "K7P2-4QX9-MT3R")
    monkeypatch.setattr(docs, "_now", lambda: FIXED)
    org = make_org("Buurtwerk Noord")
    project = make_project(org, "Speeltuin De Vlinder", instruments=("organising", "cooperation"))
    resident = make_participant(org, project.slug, "Fatima el Amrani")
    for wave, levels in (("pre", {"organising": 2, "cooperation": 3}), ("post", {"organising": 4, "cooperation": 4})):
        answer(app, session, project.slug, wave, resident.code, at_levels(session, project.slug, levels))
    row = session.scalar(select(Project).where(Project.slug == project.slug))
    row.period_start, row.period_end = date(2026, 3, 1), date(2026, 6, 30)
    for day, text in ((date(2026, 4, 2), "Ontwerp speeltuin gekozen met 40 bewoners"),
                      (date(2026, 5, 12), "Speeltuin geopend"), (date(2026, 6, 20), "Eerste buurtfeest")):
        session.add(ProjectOutput(project_id=row.id, happened_on=day, description=text))
    session.scalar(select(Participant).where(Participant.code == resident.code)).role = \
        "organiseerde samen met twee buren de opening"
    found = session.get(Organisation, org.id)
    found.contact, found.certificate_orientation = "030 123 45 67 · info@buurtwerknoord.example", orientation
    user = User(organisation_id=org.id, email="sanne@buurtwerknoord.example", name="Sanne de Vries",
                job_title="Opbouwwerker", password_hash="x", role="worker")
    session.add(user)
    session.commit()
    actor = access.Actor(organisation_id=org.id, role="worker", user_id=user.id)
    issued = docs.issue_certificate(session, actor, project.slug, resident.code, base_url=BASE_URL,
                                    personal_line="Zonder jou was de speeltuin er niet gekomen. Dank je wel!")
    session.commit()
    return issued


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_page_one_looks_like_the_reference(app, session, make_org, make_project, make_participant, monkeypatch,
                                           orientation):
    issued = _fixed_certificate(app, session, make_org, make_project, make_participant, monkeypatch, orientation)
    assert issued.code == "K7P2-4QX9-MT3R" and len(pdf_reader(issued.pdf).pages) == 1
    assert_looks_like(page_png(issued.pdf, 1), f"certificate-{orientation}.png")
