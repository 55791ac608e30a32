"""Benchmark: typing one 30-question paper form, page by page (the old way) and in the grid.

A real Chromium (Playwright, the system one at ``/usr/bin/chromium`` or ``SURVEYHUB_CHROMIUM``)
drives both ways with the keyboard only, on a live SurveyHub in a temporary folder, for a fresh
resident each run. The form: organising, network, conversation and confidence (statements, two
open questions, a 0–10 row) plus two of the project's own questions (a number, yes or no): 30
questions. The same answers go into both ways and must be stored alike.

Printed per way: machine seconds (median of ``--runs``, default 5), the keys pressed, the clicks
a mouse user needs, and the human time those take (``KEY_SECONDS`` per key, ``CLICK_SECONDS``
per click; the words of an open answer count as typing in both ways, one key per character),
then the ratios grid / old. Target: under two minutes of human time for the grid.

    .venv/bin/python bench/paper_entry.py [--runs 5]

Only loopback addresses are used; the temporary folder is removed at the end.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = os.environ.get("SURVEYHUB_CHROMIUM", "/usr/bin/chromium")
INSTRUMENTS = ["organising", "network", "conversation", "confidence"]
EMAIL, PASSWORD = "papier@bench.example", "bench-password-123"
#: Human time per key pressed and per mouse click (a worker reading the paper form beside the screen).
KEY_SECONDS, CLICK_SECONDS = 0.6, 1.5
TARGET_SECONDS = 120
WORDS = "Buurt"
MAX_TABS = 60


def answer_for(kind: str, index: int) -> str:
    """The same paper in both ways: the ticked box (1–5), 7 on a 0–10 row, 12, yes, a word."""
    return {"choice": str(1 + index % 5), "scale": "7", "number": "12", "yes_no": "1"}.get(kind, WORDS)


class Site:
    """SurveyHub in a temporary folder, served from a thread; a project, a worker, residents."""

    def __init__(self):
        from werkzeug.serving import make_server

        from surveyhub import create_app
        from surveyhub.services import access, accounts, projects, schema_state

        self.folder = Path(tempfile.mkdtemp(prefix="surveyhub-bench-paper-"))
        self.app = create_app({"INSTANCE_PATH": str(self.folder), "SECRET_KEY": "bench", "PLUGINS_DIR": "",
                               "BASE_URL": "http://127.0.0.1"})
        schema_state.upgrade(self.app.extensions["surveyhub.db"])
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from surveyhub.plugins import get_registry

        with self.db() as session:
            org = accounts.create_organisation(session, "Buurtwerk Bench")
            accounts.create_user(session, org.id, EMAIL, "worker", PASSWORD)
            self.actor = access.Actor(organisation_id=org.id, role="admin")
            self.slug = projects.create_project(session, get_registry(self.app), self.actor, "Buurttuin",
                                                INSTRUMENTS).slug
            projects.add_question(session, self.actor, self.slug, "number", "Hoeveel buren ken je bij naam?",
                                  None, 0, 50)
            projects.add_question(session, self.actor, self.slug, "yes_no", "Doe je volgend jaar weer mee?", None)
            session.commit()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def db(self):
        return self.app.extensions["surveyhub.db"].session()

    def resident(self) -> str:
        from surveyhub.services import participants

        with self.db() as session:
            [invitation] = participants.add_participants(session, self.actor, self.slug, entries=[(None, None)])
            session.commit()
        return invitation.code

    def stored(self, code: str) -> dict:
        from sqlalchemy import select

        from surveyhub.models import Answer, Participant, Response

        with self.db() as session:
            rows = session.execute(select(Answer.block, Answer.instrument_id, Answer.item_id, Answer.value_num,
                                          Answer.value_text).join(Response).join(Participant)
                                   .where(Participant.code == code)).all()
        return {(b, i, item): text if text is not None else num for b, i, item, num, text in rows}

    def close(self):
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.app.extensions["surveyhub.db"].engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)


class Keys:
    """The keyboard of one page, counting every key pressed (the characters of typed text too)."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def press(self, key: str, times: int = 1):
        for _ in range(times):
            self.page.keyboard.press(key)
        self.count += times

    def type(self, text: str):
        self.page.keyboard.type(text)
        self.count += len(text)

    def active(self) -> dict:
        return self.page.evaluate("""() => { const el = document.activeElement;
            return {name: el.name || null, type: el.type || null, kind: el.dataset.kind || null,
                    text: (el.innerText || '').trim(), value: el.value === undefined ? null : el.value}; }""")

    def tab_to(self, wanted) -> dict:
        for _ in range(MAX_TABS):
            self.press("Tab")
            active = self.active()
            if wanted(active):
                return active
        raise RuntimeError("not reachable with Tab")


def log_in(page, url: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("E-mailadres").fill(EMAIL)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda current: "/login" not in current)


def old_way(page, site: Site, code: str) -> tuple[int, int, int]:
    """The page-by-page screens: (keys, clicks a mouse user needs, questions)."""
    base = f"{site.url}/projects/{site.slug}/participants/{code}/paper/pre"
    page.goto(base)
    keys = Keys(page)
    keys.tab_to(lambda a: a["name"] == "consent")
    keys.press("Space")
    keys.tab_to(lambda a: a["type"] == "submit")
    with page.expect_navigation():
        keys.press("Enter")
    clicks, questions, index = 2, 0, 0
    while "/p/" in page.url:
        for question in page.eval_on_selector_all(".question", "els => els.map(e => e.id.slice(2))"):
            radios = page.eval_on_selector_all(f"input[type=radio][name='{question}']", "els => els.map(e => e.value)")
            active = keys.tab_to(lambda a, q=question: a["name"] == q)
            if radios:
                kind = "scale" if radios[0] == "0" or len(radios) > 5 else (
                    "yes_no" if set(radios) == {"0", "1"} else "choice")
                wanted = answer_for(kind, index)
                position = radios.index("1" if kind == "yes_no" else wanted) if kind != "choice" else int(wanted) - 1
                keys.press("Space") if position == 0 else keys.press("ArrowDown", position)
            else:
                keys.type(answer_for("number" if active["type"] == "text" else "text", index))
            clicks += 1
            questions += 1
            index += 1
        keys.tab_to(lambda a: a["type"] == "submit" and a["name"] == "move" and a["value"] == "next")
        clicks += 1
        with page.expect_navigation():
            keys.press("Enter")
    return keys.count, clicks, questions


def grid_way(page, site: Site, code: str) -> tuple[int, int, int]:
    """The grid: (keys, clicks a mouse user needs, questions)."""
    page.goto(f"{site.url}/projects/{site.slug}/participants/{code}/paper/pre/grid")
    keys = Keys(page)
    keys.press("Space")  # the consent box has the focus
    keys.press("Tab", 2)
    names = page.eval_on_selector_all(".cell input, .cell textarea", "els => els.map(e => e.name)")
    for index, name in enumerate(names):
        active = keys.active()
        assert active["name"] == name, (name, active)
        keys.type(answer_for(active["kind"], index))
        if keys.active()["name"] == name:
            keys.press("Tab")
    keys.press("Enter")  # Check: the summary, Save has the focus
    with page.expect_navigation():
        keys.press("Enter")
    return keys.count, 3, len(names)  # a mouse user clicks consent, Check and Save (and types the rest)


def main() -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"paper_entry: Chromium not found at {CHROMIUM}; skipped")
        return 0
    site = Site()
    results: dict[str, dict] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.set_default_timeout(15_000)
            log_in(page, site.url)
            stored = {}
            for name, way in (("old pages", old_way), ("grid", grid_way)):
                seconds = []
                for _ in range(args.runs):
                    code = site.resident()
                    started = time.perf_counter()
                    keys, clicks, questions = way(page, site, code)
                    seconds.append(time.perf_counter() - started)
                    stored[name] = site.stored(code)
                results[name] = {"seconds": statistics.median(seconds), "keys": keys, "clicks": clicks,
                                 "questions": questions}
            browser.close()
    finally:
        site.close()
    if stored["old pages"] != stored["grid"]:
        print("paper_entry: the two ways stored different answers")
        return 1
    print(f"One paper form of {results['grid']['questions']} questions, keyboard only "
          f"(human time: {KEY_SECONDS} s a key, {CLICK_SECONDS} s a click)")
    print(f"{'way':<10} {'machine s':>9} {'keys':>5} {'human s (keys)':>15} {'clicks':>7} {'human s (mouse)':>16}")
    for name, r in results.items():
        r["human"] = r["keys"] * KEY_SECONDS
        r["mouse"] = r["clicks"] * CLICK_SECONDS + (
            (r["keys"] - 3) * KEY_SECONDS if name == "grid" else len(WORDS) * 2 * KEY_SECONDS + 2 * KEY_SECONDS)
        print(f"{name:<10} {r['seconds']:>9.2f} {r['keys']:>5} {r['human']:>15.0f} {r['clicks']:>7} "
              f"{r['mouse']:>16.0f}")
    old, grid = results["old pages"], results["grid"]
    print(f"ratio grid/old: machine {grid['seconds'] / old['seconds']:.2f}, keys {grid['keys'] / old['keys']:.2f}, "
          f"human time {grid['human'] / min(old['human'], old['mouse']):.2f} (against the old way's faster of "
          f"keyboard and mouse)")
    verdict = "met" if grid["human"] < TARGET_SECONDS else "NOT met"
    print(f"target under {TARGET_SECONDS} s of human time for the grid: {verdict} ({grid['human']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
