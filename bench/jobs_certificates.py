"""Benchmark: 1,000 certificates through the job system, on 1 worker process against 2, and the queue's cost.

    .venv/bin/python bench/jobs_certificates.py [--residents 1000] [--rounds 1] [--database-url URL]

In a temporary instance (SQLite and the built-in queue, as ``make run`` has
them; or an empty PostgreSQL database) with a project of ``--residents``
residents who finished both waves, each round measures:

* **direct**: the job's item function (``document_jobs.certificate_item``:
  prepare, render within the render budget, register) called in a loop in
  this process, no queue;
* **1 worker** and **2 workers**: a ``certificates.zip`` job created and
  enqueued as the documents page does, consumed by ``surveyhub worker
  --workers N`` (started and ready before the clock starts); timed until every
  item is done, and until the ZIP is stored.

The register is emptied before each run, so every run issues every certificate
anew. Printed (medians over the rounds): seconds and certificates per second,
the speed-up of 2 workers over 1 (target ≥ 1.7 × on 2 cores) next to the
machine's ceiling measured in the same run (a pure CPU loop on 2 processes
against 1), and the queue's overhead per item: 1 worker against direct
(target ≤ 5 %). No assertion on time: the figures are for reading.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _documents_data import build, cleanup, make_app  # noqa: E402
from certificates_parallel import machine_ceiling  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 7200  # seconds one run may take before the script gives up


def setup(app, n: int):
    """The project, an admin to start the jobs, and the residents' codes."""
    from surveyhub.services import access, accounts
    from surveyhub.services import documents as docs

    org_id, slug = build(app, n)
    with app.extensions["surveyhub.db"].session() as session:
        user = accounts.create_user(session, org_id, "beheer@buurtwerk.example.org", "admin",
                                    "duizend certificaten per uur")
        session.commit()
        actor = access.Actor(organisation_id=org_id, role="admin", user_id=user.id)
        codes = [c.code for c in docs.certificate_candidates(session, actor, slug)]
    return slug, actor, codes


def clear(app) -> None:
    """Nothing on record: every run issues every certificate anew."""
    from sqlalchemy import delete

    from surveyhub.models import AuditEvent, Document, Job, JobFile, JobItem

    with app.extensions["surveyhub.db"].session() as session:
        for model in (JobFile, JobItem, Job, Document):
            session.execute(delete(model))
        session.execute(delete(AuditEvent).where(AuditEvent.action.like("document.%")))
        session.commit()


def params(slug: str) -> dict:
    return {"slug": slug, "lang": "nl", "certificate_lang": None}


def direct(app, slug: str, actor, codes: list[str]) -> float:
    """The items' work in a loop, in this process: what the queue adds is measured against this."""
    from surveyhub.queue import context_for, get_queue
    from surveyhub.services import document_jobs
    from surveyhub.services.job_kinds import JobRun

    clear(app)
    with app.app_context(), app.extensions["surveyhub.db"].session() as session:
        run = JobRun(ctx=context_for(get_queue(app), session, actor), params=params(slug), settings=app.config,
                     job_id=0)
        start = time.perf_counter()
        for code in codes:
            document_jobs.certificate_item(run, code)
        return time.perf_counter() - start


def worker(app, processes: int, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYHUB_")}
    env.update(SURVEYHUB_INSTANCE_PATH=app.instance_path, SURVEYHUB_DATABASE_URL=app.config["DATABASE_URL"],
               SURVEYHUB_BASE_URL=app.config["BASE_URL"], SURVEYHUB_SECRET_KEY=app.config["SECRET_KEY"],
               SURVEYHUB_PLUGINS_DIR="")
    with log.open("wb") as out:
        popen = subprocess.Popen([sys.executable, "-c", "from surveyhub.cli import main; main()", "worker",
                                  "--workers", str(processes)], env=env, cwd=ROOT, stdout=out,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while "consumer started" not in log.read_text(errors="replace"):
        if popen.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)
    return popen


def stop(popen: subprocess.Popen) -> None:
    if popen.poll() is None:
        os.killpg(popen.pid, signal.SIGTERM)
        try:
            popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(popen.pid, signal.SIGKILL)
            popen.wait()


def through_jobs(app, slug: str, actor, codes: list[str], processes: int) -> tuple[float, float]:
    """A certificates.zip job on ``processes`` worker processes: (seconds until every item is done,
    seconds until the ZIP is stored)."""
    from sqlalchemy import select

    from surveyhub.models import Job, Project
    from surveyhub.queue import get_queue
    from surveyhub.services import jobs

    clear(app)
    popen = worker(app, processes, Path(app.instance_path) / f"worker-{processes}.log")
    try:
        with app.extensions["surveyhub.db"].session() as session:
            project_id = session.scalar(select(Project.id).where(Project.slug == slug))
            job, item_ids = jobs.create(session, kind="certificates.zip", keys=codes, params=params(slug),
                                        title="bench", actor=actor, project_id=project_id)
            job_id = job.id
            session.commit()
        start = time.perf_counter()
        get_queue(app).enqueue(item_ids)
        items_done = None
        while True:
            with app.extensions["surveyhub.db"].session() as session:
                status, done, failed = session.execute(select(Job.status, Job.done, Job.failed)
                                                       .where(Job.id == job_id)).one()
            now = time.perf_counter() - start
            if items_done is None and done + failed >= len(codes):
                items_done = now
            if status in ("done", "failed"):
                if status == "failed" or failed:
                    raise SystemExit(f"the job failed ({failed} items)")
                return items_done or now, now
            if now > TIMEOUT or popen.poll() is not None:
                raise SystemExit("the worker stopped or the job took too long")
            time.sleep(0.1)
    finally:
        stop(popen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=1000, help="certificates per run (fewer: a quick run)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()

    app = make_app(args.database_url)
    try:
        slug, actor, codes = setup(app, args.residents)
        n = len(codes)
        runs: dict[str, list[float]] = {"direct": [], "1": [], "2": [], "1 zip": [], "2 zip": []}
        ceilings = []
        for _ in range(args.rounds):
            runs["direct"].append(direct(app, slug, actor, codes))
            print(f"  direct:    {runs['direct'][-1]:7.1f} s", flush=True)
            for processes in (1, 2):
                items, whole = through_jobs(app, slug, actor, codes, processes)
                runs[str(processes)].append(items)
                runs[f"{processes} zip"].append(whole)
                print(f"  {processes} worker(s): {items:7.1f} s for the items, {whole:7.1f} s with the ZIP",
                      flush=True)
            ceilings.append(machine_ceiling())
    finally:
        cleanup(app)
    median = {key: statistics.median(values) for key, values in runs.items()}
    print(f"{n} certificates, medians of {args.rounds} round(s):")
    for key, label in (("direct", "direct (no queue)"), ("1", "1 worker process"), ("2", "2 worker processes")):
        print(f"  {label:20} {median[key]:7.1f} s  ({n / median[key]:5.1f} per second, "
              f"{median[key] / n * 1000:6.1f} ms each)")
    print(f"  the ZIP after the last item: {median['1 zip'] - median['1']:.1f} s (1 worker), "
          f"{median['2 zip'] - median['2']:.1f} s (2 workers)")
    print(f"speed-up 2 workers vs 1: {median['1'] / median['2']:4.2f} × (target ≥ 1.7); machine ceiling now: a pure "
          f"CPU loop runs {statistics.median(ceilings):4.2f} × faster on 2 processes; CPUs: {os.cpu_count()}")
    overhead = (median["1"] - median["direct"]) / median["direct"] * 100
    print(f"queue overhead per item, 1 worker vs direct: {overhead:+.1f} % "
          f"({(median['1'] - median['direct']) / n * 1000:+.1f} ms; target ≤ 5 %)")


if __name__ == "__main__":
    main()
