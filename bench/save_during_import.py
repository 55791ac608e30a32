"""Benchmark: residents saving questionnaire pages while a large CSV import runs on the same database.

The finding it checks (issue 9): a CLI import of 8,000 rows held SQLite's write
lock for 41 s, and 4 of 50 residents saving meanwhile got "database is locked"
and lost their page. Now the import checks the file without a write
transaction and stores it in batches of 200 rows, and a page save that meets a
busy database is tried again (or shown again with the typed answers).

What it does, in a temporary folder:

* a SurveyHub instance (SQLite by default, or ``--database-url``) with one
  project and ``--residents`` personal links, and a CSV of ``--rows`` rows;
* gunicorn with ``--workers`` workers (as ``surveyhub serve`` runs it);
* every resident gives consent, then all start together: the import runs
  through the CLI (``surveyhub responses import``) in its own process while
  the residents keep saving pages (about ``--pause`` seconds between pages,
  as people read) until the import is done.

Printed: pages saved, pages shown again ("Opslaan lukte even niet", answers
kept), pages lost (an error page, a dropped connection, or a saved answer
missing from the database; must be 0), the import's time and its longest
write transaction, and the p50/p95/max save latency. Exit 1 when a page was lost.

    .venv/bin/python bench/save_during_import.py [--rows 8000] [--residents 50] [--workers 2]
"""

from __future__ import annotations

import argparse
import csv
import http.client
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from page_save import (Client, answer_for, free_port, gunicorn, lost_surveyhub_answers, stop,  # noqa: E402
                       stored_value, wait_until_up)

INSTRUMENTS = ["organising", "conversation", "cooperation"]
IMPORTED = "organising"  # the instrument whose items the CSV fills
BUSY_NOTICE = "Opslaan lukte even niet"


@dataclass
class Figures:
    saved: int = 0
    shown_again: int = 0
    lost: int = 0
    latencies: list[float] = field(default_factory=list)
    #: save latencies before the import started (``--baseline`` seconds), for comparison
    quiet: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    import_seconds: float = 0.0
    import_output: str = ""
    longest_batch: float | None = None
    batches: int | None = None

    def percentile(self, q: float, quiet: bool = False) -> float:
        latencies = self.quiet if quiet else self.latencies
        if not latencies:
            return float("nan")
        ordered = sorted(latencies)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000

    def report(self, rows: int, residents: int, workers: int) -> str:
        batch = (f"{self.batches} write transactions, the longest {self.longest_batch:.2f} s"
                 if self.longest_batch is not None else "batch times not reported")
        return "\n".join([
            f"{rows} rows imported through the CLI while {residents} residents saved pages "
            f"({workers} gunicorn workers)",
            f"  import:        {self.import_seconds:.1f} s, {batch}",
            f"  pages saved:   {self.saved}",
            f"  shown again:   {self.shown_again} (busy notice, typed answers kept)",
            f"  pages lost:    {self.lost}",
            f"  save latency:  p50 {self.percentile(0.5):.0f} ms, p95 {self.percentile(0.95):.0f} ms, "
            f"max {max(self.latencies, default=0) * 1000:.0f} ms during the import",
        ] + ([f"                 p50 {self.percentile(0.5, True):.0f} ms, p95 {self.percentile(0.95, True):.0f} ms, "
              f"max {max(self.quiet) * 1000:.0f} ms before it ({len(self.quiet)} saves)"] if self.quiet else []))


# --- set-up -----------------------------------------------------------------------------------------

def instance(folder: Path, database_url: str | None, residents: int, rows: int):
    """A migrated instance with one project, ``residents`` links and a CSV of ``rows`` rows."""
    from sqlalchemy import select

    from surveyhub import create_app
    from surveyhub.plugins import get_registry
    from surveyhub.models import Project
    from surveyhub.services import access, accounts, participants, projects, responses, schema_state

    config = {"INSTANCE_PATH": str(folder), "BASE_URL": "http://127.0.0.1", "PLUGINS_DIR": ""}
    if database_url:
        config["DATABASE_URL"] = database_url
    app = create_app(config)
    schema_state.upgrade(app.extensions["surveyhub.db"])
    with app.extensions["surveyhub.db"].session() as session:
        org = accounts.create_organisation(session, "Bench")
        actor = access.Actor(organisation_id=org.id, role="admin")
        project = projects.create_project(session, get_registry(app), actor, "Bench", INSTRUMENTS, False)
        invitations = participants.add_participants(session, actor, project.slug, count=residents)
        session.commit()
        slug = project.slug
        project = session.scalar(select(Project).where(Project.slug == slug))
        pages = [[(slot.key, slot.item["type"]) for slot in page.slots] for page in responses.pages_for(project, "pre")]
        items = [item["id"] for scale in responses.project_definitions(project)[0]["scales"]
                 for item in scale["items"]]
    app.extensions["surveyhub.db"].engine.dispose()
    path = folder / "import.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["participant"] + [f"{IMPORTED}.{item}" for item in items])
        for n in range(rows):
            writer.writerow([f"IMP-{n:05d}"] + [str(1 + (n + i) % 5) for i in range(len(items))])
    return app, slug, [i.token for i in invitations], pages, path


# --- residents ------------------------------------------------------------------------------------------

def resident(port: int, token: str, pages, start: threading.Barrier, done: threading.Event, pause: float,
             figures: Figures, confirmed: dict, lock: threading.Lock, importing: threading.Event) -> None:
    client = Client(port)
    _status, _loc, page = client.request("GET", f"/q/{token}")
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    status, _loc, _ = client.request("POST", f"/q/{token}", {"csrf_token": csrf, "consent": "y"})
    start.wait()
    savable = len(pages) - 1  # the last page would finish the wave; page saves are what is measured
    i = 0
    while not done.is_set() or i < 2:
        n, round_no = i % savable, i // savable
        answers = {name: answer_for(kind, name, round_no) for name, kind in pages[n]}
        began = time.perf_counter()
        try:
            status, location, text = client.request("POST", f"/q/{token}/p/{n}",
                                                    {"csrf_token": csrf, "move": "next", **answers})
        except (OSError, http.client.HTTPException) as exc:  # a worker killed at its timeout, a reset
            status, location, text = 0, "", f"{type(exc).__name__}: {exc}"
            client.conn.close()  # the next page opens a new connection
        took = time.perf_counter() - began
        with lock:
            (figures.latencies if importing.is_set() else figures.quiet).append(took)
            if status == 302 and location.endswith(f"/p/{n + 1}"):
                figures.saved += 1
                for name, kind in pages[n]:
                    confirmed[(token, name)] = stored_value(answers[name], kind)
                i += 1
            elif status == 503 and BUSY_NOTICE in text:
                figures.shown_again += 1  # the page comes back with the typed answers: the resident clicks again
            else:
                figures.lost += 1
                figures.errors.append(f"page {n}: HTTP {status} {location} {text[:200]!r}")
                i += 1
        time.sleep(pause * random.uniform(0.5, 1.5))
    client.conn.close()


def imported_rows(app, slug: str) -> int:
    from sqlalchemy import func, select

    from surveyhub.models import Participant, Project

    with app.extensions["surveyhub.db"].session() as session:
        return session.scalar(select(func.count()).select_from(Participant).join(Project)
                              .where(Project.slug == slug, Participant.source == "import"))


# --- the run ---------------------------------------------------------------------------------------------

def run(folder: Path, rows: int, residents: int, workers: int, database_url: str | None = None,
        pause: float = 2.0, baseline: float = 0.0) -> Figures:
    """Set up, start gunicorn, import while residents save; the figures (see the module docstring)."""
    app, slug, tokens, pages, csv_path = instance(folder, database_url, residents, rows)
    env = {"SURVEYHUB_INSTANCE_PATH": str(folder), "SURVEYHUB_PLUGINS_DIR": ""}
    if database_url:
        env["SURVEYHUB_DATABASE_URL"] = database_url
    port = free_port()
    server = gunicorn("surveyhub:create_app()", port, workers, env, ROOT)
    figures, confirmed, lock = Figures(), {}, threading.Lock()
    try:
        wait_until_up(port, server, "/login")
        start, done, importing = threading.Barrier(residents + 1), threading.Event(), threading.Event()
        threads = [threading.Thread(target=resident, args=(port, token, pages, start, done, pause, figures,
                                                           confirmed, lock, importing), daemon=True)
                   for token in tokens]
        for thread in threads:
            thread.start()
        start.wait(timeout=120)
        time.sleep(baseline)  # residents save on their own first: what the import adds is the difference
        importing.set()
        figures.import_seconds, figures.import_output = import_file(slug, csv_path, env)
        done.set()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        stop(server)
        server.stderr.close()
    found = re.search(r"Stored in (\d+) write transactions? .*?the longest took ([\d.]+) s", figures.import_output)
    if found:
        figures.batches, figures.longest_batch = int(found.group(1)), float(found.group(2))
    figures.lost += lost_surveyhub_answers(app, confirmed)
    stored_rows = imported_rows(app, slug)
    if stored_rows != rows:
        figures.errors.append(f"the import stored {stored_rows} of {rows} rows")
    app.extensions["surveyhub.db"].engine.dispose()
    return figures


def import_file(slug: str, path: Path, env: dict) -> tuple[float, str]:
    """Run ``surveyhub responses import`` in a process of its own; (seconds, its output)."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", "from surveyhub.cli import main; main()", "responses", "import",
                           slug, "--wave", "pre", str(path)], env={**os.environ, **env}, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - began
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise SystemExit(f"the import failed ({done.returncode}): {output[-2000:]}")
    return seconds, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=8000)
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pause", type=float, default=2.0,
                        help="seconds a resident reads between pages (0.5 to 1.5 times this)")
    parser.add_argument("--baseline", type=float, default=20.0,
                        help="seconds residents save before the import starts, for comparison")
    parser.add_argument("--database-url", help="e.g. a PostgreSQL database; default: SQLite in the temp folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="surveyhub-import-bench-"))
    try:
        figures = run(folder, args.rows, args.residents, args.workers, args.database_url, args.pause,
                      args.baseline)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(figures.report(args.rows, args.residents, args.workers))
    for error in figures.errors[:5]:
        print(f"  {error}")
    return 1 if figures.lost or figures.errors else 0


if __name__ == "__main__":
    sys.exit(main())
