"""Rate limits counted in one store that every worker process and app server shares.

A limit such as ``"10 per minute"`` is a fixed window: the hits on one key
are counted from the start of the current window and start again at 0 in the
next. Two stores:

* ``DatabaseStore`` (the default): the ``rate_counters`` table, one atomic
  upsert per hit (``INSERT … ON CONFLICT DO UPDATE … RETURNING``, on SQLite and
  PostgreSQL alike) in a short transaction on a connection of its own, so a
  counter never waits for, or holds up, a resident's page save.
* ``RedisStore`` when ``SURVEYHUB_RATELIMIT_STORAGE_URI`` is ``redis://…``:
  ``INCR`` plus ``EXPIRE`` on a key per window.

What is counted (an address, an e-mail address) is kept only as a keyed hash,
so the table holds no addresses. When the store cannot be reached the request
is let through and the failure logged: a resident never loses a page to a
counter.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import re
import time
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import case, delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from surveyhub.models import RateCounter

log = logging.getLogger(__name__)

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*(?:per|/)\s*(\d+)?\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)
#: Counters older than this are deleted now and then (no window is longer than a day).
_KEEP_SECONDS = 2 * 86400


class RateError(ValueError):
    """A limit that does not read as ``N per [M] second|minute|hour|day``."""


@dataclass(frozen=True)
class Rate:
    """At most ``count`` hits per ``seconds``."""

    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}s"


def parse(text: str) -> list[Rate]:
    """``"10 per minute"``, ``"5 per 15 minutes"``, ``"10/minute"``; several joined by ``;``."""
    rates = []
    for part in str(text).split(";"):
        if not part.strip():
            continue
        match = _RATE.match(part)
        if match is None:
            raise RateError(f"not a rate limit: {part.strip()!r} (write e.g. '10 per minute')")
        count, amount, unit = match.groups()
        rates.append(Rate(int(count), int(amount or 1) * _UNITS[unit.lower()]))
    if not rates:
        raise RateError("empty rate limit")
    return rates


class Store(Protocol):
    def hit(self, key: str, seconds: int, now: float) -> int:
        """Count one hit; return the hits in the current window, this one included."""

    def peek(self, key: str, seconds: int, now: float) -> int:
        """The hits in the current window."""

    def undo(self, key: str, seconds: int, now: float) -> None:
        """Take one hit back (a login that turned out right)."""


def _window(seconds: int, now: float) -> int:
    return int(now) - int(now) % seconds


class DatabaseStore:
    """Counters in the ``rate_counters`` table of the app's own database."""

    def __init__(self, engine: Engine):
        self.engine = engine
        from sqlalchemy.dialects import postgresql, sqlite

        #: INSERT ... ON CONFLICT of the engine's dialect
        self._insert: Any = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    def hit(self, key: str, seconds: int, now: float) -> int:
        start = _window(seconds, now)
        table: Any = RateCounter.__table__
        new = self._insert(table).values(key=key, window_start=start, hits=1)
        same_window = table.c.window_start >= new.excluded.window_start  # a lagging clock counts in the newer one
        statement = new.on_conflict_do_update(index_elements=[table.c.key], set_={
            "hits": case((same_window, table.c.hits + 1), else_=1),
            "window_start": case((same_window, table.c.window_start), else_=new.excluded.window_start),
        }).returning(table.c.hits)
        with self.engine.begin() as connection:
            hits = connection.execute(statement).scalar_one()
            if random.random() < 0.01:
                connection.execute(delete(table).where(table.c.window_start < int(now) - _KEEP_SECONDS))
        return hits

    def peek(self, key: str, seconds: int, now: float) -> int:
        table: Any = RateCounter.__table__
        with self.engine.begin() as connection:
            hits = connection.execute(select(table.c.hits).where(
                table.c.key == key, table.c.window_start >= _window(seconds, now))).scalar()
        return hits or 0

    def undo(self, key: str, seconds: int, now: float) -> None:
        table: Any = RateCounter.__table__
        with self.engine.begin() as connection:
            connection.execute(update(table).where(
                table.c.key == key, table.c.window_start >= _window(seconds, now), table.c.hits > 0
            ).values(hits=table.c.hits - 1))


class RedisStore:
    """Counters in Redis: one key per window, expiring with it."""

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    @staticmethod
    def _key(key: str, seconds: int, now: float) -> str:
        return f"surveyhub:rate:{key}:{_window(seconds, now)}"

    def hit(self, key: str, seconds: int, now: float) -> int:
        name = self._key(key, seconds, now)
        pipe = self.client.pipeline()
        pipe.incr(name)
        pipe.expire(name, seconds + 1)
        hits, _ = pipe.execute()
        return int(hits)

    def peek(self, key: str, seconds: int, now: float) -> int:
        return int(self.client.get(self._key(key, seconds, now)) or 0)

    def undo(self, key: str, seconds: int, now: float) -> None:
        name = self._key(key, seconds, now)
        if int(self.client.decr(name)) < 0:
            self.client.delete(name)


def make_store(uri: str | None, engine: Engine) -> Store:
    """The store ``uri`` names: empty or ``database`` for the database, ``redis://…`` for Redis."""
    uri = (uri or "").strip()
    if uri.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(uri)
    if uri in ("", "database", "memory://"):  # memory:// was the per-process default before
        return DatabaseStore(engine)
    raise RateError(f"unsupported rate-limit storage {uri.split(':', 1)[0]!r} (leave empty, or use redis://...)")


class Throttle:
    """Limits on named things ("login-address", "login-account", …) in one shared store."""

    def __init__(self, store: Store, secret: str, clock=time.time):
        self.store = store
        self._secret = secret.encode()
        self._clock = clock

    def key(self, scope: str, rate: Rate, who: str) -> str:
        """The counter's key; ``who`` (an address, an e-mail) only as a keyed hash."""
        digest = hmac.new(self._secret, who.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]
        return f"{scope}:{rate.count}/{rate.seconds}:{digest}"

    def hit(self, scope: str, rates: list[Rate], who: str) -> bool:
        """Count one hit under every rate; False when any of them is now over its limit."""
        allowed = True
        for rate in rates:
            hits = self._safely(self.store.hit, self.key(scope, rate, who), rate.seconds, default=0)
            allowed = allowed and hits <= rate.count
        return allowed

    def undo(self, scope: str, rates: list[Rate], who: str) -> None:
        for rate in rates:
            self._safely(self.store.undo, self.key(scope, rate, who), rate.seconds, default=None)

    def _safely(self, operation, key: str, seconds: int, default):
        try:
            return operation(key, seconds, self._clock())
        except (SQLAlchemyError, OSError, _redis_errors()) as exc:
            log.warning("rate-limit store unavailable (%s); request let through", type(exc).__name__)
            return default


def _redis_errors() -> type[Exception]:
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is a dependency
        return OSError
    return RedisError
