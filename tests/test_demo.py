"""``surveyhub demo``: a realistic, idempotent demo that a worker can log in to at once."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from statistics import mean

import pytest
from sqlalchemy import func, select

from surveyhub.cli import cli
from surveyhub.models import (Activity, ActivityParticipant, Answer, Network, NetworkProject, Organisation, Participant,
                              Project, Response, ScaleScore, User)
from surveyhub.services import accounts, demo
from surveyhub.services.participants import participant_by_token
from tests.fixtures.factories import csrf_token

LOGIN_LINE = re.compile(r"^\s+(admin|worker|funder)\s+(\S+)\s+password: (.+)$")


def run_demo(runner):
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    return result.stdout


def logins(output: str) -> dict[str, tuple[str, str]]:
    return {m.group(1): (m.group(2), m.group(3)) for m in map(LOGIN_LINE.match, output.splitlines()) if m}


def counts(session) -> dict[str, int]:
    models = (Organisation, User, Project, Participant, Response, Answer, ScaleScore, Activity, ActivityParticipant,
              Network, NetworkProject)
    result = {model.__name__: session.scalar(select(func.count()).select_from(model)) for model in models}
    session.commit()
    return result


def test_demo_twice_changes_nothing(runner, session, app):
    first = run_demo(runner)
    assert first.startswith("Demo data created.")
    after_first = counts(session)
    second = run_demo(runner)
    assert second.startswith("Demo data already present.")
    assert counts(session) == after_first
    assert logins(second) == logins(first)
    assert set(logins(first)) == {"admin", "worker", "funder"}
    logins_file = Path(app.instance_path) / "demo-logins.txt"
    assert stat.S_IMODE(logins_file.stat().st_mode) == 0o600

    # An instance folder that lost the passwords (another app server, a fresh folder) must
    # say so rather than print new passwords that were never set.
    logins_file.unlink()
    third = run_demo(runner)
    assert counts(session) == after_first
    for email, password in logins(third).values():
        valid = accounts.authenticate(session, email, password) is not None
        session.rollback()
        assert valid or password.startswith("("), f"{email}: printed a password that does not work"


def test_demo_has_thirty_residents_with_pre_answers_and_scores(runner, session, app):
    output = run_demo(runner)
    project = session.scalar(select(Project).where(Project.name == demo.DEMO_PROJECT))
    waves = {w.kind: w for w in project.waves}
    residents = session.scalars(select(Participant).where(Participant.project_id == project.id)).all()
    invited = {p.id for p in residents if p.source != "anonymous"}
    assert len(invited) == 30 and len(residents) == 30 + len(demo.ANONYMOUS)

    def completed(kind):
        return session.scalars(select(Response).where(Response.wave_id == waves[kind].id,
                                                      Response.status == "completed")).all()

    pre = [r for r in completed("pre") if r.participant_id in invited]
    post = [r for r in completed("post") if r.participant_id in invited]
    assert len(pre) == 30
    assert 0 < len(post) < 30  # some residents have not done the post questionnaire
    assert {r.participant_id for r in post} <= {r.participant_id for r in pre}
    assert waves["post"].status == "open"

    instruments = {pi.instrument_id for pi in project.instruments}
    assert instruments == set(demo.DEMO_INSTRUMENTS)
    for response in pre + post:
        now_scores = {s.instrument_id: s.score for s in response.scores if s.block == "now"}
        assert set(now_scores) == instruments
    post_then = [s for r in post for s in r.scores if s.block == "then"]
    assert post_then, "the retrospective block of the post wave is scored too"
    all_scores = [s.score for r in pre + post for s in r.scores]
    assert sum(score is not None for score in all_scores) >= 0.9 * len(all_scores)
    assert len({round(score, 2) for score in all_scores if score is not None}) > 10  # not all the same

    _check_organising_scores(project, pre)

    # The printed resident link belongs to someone who answered pre but not yet post.
    [link] = [line.split("Resident link: ")[1] for line in output.splitlines() if "Resident link: " in line]
    assert link.startswith(app.config["BASE_URL"] + "/q/")
    participant = participant_by_token(session, link.rsplit("/", 1)[1])
    assert {r.wave_id for r in participant.responses} == {waves["pre"].id}
    session.commit()


def test_the_demo_asks_the_short_form_one_question_per_screen(runner, session, app):
    """Its answers follow the short form: no answer to an item the short form leaves out."""
    from surveyhub.measures.definition import has_short_form
    from surveyhub.services import responses

    run_demo(runner)
    project = session.scalar(select(Project).where(Project.name == demo.DEMO_PROJECT))
    assert (project.form_length, project.question_mode) == ("short", "one")
    asked = {(d["id"], item["id"]) for d in responses.project_definitions(project)
             for scale in d["scales"] for item in scale["items"]}
    answered = set(session.execute(select(Answer.instrument_id, Answer.item_id).join(Response).join(Participant)
                                   .where(Participant.project_id == project.id, Answer.value_num.is_not(None))))
    questions = {(d["id"], q["id"]) for d in responses.project_definitions(project) for q in d.get("questions") or []}
    assert answered - questions <= asked
    if any(has_short_form(pi.snapshot.definition) for pi in project.instruments):
        full = {(pi.instrument_id, item["id"]) for pi in project.instruments
                for scale in pi.snapshot.definition["scales"] for item in scale["items"]}
        assert asked < full
    session.commit()


def test_two_anonymous_residents_make_a_fuzzy_pair_for_the_pairs_page(runner, session, app):
    from surveyhub.services import access, pair_review

    run_demo(runner)
    project = session.scalar(select(Project).where(Project.name == demo.DEMO_PROJECT))
    worker = session.scalar(select(User).where(User.email == dict(demo.ROLES)["worker"]))
    actor = access.Actor(organisation_id=project.organisation_id, role="worker", user_id=worker.id)
    [comparison] = pair_review.review(session, actor, project.slug).comparisons
    [pair] = comparison.pairs
    assert pair.status == "open" and pair.differences == [(2, "4", "5")]
    session.commit()


def _check_organising_scores(project, responses) -> None:
    """Recompute one scale by hand: the mean of the coded answers, reverse items flipped (in the form asked)."""
    from surveyhub.services.responses import project_definitions

    [definition] = [d for d in project_definitions(project) if d["id"] == "organising"]
    [scale] = definition["scales"]
    values = [option["value"] for option in definition["answer_sets"]["agree5"]]
    low, high = min(values), max(values)
    checked = 0
    for response in responses:
        answers = {a.item_id: a.value_num for a in response.answers
                   if a.block == "now" and a.instrument_id == "organising" and a.value_num is not None}
        coded = [low + high - answers[item["id"]] if item.get("reverse") else answers[item["id"]]
                 for item in scale["items"] if item["id"] in answers]
        [stored] = [s for s in response.scores if s.block == "now" and s.scale_id == scale["id"]]
        assert stored.n_answered == len(coded)
        if len(coded) >= scale["scoring"]["min_answered"]:
            assert stored.score == pytest.approx(mean(coded))
            checked += 1
        else:
            assert stored.score is None
    assert checked >= 25


def test_worker_logs_in_with_the_printed_password_and_sees_the_demo(runner, app):
    output = run_demo(runner)
    email, password = logins(output)["worker"]
    client = app.test_client()
    page = client.get("/login")
    response = client.post("/login", data={"csrf_token": csrf_token(page.text), "email": email,
                                           "password": password})
    assert response.status_code == 302
    dashboard = client.get("/?lang=en")
    assert dashboard.status_code == 200
    link = re.search(rf'href="(/projects/[^"/]+)">{demo.DEMO_PROJECT}<', dashboard.text)
    assert link, "the demo project is on the dashboard"
    project_page = client.get(link.group(1))
    assert project_page.status_code == 200
    assert "32 residents in this project." in project_page.text  # 30 invited, 2 on the anonymous link


def test_the_demo_tells_a_credible_story(runner, session, app):
    """Real names and job titles, a contact line, the project's story, varied open answers and chosen quotes."""
    from surveyhub.plugins import get_registry
    from surveyhub.services import access, outcomes, story_facts

    run_demo(runner)
    project = session.scalar(select(Project).where(Project.name == demo.DEMO_PROJECT))
    worker = session.scalar(select(User).where(User.email == dict(demo.ROLES)["worker"]))
    assert (worker.name, worker.job_title) == ("Sanne de Vries", "Opbouwwerker")
    assert not any((user.name or "").startswith("Demo ") for user in session.scalars(select(User)))
    actor = access.cli_actor(session, project_slug=project.slug)
    report = outcomes.project_report(session, get_registry(app), actor, project.slug)
    info = report["project"]
    assert info["funder"] and info["period"]["start"] and info["meetings_held"] and info["volunteer_hours"]
    assert 4 <= len(info["outputs"]) <= 5 and sum(output["photo"] for output in info["outputs"]) == 1
    assert len([line for line in info["recommendations"].splitlines() if line.strip()]) in (2, 3)
    # Open answers: at least ten different sentences, none repeated; three or four chosen for the report.
    texts = list(session.scalars(select(Answer.value_text).join(Response).where(
        Answer.value_text.is_not(None), Response.participant_id.in_(
            select(Participant.id).where(Participant.project_id == project.id)))))
    assert len(set(texts)) >= 10 and len(set(texts)) == len(texts)
    assert 3 <= len(report["quotes"]) <= 4 and all(quote["chosen"] for quote in report["quotes"])
    resident = session.scalar(select(Participant).where(Participant.project_id == project.id,
                                                        Participant.display_name == "Fatima"))
    facts = story_facts.certificate_facts(session, project.id, resident.id, worker.id)
    assert facts["resident_role"] and facts["organisation_contact"] and facts["worker_name"] == "Sanne de Vries"
    assert sum(role is not None for role in session.scalars(
        select(Participant.role).where(Participant.project_id == project.id))) >= 3
    # The worker set the project up, so certificates made on the command line carry her name and signature.
    assert project.created_by_id == worker.id
    session.commit()


# --- the organisation's whole impact (issue 14): activities, more projects, other organisations, a network ----

def _demo_project(session):
    return session.scalar(select(Project).where(Project.name == demo.DEMO_PROJECT))


def test_the_playground_residents_did_things_in_roles(runner, session, app):
    from surveyhub.models import Activity, ActivityParticipant
    from surveyhub.services import participation

    run_demo(runner)
    project = _demo_project(session)
    activities = session.scalars(select(Activity).where(Activity.project_id == project.id)).all()
    assert len(activities) >= 10 and {a.kind for a in activities} == {"meeting", "workday", "event", "training"}
    assert all(a.confirmed_at is not None and all(p.confirmed_at for p in a.participants) for a in activities)
    # Between the two questionnaires: what residents did while the project ran.
    waves = {w.kind: w for w in project.waves}
    starts = session.scalars(select(Response.completed_at).where(Response.wave_id == waves["pre"].id)).all()
    ends = session.scalars(select(Response.completed_at).where(Response.wave_id == waves["post"].id)).all()
    assert max(starts).date() <= min(a.happened_on for a in activities)
    assert max(a.happened_on for a in activities) <= min(ends).date()

    intensity = participation.by_participant(session, [project.id])
    names = {p.id: p.display_name for p in session.scalars(select(Participant)
                                                          .where(Participant.project_id == project.id))}
    by_name = {names[pid]: value for pid, value in intensity.items()}
    assert len(by_name) >= 20
    assert by_name["Fatima"].ever_led and by_name["Henk"].by_role.get("organiser") == 3
    assert by_name["Kees"].by_role.get("chair") == 3 and by_name["Aylin"].by_role.get("volunteer", 0) >= 3
    leaders = [name for name, value in by_name.items() if value.ever_led]
    assert 5 <= len(leaders) <= 10, "some residents led, most did not"
    hours = sorted(value.hours for value in by_name.values())
    assert hours[0] <= 6 and hours[-1] >= 25, "a spread of hours: from one evening to most of the year"
    # Some residents stayed longer than the activity itself (their own hours).
    assert session.scalar(select(func.count()).select_from(ActivityParticipant)
                          .join(Activity).where(Activity.project_id == project.id,
                                                ActivityParticipant.hours.is_not(None))) > 0
    session.commit()


def test_the_demo_organisation_has_a_year_of_projects(runner, session, app):
    from surveyhub.models import ProjectOutput
    from surveyhub.services import demo_field

    run_demo(runner)
    org = session.scalar(select(Organisation).where(Organisation.name == demo.DEMO_ORG))
    mine = {p.name: p for p in session.scalars(select(Project).where(Project.organisation_id == org.id))}
    assert set(mine) == {demo.DEMO_PROJECT, "Buurtkamer De Linde", "Bewonersraad Vlinderwijk",
                         "Buurttuin De Kersenboom"}

    def pinned(project):
        return {(pi.instrument_id, pi.snapshot.version) for pi in project.instruments}

    # The community room asks the playground's instruments, in the same versions: the organisation report pools them.
    assert pinned(mine["Buurtkamer De Linde"]) == pinned(mine[demo.DEMO_PROJECT])
    assert ("having_a_say", 1) in pinned(mine["Bewonersraad Vlinderwijk"])
    assert ("neighbourhood", 1) in pinned(mine["Buurttuin De Kersenboom"])
    for project in mine.values():
        assert session.scalar(select(func.count()).select_from(ProjectOutput)
                              .where(ProjectOutput.project_id == project.id)) >= 1
        assert project.period_start is not None
    # Every scale of the new instruments is scored in both waves.
    scored = set(session.execute(
        select(ScaleScore.instrument_id, ScaleScore.scale_id).join(Response).join(Participant)
        .where(Participant.project_id.in_([mine["Bewonersraad Vlinderwijk"].id, mine["Buurttuin De Kersenboom"].id]),
               ScaleScore.score.is_not(None))))
    assert {("having_a_say", "speaking_up"), ("having_a_say", "influence"), ("neighbourhood", "together"),
            ("neighbourhood", "at_home")} <= scored
    assert len(demo_field.PLANS) == 8
    session.commit()


def _pairs(session, project_id: int, instrument: str) -> int:
    """Residents with a score on ``instrument`` in both the pre and the post wave."""
    from surveyhub.models import Wave

    rows = session.execute(select(Participant.id, Wave.kind).join(Response, Response.participant_id == Participant.id)
                           .join(Wave, Wave.id == Response.wave_id).join(ScaleScore)
                           .where(Participant.project_id == project_id, ScaleScore.instrument_id == instrument,
                                  ScaleScore.block == "now", ScaleScore.score.is_not(None),
                                  Response.status == "completed")).all()
    pre = {pid for pid, kind in rows if kind == "pre"}
    return len(pre & {pid for pid, kind in rows if kind == "post"})


def test_enough_projects_elsewhere_for_compared_with_similar_projects(runner, session, app):
    """At least five projects of two other organisations, ten pairs or more each, on one instrument version."""
    from surveyhub.models import ProjectInstrument

    run_demo(runner)
    org = session.scalar(select(Organisation).where(Organisation.name == demo.DEMO_ORG))
    playground = {(pi.instrument_id, pi.snapshot.version) for pi in _demo_project(session).instruments}
    shown = []
    for instrument, version in sorted(playground):
        others = [project for project in session.scalars(
                      select(Project).join(ProjectInstrument).where(Project.organisation_id != org.id,
                                                                    ProjectInstrument.instrument_id == instrument))
                  if any(pi.instrument_id == instrument and pi.snapshot.version == version for pi in project.instruments)
                  and _pairs(session, project.id, instrument) >= 10]
        if len(others) >= 5 and len({p.organisation_id for p in others}) >= 2:
            shown.append(instrument)
    assert shown == ["cooperation"]
    assert all(o.shares_reference for o in session.scalars(select(Organisation)))
    session.commit()


def test_a_neighbourhood_network_the_municipality_may_read(runner, session, app):
    from surveyhub.models import Network, NetworkProject
    from surveyhub.services import access, demo_field

    output = run_demo(runner)
    [network] = session.scalars(select(Network)).all()
    orgs = {o.id: o.name for o in session.scalars(select(Organisation))}
    members = {orgs[m.organisation_id]: m.role for m in network.members}
    assert members == {demo.DEMO_ORG: "coordinator", "Woonstichting Demo": "member",
                       "Dorpsondersteuning Demo": "member"}
    opted = session.scalars(select(Project).join(NetworkProject, NetworkProject.project_id == Project.id)
                            .where(NetworkProject.network_id == network.id)).all()
    assert {orgs[p.organisation_id] for p in opted} == set(members)
    assert demo.DEMO_PROJECT in {p.name for p in opted}
    assert len(opted) < session.scalar(select(func.count()).select_from(Project)), "each organisation chose"
    funder = session.scalar(select(User).where(User.email == dict(demo.ROLES)["funder"]))
    actor = access.Actor(organisation_id=funder.organisation_id, role="funder", user_id=funder.id)
    assert session.scalars(access.networks_query(actor)).all() == [network]
    # Five residents took part in two organisations' projects with the same self-made code.
    shared = session.execute(select(Participant.self_code, Project.organisation_id).join(Project)
                             .where(Participant.self_code.in_(demo_field.SHARED_CODES))).all()
    assert len(shared) == 10 and len({org_id for _, org_id in shared}) == 2
    # The other organisations' admins can log in with the printed passwords.
    printed = dict(re.findall(r"^  [^:\n]+ Demo: (\S+)  password: (\S+)$", output, re.M))
    assert set(printed) == {org.email for org in (demo_field.HOUSING, demo_field.VILLAGE)}
    for email, password in printed.items():
        assert accounts.authenticate(session, email, password) is not None
        session.rollback()
    session.commit()
