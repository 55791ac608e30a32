"""The API's answers import, report JSON, organisation report and row exports, as a script with a token uses them."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from surveyhub.models import AuditEvent, Participant, Project
from surveyhub.services import access, projects
from tests.fixtures.factories import bearer
from tests.fixtures.outcomes import LAKENS_POST, LAKENS_PRE, cli_report, codes, with_outcome_instruments
from tests.test_api_projects import assert_problem

ROLES = ("admin", "worker")


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")


@pytest.fixture
def slug(org, make_project):
    return make_project(org, "Buurttuin Noord", instruments=("rating",)).slug


@pytest.fixture
def funder(org, make_user):
    return make_user("funder", org)


def csv_text(rows: list[list], header=("participant", "rating")) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def lakens(wave: str) -> str:
    return csv_text([[code, value] for code, value in zip(codes(10), LAKENS_PRE if wave == "pre" else LAKENS_POST)])


def post_csv(client, slug: str, token: str, wave: str, text: str):
    return client.post(f"/api/v1/projects/{slug}/responses/import?wave={wave}", data=text.encode("utf-8"),
                       headers={**bearer(token), "Content-Type": "text/csv"})


def participants(session, slug: str) -> int:
    count = session.scalar(select(func.count()).select_from(Participant).join(Project)
                           .where(Project.slug == slug))
    session.rollback()
    return count


def actions(session, action: str) -> list[AuditEvent]:
    found = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
    session.rollback()
    return found


def without_time(report: dict) -> dict:
    return {key: value for key, value in report.items() if key != "generated_at"}


@pytest.fixture
def imported(client, slug, org, make_api_token):
    """Lakens' ten pairs, imported through the API: the pre wave as a CSV body, the post wave as a multipart file."""
    token = make_api_token(org, role="admin")
    assert post_csv(client, slug, token, "pre", lakens("pre")).status_code == 200
    response = client.post(f"/api/v1/projects/{slug}/responses/import?wave=post", headers=bearer(token),
                           data={"file": (io.BytesIO(lakens("post").encode()), "post.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"wave": "post", "rows": 10, "new_participants": 0, "completed": 10, "waiting": 0}
    return slug


# --- import ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_a_csv_body_imports_answers_with_counts(client, session, org, slug, make_api_token, role):
    token = make_api_token(org, role=role)
    response = post_csv(client, slug, token, "pre", lakens("pre"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"wave": "pre", "rows": 10, "new_participants": 10, "completed": 10, "waiting": 0}
    assert participants(session, slug) == 10
    [event] = actions(session, "responses.import")
    assert event.details == {"rows": 10, "new_participants": 10}
    again = post_csv(client, slug, token, "pre", lakens("pre")).get_json()  # the same file again: the same result
    assert again["new_participants"] == 0 and participants(session, slug) == 10


def test_bad_rows_are_refused_whole_naming_row_and_column(client, session, org, slug, make_api_token):
    token = make_api_token(org)
    text = csv_text([["P001", "7"], ["P002", "11"], ["", "5"], ["P004", "zeven"]])
    body = assert_problem(post_csv(client, slug, token, "pre", text), 422, "invalid")
    errors = {(e["row"], e["column"]): e for e in body["errors"]}
    assert {(3, "rating"), (4, None), (5, "rating")} <= set(errors)
    assert {row for row, _column in errors} == {3, 4, 5}  # row 2 was fine
    assert errors[(3, "rating")]["location"] == "row 3, column rating"
    assert "'11' is not allowed" in errors[(3, "rating")]["message"]
    assert "0 to 10" in errors[(3, "rating")]["message"]
    assert errors[(4, None)]["message"] == "the participant cell is empty"
    assert "nothing was imported" in body["detail"]
    assert participants(session, slug) == 0  # not even P001, whose row was fine


def test_header_problems_and_unknown_waves(client, session, org, slug, make_api_token):
    token = make_api_token(org)
    body = assert_problem(post_csv(client, slug, token, "pre", csv_text([["P1", "3"]], header=("code", "rating"))),
                          422, "invalid")
    assert [e["location"] for e in body["errors"]] == ["header", "header"]  # no participant column; 'code'
    assert "'participant'" in body["errors"][0]["message"] and body["errors"][0]["row"] is None
    body = assert_problem(post_csv(client, slug, token, "middle", lakens("pre")), 422, "validation-error")
    assert body["errors"][0]["location"].endswith("wave")
    assert_problem(post_csv(client, slug, token, "retro", lakens("pre")), 422, "invalid")  # no retrospective block
    assert_problem(post_csv(client, slug, token, "pre", ""), 422, "invalid")
    assert participants(session, slug) == 0


def test_a_file_over_the_upload_limit_is_refused(app, client, session, org, slug, make_api_token):
    app.config["MAX_UPLOAD_BYTES"] = 1024
    token = make_api_token(org)
    text = csv_text([[f"P{i:04d}", "5"] for i in range(200)])
    assert len(text) > 1024
    assert_problem(post_csv(client, slug, token, "pre", text), 413, "too-large")
    assert participants(session, slug) == 0


def test_import_needs_its_scope_and_the_organisations_project(client, session, org, slug, funder, make_org,
                                                               make_api_token):
    narrow = make_api_token(org, scopes=("outcomes:read", "rows:export", "documents:read", "projects:manage"))
    assert_problem(post_csv(client, slug, narrow, "pre", lakens("pre")), 403, "insufficient-scope")
    other = make_api_token(make_org("Elders"), role="admin")
    assert_problem(post_csv(client, slug, other, "pre", lakens("pre")), 404, "not-found")
    funder_token = make_api_token(org, role="funder", funder_email=funder.email)
    projects.set_share(session, access.Actor(organisation_id=org.id, role="admin"), slug, funder.email, True)
    session.commit()
    assert_problem(post_csv(client, slug, funder_token, "pre", lakens("pre")), 404, "not-found")
    assert participants(session, slug) == 0


# --- the report JSON -------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_the_report_is_the_clis_json(client, runner, org, imported, make_api_token, role):
    response = client.get(f"/api/v1/projects/{imported}/report", headers=bearer(make_api_token(org, role=role)))
    assert response.status_code == 200 and response.mimetype == "application/json"
    report = response.get_json()
    assert without_time(report) == without_time(cli_report(runner, imported))
    assert report["scales"][0]["n_pairs"] == 10 and report["scales"][0]["test"]["t"] is not None


def test_a_funder_token_reads_the_report_of_a_shared_project_only(client, runner, session, org, imported, funder,
                                                                  make_api_token):
    token = make_api_token(org, role="funder", funder_email=funder.email, scopes=("outcomes:read",))
    assert_problem(client.get(f"/api/v1/projects/{imported}/report", headers=bearer(token)), 404, "not-found")
    projects.set_share(session, access.Actor(organisation_id=org.id, role="admin"), imported, funder.email, True)
    session.commit()
    response = client.get(f"/api/v1/projects/{imported}/report", headers=bearer(token))
    assert response.status_code == 200
    assert without_time(response.get_json()) == without_time(cli_report(runner, imported))
    [by_token] = [event for event in actions(session, "download.report") if event.user_id == funder.id]
    assert by_token.details == {"format": "json"} and by_token.source.startswith("api:")


def test_small_numbers_stay_suppressed(client, session, org, slug, make_api_token):
    token = make_api_token(org)
    three = csv_text([[code, 5] for code in codes(3)])
    assert post_csv(client, slug, token, "pre", three).status_code == 200
    assert post_csv(client, slug, token, "post", three).status_code == 200
    rating = client.get(f"/api/v1/projects/{slug}/report", headers=bearer(token)).get_json()["scales"][0]
    assert rating["n_pairs"] == 3 and rating["pre"]["mean"] is None and rating["change"]["mean"] is None


def test_report_scope_and_organisation(client, org, imported, make_org, make_api_token):
    narrow = make_api_token(org, scopes=("rows:export",))
    assert_problem(client.get(f"/api/v1/projects/{imported}/report", headers=bearer(narrow)), 403,
                   "insufficient-scope")
    other = make_api_token(make_org("Elders"))
    assert_problem(client.get(f"/api/v1/projects/{imported}/report", headers=bearer(other)), 404, "not-found")


# --- the organisation's report ---------------------------------------------------------------------

def test_the_organisation_report_is_the_clis_json(client, runner, org, imported, make_api_token):
    token = make_api_token(org)
    response = client.get("/api/v1/organisation/report?from=2000-01-01&to=2099-12-31", headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    result = runner.invoke(args=["report", "--org", org.slug, "--from", "2000-01-01", "--to", "2099-12-31"])
    assert result.exit_code == 0, result.output
    assert without_time(response.get_json()) == without_time(json.loads(result.stdout))
    assert [row["slug"] for row in response.get_json()["projects"]] == [imported]
    body = assert_problem(client.get("/api/v1/organisation/report?from=2026-12-31&to=2026-01-01",
                                     headers=bearer(token)), 422, "invalid")
    assert "after it ends" in body["detail"]
    assert_problem(client.get("/api/v1/organisation/report?from=gisteren", headers=bearer(token)), 422,
                   "validation-error")


def test_a_funder_tokens_organisation_report_holds_shared_projects_only(client, session, org, imported, funder,
                                                                        make_project, make_api_token):
    second = make_project(org, "Speeltuin Zuid", instruments=("rating",)).slug
    admin = make_api_token(org, role="admin")
    assert post_csv(client, second, admin, "pre", lakens("pre")).status_code == 200
    token = make_api_token(org, role="funder", funder_email=funder.email, scopes=("outcomes:read",))
    period = "from=2000-01-01&to=2099-12-31"
    assert client.get(f"/api/v1/organisation/report?{period}", headers=bearer(token)).get_json()["projects"] == []
    projects.set_share(session, access.Actor(organisation_id=org.id, role="admin"), imported, funder.email, True)
    session.commit()
    shown = client.get(f"/api/v1/organisation/report?{period}", headers=bearer(token)).get_json()
    assert [row["slug"] for row in shown["projects"]] == [imported]
    everything = client.get(f"/api/v1/organisation/report?{period}", headers=bearer(admin)).get_json()
    assert {row["slug"] for row in everything["projects"]} == {imported, second}
    assert_problem(client.get(f"/api/v1/organisation/report?{period}",
                              headers=bearer(make_api_token(org, scopes=("rows:export",)))), 403, "insufficient-scope")


# --- exports ---------------------------------------------------------------------------------------

def export(client, slug: str, token: str, query: str = ""):
    return client.get(f"/api/v1/projects/{slug}/export{query}", headers=bearer(token))


@pytest.mark.parametrize("role", ROLES)
def test_a_csv_export_parses_with_every_row(client, session, org, imported, make_api_token, role):
    response = export(client, imported, make_api_token(org, role=role), "?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{imported}-responses.csv"'
    assert "Content-Length" not in response.headers  # streamed as the rows are read, never held whole
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 20 and {row["participant"] for row in rows} == set(codes(10))
    pre = {row["participant"]: row["rating"] for row in rows if row["wave"] == "pre"}
    assert [int(float(pre[code])) for code in codes(10)] == LAKENS_PRE
    [event] = actions(session, "download.export")
    assert event.details == {"format": "csv", "table": "responses"}


def test_xlsx_json_and_dutch_excel_exports(client, org, imported, make_api_token):
    token = make_api_token(org)
    workbook = export(client, imported, token, "?format=xlsx")
    assert workbook.status_code == 200 and workbook.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(workbook.get_data()), read_only=True)["data"]
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][0] == "participant" and len(table) == 21
    rows = export(client, imported, token, "?format=json")
    assert rows.mimetype == "application/json"
    body = json.loads(rows.get_data(as_text=True))
    assert body["columns"][0] == "participant" and len(body["rows"]) == 20
    column = body["columns"].index("rating")
    assert sorted(row[column] for row in body["rows"] if row[1] == "post") == sorted(LAKENS_POST)
    dutch = export(client, imported, token, "?format=csv&dialect=excel-nl")
    assert dutch.get_data().startswith("\ufeff".encode()) and b";" in dutch.get_data().splitlines()[0]
    assert_problem(export(client, imported, token, "?format=docx"), 422, "invalid")
    assert_problem(export(client, imported, token, "?format=xlsx&dialect=excel-nl"), 422, "invalid")
    assert_problem(export(client, imported, token, "?dialect=mine"), 422, "validation-error")


def test_spreadsheets_above_the_instant_size_point_to_csv(client, org, imported, make_api_token, monkeypatch):
    from surveyhub.services import document_jobs

    monkeypatch.setattr(document_jobs, "EXPORT_ROWS_INSTANT", 5)
    token = make_api_token(org)
    body = assert_problem(export(client, imported, token, "?format=xlsx"), 422, "invalid")
    assert "format=csv" in body["detail"]
    assert len(export(client, imported, token, "?format=csv").get_data(as_text=True).splitlines()) == 21


def test_exports_are_for_admins_and_workers_with_the_scope(client, session, org, imported, funder, make_org,
                                                           make_api_token):
    projects.set_share(session, access.Actor(organisation_id=org.id, role="admin"), imported, funder.email, True)
    session.commit()
    funder_token = make_api_token(org, role="funder", funder_email=funder.email)
    assert_problem(export(client, imported, funder_token), 404, "not-found")
    assert_problem(export(client, imported, make_api_token(org, scopes=("outcomes:read",))), 403,
                   "insufficient-scope")
    assert_problem(export(client, imported, make_api_token(make_org("Elders"))), 404, "not-found")
    assert actions(session, "download.export") == []
