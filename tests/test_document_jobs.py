"""Documents made by jobs: all certificates (ZIP or book), the report, link sheets and large exports.

The documents page starts a job and lands on its page; the test queue runs the
job inside that request (``QUEUE_URL: immediate``), so the file is ready when
the page is read. ``job_file`` and ``job_codes`` are the helpers the other
document tests use to follow a job as a worker would.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from surveyhub.models import AuditEvent, Document, Job, JobItem, Organisation, Participant
from surveyhub.queue import get_queue
from surveyhub.services import document_batches as batches
from surveyhub.services import document_jobs, jobs
from tests.fixtures.documents import demo, pdf_reader, pdf_text  # noqa: F401 (fixture)
from tests.fixtures.factories import csrf_token


def start(client, url: str, **fields):
    """POST a documents page form (with its CSRF token), as the button does."""
    slug = url.split("/")[2]
    return client.post(url, data={"csrf_token": csrf_token(client.get(f"/projects/{slug}/documents").text),
                                  **fields})


def job_id_of(response) -> str:
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    assert location.startswith("/jobs/"), location
    return location.removeprefix("/jobs/")


def job_file(client, response):
    """Follow a started job: its page (which says it is ready), then its file."""
    public_id = job_id_of(response)
    page = client.get(f"/jobs/{public_id}")
    assert page.status_code == 200 and f"/jobs/{public_id}/download" in page.text, page.text[:2000]
    found = client.get(f"/jobs/{public_id}/download")
    assert found.status_code == 200 and found.headers["Cache-Control"] == "no-store"
    return found


def job_codes(session, response) -> list[str]:
    """The document codes the job's items registered, in item order."""
    public_id = job_id_of(response)
    job_id = session.scalar(select(Job.id).where(Job.public_id == public_id))
    codes = [str(result["code"]) for _key, result in jobs.item_results(session, job_id) if result]
    session.rollback()
    return codes


def registered(session) -> int:
    count = session.scalar(select(func.count()).select_from(Document))
    session.rollback()
    return count


@pytest.fixture
def worker(session, demo, make_user, client_for):
    org = session.get(Organisation, demo.org_id)
    session.rollback()
    return client_for(make_user("worker", org).email)


def test_all_certificates_come_as_one_zip_from_a_job_with_one_event(worker, session, demo):
    response = start(worker, f"/projects/{demo.slug}/documents/certificates.zip")
    found = job_file(worker, response)
    assert found.mimetype == "application/zip"
    assert f'filename="certificates-{demo.slug}.zip"' in found.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(found.data)) as archive:
        names = archive.namelist()
        assert archive.testzip() is None and all(archive.read(n).startswith(b"%PDF-") for n in names)
    codes = job_codes(session, response)
    assert len(names) == len(set(names)) == len(codes) == len(set(codes)) == registered(session) == 31
    events = session.scalars(select(AuditEvent.action).where(AuditEvent.action == "download.certificates")).all()
    session.rollback()
    assert events == ["download.certificates"]


def test_an_item_run_twice_registers_no_second_certificate(app, worker, session, demo):
    response = start(worker, f"/projects/{demo.slug}/documents/certificates.zip")
    first = job_codes(session, response)
    before = registered(session)
    # the same items delivered again after the work was done but before it was recorded (a killed worker)
    session.execute(JobItem.__table__.update().values(status="pending", attempts=0))
    session.execute(Job.__table__.update().values(status="running", done=0))
    session.commit()
    item_ids = session.scalars(select(JobItem.id).order_by(JobItem.position)).all()
    session.rollback()
    get_queue(app).enqueue(item_ids)
    assert job_codes(session, response) == first  # each item handed out its own certificate again
    assert registered(session) == before == 31
    with zipfile.ZipFile(io.BytesIO(job_file(worker, response).data)) as archive:
        assert len(archive.namelist()) == 31


def test_the_book_is_one_pdf_in_name_order_each_page_its_own_certificate(worker, session, demo, monkeypatch):
    monkeypatch.setattr(batches, "CERTIFICATES_PER_BOOK", 12)  # drawn in three parts, joined
    response = start(worker, f"/projects/{demo.slug}/documents/certificates.pdf")
    book = job_file(worker, response)
    assert book.mimetype == "application/pdf"
    reader = pdf_reader(book.data)
    codes = job_codes(session, response)
    assert len(reader.pages) == len(codes) == registered(session) == 31
    for page, code in zip(reader.pages, codes):
        assert f"Code: {code}" in " ".join((page.extract_text() or "").split())
    assert reader.metadata.title.startswith("Certificaten — ")


def test_a_certificate_over_its_budget_fails_its_item_and_registers_nothing(app, worker, session, demo):
    app.config["RENDER_TIMEOUT_SECONDS"] = 0.05
    response = start(worker, f"/projects/{demo.slug}/documents/certificates.zip")
    public_id = job_id_of(response)
    page = worker.get(f"/jobs/{public_id}")
    assert page.status_code == 200 and f"/jobs/{public_id}/download" not in page.text
    errors = session.scalars(select(JobItem.error)).all()
    status = session.scalar(select(Job.status))
    session.rollback()
    assert status == "failed" and len(errors) == 31 and all("too long" in (e or "") for e in errors)
    assert registered(session) == 0


def test_a_render_that_keeps_failing_leaves_out_only_that_certificate(worker, session, demo, monkeypatch):
    from surveyhub.services import documents as docs

    resident = docs.certificate_candidates(session, demo.actor, demo.slug)[4]
    session.rollback()
    real = docs.render

    def failing(prepared):
        if prepared.participant_code == resident.code:
            raise RuntimeError("the render died")
        return real(prepared)

    monkeypatch.setattr(docs, "render", failing)
    response = start(worker, f"/projects/{demo.slug}/documents/certificates.zip")
    with zipfile.ZipFile(io.BytesIO(job_file(worker, response).data)) as archive:
        names = archive.namelist()
    assert len(names) == registered(session) == 30 and not any(resident.code in n for n in names)


def test_the_report_is_made_by_a_job_and_registered_once(worker, session, demo):
    response = start(worker, f"/projects/{demo.slug}/documents/report.pdf")
    report = job_file(worker, response)
    assert "Impactrapportage" in pdf_text(report.data)
    (code,) = job_codes(session, response)
    assert docs_status(session, code) == "genuine" and registered(session) == 1
    again = start(worker, f"/projects/{demo.slug}/documents/report.pdf")
    assert job_codes(session, again) == [code] and registered(session) == 1  # unchanged: handed out again


def docs_status(session, code: str) -> str:
    from surveyhub.services import documents as docs

    status = docs.verify_code(session, code).status
    session.rollback()
    return status


def test_the_link_sheet_comes_in_parts_joined_in_one_file(worker, session, demo, monkeypatch):
    monkeypatch.setattr(batches, "RESIDENTS_PER_SHEET", 20)
    response = start(worker, f"/projects/{demo.slug}/documents/links.pdf")
    sheet = job_file(worker, response)
    assert f'-{demo.slug}.pdf"' in sheet.headers["Content-Disposition"]
    assert pdf_text(sheet.data).count("/q/") == 32  # 30 invited, 2 on the anonymous link
    codes = job_codes(session, response)
    assert len(codes) == registered(session) == 2  # two parts, each registered with its own code
    again = start(worker, f"/projects/{demo.slug}/documents/links.pdf")
    assert job_codes(session, again) == codes and registered(session) == 2


def test_a_job_acts_as_who_started_it_so_a_funder_gets_no_certificates(app, session, demo, funder_actor):
    """The role rules hold when the job runs: a certificates job for a funder (who may not start one) makes
    nothing."""
    code = session.scalars(select(Participant.code)).first()
    job, item_ids = jobs.create(session, kind="certificates.zip", keys=[code], params={"slug": demo.slug},
                                title="t", actor=funder_actor)
    session.commit()
    get_queue(app).enqueue(item_ids)
    status = session.scalar(select(Job.status).where(Job.id == job.id))
    session.rollback()
    assert status == "failed" and registered(session) == 0


@pytest.fixture
def funder_actor(session, demo, make_user):
    from surveyhub.services import access, projects

    org = session.get(Organisation, demo.org_id)
    session.rollback()
    funder = make_user("funder", org)
    projects.set_share(session, demo.actor, demo.slug, funder.email, True)
    session.commit()
    return access.Actor(organisation_id=org.id, role="funder", user_id=funder.id, email=funder.email)


def test_a_large_export_is_made_by_a_job_and_a_small_one_is_sent_at_once(worker, session, demo, monkeypatch):
    instant = worker.get(f"/projects/{demo.slug}/export.xlsx")
    assert instant.status_code == 200 and instant.data[:2] == b"PK"
    monkeypatch.setattr(document_jobs, "EXPORT_ROWS_INSTANT", 10)
    # The link shows a page whose button (a POST with its CSRF token) starts the job: following a link
    # from another site starts no work.
    page = worker.get(f"/projects/{demo.slug}/export.csv?dialect=excel-nl")
    assert page.status_code == 200 and "Maak het bestand" in page.text
    assert session.scalar(select(func.count(Job.id)).where(Job.kind == "export")) == 0
    session.rollback()
    assert worker.post(f"/projects/{demo.slug}/export.csv?dialect=excel-nl").status_code == 400  # no token
    started = worker.post(f"/projects/{demo.slug}/export.csv?dialect=excel-nl",
                          data={"csrf_token": csrf_token(page.text)})
    made = job_file(worker, started)
    assert f'{demo.slug}-responses-excel-nl.csv"' in made.headers["Content-Disposition"]
    lines = made.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("participant;") and len(lines) - 1 == document_jobs.export_rows(
        session, demo.actor, demo.slug)
    session.rollback()
    xlsx = job_file(worker, worker.post(f"/projects/{demo.slug}/export.xlsx",
                                        data={"csrf_token": csrf_token(page.text)}))
    assert xlsx.data[:2] == b"PK" and xlsx.mimetype == instant.mimetype
    events = session.execute(select(AuditEvent.action, AuditEvent.details)
                             .where(AuditEvent.action == "download.export")).all()
    session.rollback()
    assert [details.get("format") for _action, details in events] == ["xlsx", "csv", "xlsx"]
    assert events[1][1].get("dialect") == "excel-nl"


def test_sheet_keys_cover_every_resident():
    size = batches.RESIDENTS_PER_SHEET
    assert document_jobs.sheet_keys(0) == ["1"] and document_jobs.sheet_keys(size) == ["1"]
    assert document_jobs.sheet_keys(size + 1) == ["1", "2"]
