"""Retention: the purge after a project's retention period, what residents and workers are told about it,
archiving and deleting projects, and the processing register (AVG art. 30). SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from surveyhub.cli import cli
from surveyhub.db import Base
from surveyhub.plugins import get_registry
from surveyhub.models import (AuditEvent, Consent, Document, Participant, Project, ProjectShare, Response,
                              Token, Wave)
from surveyhub.models._types import utcnow
from surveyhub.services import access, participants, projects, retention
from tests.fixtures.factories import csrf_token
from tests.fixtures.outcomes import answer, with_outcome_instruments

def people(tag: str) -> tuple[list[str], list[str]]:
    return [f"Bewoner{i} {tag}naam" for i in range(6)], [f"bewoner{i}.{tag.lower()}@voorbeeld.nl" for i in range(6)]


NAMES, EMAILS = people("Achter")


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")


def admin_actor(org) -> access.Actor:
    return access.Actor(organisation_id=org.id, role="admin")


def make_project(app, session, org, name="Buurttuin", residents=6, tag="Achter", **kwargs) -> tuple[str, list]:
    """A project with named residents who answered pre and post, and a certificate for the first."""
    names, emails = people(tag)
    info = projects.create_project(session, get_registry(app), admin_actor(org), name, ["rating"], **kwargs)
    invitations = participants.add_participants(session, admin_actor(org), info.slug,
                                                entries=list(zip(names[:residents], emails[:residents])))
    for i, invitation in enumerate(invitations):
        answer(app, session, info.slug, "pre", invitation.code, {("rating", "rating"): 4 + i % 3,
                                                                 ("rating", "story"): f"Verhaal van {names[i]}"},
               commit=False)
        session.add(Consent(participant_id=_participant(session, invitation.code).id, wording_version="1",
                            language="nl", share_quotes=True))
    projects.set_wave_status(session, admin_actor(org), info.slug, "post", "open")
    for i, invitation in enumerate(invitations):
        answer(app, session, info.slug, "post", invitation.code, {("rating", "rating"): 6 + i % 4}, commit=False)
    first = _participant(session, invitations[0].code)
    project = session.scalar(select(Project).where(Project.slug == info.slug))
    session.add(Document(code=doc_code("C", project.id), sha256="0" * 64, kind="certificate", organisation_id=org.id,
                         project_id=project.id, participant_id=first.id,
                         title=f"Certificaat voor {names[0]} — {name}"))
    session.add(Document(code=doc_code("R", project.id), sha256="1" * 64, kind="report", organisation_id=org.id,
                         project_id=project.id, title=f"Impactrapportage — {name}"))
    session.commit()
    return info.slug, invitations


def doc_code(letter: str, project_id: int) -> str:
    """A valid verification code, one per project and kind."""
    from surveyhub.rendering.verify import CODE_ALPHABET
    return f"{letter * 4}-{letter * 4}-{letter * 2}{CODE_ALPHABET[project_id % 32]}{CODE_ALPHABET[project_id // 32 % 32]}"


def _participant(session, code):
    return session.scalar(select(Participant).where(Participant.code == code))


def close_all(session, org, slug, months_ago: float) -> None:
    """Close every open wave, as if the last one closed ``months_ago`` months ago."""
    for kind in ("pre", "post"):
        projects.set_wave_status(session, admin_actor(org), slug, kind, "closed")
    project = session.scalar(select(Project).where(Project.slug == slug))
    back = utcnow() - timedelta(days=30.5 * months_ago)
    session.execute(update(Wave).where(Wave.project_id == project.id).values(closed_at=back))
    waves = select(Wave.id).where(Wave.project_id == project.id)
    session.execute(update(Response).where(Response.wave_id.in_(waves))
                    .values(updated_at=back - timedelta(days=1), completed_at=back - timedelta(days=1),
                            started_at=back - timedelta(days=2)))
    session.commit()


def everything_stored(session) -> str:
    """Every value in every table, as one string: what a search of the whole database would find."""
    parts = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)):
            parts.extend(str(value) for value in row)
    session.rollback()
    return "\n".join(parts)


def purge(runner, *args):
    """``surveyhub retention purge``; the test's session must not hold a transaction open."""
    result = runner.invoke(cli, ["retention", "purge", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


# --- the purge ------------------------------------------------------------------------------------

def test_a_project_past_retention_keeps_only_aggregates(app, runner, session, org):
    slug, invitations = make_project(app, session, org)
    close_all(session, org, slug, months_ago=25)
    kept, _ = make_project(app, session, org, name="Nog bezig", tag="Ander")
    close_all(session, org, kept, months_ago=23)
    before = retention.due_projects(session)
    session.rollback()  # every transaction takes SQLite's write lock (BEGIN IMMEDIATE): end it
    assert [d.slug for d in before] == [slug]

    output = purge(runner)

    assert f"{slug}: removed 6 residents, 12 responses" in output
    project = session.scalar(select(Project).where(Project.slug == slug))
    assert project.purged_at is not None
    assert session.scalars(select(Participant).where(Participant.project_id == project.id)).all() == []
    stored = everything_stored(session)
    for name, email, invitation in zip(NAMES, EMAILS, invitations):
        assert name not in stored and email not in stored and invitation.token not in stored
    assert "Bewoner0 Andernaam" in stored  # the project inside its period keeps everything
    summary = project.purged_summary
    assert summary["participation"] and summary["quotes"] == []
    assert "Verhaal van" not in json.dumps(summary)
    certificate = session.scalar(select(Document).where(Document.code == doc_code("C", project.id)))
    assert certificate.participant_id is None and certificate.revoked_reason == "retention"
    assert certificate.revoked_at is not None and NAMES[0] not in certificate.title
    code = doc_code("C", project.id)
    session.rollback()  # (reading project.id again would start a new transaction: SQLite's write lock)
    verified = app.test_client().get(f"/verify/{code}").text
    assert "De bewaartermijn is voorbij" in verified and NAMES[0] not in verified
    report = session.scalar(select(Document).where(Document.code == doc_code("R", project.id)))
    assert report.revoked_at is None  # the impact report names nobody and stays valid
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.purge")).all()
    assert event.details == {"residents": 6, "responses": 12, "answers": 18, "documents": 1}
    assert event.project_id == project.id and event.actor == "cli"


def test_the_project_inside_retention_is_untouched(app, runner, session, org):
    slug, invitations = make_project(app, session, org)
    close_all(session, org, slug, months_ago=23)
    assert "Nothing to purge." in purge(runner)
    project = session.scalar(select(Project).where(Project.slug == slug))
    assert project.purged_at is None
    assert len(session.scalars(select(Participant).where(Participant.project_id == project.id)).all()) == 6
    assert session.scalar(select(Token).where(Token.token == invitations[0].token)) is not None


def test_no_closed_wave_counts_from_the_last_response(app, session, org):
    slug, _ = make_project(app, session, org)
    project = session.scalar(select(Project).where(Project.slug == slug))
    last = session.scalar(select(Response.updated_at).order_by(Response.updated_at.desc()).limit(1))
    assert retention.purge_due(session, project) == retention.add_months(last, 24)


def test_the_period_comes_from_the_project_then_the_organisation_then_the_setting(app, session, org):
    slug, _ = make_project(app, session, org, retention_months=6)
    close_all(session, org, slug, months_ago=7)
    other, _ = make_project(app, session, org, name="Ander")
    close_all(session, org, other, months_ago=7)
    assert [d.slug for d in retention.due_projects(session)] == [slug]
    org_row = session.get(type(org), org.id)
    org_row.retention_months = 3
    session.commit()
    assert {d.slug for d in retention.due_projects(session)} == {slug, other}
    assert retention.add_months(utcnow().replace(month=1, day=31), 1).day in (28, 29)


def test_dry_run_changes_nothing(app, runner, session, org):
    slug, _ = make_project(app, session, org)
    close_all(session, org, slug, months_ago=25)
    before = everything_stored(session)
    output = purge(runner, "--dry-run")
    assert f"would purge {slug}: 6 residents, due " in output
    assert everything_stored(session) == before


def test_a_purged_project_is_not_purged_twice(app, runner, session, org):
    slug, _ = make_project(app, session, org)
    close_all(session, org, slug, months_ago=25)
    purge(runner)
    first = session.scalar(select(Project.purged_summary).where(Project.slug == slug))
    session.rollback()
    assert "Nothing to purge." in purge(runner)
    assert session.scalar(select(Project.purged_summary).where(Project.slug == slug)) == first
    assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.purge")).all()) == 1


def test_the_dashboard_of_a_purged_project_shows_the_stored_aggregates(app, runner, session, org, make_user,
                                                                        client_for):
    slug, _ = make_project(app, session, org)
    close_all(session, org, slug, months_ago=25)
    worker = make_user("worker", org=org)
    client = client_for(worker.email)
    before = client.get(f"/projects/{slug}/outcomes/report.json").json
    purge(runner)
    after = client.get(f"/projects/{slug}/outcomes/report.json").json
    assert after["scales"] == before["scales"] and after["participation"] == before["participation"]
    page = client.get(f"/projects/{slug}/outcomes")
    assert page.status_code == 200
    assert client.get(f"/projects/{slug}").status_code == 200


def test_a_purged_project_takes_no_new_residents_or_answers(app, runner, session, org, client):
    slug, invitations = make_project(app, session, org)
    close_all(session, org, slug, months_ago=25)
    purge(runner)
    assert client.get(f"/q/{invitations[0].token}").status_code == 404
    token = session.scalar(select(Project.anonymous_token).where(Project.slug == slug))
    session.rollback()
    closed = client.get(f"/a/{token}")
    assert closed.status_code == 200 and "gesloten" in closed.text
    with pytest.raises(Exception, match="removed"):
        participants.add_participants(session, admin_actor(org), slug, count=1)
    session.rollback()


# --- what residents and workers are told ------------------------------------------------------------

def test_the_start_page_states_the_retention_period(app, session, org, make_participant, client):
    info = projects.create_project(session, get_registry(app), admin_actor(org), "Buurttuin", ["rating"],
                                   retention_months=18)
    session.commit()
    invitation = make_participant(org, info.slug, "Anna")
    page = client.get(f"/q/{invitation.token}").text
    assert "We bewaren je antwoorden tot 18 maanden na de laatste meting." in page
    assert "Daarna verwijderen we alles wat over jou gaat." in page
    assert "Alleen cijfers over de hele groep blijven bewaard." in page


def test_the_promise_names_the_month_once_no_wave_is_open(app, session, org):
    slug, _ = make_project(app, session, org)
    close_all(session, org, slug, months_ago=1)
    project = session.scalar(select(Project).where(Project.slug == slug))
    promised = retention.promise(session, project)
    assert promised.months == 24 and promised.until == retention.purge_due(session, project)


def test_workers_see_a_purge_coming_30_days_ahead(app, runner, session, org, make_user, client_for):
    slug, _ = make_project(app, session, org)
    close_all(session, org, slug, months_ago=23.7)  # about 12 days to go
    later, _ = make_project(app, session, org, name="Later")
    close_all(session, org, later, months_ago=20)
    worker = make_user("worker", org=org)
    client = client_for(worker.email)
    [due] = retention.upcoming(session, admin_actor(org))
    session.rollback()
    notice = (f"Over {due.days_left()} dagen worden de persoonlijke gegevens van dit project verwijderd "
              f"(bewaartermijn 24 maanden).")
    assert notice in client.get(f"/projects/{slug}").text
    assert "dagen worden de persoonlijke gegevens" not in client.get(f"/projects/{later}").text
    dashboard = client.get("/").text
    assert "Buurttuin" in dashboard and "over %s dagen" % due.days_left() in dashboard
    output = purge(runner, "--dry-run")
    assert f"due in {due.days_left()} days: {slug}: 6 residents" in output and later not in output


def test_funders_see_no_purge_notice(app, session, org):
    slug, _ = make_project(app, session, org)
    close_all(session, org, slug, months_ago=23.7)
    assert retention.upcoming(session, access.Actor(organisation_id=org.id, role="funder")) == []


def test_the_project_form_and_cli_set_the_retention_period(app, runner, session, org, make_user, client_for):
    result = runner.invoke(cli, ["project", "create", "Kort", "--org", org.slug, "--instrument", "rating",
                                 "--retention-months", "6"])
    assert result.exit_code == 0, result.output
    slug = result.output.strip()
    assert session.scalar(select(Project.retention_months).where(Project.slug == slug)) == 6
    session.rollback()
    worker = make_user("worker", org=org)
    client = client_for(worker.email)
    form = client.get(f"/projects/{slug}/edit").text
    assert 'name="retention_months"' in form and 'value="6"' in form
    response = client.post(f"/projects/{slug}/edit", data={
        "csrf_token": csrf_token(form), "name": "Kort", "instruments": "rating@1", "retention_months": "12"})
    assert response.status_code == 302, response.text
    session.expire_all()
    assert session.scalar(select(Project.retention_months).where(Project.slug == slug)) == 12
    session.rollback()
    bad = runner.invoke(cli, ["project", "create", "Te lang", "--org", org.slug, "--instrument", "rating",
                              "--retention-months", "0"])
    assert bad.exit_code != 0


# --- the daily run ----------------------------------------------------------------------------------

def test_the_daily_purge_task_uses_the_app_settings(app, session, org):
    from surveyhub.queue import get_queue

    slug, _ = make_project(app, session, org)
    close_all(session, org, slug, months_ago=25)
    session.commit()
    get_queue(app).daily()  # the immediate queue of the tests runs it here
    session.expire_all()
    assert session.scalar(select(Project.purged_at).where(Project.slug == slug)) is not None
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.purge")).all()
    assert event.actor == "system"


def test_the_daily_purge_task_can_be_switched_off(app, session, org):
    from surveyhub.queue import get_queue

    slug, _ = make_project(app, session, org)
    close_all(session, org, slug, months_ago=25)
    session.commit()
    app.config["RETENTION_PURGE_DAILY"] = 0
    get_queue(app).daily()
    session.expire_all()
    assert session.scalar(select(Project.purged_at).where(Project.slug == slug)) is None

def test_serve_starts_gunicorn_with_the_config_module(app, runner, monkeypatch):
    import os

    seen = {}
    monkeypatch.setattr(os, "execve", lambda path, args, env: seen.update(args=args))
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    args = seen["args"]
    assert args[args.index("-c") + 1] == "python:surveyhub.gunicorn_conf"
    import surveyhub.gunicorn_conf as conf
    assert callable(conf.when_ready)


# --- archiving and deleting -------------------------------------------------------------------------

def post_form(client, url, page_url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client.get(page_url).text), **data})


def test_an_archived_project_is_read_only_hidden_and_can_be_restored(app, session, org, make_user, client_for,
                                                                     client):
    slug, _ = make_project(app, session, org, residents=1)
    invitations = participants.add_participants(session, admin_actor(org), slug, count=1)  # not answered yet
    session.commit()
    admin, worker = make_user("admin", org=org), make_user("worker", org=org)
    admin_client, worker_client = client_for(admin.email), client_for(worker.email)
    assert post_form(worker_client, f"/projects/{slug}/archive", "/").status_code == 403
    response = post_form(admin_client, f"/projects/{slug}/archive", "/admin/projects")
    assert response.status_code == 302
    assert "Buurttuin" not in worker_client.get("/").text
    assert "gearchiveerd" in worker_client.get(f"/projects/{slug}").text
    token = session.scalar(select(Project.anonymous_token).where(Project.slug == slug))
    session.rollback()
    for url in (f"/q/{invitations[0].token}", f"/a/{token}"):
        page = client.get(url)
        assert page.status_code == 200 and "Deze vragenlijst is gesloten" in page.text, url
    with pytest.raises(Exception, match="archived"):
        projects.set_wave_status(session, admin_actor(org), slug, "post", "closed")
    session.rollback()
    with pytest.raises(Exception, match="archived"):
        participants.add_participants(session, admin_actor(org), slug, count=1)
    session.rollback()
    edit_page = f"/projects/{slug}"
    refused = post_form(worker_client, f"/projects/{slug}/edit", edit_page, name="Nieuwe naam",
                        instruments="rating@1")
    assert refused.status_code == 302 and refused.location.endswith(f"/projects/{slug}")
    refused = post_form(worker_client, f"/projects/{slug}/participants", edit_page, names="Nieuwe Bewoner")
    assert refused.status_code == 302
    assert "Nieuwe" not in everything_stored(session)
    assert "gearchiveerd" in worker_client.get(f"/projects/{slug}").text
    listed = admin_client.get("/admin/projects").text
    assert "Buurttuin" in listed and "gearchiveerd" in listed
    assert post_form(admin_client, f"/projects/{slug}/restore", "/admin/projects").status_code == 302
    assert "Buurttuin" in worker_client.get("/").text
    assert "Welkom" in client.get(f"/q/{invitations[0].token}").text
    events = session.scalars(select(AuditEvent.details).where(AuditEvent.action == "project.archive")).all()
    assert events == [{"archived": True}, {"archived": False}]


def test_deleting_asks_for_the_project_name_and_removes_everything(app, session, org, make_user, client_for):
    slug, invitations = make_project(app, session, org)
    project_id = session.scalar(select(Project.id).where(Project.slug == slug))
    funder = make_user("funder", org=org)
    session.add(ProjectShare(project_id=project_id, user_id=funder.id))
    session.commit()
    admin, worker = make_user("admin", org=org), make_user("worker", org=org)
    admin_client = client_for(admin.email)
    assert client_for(worker.email).get(f"/projects/{slug}/delete").status_code == 403
    page = admin_client.get(f"/projects/{slug}/delete")
    assert page.status_code == 200 and "Typ de naam van het project" in page.text
    wrong = admin_client.post(f"/projects/{slug}/delete", data={"csrf_token": csrf_token(page.text),
                                                                "name": "buurttuin"})
    assert wrong.status_code == 200 and "Er is niets verwijderd" in wrong.text
    assert session.get(Project, project_id) is not None
    session.rollback()
    done = admin_client.post(f"/projects/{slug}/delete", data={"csrf_token": csrf_token(page.text),
                                                               "name": "Buurttuin"})
    assert done.status_code == 302
    session.expire_all()
    assert session.scalar(select(Project).where(Project.id == project_id)) is None
    for model, column in ((Participant, Participant.project_id), (Document, Document.project_id),
                          (Wave, Wave.project_id), (ProjectShare, ProjectShare.project_id)):
        assert session.scalars(select(model).where(column == project_id)).all() == [], model
    assert session.scalars(select(Response)).all() == [] and session.scalars(select(Token)).all() == []
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "project.delete")).all()
    assert event.project_id == project_id and event.details == {"residents": 6} and event.actor == admin.email
    session.rollback()
    assert admin_client.get(f"/projects/{slug}").status_code == 404


# --- the processing register ------------------------------------------------------------------------

@pytest.fixture
def shared_project(app, session, org, make_user):
    slug, _ = make_project(app, session, org, residents=2, retention_months=12)
    funder = make_user("funder", org=org, email="fonds@voorbeeld.nl")
    project_id = session.scalar(select(Project.id).where(Project.slug == slug))
    session.add(ProjectShare(project_id=project_id, user_id=funder.id))
    session.commit()
    return slug


def test_the_register_lists_the_real_settings(app, runner, session, org, shared_project, tmp_path):
    app.config.update(LOGIN_RATE_LIMIT="7 per minute", BASE_URL="https://buurtwerk.example", MIN_PAIRS_MEANS=8)
    out = tmp_path / "register.md"
    result = runner.invoke(cli, ["privacy", "register", "--org", org.slug, "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Verwerkingsregister (AVG artikel 30): Buurtwerk Noord")
    for expected in ("## Doelen", "## Ontvangers", "## Bewaartermijnen", "## Beveiligingsmaatregelen",
                     "| Buurttuin | 12 (project) |", "| fonds@voorbeeld.nl | Buurttuin |", "inloggen 7 per minute",
                     "argon2id", "CSRF", "cookies gaan alleen over HTTPS", "minder dan 8 bewoners",
                     "| Bewoners die meedoen aan een project | 2 |", "SurveyHub verwijdert ze zelf"):
        assert expected in text, expected
    assert ("SQLite-bestand" in text) == app.config["DATABASE_URL"].startswith("sqlite")
    english = runner.invoke(cli, ["privacy", "register", "--org", org.slug, "--lang", "en"]).output
    assert "# Processing register (GDPR article 30): Buurtwerk Noord" in english
    app.config.update(RETENTION_PURGE_DAILY=0, BASE_URL="http://buurtwerk.example")
    off = runner.invoke(cli, ["privacy", "register", "--org", org.slug]).output
    assert "Het dagelijks verwijderen staat uit" in off and "gebruikt geen HTTPS" in off
    assert "password" not in off.lower() or "postgresql" in off.lower()


def test_the_admin_page_shows_the_same_register(app, session, org, shared_project, make_user, client_for):
    admin, worker = make_user("admin", org=org), make_user("worker", org=org)
    page = client_for(admin.email).get("/admin/privacy")
    assert page.status_code == 200
    assert "Verwerkingsregister (AVG artikel 30): Buurtwerk Noord" in page.text
    assert "fonds@voorbeeld.nl" in page.text and "argon2id" in page.text
    assert client_for(worker.email).get("/admin/privacy").status_code == 403


def test_the_register_never_shows_the_database_password(app, session, org):
    from surveyhub.services import privacy_register

    settings = {**app.config, "DATABASE_URL": "postgresql+psycopg://hub:geheim123@db.intern/surveyhub"}
    text = privacy_register.to_markdown(privacy_register.build(session, org.id, settings))
    assert "geheim123" not in text and "PostgreSQL database surveyhub on db.intern" in text


def test_a_purge_that_is_due_says_today(app, session, org, make_user, client_for):
    slug, _ = make_project(app, session, org)
    close_all(session, org, slug, months_ago=25)  # due, but the purge has not run yet
    client = client_for(make_user("worker", org=org).email)
    assert ("Vandaag worden de persoonlijke gegevens van dit project verwijderd (bewaartermijn 24 maanden)."
            in client.get(f"/projects/{slug}").text)


def test_purging_one_project_checks_again_that_it_is_due(app, session, org):
    slug, _ = make_project(app, session, org)
    close_all(session, org, slug, months_ago=23)
    project_id = session.scalar(select(Project.id).where(Project.slug == slug))
    assert retention.purge_project(session, get_registry(app), project_id) is None
    session.rollback()
    assert retention.purge_project(session, get_registry(app), project_id,
                                   now=utcnow() + timedelta(days=62)) is not None
    session.rollback()


def test_an_admin_sets_the_organisations_retention_period_and_projects_follow_it(app, client_for, make_user,
                                                                                     make_project, session):
    """The organisation's own period (admin page and CLI) is what a project without one promises residents."""
    from tests.fixtures.factories import csrf_token
    from surveyhub.models import AuditEvent, Organisation, Project
    from surveyhub.services import retention

    admin = make_user("admin")
    org = session.get(Organisation, admin.organisation_id)
    info = make_project(org)
    session.commit()  # SQLite: an open read transaction here holds the write lock the pages need
    admin_client = client_for(admin.email)
    page = admin_client.get("/admin/privacy")
    assert page.status_code == 200 and "Bewaartermijn" in page.text
    bad = admin_client.post("/admin/privacy", data={"csrf_token": csrf_token(page.text), "retention_months": "500"})
    assert bad.status_code == 200
    session.expire_all()
    assert session.get(Organisation, org.id).retention_months is None
    session.commit()
    saved = admin_client.post("/admin/privacy", data={"csrf_token": csrf_token(page.text), "retention_months": "36"})
    assert saved.status_code == 302
    session.expire_all()
    project = session.scalar(select(Project).where(Project.slug == info.slug))
    assert retention.promise(session, project).months == 36
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "organisation.retention"))
    assert event.details == {"from": None, "to": 36} and event.actor == admin.email
    session.commit()

    done = app.test_cli_runner().invoke(args=["org", "retention", org.slug, "default"])
    assert done.exit_code == 0, done.output
    session.expire_all()
    assert session.get(Organisation, org.id).retention_months is None
    session.commit()
    refused = app.test_cli_runner().invoke(args=["org", "retention", org.slug, "9999"])
    assert refused.exit_code != 0 and "between 1 and 120" in refused.output
