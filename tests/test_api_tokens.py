"""API tokens: kept as a digest, last use recorded, refused once revoked or expired, rate-limited; the CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from surveyhub.models import ApiToken
from surveyhub.models._types import utcnow
from surveyhub.services import access, accounts, api_tokens
from surveyhub.services.errors import Forbidden, NotFound, UserError
from tests.fixtures.factories import bearer


def _row(session, token: str) -> ApiToken:
    row = session.scalar(select(ApiToken).where(ApiToken.prefix == token[:api_tokens.SHOWN]))
    session.commit()
    return row


def _refused(response) -> None:
    """A 401 problem with the Bearer challenge."""
    assert response.status_code == 401, response.text
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="surveyhub"')
    assert response.json["status"] == 401 and response.json["type"].endswith("/api/v1/problems/unauthorized")


def test_a_token_is_stored_as_a_digest_only(app, session, org_people, make_api_token):
    token = make_api_token(org_people["org"], scopes=["outcomes:read"])
    assert token.startswith("shk_") and len(token) > 40
    row = _row(session, token)
    assert row.token_hash == api_tokens.digest(token) and len(row.token_hash) == 64
    assert row.prefix == token[:10]
    # No column of any token row holds the token itself.
    for column in ApiToken.__table__.columns:
        assert token not in str(getattr(row, column.key)), column.key


def test_the_last_use_is_recorded(app, session, client, org_people, make_api_token):
    token = make_api_token(org_people["org"])
    assert _row(session, token).last_used_at is None
    assert client.get("/api/v1/projects", headers=bearer(token)).status_code == 200
    row = _row(session, token)
    assert row.last_used_at is not None and row.last_used_from == "127.0.0.1"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer shk_not-a-token", "Basic dXNlcjpwdw==",
                                    "Bearer " + "x" * 300])
def test_no_or_a_wrong_token_is_a_401_problem(app, client, header):
    headers = {"Authorization": header} if header else {}
    _refused(client.get("/api/v1/projects", headers=headers))


def test_a_revoked_token_stops_at_once(app, session, client, org_people, make_api_token):
    token = make_api_token(org_people["org"])
    assert client.get("/api/v1/projects", headers=bearer(token)).status_code == 200
    admin = access.Actor(organisation_id=org_people["org"].id, role="admin")
    api_tokens.revoke(session, admin, _row(session, token).id)
    session.commit()
    _refused(client.get("/api/v1/projects", headers=bearer(token)))


def test_an_expired_token_is_refused(app, session, client, org_people, make_api_token):
    token = make_api_token(org_people["org"])
    session.execute(update(ApiToken).where(ApiToken.prefix == token[:10])
                    .values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    _refused(client.get("/api/v1/projects", headers=bearer(token)))


def test_a_funder_token_stops_when_its_funder_is_deactivated(app, session, client, org_people, make_api_token):
    org, funder = org_people["org"], org_people["funder"]
    token = make_api_token(org, scopes=["outcomes:read"], role="funder", funder_email=funder.email)
    assert client.get("/api/v1/projects", headers=bearer(token)).status_code == 200
    admin = access.Actor(organisation_id=org.id, role="admin", user_id=org_people["admin"].id)
    accounts.set_active(session, admin, funder.id, False)
    session.commit()
    _refused(client.get("/api/v1/projects", headers=bearer(token)))


def test_only_admins_make_and_revoke_tokens_and_only_their_own(app, session, org_people, make_org):
    org = org_people["org"]
    worker = access.Actor(organisation_id=org.id, role="worker")
    with pytest.raises(Forbidden):
        api_tokens.create(session, worker, name="x", scopes=["outcomes:read"])
    admin = access.Actor(organisation_id=org.id, role="admin")
    created = api_tokens.create(session, admin, name="x", scopes=["outcomes:read"])
    session.commit()
    stranger = access.Actor(organisation_id=make_org("Welzijn Zuid").id, role="admin")
    with pytest.raises(NotFound):
        api_tokens.revoke(session, stranger, created.id)
    assert [t.id for t in api_tokens.list_tokens(session, stranger)] == []


@pytest.mark.parametrize("fields, words", [
    ({"scopes": ["outcomes:read", "everything"]}, "Unknown scope everything"),
    ({"scopes": []}, "at least one scope"),
    ({"role": "funder"}, "give their e-mail address"),
    ({"role": "funder", "funder_email": "nobody@example.org"}, "No active funder account"),
    ({"funder_email": "x@example.org"}, "Only a funder token"),
    ({"expires_days": 0}, "1 to 3650 days"),
    ({"name": " "}, "1 to 100 characters"),
])
def test_a_token_that_cannot_be_made_says_why(app, session, org_people, fields, words):
    admin = access.Actor(organisation_id=org_people["org"].id, role="admin")
    arguments = {"name": "koppeling", "scopes": ["outcomes:read"], **fields}
    with pytest.raises(UserError) as refused:
        api_tokens.create(session, admin, **arguments)
    assert words in str(refused.value)


# --- rate limits -------------------------------------------------------------------------------

@pytest.fixture
def app_config(app_config):
    return {**app_config, "API_RATE_LIMIT": "3 per minute", "API_AUTH_RATE_LIMIT": "2 per minute"}


def test_a_busy_token_gets_a_429_problem_with_retry_after(app, client, org_people, make_api_token):
    token = make_api_token(org_people["org"])
    for _ in range(3):
        assert client.get("/api/v1/projects", headers=bearer(token)).status_code == 200
    busy = client.get("/api/v1/projects", headers=bearer(token))
    assert busy.status_code == 429 and busy.mimetype == "application/problem+json"
    assert int(busy.headers["Retry-After"]) > 0
    assert busy.json["type"].endswith("/too-many-requests")
    # Another token of the same organisation has its own budget.
    assert client.get("/api/v1/projects", headers=bearer(make_api_token(org_people["org"]))).status_code == 200


def test_wrong_tokens_from_one_address_are_held_up(app, client, org_people, make_api_token):
    for _ in range(2):
        _refused(client.get("/api/v1/projects", headers=bearer("shk_guess")))
    held = client.get("/api/v1/projects", headers=bearer("shk_guess"))
    assert held.status_code == 429 and "Retry-After" in held.headers
    # Another address is not held up by this one's guesses.
    other = client.get("/api/v1/projects", headers=bearer("shk_guess"), environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 401


# --- the command line --------------------------------------------------------------------------

def test_cli_create_prints_only_the_token_on_stdout(app, session, runner, org_people, client):
    result = runner.invoke(args=["token", "create", "--org", org_people["org"].name, "--scope", "outcomes:read",
                                 "--scope", "documents:read", "--name", "dashboard"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("shk_") and "\n" not in token and " " not in token
    assert "shown only this once" in result.stderr
    row = _row(session, token)
    assert row.scopes == "outcomes:read documents:read" and row.name == "dashboard" and row.role == "worker"
    assert client.get("/api/v1/projects", headers=bearer(token)).status_code == 200
    listed = runner.invoke(args=["token", "list", "--org", org_people["org"].name])
    assert listed.exit_code == 0 and "dashboard" in listed.stdout and token not in listed.stdout


def test_cli_funder_token(app, session, runner, org_people):
    result = runner.invoke(args=["token", "create", "--org", org_people["org"].name, "--scope", "outcomes:read",
                                 "--role", "funder", "--funder", org_people["funder"].email])
    assert result.exit_code == 0, result.output
    assert _row(session, result.stdout.strip()).user_id == org_people["funder"].id


def test_cli_revoke(app, session, runner, client, org_people, make_api_token):
    token = make_api_token(org_people["org"])
    token_id = _row(session, token).id
    result = runner.invoke(args=["token", "revoke", str(token_id)])
    assert result.exit_code == 0, result.output
    _refused(client.get("/api/v1/projects", headers=bearer(token)))
    missing = runner.invoke(args=["token", "revoke", "999999"])
    assert missing.exit_code == 1 and "no token 999999" in missing.output


@pytest.mark.parametrize("arguments, words, code", [
    (["--scope", "everything"], "Unknown scope everything. Choose from: outcomes:read", 1),
    (["--scope", "outcomes:read", "--role", "funder"], "e-mail address", 1),
    (["--scope", "outcomes:read", "--role", "owner"], "owner", 2),  # click's own usage error
])
def test_cli_refuses_a_bad_token_and_says_why(app, session, runner, org_people, arguments, words, code):
    result = runner.invoke(args=["token", "create", "--org", org_people["org"].name, *arguments])
    assert result.exit_code == code, result.output
    assert words in result.output
    assert "shk_" not in result.stdout
    assert session.scalar(select(ApiToken.id)) is None


def test_the_integrators_guide_names_every_scope_and_setting():
    from pathlib import Path

    from surveyhub.config import DEFAULTS

    guide = (Path(__file__).parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
    for scope in access.SCOPES:
        assert f"| `{scope}` |" in guide, scope
    for setting in ("API_RATE_LIMIT", "API_AUTH_RATE_LIMIT"):
        assert f"`SURVEYHUB_{setting}` | `{DEFAULTS[setting]}`" in guide, setting


def test_the_last_use_is_written_at_most_once_a_minute_whichever_address_calls(app, session, org_people,
                                                                                make_api_token):
    """A script behind two outgoing addresses (or a pool of workers) must not make every call a write: on
    SQLite each write takes the database's one write lock."""
    token = make_api_token(org_people["org"])
    assert api_tokens.authenticate(session, token, source="192.0.2.1") is not None
    session.commit()
    for source in ("192.0.2.2", "192.0.2.1", "2001:db8::7"):
        assert api_tokens.authenticate(session, token, source=source) is not None
        assert not session.dirty, source
    assert _row(session, token).last_used_from == "192.0.2.1"
