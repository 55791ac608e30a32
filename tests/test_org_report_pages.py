"""The organisation report page: a period, the figures across projects, the PDF as a job, the JSON.

Driven as a worker, an admin and a funder would: through the test client, with the
report data made through the response services.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from surveyhub.models import Document, Job
from surveyhub.services import access, org_report, projects
from surveyhub.services import documents as docs
from surveyhub.services import jobs
from tests.fixtures.factories import csrf_token
from tests.test_org_report_pdf import answered_project, context_for, this_year
from tests.fixtures.clock import local_today


@pytest.fixture
def world(app, session, make_org, make_user, make_project):
    org = make_org("Buurtwerk Noord")
    garden = answered_project(app, session, org, make_project, "Buurttuin", 12, "A")
    playground = answered_project(app, session, org, make_project, "Speeltuin", 8, "B")
    other = make_org("Welzijn Zuid")
    answered_project(app, session, other, make_project, "Geheim project", 6, "Z")
    people = {role: make_user(role, org) for role in ("admin", "worker", "funder")}
    people["other_admin"] = make_user("admin", other)
    projects.set_share(session, access.Actor(organisation_id=org.id, role="admin"), playground,
                       people["funder"].email, True)
    session.commit()
    return {"org": org, "people": people, "slugs": (garden, playground)}


def test_this_years_report_shows_the_jsons_figures(app, session, client_for, world):
    worker = client_for(world["people"]["worker"].email)
    page = worker.get("/organisation/report")
    assert page.status_code == 200
    report = org_report.build(context_for(app, session, world["org"]), start=this_year()[0], end=this_year()[1])
    html = page.text
    assert "Jaarverslag" in html and "Buurtwerk Noord" in html
    assert f'<span class="figure-value">{report["totals"]["residents"]}</span>' in html
    assert "Buurttuin" in html and "Speeltuin" in html and "Geheim project" not in html
    [entry] = report["scales"]
    assert entry["n_pairs"] == 20 and "2 projecten samen: 20 bewoners met een begin en een eind." in html
    assert 'role="img"' in html and "Alle projecten samen" in html  # the forest plot, and its table
    # The nav link on every staff page.
    assert '<a href="/organisation/report">Jaarverslag</a>' in worker.get("/projects").text


def test_a_bad_period_says_what_is_wrong_and_keeps_what_was_typed(client_for, world):
    worker = client_for(world["people"]["worker"].email)
    page = worker.get("/organisation/report?period=custom&from=31-02-2026&to=morgen")
    assert page.status_code == 400
    assert "Kijk de datums na" in page.text
    assert "Vul de eerste dag in als datum" in page.text and "Vul de laatste dag in als datum" in page.text
    assert 'value="31-02-2026"' in page.text and 'value="morgen"' in page.text
    assert "PDF maken" not in page.text
    swapped = worker.get("/organisation/report?period=custom&from=2026-12-31&to=2026-01-01")
    assert swapped.status_code == 400 and "De laatste dag ligt vóór de eerste dag" in swapped.text
    hostile = worker.get('/organisation/report?period=custom&from="><script>alert(1)</script>&to=x')
    assert "<script>alert(1)</script>" not in hostile.text and "&lt;script&gt;" in hostile.text


def test_custom_and_last_year_periods(client_for, world):
    worker = client_for(world["people"]["worker"].email)
    year = local_today().year
    custom = worker.get(f"/organisation/report?period=custom&from=1-1-{year}&to=31-12-{year}")
    assert custom.status_code == 200 and "Speeltuin" in custom.text
    last = worker.get("/organisation/report?period=last_year")
    assert last.status_code == 200 and f"1 januari {year - 1} tot 31 december {year - 1}" in last.text
    assert "Speeltuin" not in last.text  # nothing happened last year
    assert "In deze periode was er geen project actief" in last.text


def test_a_funder_sees_only_the_projects_shared_with_them(client_for, world):
    funder = client_for(world["people"]["funder"].email)
    page = funder.get("/organisation/report")
    assert page.status_code == 200
    assert "Je ziet alleen de projecten die met je gedeeld zijn." in page.text
    assert "Speeltuin" in page.text and "Buurttuin" not in page.text
    data = funder.get("/organisation/report.json").get_json()
    assert [row["name"] for row in data["projects"]] == ["Speeltuin"]
    other = client_for(world["people"]["other_admin"].email).get("/organisation/report")
    assert "Buurttuin" not in other.text and "Geheim project" in other.text


def test_the_json_is_the_services_report(app, session, client_for, world):
    admin = client_for(world["people"]["admin"].email)
    start, end = this_year()
    got = admin.get(f"/organisation/report.json?period=custom&from={start}&to={end}")
    assert got.status_code == 200 and got.mimetype == "application/json"
    assert "attachment" in got.headers["Content-Disposition"]
    body = json.loads(got.text)
    expected = org_report.build(context_for(app, session, world["org"]), start=start, end=end)
    for key in ("period", "totals", "projects", "scales", "reliable_change", "limitations"):
        assert body[key] == json.loads(json.dumps(expected[key])), key
    assert admin.get("/organisation/report.json?period=custom&from=x&to=y").status_code == 400


def test_make_the_pdf_starts_a_job_whose_file_is_the_registered_report(app, session, client_for, world):
    worker = client_for(world["people"]["worker"].email)
    page = worker.get("/organisation/report")
    start, end = this_year()
    started = worker.post("/organisation/report/pdf", data={"csrf_token": csrf_token(page.text),
                                                            "start": start.isoformat(), "end": end.isoformat(),
                                                            "lang": "en"})
    assert started.status_code == 302 and started.headers["Location"].startswith("/jobs/")
    public_id = started.headers["Location"].removeprefix("/jobs/")
    job = session.scalar(select(Job).where(Job.public_id == public_id))
    assert (job.kind, job.status) == ("org_report.pdf", "done")
    [(_key, result)] = jobs.item_results(session, job.id)
    session.commit()
    download = worker.get(f"/jobs/{public_id}/download")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    pdf = download.data
    assert docs.verify_file(session, pdf).status == "genuine"
    doc = session.scalar(select(Document).where(Document.code == result["code"]))
    assert (doc.kind, doc.language, doc.organisation_id) == ("org_report", "en", world["org"].id)
    assert result["filename"].startswith("impact-report-organisation-")
    # Without a valid CSRF token nothing starts.
    before = session.scalar(select(Job.id).order_by(Job.id.desc()).limit(1))
    session.commit()
    forged = worker.post("/organisation/report/pdf", data={"start": start.isoformat(), "end": end.isoformat(),
                                                           "lang": "nl"})
    assert forged.status_code in (200, 400)
    assert session.scalar(select(Job.id).order_by(Job.id.desc()).limit(1)) == before


def test_a_funder_with_nothing_shared_gets_an_empty_report_not_an_error(app, session, client_for, make_user, world):
    lonely = make_user("funder", world["org"])
    funder = client_for(lonely.email)
    page = funder.get("/organisation/report")
    assert page.status_code == 200 and "In deze periode was er geen project actief" in page.text
    assert "Buurttuin" not in page.text and "Speeltuin" not in page.text
    start, end = this_year()
    started = funder.post("/organisation/report/pdf", data={"csrf_token": csrf_token(page.text), "lang": "nl",
                                                            "start": start.isoformat(), "end": end.isoformat()})
    job = session.scalar(select(Job).where(Job.public_id == started.headers["Location"].removeprefix("/jobs/")))
    assert (job.kind, job.status) == ("org_report.pdf", "done")
    session.commit()
