"""The year report page's list of reports made earlier: what it shows, to whom, and revoking one.

Driven through the test client as a worker, an admin, a funder and another organisation's admin
would; the reports are made through the page's own "PDF maken", the command line's service and the
network report's service.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import delete, select

from surveyhub.locale import Numbers
from surveyhub.models import Document, Job
from surveyhub.services import access, across_documents, audit, networks, org_documents, projects
from surveyhub.services import documents as docs
from surveyhub.services.errors import Forbidden
from tests.fixtures.factories import csrf_token
from tests.test_org_report_pdf import answered_project, context_for, this_year


@pytest.fixture
def world(app, session, make_org, make_user, make_project):
    org = make_org("Buurtwerk Noord")
    garden = answered_project(app, session, org, make_project, "Buurttuin", 12, "A")
    other = make_org("Welzijn Zuid")
    square = answered_project(app, session, other, make_project, "Pleinproject", 12, "S")
    people = {role: make_user(role, org) for role in ("admin", "worker", "funder")}
    people["other_admin"] = make_user("admin", other)
    projects.set_share(session, access.Actor(organisation_id=org.id, role="admin"), garden,
                       people["funder"].email, True)
    session.commit()
    return {"org": org, "other": other, "people": people, "garden": garden, "square": square}


def issued_section(page_text: str) -> str:
    assert 'id="issued"' in page_text
    return page_text.split('<h2 id="issued">')[1]


def make_pdf(client, lang: str = "nl") -> tuple[str, str]:
    """"PDF maken" on the page, as a user would: the job's public id and the document's code."""
    page = client.get("/organisation/report")
    start, end = this_year()
    started = client.post("/organisation/report/pdf", data={"csrf_token": csrf_token(page.text), "lang": lang,
                                                            "start": start.isoformat(), "end": end.isoformat()})
    assert started.status_code == 302
    public_id = started.headers["Location"].removeprefix("/jobs/")
    download = client.get(f"/jobs/{public_id}/download")
    assert download.status_code == 200
    return public_id, download.headers.get("X-Document-Code") or _code_of(download.data)


def _code_of(pdf: bytes) -> str:
    from surveyhub.rendering import verify as codes

    return codes.find_code(pdf)


def test_the_worker_sees_what_was_made_with_its_file(app, session, client_for, world):
    worker_user = world["people"]["worker"]
    worker = client_for(worker_user.email)
    public_id, code = make_pdf(worker)
    section = issued_section(worker.get("/organisation/report").text)
    year = str(this_year()[0].year)
    doc = session.scalar(select(Document).where(Document.code == code))
    session.commit()
    assert f"Impactrapportage van de organisatie {year} — Buurtwerk Noord" in html.unescape(section)
    row = section.split("</tr>")[1]  # the first row after the head: the newest report
    assert f'data-label="Periode">{year}</td>' in row and "Jaarverslag · Nederlands" in row
    assert Numbers("nl").date(doc.issued_at) in row
    assert f"door {worker_user.name or worker_user.email}" in html.unescape(row)
    assert code in row and "Geldig" in row
    assert f'href="/jobs/{public_id}/download"' in row
    assert "Intrekken" not in section  # only admins revoke
    # The reports' list is reachable from the top of the page, also when the period has an error.
    bad = worker.get("/organisation/report?period=custom&from=x&to=y")
    assert bad.status_code == 400 and code in issued_section(bad.text)


def test_a_report_whose_file_is_gone_can_be_made_again_for_its_period(app, session, client_for, world):
    worker = client_for(world["people"]["worker"].email)
    _public_id, code = make_pdf(worker, lang="en")
    session.execute(delete(Job))  # the week the file is kept has passed
    session.commit()
    section = issued_section(worker.get("/organisation/report").text)
    row = next(r for r in section.split("</tr>") if code in r)
    assert "/download" not in row and "Opnieuw maken" in row and "Jaarverslag · English" in row
    start, end = this_year()
    assert f'name="start" value="{start.isoformat()}"' in row and f'name="end" value="{end.isoformat()}"' in row
    assert 'name="lang" value="en"' in row and 'action="/organisation/report/pdf"' in row
    # Posting the row's form (as the button does) hands out the same document again: nothing changed.
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', row))
    again = worker.post("/organisation/report/pdf", data=fields)
    assert again.status_code == 302
    download = worker.get(again.headers["Location"] + "/download")
    assert docs.verify_file(session, download.data).document.code == code
    session.commit()
    assert session.scalar(select(Document.id).where(Document.kind == "org_report").order_by(
        Document.id.desc()).limit(1)) == session.scalar(select(Document.id).where(Document.code == code))


def test_reports_from_the_command_line_and_the_network_are_listed(app, session, client_for, world):
    org = world["org"]
    ctx = context_for(app, session, org)
    start, end = this_year()
    # The command line's PDF: its period is read from the audit trail (as reports.py records it).
    _pdf, cli_code = across_documents.issue_org_report(ctx, start=start, end=end, lang="nl")
    audit.record(session, "download.report", actor=ctx.actor, target=f"organisation:{org.slug}",
                 details={"format": "pdf", "period": f"{start.isoformat()}..{end.isoformat()}",
                          "document": cli_code, "language": "nl"})
    other_ctx = context_for(app, session, world["other"])
    info, join_code = networks.create(other_ctx, name="Samen Kanaleneiland", area="Kanaleneiland, Utrecht")
    networks.join(ctx, join_code)
    networks.opt_in(ctx, info.slug, world["garden"])
    networks.opt_in(other_ctx, info.slug, world["square"])
    session.commit()
    _pdf, network_code = across_documents.issue_network_report(ctx, info.slug, start=start, end=end)
    session.commit()
    admin = client_for(world["people"]["admin"].email)
    section = issued_section(admin.get("/organisation/report").text)
    cli_row = next(r for r in section.split("</tr>") if cli_code in r)
    assert "de opdrachtregel" in cli_row and "Opnieuw maken" in cli_row
    network_row = next(r for r in section.split("</tr>") if network_code in r)
    assert "Netwerkrapportage: Samen Kanaleneiland" in network_row
    # No job and no audit record: the period is the whole year its title names.
    assert f'action="/networks/{info.slug}/report/pdf"' in network_row and "Opnieuw maken" in network_row
    # The other member's admin does not see our network report in their list: each lists its own.
    other = client_for(world["people"]["other_admin"].email)
    assert network_code not in other.get("/organisation/report").text
    # Once we leave the network, its report can no longer be made from here (the title still says which).
    networks.leave(ctx, info.slug)
    session.commit()
    row = next(r for r in issued_section(admin.get("/organisation/report").text).split("</tr>")
               if network_code in r)
    assert "Opnieuw maken" not in row and "Geen bestand bewaard" in row


def test_funders_see_no_list_and_cannot_revoke(app, session, client_for, world):
    _public_id, code = make_pdf(client_for(world["people"]["worker"].email))
    funder = client_for(world["people"]["funder"].email)
    page = funder.get("/organisation/report")
    assert page.status_code == 200
    assert 'id="issued"' not in page.text and code not in page.text and "Eerder gemaakte" not in page.text
    tried = funder.post("/organisation/report/revoke",
                        data={"csrf_token": csrf_token(page.text), "code": code, "reason": "x", "confirm": "yes"})
    assert tried.status_code in (403, 404)
    assert docs.verify_code(session, code).status == "genuine"
    with pytest.raises(Forbidden):
        org_documents.list_reports(session, access.Actor(world["org"].id, "funder"))


def test_an_admin_revokes_with_a_reason_after_confirming(app, session, client_for, world):
    _public_id, code = make_pdf(client_for(world["people"]["worker"].email))
    admin = client_for(world["people"]["admin"].email)
    page = admin.get("/organisation/report")
    token = csrf_token(page.text)
    assert f'name="code" value="{code}"' in page.text
    url = "/organisation/report/revoke"
    # No reason: nothing happens, the page says why.
    empty = admin.post(url, data={"csrf_token": token, "code": code, "reason": "  "}, follow_redirects=True)
    assert "Schrijf waarom je de rapportage intrekt." in empty.text
    # A reason: first the confirmation page, with the reason carried along; still genuine.
    asked = admin.post(url, data={"csrf_token": token, "code": code, "reason": 'Verkeerde periode <b>"x"</b>'})
    assert asked.status_code == 200 and "Deze rapportage intrekken?" in asked.text
    assert "Verkeerde periode &lt;b&gt;" in asked.text and "<b>" not in asked.text
    assert 'name="confirm" value="yes"' in asked.text and f'name="code" value="{code}"' in asked.text
    assert docs.verify_code(session, code).status == "genuine"
    session.commit()
    # Without a valid CSRF token, confirming does nothing.
    forged = admin.post(url, data={"code": code, "reason": "weg", "confirm": "yes"})
    assert forged.status_code == 400 and docs.verify_code(session, code).status == "genuine"
    session.commit()
    done = admin.post(url, data={"csrf_token": csrf_token(asked.text), "code": code,
                                 "reason": 'Verkeerde periode <b>"x"</b>', "confirm": "yes"}, follow_redirects=True)
    assert f"Rapportage {code} is ingetrokken." in done.text
    checked = docs.verify_code(session, code)
    assert checked.status == "revoked" and checked.document.revoked_reason == 'Verkeerde periode <b>"x"</b>'
    session.commit()
    row = next(r for r in issued_section(done.text).split("</tr>") if code in r)
    assert "Ingetrokken: Verkeerde periode &lt;b&gt;" in row and "/download" not in row
    assert 'name="reason"' not in row
    assert session.scalar(select(Document.revoked_at).where(Document.code == code)) is not None
    session.commit()


def test_nobody_revokes_another_organisations_report_or_a_project_document(app, session, client_for, world):
    _public_id, code = make_pdf(client_for(world["people"]["worker"].email))
    stranger = client_for(world["people"]["other_admin"].email)
    page = stranger.get("/organisation/report")
    assert code not in page.text
    tried = stranger.post("/organisation/report/revoke",
                          data={"csrf_token": csrf_token(page.text), "code": code, "reason": "weg", "confirm": "yes"})
    assert tried.status_code == 404 and docs.verify_code(session, code).status == "genuine"
    session.commit()
    # A project's impact report is revoked on the project's documents page, not through this one.
    worker = client_for(world["people"]["worker"].email)
    overview = worker.get(f"/projects/{world['garden']}/documents")
    worker.post(f"/projects/{world['garden']}/documents/report.pdf", data={"csrf_token": csrf_token(overview.text)})
    report_code = session.scalar(select(Document.code).where(Document.kind == "report"))
    session.commit()
    admin = client_for(world["people"]["admin"].email)
    tried = admin.post("/organisation/report/revoke",
                       data={"csrf_token": csrf_token(admin.get("/organisation/report").text), "code": report_code,
                             "reason": "weg", "confirm": "yes"})
    assert tried.status_code == 404 and docs.verify_code(session, report_code).status == "genuine"
