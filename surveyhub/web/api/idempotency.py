"""The ``Idempotency-Key`` request header (IETF httpapi draft) on the API's POSTs that make something.

A view runs its work through :func:`once`::

    return once("participants.add", work=lambda remember: ..., replay=lambda result: ...)

Without the header the work simply runs. With it, a key this token used before for the same request
answers with ``replay`` (the things made then, read again) and the header ``Idempotent-Replayed: true``;
the same key with another request is a 422 ``idempotency-key-reused``. ``work`` calls ``remember(result)``
inside its own unit of work, so the key is committed with what it made (``services.api_idempotency``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from sqlalchemy.exc import IntegrityError

from surveyhub.db import get_session
from surveyhub.services import api_idempotency
from surveyhub.web.api.auth import current_actor
from surveyhub.web.api.errors import ApiProblem

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def _key() -> str | None:
    value = request.headers.get(HEADER)
    if value is None:
        return None
    value = value.strip()
    # A structured-field string per the draft ("..."), or the bare value most clients send.
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not 1 <= len(value) <= api_idempotency.MAX_KEY or not value.isascii() or not value.isprintable():
        raise ApiProblem(400, "bad-idempotency-key",
                         f"{HEADER} must be 1 to {api_idempotency.MAX_KEY} printable ASCII characters, "
                         "for example a UUID.")
    return value


def once(operation: str, work: Callable[[Callable[[dict], None]], Any], replay: Callable[[dict], Any]) -> Any:
    """Run ``work`` once per idempotency key; a retry gets ``replay`` of what the first request made."""
    key = _key()
    if key is None:
        return work(lambda result: None)
    actor = current_actor()
    token_id = actor.token_id
    assert token_id is not None  # API routes act through a token
    session = get_session()
    fingerprint = api_idempotency.fingerprint(request.method, request.path, request.get_data(cache=True))
    found = api_idempotency.lookup(session, token_id, key)
    if found is None:
        try:
            return work(lambda result: api_idempotency.remember(session, token_id, key, operation, fingerprint,
                                                                result))
        except IntegrityError:
            session.rollback()  # a request with the same key got there first: answer as its retry
            found = api_idempotency.lookup(session, token_id, key)
            if found is None:
                raise
    if (found.operation, found.fingerprint) != (operation, fingerprint):
        raise ApiProblem(422, "idempotency-key-reused",
                         f"This {HEADER} was used within the last day for another request; use a new key "
                         "for every new request.")
    return _replayed(replay(found.result))


def _replayed(answer: Any) -> Any:
    """The view's answer (body, status[, headers]) with ``Idempotent-Replayed: true`` added."""
    if isinstance(answer, tuple):
        body, status, *rest = answer
        headers = {**(rest[0] if rest else {}), REPLAYED: "true"}
        return body, status, headers
    return answer, 200, {REPLAYED: "true"}
