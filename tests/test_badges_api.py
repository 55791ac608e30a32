"""POST /api/v1/verify accepts an Open Badges credential, as /verify and ``surveyhub verify`` do."""

from __future__ import annotations

from tests.fixtures.factories import bearer
from tests.test_badges import app_config, context, earned, org  # noqa: F401 - fixtures of the badge tests
from surveyhub.services import badges


def _verify(client, token: str, body: dict):
    return client.post("/api/v1/verify", json=body, headers=bearer(token))


def test_a_valid_credential(client, make_api_token, org, earned):
    _slug, found = earned
    token = make_api_token(org, scopes=("documents:read",))
    answer = _verify(client, token, {"credential": found[("R-GROEI", "level")].jwt})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["kind"], body["checked"], body["status"]) == ("credential", "signature", "valid")
    assert body["credential"]["issuer"] == "Buurtwerk Noord"
    assert body["credential"]["id"].startswith("urn:uuid:")
    assert body["document"] is None


def test_a_revoked_and_a_tampered_credential(app, session, client, make_api_token, org, earned):
    _slug, found = earned
    token = make_api_token(org, scopes=("documents:read",))
    info = found[("R-GROEI", "level")]
    badges.revoke(context(app, session, org), info.public_id, "Verkeerd ingevoerd")
    session.commit()
    body = _verify(client, token, {"credential": info.jwt}).get_json()
    assert (body["status"], body["credential"]["revoked_reason"]) == ("revoked", "Verkeerd ingevoerd")
    head, claims, signature = found[("R-GROEI", "improvement")].jwt.split(".")
    forged = ".".join((head, claims[:-4] + ("AAAA" if claims[-4:] != "AAAA" else "BBBB"), signature))
    body = _verify(client, token, {"credential": forged}).get_json()
    assert body["status"] in ("bad_signature", "malformed")
    assert body["credential"] is None  # nothing of a forged credential is repeated


def test_code_or_credential_not_both_and_not_neither(client, make_api_token, org):
    token = make_api_token(org, scopes=("documents:read",))
    for body in ({}, {"code": "ABCD-EFGH", "credential": "a.b.c"}):
        answer = _verify(client, token, body)
        assert answer.status_code == 422
        assert answer.mimetype == "application/problem+json"
