"""Personal links stay secret (issue 9, point 2): headers, cookies, proxies, logs and mailto links.

A personal link is a password. It must not leave in a Referer header, stay in
a cache, travel over plain http once the site is https, or land in any log:
gunicorn's access log, its error log, or Flask's "Exception on /q/<token>".
"""

from __future__ import annotations

import html
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import select

from surveyhub.log_masking import mask
from surveyhub.models import AuditEvent
from surveyhub.services import access, participants
from tests.fixtures.factories import csrf_token


@pytest.fixture
def resident(app, session, make_org, make_user, make_project):
    org = make_org()
    project = make_project(org)
    actor = access.Actor(organisation_id=org.id, role="admin")
    [invitation] = participants.add_participants(session, actor, project.slug,
                                                 entries=[("Anna", "a@b.nl?bcc=evil@x.nl&cc=spy@x.nl")])
    session.commit()
    return {"org": org, "project": project, "invitation": invitation, "worker": make_user("worker", org)}


# --- headers ---------------------------------------------------------------------------------------

def test_no_page_hands_a_link_to_another_site_or_a_cache(client_for, client, resident):
    slug, code = resident["project"].slug, resident["invitation"].code
    worker = client_for(resident["worker"].email)
    staff = [worker.get(url) for url in ("/", f"/projects/{slug}", f"/projects/{slug}/participants",
                                         f"/projects/{slug}/participants/{code}")]
    residents = [client.get(f"/q/{resident['invitation'].token}"), client.get(f"/a/{resident['project'].anonymous_token}")]
    for response in staff + residents + [client.get("/login")]:
        assert response.status_code == 200, response.request.path
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store", response.request.path
    static = client.get("/static/surveyhub.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")
    assert static.headers["Referrer-Policy"] == "no-referrer"
    static.close()


def test_plain_http_sets_no_secure_cookie_and_no_hsts(client, resident):
    page = client.get("/login")
    response = client.post("/login", data={"csrf_token": csrf_token(page.text), "email": resident["worker"].email,
                                           "password": "correct horse battery"})
    assert response.status_code == 302
    assert "Strict-Transport-Security" not in response.headers
    assert all("Secure" not in cookie for cookie in response.headers.getlist("Set-Cookie"))


@pytest.fixture
def https_app(app_config):
    from surveyhub import create_app

    application = create_app({**app_config, "BASE_URL": "https://surveyhub.example.org"})
    yield application
    application.extensions["surveyhub.db"].engine.dispose()


def test_an_https_base_url_makes_cookies_secure_and_sends_hsts(https_app, make_org, make_user):
    user = make_user("worker", make_org())
    client = https_app.test_client()
    page = client.get("/login", base_url="https://surveyhub.example.org")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    response = client.post("/login", base_url="https://surveyhub.example.org",
                           data={"csrf_token": csrf_token(page.text), "email": user.email,
                                 "password": "correct horse battery", "remember": "y"})
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("; Secure" in cookie for cookie in cookies)
    assert https_app.config["SESSION_COOKIE_SECURE"] and https_app.config["REMEMBER_COOKIE_SECURE"]


# --- behind a proxy ----------------------------------------------------------------------------------

def _source_of_login(app_config, proxies: int, make_org, make_user) -> str | None:
    from surveyhub import create_app

    application = create_app({**app_config, "PROXY_FIX": proxies})
    try:
        user = make_user("worker", make_org(f"Org {proxies}"))
        client = application.test_client()
        headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
        page = client.get("/login", headers=headers)
        client.post("/login", headers=headers, data={"csrf_token": csrf_token(page.text), "email": user.email,
                                                      "password": "correct horse battery"})
        with application.extensions["surveyhub.db"].session() as db:
            return db.scalar(select(AuditEvent.source).where(AuditEvent.action == "auth.login",
                                                             AuditEvent.user_id == user.id))
    finally:
        application.extensions["surveyhub.db"].engine.dispose()


def test_proxy_headers_count_only_when_proxies_are_trusted(app_config, make_org, make_user):
    assert _source_of_login(app_config, 0, make_org, make_user) == "127.0.0.1"  # a client cannot fake its address
    assert _source_of_login(app_config, 1, make_org, make_user) == "203.0.113.9"


# --- logs --------------------------------------------------------------------------------------------

def test_masking_keeps_the_route_and_hides_the_secret():
    token = secrets.token_urlsafe(24)
    assert mask(f'"GET /q/{token}/p/2?x=1 HTTP/1.1" 200') == '"GET /q/***/p/2?x=1 HTTP/1.1" 200'
    assert mask(f"Exception on /a/{token} [POST]") == "Exception on /a/*** [POST]"
    assert mask(f"/reset/{token}") == "/reset/***"
    assert mask('"GET /k/K7P2-9XMC HTTP/1.1" 302') == '"GET /k/*** HTTP/1.1" 302'  # a short code is a secret too
    assert mask("/login?next=%2Fk%2Fk7p29xmc") == "/login?next=%2Fk%2F***"
    assert mask(f"/login?next=%2Fq%2F{token}%2Fdone") == "/login?next=%2Fq%2F***%2Fdone"
    assert mask(f"/verify?token={token}&x=1") == "/verify?token=***&x=1"
    assert mask(f"[parameters: ('{token}', 3)]") == "[parameters: ('***', 3)]"
    assert mask("/projects/buurttuin/participants/R-4K7P2") == "/projects/buurttuin/participants/R-4K7P2"


def test_a_bare_token_is_hidden_whatever_characters_it_happens_to_have():
    # A token with no digit (about 1 in 230) once slipped through a traceback in CI.
    for token in ("LtyydFdSYwsNmlXOtULI-UvEtQCeORow", "ltyydfdsywsnmlxotuli-uvetqceo7ow", "LTYYDFDSYWS-NMLXOTULI9UVETQCEORO"):
        assert mask(f"while reading ({token})") == "while reading (***)"
    assert mask("d41d8cd98f00b204e9800998ecf8427e") == "***"  # a hex digest of that length goes too
    for word in ("test_an_exception_on_a_resident_", "an_exception_on_a_resident_page_", "Traceback"):
        assert mask(word) == word  # names and words stay readable
    tokens = [secrets.token_urlsafe(24) for _ in range(20_000)]  # a miss is about 1 in 10^11 per token
    assert [t for t in tokens if mask(t) != "***"] == []


def test_an_exception_on_a_resident_page_logs_no_token(app, client, resident, caplog, monkeypatch):
    from surveyhub.services import resident as resident_service

    token = resident["invitation"].token

    def broken(*_args, **_kwargs):
        raise RuntimeError(f"the database went away while reading /q/{token} ({token})")

    monkeypatch.setattr(resident_service, "open_session", broken)  # the one read of a resident request
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: Flask logs the error and answers 500
    with caplog.at_level(logging.ERROR):
        response = client.post(f"/q/{token}", data={"consent": "y"})
    assert response.status_code == 500
    assert "Exception on /q/*** [POST]" in caplog.text
    assert "RuntimeError" in caplog.text  # the traceback is still there, only the secret is gone
    assert token not in caplog.text


def test_werkzeug_request_lines_log_no_token(app, caplog):
    token = secrets.token_urlsafe(24)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('%s - - "%s" %s -', "127.0.0.1", f"GET /q/{token}/p/0 HTTP/1.1", 200)
    assert "/q/***/p/0" in caplog.text and token not in caplog.text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _surveyhub_command() -> list[str]:
    script = Path(sys.executable).with_name("surveyhub")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from surveyhub.cli import main; main()"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_gunicorn_access_log_masks_personal_links(app_config, resident, tmp_path):
    """``surveyhub serve`` for real: the captured access log shows the route, never the token."""
    token, anonymous = resident["invitation"].token, resident["project"].anonymous_token
    short = resident["invitation"].short_code
    port = _free_port()
    env = dict(os.environ, SURVEYHUB_INSTANCE_PATH=app_config["INSTANCE_PATH"],
               SURVEYHUB_DATABASE_URL=app_config["DATABASE_URL"], SURVEYHUB_SECRET_KEY="test-secret",
               SURVEYHUB_BASE_URL=f"http://127.0.0.1:{port}", SURVEYHUB_PLUGINS_DIR="",
               SURVEYHUB_RETENTION_PURGE_DAILY="0")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([*_surveyhub_command(), "serve", "--port", str(port), "--workers", "1"],
                                  env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while _get_or_none(f"http://127.0.0.1:{port}/login") is None:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
            assert _get(f"http://127.0.0.1:{port}/q/{token}") == 200
            assert _get(f"http://127.0.0.1:{port}/q/{token}/p/0?token={token}") in (200, 302)
            assert _get(f"http://127.0.0.1:{port}/a/{anonymous}") == 200
            assert _get(f"http://127.0.0.1:{port}/k/{short[:4]}-{short[4:]}") == 200  # redirected to /q/<token>
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    captured = log.read_text()
    assert '"GET /q/*** HTTP/1.1" 200' in captured, captured  # the access log is there ...
    assert '"GET /a/*** HTTP/1.1" 200' in captured, captured
    assert '"GET /k/*** HTTP/1.1" 302' in captured, captured
    assert token not in captured and anonymous not in captured  # ... without the secrets
    assert short not in captured and f"{short[:4]}-{short[4:]}" not in captured


def _get_or_none(url: str) -> int | None:
    try:
        return _get(url)
    except OSError:
        return None


# --- staff views of a link ------------------------------------------------------------------------------

def test_a_staff_view_of_a_personal_link_is_audited_without_the_token(client_for, session, resident):
    slug, code = resident["project"].slug, resident["invitation"].code
    worker = client_for(resident["worker"].email)
    assert worker.get(f"/projects/{slug}/participants/{code}").status_code == 200
    events = session.execute(select(AuditEvent.action, AuditEvent.target, AuditEvent.actor, AuditEvent.details)
                             .where(AuditEvent.action == "participant.view_link")).all()
    session.commit()
    assert [(e.action, e.target, e.actor) for e in events] == [
        ("participant.view_link", f"project:{slug}/{code}", resident["worker"].email)]
    assert resident["invitation"].token not in repr(events)


# --- mailto ----------------------------------------------------------------------------------------------

def test_a_crafted_e_mail_address_cannot_add_a_recipient(client_for, resident):
    slug, code = resident["project"].slug, resident["invitation"].code
    page = client_for(resident["worker"].email).get(f"/projects/{slug}/participants/{code}")
    [href] = [html.unescape(h) for h in re.findall(r'href="(mailto:[^"]*)"', page.text)]
    parts = urlsplit(href)
    assert unquote(parts.path) == "a@b.nl?bcc=evil@x.nl&cc=spy@x.nl"  # one (undeliverable) address
    assert "?" not in parts.path and "&" not in parts.path
    query = parse_qs(parts.query)
    assert set(query) == {"subject", "body"}  # no bcc, no cc
    assert resident["invitation"].token in query["body"][0]  # the link itself is still in the message
