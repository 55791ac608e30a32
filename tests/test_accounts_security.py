"""Accounts: password rules, changing and resetting passwords, sessions that really end,
two-step login, roles and deactivation, and no cross-organisation e-mail oracle."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, update

from surveyhub.models import AuditEvent, Organisation, PasswordReset, User
from surveyhub.models._types import utcnow
from surveyhub.services import access, accounts, passwords
from tests.fixtures.factories import PASSWORD, csrf_token

NEW_PASSWORD = "blauwe fiets naast de bakker"


def _read(session, statement):
    rows = session.execute(statement).all()
    session.commit()  # never keep SQLite's write lock while the app handles a request
    return rows


def _events(session, action: str):
    return [row[0] for row in _read(session, select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id))]


def _logged_in(client) -> bool:
    return client.get("/").status_code == 200


def _post(client, url: str, **data):
    token = csrf_token(client.get(url).text)
    return client.post(url, data={"csrf_token": token, **data})


def _login(client, email: str, password: str = PASSWORD):
    return _post(client, "/login", email=email, password=password)


def _copy_session_cookie(source, target) -> None:
    cookie = source.get_cookie("session")
    assert cookie is not None
    target.set_cookie("session", cookie.value, domain=cookie.domain)


# --- password rules -----------------------------------------------------------------------------

@pytest.mark.parametrize("password, problem", [
    ("aaaaaaaaaa", "one_character"),
    ("password12", "common"),
    ("qwertyuiop", "common"),
    ("Wachtwoord123", "common"),
    ("Password2026!", "common"),
    ("kort", "too_short"),
    ("fatima.yilmaz!!", "email"),
    ("ik ben yilmaz uit noord", "email"),
])
def test_weak_passwords_are_refused(password, problem):
    assert problem in passwords.problems(password, "fatima.yilmaz@example.org")


@pytest.mark.parametrize("password", [PASSWORD, "een lang wachtwoord", "Zonnebloem-Tuin-2026", NEW_PASSWORD])
def test_good_passwords_pass(password):
    assert passwords.problems(password, "fatima.yilmaz@example.org") == []


def test_the_password_list_ships_with_the_package_and_has_thousands_of_entries():
    common = passwords.common_passwords()
    assert len(common) > 5000
    assert {"password12", "1234567890", "qwertyuiop"} <= common


def test_admin_form_refuses_a_common_password_with_a_dutch_reason(client_for, session, make_org, make_user):
    org = make_org()
    admin = client_for(make_user("admin", org).email)
    page = _post(admin, "/admin/users", email="nieuw@example.org", role="worker", password="password12")
    assert page.status_code == 200
    assert "Dit wachtwoord gebruiken veel mensen" in page.text
    assert 'aria-invalid="true"' in page.text
    assert not _read(session, select(User.id).where(User.email == "nieuw@example.org"))


# --- changing one's own password ----------------------------------------------------------------

def test_a_user_changes_their_password_and_other_sessions_end(app, client_for, session, make_user):
    user = make_user("worker")
    mine, other_device = client_for(user.email), client_for(user.email)

    wrong = _post(mine, "/account/password?lang=en", current="not my password", password=NEW_PASSWORD,
                  repeat=NEW_PASSWORD)
    assert "This is not your current password." in wrong.text
    differ = _post(mine, "/account/password?lang=en", current=PASSWORD, password=NEW_PASSWORD, repeat="other")
    assert "The two passwords differ." in differ.text
    weak = _post(mine, "/account/password?lang=en", current=PASSWORD, password="password12", repeat="password12")
    assert "easy to guess" in weak.text
    assert _logged_in(other_device)

    done = _post(mine, "/account/password", current=PASSWORD, password=NEW_PASSWORD, repeat=NEW_PASSWORD)
    assert done.status_code == 302
    assert _logged_in(mine)  # this browser goes on
    assert not _logged_in(other_device)  # every other session has ended
    assert _login(app.test_client(), user.email, PASSWORD).status_code == 200  # old password: refused
    client_for(user.email, NEW_PASSWORD)
    [event] = _events(session, "auth.password_change")
    assert event.user_id == user.id and PASSWORD not in str(event.details) and NEW_PASSWORD not in str(event.details)


# --- sessions end for real ----------------------------------------------------------------------

def test_a_copied_session_cookie_stops_working_after_logout(app, client_for, session, make_user):
    user = make_user("worker")
    browser = client_for(user.email)
    thief = app.test_client()
    _copy_session_cookie(browser, thief)
    assert _logged_in(thief)  # the copy works while the session lasts ...

    dashboard = browser.get("/")
    assert browser.post("/logout", data={"csrf_token": csrf_token(dashboard.text)}).status_code == 302
    assert not _logged_in(browser)
    assert not _logged_in(thief)  # ... and not after logout
    [event] = _events(session, "auth.logout")
    assert event.user_id == user.id


def test_deactivation_and_a_role_change_end_the_users_sessions(client_for, session, make_org, make_user):
    org = make_org()
    admin = client_for(make_user("admin", org).email)
    worker = make_user("worker", org)
    worker_client = client_for(worker.email)

    token = csrf_token(admin.get("/admin/users").text)
    assert admin.post(f"/admin/users/{worker.id}/role", data={"csrf_token": token, "role": "funder"}
                      ).status_code == 302
    assert not _logged_in(worker_client)
    assert _read(session, select(User.role).where(User.id == worker.id)) == [("funder",)]
    [event] = _events(session, "user.role_change")
    assert event.details == {"from": "worker", "to": "funder"}

    funder_client = client_for(worker.email)
    assert funder_client.get("/admin/users").status_code == 403
    admin.post(f"/admin/users/{worker.id}/deactivate", data={"csrf_token": token})
    assert not _logged_in(funder_client)


# --- roles and deactivation ---------------------------------------------------------------------

def test_an_admin_cannot_change_their_own_role(client_for, session, make_org, make_user):
    org = make_org()
    admin_info = make_user("admin", org)
    admin = client_for(admin_info.email)
    page = admin.get("/admin/users?lang=en")
    assert f"/admin/users/{admin_info.id}/role" not in page.text
    response = admin.post(f"/admin/users/{admin_info.id}/role", data={"csrf_token": csrf_token(page.text),
                                                                      "role": "worker"}, follow_redirects=True)
    assert "You cannot deactivate your own account or change your own role." in response.text
    assert _read(session, select(User.role).where(User.id == admin_info.id)) == [("admin",)]


def test_an_organisation_always_keeps_an_active_admin(session, make_org, make_user):
    org = make_org()
    only_admin = make_user("admin", org)
    cli = access.Actor(organisation_id=org.id, role="admin", source="cli")
    with pytest.raises(accounts.LastAdmin):
        accounts.set_role(session, cli, only_admin.id, "worker")
    session.rollback()
    with pytest.raises(accounts.LastAdmin):
        accounts.set_active(session, cli, only_admin.id, False)
    session.rollback()
    second = make_user("admin", org)
    accounts.set_role(session, cli, only_admin.id, "worker")
    session.commit()
    assert accounts.get_user(session, second.id).role == "admin"


def test_another_organisations_user_cannot_be_changed(client_for, session, make_org, make_user):
    admin = client_for(make_user("admin", make_org("Buurtwerk Noord")).email)
    stranger = make_user("worker", make_org("Buurtwerk Zuid"))
    token = csrf_token(admin.get("/admin/users").text)
    assert admin.post(f"/admin/users/{stranger.id}/role", data={"csrf_token": token, "role": "admin"}
                      ).status_code == 404
    assert admin.post(f"/admin/users/{stranger.id}/reset-link", data={"csrf_token": token}).status_code == 404
    assert _read(session, select(User.role).where(User.id == stranger.id)) == [("worker",)]


# --- no cross-organisation e-mail oracle ---------------------------------------------------------

def test_creating_a_user_does_not_reveal_an_account_in_another_organisation(client_for, session, make_org,
                                                                            make_user):
    make_user("worker", make_org("Buurtwerk Zuid"), email="ahmed@example.org")
    admin = client_for(make_user("admin", make_org("Buurtwerk Noord")).email)
    page = _post(admin, "/admin/users?lang=en", email="ahmed@example.org", role="worker",
                 password="een lang wachtwoord")
    assert page.status_code == 200
    assert "This e-mail address cannot be used for a new account." in page.text
    assert "already exists" not in page.text and "Zuid" not in page.text
    # A weak password is reported first, exactly as for a free address: nothing to compare.
    weak_taken = _post(admin, "/admin/users?lang=en", email="ahmed@example.org", role="worker", password="kort")
    weak_free = _post(admin, "/admin/users?lang=en", email="vrij@example.org", role="worker", password="kort")
    error = re.compile(r'<p class="error"[^>]*>.*?</p>', re.S)
    assert error.findall(weak_taken.text) == error.findall(weak_free.text)
    [(org_name,)] = _read(session, select(Organisation.name).join(User).where(User.email == "ahmed@example.org"))
    assert org_name == "Buurtwerk Zuid"  # the account stays where it was


# --- reset links --------------------------------------------------------------------------------

def _reset_link(admin, user_id: int) -> str:
    token = csrf_token(admin.get("/admin/users").text)
    page = admin.post(f"/admin/users/{user_id}/reset-link", data={"csrf_token": token})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    [link] = re.findall(r"http://surveyhub\.test(/reset/[A-Za-z0-9_-]+)", page.text)
    return link


def test_an_admin_hands_over_a_one_time_reset_link(app, client_for, session, make_org, make_user):
    org = make_org()
    admin = client_for(make_user("admin", org).email)
    worker = make_user("worker", org)
    worker_client = client_for(worker.email)
    link = _reset_link(admin, worker.id)
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits
    [(stored,)] = _read(session, select(PasswordReset.token_hash))
    assert stored == hashlib.sha256(token.encode()).hexdigest()  # only the hash is kept

    visitor = app.test_client()
    form = visitor.get(link + "?lang=en")
    assert form.status_code == 200 and worker.email in form.text
    weak = _post(visitor, link + "?lang=en", password="aaaaaaaaaa", repeat="aaaaaaaaaa")
    assert "Do not use one character over and over." in weak.text
    done = _post(visitor, link, password=NEW_PASSWORD, repeat=NEW_PASSWORD)
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert not _logged_in(worker_client)  # the old sessions have ended
    client_for(worker.email, NEW_PASSWORD)

    again = visitor.get(link + "?lang=en")
    assert again.status_code == 404 and "This link does not work" in again.text  # single use
    assert [e.target for e in _events(session, "auth.password_reset_sent")] == [f"user:{worker.email}"]
    [used] = _events(session, "auth.password_reset_used")
    assert used.user_id == worker.id
    assert not any(token in str((e.target, e.details)) for e in _events(session, "auth.password_reset_sent"))


def test_a_reset_link_expires_after_a_day_and_a_new_one_replaces_the_old(app, client_for, session, make_org,
                                                                         make_user):
    org = make_org()
    admin = client_for(make_user("admin", org).email)
    worker = make_user("worker", org)
    first = _reset_link(admin, worker.id)
    second = _reset_link(admin, worker.id)
    assert app.test_client().get(first).status_code == 404  # replaced
    session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    assert app.test_client().get(second).status_code == 404  # expired
    assert app.test_client().get("/reset/made-up-token").status_code == 404


def test_the_cli_makes_a_reset_link(app, runner, client_for, make_org, make_user, session):
    from surveyhub.cli import cli
    user = make_user("worker", make_org(), email="ank@example.org")
    result = runner.invoke(cli, ["user", "reset-link", "Ank@Example.org"])
    assert result.exit_code == 0, result.output
    [link] = re.findall(r"http://surveyhub\.test(/reset/\S+)", result.output)
    assert _post(app.test_client(), link, password=NEW_PASSWORD, repeat=NEW_PASSWORD).status_code == 302
    client_for(user.email, NEW_PASSWORD)
    [event] = _events(session, "auth.password_reset_sent")
    assert event.actor == "cli"
    unknown = runner.invoke(cli, ["user", "reset-link", "nobody@example.org"])
    assert unknown.exit_code != 0 and "no user" in unknown.output


# --- two-step login ------------------------------------------------------------------------------

def _switch_on(client) -> str:
    page = client.get("/account/2fa")
    assert page.status_code == 200 and "<svg" in page.text  # the QR code, inline
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text).group(1)
    wrong = client.post("/account/2fa?lang=en", data={"csrf_token": csrf_token(page.text), "secret": secret,
                                                      "code": "000000"})
    assert "This code is not right." in wrong.text
    on = client.post("/account/2fa", data={"csrf_token": csrf_token(page.text), "secret": secret,
                                           "code": pyotp.TOTP(secret).now()})
    assert on.status_code == 302
    return secret


def test_two_step_login_asks_for_a_code_after_the_password(app, client_for, session, make_user):
    user = make_user("worker")
    secret = _switch_on(client_for(user.email))
    assert [e.user_id for e in _events(session, "auth.totp_on")] == [user.id]

    browser = app.test_client()
    step_one = _login(browser, user.email)
    assert step_one.status_code == 302 and step_one.headers["Location"].endswith("/login/code")
    assert not _logged_in(browser)  # half logged in is not logged in
    assert browser.get("/account/password").status_code == 302
    wrong = _post(browser, "/login/code?lang=en", code="123456" if pyotp.TOTP(secret).now() != "123456" else "654321")
    assert "This code is not right." in wrong.text and not _logged_in(browser)
    code = pyotp.TOTP(secret).now()
    assert _post(browser, "/login/code", code=code).status_code == 302
    assert _logged_in(browser)

    replay = app.test_client()
    _login(replay, user.email)
    assert "This code is not right." in _post(replay, "/login/code?lang=en", code=code).text  # a code works once
    assert not _logged_in(replay)
    assert [e.details for e in _events(session, "auth.login_failed")][-1] == {"step": "code"}

    off = browser.get("/account/2fa")
    assert _post(browser, "/account/2fa", code="000000" if code != "000000" else "111111").status_code == 200
    assert browser.post("/account/2fa", data={"csrf_token": csrf_token(off.text),
                                              "code": pyotp.TOTP(secret).now()}).status_code == 302
    assert [e.user_id for e in _events(session, "auth.totp_off")] == [user.id]
    assert _login(app.test_client(), user.email).headers["Location"] == "/"


def test_an_admin_switches_off_two_step_login_after_a_lost_phone(app, client_for, session, make_org, make_user):
    org = make_org()
    admin = client_for(make_user("admin", org).email)
    worker = make_user("worker", org)
    worker_client = client_for(worker.email)
    _switch_on(worker_client)
    token = csrf_token(admin.get("/admin/users").text)
    assert admin.post(f"/admin/users/{worker.id}/totp-off", data={"csrf_token": token}).status_code == 302
    assert not _logged_in(worker_client)
    assert _login(app.test_client(), worker.email).headers["Location"] == "/"  # the password alone again
    [event] = _events(session, "auth.totp_off")
    assert event.details == {"by": "admin"} and event.target == f"user:{worker.email}"


def test_funders_do_not_get_two_step_login(client_for, make_user):
    assert client_for(make_user("funder").email).get("/account/2fa").status_code == 403


# --- login and logout in the audit trail --------------------------------------------------------

def test_failed_logins_are_in_the_trail_of_the_account_without_the_password(app, session, make_user):
    user = make_user("worker")
    client = app.test_client()
    _login(client, user.email, "Geheim-Fout-Wachtwoord")
    _login(client, "Geheim-Getypt@example.org", "Geheim-Fout-Wachtwoord")
    known, unknown = _events(session, "auth.login_failed")
    assert (known.user_id, known.organisation_id, known.actor) == (user.id, user.organisation_id, user.email)
    assert known.source == "127.0.0.1"
    assert unknown.user_id is None and unknown.organisation_id is None
    for event in (known, unknown):
        assert "Geheim" not in str((event.target, event.details, event.actor))
    _login(client, user.email)
    [ok] = _events(session, "auth.login")
    assert (ok.user_id, ok.actor, ok.source) == (user.id, user.email, "127.0.0.1")
