"""``surveyhub jobs``: show, wait (with a progress bar, detaching on Ctrl+C) and download, as a script uses them.

The jobs are made with ``services.jobs`` directly; no queue runs, so each command meets the job in the
state the test left it in. The database does not matter here: SQLite only.
"""

from __future__ import annotations

import json

import pytest

from surveyhub.cli import jobs as jobs_cli
from surveyhub.services import job_views, jobs
from tests.fixtures.factories import sqlite_database_url as database_url  # noqa: F401 (the fixture)

RESULT = bytes(range(256)) * 5000  # more than one stored chunk


@pytest.fixture
def make_job(session, make_org):
    org = make_org("Buurtwerk Noord")

    def make(n=3, title="Certificaten"):
        job, item_ids = jobs.create(session, kind="certificates.zip", keys=[f"R{i}" for i in range(n)], params={},
                                    title=title, actor=None, organisation_id=org.id)
        session.commit()
        return job, item_ids
    return make


def finish(session, item_id, error: str | None = None) -> None:
    claim = jobs.claim(session, item_id, "test:1", stale_seconds=120)
    if error is None:
        jobs.finish_item(session, claim)
    else:
        jobs.fail_item(session, claim, json.dumps({"msgid": error}), final=True)


def done_job(session, make_job, name="certificaten-speeltuin.zip"):
    job, item_ids = make_job(n=1)
    finish(session, item_ids[0])
    jobs.store_result(session, job.id, name=name, mime="application/zip", chunks=iter([RESULT]))
    return job


def test_download_writes_the_file(runner, session, make_job, tmp_path):
    job = done_job(session, make_job)
    target = tmp_path / "out.zip"
    result = runner.invoke(args=["jobs", "download", str(job.id), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == RESULT and not (tmp_path / "out.zip.part").exists()
    assert result.stderr == f"{target}: {len(RESULT)} bytes\n"


def test_download_to_standard_output_and_under_the_job_s_own_name(runner, session, make_job, tmp_path,
                                                                   monkeypatch):
    job = done_job(session, make_job, name="../../certificaten-Zoë.zip")
    result = runner.invoke(args=["jobs", "download", str(job.id), "-o", "-"])
    assert result.exit_code == 0 and result.stdout_bytes == RESULT
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    result = runner.invoke(args=["jobs", "download", str(job.id)])
    assert result.exit_code == 0, result.output
    assert [path.name for path in here.iterdir()] == ["certificaten-Zoë.zip"]  # never outside this folder
    assert (here / "certificaten-Zoë.zip").read_bytes() == RESULT


def test_download_of_a_job_without_a_file_says_why(runner, session, make_job):
    job, _ = make_job()
    result = runner.invoke(args=["jobs", "download", str(job.id), "-o", "-"])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: job {job.id} has no file: it is queued; wait for it with: "
                             f"surveyhub jobs wait {job.id}\n")


@pytest.mark.parametrize("command", [["show"], ["wait"], ["download", "-o", "-"]])
def test_a_job_that_is_not_there_is_said_in_one_line(runner, command, make_job):
    result = runner.invoke(args=["jobs", command[0], "999", *command[1:]])
    assert result.exit_code == 1
    assert result.stderr == ("Error: there is no job 999 (finished jobs are deleted when their result expires); "
                             "see the jobs with: surveyhub jobs list\n")


def test_wait_follows_the_job_to_its_end(runner, session, make_job, monkeypatch):
    job, item_ids = make_job(n=3)
    pending = list(item_ids)

    def next_item(_seconds):  # each poll, a worker finishes one more item
        item = pending.pop(0)
        finish(session, item)
        if not pending:
            jobs.complete(session, job.id)
    monkeypatch.setattr(jobs_cli.time, "sleep", next_item)
    result = runner.invoke(args=["jobs", "wait", str(job.id)])
    assert result.exit_code == 0, result.output
    assert pending == []
    assert f"job {job.id}: Certificaten\n  status: done, 3 done, 0 failed of 3\n" in result.stdout


def test_wait_exits_1_when_the_job_failed_and_says_why(runner, session, make_job):
    job, item_ids = make_job(n=1)
    finish(session, item_ids[0], error="Something went wrong while making this part; the log has the details.")
    jobs.fail(session, job.id, "Nothing could be made; see the reasons below.")
    result = runner.invoke(args=["jobs", "wait", str(job.id)])
    assert result.exit_code == 1
    assert "problem: Something went wrong while making this part" in result.stdout
    assert "Nothing could be made; see the reasons below." in result.stdout


def test_ctrl_c_detaches_and_the_job_goes_on(runner, session, make_job, monkeypatch):
    job, _ = make_job()

    def interrupted(_seconds):
        raise KeyboardInterrupt
    monkeypatch.setattr(jobs_cli.time, "sleep", interrupted)
    result = runner.invoke(args=["jobs", "wait", str(job.id)])
    assert result.exit_code == 130
    assert result.stderr.endswith(f"Detached; the job goes on. Wait for it again with: surveyhub jobs wait {job.id}\n")
    assert "Traceback" not in result.output and "Aborted" not in result.output
    session.expire_all()
    assert job_views.view_by_id(session, job.id).status == "queued"  # untouched


def test_a_timeout_stops_the_waiting_not_the_job(runner, session, make_job, monkeypatch):
    job, _ = make_job()
    clock = iter(range(0, 10_000, 5))
    monkeypatch.setattr(jobs_cli.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(jobs_cli.time, "sleep", lambda _seconds: None)
    result = runner.invoke(args=["jobs", "wait", str(job.id), "--timeout", "20"])
    assert result.exit_code == 1
    assert result.stderr.endswith(f"Error: job {job.id} is not finished after 20 s; it goes on. "
                                  f"See it with: surveyhub jobs show {job.id}\n")


def test_a_job_nobody_starts_gets_a_hint_about_the_worker(app, session, make_job, monkeypatch, capsys):
    job, _ = make_job()
    clock = iter(range(0, 10_000, 30))
    polls = []
    monkeypatch.setattr(jobs_cli.time, "monotonic", lambda: next(clock))

    def poll(_seconds):
        polls.append(1)
        if len(polls) == 4:
            jobs.fail(session, job.id, "stopped by the test")
    monkeypatch.setattr(jobs_cli.time, "sleep", poll)
    with app.app_context():
        view = jobs_cli.follow(job.id)
    assert view.status == "failed"
    err = capsys.readouterr().err
    assert err.count("has not started after 60 s: is a worker running?") == 1


def test_show_tells_how_to_download(runner, session, make_job):
    job = done_job(session, make_job)
    result = runner.invoke(args=["jobs", "show", str(job.id)])
    assert result.exit_code == 0
    assert (f"  result: certificaten-speeltuin.zip ({len(RESULT)} bytes); save it with: "
            f"surveyhub jobs download {job.id}\n") in result.stdout
