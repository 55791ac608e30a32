"""Rate limits hold across worker processes: two app instances on one database (or one
Redis) share every count, per address and per account, and the store keeps no addresses."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
import uuid

import pytest
from sqlalchemy import select

from surveyhub.config import ConfigError
from surveyhub.models import RateCounter
from surveyhub.services import throttle
from tests.conftest import missing
from tests.fixtures.factories import PASSWORD, csrf_token

TOO_MANY_FOR_ACCOUNT = "Too many failed attempts with this e-mail address."


@pytest.fixture
def app_config(app_config):
    """The usual numbers, but per day: a fixed window that ends mid-test (a minute boundary while
    the second process starts) would split the count and make these tests flaky."""
    return {**app_config, "LOGIN_RATE_LIMIT": "10 per day", "LOGIN_ACCOUNT_RATE_LIMIT": "5 per day",
            "TOKEN_RATE_LIMIT": "3 per day", "VERIFY_RATE_LIMIT": "4 per day",
            "ANONYMOUS_CODE_RATE_LIMIT": "2 per day"}


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A private redis-server on a free port, stopped after the tests."""
    binary = shutil.which("redis-server")
    if binary is None:
        missing("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                                "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    import redis
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    client.close()
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(params=["database", "redis"])
def storage(request):
    """Where the counts live: the app's database (default) or Redis."""
    if request.param == "database":
        return ""
    url = request.getfixturevalue("redis_url")
    import redis
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def two_apps(app_config, storage):
    """Two app instances on the same database and store, as two worker processes would be."""
    from surveyhub import create_app

    apps = [create_app({**app_config, "RATELIMIT_STORAGE_URI": storage}) for _ in range(2)]
    yield apps
    for each in apps:
        each.extensions["surveyhub.db"].engine.dispose()


def _login(client, email: str, password: str, address: str = "127.0.0.1", lang: str = "en"):
    page = client.get(f"/login?lang={lang}", environ_base={"REMOTE_ADDR": address})
    return client.post("/login", data={"csrf_token": csrf_token(page.text), "email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def _logged_in(client, address: str = "127.0.0.1") -> bool:
    return client.get("/", environ_base={"REMOTE_ADDR": address}).status_code == 200


def _requests_in_a_process(config: dict, requests: list[tuple]) -> list[int]:
    """Run in a separate worker process: its own app, its own memory; the statuses it saw."""
    from surveyhub import create_app

    app = create_app(config)
    client = app.test_client()
    statuses = []
    for kind, *args in requests:
        if kind == "login":
            statuses.append(_login(client, *args).status_code)
        else:
            statuses.append(client.get(args[0]).status_code)
    app.extensions["surveyhub.db"].engine.dispose()
    return statuses


@pytest.fixture
def other_process(app_config, storage):
    """Send requests through an app in another OS process (spawned, as gunicorn's workers are separate)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    config = {**app_config, "RATELIMIT_STORAGE_URI": storage}
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield lambda requests: pool.submit(_requests_in_a_process, config, requests).result(timeout=120)


# --- login ----------------------------------------------------------------------------------------

def test_two_worker_processes_share_the_login_limit_per_address(two_apps, other_process, make_user):
    first, second = (app.test_client() for app in two_apps)
    user = make_user("worker")
    # Different typed addresses, so only the per-address limit (10 a minute) is in play.
    assert other_process([("login", f"guess{n}@example.org", "wrong password") for n in range(6)]) == [200] * 6
    for attempt in range(4):
        assert _login(second, f"other{attempt}@example.org", "wrong password").status_code == 200
    blocked = _login(first, user.email, PASSWORD)
    assert blocked.status_code == 429 and "Too many attempts" in blocked.text
    assert not _logged_in(first)
    # Another address is not affected.
    assert _login(second, user.email, PASSWORD, address="192.0.2.7").status_code == 302


def test_the_account_limit_holds_across_addresses_and_processes(two_apps, make_user):
    user = make_user("worker")
    clients = [app.test_client() for app in two_apps]
    for attempt in range(5):  # five addresses, two processes: still one account
        response = _login(clients[attempt % 2], user.email, "wrong password", address=f"198.51.100.{attempt}")
        assert response.status_code == 200 and TOO_MANY_FOR_ACCOUNT not in response.text
    refused = _login(clients[0], user.email, PASSWORD, address="203.0.113.99")
    assert refused.status_code == 200 and TOO_MANY_FOR_ACCOUNT in refused.text
    assert not _logged_in(clients[0], "203.0.113.99")
    dutch = _login(clients[1], user.email, PASSWORD, address="203.0.113.98", lang="nl")
    assert "Te veel mislukte pogingen met dit e-mailadres." in dutch.text


def test_the_account_limit_does_not_tell_whether_an_account_exists(app, make_user):
    user = make_user("worker")
    pages = {}
    for email in (user.email, "nobody@example.org"):
        client = app.test_client()
        for attempt in range(5):
            _login(client, email, "wrong password", address=f"198.51.100.{attempt}")
        pages[email] = _login(client, email, "wrong password", address="203.0.113.5")
    known, unknown = pages[user.email], pages["nobody@example.org"]
    assert known.status_code == unknown.status_code == 200
    assert TOO_MANY_FOR_ACCOUNT in known.text and TOO_MANY_FOR_ACCOUNT in unknown.text


def test_right_passwords_do_not_use_up_the_account_limit(app, make_user):
    user = make_user("worker")
    for attempt in range(8):  # more than the 5 failures allowed, within the 10 per address
        assert _login(app.test_client(), user.email, PASSWORD).status_code == 302, attempt


# --- token misses, own codes and /verify ------------------------------------------------------------



def test_guessed_resident_links_count_across_processes(two_apps, other_process):
    first, second = (app.test_client() for app in two_apps)
    assert other_process([("get", "/q/guess-1"), ("get", "/q/guess-2")]) == [404, 404]
    assert first.get("/q/guess-3/p/0").status_code == 404
    assert second.get("/q/guess-4").status_code == 429
    assert first.get("/q/guess-5/done").status_code == 429
    assert first.get("/q/guess-6", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 404


def test_guessed_short_codes_use_the_same_budget_across_processes(two_apps, other_process):
    """``/k/<code>`` (a printed short code) and ``/q/<token>`` share one miss budget per address."""
    first, second = (app.test_client() for app in two_apps)
    assert other_process([("get", "/k/AAAA-AAAA"), ("get", "/q/guess-1")]) == [404, 404]
    assert first.post("/k", data={"code": "CCCC-CCCC"}).status_code == 404
    assert second.get("/k/DDDD-DDDD").status_code == 429
    assert first.get("/q/guess-2").status_code == 429
    assert first.get("/k/EEEE-EEEE", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 404


def test_verify_checks_count_across_processes(two_apps):
    first, second = (app.test_client() for app in two_apps)
    statuses = [(first if n % 2 else second).get("/verify/ABCD-EFGH").status_code for n in range(5)]
    assert statuses[:4] == [200] * 4 and statuses[4] == 429


def test_own_code_tries_count_across_processes(two_apps, make_org, make_project):
    from surveyhub.models import Project
    org = make_org()
    slug = make_project(org).slug
    with two_apps[0].extensions["surveyhub.db"].session() as db:
        token = db.scalar(select(Project.anonymous_token).where(Project.slug == slug))
    clients = [app.test_client() for app in two_apps]
    statuses = [clients[n % 2].post(f"/a/{token}", data={}).status_code for n in range(3)]
    assert statuses == [200, 200, 429]


# --- the store --------------------------------------------------------------------------------------

def test_the_store_keeps_no_addresses_or_e_mail_addresses(app, session, make_user):
    user = make_user("worker")
    _login(app.test_client(), user.email, "wrong password", address="198.51.100.23")
    keys = [key for (key,) in session.execute(select(RateCounter.key)).all()]
    session.commit()
    assert keys and not any("198.51.100.23" in key or user.email in key for key in keys)


def test_hits_from_many_threads_are_all_counted(app):
    store = app.extensions["surveyhub.throttle"].store
    now = time.time()

    def hammer():
        for _ in range(20):
            store.hit("test:threads", 60, now)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.peek("test:threads", 60, now) == 80
    assert store.peek("test:threads", 60, now + 60) == 0  # the next window starts again


def test_a_window_starts_afresh(redis_url, app):
    key = f"test:window:{uuid.uuid4().hex}"  # the Redis server outlives each test
    for store in (app.extensions["surveyhub.throttle"].store, throttle.RedisStore(redis_url)):
        assert [store.hit(key, 10, 1000.0) for _ in range(3)] == [1, 2, 3]
        store.undo(key, 10, 1005.0)
        assert store.peek(key, 10, 1009.0) == 2
        assert store.hit(key, 10, 1010.0) == 1


@pytest.mark.parametrize("text, expected", [
    ("10 per minute", [throttle.Rate(10, 60)]),
    ("5 per 15 minutes", [throttle.Rate(5, 900)]),
    ("10/minute", [throttle.Rate(10, 60)]),
    ("30 per 10 minutes; 100 per day", [throttle.Rate(30, 600), throttle.Rate(100, 86400)]),
])
def test_limits_read_as_written(text, expected):
    assert throttle.parse(text) == expected


def test_a_malformed_limit_or_store_stops_the_start(app_config):
    from surveyhub import create_app
    with pytest.raises(ConfigError, match="LOGIN|rate limit"):
        create_app({**app_config, "LOGIN_RATE_LIMIT": "lots"})
    with pytest.raises(ConfigError, match="memcached"):
        create_app({**app_config, "RATELIMIT_STORAGE_URI": "memcached://127.0.0.1"})


def test_an_unreachable_store_lets_requests_through(app_config, make_user, caplog):
    """A counter must never cost a resident a page: with Redis down, requests go on (and it is logged)."""
    from surveyhub import create_app

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app({**app_config, "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{port}/0"})
    user = make_user("worker")
    client = app.test_client()
    assert client.get("/q/no-such-link").status_code == 404
    assert client.get("/verify/ABCD-EFGH").status_code == 200
    assert _login(client, user.email, PASSWORD).status_code == 302
    assert "rate-limit store unavailable" in caplog.text
    app.extensions["surveyhub.db"].engine.dispose()
