"""``surveyhub demo``: a realistic, idempotent demo that a worker can log in to at once."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from statistics import mean

import pytest
from sqlalchemy import func, select

from surveyhub.cli import cli
from surveyhub.models import Answer, Organisation, Participant, Project, Response, ScaleScore, User
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
    models = (Organisation, User, Project, Participant, Response, Answer, ScaleScore)
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
