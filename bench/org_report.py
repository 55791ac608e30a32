"""Benchmark: the organisation report JSON over 20 projects × 500 residents × 5 scales × pre and post.

    .venv/bin/python bench/org_report.py [--projects 20] [--participants 500] [--runs 3] [--database-url URL]
                                        [--profile]

Builds the data fast (bulk inserts straight into the tables of a temporary SQLite database, or an
empty PostgreSQL database given with ``--database-url``): one organisation, its projects on the five
demo instruments, every resident answering pre and post (a third with a self-made code, some codes
shared between projects), 20 activities a project with 30 residents each, two outputs a project.
Then times, in the same run:

- ``report``: ``services.org_report.build`` end to end, JSON-encoded (fresh session each run);
- ``floor``: reading every scale score of the organisation's projects with one SQL query and the
  plainest numpy means and SDs per project and scale.

Prints the medians (wall clock and CPU), the ratio report / floor, and the target (issue 14):
the report JSON in at most 2 s on SQLite.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402

from _answers_data import write_answers  # noqa: E402

from surveyhub import create_app  # noqa: E402
from surveyhub.models import (Activity, ActivityParticipant, Participant, Project, ProjectOutput,  # noqa: E402
                              Response, ScaleScore, Wave)
from surveyhub.models._types import utcnow  # noqa: E402
from surveyhub.plugins import get_registry  # noqa: E402
from surveyhub.services import access, accounts, org_report, outcomes, projects, schema_state  # noqa: E402
from surveyhub.services.context import ServiceContext  # noqa: E402

INSTRUMENTS = ["organising", "conversation", "cooperation", "confidence", "network"]
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
TARGET_S = 2.0


def build(app, n_projects: int, n: int, seed: int = 7) -> tuple[int, int]:
    """An organisation with ``n_projects`` projects of ``n`` residents who answered pre and post."""
    rng = np.random.default_rng(seed)
    db = app.extensions["surveyhub.db"]
    with db.session() as session:
        org = accounts.create_organisation(session, "Bench")
        actor = access.Actor(organisation_id=org.id, role="admin")
        for p in range(n_projects):
            projects.create_project(session, get_registry(app), actor, f"Bench project {p + 1:02d}", INSTRUMENTS)
        session.commit()
        project_ids = list(session.scalars(select(Project.id).order_by(Project.id)))
        waves = {(pid, kind): wid for pid, kind, wid in session.execute(select(Wave.project_id, Wave.kind, Wave.id))}
        definitions = [pi.snapshot.definition for pi in session.get(Project, project_ids[0]).instruments]
        org_id = org.id
    now = utcnow()
    n_answers = 0
    with db.engine.begin() as conn:
        for p, project_id in enumerate(project_ids):
            base = p * n
            conn.execute(insert(Participant), [
                {"id": base + i + 1, "project_id": project_id, "code": f"B{p:02d}-{i:05d}", "created_at": now,
                 "source": "anonymous" if i % 3 == 0 else "import",
                 # Codes of the first 60 anonymous residents recur in every project: one person each.
                 "self_code": f"naam{i % 180}|x|{i % 7}|y|z|{i}" if i % 3 == 0 else None}
                for i in range(n)])
            responses = [{"id": 2 * base + w * n + i + 1, "participant_id": base + i + 1,
                          "wave_id": waves[(project_id, kind)], "status": "completed", "current_page": 0,
                          "language": "nl", "channel": "import", "started_at": now, "updated_at": now,
                          "completed_at": now - timedelta(days=60 * (1 - w))}
                         for w, kind in enumerate(("pre", "post")) for i in range(n)]
            conn.execute(insert(Response), responses)
            n_answers += write_answers(conn, rng, definitions, lambda w, i, base=base: 2 * base + w * n + i + 1, n, now)
            activity_ids = []
            for a in range(20):
                activity_ids.append(conn.execute(insert(Activity).returning(Activity.id), [{
                    "project_id": project_id, "happened_on": YEAR[0] + timedelta(days=15 * a), "kind": "meeting",
                    "hours": 2.0, "created_at": now, "confirmed_at": now}]).scalar_one())
            conn.execute(insert(ActivityParticipant), [
                {"activity_id": activity_id, "participant_id": base + int(i) + 1, "role": "participant",
                 "source": "worker", "confirmed_at": now, "created_at": now}
                for activity_id in activity_ids for i in rng.choice(n, size=30, replace=False)])
            conn.execute(insert(ProjectOutput), [
                {"project_id": project_id, "happened_on": YEAR[0] + timedelta(days=100 * k),
                 "description": f"Mijlpaal {k}", "created_at": now} for k in (1, 2)])
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")  # as autovacuum would after a bulk load
    return org_id, n_answers


def time_report(app, org_id: int) -> tuple[float, float, dict]:
    db = app.extensions["surveyhub.db"]
    with db.session() as session:
        ctx = ServiceContext(session=session, actor=access.Actor(organisation_id=org_id, role="admin"),
                             registry=get_registry(app), host=None, thresholds=outcomes.Thresholds(),
                             base_url="http://bench")
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        report = org_report.build(ctx, start=YEAR[0], end=YEAR[1])
        json.dumps(report, allow_nan=False)
        return time.perf_counter() - start, time.process_time() - start_cpu, report


def time_floor(app, org_id: int) -> tuple[float, dict]:
    """One SQL query for every scale score of the organisation's projects, numpy means/SDs per group."""
    db = app.extensions["surveyhub.db"]
    gc.collect()
    start = time.perf_counter()
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(Wave.project_id, Wave.kind, ScaleScore.instrument_id, ScaleScore.scale_id, ScaleScore.score)
            .join(Response, Response.id == ScaleScore.response_id).join(Wave, Wave.id == Response.wave_id)
            .join(Project, Project.id == Wave.project_id)
            .where(Project.organisation_id == org_id, Response.status == "completed", ScaleScore.block == "now")
        ).all()
    groups: dict[tuple, list] = {}
    for project_id, kind, instrument, scale, score in rows:
        groups.setdefault((project_id, kind, instrument, scale), []).append(score)
    result = {}
    for key, values in groups.items():
        arr = np.array([np.nan if v is None else v for v in values], dtype=float)
        arr = arr[~np.isnan(arr)]
        result[key] = (float(arr.mean()), float(arr.std(ddof=1)))
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--participants", type=int, default=500, help="residents per project")
    parser.add_argument("--runs", type=int, default=3)
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
        org_id, n_answers = build(app, args.projects, args.participants)
        backend = app.extensions["surveyhub.db"].engine.dialect.name
        print(f"data: {args.projects} projects × {args.participants} residents × {len(INSTRUMENTS)} scales × pre and "
              f"post, {n_answers:,} answers, {backend}; built in {time.perf_counter() - start:.1f} s")
        report_times, report_cpu, floor_times = [], [], []
        for _ in range(args.runs):
            seconds, cpu, report = time_report(app, org_id)
            report_times.append(seconds)
            report_cpu.append(cpu)
            floor_times.append(time_floor(app, org_id)[0])
        totals = report["totals"]
        assert totals["projects"] == args.projects and totals["pairs"] == args.projects * args.participants
        report_s, floor_s = statistics.median(report_times), statistics.median(floor_times)
        print(f"checked: {totals['residents']:,} unique residents of {totals['residents_in_projects']:,}, "
              f"{totals['pairs']:,} pairs, {totals['activities']} activities, {len(report['scales'])} pooled scales")
        print(f"org report JSON  median {report_s:.3f} s, CPU {statistics.median(report_cpu):.3f} s  "
              f"(runs: {', '.join(f'{t:.3f}' for t in report_times)})")
        print(f"numpy floor      median {floor_s:.3f} s  (one SQL query of the scores + numpy means/SDs per project)")
        print(f"ratio report / floor: {report_s / floor_s:.1f}×; target ≤ {TARGET_S:.0f} s on SQLite: "
              f"{'met' if report_s <= TARGET_S else 'NOT met'}")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            time_report(app, org_id)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
