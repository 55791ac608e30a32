"""Benchmark: ``surveyhub certificates`` for 500 residents on 2 processes against 1.

    .venv/bin/python bench/certificates_parallel.py [--residents 500] [--rounds 2] [--database-url URL]

Runs the real command (``surveyhub certificates PROJECT -o DIR --jobs N``) as a
subprocess, alternating 1 and 2 processes; before every run the register is
emptied so each run issues every certificate anew (the same work each time).
Prints the wall-clock medians, certificates per second and the speed-up.
Target: 2 processes ≥ 1.6 × faster than 1. The speed-up is bounded by the
machine, so the same run also measures the machine's ceiling: how much faster
a pure CPU loop runs on 2 processes than on 1 at that moment (2.0 on two idle
CPUs; less when other work shares them).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _documents_data import BASE_URL, build, cleanup, make_app  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def run(app, slug: str, jobs: int, out: Path) -> float:
    from sqlalchemy import delete

    from surveyhub.models import AuditEvent, Document

    with app.extensions["surveyhub.db"].session() as session:  # the same work every run: nothing on record
        session.execute(delete(Document))
        session.execute(delete(AuditEvent).where(AuditEvent.action == "document.issue"))
        session.commit()
    env = {**os.environ, "SURVEYHUB_INSTANCE_PATH": app.instance_path, "SURVEYHUB_BASE_URL": BASE_URL,
           "SURVEYHUB_DATABASE_URL": app.config["DATABASE_URL"], "SURVEYHUB_PLUGINS_DIR": ""}
    command = [str(Path(sys.executable).with_name("surveyhub")), "certificates", slug, "-o", str(out), "--jobs",
               str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or "new" not in done.stdout:
        raise SystemExit(f"surveyhub certificates failed:\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def machine_ceiling(n: int = 20_000_000) -> float:
    """Speed-up of a pure CPU loop on 2 processes against 1, measured now: what this machine allows."""
    from concurrent.futures import ProcessPoolExecutor

    start = time.perf_counter()
    _burn(n)
    _burn(n)
    serial = time.perf_counter() - start
    with ProcessPoolExecutor(2) as pool:
        pool.submit(_burn, 1).result()  # the workers are up before the clock starts
        start = time.perf_counter()
        list(pool.map(_burn, [n, n]))
        parallel = time.perf_counter() - start
    return serial / parallel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()

    app = make_app(args.database_url)
    _, slug = build(app, args.residents)
    out = Path(tempfile.mkdtemp(prefix="surveyhub-certificates-"))
    times: dict[int, list[float]] = {1: [], 2: []}
    cpus: dict[int, list[float]] = {1: [], 2: []}
    ceilings = []
    for _ in range(args.rounds):
        for jobs in (1, 2):
            elapsed, cpu = run(app, slug, jobs, out / f"j{jobs}")
            times[jobs].append(elapsed)
            cpus[jobs].append(cpu)
            print(f"  {jobs} process(es): {elapsed:6.1f} s wall, {cpu:6.1f} s CPU "
                  f"({cpu / elapsed:4.2f} CPUs busy on average)", flush=True)
        ceilings.append(machine_ceiling())
    cleanup(app, out)
    one, two = statistics.median(times[1]), statistics.median(times[2])
    n = args.residents
    print(f"{n} certificates, 1 process    median {one:6.1f} s  ({n / one:5.1f} per second)")
    print(f"{n} certificates, 2 processes  median {two:6.1f} s  ({n / two:5.1f} per second)")
    print(f"speed-up 2 vs 1: {one / two:4.2f} × (target ≥ 1.6); CPU seconds spent: "
          f"{statistics.median(cpus[1]):.1f} (1 process), {statistics.median(cpus[2]):.1f} (2 processes)")
    print(f"machine ceiling: a pure CPU loop runs {statistics.median(ceilings):4.2f} × faster on 2 processes "
          f"right now; CPUs: {os.cpu_count()}, load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
