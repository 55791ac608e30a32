"""Is the database migrated to the code's schema? ``surveyhub init`` makes it so.

Takes the app's ``surveyhub.db.Database`` (engine and URL), never the Flask app:
the web, the CLI, tests and benchmarks all hand it the same plain object.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

if TYPE_CHECKING:
    from surveyhub.db import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
#: Databases this process has found (or made) ready: checked once per process, not per request.
_READY: weakref.WeakSet[Database] = weakref.WeakSet()


class DatabaseNotReady(Exception):
    """The database is missing, unreachable or not at the code's schema version."""


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:  # only a broken installation has no migrations
        raise DatabaseNotReady("this SurveyHub has no database migrations")
    return head


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise DatabaseNotReady(f"cannot reach the database: {_first_line(exc)}") from exc


def check(engine: Engine) -> None:
    """Raise DatabaseNotReady with one line that says what to do."""
    current = current_revision(engine)
    if current is None:
        raise DatabaseNotReady("the database is not set up yet: run `surveyhub init`")
    if current != head_revision():
        raise DatabaseNotReady(f"the database is at schema {current}, this SurveyHub needs "
                               f"{head_revision()}: run `surveyhub init` to upgrade")


def ensure_ready(database: Database) -> None:
    """Check once per process; web requests get a friendly page until it passes."""
    if database in _READY:
        return
    check(database.engine)
    _READY.add(database)


def upgrade(database: Database) -> tuple[str | None, str]:
    """Create or upgrade the database; returns (revision before, revision after)."""
    engine = database.engine
    before = current_revision(engine)
    try:
        with engine.begin() as connection:
            cfg = alembic_config(database.url)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise DatabaseNotReady(f"could not migrate the database: {_first_line(exc)}") from exc
    _READY.add(database)
    return before, head_revision()


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
