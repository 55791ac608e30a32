"""Rate limits on public routes, counted in the store all worker processes share.

``count_every`` counts each request (``/verify``, own-code tries); ``count_misses``
counts only requests that end in a 404 (guessed resident links and reset links),
and never refuses or slows down a link that works. Both answer 429 once the address has used up its
budget. Counting happens outside the request's own database transaction (see
``release``), so a counter never waits for the request that asks for it.
"""

from __future__ import annotations

from functools import wraps
from flask import abort, g, make_response, request
from werkzeug.exceptions import NotFound as HTTPNotFound

from surveyhub.extensions import get_throttle, rates
from surveyhub.services.errors import NotFound


def client_address() -> str:
    """Who is counted: the client's address (behind a proxy, as ProxyFix reports it)."""
    return request.remote_addr or "unknown"


def release() -> None:
    """End the request's read transaction before a counter is touched.

    The counter runs on a connection of its own. On SQLite a request that only
    read holds no lock (``db._write_lock``), so this is belt and braces there;
    it keeps a PostgreSQL read transaction short. Nothing is lost: the points
    that call this have read, not written.
    """
    session = g.get("db_session")
    if session is not None and session.in_transaction() and not (session.new or session.dirty or session.deleted):
        session.rollback()


def hit(scope: str, setting: str, who: str) -> bool:
    """Count one hit for ``who``; False when that used up the limit."""
    release()
    return get_throttle().hit(scope, rates(setting), who)


def count_every(scope: str, setting: str, methods: tuple[str, ...] | None = None):
    """Every request (of ``methods``) from one address counts; over the limit: 429."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if (methods is None or request.method in methods) and not hit(scope, setting, client_address()):
                abort(429)
            return view(*args, **kwargs)
        return wrapped
    return decorator


#: The counter of ``count_misses(..., together=True)``: every address's misses in one.
EVERYONE = "everyone"


def count_misses(scope: str, setting: str, *, together: bool = False):
    """Requests that end in 404 count; once an address is over the limit its misses get 429.

    A request that finds something real (a working link) is never counted or refused,
    and never waits for the counter store, so guessing from a shared address cannot lock
    residents out or slow their page saves down. ``together`` counts the misses of all
    addresses in one budget, for codes short enough that many addresses could guess one.
    """
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            who = EVERYONE if together else client_address()
            try:
                response = make_response(view(*args, **kwargs))
            except (HTTPNotFound, NotFound):
                if not hit(scope, setting, who):
                    abort(429)
                raise
            if response.status_code == 404 and not hit(scope, setting, who):
                abort(429)
            return response
        return wrapped
    return decorator
