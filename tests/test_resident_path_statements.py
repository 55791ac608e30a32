"""How many SQL statements one resident request costs (issue 10, "a straight resident path").

A page GET resolves the link once (``resident.open_session``: link, waves,
response, consent and the questionnaire's shape in one statement) and reads
the page's saved answers; a page POST resolves the same way and writes the
answers (one multi-row upsert), re-reads the instrument's answers, writes its
scale scores (one upsert) and the response row. Counted: every statement the
app's engine sends to the database (``before_cursor_execute``), except
transaction control and pragmas (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE,
PRAGMA) — on SQLite the ``BEGIN IMMEDIATE`` of a writing request is not
counted, and a reading request sends none. Both backends; the caches
(instrument snapshots, pages, form classes) are warm, as in a running server.

Also here: the unit of work (``db.unit_of_work``, ``db.after_commit``) that
sends the completion event only once the answers are committed, for the
browser and the CLI import alike.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import select

from surveyhub.db import after_commit, unit_of_work
from surveyhub.hookspecs import hookimpl
from surveyhub.models import Answer, Response
from tests.fixtures.factories import csrf_token
from tests.fixtures.statements import statements as recorded
from tests.fixtures.outcomes import csv_file, new_project
from tests.test_questionnaire import Resident, all_agree, finish_wave

MAX_GET = 4
MAX_POST = 6


class Completed:
    """Hears ``surveyhub_response_completed``; remembers what was stored when it heard it."""

    def __init__(self):
        self.events: list[dict] = []
        self.app = None

    @hookimpl
    def surveyhub_response_completed(self, response):
        with self.app.extensions["surveyhub.db"].session() as session:  # another connection: committed data only
            stored = session.scalar(select(Response.status).join(Response.participant)
                                    .where(Response.participant.has(code=response["participant"])))
        self.events.append({**response, "stored_status": stored})


@pytest.fixture
def completed():
    return Completed()


@pytest.fixture
def app_config(app_config, completed):
    return {**app_config, "EXTRA_PLUGINS": {"tests.statements.completed": completed}}


@contextmanager
def statements(app):
    """The statements the app sends meanwhile (transaction control and pragmas left out)."""
    with recorded(app.extensions["surveyhub.db"].engine, control=False) as seen:
        yield seen


def listing(seen: list[str]) -> str:
    return "\n".join(f"{n}. {text[:160]}" for n, text in enumerate(seen, 1))


@pytest.fixture
def residents(client, app, make_org, make_project, make_participant):
    """Two residents of one project who gave consent; the first has been through page 0 once (warm caches)."""
    org = make_org()
    project = make_project(org)
    first = Resident(client, make_participant(org, project.slug).token)
    second = Resident(app.test_client(), make_participant(org, project.slug).token)
    for resident in (first, second):
        resident.consent()
    assert first.submit(0, all_agree("3")).status_code == 302
    return first, second


def stored(app, value: float) -> int:
    with app.extensions["surveyhub.db"].session() as session:
        return len(session.scalars(select(Answer.id).join(Response).where(Answer.value_num == value)).all())


def test_a_page_get_costs_at_most_four_statements_and_writes_nothing(app, residents):
    first, second = residents
    for resident in (first, second):  # with saved answers, and before the first save
        with statements(app) as seen:
            page = resident.open("/p/0")
        assert page.status_code == 200 and "csrf_token" in page.text
        assert len(seen) <= MAX_GET, listing(seen)
        assert all(text.upper().startswith("SELECT") for text in seen), listing(seen)


def test_a_page_post_of_seven_answers_costs_at_most_six_statements(app, residents):
    first, second = residents
    answers = all_agree("4")
    assert len(answers) == 7
    for resident in (first, second):  # answers changed, and answers stored for the first time
        token = csrf_token(resident.open("/p/0").text)
        with statements(app) as seen:
            sent = resident.submit(0, answers, csrf=token)
        assert sent.status_code == 302 and sent.headers["Location"].endswith("/p/1")
        assert len(seen) <= MAX_POST, listing(seen)
        writes = [text for text in seen if not text.upper().startswith("SELECT")]
        assert len(writes) == 3, listing(seen)  # answers, scale scores, the response row: one statement each
    assert stored(app, 4.0) == 14  # every answer of both residents is there


# --- the unit of work: the completion event after the commit ----------------------------------------------

def test_after_commit_callbacks_run_once_after_the_commit_never_after_a_rollback(app):
    ran = []
    with app.extensions["surveyhub.db"].session() as session:
        session.execute(select(1))
        after_commit(session, lambda: ran.append("rolled back"))
        session.rollback()
        with unit_of_work(session):
            session.execute(select(1))
            after_commit(session, lambda: ran.append("committed"))
            assert ran == []  # not before the commit
        assert ran == ["committed"]
        with pytest.raises(RuntimeError):
            with unit_of_work(session):
                after_commit(session, lambda: ran.append("failed"))
                raise RuntimeError("the work failed")
        session.commit()
        assert ran == ["committed"]


def test_the_completion_event_follows_the_commit_in_the_browser(app, client, completed, make_org, make_project,
                                                                make_participant):
    completed.app = app
    org = make_org()
    resident = Resident(client, make_participant(org, make_project(org).slug).token)
    resident.consent()
    finish_wave(resident, "4")
    [event] = completed.events
    assert event["wave"] == "pre" and event["stored_status"] == "completed"  # the plugin sees stored data


def test_the_completion_event_follows_each_commit_of_a_cli_import(app, runner, session, completed, make_org,
                                                                 tmp_path):
    completed.app = app
    slug = new_project(app, session, make_org(), ["organising"])
    items = [f"org_{n}" for n in range(1, 8)]
    rows = [[f"C{n:02d}"] + ["3"] * len(items) for n in range(3)]
    result = runner.invoke(args=["responses", "import", slug, "--wave", "pre",
                                 str(csv_file(tmp_path / "pre.csv", ["participant"] + items, rows))])
    assert result.exit_code == 0, result.output
    assert sorted(event["participant"] for event in completed.events) == ["C00", "C01", "C02"]
    assert {event["stored_status"] for event in completed.events} == {"completed"}
    refused = [["C09"] + ["9"] * len(items)]  # 9 on a 1-5 scale: nothing is stored, nothing announced
    result = runner.invoke(args=["responses", "import", slug, "--wave", "pre",
                                 str(csv_file(tmp_path / "bad.csv", ["participant"] + items, refused))])
    assert result.exit_code == 1 and len(completed.events) == 3
