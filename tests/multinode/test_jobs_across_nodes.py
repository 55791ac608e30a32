"""Jobs on two workers of two machines: a batch is shared, survives a worker killed halfway, and its
work is done exactly once (issue 13, point 3)."""

from __future__ import annotations

import io
import os
import signal
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from tests.multinode.cluster import Browser, Process, csrf, log_in, wait_for
from tests.multinode.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, CERTIFICATES, World

pytestmark = pytest.mark.multinode

#: A 300-certificate batch renders for minutes on two cores; the wait for its end is generous.
BATCH_TIMEOUT = 1800


def group_pids(pgid: int) -> set[int]:
    """The processes of a process group (a ``surveyhub worker`` and its Huey worker processes)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                found.add(int(entry.name))
    return found


def pid_of(claimer: str | None) -> int | None:
    return int(claimer.rsplit(":", 1)[1]) if claimer else None


def items(engine, job_id: int) -> list:
    from surveyhub.models import JobItem

    with engine.connect() as conn:
        return conn.execute(select(JobItem.id, JobItem.status, JobItem.claimed_by, JobItem.attempts)
                            .where(JobItem.job_id == job_id)).all()


def kill_while_it_works(engine, job_id: int, worker: Process, deadline: float) -> tuple[set[int], set[int]]:
    """Once half the batch is done, freeze the worker's processes (SIGSTOP) at a moment it is making an
    item, then SIGKILL them: that item stays claimed by a dead worker. Returns the stuck items' ids and
    the killed processes' ids."""
    while True:
        rows = items(engine, job_id)
        done = sum(1 for row in rows if row.status == "done")
        if done >= CERTIFICATES // 2:
            os.killpg(worker.popen.pid, signal.SIGSTOP)
            pids = group_pids(worker.popen.pid)
            stuck = {row.id for row in items(engine, job_id) if row.status == "running"
                     and pid_of(row.claimed_by) in pids}
            if stuck:
                worker.kill(signal.SIGKILL)
                return stuck, pids
            os.killpg(worker.popen.pid, signal.SIGCONT)  # between two items: let it take the next one
        assert worker.alive(), worker.tail()
        assert time.monotonic() < deadline, f"half the batch was not done in time ({done} of {CERTIFICATES})"
        time.sleep(0.05)


def test_a_certificate_batch_shared_by_two_workers_survives_one_killed_halfway(world: World):
    from surveyhub.models import Document, Job, JobItem

    cluster, deadline = world.cluster, time.monotonic() + BATCH_TIMEOUT
    engine = create_engine(cluster.database_url)
    [victim] = world.b.workers[-1:]
    admin = Browser()
    try:
        log_in(admin, world.a, ADMIN_EMAIL, ADMIN_PASSWORD)
        slug = world.certificates_slug
        status, _location, page = admin.request(world.a, "GET", f"/projects/{slug}/documents")
        assert status == 200, page[:500]
        status, location, page = admin.request(world.a, "POST", f"/projects/{slug}/documents/certificates.zip",
                                               {"csrf_token": csrf(page)})
        assert status == 302 and "/jobs/" in location, (status, location, page[:500])
        public_id = location.rstrip("/").rsplit("/", 1)[1]
        with engine.connect() as conn:
            job_id = conn.scalar(select(Job.id).where(Job.public_id == public_id))

        stuck, killed = kill_while_it_works(engine, job_id, victim, deadline)
        at_the_kill = items(engine, job_id)
        claimers = {row.claimed_by for row in at_the_kill if row.status == "done"}
        assert len(claimers) >= 2, f"one worker made everything: {claimers}"
        assert any(pid_of(claimer) in killed for claimer in claimers), "the killed worker had made nothing"

        def finished():
            with engine.connect() as conn:
                state = conn.execute(select(Job.status, Job.done, Job.failed).where(Job.id == job_id)).one()
            return state if state.status in ("done", "failed") else None
        state = wait_for(finished, "the batch", deadline, interval=1)
        assert tuple(state) == ("done", CERTIFICATES, 0), (state, cluster.logs())

        after = {row.id: row for row in items(engine, job_id)}
        for item_id in stuck:  # taken over from the dead worker, after the periodic tick enqueued it again
            assert after[item_id].status == "done" and after[item_id].attempts == 2, after[item_id]
        assert any(process.said(f"job {job_id}: its worker stopped") for process in world.a.workers)
        with engine.connect() as conn:
            project_id = conn.scalar(select(Job.project_id).where(Job.id == job_id))
            registered = conn.execute(select(func.count(), func.count(func.distinct(Document.participant_id)))
                                      .where(Document.project_id == project_id)).one()
            still_running = conn.scalar(select(func.count()).select_from(JobItem)
                                        .where(JobItem.job_id == job_id, JobItem.status != "done"))
        assert tuple(registered) == (CERTIFICATES, CERTIFICATES), "a certificate was registered twice"
        assert still_running == 0

        log_in(admin, world.b, ADMIN_EMAIL, ADMIN_PASSWORD)  # the result is downloadable from the other server
        status, _location, body = _download(admin, world, public_id)
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            names = archive.namelist()
        assert len(names) == len(set(names)) == CERTIFICATES
    finally:
        admin.close()
        engine.dispose()
        if not victim.alive():  # the other tests get two workers again
            world.b.workers.remove(victim)
            cluster.worker(world.b)
            cluster.wait_up()


def _download(browser: Browser, world: World, public_id: str) -> tuple[int, str, bytes]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", world.b.port, timeout=120)
    try:
        conn.request("GET", f"/jobs/{public_id}/download",
                     headers={"Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())})
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 200 and response.getheader("Content-Type", "").startswith("application/zip"), \
        (response.status, body[:300])
    return response.status, response.getheader("Location") or "", body
