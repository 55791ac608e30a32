"""The worker's document pages: downloads, the ZIP, organisation scoping and roles, revoking."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from surveyhub.models import Document, Organisation
from surveyhub.services import accounts, projects
from surveyhub.services import documents as docs
from tests.fixtures.documents import demo, pdf_text  # noqa: F401 (fixture)
from tests.fixtures.factories import PASSWORD, csrf_token
from tests.test_document_jobs import job_codes, job_file


@pytest.fixture
def people(session, demo, make_user, make_org, make_project):
    """Users of the demo organisation, and a worker of another organisation with its own project."""
    org = session.get(Organisation, demo.org_id)
    session.rollback()
    other = make_org("Welzijn Zuid")
    make_project(other, "Speeltuin Zuid")
    found = {"worker": make_user("worker", org), "admin": make_user("admin", org), "funder": make_user("funder", org),
             "stranger": make_user("worker", other)}
    projects.set_share(session, demo.actor, demo.slug, found["funder"].email, True)  # funders see shared projects only
    session.commit()
    return found


def _resident(session, d, kind="certificate"):
    found = next(c for c in docs.certificate_candidates(session, d.actor, d.slug) if c.kind == kind)
    session.rollback()  # SQLite: a test's open read would hold the write lock the app needs
    return found


def _documents(session) -> int:
    count = session.scalar(select(func.count()).select_from(Document))
    session.rollback()
    return count


def download(client, url: str, **fields):
    """Make a document as the documents page does: a POST with the page's CSRF token."""
    slug = url.split("/")[2]
    token = csrf_token(client.get(f"/projects/{slug}/documents").text)
    return client.post(url, data={"csrf_token": token, **fields})


def _status(session, code) -> str:
    status = docs.verify_code(session, code).status
    session.rollback()
    return status


def test_a_worker_downloads_a_certificate_with_a_typed_name(client_for, session, demo, people):
    worker = client_for(people["worker"].email)
    resident = _resident(session, demo)

    response = download(worker, f"/projects/{demo.slug}/documents/certificate/{resident.code}.pdf",
                        name="Fatima B.", line="Dank voor je hulp bij de bouwdag!")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f"certificaat-{resident.code}.pdf" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    text = pdf_text(response.data)
    assert "Fatima B." in text and "Dank voor je hulp bij de bouwdag!" in text
    assert response.headers["X-Document-Code"] in text
    again = download(worker, f"/projects/{demo.slug}/documents/certificate/{resident.code}.pdf",
                     name="Fatima B.", line="Dank voor je hulp bij de bouwdag!")
    assert again.data == response.data  # the same document, not a duplicate


def test_all_certificates_as_one_zip(client_for, session, demo, people):
    worker = client_for(people["worker"].email)
    response = job_file(worker, download(worker, f"/projects/{demo.slug}/documents/certificates.zip"))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
        assert len(names) == 31  # 30 invited, 2 on the anonymous link paired by their code: one resident
        assert sum(n.startswith("certificaat-") for n in names) == 27
        assert sum(n.startswith("deelname-") for n in names) == 4
        assert archive.read(names[0]).startswith(b"%PDF-")
    assert _documents(session) == 31
    download(worker, f"/projects/{demo.slug}/documents/certificates.zip")
    assert _documents(session) == 31  # nothing issued twice


def test_paper_questionnaire_and_link_sheet(client_for, session, demo, people):
    worker = client_for(people["worker"].email)
    paper = download(worker, f"/projects/{demo.slug}/documents/questionnaire-post.pdf")
    assert paper.status_code == 200
    text = pdf_text(paper.data)
    assert "Vragenlijst: Speeltuin De Vlinder" in text and "eindmeting" in text
    assert "Ik kan een buurtactiviteit van begin tot eind plannen." in text and "Helemaal mee eens" in text
    assert "terugblik" in text  # the post wave of the demo asks the retrospective block

    sheet = job_file(worker, download(worker, f"/projects/{demo.slug}/documents/links.pdf"))
    text = pdf_text(sheet.data)
    resident = _resident(session, demo)
    assert resident.display_name in text and resident.code in text and "/q/" in text


def test_another_organisation_gets_404_everywhere(client_for, session, demo, people):
    stranger = client_for(people["stranger"].email)
    resident = _resident(session, demo)
    for url in (f"/projects/{demo.slug}/documents", f"/projects/{demo.slug}/documents/report.pdf",
                f"/projects/{demo.slug}/documents/certificate/{resident.code}.pdf",
                f"/projects/{demo.slug}/documents/certificates.zip", f"/projects/{demo.slug}/documents/links.pdf",
                f"/projects/{demo.slug}/documents/questionnaire-pre.pdf"):
        if url.endswith("/documents"):
            assert stranger.get(url).status_code == 404, url
            continue
        assert stranger.get(url).status_code == 405, url  # documents are made by POST only
        assert stranger.post(url, data={"csrf_token": csrf_token(stranger.get("/").text)}).status_code == 404, url
    assert _documents(session) == 0


def test_a_funder_downloads_the_report_but_no_certificates_and_cannot_revoke(client_for, session, demo, people):
    resident = _resident(session, demo)
    certificate = download(client_for(people["worker"].email),
                           f"/projects/{demo.slug}/documents/certificate/{resident.code}.pdf").headers["X-Document-Code"]
    funder = client_for(people["funder"].email)
    started = download(funder, f"/projects/{demo.slug}/documents/report.pdf")
    report = job_file(funder, started)  # the funder's own job: its page and file are theirs
    assert report.status_code == 200 and "Impactrapportage" in pdf_text(report.data)
    (code,) = job_codes(session, started)
    assert download(funder, f"/projects/{demo.slug}/documents/certificate/{resident.code}.pdf").status_code == 404
    assert download(funder, f"/projects/{demo.slug}/documents/links.pdf").status_code == 404
    page = funder.get(f"/projects/{demo.slug}/documents")
    assert page.status_code == 200 and code in page.text
    assert certificate not in page.text and resident.code not in page.text  # residents are not the funder's
    assert client_for(people["worker"].email).get(started.headers["Location"]).status_code == 404  # not theirs
    revoke = funder.post(f"/projects/{demo.slug}/documents/{code}/revoke",
                         data={"csrf_token": csrf_token(page.text), "reason": "mine now"})
    assert revoke.status_code == 404
    assert _status(session, code) == "genuine"


def test_an_admin_revokes_and_the_check_page_says_so(client_for, client, session, demo, people):
    worker = client_for(people["worker"].email)
    (code,) = job_codes(session, download(worker, f"/projects/{demo.slug}/documents/report.pdf"))
    page = worker.get(f"/projects/{demo.slug}/documents")
    assert worker.post(f"/projects/{demo.slug}/documents/{code}/revoke",
                       data={"csrf_token": csrf_token(page.text), "reason": "x"}).status_code == 403

    admin = client_for(people["admin"].email)
    page = admin.get(f"/projects/{demo.slug}/documents")
    response = admin.post(f"/projects/{demo.slug}/documents/{code}/revoke",
                          data={"csrf_token": csrf_token(page.text), "reason": "Wrong thresholds"})
    assert response.status_code == 302
    check = client.get(f"/verify/{code}")
    assert 'data-status="revoked"' in check.text and "Wrong thresholds" in check.text


def test_an_admin_of_another_organisation_cannot_revoke(client_for, session, demo, people, make_user):
    worker = client_for(people["worker"].email)
    (code,) = job_codes(session, download(worker, f"/projects/{demo.slug}/documents/report.pdf"))
    other_org = accounts.find_organisation(session, "Welzijn Zuid")
    session.rollback()
    other_admin = make_user("admin", other_org)
    admin = client_for(other_admin.email)
    page = admin.get("/")
    response = admin.post(f"/projects/{demo.slug}/documents/{code}/revoke",
                          data={"csrf_token": csrf_token(page.text), "reason": "sabotage"})
    assert response.status_code == 404
    assert _status(session, code) == "genuine"


def test_the_project_page_links_the_documents(client_for, demo, people):
    page = client_for(people["worker"].email).get(f"/projects/{demo.slug}")
    assert f'action="/projects/{demo.slug}/documents/report.pdf"' in page.text
    assert f'href="/projects/{demo.slug}/documents"' in page.text
    overview = client_for(people["worker"].email).get(f"/projects/{demo.slug}/documents")
    assert f'action="/projects/{demo.slug}/documents/certificates.zip"' in overview.text
    funder_page = client_for(people["funder"].email).get(f"/projects/{demo.slug}")
    assert "report.pdf" in funder_page.text and "certificates.zip" not in funder_page.text


def test_login_is_required(client, demo):
    assert client.post(f"/projects/{demo.slug}/documents/report.pdf").status_code in (302, 400)
    assert client.get(f"/projects/{demo.slug}/documents").status_code == 302
    assert PASSWORD  # the factories' password is what client_for logs in with
