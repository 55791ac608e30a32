"""Shared fixtures: an app on a fresh, migrated database per test (SQLite and PostgreSQL).

PostgreSQL runs when ``SURVEYHUB_TEST_POSTGRES_URL`` points at a server where
the user may create databases (``.ci/run`` starts one). Without it the
PostgreSQL variants are skipped, unless ``SURVEYHUB_REQUIRE_ALL_TESTS=1``
turns that skip into a failure (CI sets it, so nothing is silently left out).

Databases are made once per test session and copied per test: a migrated
SQLite file or PostgreSQL template database, and one with the demo loaded for
tests that use ``demo_database``. Copying keeps every test isolated and
costs a fraction of migrating (or loading the demo) again.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hypothesis import settings as hypothesis_settings

from tests.fixtures.postgres import DatabasePool, copy_database, drop_database

pytest_plugins = ["tests.fixtures.factories", "tests.fixtures.smtp"]

POSTGRES_URL = os.environ.get("SURVEYHUB_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("SURVEYHUB_TEST_REDIS_URL")  # .ci/run starts one; tests/multinode needs it
REQUIRE_ALL = os.environ.get("SURVEYHUB_REQUIRE_ALL_TESTS") == "1"
# Hypothesis: "dev" (25 random examples a property) keeps `make test` quick at the desk and keeps finding new
# cases; "ci" runs 100 examples from a fixed seed, so a landing never fails on the luck of the draw (a case
# found at the desk goes into the test as an @example), and is chosen by CI=1 (most CI services set it) or
# SURVEYHUB_HYPOTHESIS_PROFILE=ci. "deep" (1,000 random examples) is for hunting: SURVEYHUB_HYPOTHESIS_PROFILE=deep.
hypothesis_settings.register_profile("dev", max_examples=25, deadline=None)
hypothesis_settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True)
hypothesis_settings.register_profile("deep", max_examples=1000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("SURVEYHUB_HYPOTHESIS_PROFILE")
                                 or ("ci" if os.environ.get("CI") in ("1", "true") else "dev"))

#: The base URL the demo is loaded with (the documents tests use the same).
DEMO_BASE_URL = "http://surveyhub.test"


def missing(reason: str):
    """Skip locally; fail in CI, where every test must run."""
    if REQUIRE_ALL:
        pytest.fail(f"required test dependency missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """One migrated SQLite file; each test gets a copy (much faster than migrating again)."""
    from surveyhub import create_app
    from surveyhub.services import schema_state

    folder = tmp_path_factory.mktemp("template")
    app = create_app({"INSTANCE_PATH": str(folder), "SECRET_KEY": "test"})
    schema_state.upgrade(app.extensions["surveyhub.db"])
    app.extensions["surveyhub.db"].engine.dispose()
    return folder / "surveyhub.sqlite3"


@pytest.fixture(scope="session")
def sqlite_demo_template(sqlite_template, tmp_path_factory):
    """The migrated SQLite file with the demo loaded, built once; tests that use ``demo`` get a copy."""
    folder = tmp_path_factory.mktemp("demo-template")
    shutil.copy(sqlite_template, folder / "surveyhub.sqlite3")
    _load_demo(f"sqlite:///{folder / 'surveyhub.sqlite3'}", folder)
    return folder / "surveyhub.sqlite3"


def _load_demo(url: str, folder) -> None:
    """``surveyhub demo`` into the database at ``url`` (as the ``demo`` fixture used to per test)."""
    from surveyhub import create_app
    from surveyhub.plugins import get_registry
    from surveyhub.services import demo

    app = create_app({"INSTANCE_PATH": str(folder), "DATABASE_URL": url, "SECRET_KEY": "test", "TESTING": True,
                      "BASE_URL": DEMO_BASE_URL, "PLUGINS_DIR": ""})
    with app.extensions["surveyhub.db"].session() as session:
        demo.load(session, get_registry(app), DEMO_BASE_URL, folder)
        session.commit()
    app.extensions["surveyhub.db"].engine.dispose()


@pytest.fixture(scope="session")
def postgres_server():
    if not POSTGRES_URL:
        missing("SURVEYHUB_TEST_POSTGRES_URL is not set")
    return make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")


@pytest.fixture(scope="session")
def redis_server():
    """The Redis at ``SURVEYHUB_TEST_REDIS_URL``: skipped without it, failed under CI (as PostgreSQL)."""
    if not REDIS_URL:
        missing("SURVEYHUB_TEST_REDIS_URL is not set")
    import redis
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        missing(f"no Redis answers at SURVEYHUB_TEST_REDIS_URL: {exc}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture(scope="session")
def postgres_template(postgres_server):
    """A PostgreSQL database migrated once per session; tests get a copy (CREATE DATABASE ... TEMPLATE)."""
    from surveyhub import create_app
    from surveyhub.services import schema_state

    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    name = f"surveyhub_template_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = postgres_server.set(database=name).render_as_string(hide_password=False)
        with tempfile.TemporaryDirectory() as folder:
            migrator = create_app({"INSTANCE_PATH": folder, "SECRET_KEY": "t", "DATABASE_URL": url})
            schema_state.upgrade(migrator.extensions["surveyhub.db"])
            migrator.extensions["surveyhub.db"].engine.dispose()  # a template must have no connections
        yield name
    finally:
        drop_database(admin, name)
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_pool(postgres_server, postgres_template):
    """Copies of the template, emptied and reused between tests (see tests/fixtures/postgres.py)."""
    pool = DatabasePool(postgres_server, postgres_template)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def postgres_demo_template(postgres_server, postgres_template, tmp_path_factory):
    """The migrated PostgreSQL template with the demo loaded, built once per session."""
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    name = copy_database(admin, postgres_template)
    try:
        _load_demo(postgres_server.set(database=name).render_as_string(hide_password=False),
                   tmp_path_factory.mktemp("demo-template-pg"))
        yield name
    finally:
        drop_database(admin, name)
        admin.dispose()


@pytest.fixture
def postgres_database(postgres_server):
    """A brand-new, empty PostgreSQL database, dropped after the test."""
    name = f"surveyhub_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield postgres_server.set(database=name).render_as_string(hide_password=False)
    drop_database(admin, name)
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A migrated database on each backend, a copy of the session's template.

    A test that uses ``demo_database`` (the documents tests' ``demo`` fixture
    does) gets a copy with the demo already loaded.
    """
    with_demo = "demo_database" in request.fixturenames
    if request.param == "sqlite":
        target = tmp_path / "instance" / "surveyhub.sqlite3"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(request.getfixturevalue("sqlite_demo_template" if with_demo else "sqlite_template"), target)
        return f"sqlite:///{target}"
    pool = request.getfixturevalue("postgres_pool")
    if with_demo:  # the demo cannot be restored by emptying tables: a fresh copy each time
        name = copy_database(pool.admin, request.getfixturevalue("postgres_demo_template"))
        request.addfinalizer(lambda: pool.drop_later(name))
        return pool.url(name)
    name = pool.take()
    request.addfinalizer(lambda: pool.give_back(name))
    return pool.url(name)


@pytest.fixture
def demo_database():
    """Use this fixture (directly or through another) and ``database_url`` starts from a copy of the
    database with ``surveyhub demo`` loaded: built once per session, so tests that only read the demo
    do not load it again."""
    return DEMO_BASE_URL


@pytest.fixture
def app_config(tmp_path, database_url):
    """Override in a test module to change settings."""
    return {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        "BASE_URL": "http://surveyhub.test",
        "PLUGINS_DIR": "",
        "QUEUE_URL": "immediate",  # a job runs inside the request that starts it (tests/test_jobs.py uses real ones)
    }


@pytest.fixture
def app(app_config):
    from surveyhub import create_app

    from surveyhub.plugins import get_host

    application = create_app(app_config)
    yield application
    # Plugin problems are stored by a thread of their own: let it finish while the test's database is
    # still the test's (a PostgreSQL one is emptied and reused next), then close every connection.
    get_host(application).problems.flush()
    application.extensions["surveyhub.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    """A database session for arranging and checking data (commit what you arrange).

    No app context is held open around the test: Flask would reuse it for every
    test-client request, so ``g`` (the request's database session, Flask-Login's
    cached user) would leak from one request and one client to the next, and on
    SQLite an open read would keep the write lock. Each request gets its own, as
    in production. Every module uses this one fixture.
    """
    with app.extensions["surveyhub.db"].session() as db_session:
        yield db_session


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under ``make test`` (pytest-xdist, ``--dist loadgroup``) the multi-node tests share one worker: they
    share one cluster (two servers, two job workers) and its Redis databases, built once."""
    for item in items:
        if item.get_closest_marker("multinode"):
            item.add_marker(pytest.mark.xdist_group("multinode"))
