"""Real-browser fixtures: one live SurveyHub server and one Chromium for the whole session.

The server is the real app on a SQLite copy of the migrated template database,
served by werkzeug from a background thread on a free loopback port. Each test
makes its own project and residents through the services (``live``), so tests
never share a resident. Chromium is the system one (``/usr/bin/chromium``, or
``SURVEYHUB_CHROMIUM``); without it the browser tests are skipped locally and
fail in CI.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from surveyhub.services import access, accounts, participants, projects
from tests.conftest import missing

CHROMIUM = os.environ.get("SURVEYHUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True,
         "device_scale_factor": 2}


class LiveSite:
    """The running server, and quick ways to arrange what a test needs in its database."""

    def __init__(self, app, url: str):
        self.app, self.url = app, url
        with self.db() as session:
            org = accounts.create_organisation(session, "Buurtwerk Noord")
            session.commit()
        self.actor = access.Actor(organisation_id=org.id, role="admin")

    def db(self):
        return self.app.extensions["surveyhub.db"].session()

    def project(self, instruments=("organising",), retrospective: bool = False, extra_number: bool = False):
        from surveyhub.plugins import get_registry

        with self.db() as session:
            info = projects.create_project(session, get_registry(self.app), self.actor,
                                           f"Buurttuin {uuid.uuid4().hex[:6]}", list(instruments), retrospective)
            if extra_number:
                projects.add_question(session, self.actor, info.slug, "number", "Hoeveel buren ken je bij naam?",
                                      "How many neighbours do you know by name?", 0, 50)
            session.commit()
        return info

    def resident(self, slug: str) -> participants.Invitation:
        with self.db() as session:
            [invitation] = participants.add_participants(session, self.actor, slug, entries=[(None, None)])
            session.commit()
        return invitation

    def set_wave(self, slug: str, kind: str, status: str) -> None:
        with self.db() as session:
            projects.set_wave_status(session, self.actor, slug, kind, status)
            session.commit()

    def query(self, stmt) -> list:
        with self.db() as session:
            return session.execute(stmt).all()

    def scalar(self, stmt):
        with self.db() as session:
            return session.scalar(stmt)

    def link(self, token: str, lang: str | None = None) -> str:
        return f"{self.url}/q/{token}" + (f"?lang={lang}" if lang else "")

    def ui(self, msgid: str, lang: str = "nl", **values) -> str:
        """A user-interface text as the app shows it in ``lang`` (so tests follow the translations)."""
        from flask_babel import gettext
        with self.app.test_request_context(f"/?lang={lang}"):
            return gettext(msgid, **values)


# Package scope: the browser and its event loop end with the browser tests, so later
# tests that run their own asyncio loop (pyhanko's signing) are not affected.
@contextmanager
def serve_site(sqlite_template, instance: Path, name: str, **config):
    """The real app on a copy of the migrated SQLite template in ``instance``, served from a thread
    on a free loopback port until the block ends; ``config`` adds to the test settings."""
    from werkzeug.serving import make_server

    from surveyhub import create_app

    shutil.copy(sqlite_template, instance / "surveyhub.sqlite3")
    # Every browser test logs in from 127.0.0.1: the login budget (10 a minute per address, tested in
    # test_auth) would refuse the later ones of a full run, so this server allows more.
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "browser-tests", "PLUGINS_DIR": "",
                      "BASE_URL": "http://127.0.0.1", "LOGIN_RATE_LIMIT": "1000 per minute", **config})
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield LiveSite(app, url)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.extensions["surveyhub.db"].engine.dispose()


@pytest.fixture(scope="package")
def live(sqlite_template, tmp_path_factory):
    with serve_site(sqlite_template, tmp_path_factory.mktemp("live"), "live-server") as site:
        yield site


@pytest.fixture(scope="package")
def browser():
    if not Path(CHROMIUM).exists():
        missing(f"Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser):
    """Open browser contexts (each a fresh browser profile: no cookies); all closed after the test."""
    opened = []

    def make(**options):
        context = browser.new_context(locale="nl-NL", **options)
        context.set_default_timeout(10_000)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


@pytest.fixture
def phone(new_context):
    """A page on a small phone: 360×740 CSS pixels, touch."""
    return new_context(**PHONE).new_page()


def participant_of(live: LiveSite, token: str) -> int:
    from surveyhub.models import Token
    return live.scalar(select(Token.participant_id).where(Token.token == token))


# --- checks every resident page must pass ---------------------------------------------------------

_LAYOUT_SCRIPT = """() => {
  const small = [];
  let checked = 0;
  const controls = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])');
  for (const el of controls) {
    let target = el;
    if (el.matches('input[type=radio], input[type=checkbox]')) {  // the label is what a thumb hits
      target = el.closest('label') || document.querySelector(`label[for="${el.id}"]`) || el;
    }
    const box = target.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || box.width === 0 || box.height === 0 || box.right <= 0) {
      continue;  // not shown now (the skip link waits off-screen until it gets focus)
    }
    checked += 1;
    if (box.width < 44 || box.height < 44) {
      small.push(`${el.outerHTML.slice(0, 100)} is ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, small, checked};
}"""


def assert_phone_friendly(page, width: int = 360) -> None:
    """No sideways scrolling, and every control a thumb can hit is at least 44×44 CSS pixels."""
    result = page.evaluate(_LAYOUT_SCRIPT)
    assert result["checked"] > 0, f"{page.url}: no controls found to check"
    assert result["scrollWidth"] <= width, f"{page.url} scrolls sideways: {result['scrollWidth']}px wide"
    assert not result["small"], f"{page.url} has small touch targets:\n" + "\n".join(result["small"])


def choose(page, question: str, answer: str, tap: bool = True) -> None:
    """Pick an answer the way a resident does: find the question, then the answer, by their text."""
    from playwright.sync_api import expect

    option = page.get_by_role("group", name=question, exact=True).get_by_role("radio", name=answer, exact=True)
    option.tap() if tap else option.click()
    expect(option).to_be_checked()


def legends(page) -> list[str]:
    return [text.strip() for text in page.locator("fieldset legend").all_inner_texts()]
