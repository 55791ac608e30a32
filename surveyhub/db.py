"""Database engine and sessions: SQLite (embedded default) or PostgreSQL.

One engine per app. Web requests get one session each (``get_session``),
closed when the request ends; services flush, the route or CLI command
commits (``unit_of_work``), and what must happen only once the data is stored
(the completion event) is registered with ``after_commit``.

SQLite runs in WAL mode with a busy timeout. Reads run without a transaction
of their own, so a page that only reads never takes, or waits for, the write
lock; the first statement that writes opens ``BEGIN IMMEDIATE`` (see
``_write_lock``), so a writer holds the lock from its first write to its
commit and two writers never deadlock half-way. That is read-committed, as
PostgreSQL's default: a writer that decides on something it read re-reads it
after its first write, or lets a constraint decide.

``retry_on_busy`` runs a short write again when the database is busy (SQLite's
"database is locked", a PostgreSQL serialization failure or deadlock), with a
jittered back-off; ``DatabaseBusy`` says it still did not go through, so the
caller can show the page again with what was typed instead of an error.
"""

from __future__ import annotations

import logging
import random
import time
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import MetaData, create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

log = logging.getLogger(__name__)
SQLITE_BUSY_TIMEOUT_MS = 15000
#: Tries of a write that meets a busy database, and the first back-off (doubled, jittered).
BUSY_ATTEMPTS = 3
BUSY_BACKOFF_SECONDS = 0.05
#: No new try after this long: SQLite already waited its busy timeout, and a request has a time limit.
BUSY_RETRY_WITHIN_SECONDS = 10.0
#: PostgreSQL: serialization failure, deadlock detected, lock not available.
_BUSY_SQLSTATES = {"40001", "40P01", "55P03"}
_BUSY_SQLITE = ("database is locked", "database table is locked", "database is busy")
T = TypeVar("T")
#: Form fields a busy page does not carry back (``_busy_page``).
_SECRET_FIELDS = ("password", "totp", "pin", "secret")


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every SurveyHub model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str) -> Engine:
    """An engine with SQLite pragmas or PostgreSQL pooling set up."""
    if url.startswith("sqlite"):
        # The default pool keeps connections (and their pragmas) per process; gunicorn
        # workers each build their own app, so nothing is shared across a fork.
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                                                  "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(engine, "before_cursor_execute", _write_lock)


#: Statements that only read: they run in SQLite's autocommit mode and take no lock.
_READS = ("SELECT", "PRAGMA", "EXPLAIN")


def _write_lock(_connection, cursor, statement, _parameters, _context, _executemany):
    """SQLite: before the first statement of a transaction that is not a read, ``BEGIN IMMEDIATE``.

    A request that only reads never opens a write transaction (so reads no
    longer queue behind writers); one that writes takes the lock at its first
    write and keeps it to the commit. The busy timeout applies to the BEGIN,
    and a lock still not had is an ``OperationalError`` like any other busy
    database (``retry_on_busy``).
    """
    if not cursor.connection.in_transaction and not statement.lstrip()[:7].upper().startswith(_READS):
        cursor.execute("BEGIN IMMEDIATE")


#: ``session.info`` key of the callbacks that wait for the session's next commit.
_AFTER_COMMIT = "surveyhub.after_commit"


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run ``callback`` once the session's current transaction is committed; never if it rolls back.

    The place for domain events (``surveyhub_response_completed``): a plugin
    hears only of what is stored, and a write that is retried (``retry_on_busy``)
    announces itself once, from the try that committed.
    """
    if not session.in_transaction():
        session.begin()  # so that a rollback before any statement still forgets the callback
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


_COMMITTED = "surveyhub.committed"


@event.listens_for(Session, "after_commit")
def _note_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint released: nothing is stored yet
        session.info[_COMMITTED] = True


@event.listens_for(Session, "after_transaction_end")
def _run_after_commit(session: Session, transaction) -> None:
    """Once the outer transaction has ended (its connection given back): run the callbacks if it committed."""
    if transaction.parent is not None:
        return
    callbacks = session.info.pop(_AFTER_COMMIT, [])
    if not session.info.pop(_COMMITTED, False):
        return  # rolled back: forgotten
    for callback in callbacks:
        try:
            callback()
        except Exception:  # the data is stored: a failing listener must not turn that into an error
            log.exception("after-commit callback %r failed", callback)


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """One unit of work: commit at the end (after-commit callbacks then run), roll back on any error."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


class DatabaseBusy(Exception):
    """A write did not go through because the database stayed busy; nothing of it was stored."""


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` means "busy, try again": a lock or a conflict, not a wrong statement."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in _BUSY_SQLSTATES:
        return True
    return type(orig).__name__ == "OperationalError" and any(text in str(orig).lower() for text in _BUSY_SQLITE)


def retry_on_busy(session: Session, work: Callable[[], T], *, before_retry: Callable[[], None] | None = None,
                  attempts: int = BUSY_ATTEMPTS, keep: tuple = ()) -> T:
    """Run ``work()`` and commit; when the database is busy, roll back and run it again.

    ``work`` must be safe to run again from the start (the rollback undid the
    previous try; objects it uses are reloaded on access). ``before_retry``
    runs after the rollback, e.g. to fetch a row the failed try had created.
    ``keep``: objects whose loaded values stay readable when giving up (a
    rollback expires them, and reloading would meet the busy database again),
    so the caller can still show its page.

    :raises DatabaseBusy: still busy after ``attempts`` tries (or after
        ``BUSY_RETRY_WITHIN_SECONDS``); the session is rolled back.
    """
    kept = [(obj, dict(inspect(obj).dict)) for obj in keep]
    started = time.monotonic()
    for attempt in range(1, attempts + 1):
        try:
            result = work()
            session.commit()
            return result
        except DBAPIError as exc:
            session.rollback()
            if not is_busy(exc):
                raise
            if attempt == attempts or time.monotonic() - started > BUSY_RETRY_WITHIN_SECONDS:
                log.warning("write given up after %d tries: the database stayed busy (%s)", attempt,
                            type(exc.orig).__name__)
                _restore(kept)
                raise DatabaseBusy(str(exc.orig)) from exc
            time.sleep(BUSY_BACKOFF_SECONDS * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))
            if before_retry is not None:
                before_retry()
    raise AssertionError("unreachable")


#: How long a long-running writer (an import) steps aside between its transactions on SQLite.
#: SQLite's busy handler polls at most every 100 ms, so a waiting page save gets its turn in this gap
#: instead of waiting through batch after batch.
WRITER_GAP_SECONDS = 0.15


def let_others_write(session: Session) -> None:
    """Between two write transactions of a long job: give waiting writers a turn (SQLite only).

    PostgreSQL locks rows, not the database, so there nothing waits for the job.
    """
    if session.get_bind().dialect.name == "sqlite":
        time.sleep(WRITER_GAP_SECONDS)


def _restore(kept: list) -> None:
    """Put back loaded values that a rollback expired, as if just read (no query)."""
    for obj, values in kept:
        for key, value in values.items():
            if not key.startswith("_"):
                set_committed_value(obj, key, value)


class Database:
    """The app's engine and session factory, kept in ``app.extensions``."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for scripts and CLI commands; the caller commits."""
        session = self.sessionmaker()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def init_app(app: Flask) -> None:
    app.extensions["surveyhub.db"] = Database(app.config["DATABASE_URL"])
    app.register_error_handler(DBAPIError, _busy_page)
    app.register_error_handler(DatabaseBusy, _busy_page)
    # Close at the end of each request, and of any other app context (CLI, scripts).
    app.teardown_request(_close_session)
    app.teardown_appcontext(_close_session)


def _busy_page(exc: Exception):
    """The database stayed busy past its wait: say so (503), and keep what was sent, instead of a 500.

    Rendered without the database (it is busy): a POST's form fields come back as
    hidden fields with one button to send them again, so no typed answer is lost.
    Any other database error is left to the usual error handling.
    """
    from flask import render_template, request

    if not isinstance(exc, DatabaseBusy) and not is_busy(exc):
        raise exc
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
    fields = [(name, value) for name, values in request.form.lists() for value in values] \
        if request.method == "POST" else []
    if any(word in name for name, _value in fields for word in _SECRET_FIELDS):
        fields = []  # never write a password or code back into a page; the person types it again
    log.warning("%s %s: the database stayed busy; the page was shown again", request.method, request.endpoint)
    body = render_template("busy.html", fields=fields, action=request.path)
    return body, 503, {"Retry-After": "5", "Cache-Control": "no-store"}


def get_db(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["surveyhub.db"]


def get_session() -> Session:
    """The session of the current request (or app context)."""
    if "db_session" not in g:
        g.db_session = get_db().sessionmaker()
    return g.db_session


def _close_session(_exc) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
