"""Is the database migrated to the code's schema? ``surveyhub init`` makes it so."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class DatabaseNotReady(Exception):
    """The database is missing, unreachable or not at the code's schema version."""


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


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


def ensure_ready(app: Flask) -> None:
    """Check once per process; web requests get a friendly page until it passes."""
    if app.extensions.get("surveyhub.db_ready"):
        return
    from surveyhub.db import get_db
    check(get_db(app).engine)
    app.extensions["surveyhub.db_ready"] = True


def upgrade(app: Flask) -> tuple[str | None, str]:
    """Create or upgrade the database; returns (revision before, revision after)."""
    from surveyhub.db import get_db
    engine = get_db(app).engine
    before = current_revision(engine)
    try:
        with engine.begin() as connection:
            cfg = alembic_config(app.config["DATABASE_URL"])
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise DatabaseNotReady(f"could not migrate the database: {_first_line(exc)}") from exc
    app.extensions["surveyhub.db_ready"] = True
    return before, head_revision()


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
