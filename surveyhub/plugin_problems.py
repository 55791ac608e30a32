"""Plugin problems seen while the app runs, kept in the database for every process to show.

A gunicorn worker that sees a plugin fail (a hook that raises or runs past its
time budget, a question type or scoring method that breaks) records it in the
``plugin_problems`` table: one row per plugin and hook, with a count and the
first and last time it was seen. The admin plugins page and ``surveyhub
plugins`` read that table (``PluginHost.overview``), so every process shows the same.

Problems are written by a background thread, each in a short transaction of
its own: the request (or import) that saw the problem may still hold SQLite's
write lock, and must never wait for its own report. ``flush()`` waits until
everything reported so far is stored (tests, the admin page, the end of a CLI
command). Problems found while the app starts are not stored: every process
finds the same ones, and the database may not exist yet.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from surveyhub.models import PluginProblem
from surveyhub.models._types import utcnow

log = logging.getLogger(__name__)

#: Longest message stored; the whole traceback goes to the log, not the table.
MAX_MESSAGE = 2000
#: How long a write may keep trying when the database is busy.
WRITE_ATTEMPTS = 5


@dataclass(frozen=True)
class Problem:
    """One stored problem, as the admin page and ``surveyhub plugins`` show it."""

    plugin: str
    hook: str
    message: str
    count: int
    first_seen_at: datetime
    last_seen_at: datetime


class ProblemLog:
    """Queue problems and store them from a thread of their own."""

    def __init__(self, database=None):
        #: ``surveyhub.db.Database``, or None for a host without a database (nothing is stored)
        self.database = database
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def record(self, plugin: str, hook: str, message: str) -> None:
        """Store the problem soon; never blocks and never raises."""
        if self.database is None:
            return
        self._queue.put((plugin[:200], hook[:200], message[:MAX_MESSAGE], utcnow()))
        self._ensure_thread()

    def stored(self, session: Session | None = None, timeout: float = 2.0) -> list[Problem] | None:
        """Every problem any process stored, the most recent first, once what this process saw is stored too.

        :param session: the caller's session (a request's: on SQLite a second one would wait for
            the request's own transaction); without one, a short session of its own.
        :returns: ``None`` when there is nothing to read them from: no database, or no table yet
            (the database is not upgraded).
        """
        if self.database is None:
            return None
        self.flush(timeout)
        if session is not None:
            return stored_problems(session)
        try:
            with self.database.session() as own:
                return stored_problems(own)
        except (OperationalError, ProgrammingError):
            return None

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every problem reported so far is stored; False if that took longer than ``timeout``."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            self._ensure_thread()
            time.sleep(0.01)
        return True

    def _ensure_thread(self) -> None:
        with self._lock:
            # After a fork (gunicorn --preload) the parent's thread does not exist in the child.
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                if self._thread is None:  # once: store what is queued before the process ends
                    atexit.register(self.flush, 5.0)
                self._thread = threading.Thread(target=self._run, name="plugin-problems", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            plugin, hook, message, seen = self._queue.get()
            try:
                self._store(plugin, hook, message, seen)
            except Exception as exc:  # a problem report must never take anything else down
                log.warning("plugin problem not stored (%s: %s): %s %s: %s",
                            type(exc).__name__, exc, plugin, hook, message)
            finally:
                self._queue.task_done()

    def _store(self, plugin: str, hook: str, message: str, seen: datetime) -> None:
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self.database.session() as session:
                    upsert(session, plugin, hook, message, seen)
                    session.commit()
                return
            except IntegrityError:  # another process inserted the same plugin and hook: update it
                continue
            except ProgrammingError:  # no table yet (the database is not upgraded): nothing to keep it in
                raise
            except OperationalError as exc:
                if attempt == WRITE_ATTEMPTS or "no such table" in str(exc):
                    raise
                time.sleep(0.2 * attempt)


def upsert(session: Session, plugin: str, hook: str, message: str, seen: datetime | None = None) -> None:
    """Count one more occurrence of (plugin, hook), or add it."""
    seen = seen or utcnow()
    row = session.scalar(select(PluginProblem).where(PluginProblem.plugin == plugin, PluginProblem.hook == hook))
    if row is None:
        session.add(PluginProblem(plugin=plugin, hook=hook, message=message, count=1,
                                  first_seen_at=seen, last_seen_at=seen))
    else:
        row.count += 1
        row.message = message
        row.last_seen_at = max(row.last_seen_at, seen)
    session.flush()


def stored_problems(session: Session) -> list[Problem]:
    """Every stored problem, the most recent first."""
    rows = session.scalars(select(PluginProblem).order_by(PluginProblem.last_seen_at.desc(), PluginProblem.id))
    return [Problem(r.plugin, r.hook, r.message, r.count, r.first_seen_at, r.last_seen_at) for r in rows]


def clear(session: Session, plugin: str | None = None) -> int:
    """Forget stored problems (of one plugin, or all); returns how many rows went."""
    rows = session.scalars(select(PluginProblem).where(PluginProblem.plugin == plugin)
                           if plugin else select(PluginProblem)).all()
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)
