"""Residents saving pages while a large import runs lose nothing (issue 9, "SQLite write lock").

The finding: a CLI import of 8,000 rows held SQLite's write lock for 41 s, and
4 of 50 residents who saved a page meanwhile got "database is locked" and lost
it. Now an import checks the file without a write transaction and stores it in
short batches (undone as a whole when one fails, and safe to run again), and a
page save that meets a busy database is tried again, or shown again with the
typed answers and "Opslaan lukte even niet. Probeer het nog eens." — never an
error page.

The end-to-end test runs ``bench/save_during_import.py`` with small numbers:
gunicorn with two workers, the import through the CLI in its own process,
residents saving meanwhile. It asserts what a resident notices (no page lost),
not timings.
"""

from __future__ import annotations

import gc
import re
import sqlite3
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from surveyhub import db
from surveyhub.models import Participant, Response, ScaleScore
from surveyhub.services import import_undo, imports, responses
from tests.fixtures.factories import csrf_token
from tests.fixtures.outcomes import csv_file, new_project
from tests.test_questionnaire import ParsedPage, Resident

ROOT = Path(__file__).resolve().parents[1]
ITEMS = [f"org_{n}" for n in range(1, 8)]


def organising_file(path: Path, codes: list[str], shift: int = 0) -> Path:
    rows = [[code] + [str(1 + (n + i + shift) % 5) for i in range(len(ITEMS))] for n, code in enumerate(codes)]
    return csv_file(path, ["participant"] + ITEMS, rows)


def snapshot(session) -> dict:
    """code -> (sorted answers, status, scores) of every imported resident."""
    found = {}
    for participant in session.scalars(select(Participant).where(Participant.source == "import")):
        [response] = participant.responses
        found[participant.code] = (sorted(responses.answers_of(response).items()), response.status,
                                   sorted((s.scale_id, s.score) for s in response.scores))
    session.commit()
    return found


# --- the import: short transactions, whole or nothing, safe to run again -------------------------------------

def test_a_batch_that_has_used_its_time_ends_after_its_current_row(app, runner, session, make_org, tmp_path,
                                                                     monkeypatch):
    """The time budget ends a batch whatever its rows: with none left, every row commits on its own."""
    monkeypatch.setattr(imports, "BATCH_SECONDS", 0)
    slug = new_project(app, session, make_org(), ["organising"])
    result = runner.invoke(args=["responses", "import", slug, "--wave", "pre",
                                 str(organising_file(tmp_path / "slow.csv", [f"S{n:02d}" for n in range(4)]))])
    assert result.exit_code == 0, result.output
    assert "Stored in 4 write transactions" in result.output
    assert len(snapshot(session)) == 4


def test_a_large_import_is_stored_in_short_transactions(app, runner, session, make_org, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 7)
    monkeypatch.setattr(imports, "BATCH_SECONDS", 3600)  # the row limit alone decides (a loaded machine is slow)
    slug = new_project(app, session, make_org(), ["organising"])
    codes = [f"B{n:03d}" for n in range(30)]
    result = runner.invoke(args=["responses", "import", slug, "--wave", "pre",
                                 str(organising_file(tmp_path / "big.csv", codes))])
    assert result.exit_code == 0, result.output
    assert "Imported 30 rows into the pre wave" in result.output
    assert "Stored in 5 write transactions of at most 7 rows" in result.output
    assert len(snapshot(session)) == 30


def test_a_bad_row_late_in_a_large_file_still_refuses_the_whole_file(app, runner, session, make_org, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 5)
    slug = new_project(app, session, make_org(), ["organising"])
    path = organising_file(tmp_path / "bad.csv", [f"B{n:03d}" for n in range(20)])
    lines = path.read_text().splitlines()
    lines[18] = lines[18].replace(",3,", ",9,", 1)  # row 19: a 9 on a 1-5 scale
    lines[4] = lines[4].replace(",2,", ",,", 1).replace(",4,", ",x,", 1)  # row 5: a letter
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(args=["responses", "import", slug, "--wave", "pre", str(path)])
    assert result.exit_code == 1
    assert "row 5: column 'org_" in result.output and "row 19: column 'org_" in result.output
    assert snapshot(session) == {}


def test_a_batch_that_fails_undoes_the_batches_before_it(app, runner, session, make_org, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 4)
    slug = new_project(app, session, make_org(), ["organising"])
    first = [f"A{n:03d}" for n in range(6)]
    assert runner.invoke(args=["responses", "import", slug, "--wave", "pre",
                               str(organising_file(tmp_path / "first.csv", first))]).exit_code == 0
    before = snapshot(session)
    calls = {"n": 0}
    real = responses.completed_event

    def breaks_at_row_11(*args, **kwargs):  # e.g. the disk filled up half-way
        calls["n"] += 1
        if calls["n"] == 11:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return real(*args, **kwargs)

    monkeypatch.setattr(responses, "completed_event", breaks_at_row_11)
    again = first + [f"N{n:03d}" for n in range(8)]  # six residents imported again with new answers, eight new
    result = runner.invoke(args=["responses", "import", slug, "--wave", "pre",
                                 str(organising_file(tmp_path / "again.csv", again, shift=2))])
    assert result.exit_code != 0
    assert snapshot(session) == before  # the new residents are gone, the earlier ones as they were
    assert session.scalar(select(func.count()).select_from(Participant)) == 6


def test_completions_are_announced_only_once_the_whole_batched_import_stands(app, runner, session, make_org,
                                                                               tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 4)
    slug = new_project(app, session, make_org(), ["organising"])
    heard: list[dict] = []
    monkeypatch.setattr(responses, "announcer", lambda host: heard.append)
    calls = {"n": 0}
    real = responses.completed_event

    def breaks_at_row_11(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 11:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return real(*args, **kwargs)

    monkeypatch.setattr(responses, "completed_event", breaks_at_row_11)
    codes = [f"N{n:03d}" for n in range(14)]
    failed = runner.invoke(args=["responses", "import", slug, "--wave", "pre",
                                 str(organising_file(tmp_path / "file.csv", codes))])
    assert failed.exit_code != 0
    assert heard == []  # two batches were committed and then undone: nobody heard of their completions
    monkeypatch.setattr(responses, "completed_event", real)
    done = runner.invoke(args=["responses", "import", slug, "--wave", "pre",
                               str(organising_file(tmp_path / "file.csv", codes))])
    assert done.exit_code == 0, done.output
    assert sorted(event["participant"] for event in heard) == codes  # each completion once, after the last batch


def test_running_an_interrupted_import_again_gives_the_result_of_one_run(app, runner, session, make_org, tmp_path,
                                                                        monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 4)
    org = make_org()
    slug = new_project(app, session, org, ["organising"])
    path = organising_file(tmp_path / "file.csv", [f"R{n:03d}" for n in range(10)])
    calls = {"n": 0}
    real = responses.completed_event

    def killed_at_row_7(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt  # the process is stopped: nothing runs after this
        return real(*args, **kwargs)

    monkeypatch.setattr(responses, "completed_event", killed_at_row_7)
    monkeypatch.setattr(import_undo, "undo", lambda *args, **kwargs: None)  # a killed process undoes nothing
    runner.invoke(args=["responses", "import", slug, "--wave", "pre", str(path)])
    assert len(snapshot(session)) == 4  # one batch got through
    monkeypatch.setattr(responses, "completed_event", real)
    assert runner.invoke(args=["responses", "import", slug, "--wave", "pre", str(path)]).exit_code == 0
    resumed = snapshot(session)

    other = new_project(app, session, org, ["organising"], name="Controle")
    assert runner.invoke(args=["responses", "import", other, "--wave", "pre", str(path)]).exit_code == 0
    with_one_run = {code: value for code, value in snapshot(session).items()}
    assert len(resumed) == 10 and resumed == {code: value for code, value in with_one_run.items()}
    assert session.scalar(select(func.count()).select_from(Response)) == 20
    assert session.scalar(select(func.count()).select_from(ScaleScore)) == 20


# --- a page save that meets a busy database ------------------------------------------------------------------

@pytest.fixture
def app_config(app_config, monkeypatch):
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 150)  # wait 0.15 s for the lock, not 15 s
    return app_config


def hold_write_lock(app, seconds: float | None):
    """Take SQLite's write lock from another connection (as a long import did); release after ``seconds``."""
    url = app.config["DATABASE_URL"]
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's database-wide write lock")
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    if seconds is not None:
        threading.Timer(seconds, conn.commit).start()
    return conn


def first_page(client, make_org, make_project, make_participant):
    org = make_org()
    info = make_project(org)
    resident = Resident(client, make_participant(org, info.slug).token)
    resident.consent()
    page = ParsedPage(resident.open("/p/0").text)
    return resident, {name: "4" for name in page.questions if not name.endswith("proud_of")}


def test_a_save_that_meets_a_busy_database_is_tried_again(app, monkeypatch):
    monkeypatch.setattr(db, "BUSY_BACKOFF_SECONDS", 0.001)
    locked = OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked"))
    tries = []

    def save(fail_times: int, error=locked):
        def work():
            tries.append(1)
            if len(tries) <= fail_times:
                raise error
            return "saved"
        return work

    with app.extensions["surveyhub.db"].session() as session:
        assert db.retry_on_busy(session, save(2)) == "saved" and len(tries) == 3
        tries.clear()
        with pytest.raises(db.DatabaseBusy):
            db.retry_on_busy(session, save(3))
        assert len(tries) == 3
        tries.clear()
        wrong = OperationalError("SELECT", {}, sqlite3.OperationalError("no such column: x"))
        with pytest.raises(OperationalError):
            db.retry_on_busy(session, save(1, wrong))
        assert len(tries) == 1  # not busy: not tried again


def test_a_page_save_that_stays_busy_comes_back_with_the_typed_answers(app, client, make_org, make_project,
                                                                       make_participant, query):
    resident, answers = first_page(client, make_org, make_project, make_participant)
    token = csrf_token(resident.open("/p/0").text)
    lock = hold_write_lock(app, None)
    try:
        assert resident.open("/p/0").status_code == 200  # a read never waits for the write lock
        sent = resident.submit(0, answers, csrf=token)
    finally:
        lock.commit()
    assert sent.status_code == 503  # not an error page: the answers come back, to send again
    assert "Opslaan lukte even niet. Probeer het nog eens." in sent.text
    assert ParsedPage(sent.text).checked == answers  # nothing to type again
    assert count_answers(query) == 0
    again = resident.submit(0, answers, csrf=token)
    assert again.status_code == 302 and again.headers["Location"].endswith("/p/1")
    assert count_answers(query) == len(answers)


def test_a_write_outside_a_page_save_that_stays_busy_carries_what_was_sent(app, client, make_org, make_project,
                                                                          make_participant, query):
    """Any other write (here: consent) that meets a busy database: a page that needs no database and
    carries the form back as hidden fields, with one button to send it again."""
    org = make_org()
    resident = Resident(client, make_participant(org, make_project(org).slug).token)
    sent_form = {"csrf_token": csrf_token(resident.open().text), "consent": "y"}
    lock = hold_write_lock(app, None)
    try:
        sent = client.post(resident.base, data=sent_form)
    finally:
        lock.commit()
    assert sent.status_code == 503
    assert "Opslaan lukte even niet. Probeer het nog eens." in sent.text
    carried = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', sent.text))
    assert carried == sent_form  # nothing to type again
    again = client.post(re.search(r'<form method="post" action="([^"]+)"', sent.text).group(1), data=carried)
    assert again.status_code == 302 and again.headers["Location"].endswith("/p/0")


def test_a_page_whose_save_stays_busy_is_shown_again_with_the_typed_answers(app, client, make_org, make_project,
                                                                          make_participant, query, monkeypatch):
    from surveyhub.services import resident as resident_service

    resident, answers = first_page(client, make_org, make_project, make_participant)
    token = csrf_token(resident.open("/p/0").text)
    real = resident_service.save_page
    conflict = OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked"))
    monkeypatch.setattr(db, "BUSY_BACKOFF_SECONDS", 0.001)
    monkeypatch.setattr(resident_service, "save_page", lambda *args, **kwargs: (_ for _ in ()).throw(conflict))
    sent = resident.submit(0, answers, csrf=token)
    assert sent.status_code == 503
    assert "Opslaan lukte even niet. Probeer het nog eens." in sent.text
    assert ParsedPage(sent.text).checked == answers  # the questionnaire page itself, answers filled in
    assert count_answers(query) == 0
    monkeypatch.setattr(resident_service, "save_page", real)
    assert resident.submit(0, answers).status_code == 302 and count_answers(query) == len(answers)


def count_answers(query) -> int:
    from surveyhub.models import Answer

    [(n,)] = query(select(func.count()).select_from(Answer))
    return n


@pytest.fixture
def query(app):
    def run(stmt):
        with app.extensions["surveyhub.db"].session() as db_session:
            return db_session.execute(stmt).all()
    return run


def test_what_counts_as_busy():
    from sqlalchemy.exc import DBAPIError

    class PgError(Exception):
        def __init__(self, sqlstate):
            self.sqlstate = sqlstate

    class OperationalErrorLike(Exception):
        pass

    OperationalErrorLike.__name__ = "OperationalError"
    assert db.is_busy(DBAPIError("UPDATE", {}, PgError("40001")))  # serialization failure
    assert db.is_busy(DBAPIError("UPDATE", {}, PgError("40P01")))  # deadlock detected
    assert not db.is_busy(DBAPIError("UPDATE", {}, PgError("23505")))  # unique violation: not busy
    assert db.is_busy(OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked")))
    assert not db.is_busy(OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x")))


# --- end to end: residents save pages through gunicorn while the CLI imports ------------------------------------

# The simulated browsers' keep-alive sockets are closed by gunicorn's sync workers and collected late.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_residents_saving_during_an_import_lose_no_page(tmp_path, database_url):
    sys.path.insert(0, str(ROOT / "bench"))
    import save_during_import as bench

    url = database_url if database_url.startswith("postgresql") else None
    if url:  # a fresh, empty database: the bench migrates it itself
        from sqlalchemy import create_engine, text
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    figures = bench.run(tmp_path / "bench", rows=400, residents=6, workers=2, database_url=url, pause=0.1)
    gc.collect()  # while the warnings above are ignored
    assert figures.errors == []
    assert figures.lost == 0
    assert figures.saved >= 6 * 2
    assert figures.batches is not None and figures.batches >= 2  # the import did not hold one long transaction
