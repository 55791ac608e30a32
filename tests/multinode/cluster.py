"""SurveyHub on "several machines" on this one: app servers and workers sharing PostgreSQL and Redis.

Each node is an instance folder of its own (as on a machine of its own) with
the same secret key, database, queue and rate-limit store, and runs the real
commands: ``surveyhub serve`` (gunicorn) and ``surveyhub worker`` (Huey
consumers), each in a process group of its own, so a node can be killed
whole (SIGKILL) and everything is stopped at the end, however the run ends.
The multi-node tests (``tests/multinode``) and the benchmarks
``bench/jobs_certificates.py`` and ``bench/multinode_page_save.py`` use it.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
SECRET_KEY = "multinode-shared-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def redis_db(url: str, number: int) -> str:
    """``url`` with its database number replaced: each use (queue, rate limits) gets a db of its own."""
    base = re.sub(r"/\d*$", "", url.rstrip("/"))
    return f"{base}/{number}"


def flush(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from surveyhub.cli import main; main()", *args]


@dataclass
class Process:
    """A command running in a process group of its own, its output in a log file."""

    name: str
    popen: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def said(self, text: str) -> bool:
        """Whether the log holds ``text`` anywhere (a start-up line is long gone from the tail)."""
        try:
            return text in self.log.read_text(errors="replace")
        except OSError:
            return False

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole group (gunicorn's workers, Huey's worker processes) and reap the leader."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)
        try:  # a worker process left behind by its leader
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self) -> None:
        """SIGTERM first (gunicorn and Huey finish the work at hand), SIGKILL after 20 s."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self.kill()


@dataclass
class Node:
    """One machine: an instance folder and the environment its commands run with."""

    name: str
    instance: Path
    env: dict[str, str]
    port: int = 0
    server: Process | None = None
    workers: list[Process] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(cli_command(*args), env=self.env, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout)


class Cluster:
    """Nodes sharing one database and one Redis; every process they start is stopped by ``stop``."""

    def __init__(self, folder: Path, database_url: str, redis_url: str, **settings: str | int):
        self.folder = folder
        self.database_url = database_url
        self.queue_url = redis_db(redis_url, 1)
        self.limits_url = redis_db(redis_url, 2)
        self.settings = {"SECRET_KEY": SECRET_KEY, "DATABASE_URL": database_url, "QUEUE_URL": self.queue_url,
                         "RATELIMIT_STORAGE_URI": self.limits_url, "EMBEDDED_WORKER": 0, "PLUGINS_DIR": "",
                         "BASE_URL": "http://surveyhub.test", **settings}
        self.nodes: list[Node] = []
        for url in (self.queue_url, self.limits_url):
            flush(url)

    def node(self, name: str) -> Node:
        instance = self.folder / name
        instance.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYHUB_")}
        env.update({f"SURVEYHUB_{key}": str(value) for key, value in self.settings.items()})
        env.update(SURVEYHUB_INSTANCE_PATH=str(instance), PYTHONUNBUFFERED="1")
        node = Node(name, instance, env)
        self.nodes.append(node)
        return node

    def app(self, **extra):
        """An app object in this process on the shared database and queue (to set up data, start jobs)."""
        from surveyhub import create_app

        config = {"INSTANCE_PATH": str(self.folder / "driver"), **self.settings, **extra}
        return create_app(config)

    def _start(self, node: Node, what: str, args: list[str]) -> Process:
        log = node.instance / f"{what}-{len(list(node.instance.glob(what + '-*.log')))}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(cli_command(*args), env=node.env, cwd=ROOT, stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return Process(f"{node.name}.{what}", popen, log)

    def serve(self, node: Node, workers: int = 2) -> Process:
        node.port = free_port()
        node.server = self._start(node, "serve", ["serve", "--port", str(node.port), "--workers", str(workers)])
        return node.server

    def worker(self, node: Node, workers: int = 1) -> Process:
        process = self._start(node, "worker", ["worker", "--workers", str(workers), "--verbose"])
        node.workers.append(process)
        return process

    def wait_up(self, timeout: float = 120) -> None:
        """Every server answers /login and every worker's consumer has started."""
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            if node.server is not None:
                wait_for(lambda n=node: _answers(n), f"{node.name}'s server", deadline, node.server)
            for process in node.workers:
                wait_for(lambda p=process: p.said("consumer started"), f"{process.name}", deadline, process)

    def processes(self) -> list[Process]:
        return [p for node in self.nodes for p in ([node.server] if node.server else []) + node.workers]

    def stop(self) -> None:
        for process in self.processes():
            process.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.tail()}" for p in self.processes())


def wait_for(condition, what: str, deadline: float, process: Process | None = None, interval: float = 0.2):
    """Poll ``condition`` until it is true; fail with the process's log if it died or time ran out."""
    while True:
        value = condition()
        if value:
            return value
        if process is not None and not process.alive():
            raise AssertionError(f"{what}: the process ended ({process.popen.returncode}):\n{process.tail()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not ready in time" + (f":\n{process.tail()}" if process else ""))
        time.sleep(interval)


def _answers(node: Node) -> bool:
    conn = http.client.HTTPConnection(HOST, node.port, timeout=5)
    try:
        conn.request("GET", "/login")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


class Browser:
    """One person's browser: a cookie jar, and requests to whichever node is asked."""

    def __init__(self):
        self.cookies: dict[str, str] = {}
        self.connections: dict[int, http.client.HTTPConnection] = {}

    def request(self, node: Node, method: str, path: str, body: dict | None = None) -> tuple[int, str, str]:
        headers = {"Connection": "keep-alive"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            conn = self.connections.get(node.port) or http.client.HTTPConnection(HOST, node.port, timeout=120)
            self.connections[node.port] = conn
            try:
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()  # gunicorn's sync workers close idle connections: a new one, once
                self.connections.pop(node.port, None)
                if attempt == 2:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.getheader("Location") or "", text

    def close(self) -> None:
        for conn in self.connections.values():
            conn.close()


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert found, f"no CSRF token on the page: {html[:300]!r}"
    return found.group(1)


def log_in(browser: Browser, node: Node, email: str, password: str) -> None:
    status, _location, page = browser.request(node, "GET", "/login")
    status, location, page = browser.request(node, "POST", "/login", {"csrf_token": csrf(page), "email": email,
                                                                    "password": password})
    assert status == 302, (status, page[:500])


def answer_for(item_type: str, field_name: str, seed: int) -> str:
    """An answer that differs per resident (or round), so a save that lands on the wrong response shows."""
    if item_type == "text":
        return f"bewoner {seed}"
    if field_name.endswith("net_helpers"):
        return str(seed % 11)
    return str(1 + seed % 5)


def stored(value: str, item_type: str):
    """What the database holds for an answer sent as ``value``."""
    return value if item_type == "text" else float(value)
