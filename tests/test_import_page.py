"""Importing answers from a CSV file in the browser: the result with its counts, every bad row listed
with nothing stored, undo, the 2 MB limit, CSRF, and who may do it."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from surveyhub.models import AuditEvent, Participant, Project, Response
from surveyhub.plugins import get_registry
from tests.fixtures.factories import csrf_token
from tests.fixtures.factories import sqlite_database_url as database_url  # noqa: F401  (SQLite only)


@pytest.fixture
def setup(make_org, make_user, make_project):
    org = make_org("Buurtwerk Noord")
    info = make_project(org, "Buurttuin")
    return {"org": org, "slug": info.slug, "worker": make_user("worker", org), "funder": make_user("funder", org),
            "stranger": make_user("worker", make_org("Welzijn Zuid"))}


def _items(app, session, slug) -> list[str]:
    project = session.scalars(select(Project).where(Project.slug == slug)).one()
    pinned = project.instruments[0]
    definition = get_registry(app).get(pinned.instrument_id, pinned.version).definition
    return [item["id"] for scale in definition["scales"] for item in scale["items"]]


def _csv(items, rows) -> bytes:
    lines = ["participant," + ",".join(items)] + [f"{code}," + ",".join(values) for code, values in rows]
    return ("\n".join(lines) + "\n").encode()


def _upload(client, slug, data: bytes, wave="pre", name="antwoorden.csv", **extra):
    page = client.get(f"/projects/{slug}/import?lang=nl")
    return client.post(f"/projects/{slug}/import?lang=nl", data={
        "csrf_token": csrf_token(page.text), "wave": wave, "file": (io.BytesIO(data), name), **extra},
        content_type="multipart/form-data")


def _count(session, model, slug) -> int:
    session.expire_all()
    project_id = session.scalar(select(Project.id).where(Project.slug == slug))
    if model is Participant:
        return session.scalar(select(func.count()).select_from(Participant).where(Participant.project_id == project_id))
    return session.scalar(select(func.count()).select_from(Response).join(Participant)
                          .where(Participant.project_id == project_id))


def test_import_shows_counts_then_undo_takes_it_all_back(client_for, setup, app, session):
    worker = client_for(setup["worker"].email)
    project_page = worker.get(f"/projects/{setup['slug']}?lang=nl")
    assert f'href="/projects/{setup["slug"]}/import"' in project_page.text
    items = _items(app, session, setup["slug"])
    data = _csv(items, [("P-1", ["4"] * len(items)), ("P-2", ["3"] * len(items)), ("P-3", ["5"] + [""] * (len(items) - 1))])
    response = _upload(worker, setup["slug"], data)
    assert response.status_code == 302, re.findall(r'class="error"[^>]*>([^<]*)|<li>([^<]*)', response.text)
    result = worker.get(response.headers["Location"] + "&lang=nl" if "?" in response.headers["Location"]
                        else response.headers["Location"])
    assert result.status_code == 200
    assert re.search(r"Rijen geïmporteerd</th><td>3</td>", result.text)
    assert re.search(r"Nieuwe bewoners \(codes die nog niet bekend waren\)</th><td>3</td>", result.text)
    assert _count(session, Participant, setup["slug"]) == 3 and _count(session, Response, setup["slug"]) == 3
    undo_url = re.search(r'action="([^"]+/undo)"', result.text).group(1)
    assert worker.post(undo_url, data={"csrf_token": csrf_token(result.text)}).status_code == 302
    assert _count(session, Participant, setup["slug"]) == 0 and _count(session, Response, setup["slug"]) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "responses.import_undo")) == 1
    # the plan is gone once used: its page says so, nothing breaks
    again = worker.get(result.request.path + "?lang=nl", follow_redirects=True)
    assert again.status_code == 200 and "kan niet meer worden teruggedraaid" in again.text


def test_undo_puts_changed_answers_back(client_for, setup, app, session):
    worker = client_for(setup["worker"].email)
    items = _items(app, session, setup["slug"])
    _upload(worker, setup["slug"], _csv(items, [("P-1", ["2"] * len(items))]))
    second = _upload(worker, setup["slug"], _csv(items, [("P-1", ["5"] * len(items))]))
    result = worker.get(second.headers["Location"])
    worker.post(re.search(r'action="([^"]+/undo)"', result.text).group(1),
                data={"csrf_token": csrf_token(result.text)})
    session.expire_all()
    response = session.scalars(select(Response).join(Participant).where(Participant.code == "P-1")).one()
    assert {a.value_num for a in response.answers} == {2.0}


def test_a_bad_file_lists_every_row_and_stores_nothing(client_for, setup, app, session):
    worker = client_for(setup["worker"].email)
    items = _items(app, session, setup["slug"])
    data = _csv(items, [("P-1", ["4"] * len(items)), ("P-2", ["9"] + ["3"] * (len(items) - 1)),
                        ("P-3", ["x"] + ["3"] * (len(items) - 1))])
    response = _upload(worker, setup["slug"], data)
    assert response.status_code == 200
    assert "Er is niets geïmporteerd: 2 fouten om te verbeteren" in response.text
    problems = re.search(r'<ul class="problems">(.*?)</ul>', response.text, re.S).group(1)
    assert problems.count("<li>") == 2 and "3" in problems and "4" in problems
    assert _count(session, Participant, setup["slug"]) == 0


def test_no_file_and_a_too_large_file_say_what_to_do(client_for, setup, app):
    worker = client_for(setup["worker"].email)
    assert "Kies een CSV-bestand." in _upload(worker, setup["slug"], b"").text
    app.config["MAX_UPLOAD_BYTES"] = 1000
    big = _upload(worker, setup["slug"], b"participant,x\n" + b"P-1,1\n" * 300)
    assert big.status_code == 200 and "te groot" in big.text


def test_a_request_over_the_upload_limit_is_refused_before_it_is_read(client_for, setup, app, session):
    assert app.config["MAX_CONTENT_LENGTH"] == app.config["MAX_UPLOAD_BYTES"] == 2 * 1024 * 1024
    worker = client_for(setup["worker"].email)
    app.config["MAX_CONTENT_LENGTH"] = 4096  # the same rule, at a size the test client keeps in memory
    response = _upload(worker, setup["slug"], b"participant,x\n" + b"P-1,1\n" * 1000)
    assert response.status_code == 413
    assert _count(session, Participant, setup["slug"]) == 0


def test_import_needs_csrf(client_for, setup, app, session):
    worker = client_for(setup["worker"].email)
    items = _items(app, session, setup["slug"])
    response = worker.post(f"/projects/{setup['slug']}/import", data={
        "wave": "pre", "file": (io.BytesIO(_csv(items, [("P-1", ["4"] * len(items))])), "a.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert _count(session, Participant, setup["slug"]) == 0


def test_funders_and_other_organisations_cannot_import(client_for, setup):
    for who, statuses in (("funder", (403, 404)), ("stranger", (404,))):
        client = client_for(setup[who].email)
        assert client.get(f"/projects/{setup['slug']}/import").status_code in statuses


def test_an_undo_link_is_only_for_the_worker_who_imported(client_for, make_user, setup, app, session):
    worker = client_for(setup["worker"].email)
    items = _items(app, session, setup["slug"])
    location = _upload(worker, setup["slug"], _csv(items, [("P-1", ["4"] * len(items))])).headers["Location"]
    colleague = client_for(make_user("worker", setup["org"]).email)
    page = colleague.get(location)
    assert page.status_code == 302 and "/undo" not in colleague.get(page.headers["Location"]).text
    undo = colleague.post(location.split("?")[0] + "/undo", data={"csrf_token": csrf_token(colleague.get("/").text)})
    assert undo.status_code == 302
    assert _count(session, Participant, setup["slug"]) == 1, "a colleague cannot take it back"
