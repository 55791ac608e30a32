"""Who calls the API: the bearer token, its rate limit, and the capability and scope a route needs."""

from __future__ import annotations

from functools import wraps

from flask import current_app, g, request

from surveyhub.db import get_session, unit_of_work
from surveyhub.extensions import get_throttle, rates
from surveyhub.plugins import get_host, get_registry
from surveyhub.services import access, api_tokens
from surveyhub.services.access import FUNDER, MATRIX, Actor
from surveyhub.services.context import ServiceContext
from surveyhub.services.outcomes import Thresholds
from surveyhub.web.api.errors import ApiProblem
from surveyhub.web.limits import client_address, release

#: The ``WWW-Authenticate`` header of a 401 (RFC 6750).
CHALLENGE = 'Bearer realm="surveyhub"'


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def current_actor() -> Actor:
    """The actor of this API request (set by ``api_route``)."""
    return g.api_actor


def service_context() -> ServiceContext:
    """This API request's context, acting as the token's role (built once per request)."""
    if "service_context" not in g:
        g.service_context = ServiceContext(
            session=get_session(), actor=current_actor(), registry=get_registry(), host=get_host(),
            thresholds=Thresholds.from_settings(current_app.config), base_url=current_app.config["BASE_URL"],
            lang=_language(), timezone=current_app.config["TIMEZONE"])
    return g.service_context


def _language() -> str:
    """Documents made through the API: Dutch unless the client asks for English."""
    best = request.accept_languages.best_match(["nl", "en"])
    return best or "nl"


def authenticate() -> Actor:
    """The token's actor, or a 401 problem; failed tries count per address, calls per token."""
    token = _bearer()
    address = client_address()
    if token is None:
        raise ApiProblem(401, "unauthorized", "Send an API token: Authorization: Bearer shk_...",
                         {"WWW-Authenticate": CHALLENGE})
    session = get_session()
    actor = api_tokens.authenticate(session, token, source=address)
    if actor is None:
        release()
        if not get_throttle().hit("api-auth", rates("API_AUTH_RATE_LIMIT"), address):
            raise ApiProblem(429, "too-many-requests", "Too many tries with a wrong token; wait a while.",
                             {"Retry-After": "60"})
        raise ApiProblem(401, "unauthorized", "This token is unknown, revoked or expired.",
                         {"WWW-Authenticate": CHALLENGE + ', error="invalid_token"'})
    if session.dirty:  # the last use, written at most once a minute
        with unit_of_work(session):
            pass
    if not get_throttle().hit("api", rates("API_RATE_LIMIT"), api_tokens.token_id_of(actor) or address):
        raise ApiProblem(429, "too-many-requests", "This token made too many requests; wait a while.",
                         {"Retry-After": "60"})
    return actor


def api_route(capability: str, scope: str | None):
    """An API view: a valid token whose role holds ``capability`` and whose scopes hold ``scope``.

    ``scope`` None: any scope will do (the list of projects). On a project's routes (``slug`` in
    the URL) the project is checked first: another organisation's, or one not shared with a funder
    token, is a 404. A role lacking ``capability`` comes next: a funder token on a project's route
    gets the 404 a funder gets on the pages, another role a 403 ``forbidden``. Only then is a scope
    the token lacks a 403 ``insufficient-scope`` (tests/test_api_permissions.py walks this).
    """
    if capability not in MATRIX:
        raise ValueError(f"unknown capability {capability!r}")
    if scope is not None and scope not in access.SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            actor = authenticate()
            g.api_actor = actor
            if "slug" in kwargs:
                service_context().project(kwargs["slug"], capability)
            elif not actor.can(capability):
                if actor.role == FUNDER and capability.startswith("project."):
                    raise ApiProblem(404, "not-found", "Not found.")
                raise ApiProblem(403, "forbidden", f"A {actor.role} token may not do this.")
            if scope is not None and scope not in (actor.scopes or frozenset()):
                raise ApiProblem(403, "insufficient-scope", f"This needs a token with the scope {scope}.",
                                 {"WWW-Authenticate": CHALLENGE + f', error="insufficient_scope", scope="{scope}"'})
            return view(*args, **kwargs)
        wrapped.capability = capability
        wrapped.api_scope = scope
        return wrapped
    return decorator
