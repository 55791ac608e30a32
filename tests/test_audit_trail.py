"""The audit trail: every download, questionnaire edit and wave change is recorded with who, what, when
and where (and its project); admins read it, filtered, in Dutch and local time, and export it as CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select

from surveyhub.models import AuditEvent, Project, Token
from surveyhub.services import access, audit, projects
from tests.fixtures.factories import csrf_token
from tests.fixtures.outcomes import answer, at_levels

UTC = timezone.utc


@pytest.fixture
def place(app, session, make_org, make_user, make_project, make_participant):
    """An organisation with an admin, a worker and a funder, a project where one resident finished
    pre and post, and another organisation with its own admin and project."""
    org = make_org("Buurtwerk Noord")
    project = make_project(org, "Buurttuin")
    done = make_participant(org, project.slug, "Fatima")
    make_participant(org, project.slug, "Joost")
    answer(app, session, project.slug, "pre", done.code, at_levels(session, project.slug, {"organising": 2}))
    answer(app, session, project.slug, "post", done.code, at_levels(session, project.slug, {"organising": 4}))
    other = make_org("Welzijn Zuid")
    other_project = make_project(other, "Speeltuin Zuid")
    people = {"admin": make_user("admin", org, "admin@noord.example"),
              "worker": make_user("worker", org, "worker@noord.example"),
              "funder": make_user("funder", org, "funder@noord.example"),
              "stranger": make_user("admin", other, "admin@zuid.example")}
    project_id = session.scalar(select(Project.id).where(Project.slug == project.slug))
    session.rollback()
    return {"org": org, "other": other, "slug": project.slug, "project_id": project_id,
            "other_slug": other_project.slug, "code": done.code, **people}


def _events(session, after_id: int = 0, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.id > after_id).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    found = list(session.scalars(query))
    session.rollback()
    return found


def _last_id(session) -> int:
    found = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    session.rollback()
    return found


def _get(client, url: str, form_page: str):
    """A download: a GET link, or a POST with the CSRF token where issuing needs one; a document made by a
    job (the test queue runs it at once) is fetched from the job's page."""
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, data={"csrf_token": csrf_token(client.get(form_page).text)})
    if response.status_code == 302 and response.headers["Location"].startswith("/jobs/"):
        response = client.get(response.headers["Location"] + "/download")
    return response


#: Downloads made by a job: recorded by the worker process, acting as the user who started it.
BY_JOB = ("documents/report.pdf", "documents/links.pdf", "documents/certificates.zip")


DOWNLOADS = [
    ("export.csv", "download.export", {"format": "csv"}),
    ("export.csv?dialect=excel-nl", "download.export", {"format": "csv", "dialect": "excel-nl"}),
    ("export.xlsx", "download.export", {"format": "xlsx"}),
    ("export.sav", "download.export", {"format": "sav"}),
    ("outcomes/report.json", "download.report", {"format": "json"}),
    ("outcomes/summary.csv", "download.report", {"format": "csv"}),
    ("documents/report.pdf", "download.report", {"kind": "report"}),
    ("documents/questionnaire-pre.pdf", "download.document", {"kind": "questionnaire"}),
    ("documents/certificate/{code}.pdf", "download.document", {"kind": "certificate"}),
    ("documents/links.pdf", "download.link_sheet", {"kind": "sheet"}),
    ("documents/certificates.zip", "download.certificates", {"count": 1}),
]


@pytest.mark.parametrize("path,action,details", DOWNLOADS, ids=[d[0] for d in DOWNLOADS])
def test_each_download_records_one_event_with_who_what_when_where(client_for, session, place, path, action,
                                                                    details):
    worker = client_for(place["worker"].email)
    before = _last_id(session)
    started = datetime.now(UTC) - timedelta(seconds=1)

    response = _get(worker, f"/projects/{place['slug']}/" + path.format(code=place["code"]),
                    f"/projects/{place['slug']}/documents")
    assert response.status_code == 200, response.status_code
    body = response.get_data()  # a streamed download is recorded before its first byte

    [event] = [e for e in _events(session, before) if e.action.startswith("download.")]
    assert event.action == action
    assert event.actor == place["worker"].email and event.user_id == place["worker"].id  # who
    assert event.source == ("job" if path in BY_JOB else "127.0.0.1")  # where
    assert event.project_id == place["project_id"] and event.organisation_id == place["org"].id
    assert started <= event.created_at <= datetime.now(UTC) + timedelta(seconds=1)  # when
    assert event.target.startswith(("project:", "document:"))  # what
    assert details.items() <= (event.details or {}).items()
    assert body


def test_no_token_or_answer_text_reaches_the_trail(client_for, session, place):
    worker = client_for(place["worker"].email)
    for path in ("export.csv", "documents/links.pdf", "outcomes/report.json"):
        assert _get(worker, f"/projects/{place['slug']}/{path}", f"/projects/{place['slug']}/documents"
                    ).status_code == 200
    tokens = list(session.scalars(select(Token.token)))
    anonymous = session.scalar(select(Project.anonymous_token).where(Project.id == place["project_id"]))
    session.rollback()
    trail = " ".join(f"{e.target} {e.details} {e.actor}" for e in _events(session))
    assert tokens and all(token not in trail for token in tokens + [anonymous])


def test_cli_downloads_are_recorded_as_the_command_line(runner, session, place, tmp_path):
    before = _last_id(session)
    for args in (["responses", "export", place["slug"], "--format", "csv", "-o", str(tmp_path / "r.csv")],
                 ["report", place["slug"], "-o", str(tmp_path / "r.json")],
                 ["certificates", place["slug"], "-o", str(tmp_path / "certs"), "-j", "1"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    events = [e for e in _events(session, before) if e.action.startswith("download.")]
    assert [e.action for e in events] == ["download.export", "download.report", "download.certificates"]
    assert all(e.actor == "cli" and e.source == "cli" and e.project_id == place["project_id"] for e in events)


def test_a_questionnaire_edit_and_a_wave_change_are_recorded(app, client_for, session, place):
    worker = client_for(place["worker"].email)
    slug = _new_project(app, session, place)
    page = worker.get(f"/projects/{slug}/questionnaire")
    before = _last_id(session)

    added = worker.post(f"/projects/{slug}/questionnaire",
                        data={"csrf_token": csrf_token(page.text), "qtype": "text", "text_nl": "Wat vond je ervan?"})
    assert added.status_code == 302
    token = csrf_token(worker.get(f"/projects/{place['slug']}").text)
    assert worker.post(f"/projects/{place['slug']}/waves/post/closed", data={"csrf_token": token}).status_code == 302
    assert worker.post(f"/projects/{place['slug']}/waves/post/open", data={"csrf_token": token}).status_code == 302

    edit, close, reopen = _events(session, before)
    assert (edit.action, close.action, reopen.action) == ("questionnaire.edit", "wave.close", "wave.open")
    assert edit.details["change"] == "add_question" and "Wat vond je" not in str(edit.details)
    assert all(e.actor == place["worker"].email and e.source == "127.0.0.1" for e in (edit, close, reopen))
    assert close.project_id == reopen.project_id == place["project_id"]
    assert edit.project_id == session.scalar(select(Project.id).where(Project.slug == slug))
    session.rollback()


def _new_project(app, session, place) -> str:
    """A project nobody answered yet (only such a questionnaire can change)."""
    from surveyhub.plugins import get_registry
    actor = access.Actor(organisation_id=place["org"].id, role="admin")
    info = projects.create_project(session, get_registry(app), actor, "Taalcafé", ["organising"])
    session.commit()
    return info.slug


def test_a_questionnaire_edit_through_the_service_is_recorded(app, session, place):
    slug = _new_project(app, session, place)
    actor = access.Actor(organisation_id=place["org"].id, role="admin", source="cli")
    before = _last_id(session)
    qid = projects.add_question(session, actor, slug, "yes_no", "Kwam je vaker?", None)
    projects.remove_question(session, actor, slug, qid)
    session.commit()
    assert [(e.action, e.details["change"], e.actor) for e in _events(session, before)] == [
        ("questionnaire.edit", "add_question", "cli"), ("questionnaire.edit", "remove_question", "cli")]


# --- the admin page ------------------------------------------------------------------------------

def _add(session, org_id, action, at, *, user=None, project_id=None, target=None, details=None, who=None,
         source="10.0.0.7"):
    session.add(AuditEvent(organisation_id=org_id, action=action, created_at=at, user_id=user.id if user else None,
                           actor=who or (user.email if user else None), project_id=project_id, target=target,
                           details=details, source=source))


@pytest.fixture
def trail(session, place, client_for):
    """Known events (times in UTC near a local midnight), and the admin logged in before them."""
    place["as_admin"] = client_for(place["admin"].email)
    org = place["org"].id
    session.execute(delete(AuditEvent))  # the login's own event would be the newest
    _add(session, org, "auth.login", datetime(2026, 11, 25, 13, 3, tzinfo=UTC), user=place["worker"])
    _add(session, org, "download.export", datetime(2026, 11, 25, 23, 30, tzinfo=UTC), user=place["worker"],
         project_id=place["project_id"], target=f"project:{place['slug']}", details={"format": "xlsx"})
    _add(session, org, "participant.view_link", datetime(2026, 11, 20, 9, 0, tzinfo=UTC), user=place["admin"],
         target=f"project:{place['slug']}/{place['code']}")  # an older event: the project only in its target
    _add(session, org, "plugin.something", datetime(2026, 11, 19, 9, 0, tzinfo=UTC), who="system", source=None)
    _add(session, place["other"].id, "download.export", datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
         user=place["stranger"], target="project:speeltuin-zuid", details={"format": "csv"})
    session.commit()
    return place


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in body.split("</tr>")[:-1]]


def test_the_page_shows_who_dutch_labels_and_local_time(client_for, trail):
    page = trail["as_admin"].get("/admin/audit")
    assert page.status_code == 200
    rows = _rows(page.text)
    assert len(rows) == 4  # newest first, none of the other organisation's
    assert rows[0].startswith("26 november 2026 00:30 worker@noord.example Export gedownload")
    assert "formaat: xlsx" in rows[0]
    assert rows[1].startswith("25 november 2026 14:03 worker@noord.example Ingelogd")
    assert rows[2].startswith("20 november 2026 10:00 admin@noord.example Persoonlijke link bekeken")
    assert "system plugin.something" in rows[3]  # an unknown code is shown as it is
    assert "10.0.0.7" in rows[0] and "admin@zuid.example" not in page.text
    assert "Dit filter is niet gebruikt" not in page.text


def test_the_page_filters_by_user_event_project_and_period(client_for, trail):
    admin = trail["as_admin"]

    def shown(**args):
        return _rows(admin.get("/admin/audit", query_string=args).text)

    assert len(shown(user=trail["worker"].id)) == 2
    assert [r.split(" admin@")[0] for r in shown(event="participant.view_link")] == ["20 november 2026 10:00"]
    by_project = shown(project=trail["project_id"])
    assert len(by_project) == 2 and all("buurttuin" in r for r in by_project)
    # Local days: 23:30 UTC on the 25th is 00:30 on the 26th in Amsterdam.
    assert len(shown(since="2026-11-26")) == 1
    assert len(shown(since="2026-11-20", until="2026-11-25")) == 2
    assert len(shown(user=trail["worker"].id, event="auth.login", until="2026-11-25")) == 1
    assert "Dit filter is niet gebruikt" not in admin.get("/admin/audit", query_string={"user": trail["worker"].id}).text
    assert shown(user=trail["stranger"].id) != []  # another organisation's user is no filter: left out
    page = admin.get("/admin/audit", query_string={"user": trail["stranger"].id}).text
    assert "Dit filter is niet gebruikt" in page and "admin@zuid.example" not in page


def test_the_time_zone_is_a_setting(app_config, trail, client_for):
    from surveyhub import create_app

    other = create_app({**app_config, "TIMEZONE": "UTC"})
    try:
        page = other.test_client()
        token = csrf_token(page.get("/login").text)
        page.post("/login", data={"csrf_token": token, "email": trail["admin"].email,
                                  "password": "correct horse battery"})
        rows = _rows(page.get("/admin/audit", query_string={"user": trail["worker"].id}).text)
        assert rows[0].startswith("25 november 2026 23:30") and rows[1].startswith("25 november 2026 13:03")
    finally:
        other.extensions["surveyhub.db"].engine.dispose()


def test_the_page_is_paginated(client_for, session, trail):
    for n in range(205):
        _add(session, trail["org"].id, "auth.login", datetime(2026, 10, 1, tzinfo=UTC) + timedelta(minutes=n),
             user=trail["worker"])
    session.commit()
    admin = trail["as_admin"]
    first = admin.get("/admin/audit")
    assert len(_rows(first.text)) == 100 and "Pagina 1 van 3" in first.text
    last = admin.get("/admin/audit", query_string={"page": 3, "event": "auth.login"})
    assert len(_rows(last.text)) == 6 and "Pagina 3 van 3" in last.text


def test_csv_export_is_filtered_formula_safe_and_audited(client_for, session, trail):
    _add(session, trail["org"].id, "download.export", datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
         who="=HYPERLINK(\"http://evil\")", target="@SUM(A1)", details={"format": "-2+3"}, source="\t1.2.3.4")
    session.commit()
    admin = trail["as_admin"]

    response = admin.get("/admin/audit.csv", query_string={"event": "download.export"})

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, data = rows[0], rows[1:]
    assert header[0] == "when (Europe/Amsterdam)" and len(data) == 3
    assert data[0][1:6] == [trail["admin"].email, "download.export", "Export gedownload", "", "audit"]  # this one
    assert data[1][:4] == ["2026-11-26 09:00:00", "'=HYPERLINK(\"http://evil\")", "download.export",
                           "Export gedownload"]
    for cell in (c for row in data for c in row):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert all("admin@zuid.example" not in c for row in data for c in row)
    [recorded] = _events(session, action="download.export")[-1:]
    assert (recorded.target, recorded.actor, recorded.details) == (
        "audit", trail["admin"].email, {"format": "csv", "event": "download.export"})


def test_only_admins_read_the_trail(client_for, trail):
    for role in ("worker", "funder"):
        user = client_for(trail[role].email)
        assert user.get("/admin/audit").status_code == 403
        assert user.get("/admin/audit.csv").status_code == 403


def test_another_organisations_admin_sees_only_their_own(client_for, trail):
    stranger = client_for(trail["stranger"].email)
    rows = _rows(stranger.get("/admin/audit").text)
    assert all("noord.example" not in row for row in rows)
    assert any("admin@zuid.example" in row for row in rows)
    data = stranger.get("/admin/audit.csv").get_data(as_text=True)
    assert "noord.example" not in data and "buurttuin" not in data
    page = stranger.get("/admin/audit", query_string={"project": trail["project_id"]}).text
    assert "buurttuin" not in page


def test_period_bounds_are_local_days():
    from zoneinfo import ZoneInfo
    from datetime import date

    since, until = audit.period(date(2026, 3, 29), date(2026, 3, 29), ZoneInfo("Europe/Amsterdam"))
    assert since == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # winter time at midnight
    assert until == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # summer time by the next midnight


def test_every_action_code_has_a_dutch_label(app):
    from flask_babel import force_locale

    from surveyhub.web.audit_labels import LABELS, label
    codes = ("auth.login auth.login_failed auth.logout auth.password_change auth.password_reset_sent "
             "auth.password_reset_used auth.totp_on auth.totp_off user.create user.role_change user.activate "
             "user.deactivate project.create project.update project.share project.unshare project.archive "
             "project.delete wave.open wave.close questionnaire.edit participants.add participant.view_link "
             "participant.renew_link participant.export_data participant.erase response.paper_entry "
             "response.paper_replace responses.import download.export download.report download.document "
             "download.certificates download.link_sheet document.issue document.revoke retention.purge "
             "instrument.upload organisation.create organisation.signing_key").split()
    assert set(codes) <= set(LABELS)
    with app.test_request_context(), force_locale("nl"):
        assert label("download.certificates") == "Alle certificaten gedownload"
        assert label("made.up") == "made.up"
        assert len({label(code) for code in codes}) == len(codes)  # every event reads differently
        assert label("wave.closed") == "Meting gesloten" and label("user.login") == "Ingelogd"  # older codes


def test_the_command_line_lists_and_exports_the_trail(runner, session, trail):
    listed = runner.invoke(args=["audit", "list", "--org", "Buurtwerk Noord", "--since", "2026-11-20",
                                 "--until", "2026-11-25", "--project", trail["slug"]])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].startswith("2026-11-20 10:00:00  admin@noord.example  participant.view_link")
    assert len(lines) == 1  # the export at 00:30 on the 26th (local) is after --until

    exported = runner.invoke(args=["audit", "list", "--org", "buurtwerk-noord", "--event", "download.export",
                                   "--csv"])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.reader(io.StringIO(exported.stdout.lstrip("\ufeff"))))
    assert [row[4] for row in rows[1:]] == ["", "buurttuin"]  # its own export first, then the worker's
    assert "zuid" not in exported.stdout

    unknown = runner.invoke(args=["audit", "list", "--org", "buurtwerk-noord", "--project", trail["other_slug"]])
    assert unknown.exit_code == 1 and "no project" in unknown.output


def test_an_unknown_time_zone_is_refused_in_one_line(tmp_path):
    from surveyhub import create_app
    from surveyhub.config import ConfigError

    with pytest.raises(ConfigError, match="SURVEYHUB_TIMEZONE: unknown time zone 'Mars/Olympus'"):
        create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "t", "PLUGINS_DIR": "", "TIMEZONE": "Mars/Olympus"})


def test_the_export_reads_in_batches_without_repeats_or_gaps(app, session, trail):
    same_moment = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    for n in range(25):  # many at one moment: the batches must split by id too
        _add(session, trail["org"].id, "auth.login", same_moment if n < 15 else same_moment + timedelta(minutes=n),
             user=trail["worker"])
    session.commit()
    actor = access.Actor(organisation_id=trail["org"].id, role="admin")
    everything = [e.id for e in audit.all_events(session, actor, audit.Filters())]
    assert everything == [e.id for e in audit.all_events(session, actor, audit.Filters(), batch=4)]
    assert len(everything) == len(set(everything)) == 29


def test_every_event_that_names_a_project_carries_its_id(app, session, place):
    from surveyhub.services import participants

    actor = access.Actor(organisation_id=place["org"].id, role="worker", user_id=place["worker"].id,
                         email=place["worker"].email, source="10.1.2.3")
    participants.renew_link(session, actor, place["slug"], place["code"])
    projects.set_wave_status(session, actor, place["slug"], "followup", "open")
    session.commit()
    named = [e for e in _events(session) if (e.target or "").startswith("project:")]
    assert {"project.create", "participants.add", "participant.renew_link", "wave.open"} <= {e.action for e in named}
    assert [e.action for e in named if e.project_id is None] == []


def test_too_many_events_for_one_download_get_a_clear_message(client_for, session, trail, monkeypatch):
    from surveyhub.web import admin

    monkeypatch.setattr(admin, "AUDIT_CSV_MAX", 3)
    response = trail["as_admin"].get("/admin/audit.csv", query_string={"user": trail["worker"].id})
    assert response.status_code == 200  # two events: within the limit
    downloads = len(_events(session, action="download.export"))
    refused = trail["as_admin"].get("/admin/audit.csv", follow_redirects=True)
    assert "Dit zijn 5 gebeurtenissen" in refused.text  # four, and the download just made
    assert "surveyhub audit list --csv" in refused.text
    assert len(_events(session, action="download.export")) == downloads  # the refused one is no download
