"""Shared fixtures: an app on a fresh, migrated database per test (SQLite and PostgreSQL).

PostgreSQL runs when ``SURVEYHUB_TEST_POSTGRES_URL`` points at a server where
the user may create databases (``.ci/run`` starts one). Without it the
PostgreSQL variants are skipped, unless ``SURVEYHUB_REQUIRE_ALL_TESTS=1``
turns that skip into a failure (CI sets it, so nothing is silently left out).
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

pytest_plugins = ["tests.fixtures.factories"]

POSTGRES_URL = os.environ.get("SURVEYHUB_TEST_POSTGRES_URL")
REQUIRE_ALL = os.environ.get("SURVEYHUB_REQUIRE_ALL_TESTS") == "1"


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
def postgres_server():
    if not POSTGRES_URL:
        missing("SURVEYHUB_TEST_POSTGRES_URL is not set")
    return make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")


@pytest.fixture
def postgres_database(postgres_server):
    """A brand-new, empty PostgreSQL database, dropped after the test."""
    name = f"surveyhub_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield postgres_server.set(database=name).render_as_string(hide_password=False)
    _drop_database(admin, name)
    admin.dispose()


def _drop_database(admin, name: str, attempts: int = 20) -> None:
    """Drop a test database; an autovacuum worker may hold it for a moment, so retry briefly."""
    import time

    from sqlalchemy.exc import DBAPIError

    for attempt in range(attempts):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.25)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A migrated database on each backend."""
    if request.param == "sqlite":
        target = tmp_path / "instance" / "surveyhub.sqlite3"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url = request.getfixturevalue("postgres_database")
    from surveyhub import create_app
    from surveyhub.services import schema_state
    migrator = create_app({"INSTANCE_PATH": str(tmp_path / "migrate"), "SECRET_KEY": "t", "DATABASE_URL": url})
    schema_state.upgrade(migrator.extensions["surveyhub.db"])
    migrator.extensions["surveyhub.db"].engine.dispose()
    return url


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
    }


@pytest.fixture
def app(app_config):
    from surveyhub import create_app

    application = create_app(app_config)
    yield application
    application.extensions["surveyhub.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    """A database session for arranging and checking data (commit what you arrange)."""
    # No app context is pushed here: one held open for the whole test would be
    # shared by every test-client request (their g, login and database session).
    with app.extensions["surveyhub.db"].session() as db_session:
        yield db_session
