"""Benchmark: the report JSON of a project with 10,000 residents × 5 scales × pre and post.

    .venv/bin/python bench/report_json.py [--participants 10000] [--runs 5] [--database-url URL] [--profile]

Builds the data fast (bulk inserts into a temporary SQLite database, or an empty
PostgreSQL database given with ``--database-url``), with the five demo
instruments (32 items, about 640,000 answers), then times in the same run:

- ``report``: ``services.outcomes.project_report`` end to end (fresh session each run);
- ``floor``: the plainest numpy computation of the same per-scale means and SDs,
  reading the same scale scores from the same database with one SQL query;
- ``compute``: the numpy part of the floor alone (scores already in memory).

Prints the medians (wall clock, and CPU time, which a busy machine does not
distort), the ratio report / floor, and peak memory (tracemalloc peak of one
report, and the process's maximum resident size). Targets (issue 10): report
≤ 1 s on SQLite and ≤ 5 × floor. ``--profile`` shows where one report's time goes.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402

from _answers_data import write_answers  # noqa: E402

from surveyhub import create_app  # noqa: E402
from surveyhub.plugins import get_registry  # noqa: E402
from surveyhub.models import Participant, Response, Wave  # noqa: E402
from surveyhub.models._types import utcnow  # noqa: E402
from surveyhub.services import access, accounts, outcomes, projects, schema_state  # noqa: E402

INSTRUMENTS = ["organising", "conversation", "cooperation", "confidence", "network"]


def build(app, n: int, seed: int = 7) -> tuple[int, str]:
    """An organisation and a project with ``n`` residents who answered pre and post."""
    rng = np.random.default_rng(seed)
    db = app.extensions["surveyhub.db"]
    with db.session() as session:
        org = accounts.create_organisation(session, "Bench")
        actor = access.Actor(organisation_id=org.id, role="admin")
        info = projects.create_project(session, get_registry(app), actor, "Bench project", INSTRUMENTS)
        session.commit()
        project_id = session.scalar(select(Wave.project_id).join(Wave.project).where(Wave.kind == "pre"))
        waves = dict(session.execute(select(Wave.kind, Wave.id).where(Wave.project_id == project_id)).all())
        definitions = [pi.snapshot.definition for pi in session.get(Wave, waves["pre"]).project.instruments]
        org_id = org.id
    now = utcnow()
    with db.engine.begin() as conn:
        conn.execute(insert(Participant), [
            {"id": i + 1, "project_id": project_id, "code": f"B-{i:06d}", "source": "import", "created_at": now}
            for i in range(n)])
        responses = [{"id": w * n + i + 1, "participant_id": i + 1, "wave_id": waves[kind], "status": "completed",
                      "current_page": 0, "language": "nl", "channel": "import", "started_at": now,
                      "updated_at": now, "completed_at": now}
                     for w, kind in enumerate(("pre", "post")) for i in range(n)]
        conn.execute(insert(Response), responses)
        n_answers = write_answers(conn, rng, definitions, lambda w, i: w * n + i + 1, n, now)
    if app.extensions["surveyhub.db"].engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")  # as autovacuum would after a bulk load
    return org_id, info.slug, n_answers


def time_report(app, org_id: int, slug: str) -> tuple[float, float, dict]:
    """Wall-clock and CPU seconds of one report (CPU time is what a busy machine does not distort)."""
    db = app.extensions["surveyhub.db"]
    actor = access.Actor(organisation_id=org_id, role="admin")  # a funder needs a share; same report
    with db.session() as session:
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        report = outcomes.project_report(session, get_registry(app), actor, slug)
        json.dumps(report, allow_nan=False)
        return time.perf_counter() - start, time.process_time() - start_cpu, report


def load_scores(app, slug: str):
    """The floor's data access: one SQL query for every scale score of the project."""
    db = app.extensions["surveyhub.db"]
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT w.kind, s.instrument_id, s.scale_id, s.score FROM scale_scores s "
            "JOIN responses r ON r.id = s.response_id JOIN waves w ON w.id = r.wave_id "
            "JOIN projects p ON p.id = w.project_id "
            "WHERE p.slug = ? AND r.status = 'completed' AND s.block = 'now'"
            if conn.dialect.name == "sqlite" else
            "SELECT w.kind, s.instrument_id, s.scale_id, s.score FROM scale_scores s "
            "JOIN responses r ON r.id = s.response_id JOIN waves w ON w.id = r.wave_id "
            "JOIN projects p ON p.id = w.project_id "
            "WHERE p.slug = %s AND r.status = 'completed' AND s.block = 'now'", (slug,)).fetchall()
    return rows


def compute(rows) -> dict:
    groups: dict[tuple, list] = {}
    for kind, instrument, scale, score in rows:
        groups.setdefault((kind, instrument, scale), []).append(score)
    result = {}
    for key, values in groups.items():
        arr = np.array(values, dtype=float)
        arr = arr[~np.isnan(arr)]
        result[key] = (float(arr.mean()), float(arr.std(ddof=1)))
    return result


def time_floor(app, slug: str) -> tuple[float, float, float, dict]:
    """Wall-clock seconds of the floor and of its numpy part, CPU seconds of the floor."""
    gc.collect()
    start, start_cpu = time.perf_counter(), time.process_time()
    rows = load_scores(app, slug)
    mid = time.perf_counter()
    result = compute(rows)
    end = time.perf_counter()
    return end - start, end - mid, time.process_time() - start_cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--profile", action="store_true", help="after the timings, cProfile one report")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config = {"INSTANCE_PATH": folder, "SECRET_KEY": "bench", "PLUGINS_DIR": ""}
        if args.database_url:
            config["DATABASE_URL"] = args.database_url
        app = create_app(config)
        schema_state.upgrade(app.extensions["surveyhub.db"])
        start = time.perf_counter()
        org_id, slug, n_answers = build(app, args.participants)
        backend = app.extensions["surveyhub.db"].engine.dialect.name
        print(f"data: {args.participants} residents × {len(INSTRUMENTS)} scales × pre and post, {n_answers:,} "
              f"answers, {backend}; built in {time.perf_counter() - start:.1f} s")
        report_times, floor_times, compute_times, report_cpu, floor_cpu = [], [], [], [], []
        for _ in range(args.runs):
            seconds, cpu, report = time_report(app, org_id, slug)
            report_times.append(seconds)
            report_cpu.append(cpu)
            floor, numpy_only, cpu, floor_result = time_floor(app, slug)
            floor_times.append(floor)
            compute_times.append(numpy_only)
            floor_cpu.append(cpu)
        _check(report, floor_result)
        tracemalloc.start()
        time_report(app, org_id, slug)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        report_s, floor_s = statistics.median(report_times), statistics.median(floor_times)
        report_c, floor_c = statistics.median(report_cpu), statistics.median(floor_cpu)
        print(f"report JSON   median {report_s:.3f} s, CPU {report_c:.3f} s  "
              f"(runs: {', '.join(f'{t:.3f}' for t in report_times)})")
        print(f"numpy floor   median {floor_s:.3f} s, CPU {floor_c:.3f} s  "
              "(one SQL query of the scores + numpy means/SDs)")
        print(f"numpy only    median {statistics.median(compute_times) * 1000:.1f} ms (scores already in memory)")
        print(f"ratio report / floor: {report_s / floor_s:.1f}× (wall), {report_c / floor_c:.1f}× (CPU); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"peak memory: {peak / 2**20:.1f} MiB traced during one report; "
              f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
        print(f"targets: report ≤ 1 s: {'met' if report_s <= 1 else 'MISSED'}; "
              f"≤ 5× floor: {'met' if report_s <= 5 * floor_s else 'MISSED'}")
        if args.profile:
            _profile(app, org_id, slug)
        app.extensions["surveyhub.db"].engine.dispose()


def _profile(app, org_id: int, slug: str) -> None:
    """Where one report's time goes: the 25 costliest functions by cumulative and by own time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(time_report, app, org_id, slug)
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(25)


def _check(report: dict, floor: dict) -> None:
    """The report and the floor must agree, or the timing compares different work."""
    for entry in report["scales"]:
        pre = floor[("pre", entry["instrument"], entry["scale"])]
        assert entry["pre"]["mean"] is not None
        # The report's means are over pairs; here every resident is paired, so they equal the wave means
        # up to residents with a score in one wave only.
        assert abs(entry["pre"]["mean"] - pre[0]) < 0.01, (entry["scale"], entry["pre"]["mean"], pre)


if __name__ == "__main__":
    main()
