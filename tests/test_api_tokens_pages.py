"""The admin's API tokens page: make a token (shown once, in the form's answer only), list, revoke."""

from __future__ import annotations

import re

from sqlalchemy import select

from surveyhub.models import ApiToken, AuditEvent
from tests.fixtures.factories import bearer, csrf_token
from tests.fixtures.factories import sqlite_database_url as database_url  # noqa: F401 - pages: one backend will do

TOKEN = re.compile(r"shk_[A-Za-z0-9_-]{20,}")


def _make(client, **fields):
    page = client.get("/admin/api-tokens/new")
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page.text), "name": "CRM", "role": "worker", "scopes": ["outcomes:read"],
            "funder": "", "expires_days": ""}
    data.update(fields)
    return client.post("/admin/api-tokens/new", data=data)


def test_a_new_token_is_shown_once_in_the_answer_and_works(app, session, org_people, client_for):
    admin = client_for(org_people["admin"].email)
    made = _make(admin, name="Gemeentedashboard", scopes=["outcomes:read", "documents:read"])
    assert made.status_code == 200
    assert made.headers["Cache-Control"] == "no-store"
    [token] = TOKEN.findall(made.text)
    assert "alleen nu" in made.text  # the warning that it is not shown again
    # Not in a cookie (no flash), not in the list, not in the database: only its digest is kept.
    assert token not in (made.headers.get("Set-Cookie") or "")
    listing = admin.get("/admin/api-tokens")
    assert token not in listing.text and "Gemeentedashboard" in listing.text
    assert token[:10] in listing.text  # the prefix, to tell tokens apart
    assert "Uitkomsten lezen" in listing.text and "Gemaakte documenten lezen" in listing.text
    row = session.scalar(select(ApiToken).where(ApiToken.name == "Gemeentedashboard"))
    assert token not in (row.token_hash, row.scopes, row.prefix) and row.scopes == "outcomes:read documents:read"
    assert admin.get("/api/v1/projects", headers=bearer(token)).status_code == 200
    assert "nooit" not in admin.get("/admin/api-tokens").text  # its last use is on the list now


def test_a_funder_token_names_an_active_funder(app, session, org_people, client_for):
    admin = client_for(org_people["admin"].email)
    page = admin.get("/admin/api-tokens/new").text
    assert org_people["funder"].email in page
    refused = _make(admin, role="funder", funder="")
    assert refused.status_code == 200 and not TOKEN.search(refused.text)
    assert "e-mailadres" in refused.text  # the service's reason, in Dutch
    made = _make(admin, role="funder", funder=org_people["funder"].email, name="Fonds")
    assert TOKEN.search(made.text)
    row = session.scalar(select(ApiToken).where(ApiToken.name == "Fonds"))
    assert row.role == "funder" and row.user_id == org_people["funder"].id


def test_a_token_needs_a_scope_and_sensible_days(app, org_people, client_for):
    admin = client_for(org_people["admin"].email)
    for fields, reason in (({"scopes": []}, "Kies er minstens één."),
                           ({"expires_days": "0"}, "Vul een aantal dagen in van 1 tot 3650."),
                           ({"name": ""}, "Geef de token een naam.")):
        answer = _make(admin, **fields)
        assert answer.status_code == 200 and not TOKEN.search(answer.text), fields
        assert reason in answer.text, fields


def test_revoking_asks_first_and_the_token_stops_at_once(app, session, org_people, client_for):
    admin = client_for(org_people["admin"].email)
    [token] = TOKEN.findall(_make(admin, name="Oude koppeling").text)
    token_id = session.scalar(select(ApiToken.id).where(ApiToken.name == "Oude koppeling"))
    session.commit()
    ask = admin.get(f"/admin/api-tokens/{token_id}/revoke")
    assert ask.status_code == 200 and "Oude koppeling" in ask.text
    assert admin.get("/api/v1/projects", headers=bearer(token)).status_code == 200  # asking changed nothing
    done = admin.post(f"/admin/api-tokens/{token_id}/revoke", data={"csrf_token": csrf_token(ask.text)})
    assert done.status_code == 302
    assert admin.get("/api/v1/projects", headers=bearer(token)).status_code == 401
    assert "ingetrokken op" in admin.get("/admin/api-tokens").text
    codes = set(session.scalars(select(AuditEvent.action)).all())
    assert {"api_token.create", "api_token.revoke"} <= codes
    audit = admin.get("/admin/audit").text
    assert "API-token gemaakt" in audit and "API-token ingetrokken" in audit
    assert "naam: Oude koppeling" in audit and "mag doen: outcomes:read" in audit


def test_revoking_without_the_form_token_changes_nothing(app, session, org_people, client_for):
    admin = client_for(org_people["admin"].email)
    [token] = TOKEN.findall(_make(admin, name="Koppeling").text)
    token_id = session.scalar(select(ApiToken.id).where(ApiToken.name == "Koppeling"))
    session.commit()
    admin.post(f"/admin/api-tokens/{token_id}/revoke", data={})
    assert admin.get("/api/v1/projects", headers=bearer(token)).status_code == 200


def test_only_admins_of_the_organisation_reach_the_page(app, session, org_people, make_org, make_user, client_for):
    admin = client_for(org_people["admin"].email)
    _make(admin, name="Eigen koppeling")
    token_id = session.scalar(select(ApiToken.id).where(ApiToken.name == "Eigen koppeling"))
    session.commit()
    for role in ("worker", "funder"):
        other = client_for(org_people[role].email)
        assert other.get("/admin/api-tokens").status_code == 403
        assert other.get("/admin/api-tokens/new").status_code == 403
    stranger = client_for(make_user("admin", make_org("Welzijn Zuid")).email)
    assert stranger.get(f"/admin/api-tokens/{token_id}/revoke").status_code == 404
    assert "Eigen koppeling" not in stranger.get("/admin/api-tokens").text
    assert "API-tokens" in admin.get("/admin/users").text  # in the admin's menu


def test_every_scope_has_words_on_the_page():
    from surveyhub.services import access
    from surveyhub.web.api_tokens import SCOPE_WORDS

    assert list(SCOPE_WORDS) == list(access.SCOPES)
