"""Benchmark: how fast SurveyHub saves questionnaire pages, next to a bare Flask + SQLAlchemy app.

Two servers run the same way (gunicorn, the worker count and settings of
``surveyhub serve``), each on its own SQLite file in a temporary folder with
the same pragmas (WAL, busy timeout, ``BEGIN IMMEDIATE``):

* SurveyHub, with one project and 50 residents who have given consent;
* a bare app that inserts one row per POST.

Then 50 client threads (one per resident, keep-alive ``http.client``; gunicorn's
sync workers, which ``surveyhub serve`` uses, close every connection, so the
clients reconnect alike for both servers) POST pages for a fixed number of
requests each. Printed per server: throughput,
p50/p95 latency, errors and lost answers (what the clients were told was saved
but is not in the database; must be 0), and the ratio SurveyHub/bare (target
≥ 0.6) with the SQL statements one SurveyHub page save sends (counted in
process, transaction control and pragmas left out). Errors or lost answers
make the script exit 1; a ratio below target only with ``--strict``.

    .venv/bin/python bench/page_save.py [--clients 50] [--requests 20] [--workers 2] [--rounds 3]
    .venv/bin/python bench/page_save.py --profile     # where a SurveyHub page save spends its time

Only loopback addresses are used; the script stops both servers and removes
its folder, and finishes well within two minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
INSTRUMENTS = ["organising", "conversation", "cooperation", "network", "confidence"]
TARGET_RATIO = 0.6
BUDGET_SECONDS = 110  # the whole script, on a 2-core machine

BARE_APP = textwrap.dedent('''
    """The bare comparison: Flask + SQLAlchemy, one row per POST, SurveyHub's SQLite engine settings."""
    import os

    from flask import Flask, redirect, request
    from sqlalchemy import Integer, String, Text
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

    from surveyhub.db import make_engine  # WAL, busy timeout, BEGIN IMMEDIATE: the very same engine set-up


    class Base(DeclarativeBase):
        pass


    class Save(Base):
        __tablename__ = "saves"
        id: Mapped[int] = mapped_column(primary_key=True)
        client: Mapped[str] = mapped_column(String(64), index=True)
        page: Mapped[int] = mapped_column(Integer)
        body: Mapped[str] = mapped_column(Text)


    engine = make_engine(os.environ["BARE_DATABASE_URL"])
    app = Flask(__name__)


    @app.post("/save/<client>/<int:page>")
    def save(client, page):
        with Session(engine) as session:
            session.add(Save(client=client, page=page, body=request.get_data(as_text=True)))
            session.commit()
        return redirect(f"/save/{client}/{page + 1}")
''')


# --- servers ---------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def gunicorn(app_spec: str, port: int, workers: int, env: dict, cwd: Path) -> subprocess.Popen:
    """The command ``surveyhub serve`` runs, with the same options for both servers."""
    args = [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{port}", "--workers", str(workers),
            "--access-logfile", "-", "--graceful-timeout", "10", app_spec]
    return subprocess.Popen(args, env={**os.environ, **env}, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)


def wait_until_up(port: int, process: subprocess.Popen, path: str = "/", timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on port {port} stopped: {process.stderr.read().decode()[-2000:]}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not start within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# --- SurveyHub set-up --------------------------------------------------------------------------------

def surveyhub_instance(folder: Path, n_residents: int):
    """A migrated SurveyHub instance with one project and ``n_residents`` personal links."""
    from surveyhub import create_app
    from surveyhub.plugins import get_registry
    from surveyhub.services import access, accounts, participants, projects, schema_state

    app = create_app({"INSTANCE_PATH": str(folder), "BASE_URL": "http://127.0.0.1"})
    schema_state.upgrade(app.extensions["surveyhub.db"])
    with app.extensions["surveyhub.db"].session() as session:
        org = accounts.create_organisation(session, "Bench")
        actor = access.Actor(organisation_id=org.id, role="admin")
        project = projects.create_project(session, get_registry(app), actor, "Bench", INSTRUMENTS, False)
        invitations = participants.add_participants(session, actor, project.slug, count=n_residents)
        session.commit()
    pages = _pages(app, project.slug)
    app.extensions["surveyhub.db"].engine.dispose()
    return app, [i.token for i in invitations], pages


def _pages(app, slug: str) -> list[list[tuple[str, str]]]:
    """Per page: (form field name, item type) of every item."""
    from sqlalchemy import select

    from surveyhub.models import Project
    from surveyhub.services import responses

    with app.extensions["surveyhub.db"].session() as session:
        project = session.scalar(select(Project).where(Project.slug == slug))
        return [[(slot.key, slot.item["type"]) for slot in page.slots]
                for page in responses.pages_for(project, "pre")]


def answer_for(item_type: str, field_name: str, round_no: int):
    if item_type == "text":
        return f"ronde {round_no}"
    if field_name.endswith("net_helpers"):
        return str(round_no % 11)
    return str(1 + round_no % 5)


def stored_value(value: str, item_type: str):
    return value if item_type == "text" else float(value)


# --- clients -----------------------------------------------------------------------------------------

@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    confirmed: dict = field(default_factory=dict)  # what the server said it saved


class Client:
    """One resident's browser: a keep-alive connection and the session cookie."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None):
        headers = {"Connection": "keep-alive"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.conn.close()  # the server closed an idle keep-alive connection: open a new one, once
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.getheader("Location") or "", text


def surveyhub_client(port: int, token: str, pages, n_requests: int, barrier, tally: Tally) -> None:
    client = Client(port)
    status, _loc, page = client.request("GET", f"/q/{token}")
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    status, location, _ = client.request("POST", f"/q/{token}", {"csrf_token": csrf, "consent": "y"})
    if status != 302 or not location.endswith("/p/0"):
        tally.errors.append(f"consent: HTTP {status}")
    barrier.wait()
    savable = len(pages) - 1  # the last page would finish the wave; page saves are what we measure
    for i in range(n_requests):
        n, round_no = i % savable, i // savable
        answers = {name: answer_for(kind, name, round_no) for name, kind in pages[n]}
        started = time.perf_counter()
        try:
            status, location, _ = client.request("POST", f"/q/{token}/p/{n}",
                                                 {"csrf_token": csrf, "move": "next", **answers})
        except OSError as exc:
            tally.errors.append(f"{type(exc).__name__}: {exc}")
            continue
        tally.latencies.append(time.perf_counter() - started)
        if status == 302 and location.endswith(f"/p/{n + 1}"):
            for (name, kind) in pages[n]:
                tally.confirmed[(token, name)] = stored_value(answers[name], kind)
        else:
            tally.errors.append(f"page {n}: HTTP {status} {location}")


def bare_client(port: int, name: str, pages, n_requests: int, barrier, tally: Tally) -> None:
    client = Client(port)
    barrier.wait()
    savable = len(pages) - 1
    for i in range(n_requests):
        n, round_no = i % savable, i // savable
        answers = {field_name: answer_for(kind, field_name, round_no) for field_name, kind in pages[n]}
        started = time.perf_counter()
        try:
            status, location, _ = client.request("POST", f"/save/{name}/{n}", {"move": "next", **answers})
        except OSError as exc:
            tally.errors.append(f"{type(exc).__name__}: {exc}")
            continue
        tally.latencies.append(time.perf_counter() - started)
        if status == 302 and location.endswith(f"/save/{name}/{n + 1}"):
            tally.confirmed[(name, i)] = True
        else:
            tally.errors.append(f"page {n}: HTTP {status}")


def run_clients(target, ids: list[str], *args) -> tuple[float, Tally]:
    """All clients start together; returns the wall time of the measured part and the merged tally."""
    barrier = threading.Barrier(len(ids) + 1)
    tallies = [Tally() for _ in ids]
    threads = [threading.Thread(target=target, args=(args[0], ident, *args[1:], barrier, tally), daemon=True)
               for ident, tally in zip(ids, tallies)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=90)
    elapsed = time.perf_counter() - started
    merged = Tally()
    for tally in tallies:
        merged.latencies += tally.latencies
        merged.errors += tally.errors
        merged.confirmed.update(tally.confirmed)
    if any(thread.is_alive() for thread in threads):
        merged.errors.append("some clients did not finish within 90 s")
    return elapsed, merged


# --- checks against the databases ----------------------------------------------------------------

def lost_surveyhub_answers(app, confirmed: dict) -> int:
    """Answers a client was told were saved, missing or different in the database."""
    from sqlalchemy import select

    from surveyhub.models import Answer, Response, Token

    with app.extensions["surveyhub.db"].session() as session:
        rows = session.execute(select(Token.token, Answer.block, Answer.instrument_id, Answer.item_id,
                                      Answer.value_num, Answer.value_text)
                               .join(Response, Response.participant_id == Token.participant_id)
                               .join(Answer, Answer.response_id == Response.id)).all()
    stored = {(token, f"{block}__{inst}__{item}"): (text if text is not None else num)
              for token, block, inst, item, num, text in rows}
    app.extensions["surveyhub.db"].engine.dispose()
    return sum(1 for k, value in confirmed.items() if stored.get(k) != value)


def lost_bare_rows(url: str, confirmed: dict) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT count(*) FROM saves")).scalar_one()
    engine.dispose()
    return max(0, len(confirmed) - found) + max(0, found - len(confirmed))


def bare_database(path: Path) -> str:
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE saves (id INTEGER PRIMARY KEY, client VARCHAR(64), page INTEGER, "
                          "body TEXT)"))
        conn.execute(text("CREATE INDEX ix_saves_client ON saves (client)"))
    engine.dispose()
    return url


# --- the benchmark -------------------------------------------------------------------------------------

@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: list[str]
    lost: int

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000

    def line(self) -> str:
        return (f"{self.name:9} {self.throughput:8.1f} req/s   p50 {self.percentile(0.5):7.1f} ms   "
                f"p95 {self.percentile(0.95):7.1f} ms   errors {len(self.errors)}   lost {self.lost}")


def bench_surveyhub(folder: Path, args) -> tuple[Result, list]:
    app, tokens, pages = surveyhub_instance(folder / "surveyhub", args.clients)
    port = free_port()
    server = gunicorn("surveyhub:create_app()", port, args.workers,
                      {"SURVEYHUB_INSTANCE_PATH": str(folder / "surveyhub")}, ROOT)
    try:
        wait_until_up(port, server, "/login")
        seconds, tally = run_clients(surveyhub_client, tokens, port, pages, args.requests)
    finally:
        stop(server)
    lost = lost_surveyhub_answers(app, tally.confirmed)
    return Result("SurveyHub", args.clients * args.requests, seconds, tally.latencies, tally.errors, lost), pages


def bench_bare(folder: Path, args, pages) -> Result:
    (folder / "bare").mkdir()
    (folder / "bare" / "bare_app.py").write_text(BARE_APP)
    url = bare_database(folder / "bare" / "bare.sqlite3")
    port = free_port()
    server = gunicorn("bare_app:app", port, args.workers,
                      {"BARE_DATABASE_URL": url, "PYTHONPATH": f"{folder / 'bare'}{os.pathsep}{ROOT}"}, folder / "bare")
    try:
        wait_until_up(port, server, "/")
        seconds, tally = run_clients(bare_client, [f"c{i}" for i in range(args.clients)], port, pages,
                                     args.requests)
    finally:
        stop(server)
    return Result("bare", args.clients * args.requests, seconds, tally.latencies, tally.errors,
                  lost_bare_rows(url, tally.confirmed))


def _pages_once(folder: Path, args) -> list:
    """The page layout alone (for running the bare server first); a throw-away instance."""
    app, _tokens, pages = surveyhub_instance(folder / "layout", 1)
    return pages


def _bare_in_process(folder: Path, pages, n_requests: int) -> float:
    import importlib

    (folder / "bare").mkdir()
    (folder / "bare" / "bare_app.py").write_text(BARE_APP)
    os.environ["BARE_DATABASE_URL"] = bare_database(folder / "bare" / "bare.sqlite3")
    sys.path.insert(0, str(folder / "bare"))
    client = importlib.import_module("bare_app").app.test_client()
    data = {"move": "next", **{name: answer_for(kind, name, 0) for name, kind in pages[0]}}
    for _ in range(20):
        client.post("/save/c1/0", data=data)
    started = time.perf_counter()
    for _ in range(n_requests):
        assert client.post("/save/c1/0", data=data).status_code == 302
    return (time.perf_counter() - started) / n_requests * 1000


#: Not counted as statements: transaction control and pragmas (as tests/test_resident_path_statements.py).
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


def _saving_client(folder: Path):
    """An in-process SurveyHub with one resident who gave consent: (app, work(count) that saves pages)."""
    app, tokens, pages = surveyhub_instance(folder, 1)
    client = app.test_client()
    token = tokens[0]
    page = client.get(f"/q/{token}").text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(f"/q/{token}", data={"csrf_token": csrf, "consent": "y"})
    savable = len(pages) - 1

    def work(count: int) -> None:
        for i in range(count):
            n = i % savable
            data = {"csrf_token": csrf, "move": "next",
                    **{name: answer_for(kind, name, i // savable) for name, kind in pages[n]}}
            assert client.post(f"/q/{token}/p/{n}", data=data).status_code == 302

    return app, pages, work


def counted_statements(app, work, count: int) -> tuple[float, dict[str, int]]:
    """SQL statements per page save (and how many of each kind) over ``count`` saves."""
    from sqlalchemy import event

    engine = app.extensions["surveyhub.db"].engine
    kinds: dict[str, int] = {}

    def record(_conn, _cursor, statement, *_args):
        word = statement.lstrip().split(None, 1)[0].upper()
        if not word.startswith(_CONTROL):
            kinds[word] = kinds.get(word, 0) + 1

    event.listen(engine, "before_cursor_execute", record)
    try:
        work(count)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sum(kinds.values()) / count, kinds


def statements_per_save(args) -> float:
    folder = Path(tempfile.mkdtemp(prefix="surveyhub-statements-"))
    try:
        app, _pages, work = _saving_client(folder)
        work(10)  # warm: snapshots, pages and forms are cached per process
        per_save, _kinds = counted_statements(app, work, 20)
        app.extensions["surveyhub.db"].engine.dispose()
        return per_save
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def profile(args) -> None:
    """Page saves in-process (test client), without the network: time, SQL and where Python spends it."""
    import cProfile
    import pstats

    from sqlalchemy import event

    folder = Path(tempfile.mkdtemp(prefix="surveyhub-profile-"))
    try:
        app, pages, work = _saving_client(folder)
        work(20)  # warm up
        n_requests = args.requests * 10
        started = time.perf_counter()
        work(n_requests)
        print(f"in-process page save: {(time.perf_counter() - started) / n_requests * 1000:.2f} ms per request")

        engine = app.extensions["surveyhub.db"].engine
        counts = {"write transactions": 0, "connections": 0}
        # SQLite takes its write lock at a request's first write (BEGIN IMMEDIATE) and holds it to the commit.
        locked = {"since": None, "total": 0.0}

        def first_write(_conn, _cursor, statement, *_args):
            if locked["since"] is None and not statement.lstrip().upper().startswith(("SELECT", "PRAGMA")):
                counts["write transactions"] += 1
                locked["since"] = time.perf_counter()

        def end(*_args):
            if locked["since"] is not None:
                locked["total"] += time.perf_counter() - locked["since"]
                locked["since"] = None

        event.listen(engine, "connect", lambda *_args: counts.__setitem__("connections", counts["connections"] + 1))
        event.listen(engine, "before_cursor_execute", first_write)  # runs just after the BEGIN IMMEDIATE
        event.listen(engine, "commit", end)
        event.listen(engine, "rollback", end)
        started = time.perf_counter()
        per_save, kinds = counted_statements(app, work, n_requests)
        elapsed = time.perf_counter() - started
        print(f"per request: {per_save:.1f} SQL statements ("
              + ", ".join(f"{v / n_requests:.1f} {k}" for k, v in sorted(kinds.items())) + "), "
              + ", ".join(f"{v / n_requests:.1f} {k}" for k, v in counts.items())
              + f"; write lock held {locked['total'] / n_requests * 1000:.1f} of "
              f"{elapsed / n_requests * 1000:.1f} ms")

        print(f"bare app, same form bodies: {_bare_in_process(folder, pages, n_requests):.2f} ms per request")

        profiler = cProfile.Profile()
        profiler.runcall(work, n_requests)
        stats = pstats.Stats(profiler)
        print("\nslowest calls by own time:")
        stats.sort_stats("tottime").print_stats(15)
        print("\nSurveyHub code by cumulative time:")
        stats.sort_stats("cumulative").print_stats("surveyhub/|flask_limiter/_limits|wtforms/form", 25)
        engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20, help="page POSTs per client per round")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (surveyhub serve: 2)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    parser.add_argument("--profile", action="store_true", help="profile SurveyHub page saves instead")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the ratio is below the target too")
    args = parser.parse_args()
    if args.profile:
        profile(args)
        return 0

    began = time.monotonic()
    results: dict[str, list[Result]] = {"SurveyHub": [], "bare": []}
    for round_no in range(1, args.rounds + 1):
        spent = time.monotonic() - began
        if round_no > 1 and spent + spent / (round_no - 1) > BUDGET_SECONDS:
            print(f"stopping after {round_no - 1} rounds to stay within {BUDGET_SECONDS} s")
            break
        folder = Path(tempfile.mkdtemp(prefix="surveyhub-bench-"))
        try:
            if round_no % 2:  # alternate the order, so a busy moment of the machine hits both alike
                hub, pages = bench_surveyhub(folder, args)
                bare = bench_bare(folder, args, pages)  # the same form bodies, one row each
            else:
                bare = bench_bare(folder, args, _pages_once(folder, args))
                hub, _pages_again = bench_surveyhub(folder, args)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        for result in (hub, bare):
            results[result.name].append(result)
            print(f"round {round_no}: {result.line()}")
            for error in result.errors[:3]:
                print(f"           {error}")
    hub_tp = statistics.median(r.throughput for r in results["SurveyHub"])
    bare_tp = statistics.median(r.throughput for r in results["bare"])
    ratio = hub_tp / bare_tp if bare_tp else 0.0
    print()
    print(f"{args.clients} clients × {args.requests} page POSTs, {args.workers} gunicorn workers, "
          f"median of {len(results['bare'])} rounds")
    for name in ("SurveyHub", "bare"):
        runs = results[name]
        print(f"{name:9} {statistics.median(r.throughput for r in runs):8.1f} req/s   "
              f"p50 {statistics.median(r.percentile(0.5) for r in runs):7.1f} ms   "
              f"p95 {statistics.median(r.percentile(0.95) for r in runs):7.1f} ms   "
              f"errors {sum(len(r.errors) for r in runs)}   lost answers {sum(r.lost for r in runs)}")
    verdict = "meets the target" if ratio >= TARGET_RATIO else "BELOW TARGET (see --profile)"
    print(f"ratio SurveyHub/bare: {ratio:.2f}, target ≥ {TARGET_RATIO}: {verdict}; "
          f"SQL statements per save: {statements_per_save(args):.1f}")
    print(f"finished in {time.monotonic() - began:.0f} s")
    failed = any(r.errors or r.lost for runs in results.values() for r in runs)  # correctness: always fatal
    return 1 if failed or (args.strict and ratio < TARGET_RATIO) else 0


if __name__ == "__main__":
    sys.exit(main())
