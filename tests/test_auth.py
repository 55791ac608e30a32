"""Logging in and out, CSRF, login throttling, safe redirects, and the admin's user pages."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from argon2 import PasswordHasher
from sqlalchemy import func, select

from surveyhub.models import AuditEvent, User
from tests.fixtures.factories import PASSWORD, csrf_token

WRONG = "The e-mail address or password is not right."


def _english(client) -> str:
    """Switch the client to English (the messages checked here) and return a CSRF token."""
    return csrf_token(client.get("/login?lang=en").text)


def _post_login(client, email: str, password: str, token: str, url: str = "/login"):
    return client.post(url, data={"csrf_token": token, "email": email, "password": password})


def _without_tokens(html: str) -> str:
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]*', r"\1", html)


def _browser_destination(location: str) -> str:
    """Where a browser goes for this Location header: the host it ends up on.

    Browsers treat ``\\`` like ``/`` in http(s) URLs and drop tabs and newlines.
    """
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    return urlsplit(urljoin("http://surveyhub.test/login", cleaned)).netloc


def _logged_in(client) -> bool:
    return client.get("/").status_code == 200


def _read(session, statement):
    value = session.scalar(statement)
    session.commit()  # never keep SQLite's write lock while the app handles a request
    return value


# --- logging in ---------------------------------------------------------------------------------

def test_login_and_logout(client, session, make_user):
    user = make_user("worker")
    token = _english(client)
    response = _post_login(client, user.email, PASSWORD, token)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    dashboard = client.get("/")
    assert dashboard.status_code == 200 and "Log out" in dashboard.text
    assert _read(session, select(func.count()).select_from(AuditEvent)
                 .where(AuditEvent.action == "auth.login", AuditEvent.user_id == user.id)) == 1
    assert _read(session, select(User.last_login_at).where(User.id == user.id)) is not None

    assert client.post("/logout", data={"csrf_token": csrf_token(dashboard.text)}).status_code == 302
    assert not _logged_in(client)


def test_email_is_not_case_sensitive(client, make_user):
    user = make_user("worker", email="Fatima.Yilmaz@Example.org")
    assert user.email == "fatima.yilmaz@example.org"
    token = _english(client)
    assert _post_login(client, "  FATIMA.yilmaz@example.ORG ", PASSWORD, token).status_code == 302


def test_wrong_password_shows_a_message_and_stays_on_the_page(client, make_user):
    user = make_user("worker")
    response = _post_login(client, user.email, "not the password", _english(client))
    assert response.status_code == 200
    assert WRONG in response.text
    assert 'name="password"' in response.text  # still the login form
    assert user.email in response.text  # the typed e-mail address is kept
    assert not _logged_in(client)


def test_unknown_email_gets_the_same_message(client, make_user):
    user = make_user("worker")
    token = _english(client)
    wrong_password = _post_login(client, user.email, "not the password", token)
    unknown = _post_login(client, "nobody@example.org", "not the password", token)
    assert unknown.status_code == 200
    assert WRONG in unknown.text
    # Nothing on the page tells the two apart, except the address typed in (and the fresh CSRF token).
    assert _without_tokens(unknown.text.replace("nobody@example.org", user.email)) == \
        _without_tokens(wrong_password.text)


def test_empty_form_is_refused_without_logging_in(client):
    response = _post_login(client, "", "", _english(client))
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.text
    assert not _logged_in(client)


def test_passwords_are_stored_as_argon2id_hashes(session, make_user):
    user = make_user("worker", password="Zonnebloem-Tuin-2026")
    stored = _read(session, select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$")
    assert "Zonnebloem" not in stored
    assert PasswordHasher().verify(stored, "Zonnebloem-Tuin-2026")


def test_logout_needs_a_post_with_a_csrf_token(client, make_user, login):
    login(make_user("worker").email)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert _logged_in(client)


def test_session_cookie_is_http_only_and_same_site(client, make_user):
    user = make_user("worker")
    response = _post_login(client, user.email, PASSWORD, _english(client))
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


# --- throttling ---------------------------------------------------------------------------------

def test_login_is_throttled_after_ten_attempts_a_minute(app, client, make_user):
    assert app.config["LOGIN_RATE_LIMIT"] == "10 per minute"
    user = make_user("worker")
    token = _english(client)
    for attempt in range(10):
        assert _post_login(client, user.email, f"guess {attempt}", token).status_code == 200
    blocked = _post_login(client, user.email, PASSWORD, token)
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    assert not _logged_in(client)
    # Reading the login page is not an attempt.
    assert client.get("/login").status_code == 200


# --- redirects after login ----------------------------------------------------------------------

UNSAFE_TARGETS = ["//evil.example", "//evil.example/login", "https://evil.example/", "http:evil.example",
                  "/\\evil.example", "\\\\evil.example", "/\t/evil.example", "javascript:alert(1)"]


def test_login_never_redirects_to_another_site(app, make_user):
    user = make_user("worker")
    for target in UNSAFE_TARGETS:  # eight logins: within the rate limit
        client = app.test_client()
        response = client.post("/login", query_string={"next": target},
                               data={"csrf_token": _english(client), "email": user.email, "password": PASSWORD})
        assert response.status_code == 302, target
        assert _browser_destination(response.headers["Location"]) == "surveyhub.test", target
        assert _logged_in(client)


def test_login_returns_to_the_page_asked_for(client, make_org, make_user, make_project):
    org = make_org()
    user = make_user("worker", org)
    slug = make_project(org).slug
    bounced = client.get(f"/projects/{slug}")
    assert bounced.status_code == 302
    login_url = bounced.headers["Location"]
    assert login_url.startswith("/login?next=")
    token = csrf_token(client.get(login_url).text)
    response = _post_login(client, user.email, PASSWORD, token, url=login_url)
    assert response.headers["Location"] == f"/projects/{slug}"


# --- CSRF ---------------------------------------------------------------------------------------

def test_csrf_protection_is_on(app):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    assert "csrf" in app.extensions


def test_login_without_csrf_token_is_refused(client, make_user):
    user = make_user("worker")
    _english(client)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Page expired" in response.text
    assert not _logged_in(client)


def test_forged_csrf_token_is_refused(client, make_user):
    user = make_user("worker")
    _english(client)
    response = _post_login(client, user.email, PASSWORD, "forged-token")
    assert response.status_code == 400
    assert not _logged_in(client)


def test_changes_without_csrf_token_are_refused(client, session, make_org, make_user, make_project, login):
    org = make_org()
    login(make_user("admin", org).email)
    slug = make_project(org).slug
    assert client.post(f"/projects/{slug}/waves/pre/closed").status_code == 400
    assert client.post("/projects/new", data={"name": "Zonder token", "instruments": ["organising@2"]}
                       ).status_code == 400
    assert client.post("/admin/users", data={"email": "x@example.org", "role": "admin",
                                             "password": "a long password"}).status_code == 400
    assert _read(session, select(User.id).where(User.email == "x@example.org")) is None
    assert "open" in client.get(f"/projects/{slug}?lang=en").text


# --- the admin's user pages ---------------------------------------------------------------------

def _admin_client(client_for, make_org, make_user):
    org = make_org("Buurtwerk Noord")
    admin = make_user("admin", org, email="beheer@example.org")
    admin_client = client_for(admin.email)
    admin_client.get("/admin/users?lang=en")
    return org, admin, admin_client


def test_admin_creates_a_user_who_can_then_log_in(client_for, session, make_org, make_user):
    org, _, admin = _admin_client(client_for, make_org, make_user)
    page = admin.get("/admin/users")
    response = admin.post("/admin/users", data={"csrf_token": csrf_token(page.text), "email": "Nieuw@Example.org",
                                                "name": "Nieuwe Collega", "role": "funder",
                                                "password": "een lang wachtwoord"})
    assert response.status_code == 302
    listing = admin.get("/admin/users").text
    assert "User created." in listing and "nieuw@example.org" in listing
    role, org_id = session.execute(select(User.role, User.organisation_id)
                                   .where(User.email == "nieuw@example.org")).one()
    session.commit()
    assert (role, org_id) == ("funder", org.id)
    client_for("nieuw@example.org", "een lang wachtwoord")


def test_admin_form_refuses_a_duplicate_email_and_a_short_password(client_for, session, make_org, make_user):
    _, admin_info, admin = _admin_client(client_for, make_org, make_user)
    token = csrf_token(admin.get("/admin/users").text)
    duplicate = admin.post("/admin/users", data={"csrf_token": token, "email": admin_info.email,
                                                 "role": "worker", "password": "een lang wachtwoord"})
    assert duplicate.status_code == 200
    assert "already exists" in duplicate.text
    short = admin.post("/admin/users", data={"csrf_token": token, "email": "kort@example.org",
                                             "role": "worker", "password": "kort"})
    assert short.status_code == 200
    assert 'aria-invalid="true"' in short.text
    assert _read(session, select(func.count()).select_from(User)) == 1


def test_deactivated_user_can_no_longer_log_in(client_for, session, make_org, make_user, app):
    org, _, admin = _admin_client(client_for, make_org, make_user)
    worker = make_user("worker", org)
    worker_client = client_for(worker.email)
    token = csrf_token(admin.get("/admin/users").text)

    response = admin.post(f"/admin/users/{worker.id}/deactivate", data={"csrf_token": token})
    assert response.status_code == 302
    assert _read(session, select(User.active).where(User.id == worker.id)) is False
    assert "deactivated" in admin.get("/admin/users").text

    # The running session ends at once ...
    assert not _logged_in(worker_client)
    # ... and the right password no longer works, with the usual message.
    fresh = app.test_client()
    refused = _post_login(fresh, worker.email, PASSWORD, _english(fresh))
    assert refused.status_code == 200 and WRONG in refused.text
    assert not _logged_in(fresh)

    admin.post(f"/admin/users/{worker.id}/activate", data={"csrf_token": token})
    client_for(worker.email)


def test_admin_cannot_deactivate_themselves(client_for, session, make_org, make_user):
    _, admin_info, admin = _admin_client(client_for, make_org, make_user)
    page = admin.get("/admin/users")
    assert f"/admin/users/{admin_info.id}/deactivate" not in page.text  # no button for it
    response = admin.post(f"/admin/users/{admin_info.id}/deactivate", data={"csrf_token": csrf_token(page.text)},
                          follow_redirects=True)
    assert "You cannot deactivate your own account" in response.text
    assert _read(session, select(User.active).where(User.id == admin_info.id)) is True
    assert _logged_in(admin)
