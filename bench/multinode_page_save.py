"""Benchmark: page saves per second through two app servers on PostgreSQL against one.

    .venv/bin/python bench/multinode_page_save.py --database-url postgresql://USER:PW@127.0.0.1:5432/postgres
        [--redis-url redis://127.0.0.1:6379/0] [--residents 50] [--requests 20] [--workers 2] [--rounds 3]

``--database-url`` names a PostgreSQL server where the user may create
databases (the tests' ``SURVEYHUB_TEST_POSTGRES_URL``): a fresh database is
made, migrated and dropped at the end. Redis comes from ``--redis-url`` (databases 1
and 2 are emptied and used) or, without it, a private ``redis-server`` on a
free port. Two nodes, each an instance folder of its own sharing the secret key,
the database and Redis (``tests/multinode/cluster.py``), run ``surveyhub serve``
with ``--workers`` gunicorn workers each.

Each round, ``--residents`` client threads (one per resident, each with its
own cookie jar, consent given beforehand) save ``--requests`` pages each,
all starting together: once all through server a, once alternating between a
and b (resident i's page k goes to server (i + k) mod 2). Printed (medians):
saves per second for one server and for two, the ratio, the p50/p95
latency, answers lost (told saved but not in the database: must be 0), and
the load driver's share of the machine's CPU (this process's CPU time over
the wall time times the number of CPUs): on one machine the driver and both
servers share the same cores, so two servers cannot be faster than the CPUs
allow; the ratio shows that the second server costs nothing and loses nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.multinode.cluster import Browser, Cluster, answer_for, csrf, free_port, stored  # noqa: E402

INSTRUMENTS = ["organising", "conversation", "cooperation", "network", "confidence"]


def private_redis(folder: Path) -> tuple[str, subprocess.Popen]:
    import redis

    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    client.close()
    return f"redis://127.0.0.1:{port}/0", process


def seed(cluster: Cluster, residents: int):
    from sqlalchemy import select

    from surveyhub.models import Project
    from surveyhub.plugins import get_registry
    from surveyhub.services import access, accounts, participants, projects, responses, schema_state

    app = cluster.app()
    try:
        schema_state.upgrade(app.extensions["surveyhub.db"])
        with app.extensions["surveyhub.db"].session() as session:
            org = accounts.create_organisation(session, "Bench")
            actor = access.Actor(organisation_id=org.id, role="admin")
            info = projects.create_project(session, get_registry(app), actor, "Bench", INSTRUMENTS, False)
            invited = participants.add_participants(session, actor, info.slug, count=residents)
            session.commit()
            project = session.scalar(select(Project).where(Project.slug == info.slug))
            pages = [[(slot.key, slot.item["type"]) for slot in page.slots]
                     for page in responses.pages_for(project, "pre")]
    finally:
        app.extensions["surveyhub.db"].engine.dispose()
    return [i.token for i in invited], pages


def consent(nodes, tokens: list[str]) -> dict[str, tuple[Browser, str]]:
    """Every resident has given consent: their browser and CSRF token."""
    found = {}
    for token in tokens:
        browser = Browser()
        _status, _location, page = browser.request(nodes[0], "GET", f"/q/{token}")
        token_value = csrf(page)
        status, location, _page = browser.request(nodes[0], "POST", f"/q/{token}", {"csrf_token": token_value,
                                                                                   "consent": "y"})
        assert status == 302 and location.endswith("/p/0"), (status, location)
        found[token] = (browser, token_value)
    return found


def run_round(nodes, residents: dict, pages, requests: int, round_no: int):
    """All residents save ``requests`` pages each through ``nodes``; (seconds, latencies, confirmed, errors,
    driver CPU seconds)."""
    savable = len(pages) - 1  # the last page would finish the wave
    start = threading.Barrier(len(residents) + 1)
    lock = threading.Lock()
    latencies: list[float] = []
    confirmed: dict = {}
    errors: list[str] = []

    def resident(number: int, token: str, browser: Browser, token_value: str) -> None:
        start.wait()
        for i in range(requests):
            n = i % savable
            node = nodes[(number + i) % len(nodes)]
            answers = {name: answer_for(kind, name, round_no * 1000 + i) for name, kind in pages[n]}
            began = time.perf_counter()
            status, location, _text = browser.request(node, "POST", f"/q/{token}/p/{n}",
                                                      {"csrf_token": token_value, "move": "next", **answers})
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                if status == 302 and location.endswith(f"/p/{n + 1}"):
                    confirmed.update({(token, name): stored(answers[name], kind) for name, kind in pages[n]})
                else:
                    errors.append(f"HTTP {status} {location}")

    threads = [threading.Thread(target=resident, args=(number, token, *residents[token]), daemon=True)
               for number, token in enumerate(residents)]
    for thread in threads:
        thread.start()
    start.wait()
    cpu_before, began = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for thread in threads:
        thread.join()
    seconds, cpu_after = time.perf_counter() - began, resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return seconds, latencies, confirmed, errors, cpu


def lost(database_url: str, confirmed: dict) -> int:
    from sqlalchemy import create_engine, select

    from surveyhub.models import Answer, Response, Token

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Token.token, Answer.block, Answer.instrument_id, Answer.item_id,
                                       Answer.value_num, Answer.value_text)
                                .join(Response, Response.participant_id == Token.participant_id)
                                .join(Answer, Answer.response_id == Response.id)).all()
    finally:
        engine.dispose()
    stored = {(token, f"{block}__{inst}__{item}"): (text if text is not None else num)
              for token, block, inst, item, num, text in rows}
    return sum(1 for key, value in confirmed.items() if stored.get(key) != value)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("SURVEYHUB_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server URL (default: $SURVEYHUB_TEST_POSTGRES_URL)")
    parser.add_argument("--redis-url", default=None, help="default: a private redis-server")
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20, help="page saves per resident per run")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not args.database_url:
        print("bench/multinode_page_save.py: needs --database-url (a PostgreSQL server); skipped")
        return 0

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    folder = Path(tempfile.mkdtemp(prefix="surveyhub-multinode-bench-"))
    server_url = make_url(args.database_url).set(drivername="postgresql+psycopg")
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"surveyhub_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    redis_process = None
    cluster = None
    try:
        redis_url = args.redis_url
        if redis_url is None:
            redis_url, redis_process = private_redis(folder)
        database_url = server_url.set(database=name).render_as_string(hide_password=False)
        cluster = Cluster(folder, database_url, redis_url, TOKEN_RATE_LIMIT="100000 per minute")
        tokens, pages = seed(cluster, args.residents)
        a, b = cluster.node("a"), cluster.node("b")
        for node in (a, b):
            cluster.serve(node, workers=args.workers)
        cluster.wait_up()
        residents = consent((a, b), tokens)
        run_round((a, b), residents, pages, 3, 999)  # warm-up: every gunicorn worker has its caches filled
        figures: dict[str, dict[str, list]] = {label: {"rate": [], "p50": [], "p95": [], "share": []}
                                               for label in ("one", "two")}
        lost_total, errors_total = 0, []
        for round_no in range(args.rounds):
            for label, nodes in (("one", (a,)), ("two", (a, b))):
                seconds, latencies, confirmed, errors, cpu = run_round(nodes, residents, pages, args.requests,
                                                                        round_no * 2 + (label == "two"))
                lost_total += lost(database_url, confirmed)
                errors_total += errors
                figures[label]["rate"].append(len(latencies) / seconds)
                figures[label]["p50"].append(percentile(latencies, 0.5))
                figures[label]["p95"].append(percentile(latencies, 0.95))
                figures[label]["share"].append(cpu / (seconds * (os.cpu_count() or 1)) * 100)
                print(f"  round {round_no + 1}, {label} server(s): {len(latencies) / seconds:6.1f} saves/s, "
                      f"driver {figures[label]['share'][-1]:4.1f} % of the CPUs", flush=True)
        for browser, _token in residents.values():
            browser.close()
    finally:
        if cluster is not None:
            cluster.stop()
        if redis_process is not None:
            redis_process.terminate()
            redis_process.wait(timeout=10)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(folder, ignore_errors=True)

    median = {label: {key: statistics.median(values) for key, values in found.items()}
              for label, found in figures.items()}
    saves = args.residents * args.requests
    print(f"{args.residents} residents × {args.requests} page saves on PostgreSQL, {args.workers} gunicorn workers "
          f"per server, medians of {args.rounds} round(s), {os.cpu_count()} CPUs:")
    for label, words in (("one", "1 server "), ("two", "2 servers")):
        m = median[label]
        print(f"  {words}: {m['rate']:6.1f} saves/s ({saves} a run), p50 {m['p50']:.0f} ms, p95 {m['p95']:.0f} ms; "
              f"load driver {m['share']:.0f} % of the machine's CPU")
    print(f"two servers vs one: {median['two']['rate'] / median['one']['rate']:4.2f} ×; answers lost: {lost_total}; "
          f"errors: {len(errors_total)}" + (f" (e.g. {errors_total[0]})" if errors_total else ""))
    return 1 if lost_total or errors_total else 0


if __name__ == "__main__":
    sys.exit(main())
