"""Two app servers on one database and one Redis behave as one: residents move between them freely,
limits count on both, and a plugin problem seen by one shows on the other (issue 13, point 3)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, select

from tests.multinode.cluster import Browser, answer_for, csrf, flush, log_in, stored
from tests.multinode.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, TOKEN_MISSES, World

pytestmark = pytest.mark.multinode


def fill_in(world: World, browser: Browser, token: str, resident: int, pages: int) -> dict:
    """Consent and ``pages`` pages, every page fetched from one server and sent to the other;
    returns what the servers said was saved: {(token, field): value}."""
    nodes = (world.a, world.b)
    status, _location, page = browser.request(nodes[resident % 2], "GET", f"/q/{token}")
    assert status == 200, (status, page[:300])
    status, location, page = browser.request(nodes[(resident + 1) % 2], "POST", f"/q/{token}",
                                             {"csrf_token": csrf(page), "consent": "y"})
    assert status == 302 and location.endswith("/p/0"), (status, location, page[:300])
    confirmed = {}
    for n in range(pages):
        shown, saving = nodes[(resident + n) % 2], nodes[(resident + n + 1) % 2]
        status, _location, page = browser.request(shown, "GET", f"/q/{token}/p/{n}")
        assert status == 200, (shown.name, n, status, page[:300])
        answers = {name: answer_for(kind, name, resident) for name, kind in world.pages[n]}
        status, location, page = browser.request(saving, "POST", f"/q/{token}/p/{n}",
                                                 {"csrf_token": csrf(page), "move": "next", **answers})
        assert status == 302, (saving.name, n, status, page[:500])
        confirmed.update({(token, name): stored(answers[name], kind) for name, kind in world.pages[n]})
    return confirmed


def stored_answers(world: World) -> dict:
    from surveyhub.models import Answer, Response, Token

    engine = create_engine(world.cluster.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Token.token, Answer.block, Answer.instrument_id, Answer.item_id,
                                       Answer.value_num, Answer.value_text)
                                .join(Response, Response.participant_id == Token.participant_id)
                                .join(Answer, Answer.response_id == Response.id)).all()
    finally:
        engine.dispose()
    return {(token, f"{block}__{instrument}__{item}"): (text if text is not None else number)
            for token, block, instrument, item, number, text in rows}


def test_fifty_residents_saving_pages_through_both_servers_lose_no_answer(world):
    pages = len(world.pages) - 1  # the last page would finish the questionnaire (the plugin test does that)
    assert pages >= 2
    confirmed: dict = {}
    lock = threading.Lock()

    def resident(number: int) -> None:
        browser = Browser()
        try:
            saved = fill_in(world, browser, world.tokens[number], number, pages)
        finally:
            browser.close()
        with lock:
            confirmed.update(saved)

    with ThreadPoolExecutor(max_workers=10) as pool:
        for future in [pool.submit(resident, n) for n in range(len(world.tokens))]:
            future.result()
    assert len(world.tokens) == 50
    in_database = stored_answers(world)
    lost = {key: value for key, value in confirmed.items() if in_database.get(key) != value}
    assert len(confirmed) == 50 * sum(len(world.pages[n]) for n in range(pages))
    assert not lost, f"{len(lost)} of {len(confirmed)} answers lost, e.g. {list(lost.items())[:3]}"


def test_guessed_links_count_on_both_servers_together(world):
    """``TOKEN_RATE_LIMIT`` misses per address: those on server a count on server b, and the other way."""
    flush(world.cluster.limits_url)
    browser = Browser()
    try:
        nodes = (world.a, world.b)
        statuses = [browser.request(nodes[n % 2], "GET", f"/q/geraden-{n}")[0] for n in range(TOKEN_MISSES + 2)]
    finally:
        browser.close()
        flush(world.cluster.limits_url)  # the other tests visit from the same address
    assert statuses == [404] * TOKEN_MISSES + [429, 429]


def test_a_plugin_problem_seen_by_one_server_shows_on_the_other(world):
    """A resident finishes on server a, whose plugin's webhook is down; b's plugins page shows it."""
    browser = Browser()
    token = world.finishers[0]
    try:
        status, _location, page = browser.request(world.a, "GET", f"/q/{token}")
        status, location, page = browser.request(world.a, "POST", f"/q/{token}", {"csrf_token": csrf(page),
                                                                                 "consent": "y"})
        for n, fields in enumerate(world.pages):
            status, _location, page = browser.request(world.a, "GET", f"/q/{token}/p/{n}")
            answers = {name: answer_for(kind, name, 7) for name, kind in fields}
            status, location, page = browser.request(world.a, "POST", f"/q/{token}/p/{n}",
                                                     {"csrf_token": csrf(page), "move": "next", **answers})
            assert status == 302, (n, status, page[:500])
        assert location.endswith("/done"), location
    finally:
        browser.close()

    admin = Browser()
    try:
        log_in(admin, world.b, ADMIN_EMAIL, ADMIN_PASSWORD)
        deadline = time.monotonic() + 60  # server a stores the problem from a thread of its own
        while True:
            status, _location, page = admin.request(world.b, "GET", "/admin/plugins")
            assert status == 200, page[:500]
            if "hooks.buurtwerk.test/done is unreachable" in page or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        admin.close()
    assert "webhook_down" in page
    assert "webhook https://hooks.buurtwerk.test/done is unreachable" in page
