"""The deployment examples (``deploy/`` and the marked commands in ``docs/deploy.md``), run as an admin runs them.

Every file in ``deploy/`` is exercised here: the systemd units' commands are started
as systemd would start them (their EnvironmentFile read the way systemd reads it,
the example's paths and port moved to a temporary instance), the nginx example is
started in front of ``surveyhub serve`` with a self-signed certificate, and the
documented SQLite and PostgreSQL backups and restores are run on a real instance;
what the guide says about Redis being down is checked too. A new file in
``deploy/`` fails :func:`test_every_example_in_deploy_is_exercised_here` until a
test runs it.
"""

from __future__ import annotations

import configparser
import html
import http.client
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from tests.conftest import missing

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
DOC = REPO / "docs" / "deploy.md"
BIN = Path(sys.executable).parent
#: Generous: a loaded 2-core CI machine starts gunicorn and a Huey consumer slowly.
WAIT = 120

EXERCISED = {"surveyhub.env", "surveyhub.service", "surveyhub-worker.service", "nginx-surveyhub.conf"}


def test_every_example_in_deploy_is_exercised_here():
    assert {path.name for path in DEPLOY.iterdir()} == EXERCISED


# --- reading the examples as systemd reads them ----------------------------------------------------------------

def read_unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True, comment_prefixes=("#", ";"))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text(encoding="utf-8"))
    return parser


def read_env_file(text: str) -> dict[str, str]:
    """``KEY=value`` lines as systemd's EnvironmentFile reads them (comments skipped, one pair of quotes removed)."""
    found = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), f"not KEY=value: {line!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        found[key] = value
    return found


def test_the_env_file_names_only_real_settings_and_reads_the_same_in_a_shell():
    from surveyhub.config import DEFAULTS

    text = (DEPLOY / "surveyhub.env").read_text(encoding="utf-8")
    commented = "\n".join(line.lstrip("#") for line in text.splitlines() if re.match(r"#SURVEYHUB_", line))
    settings = {**read_env_file(text), **read_env_file(commented)}
    assert {key.removeprefix("SURVEYHUB_") for key in settings} <= set(DEFAULTS) | {"INSTANCE_PATH"}
    assert {"QUEUE_URL", "EMBEDDED_WORKER", "SMTP_HOST", "MAIL_FROM"} <= {k.removeprefix("SURVEYHUB_")
                                                                           for k in settings}
    # Admins run commands with the same file sourced in a shell (docs/deploy.md): it must read the same there.
    script = "set -a; . /dev/stdin; set +a; env -0"
    both = subprocess.run(["bash", "-c", script], input=text + "\n" + commented, capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"]}, check=True).stdout
    shell = dict(pair.split("=", 1) for pair in both.split("\0") if pair.startswith("SURVEYHUB_"))
    assert shell == settings


@pytest.mark.parametrize("name, command", [("surveyhub.service", "serve"), ("surveyhub-worker.service", "worker")])
def test_a_unit_runs_a_real_command_with_options_that_exist(name, command):
    unit = read_unit(name)
    service = unit["Service"]
    assert service["EnvironmentFile"] == "/etc/surveyhub/surveyhub.env"
    assert service["WorkingDirectory"] == "/srv/surveyhub"
    argv = shlex.split(service["ExecStart"])
    assert argv[:2] == ["/srv/surveyhub/.venv/bin/surveyhub", command]
    shown = subprocess.run([str(BIN / "surveyhub"), command, "--help"], capture_output=True, text=True,
                           env=dict(os.environ, SURVEYHUB_INSTANCE_PATH=str(REPO / "instance")))
    assert shown.returncode == 0, shown.stderr
    options = [arg for arg in argv[2:] if arg.startswith("--")]
    assert options and all(re.search(rf"(^|\s){re.escape(option)}\b", shown.stdout) for option in options), (
        options, shown.stdout)
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_systemd_analyze_verifies_the_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (the units are still parsed and run by the tests here)")
    env_file = tmp_path / "surveyhub.env"
    env_file.write_text((DEPLOY / "surveyhub.env").read_text(encoding="utf-8"))
    paths = []
    for name in ("surveyhub.service", "surveyhub-worker.service"):
        text = (DEPLOY / name).read_text(encoding="utf-8")
        text = text.replace("/srv/surveyhub/.venv/bin", str(BIN)).replace("/srv/surveyhub", str(REPO))
        text = text.replace("/etc/surveyhub/surveyhub.env", str(env_file))
        (tmp_path / name).write_text(text)
        paths.append(str(tmp_path / name))
    done = subprocess.run([analyze, "verify", "--man=no", *paths], capture_output=True, text=True)
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if "surveyhub" in line and "User=" not in line and "Group=" not in line]  # no such user here
    assert done.returncode == 0 or not problems, done.stdout + done.stderr


# --- running the units ------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unit_environment(instance: Path, base_url: str, **changes: str) -> dict[str, str]:
    """The env file of the example, with the instance folder and address moved here, as systemd passes it."""
    settings = read_env_file((DEPLOY / "surveyhub.env").read_text(encoding="utf-8"))
    assert settings["SURVEYHUB_INSTANCE_PATH"] == "/var/lib/surveyhub"
    settings.update(SURVEYHUB_INSTANCE_PATH=str(instance), SURVEYHUB_BASE_URL=base_url, **changes)
    keep = {key: os.environ[key] for key in ("PATH", "LANG", "HOME") if key in os.environ}
    return {**keep, **settings}


def exec_start(name: str, **replace: str) -> list[str]:
    argv = shlex.split(read_unit(name)["Service"]["ExecStart"])
    argv[0] = argv[0].replace("/srv/surveyhub/.venv/bin", str(BIN))
    return [replace.get(arg, arg) for arg in argv]


def run_cli(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([str(BIN / "surveyhub"), *args], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=WAIT)
    assert not check or done.returncode == 0, done.stdout + done.stderr
    return done


class Unit:
    """A unit's ExecStart as systemd runs it: its own process group, stopped with its KillSignal (KillMode=mixed)."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path):
        self.unit = read_unit(name)["Service"]
        assert self.unit["KillMode"] == "mixed"
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(argv, env=env, cwd=self.unit["WorkingDirectory"].replace(
                "/srv/surveyhub", str(REPO)), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> None:
        assert self.process.poll() is None, self.text()

    def group(self) -> list[int]:
        """The processes still in the unit's group (the unit's cgroup, here)."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getpgid(int(entry.name)) == self.process.pid and \
                            "Z" not in (entry / "stat").read_text().split(")")[-1].split()[0]:
                        found.append(int(entry.name))
                except (ProcessLookupError, FileNotFoundError, PermissionError):
                    pass
        return found

    def stop(self) -> None:
        """KillMode=mixed: the KillSignal to the main process; after TimeoutStopSec, SIGKILL to the rest."""
        kill_signal = getattr(signal, self.unit.get("KillSignal", "SIGTERM"))
        timeout = float(self.unit["TimeoutStopSec"])
        if self.process.poll() is None:
            self.process.send_signal(kill_signal)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + timeout
        while self.group() and time.monotonic() < deadline:
            time.sleep(0.2)
        left = self.group()
        if left or self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        assert not left, f"still running {timeout:.0f} s after {kill_signal.name}: {left}\n{self.text()}"


def get(port: int, path: str, *, tls: bool = False, source: str = "127.0.0.1", headers: dict | None = None,
        method: str = "GET", body: str | None = None):
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=30, source_address=(source, 0), context=context)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def wait_for_http(unit: Unit, port: int) -> None:
    deadline = time.monotonic() + WAIT
    while True:
        unit.alive()
        try:
            if get(port, "/login")[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, unit.text()
        time.sleep(0.3)


START_JOB = """
from surveyhub import create_app
from surveyhub.db import get_db
from surveyhub.queue import get_queue
from surveyhub.services import jobs
app = create_app()
with app.app_context(), get_db(app).session() as session:
    job, item_ids = jobs.create(session, kind="deploy.example", keys=["one"], params={}, title="deploy", actor=None)
    session.commit()
    get_queue(app).enqueue(item_ids)
    print(job.id)
"""


def job_is_taken_up(env: dict, unit: Unit) -> str:
    """Start a job from another process and wait (``surveyhub jobs wait``) until a worker has run it.

    Its kind is one no worker knows, so it fails at once with that reason: proof that a worker
    claimed and ran it, whatever kinds this version has.
    """
    started = subprocess.run([sys.executable, "-c", START_JOB], env=env, cwd=REPO, capture_output=True, text=True,
                             timeout=WAIT)
    assert started.returncode == 0, started.stderr
    number = started.stdout.strip().splitlines()[-1]
    waited = run_cli(env, "jobs", "wait", number, "--timeout", str(WAIT), check=False)
    unit.alive()
    assert "1 failed of 1" in waited.stdout, waited.stdout + waited.stderr + unit.text()
    return run_cli(env, "jobs", "show", number).stdout


def serve_argv(port: int) -> list[str]:
    argv = exec_start("surveyhub.service", **{"--port": "--port"})
    assert argv[argv.index("--port") + 1] == "8000" and argv[argv.index("--host") + 1] == "127.0.0.1"
    argv[argv.index("--port") + 1] = str(port)
    return argv


def embedded_workers(unit: Unit) -> list[int]:
    """The job workers the unit started: processes run as ``worker --if-embedded``, not counting the
    processes such a worker forks itself (the queue consumer's worker and scheduler), which carry the
    same command line and may or may not have started yet."""
    found = [pid for pid in unit.group() if b"--if-embedded" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    return [pid for pid in found if _parent(pid) not in found]


def _parent(pid: int) -> int:
    """The parent's pid, from /proc/PID/stat (the field after the command name in parentheses)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:  # gone meanwhile
        return 0


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    """One instance folder for the examples below: created with `surveyhub init` and the demo."""
    folder = tmp_path_factory.mktemp("deploy") / "instance"
    env = unit_environment(folder, "http://127.0.0.1:8000")
    run_cli(env, "init")
    demo = run_cli(env, "demo").stdout
    logins = dict(re.findall(r"^\s+(\w+)\s+\S+\s+password: (\S+)", demo, re.M))
    emails = dict(re.findall(r"^\s+(\w+)\s+(\S+@\S+)\s+password:", demo, re.M))
    token = re.search(r"/q/([\w-]+)", demo).group(1)
    return {"path": folder, "admin": (emails["admin"], logins["admin"]), "token": token}


def test_the_worker_unit_runs_jobs_beside_a_serve_without_its_own_worker(instance, tmp_path):
    port = free_port()
    env = unit_environment(instance["path"], f"http://127.0.0.1:{port}", SURVEYHUB_PROXY_FIX="0",
                           SURVEYHUB_EMBEDDED_WORKER="0")
    server = Unit("surveyhub.service", serve_argv(port), env, tmp_path / "serve.log")
    worker = None
    try:
        wait_for_http(server, port)  # gunicorn calls when_ready (which would start the worker) before serving
        assert embedded_workers(server) == []
        worker = Unit("surveyhub-worker.service", exec_start("surveyhub-worker.service"), env,
                      tmp_path / "worker.log")
        job_is_taken_up(env, worker)
        assert "2 process(es)" in worker.text()
    finally:
        if worker is not None:
            worker.stop()  # SIGINT: the graceful stop, within TimeoutStopSec
        server.stop()


# --- nginx in front, with TLS ----------------------------------------------------------------------------------

def self_signed(folder: Path) -> tuple[Path, Path]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "enquete.example.org")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2)).sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "fullchain.pem", folder / "privkey.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def nginx_site(folder: Path, http_port: int, https_port: int, app_port: int) -> str:
    """The example with its ports, certificate and log moved here; every replacement must match."""
    cert_file, key_file = self_signed(folder)
    text = (DEPLOY / "nginx-surveyhub.conf").read_text(encoding="utf-8")
    for old, new in [("listen 80;", f"listen 127.0.0.1:{http_port};"), ("listen [::]:80;", ""),
                     ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
                     ("listen [::]:443 ssl http2;", ""),
                     ("https://$host$request_uri", f"https://$host:{https_port}$request_uri"),
                     ("/etc/letsencrypt/live/enquete.example.org/fullchain.pem", str(cert_file)),
                     ("/etc/letsencrypt/live/enquete.example.org/privkey.pem", str(key_file)),
                     ("/var/log/nginx/surveyhub.access.log", str(folder / "access.log")),
                     ("proxy_pass http://127.0.0.1:8000;", f"proxy_pass http://127.0.0.1:{app_port};")]:
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.fixture
def nginx(tmp_path):
    """Start nginx with a main config of our own that includes the site, as Debian's nginx.conf does."""
    binary = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    folder = tmp_path / "nginx"
    folder.mkdir()

    def start(http_port: int, https_port: int, app_port: int) -> Path:
        if binary is None:  # skipped here, so that what the test checked before still counts
            missing("nginx is not installed (apt-get install nginx-light; .ci/run installs it)")
        (folder / "site.conf").write_text(nginx_site(folder, http_port, https_port, app_port))
        user = "user root;\n" if os.geteuid() == 0 else ""  # workers as root may write our temp folders
        (folder / "nginx.conf").write_text(
            f"{user}daemon off;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
            f"http {{\n  access_log off;\n  client_body_temp_path {folder}/body;\n  proxy_temp_path {folder}/proxy;\n"
            f"  fastcgi_temp_path {folder}/fastcgi;\n  uwsgi_temp_path {folder}/uwsgi;\n  scgi_temp_path {folder}/scgi;\n"
            f"  include {folder}/site.conf;\n}}\n")
        checked = subprocess.run([binary, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")],
                                 capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        process = subprocess.Popen([binary, "-p", str(folder), "-c", str(folder / "nginx.conf")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        started.append(process)
        deadline = time.monotonic() + WAIT
        while True:
            assert process.poll() is None, (folder / "error.log").read_text()
            try:
                with socket.create_connection(("127.0.0.1", https_port), timeout=2):
                    return folder / "access.log"
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.2)

    started: list[subprocess.Popen] = []
    yield start
    for process in started:
        process.send_signal(signal.SIGQUIT)  # graceful
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def cookies_of(headers) -> dict[str, str]:
    return {cookie.split("=", 1)[0]: cookie.split(";", 1)[0].split("=", 1)[1]
            for cookie in headers.get_all("Set-Cookie") or []}


def test_the_serve_unit_runs_jobs_and_answers_behind_nginx(instance, tmp_path, nginx):
    """The example as it is: ``serve`` answers, its embedded worker runs a job, and it stops in TimeoutStopSec.
    Then behind the nginx example a visitor on 127.0.0.2 logs in over https; SurveyHub sees 127.0.0.2 (never
    nginx's 127.0.0.1, never an address the visitor made up), and nginx's log shows no link."""
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    env = unit_environment(instance["path"], f"https://127.0.0.1:{https_port}")
    assert env["SURVEYHUB_PROXY_FIX"] == "1"
    unit = Unit("surveyhub.service", serve_argv(app_port), env, tmp_path / "serve.log")
    try:
        wait_for_http(unit, app_port)
        assert len(embedded_workers(unit)) == 1, unit.text()
        shown = job_is_taken_up(env, unit)
        assert "This kind of job is not known here: deploy.example" in shown, shown

        access_log = nginx(http_port, https_port, app_port)

        status, headers, _ = get(http_port, "/login?x=1")
        assert (status, headers["Location"]) == (301, f"https://127.0.0.1:{https_port}/login?x=1")

        fake = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http"}
        status, headers, page = get(https_port, "/login", tls=True, source="127.0.0.2", headers=fake)
        assert status == 200, page
        assert headers["Strict-Transport-Security"].startswith("max-age=")
        session_cookie = next(c for c in headers.get_all("Set-Cookie") if c.startswith("session="))
        assert "Secure" in session_cookie  # https end to end: the browser gets its cookie back only over https
        token = html.unescape(re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1))
        email, password = instance["admin"]
        form = urlencode({"csrf_token": token, "email": email, "password": password})
        status, headers, page = get(https_port, "/login", tls=True, source="127.0.0.2", method="POST", body=form,
                                    headers={**fake, "Content-Type": "application/x-www-form-urlencoded",
                                             "Cookie": "; ".join(f"{k}={v}" for k, v in cookies_of(headers).items())})
        assert status == 302, page

        status, headers, _ = get(https_port, "/jobs", tls=True, source="127.0.0.2")
        assert (status, headers["Location"]) == (302, "/login?next=%2Fjobs")  # relative: the browser stays on https

        resident = instance["token"]
        assert get(https_port, f"/q/{resident}", tls=True, source="127.0.0.2")[0] == 200
    finally:
        unit.stop()  # gunicorn, its web workers and the job worker it started: all gone in TimeoutStopSec
    with sqlite3.connect(instance["path"] / "surveyhub.sqlite3") as database:
        [(source,)] = database.execute("SELECT source FROM audit_events WHERE action = 'auth.login' "
                                       "ORDER BY id DESC LIMIT 1").fetchall()
    assert source == "127.0.0.2"
    logged = access_log.read_text()
    assert '127.0.0.2 - [' in logged and '"GET /q/***" 200' in logged, logged
    assert resident not in logged


# --- the commands in docs/deploy.md marked as tested --------------------------------------------------------------

def doc_blocks() -> dict[str, str]:
    """``<!-- tested: NAME -->`` followed by a ```sh block, by name."""
    text = DOC.read_text(encoding="utf-8")
    return dict(re.findall(r"<!-- tested: ([\w-]+) -->\n```sh\n(.*?)```", text, re.S))


def test_the_doc_marks_the_commands_tested_here():
    assert set(doc_blocks()) == {"init", "backup-sqlite", "backup-sqlite-python", "restore-sqlite",
                                 "backup-postgresql", "restore-postgresql"}
    assert DOC.read_text(encoding="utf-8").count("<!-- tested:") == len(doc_blocks())


@pytest.fixture
def server_paths(tmp_path):
    """The doc's places on this machine: the code here, the env file, instance and backup folders in tmp."""
    instance, backups = tmp_path / "lib" / "surveyhub", tmp_path / "backups"
    instance.mkdir(parents=True)
    backups.mkdir()
    env_file = tmp_path / "surveyhub.env"

    def write_env(**changes: str) -> dict:
        text = (DEPLOY / "surveyhub.env").read_text(encoding="utf-8")
        text = text.replace("=/var/lib/surveyhub", f"={instance}")
        text += "".join(f"{key}={value}\n" for key, value in changes.items())
        env_file.write_text(text)
        return unit_environment(instance, "https://enquete.example.org", **changes)

    def run(name: str) -> str:
        script = doc_blocks()[name]
        for old, new in [("/srv/surveyhub/.venv/bin", str(BIN)), ("/srv/surveyhub", str(REPO)),
                         ("/etc/surveyhub/surveyhub.env", str(env_file)), ("/var/lib/surveyhub", str(instance)),
                         ("/var/backups/surveyhub", str(backups)), ("sudo -u surveyhub ", "")]:
            script = script.replace(old, new)
        assert "/srv/" not in script and "/var/" not in script and "/etc/" not in script, script
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True,
                              timeout=WAIT, env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)})
        assert done.returncode == 0, script + done.stdout + done.stderr
        return done.stdout

    return {"instance": instance, "backups": backups, "write_env": write_env, "run": run}


def org_names(env: dict) -> set[str]:
    code = ("from surveyhub import create_app\nfrom surveyhub.db import get_db\nfrom sqlalchemy import text\n"
            "app = create_app()\nwith get_db(app).session() as s:\n"
            "    print('\\n'.join(s.scalars(text('SELECT name FROM organisations'))))")
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=WAIT)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split("\n")) - {""}


def test_the_sqlite_backup_and_restore_bring_back_the_database_and_the_secret_key(server_paths):
    if shutil.which("sqlite3") is None:
        missing("the sqlite3 program is not installed (apt-get install sqlite3)")
    env, run = server_paths["write_env"](), server_paths["run"]
    assert "Database created" in run("init")
    run_cli(env, "org", "create", "Voor de back-up")
    key = (server_paths["instance"] / "secret_key").read_text()

    run("backup-sqlite")
    run_cli(env, "org", "create", "Na de back-up")
    (server_paths["instance"] / "secret_key").write_text("lost")
    assert "Database is up to date" in run("restore-sqlite")
    assert org_names(env) == {"Voor de back-up"}
    assert (server_paths["instance"] / "secret_key").read_text() == key

    (server_paths["backups"] / "surveyhub.sqlite3").unlink()
    run_cli(env, "org", "create", "Na de back-up")
    run("backup-sqlite-python")
    with sqlite3.connect(server_paths["backups"] / "surveyhub.sqlite3") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert {name for (name,) in copy.execute("SELECT name FROM organisations")} == {"Voor de back-up",
                                                                                        "Na de back-up"}


def test_the_postgresql_backup_and_restore_bring_back_the_database(server_paths):
    url = os.environ.get("SURVEYHUB_TEST_POSTGRES_URL")
    if not url:
        missing("PostgreSQL not configured (set SURVEYHUB_TEST_POSTGRES_URL)")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        missing("pg_dump and pg_restore are not installed (apt-get install postgresql-client)")
    import secrets as random_names

    import psycopg

    name = f"deploy_{random_names.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        database_url = url.rsplit("/", 1)[0] + "/" + name
        env, run = server_paths["write_env"](SURVEYHUB_DATABASE_URL=database_url), server_paths["run"]
        assert "Database created" in run("init")
        run_cli(env, "org", "create", "Voor de back-up")
        run("backup-postgresql")
        run_cli(env, "org", "create", "Na de back-up")
        assert "Database is up to date" in run("restore-postgresql")
        assert org_names(env) == {"Voor de back-up"}
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- what docs/deploy.md says happens when Redis is down ---------------------------------------------------------

@pytest.fixture
def database_url(sqlite_database_url):
    """The tests below that use the app fixtures need one SQLite database; the examples do not depend on it."""
    return sqlite_database_url


def test_with_redis_down_logins_and_jobs_go_on_and_the_job_runs_once_redis_is_back(app_config, org_people,
                                                                                    redis_server, monkeypatch):
    from surveyhub import create_app
    from surveyhub import queue as queue_module
    from surveyhub.db import get_db
    from surveyhub.models import Job, JobItem
    from surveyhub.services.job_kinds import ItemDone, Kind
    from surveyhub.web import jobs as web_jobs
    from tests.fixtures.factories import PASSWORD, csrf_token

    ran: list[str] = []
    monkeypatch.setitem(queue_module.KINDS, "deploy.example", Kind(
        "deploy.example", "project.list", lambda run, key: ran.append(key) or ItemDone(result={}, output=None)))
    nobody = f"redis://127.0.0.1:{free_port()}/0"  # a port nothing listens on: Redis is down
    down = create_app({**app_config, "QUEUE_URL": nobody, "RATELIMIT_STORAGE_URI": nobody})
    down.config["PROPAGATE_EXCEPTIONS"] = False  # as in production
    down.add_url_rule("/test-start", "test_start", lambda: web_jobs.start(
        "deploy.example", keys=["one", "two"], params={}, title="Redis is down"))
    browser = down.test_client()
    page = browser.get("/login")
    assert page.status_code == 200
    response = browser.post("/login", data={"csrf_token": csrf_token(page.text), "password": PASSWORD,
                                            "email": org_people["worker"].email})
    assert response.status_code == 302, "the login throttle lets the login through"
    response = browser.get("/test-start")
    assert response.status_code == 302 and response.headers["Location"].startswith("/jobs/")
    assert browser.get(response.headers["Location"]).status_code == 200  # the worker sees the job, waiting
    with get_db(down).session() as session:
        job = session.scalars(select(Job).where(Job.title == "Redis is down")).one()
        assert job.status == "queued" and ran == []
        assert session.scalars(select(JobItem.status).where(JobItem.job_id == job.id)).all() == ["pending"] * 2
        job.created_at = job.created_at.replace(year=job.created_at.year - 1)  # long past JOB_STALE_SECONDS
        session.commit()
        job_id = job.id
    get_db(down).engine.dispose()

    own_db = redis_server.rsplit("/", 1)[0] + "/13"
    back = create_app({**app_config, "QUEUE_URL": own_db})
    queue = queue_module.get_queue(back)
    queue.huey.flush()
    try:
        queue_module._tick(queue)  # the periodic check of a worker, once Redis is back
        assert queue.huey.pending_count() == 2
        while (task := queue.huey.dequeue()) is not None:
            queue.huey.execute(task)
        with get_db(back).session() as session:
            assert session.get(Job, job_id).status == "done"
        assert sorted(ran) == ["one", "two"]
    finally:
        queue.huey.flush()
        get_db(back).engine.dispose()

