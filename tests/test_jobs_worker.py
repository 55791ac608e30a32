"""A real consumer: ``surveyhub worker`` processes on the built-in queue (SqliteHuey in the instance folder).

The web and the command line only create a job and enqueue its items; these
tests start ``surveyhub worker --workers N`` as its own process, as a server
does, and check what arrives in the database: a certificates ZIP with one PDF
and one registered document per resident, a worker that stops on SIGTERM, and
a worker killed with SIGKILL halfway whose job a second worker finishes (its
periodic tick re-enqueues the stale items) with no document issued twice.
SQLite only: the subject is the queue and the consumer, not the database.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from surveyhub.models import Document, Job, JobFile
from surveyhub.queue import get_queue
from surveyhub.services import documents as docs
from surveyhub.services import jobs
from tests.fixtures.documents import demo  # noqa: F401 (fixture)

BASE_URL = "http://surveyhub.test"


@pytest.fixture
def database_url(sqlite_demo_template, tmp_path) -> str:
    """The demo in the instance folder's own SQLite file, where ``surveyhub worker`` finds it."""
    target = tmp_path / "instance" / "surveyhub.sqlite3"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(sqlite_demo_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app_config(tmp_path, database_url):
    return {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
            "TESTING": True, "BASE_URL": BASE_URL, "PLUGINS_DIR": "", "QUEUE_URL": ""}


def _env(instance: Path, **extra: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SURVEYHUB_")}
    env.update(SURVEYHUB_INSTANCE_PATH=str(instance), SURVEYHUB_BASE_URL=BASE_URL, SURVEYHUB_PLUGINS_DIR="",
               SURVEYHUB_EMBEDDED_WORKER="0", **extra)
    return env


def _surveyhub() -> str:
    return str(Path(sys.executable).with_name("surveyhub"))


def _worker(instance: Path, workers: int, log: Path, **extra: str) -> subprocess.Popen:
    """``surveyhub worker`` in a session of its own, so its worker processes can be killed with it."""
    with log.open("ab") as out:  # the worker writes to its own copy of the file handle
        return subprocess.Popen([_surveyhub(), "worker", "--workers", str(workers)], env=_env(instance, **extra),
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> int | None:
    """Send ``sig`` to the worker and its processes; its exit code, or None when it did not end within 60 s."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        return None


def _start_zip(app, session, demo, count: int | None = None) -> tuple[int, list[str]]:
    """A certificates ZIP job as the documents page starts one: created, committed, its items enqueued."""
    codes = [c.code for c in docs.certificate_candidates(session, demo.actor, demo.slug)][:count]
    job, item_ids = jobs.create(session, kind="certificates.zip", keys=codes,
                                params={"slug": demo.slug, "lang": "nl", "certificate_lang": None},
                                title="Alle certificaten (zip)", actor=demo.actor)
    session.commit()
    get_queue(app).enqueue(item_ids)
    return job.id, codes


def _wait(session, job_id: int, until, timeout: float, worker: subprocess.Popen, log: Path) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        job = session.scalar(select(Job).where(Job.id == job_id).execution_options(populate_existing=True))
        session.rollback()
        if until(job):
            return job
        assert worker.poll() is None, f"the worker stopped ({worker.returncode}):\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"job {job.status} {job.done}/{job.total}:\n{log.read_text()[-3000:]}"
        time.sleep(0.2)


def _zip_names(session, job_id: int) -> list[str]:
    data = b"".join(session.scalars(select(JobFile.data).where(JobFile.job_id == job_id)
                                    .order_by(JobFile.position)))
    session.rollback()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert all(archive.read(name).startswith(b"%PDF-") for name in archive.namelist())
        return archive.namelist()


def _documents(session) -> tuple[int, int]:
    """Documents registered, and residents with one (equal: none issued twice)."""
    found = session.execute(select(func.count(), func.count(func.distinct(Document.participant_id)))).one()
    session.rollback()
    return found[0], found[1]


def test_a_worker_process_makes_a_certificates_zip_and_stops_on_sigterm(app, session, demo, tmp_path):
    instance, log = tmp_path / "instance", tmp_path / "worker.log"
    init = subprocess.run([_surveyhub(), "init"], env=_env(instance), capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stdout + init.stderr
    job_id, codes = _start_zip(app, session, demo, count=6)
    worker = _worker(instance, 2, log)
    try:
        job = _wait(session, job_id, lambda job: job.status in ("done", "failed"), 120, worker, log)
        assert (job.status, job.done, job.failed) == ("done", 6, 0), log.read_text()[-3000:]
        names = _zip_names(session, job_id)
        assert len(names) == 6 and all(any(code in name for code in codes) for name in names)
        assert _documents(session) == (6, 6)
    finally:
        stopped = _stop(worker)
    assert stopped is not None, "the worker did not stop on SIGTERM"


def test_a_job_of_a_killed_worker_is_finished_by_another_with_no_duplicates(app, session, demo, tmp_path):
    instance, log = tmp_path / "instance", tmp_path / "worker.log"
    job_id, codes = _start_zip(app, session, demo)
    first = _worker(instance, 1, log)
    try:
        _wait(session, job_id, lambda job: job.done >= 3, 120, first, log)
    finally:
        _stop(first, signal.SIGKILL)  # no goodbye: the item it was making stays claimed
    killed_at = session.scalar(select(Job.done).where(Job.id == job_id))
    session.rollback()
    assert killed_at < len(codes), "the job was done before the worker was killed; nothing was tested"
    # A second worker: the items still queued run at once, the killed one when the tick finds it stale.
    second = _worker(instance, 1, log, SURVEYHUB_JOB_STALE_SECONDS="5")
    try:
        job = _wait(session, job_id, lambda job: job.status in ("done", "failed"), 200, second, log)
    finally:
        _stop(second)
    assert (job.status, job.done, job.failed) == ("done", len(codes), 0), log.read_text()[-3000:]
    assert len(_zip_names(session, job_id)) == len(codes)
    assert _documents(session) == (len(codes), len(codes))
