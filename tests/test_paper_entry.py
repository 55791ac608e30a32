"""Paper entry that cannot harm: opening it creates nothing, replacing online answers needs a confirmation.

A worker types in a paper questionnaire through the same pages residents use.
Opening the screen stores nothing; answers for a resident who already answered
need a confirmed replacement, which is audited and marks the response as paper;
the resident's own later saves mark it as web again; scale scores follow every
change of answers.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyhub.models import Answer, AuditEvent, Response, ScaleScore
from tests.fixtures.factories import csrf_token
from tests.test_questionnaire import ORG_ITEMS, ParsedPage, Resident, count, finish_wave, key
from tests.test_questionnaire import query  # noqa: F401  (fixture)

#: Seven organising answers as written; org_5 is reverse-worded, so 2 counts as 4.
PAPER = dict(zip(ORG_ITEMS, ("4", "5", "4", "5", "2", "4", "5")))
PAPER_MEAN = (4 + 5 + 4 + 5 + 4 + 4 + 5) / 7  # 4.43

CONFIRM_TEXT = "Wil je die antwoorden vervangen door de papieren antwoorden?"


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")


@pytest.fixture
def project(org, make_project):
    return make_project(org, "Buurttuin")


@pytest.fixture
def worker_info(org, make_user):
    return make_user("worker", org, email="opbouwwerker@example.org")


@pytest.fixture
def worker(client_for, worker_info):
    return client_for(worker_info.email)


@pytest.fixture
def invitation(org, project, make_participant):
    return make_participant(org, project.slug, "Anna")


@pytest.fixture
def paper(project, invitation):
    return f"/projects/{project.slug}/participants/{invitation.code}/paper/pre"


def paper_consent(worker, paper):
    worker.post(paper, data={"csrf_token": csrf_token(worker.get(paper).text), "consent": "y"})


def paper_submit(worker, paper, n: int, answers: dict):
    page = worker.get(f"{paper}/p/{n}")
    assert page.status_code == 200, page.status_code
    return worker.post(f"{paper}/p/{n}", data={"csrf_token": csrf_token(page.text), "move": "next", **answers})


def paper_finish(worker, paper, first: dict, rest: str = "3"):
    """Enter page 0 with ``first``, every later page with ``rest``; the worker lands on the resident's page."""
    n, answers = 0, {key(item): value for item, value in first.items()}
    while True:
        sent = paper_submit(worker, paper, n, answers)
        assert sent.status_code == 302, (n, sent.status_code)
        if not sent.headers["Location"].endswith(f"/p/{n + 1}"):
            return sent
        n += 1
        questions = ParsedPage(worker.get(f"{paper}/p/{n}").text).questions
        answers = {q: rest for q in questions if "proud_of" not in q}


def organising_score(query) -> float | None:
    [(score,)] = query(select(ScaleScore.score).where(ScaleScore.block == "now",
                                                      ScaleScore.scale_id == "organising"))
    return score


def org_answers(query) -> dict[str, float]:
    rows = query(select(Answer.item_id, Answer.value_num).where(Answer.instrument_id == "organising",
                                                                Answer.item_id.in_(ORG_ITEMS)))
    return dict(rows)


def actions(query) -> list[str]:
    return [a for (a,) in query(select(AuditEvent.action).where(AuditEvent.action.like("response.%"))
                                .order_by(AuditEvent.id))]


def test_opening_paper_entry_creates_nothing(app, worker, invitation, paper, query):
    Resident(app.test_client(), invitation.token).consent()  # consent given online, no answers yet
    assert count(query, Response) == 1
    query_before = query(select(Response.channel, Response.entered_by_id, Response.status))
    assert worker.get(paper).status_code == 302
    assert worker.get(f"{paper}/p/0").status_code == 200
    assert query(select(Response.channel, Response.entered_by_id, Response.status)) == query_before


def test_opening_paper_entry_for_a_new_resident_creates_no_response(worker, project, invitation, paper, query):
    paper_consent(worker, paper)
    assert worker.get(f"{paper}/p/0").status_code == 200
    assert count(query, Response) == 0
    overview = worker.get(f"/projects/{project.slug}/participants")
    assert "bezig" not in overview.text.lower()


def test_plain_paper_entry_is_audited_and_marked_paper(worker, worker_info, invitation, paper, query):
    paper_consent(worker, paper)
    sent = paper_finish(worker, paper, PAPER)
    assert sent.headers["Location"].endswith(f"/participants/{invitation.code}")
    [(channel, entered_by, status)] = query(select(Response.channel, Response.entered_by_id, Response.status))
    assert (channel, entered_by, status) == ("paper", worker_info.id, "completed")
    assert actions(query) == ["response.paper_entry"]
    assert organising_score(query) == pytest.approx(PAPER_MEAN)


def test_completed_online_answers_need_a_confirmation_before_they_change(app, worker, invitation, paper, query):
    resident = Resident(app.test_client(), invitation.token)
    resident.consent()
    finish_wave(resident, "3")
    before = org_answers(query)
    assert set(before.values()) == {3.0} and organising_score(query) == 3.0

    shown = worker.get(paper, follow_redirects=True)
    assert shown.status_code == 200
    assert CONFIRM_TEXT in shown.text
    # Straight to the pages, without confirming: nothing changes.
    page = worker.get(f"{paper}/p/0", follow_redirects=True)
    assert CONFIRM_TEXT in page.text
    forced = worker.post(f"{paper}/p/0", data={"csrf_token": csrf_token(page.text), "move": "next",
                                               **{key(i): v for i, v in PAPER.items()}})
    assert forced.status_code in (302, 303) and forced.headers["Location"].endswith(paper)
    # A confirmation without the CSRF token changes nothing either.
    worker.post(paper, data={"confirm": "replace"})
    assert worker.get(f"{paper}/p/0", follow_redirects=True).text.count(CONFIRM_TEXT) == 1
    assert org_answers(query) == before
    [(channel, entered_by, status)] = query(select(Response.channel, Response.entered_by_id, Response.status))
    assert (channel, entered_by, status) == ("web", None, "completed")
    assert actions(query) == []


def test_a_confirmed_replacement_is_audited_marked_paper_and_rescored(app, worker, worker_info, invitation,
                                                                      paper, query):
    resident = Resident(app.test_client(), invitation.token)
    resident.consent()
    finish_wave(resident, "3")
    page = worker.get(paper, follow_redirects=True)
    confirmed = worker.post(paper, data={"csrf_token": csrf_token(page.text), "confirm": "replace"})
    assert confirmed.headers["Location"].endswith(f"{paper}/p/0")
    assert set(org_answers(query).values()) == {3.0}  # confirming alone changes nothing yet
    first = worker.get(f"{paper}/p/0")
    assert ParsedPage(first.text).checked == {}  # the paper starts blank, not with the online answers

    sent = paper_submit(worker, paper, 0, {key(i): v for i, v in PAPER.items()})
    assert sent.headers["Location"].endswith(f"{paper}/p/1")
    # The score follows the new answers at once, even before the last page.
    assert organising_score(query) == pytest.approx(PAPER_MEAN)
    [(channel, entered_by)] = query(select(Response.channel, Response.entered_by_id))
    assert (channel, entered_by) == ("paper", worker_info.id)
    assert actions(query) == ["response.paper_replace"]
    [(target, details)] = query(select(AuditEvent.target, AuditEvent.details)
                                .where(AuditEvent.action == "response.paper_replace"))
    assert invitation.code in target and invitation.token not in f"{target}{details}"

    paper_finish(worker, paper, PAPER)
    assert org_answers(query) == {i: float(v) for i, v in PAPER.items()}
    assert organising_score(query) == pytest.approx(PAPER_MEAN)
    assert actions(query) == ["response.paper_replace"]  # one event for one replacement


def test_the_residents_own_save_marks_the_response_web_again(app, worker, invitation, paper, query):
    paper_consent(worker, paper)
    paper_submit(worker, paper, 0, {key(i): v for i, v in PAPER.items()})
    [(channel,)] = query(select(Response.channel))
    assert channel == "paper"

    resident = Resident(app.test_client(), invitation.token)
    assert resident.open().headers["Location"].endswith("/p/1")
    questions = ParsedPage(resident.open("/p/1").text).questions
    saved = resident.submit(1, {q: "2" for q in questions if "proud_of" not in q})
    assert saved.status_code == 302
    [(channel, entered_by)] = query(select(Response.channel, Response.entered_by_id))
    assert (channel, entered_by) == ("web", None)
    # The worker's next page now asks first: the resident has answered online in between.
    assert CONFIRM_TEXT in worker.get(f"{paper}/p/1", follow_redirects=True).text


def test_the_residents_page_save_stores_the_scale_score(app, invitation, query):
    resident = Resident(app.test_client(), invitation.token)
    resident.consent()
    resident.submit(0, {key(i): v for i, v in PAPER.items()})
    assert organising_score(query) == pytest.approx(PAPER_MEAN)
    resident.submit(0, {**{key(i): v for i, v in PAPER.items()}, key("org_1"): "1"})
    assert organising_score(query) == pytest.approx(PAPER_MEAN - 3 / 7)


def test_a_double_click_on_the_first_replacing_page_replaces_once(app, worker, invitation, paper, query):
    resident = Resident(app.test_client(), invitation.token)
    resident.consent()
    finish_wave(resident, "3")
    page = worker.get(paper, follow_redirects=True)
    worker.post(paper, data={"csrf_token": csrf_token(page.text), "confirm": "replace"})
    first = worker.get(f"{paper}/p/0")
    data = {"csrf_token": csrf_token(first.text), "move": "next", **{key(i): v for i, v in PAPER.items()}}
    cookie = worker.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    second_click = app.test_client()  # sent before the first click's answer (and its cookie) came back
    second_click.set_cookie(cookie.key, cookie.value)
    assert worker.post(f"{paper}/p/0", data=data).headers["Location"].endswith(f"{paper}/p/1")
    assert second_click.post(f"{paper}/p/0", data=data).headers["Location"].endswith(f"{paper}/p/1")
    assert actions(query) == ["response.paper_replace"]
    assert org_answers(query) == {i: float(v) for i, v in PAPER.items()}


def test_a_csv_import_over_paper_answers_recomputes_the_score(runner, worker, project, invitation, paper, query,
                                                               tmp_path):
    from tests.fixtures.outcomes import csv_file, import_csv

    paper_consent(worker, paper)
    paper_submit(worker, paper, 0, {key(i): v for i, v in PAPER.items()})
    assert organising_score(query) == pytest.approx(PAPER_MEAN)
    path = csv_file(tmp_path / "paper.csv", ["participant", *ORG_ITEMS], [[invitation.code] + ["2"] * 7])
    import_csv(runner, project.slug, "pre", path)
    assert organising_score(query) == pytest.approx((2 * 6 + 4) / 7)  # org_5 is reverse-worded


def test_two_paper_forms_side_by_side_do_not_undo_each_other(org, project, make_participant, worker, query):
    first, second = (make_participant(org, project.slug, name) for name in ("Anna", "Bram"))
    urls = [f"/projects/{project.slug}/participants/{p.code}/paper/pre" for p in (first, second)]
    for url in urls:
        paper_consent(worker, url)
    for url in urls:  # page 0 of each, as in two tabs
        assert paper_submit(worker, url, 0, {key(i): v for i, v in PAPER.items()}).headers["Location"].endswith(
            f"{url}/p/1")
    for url in urls:  # each goes on without being asked to confirm
        assert worker.get(f"{url}/p/1").status_code == 200
    assert actions(query) == ["response.paper_entry", "response.paper_entry"]
