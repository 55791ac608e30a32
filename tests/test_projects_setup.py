"""Setting up a project in the browser: the instrument chooser, form length, question mode, dates,
residents' first language, retention, and the questions and minutes per wave the form promises."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from surveyhub.cli import cli
from surveyhub.measures.definition import has_short_form, in_form, translate
from surveyhub.models import Project
from surveyhub.plugins import get_registry
from surveyhub.services import access, instruments, projects, responses
from surveyhub.services.errors import Conflict, Invalid
from surveyhub.services.questionnaire import build_pages, estimated_minutes, question_count
from tests.fixtures.factories import csrf_token
from tests.fixtures.factories import sqlite_database_url as database_url  # noqa: F401  (SQLite only)


def _refs(app, n=2):
    return [f"{i.id}@{i.version}" for i in sorted(get_registry(app).all(), key=lambda i: i.id)][:n]


def _post_new(client, **fields):
    token = csrf_token(client.get("/projects/new").text)
    data = {"csrf_token": token, "name": "Buurttuin", "form_length": "full", "question_mode": "page",
            "language": "nl", **fields}
    return client.post("/projects/new?lang=nl", data=data)


# --- the chooser ----------------------------------------------------------------------------------

def test_chooser_figures_match_each_instrument(app, session, org_people):
    registry = get_registry(app)
    entries = instruments.chooser(session, registry, org_people["org"].id, "nl")
    assert [e.name.casefold() for e in entries] == sorted(e.name.casefold() for e in entries)
    for entry in entries:
        definition = registry.get(entry.id, entry.version).definition
        pages = build_pages([definition], [], "pre", False)
        assert entry.items == question_count(pages) == sum(len(s["items"]) for s in definition["scales"]) \
            + len(definition.get("questions") or [])
        assert entry.minutes == estimated_minutes(pages)
        assert entry.name == translate(definition["title"], "nl")
        assert entry.example == translate(definition["scales"][0]["items"][0]["text"], "nl")
        if has_short_form(definition):
            short = build_pages([in_form(definition, "short")], [], "pre", False)
            assert (entry.short_items, entry.short_minutes) == (question_count(short), estimated_minutes(short))
            assert entry.short_items < entry.items
        else:
            assert entry.short_items is None


def test_new_project_page_shows_the_chooser_in_dutch(client_for, org_people, app, session):
    worker = client_for(org_people["worker"].email)
    html = worker.get("/projects/new?lang=nl").text
    entries = instruments.chooser(session, get_registry(app), org_people["org"].id, "nl")
    positions = [html.index(f'value="{e.ref}"') for e in entries]
    assert positions == sorted(positions), "sorted by the Dutch name"
    first = entries[0]
    assert first.name in html and f"{first.items} vragen" in html and f"ongeveer {first.minutes} minuten" in html
    shown = re.sub(r'<script type="application/json".*?</script>', "", html, flags=re.S)
    assert "organising@" not in re.sub(r'(value|id|for|aria-describedby)="[^"]*"', "", shown), "no bare ids shown"
    assert "Eén vraag per scherm" in html


# --- creating and editing -------------------------------------------------------------------------

def test_new_project_with_every_setting(client_for, org_people, app, session):
    worker = client_for(org_people["worker"].email)
    refs = _refs(app)
    response = _post_new(worker, instruments=refs, form_length="short", question_mode="one", language="en",
                         period_start="2026-01-05", period_end="2026-12-20", retention_months="18")
    assert response.status_code == 302
    project = session.scalars(select(Project).where(Project.name == "Buurttuin")).one()
    assert (project.form_length, project.question_mode, project.language) == ("short", "one", "en")
    assert (project.period_start, project.period_end) == (date(2026, 1, 5), date(2026, 12, 20))
    assert project.retention_months == 18
    assert [f"{p.instrument_id}@{p.version}" for p in project.instruments] == refs


def test_no_instrument_says_what_to_do_and_keeps_the_input(client_for, org_people):
    worker = client_for(org_people["worker"].email)
    response = _post_new(worker, name="Repair Café", description="Elke zaterdag", question_mode="one")
    assert response.status_code == 200
    assert "Kies minstens één vragenlijst." in response.text
    assert 'value="Repair Café"' in response.text and "Elke zaterdag" in response.text
    assert re.search(r'value="one"[^>]*checked|checked[^>]*value="one"', response.text)


@pytest.mark.parametrize("fields, message", [
    ({"period_start": "2026-05-01", "period_end": "2026-04-01"}, "einddatum"),
    ({"retention_months": "0"}, "Vul een aantal maanden in van 1 tot 120."),
    ({"name": ""}, "Geef het project een naam."),
])
def test_bad_input_gets_a_clear_message(client_for, org_people, app, session, fields, message):
    worker = client_for(org_people["worker"].email)
    response = _post_new(worker, instruments=_refs(app, 1), **fields)
    assert response.status_code == 200
    assert message in response.text
    assert session.scalar(select(Project.id)) is None


def test_language_must_be_one_the_instruments_have(app, session, org_people):
    actor = access.Actor(org_people["org"].id, "worker", org_people["worker"].id)
    registry = get_registry(app)
    lacking = [i for i in registry.all() if "pl" not in (i.definition.get("languages") or ["nl"])]
    if not lacking:
        pytest.skip("every installed instrument speaks Polish")
    with pytest.raises(Invalid):
        projects.create_project(session, registry, actor, "Pools", [f"{lacking[0].id}@{lacking[0].version}"],
                                setup=projects.Setup(language="pl"))


def test_recalculate_shows_figures_and_saves_nothing(client_for, org_people, app, session):
    worker = client_for(org_people["worker"].email)
    refs = _refs(app)
    response = _post_new(worker, instruments=refs, recalc="1")
    assert response.status_code == 200
    assert session.scalar(select(Project.id)) is None
    definitions = [get_registry(app).get(*instruments.parse_ref(r)).definition for r in refs]
    pages = build_pages(definitions, [], "pre", False)
    assert re.search(rf"<td class=\"questions\">{question_count(pages)}</td><td class=\"minutes\"[^>]*>ongeveer {estimated_minutes(pages)}</td>", response.text)


def test_short_form_cannot_change_after_answers(app, session, org_people):
    registry = get_registry(app)
    with_short = [i for i in registry.all() if has_short_form(i.definition)]
    if not with_short:
        pytest.skip("no installed instrument has a short form yet")
    actor = access.Actor(org_people["org"].id, "worker", org_people["worker"].id)
    ref = f"{with_short[0].id}@{with_short[0].version}"
    info = projects.create_project(session, registry, actor, "Kort", [ref], setup=projects.Setup(form_length="short"))
    project = session.scalars(select(Project).where(Project.slug == info.slug)).one()
    assert question_count(responses.pages_for(project, "pre")) < question_count(
        build_pages([with_short[0].definition], [], "pre", False))
    _answer_something(session, project)
    with pytest.raises(Conflict) as caught:
        projects.update_project(session, registry, actor, info.slug, "Kort", None, False, [ref],
                                setup=projects.Setup(form_length="full"))
    assert "cannot be compared" in str(caught.value)
    # the same form length again is fine: nothing changes
    projects.update_project(session, registry, actor, info.slug, "Kort en goed", None, False, [ref],
                            setup=projects.Setup(form_length="short", question_mode="one"))
    assert project.question_mode == "one"


def _answer_something(session, project):
    from surveyhub.models import Participant, Response
    participant = Participant(project_id=project.id, code="R-TEST1")
    session.add(participant)
    session.flush()
    wave = next(w for w in project.waves if w.kind == "pre")
    session.add(Response(participant_id=participant.id, wave_id=wave.id, language="nl"))
    session.flush()


def test_edit_form_refuses_short_change_with_reason(client_for, org_people, app, session):
    registry = get_registry(app)
    actor = access.Actor(org_people["org"].id, "worker", org_people["worker"].id)
    ref = _refs(app, 1)[0]
    info = projects.create_project(session, registry, actor, "Lang", [ref])
    _answer_something(session, session.scalars(select(Project).where(Project.slug == info.slug)).one())
    session.commit()
    worker = client_for(org_people["worker"].email)
    page = worker.get(f"/projects/{info.slug}/edit?lang=nl")
    assert "Bewoners hebben al geantwoord" in page.text
    response = worker.post(f"/projects/{info.slug}/edit?lang=nl", data={
        "csrf_token": csrf_token(page.text), "name": "Lang", "instruments": [ref], "form_length": "short",
        "question_mode": "page", "language": "nl"})
    assert response.status_code == 200
    assert "niet vergelijken" in response.text
    session.expire_all()
    assert session.scalars(select(Project).where(Project.slug == info.slug)).one().form_length == "full"


def test_edit_with_answers_and_the_same_instruments_in_another_order_saves(app, session, org_people):
    """The chooser lists instruments by name; the questionnaire's own order is kept and nothing 'changes'."""
    registry = get_registry(app)
    actor = access.Actor(org_people["org"].id, "worker", org_people["worker"].id)
    first, second = _refs(app, 2)
    info = projects.create_project(session, registry, actor, "Twee", [second, first])
    project = session.scalars(select(Project).where(Project.slug == info.slug)).one()
    _answer_something(session, project)
    projects.update_project(session, registry, actor, info.slug, "Twee, hernoemd", None, False, [first, second])
    assert project.name == "Twee, hernoemd"
    assert [f"{pi.instrument_id}@{pi.version}" for pi in project.instruments] == [second, first]
    with pytest.raises(Conflict):  # a real change is still refused
        projects.update_project(session, registry, actor, info.slug, "Twee", None, False, [first])


# --- permissions ----------------------------------------------------------------------------------

def test_funder_cannot_set_up_projects(client_for, org_people, make_project):
    info = make_project(org_people["org"], "Buurttuin")
    funder = client_for(org_people["funder"].email)
    assert funder.get("/projects/new").status_code in (403, 404)
    assert funder.get(f"/projects/{info.slug}/edit").status_code in (403, 404)


def test_admin_can_set_up_projects(client_for, org_people, app):
    admin = client_for(org_people["admin"].email)
    assert _post_new(admin, instruments=_refs(app, 1)).status_code == 302


# --- the command line offers the same -------------------------------------------------------------

def test_cli_create_with_short_one_per_screen_language_and_dates(runner, session, org_people):
    result = runner.invoke(cli, ["project", "create", "Kort en Bondig", "--org", org_people["org"].slug,
                                 "--instrument", "organising", "--short", "--one-per-screen", "--language", "en",
                                 "--start", "2026-02-01", "--end", "2026-11-30"])
    assert result.exit_code == 0, result.output
    project = session.scalars(select(Project).where(Project.slug == result.stdout.strip())).one()
    assert (project.form_length, project.question_mode, project.language) == ("short", "one", "en")
    assert (project.period_start, project.period_end) == (date(2026, 2, 1), date(2026, 11, 30))


def test_cli_refuses_an_end_before_the_start(runner, session, org_people):
    result = runner.invoke(cli, ["project", "create", "Achterstevoren", "--org", org_people["org"].slug,
                                 "--instrument", "organising", "--start", "2026-05-01", "--end", "2026-04-01"])
    assert result.exit_code != 0
    assert "end date" in result.output and "Traceback" not in result.output
    assert session.scalar(select(Project.id)) is None
