"""A project run end to end with only an API token: no login, no browser.

The steps are those of ``docs/examples/api_walkthrough.py``, run through its own functions over
HTTP against the app served on a loopback port (on SQLite and on PostgreSQL). Residents answer
in between through their personal links, as residents do.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.test_questionnaire import Resident, finish_wave

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "examples" / "api_walkthrough.py"
#: Six residents' answers (every item of the wave) before and after: they grow by 1 to 3 points.
PRE, POST = ["2", "2", "3", "2", "3", "2"], ["4", "5", "4", "4", "5", "5"]


def load_walkthrough():
    spec = importlib.util.spec_from_file_location("api_walkthrough", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def served(app):
    """The test's app (and database) served over HTTP on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="api-end-to-end", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=30)
        server.server_close()


def answer_through_links(app, links: list[str], values: list[str], *, first: bool) -> None:
    """Each resident opens their own link on their own phone (a test client) and answers the open wave."""
    for link, value in zip(links, values):
        resident = Resident(app.test_client(), link.rsplit("/q/", 1)[1])
        if first:
            resident.consent()
        finish_wave(resident, value)


def expected_change(app, instrument: str) -> float:
    """The mean change when every item is answered alike: a reverse item (agree5, 1 to 5) counts 6 − v."""
    from surveyhub.plugins import get_registry

    [scale] = get_registry(app).get(instrument).definition["scales"]
    items = scale["items"]
    reverse = sum(1 for item in items if item.get("reverse"))
    per_point = (len(items) - 2 * reverse) / len(items)
    return per_point * sum(int(b) - int(a) for a, b in zip(PRE, POST)) / len(PRE)


def test_an_answer_lost_on_the_way_back_is_retried_without_adding_anyone_twice(app, served, org, make_api_token,
                                                                               monkeypatch):
    """The server adds the residents, but the script never hears back (a timeout): it sends the same
    request with the same Idempotency-Key again and gets the residents the first try added."""
    walk = load_walkthrough()
    client = walk.Client(served, make_api_token(org, scopes=("projects:manage", "outcomes:read")))
    slug = walk.create_project(client, "Buurttuin West", ["organising"])["slug"]
    send, keys = client._send, []

    def answer_lost_once(method, path, body, key, query):
        keys.append(key)
        result = send(method, path, body, key, query)
        if len(keys) == 1:
            raise TimeoutError("the answer never came")
        return result

    monkeypatch.setattr(client, "_send", answer_lost_once)
    monkeypatch.setattr(walk.time, "sleep", lambda seconds: None)
    added = walk.add_residents(client, slug, [{"display_name": "Fatima"}, {}])
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0]
    everyone = walk.residents(client, slug)
    assert sorted(r["code"] for r in everyone) == sorted(one["code"] for one in added) and len(everyone) == 2


def test_a_script_with_a_token_runs_a_project_end_to_end(app, served, org, make_api_token, capsys):
    walk = load_walkthrough()
    client = walk.Client(served, make_api_token(org, scopes=("projects:manage", "outcomes:read")))

    project = walk.create_project(client, "Buurttuin Oost", ["organising"])
    slug = project["slug"]
    added = walk.add_residents(client, slug, [{"display_name": "Fatima", "email": "fatima@example.org"},
                                              *({} for _ in range(5))])
    links = [walk.link_of(client, slug, one["code"]) for one in added]
    assert links == [one["link"] for one in added] and len(set(links)) == 6

    assert walk.set_wave(client, slug, "pre", "open")["status"] == "open"  # open since creation: unchanged
    answer_through_links(app, links, PRE, first=True)
    assert walk.show_status(client, slug)["pre"] == {"not_started": 0, "busy": 0, "done": 6}

    assert walk.set_wave(client, slug, "pre", "close")["completed"] == 6
    assert walk.set_wave(client, slug, "post", "open")["status"] == "open"
    answer_through_links(app, links[:5], POST[:5], first=False)
    assert walk.show_status(client, slug)["post"] == {"not_started": 1, "busy": 0, "done": 5}
    answer_through_links(app, links[5:], POST[5:], first=False)
    assert walk.set_wave(client, slug, "post", "close") == {"kind": "post", "status": "closed", "started": 6,
                                                            "completed": 6}

    states = {r["code"]: r["status"] for r in walk.residents(client, slug)}
    assert all(s == {"pre": "done", "post": "done", "followup": "not_started"} for s in states.values())
    assert set(states) == {one["code"] for one in added}

    report = walk.show_report(client, slug)
    assert report["participation"]["paired"] == 6 and report["participation"]["match_rate"] == 1.0
    [scale] = [s for s in report["scales"] if s["scale"] == "organising"]
    assert scale["n_pairs"] == 6 and scale["change"]["mean"] == pytest.approx(expected_change(app, "organising"))

    printed = capsys.readouterr().out
    assert f"Created project {slug}" in printed and "the post wave is closed" in printed
    assert "6 residents answered before and after" in printed


def test_the_script_reports_a_problem_in_words(app, served, org, make_api_token, capsys, monkeypatch):
    walk = load_walkthrough()
    monkeypatch.setenv("SURVEYHUB_URL", served)
    monkeypatch.setenv("SURVEYHUB_TOKEN", make_api_token(org, scopes=("outcomes:read",)))
    assert walk.main(["setup", "Buurttuin", "--instrument", "organising"]) == 1
    assert "403" in capsys.readouterr().err
    monkeypatch.setenv("SURVEYHUB_TOKEN", "shk_not-a-real-token")
    assert walk.main(["status", "nope"]) == 1
    assert "401" in capsys.readouterr().err


def test_the_script_needs_its_settings(monkeypatch, capsys):
    monkeypatch.delenv("SURVEYHUB_URL", raising=False)
    assert load_walkthrough().main(["status", "x"]) == 2
    assert "SURVEYHUB_URL" in capsys.readouterr().err


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")
