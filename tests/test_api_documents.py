"""The API's issued documents: list, metadata, the PDF (the very file that was issued) and verification."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from surveyhub.models import AuditEvent, Document, Organisation
from surveyhub.services import projects, story_facts
from surveyhub.services import documents as docs
from tests.fixtures.documents import demo, pdf_text  # noqa: F401 (fixture)
from tests.fixtures.factories import bearer
from tests.test_api_projects import assert_problem
from tests.test_documents_web import download


@pytest.fixture
def people(session, demo, make_user, make_org):
    """The demo organisation's worker (with a name certificates print), admin and funder (shared), and a stranger."""
    org = session.get(Organisation, demo.org_id)
    session.rollback()
    found = {"org": org, "worker": make_user("worker", org), "admin": make_user("admin", org),
             "funder": make_user("funder", org), "other": make_org("Welzijn Zuid")}
    story_facts.set_profile(session, found["worker"].id, "Sanne de Vries", "Opbouwwerker")
    projects.set_share(session, demo.actor, demo.slug, found["funder"].email, True)
    session.commit()
    return found


@pytest.fixture
def tokens(people, make_api_token):
    org = people["org"]
    return {"admin": make_api_token(org, role="admin"), "worker": make_api_token(org, role="worker"),
            "funder": make_api_token(org, role="funder", funder_email=people["funder"].email),
            "narrow": make_api_token(org, scopes=("outcomes:read", "rows:export")),
            "other": make_api_token(people["other"], role="admin")}


def resident_code(session, demo) -> str:
    found = next(c for c in docs.certificate_candidates(session, demo.actor, demo.slug) if c.kind == "certificate")
    session.rollback()
    return found.code


def documents(session) -> int:
    count = session.scalar(select(func.count()).select_from(Document))
    session.rollback()
    return count


@pytest.fixture
def certificate(client_for, session, demo, people):
    """A certificate a worker downloaded on the documents page: ``(code, the PDF's bytes)``."""
    worker = client_for(people["worker"].email)
    response = download(worker, f"/projects/{demo.slug}/documents/certificate/{resident_code(session, demo)}.pdf")
    assert response.status_code == 200 and "Sanne de Vries" in pdf_text(response.data)
    return response.headers["X-Document-Code"], response.data


@pytest.fixture
def report(runner, demo, tmp_path):
    """The impact report as ``surveyhub report PROJECT --format pdf`` issued it: ``(code, bytes)``."""
    target = tmp_path / "report.pdf"
    result = runner.invoke(args=["report", demo.slug, "--format", "pdf", "-o", str(target)])
    assert result.exit_code == 0, result.output
    code = result.stderr.rsplit("verification code ", 1)[1].strip(" )\n")
    return code, target.read_bytes()


def verify_file(client, token: str, data: bytes):
    return client.post("/api/v1/verify", headers=bearer(token), content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), "document.pdf")})


@pytest.mark.parametrize("role", ["admin", "worker"])
def test_a_certificate_comes_back_as_the_very_file_issued(client, session, demo, tokens, certificate, role):
    code, issued = certificate
    before = documents(session)
    response = client.get(f"/api/v1/documents/{code}/file", headers=bearer(tokens[role]))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/pdf" and response.headers["X-Document-Code"] == code
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data == issued  # drawn again as its issuer (the worker's name on it), byte for byte
    assert documents(session) == before  # nothing new was issued
    verdict = verify_file(client, tokens[role], response.data).get_json()
    assert verdict["status"] == "genuine" and verdict["checked"] == "file" and verdict["kind"] == "document"
    assert verdict["document"]["code"] == code
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "download.document",
                                                           AuditEvent.target == f"document:{code}")))
    session.rollback()
    assert any(event.source.startswith("api:") and event.details["via"] == "api" for event in events)


def test_metadata_and_the_project_list(client, session, demo, tokens, certificate, report):
    code, _pdf = certificate
    meta = client.get(f"/api/v1/documents/{code}", headers=bearer(tokens["worker"])).get_json()
    assert meta["kind"] == "certificate" and meta["project"] == demo.slug and meta["revoked"] is False
    assert meta["participant"] == resident_code(session, demo) and meta["file"].endswith(f"/api/v1/documents/{code}/file")
    listed = client.get(f"/api/v1/projects/{demo.slug}/documents", headers=bearer(tokens["admin"])).get_json()
    assert {code, report[0]} <= {entry["code"] for entry in listed["documents"]}


def test_a_funder_token_gets_reports_of_shared_projects_and_nothing_about_residents(client, session, demo, people,
                                                                                     tokens, certificate, report):
    code, issued = report
    funder = bearer(tokens["funder"])
    listed = client.get(f"/api/v1/projects/{demo.slug}/documents", headers=funder).get_json()["documents"]
    assert [entry["kind"] for entry in listed] == ["report"] and listed[0]["code"] == code
    assert listed[0]["participant"] is None
    response = client.get(f"/api/v1/documents/{code}/file", headers=funder)
    assert response.status_code == 200 and response.data == issued
    assert "Impactrapportage" in pdf_text(response.data)
    assert_problem(client.get(f"/api/v1/documents/{certificate[0]}", headers=funder), 404, "not-found")
    assert_problem(client.get(f"/api/v1/documents/{certificate[0]}/file", headers=funder), 404, "not-found")
    projects.set_share(session, demo.actor, demo.slug, people["funder"].email, False)
    session.commit()
    assert_problem(client.get(f"/api/v1/documents/{code}", headers=funder), 404, "not-found")
    assert_problem(client.get(f"/api/v1/projects/{demo.slug}/documents", headers=funder), 404, "not-found")


def test_another_organisation_and_a_token_without_the_scope(client, demo, tokens, certificate):
    code, _pdf = certificate
    for path in (f"/api/v1/documents/{code}", f"/api/v1/documents/{code}/file",
                 f"/api/v1/projects/{demo.slug}/documents"):
        assert_problem(client.get(path, headers=bearer(tokens["other"])), 404, "not-found")
        assert_problem(client.get(path, headers=bearer(tokens["narrow"])), 403, "insufficient-scope")
    assert_problem(client.post("/api/v1/verify", json={"code": code}, headers=bearer(tokens["narrow"])), 403,
                   "insufficient-scope")
    assert_problem(client.get("/api/v1/documents/NOPE-NOPE/file", headers=bearer(tokens["admin"])), 404, "not-found")


def test_a_document_whose_data_changed_is_not_drawn_again(client, client_for, session, demo, people, tokens):
    worker = client_for(people["worker"].email)
    typed = download(worker, f"/projects/{demo.slug}/documents/certificate/{resident_code(session, demo)}.pdf",
                     name="Fatima B.")  # a typed name is not kept: the file cannot be made again
    code = typed.headers["X-Document-Code"]
    before = documents(session)
    body = assert_problem(client.get(f"/api/v1/documents/{code}/file", headers=bearer(tokens["worker"])), 409,
                          "conflict")
    assert "changed since it was issued" in body["detail"]
    assert documents(session) == before
    sheet = download(worker, f"/projects/{demo.slug}/documents/questionnaire-pre.pdf")
    assert_problem(client.get(f"/api/v1/documents/{sheet.headers['X-Document-Code']}/file",
                              headers=bearer(tokens["worker"])), 409, "conflict")


def test_verify_answers_as_the_public_check_page(client, session, demo, tokens, certificate):
    code, issued = certificate
    stranger = bearer(tokens["other"])  # anyone may check any document
    funder = client.post("/api/v1/verify", json={"code": code}, headers=bearer(tokens["funder"])).get_json()
    assert funder["status"] == "genuine" and "participant" not in funder["document"]
    by_code = client.post("/api/v1/verify", json={"code": code.lower()}, headers=stranger).get_json()
    assert by_code["status"] == "genuine" and by_code["checked"] == "code"
    assert "participant" not in by_code["document"] and by_code["document"]["project"]
    altered = issued.replace(b"/Producer", b"/Producex", 1) if b"/Producer" in issued else issued + b"%"
    assert verify_file(client, tokens["other"], altered).get_json()["status"] == "altered"
    unknown = client.post("/api/v1/verify", json={"code": "AAAA-BBBB"}, headers=stranger).get_json()
    assert unknown == {"kind": "document", "checked": "code", "status": "unknown", "document": None, "credential": None}
    docs.revoke(session, demo.actor, code, "wrong resident")
    session.commit()
    revoked = client.post("/api/v1/verify", json={"code": code}, headers=stranger).get_json()
    assert revoked["status"] == "revoked" and revoked["document"]["revoked_reason"] == "wrong resident"
    assert_problem(client.post("/api/v1/verify", json={}, headers=stranger), 422, "validation-error")
    body = assert_problem(client.post("/api/v1/verify", headers=stranger, content_type="multipart/form-data",
                                      data={}), 422, "validation-error")
    assert body["errors"][0]["location"].endswith("file")
    empty = verify_file(client, tokens["other"], b"")
    assert_problem(empty, 422, "invalid")


def test_the_project_list_pages_so_a_script_reaches_every_document(client, session, demo, tokens, certificate,
                                                                    report):
    """The list stopped at the newest 500 with no way past them; now it pages as the residents' list does."""
    url = f"/api/v1/projects/{demo.slug}/documents"
    everything = client.get(url, headers=bearer(tokens["admin"])).get_json()
    assert everything["next_offset"] is None and len(everything["documents"]) >= 2
    codes, offset = [], 0
    while offset is not None:
        page = client.get(f"{url}?limit=1&offset={offset}", headers=bearer(tokens["admin"])).get_json()
        assert len(page["documents"]) == 1
        codes.append(page["documents"][0]["code"])
        offset = page["next_offset"]
    assert codes == [one["code"] for one in everything["documents"]]
    assert_problem(client.get(f"{url}?limit=0", headers=bearer(tokens["admin"])), 422, "validation-error")
