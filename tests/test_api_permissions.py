"""The JSON API's permissions, walked: every route, every scope, every kind of token.

Each API view declares a capability of ``access.MATRIX`` and a scope of ``access.SCOPES``
(``web.api.auth.api_route``: ``view.capability``, ``view.api_scope``). The walk takes every
rule of ``app.url_map`` whose view has ``api_scope`` and calls each of its methods with tokens
of an admin, a worker, a funder the project is shared with, a funder it is not shared with and
an admin of another organisation — each with every scope alone and with all scopes — and with
no token, a wrong one, a revoked one and an expired one. It compares each answer with the promise:

- allowed: the role holds the capability and the token the scope (or the route needs none):
  neither 401, 403 nor 404;
- no, a wrong, a revoked or an expired token: 401 with ``WWW-Authenticate: Bearer``;
- another organisation's project, or a project not shared with a funder: 404 before anything else;
  a document of theirs (by its code, no project in the URL): 404 once the token has the scope;
- a funder lacking the capability on a project's route: 404 (as on the pages); another role: 403;
- a role that may, with a token lacking the scope: 403 ``insufficient-scope``;
- never a 500, and every refusal is an RFC 9457 problem.

URL values come from the page walk's ``world`` (tests/test_permission_matrix.py). ``pytest -s``
prints the table.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from surveyhub.models import ApiToken
from surveyhub.models._types import utcnow
from surveyhub.services import access, api_tokens
from tests.fixtures.factories import bearer
from tests.test_permission_matrix import world  # noqa: F401 - the fixture, shared with the page walk

#: Token holders; HOLDS says which role of the matrix each acts as.
HOLDERS = ("admin", "worker", "funder", "funder_unshared", "other_admin")
HOLDS = {"funder_unshared": "funder", "other_admin": "admin"}
#: Requests that cannot authenticate.
NO_ENTRY = ("no_token", "wrong_token", "revoked_token", "expired_token")
#: Every scope alone, and all of them.
SCOPE_SETS = tuple((scope,) for scope in access.SCOPES) + (tuple(access.SCOPES),)
PROBLEM = "application/problem+json"


@pytest.fixture
def app_config(app_config):
    # The walk sends a few hundred requests from one address, some with wrong tokens on purpose.
    return {**app_config, "API_RATE_LIMIT": "100000 per minute", "API_AUTH_RATE_LIMIT": "100000 per minute"}


def api_rules(app) -> list:
    """Every API rule whose view declares a scope (``api_route``), in a fixed order."""
    rules = [rule for rule in app.url_map.iter_rules() if hasattr(app.view_functions[rule.endpoint], "api_scope")]
    return sorted(rules, key=lambda rule: (rule.rule, sorted(rule.methods)))


def methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def url_values(rule, values: dict) -> dict:
    """The rule's URL values from the world: ``code`` is a document's on document routes, else a resident's."""
    wanted = dict(values)
    wanted["code"] = values["document"] if "/documents/" in rule.rule else values["participant"]
    missing = [name for name in rule.arguments if name not in wanted]
    assert not missing, f"{rule.rule}: give the walk a value for {missing} (in url_values or the world)"
    return {name: wanted[name] for name in rule.arguments}


def expected(holder: str, rule, capability: str, scope: str | None, scopes: tuple[str, ...]):
    """What the promise says: "allowed", 401, 403, "insufficient-scope" or 404."""
    if holder in NO_ENTRY:
        return 401
    role = HOLDS.get(holder, holder)
    on_project = "slug" in rule.arguments
    not_theirs = holder in ("other_admin", "funder_unshared")  # another organisation's, or not shared
    if on_project and not_theirs:  # the project is looked up first
        return 404
    if role not in access.MATRIX[capability]:
        if role == access.FUNDER and (on_project or capability.startswith("project.")):
            return 404
        return 403
    if scope is not None and scope not in scopes:
        return "insufficient-scope"
    if rule.arguments and not_theirs:  # a document by its code: looked up by the view, after the scope
        return 404
    return "allowed"


def agrees(promise, response) -> bool:
    status = response.status_code
    if status >= 500:
        return False
    if status >= 400 and response.mimetype != PROBLEM:
        return False
    if promise == "allowed":
        return status not in (401, 403, 404)
    if promise == 401:
        return status == 401 and response.headers.get("WWW-Authenticate", "").startswith("Bearer ")
    if promise == "insufficient-scope":
        return status == 403 and response.json["type"].endswith("/problems/insufficient-scope")
    if promise == 403:
        return status == 403 and response.json["type"].endswith("/problems/forbidden")
    return status == promise


@pytest.fixture
def tokens(app, session, world):  # noqa: F811 - the fixture imported above
    """A token per holder and scope set, plus the ones that cannot enter."""
    users = world["users"]
    org_id = users["admin"].organisation_id
    other_id = users["other_admin"].organisation_id
    made = {}
    for holder in HOLDERS:
        role = HOLDS.get(holder, holder)
        admin = access.Actor(organisation_id=other_id if holder == "other_admin" else org_id, role="admin")
        for scopes in SCOPE_SETS:
            created = api_tokens.create(session, admin, name=f"walk {holder}", scopes=scopes, role=role,
                                        funder_email=users[holder].email if role == "funder" else None)
            made[holder, scopes] = created.token
    admin = access.Actor(organisation_id=org_id, role="admin")
    revoked = api_tokens.create(session, admin, name="revoked", scopes=access.SCOPES)
    expired = api_tokens.create(session, admin, name="expired", scopes=access.SCOPES)
    api_tokens.revoke(session, admin, revoked.id)
    session.execute(update(ApiToken).where(ApiToken.id == expired.id).values(expires_at=utcnow() - timedelta(1)))
    session.commit()
    every = tuple(access.SCOPES)
    made["no_token", every] = None
    made["wrong_token", every] = "shk_" + "A" * 43
    made["revoked_token", every] = revoked.token
    made["expired_token", every] = expired.token
    return made


def test_every_api_route_declares_a_capability_and_a_scope(app):
    rules = api_rules(app)
    assert rules, "no API routes found"
    for rule in rules:
        view = app.view_functions[rule.endpoint]
        assert view.capability in access.MATRIX, rule.rule
        assert view.api_scope is None or view.api_scope in access.SCOPES, rule.rule


def test_the_promise_holds_on_every_api_route_for_every_token(app, world, tokens):  # noqa: F811
    client = app.test_client()
    values = world["values"]
    table: dict = {}
    wrong = []
    for (holder, scopes), token in tokens.items():
        headers = bearer(token) if token else {}
        for rule in api_rules(app):
            view = app.view_functions[rule.endpoint]
            url = app.url_map.bind("surveyhub.test").build(rule.endpoint, url_values(rule, values))
            for method in methods(rule):
                body = {} if method in ("POST", "PUT", "PATCH") else None
                response = client.open(url, method=method, headers=headers, json=body)
                promise = expected(holder, rule, view.capability, view.api_scope, scopes)
                label = holder if len(scopes) != 1 else f"{holder}[{scopes[0]}]"
                table.setdefault((method, rule.rule, view.capability, view.api_scope), {})[label] = \
                    response.status_code
                if not agrees(promise, response):
                    wrong.append(f"{label:40} {method:5} {rule.rule}: expected {promise}, got "
                                 f"{response.status_code} {response.get_data(as_text=True)[:160]}")
                response.close()
    _print(table)
    assert not wrong, "the API's permissions do not hold:\n  " + "\n  ".join(wrong)


def _print(table: dict) -> None:
    for (method, rule, capability, scope), answers in sorted(table.items(), key=lambda item: item[0][1]):
        print(f"\n{method:5} {rule} ({capability}, {scope or 'any scope'})")
        print("   " + "  ".join(f"{label}={status}" for label, status in sorted(answers.items())))
