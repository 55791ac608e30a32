"""Plugins that hang, crash, exit or collide never cost a resident a page or an answer, nor the app its start.

Findings reproduced here: a completion hook that hangs held the resident's last
page (30.9 s, then a 500, although the answers were saved); a question type
whose ``code()`` crashes dropped that item's answer without a word; a plugin's
run-time error showed on the admin page only in the worker process that saw
it; a plugin calling ``sys.exit()`` at import, or registering an instrument id
and version that already exists, stopped the app from starting.

The test plugins are in ``tests/plugins/robustness.py`` and
``tests/plugins/folder_exit/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from surveyhub import create_app
from surveyhub.plugins import get_host, get_registry
from surveyhub.measures.yaml_loader import load_instrument_file
from surveyhub.models import Answer, PluginProblem, Response
from tests.plugins.contract import CompletedRecorder
from tests.plugins.failing import DuplicateOrganising, RaisingListener
from tests.plugins.robustness import (BrokenQuestionType, ExitingListener, ExitsInAHook, ExitsWhenRegistered,
                                      HangingListener, HangingQuestionType, HangingScoring)
from tests.test_plugin_manager import plugin_rows
from tests.test_questionnaire import ParsedPage, Resident, key

ROOT = Path(__file__).resolve().parents[1]
EXIT_FOLDER = Path(__file__).with_name("plugins") / "folder_exit"
ORGANISING = ROOT / "instruments" / "organising.yaml"
BUDGET = 0.5  # the hook budget these tests run with (the default is 2 s)
# No test here times a page: a hanging plugin waits up to 60 s for its release, so a page that came back while
# the plugin's call has still not returned cannot have waited for it. The problem message names the budget.


@pytest.fixture
def hanging():
    plugin = HangingListener()
    yield plugin
    plugin.release.set()  # let the hung thread end with the test


@pytest.fixture
def recorder():
    return CompletedRecorder()


@pytest.fixture
def slow_scoring():
    plugin = HangingScoring()
    yield plugin
    plugin.release.set()


@pytest.fixture
def slow_type():
    plugin = HangingQuestionType()
    yield plugin
    plugin.release.set()


@pytest.fixture
def app_config(app_config, hanging, recorder, slow_scoring, slow_type):
    return {**app_config, "PLUGIN_HOOK_TIMEOUT": BUDGET, "EXTRA_PLUGINS": {
        "tests.hanging": hanging, "tests.recorder": recorder, "tests.broken_type": BrokenQuestionType(),
        "tests.slow_scoring": slow_scoring, "tests.slow_type": slow_type}}


@pytest.fixture
def start_app(tmp_path):
    """An app without a database: plugins and the registry are built in ``create_app``."""
    started = []

    def start(**settings):
        config = {"INSTANCE_PATH": str(tmp_path / f"bare{len(started)}"), "SECRET_KEY": "test", "PLUGINS_DIR": "",
                  **settings}
        started.append(create_app(config))
        return started[-1]

    yield start
    for app in started:
        app.extensions["surveyhub.db"].engine.dispose()


def stored(app) -> dict[tuple[str, str], PluginProblem]:
    get_host(app).problems.flush()
    with app.extensions["surveyhub.db"].session() as session:
        return {(p.plugin, p.hook): p for p in session.scalars(select(PluginProblem))}


def pages_of(resident: Resident) -> int:
    page = resident.open("/p/0")
    return int(re.search(r'<progress max="(\d+)"', page.text).group(1))


# --- a hanging completion hook -------------------------------------------------------------------------

def test_a_hanging_completion_hook_does_not_hold_up_the_last_page(app, client, make_org, make_project,
                                                                  make_participant, hanging, recorder):
    org = make_org()
    info = make_project(org)
    resident = Resident(client, make_participant(org, info.slug).token)
    resident.consent()
    last = pages_of(resident) - 1
    for n in range(last):
        page = resident.open(f"/p/{n}")
        assert resident.submit(n, {name: "4" for name in ParsedPage(page.text).questions}).status_code == 302
    page = resident.open(f"/p/{last}")
    answers = {name: "4" for name in ParsedPage(page.text).questions if not name.endswith("proud_of")}
    done = resident.submit(last, answers)
    assert done.status_code == 302 and done.headers["Location"].endswith("/done")
    assert hanging.returned == 0, "the last page waited for the hanging hook"
    assert hanging.calls == 1 and len(recorder.events) == 1  # the other plugin still got the event
    with app.extensions["surveyhub.db"].session() as session:
        response = session.scalar(select(Response))
        assert response.status == "completed"
        assert {a.item_id for a in response.answers} >= {f"org_{n}" for n in range(1, 8)}
    problem = stored(app)[("tests.hanging", "surveyhub_response_completed")]
    assert problem.count == 1
    assert problem.message == f"surveyhub_response_completed did not finish within {BUDGET:g} s; SurveyHub went on " \
                              "without it"
    assert get_host(app).statuses["tests.hanging"].status == "error"
    assert get_host(app).statuses["tests.recorder"].status == "ok"


def test_a_plugin_that_keeps_hanging_is_skipped_instead_of_piling_up_threads(app, hanging):
    host = get_host(app)
    event = {"project": "x", "wave": "pre", "participant": "R-1", "answers": {}, "scores": {}, "entered_by": None}
    for _ in range(6):
        host.call_bounded("surveyhub_response_completed", timeout=0.05, response=event)
    assert hanging.calls == 4  # MAX_OVERDUE_CALLS; the later calls were skipped at once
    assert "earlier calls have not finished yet" in host.statuses["tests.hanging"].last_error
    assert stored(app)[("tests.hanging", "surveyhub_response_completed")].count == 6


def test_sys_exit_in_a_run_time_hook_is_reported_not_obeyed(start_app):
    app = start_app(EXTRA_PLUGINS={"tests.exiting": ExitingListener()})
    results = get_host(app).call_bounded("surveyhub_response_completed", response={})
    assert results == []
    assert get_host(app).statuses["tests.exiting"].last_error == (
        "surveyhub_response_completed raised the plugin called sys.exit('webhook gave up')")


def test_a_scoring_method_that_hangs_costs_the_resident_no_more_than_its_budget(app, client, make_org, make_project,
                                                                               make_participant, slow_scoring):
    org = make_org()
    info = make_project(org, instruments=("traagmeter",))
    resident = Resident(client, make_participant(org, info.slug).token)
    resident.consent()
    sent = resident.submit(0, {key("tm_1", "traagmeter"): "3", key("tm_2", "traagmeter"): "1"})
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/done")
    # scored once when the page is saved and once when the wave completes: neither call has returned yet
    assert slow_scoring.calls == 2 and slow_scoring.returned == 0, "the page waited for the scoring method"
    with app.extensions["surveyhub.db"].session() as session:
        response = session.scalar(select(Response))
        assert response.status == "completed" and len(response.answers) == 2
        assert [(s.scale_id, s.score) for s in response.scores] == [("slow", None)]
    problem = stored(app)[("tests.slow_scoring", "scoring method norms_lookup")]
    assert problem.message == "scoring method 'norms_lookup' raised TimeoutError: did not finish within 0.5 s"
    registry = get_registry(app)
    assert registry.bounded_scoring_methods["norms_lookup"] is not registry.scoring_methods["norms_lookup"]
    assert registry.bounded_scoring_methods["mean"] is registry.scoring_methods["mean"]  # built-ins run as they are


# --- a question type that crashes ---------------------------------------------------------------------------

def test_a_crashing_question_type_keeps_the_answer_and_tells_the_admin(app, client, make_org, make_project,
                                                                         make_participant, make_user, login):
    org = make_org()
    info = make_project(org, instruments=("buurtwens",))
    resident = Resident(client, make_participant(org, info.slug).token)
    resident.consent()
    wish = key("bw_wish", "buurtwens")
    # The statements first; the instrument's own question comes last, under "Tot slot".
    assert resident.submit(0, {key("bw_1", "buurtwens"): "3", key("bw_2", "buurtwens"): "2"}).status_code == 302
    page = resident.open("/p/1")
    assert wish in ParsedPage(page.text).questions
    sent = resident.submit(1, {wish: "Een bankje bij de speeltuin"})
    assert sent.status_code == 302
    with app.extensions["surveyhub.db"].session() as session:
        answers = {a.item_id: (a.value_num, a.value_text) for a in session.scalars(select(Answer))}
    assert answers["bw_wish"] == (None, "Een bankje bij de speeltuin")  # kept as sent, not dropped
    assert answers["bw_1"] == (3.0, None) and answers["bw_2"] == (2.0, None)
    problem = stored(app)[("tests.broken_type", "question type wish_text")]
    assert "question type 'wish_text' failed on item 'bw_wish' (AttributeError: " in problem.message
    assert "the answer was kept as the text sent" in problem.message
    assert "bankje" not in problem.message  # an answer never goes into a report or log line
    with app.extensions["surveyhub.db"].session() as session:  # the page was the last: the wave is done
        response = session.scalar(select(Response))
        assert response.status == "completed"
        assert [(s.scale_id, s.score) for s in response.scores] == [("wish", 2.5)]


def test_a_question_type_that_hangs_keeps_the_answer_and_the_page_moves_on(app, client, make_org, make_project,
                                                                          make_participant, slow_type):
    org = make_org()
    info = make_project(org, instruments=("wachtvraag",))
    resident = Resident(client, make_participant(org, info.slug).token)
    resident.consent()
    assert resident.submit(0, {key("wv_1", "wachtvraag"): "3", key("wv_2", "wachtvraag"): "3"}).status_code == 302
    sent = resident.submit(1, {key("wv_wish", "wachtvraag"): "Meer bankjes"})  # last, under "Tot slot"
    assert sent.status_code == 302
    assert slow_type.type.calls >= 1 and slow_type.type.returned == 0, "the page waited for the question type"
    with app.extensions["surveyhub.db"].session() as session:
        answers = {a.item_id: (a.value_num, a.value_text) for a in session.scalars(select(Answer))}
    assert answers == {"wv_1": (3.0, None), "wv_2": (3.0, None), "wv_wish": (None, "Meer bankjes")}
    problem = stored(app)[("tests.slow_type", "question type checked_text")]
    assert "(TimeoutError: did not finish within 0.5 s); the answer was kept as the text sent" in problem.message


def test_a_text_kept_from_a_broken_type_counts_as_unanswered_in_a_score():
    from surveyhub.measures.scoring import coded_values

    scale = {"items": [{"id": "a", "type": "choice"}, {"id": "b", "type": "choice"}]}
    assert coded_values(scale, {"a": 3.0, "b": "drie"}, {}) == {"a": 3.0, "b": None}


# --- start-up -------------------------------------------------------------------------------------------------

def test_a_plugin_that_calls_sys_exit_at_import_is_left_out_and_the_app_starts(start_app):
    app = start_app(PLUGINS_DIR=str(EXIT_FOLDER))
    status = get_host(app).statuses["plugins.exits_at_import"]
    assert (status.status, status.last_error) == ("failed", "import failed: the plugin called sys.exit(3)")
    assert get_host(app).statuses["plugins.fine"].status == "ok"
    assert "first_answer" in get_registry(app).scoring_methods


def test_sys_exit_while_registering_or_in_a_start_up_hook_is_reported(start_app):
    app = start_app(EXTRA_PLUGINS={"tests.exits_registered": ExitsWhenRegistered(),
                                   "tests.exits_in_hook": ExitsInAHook()})
    host = get_host(app)
    assert host.statuses["tests.exits_registered"].status == "failed"
    assert host.statuses["tests.exits_registered"].last_error == "not loaded: the plugin called sys.exit(1)"
    assert host.pm.get_plugin("tests.exits_registered") is None
    assert host.statuses["tests.exits_in_hook"].last_error == (
        "surveyhub_register_scoring_methods raised the plugin called sys.exit(2)")
    assert {"mean", "sum"} <= set(get_registry(app).scoring_methods)


def test_the_command_line_starts_with_a_plugin_that_exits_at_import(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "SURVEYHUB_PLUGINS_DIR": str(EXIT_FOLDER), "SURVEYHUB_INSTANCE_PATH": str(tmp_path / "i")}
    done = subprocess.run([sys.executable, "-c", "from surveyhub.cli import main; main()", "plugins"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "plugins.exits_at_import  [failed]" in done.stdout
    assert "last error: import failed: the plugin called sys.exit(3)" in done.stdout


def test_a_plugin_that_registers_an_existing_instrument_again_is_left_out(start_app):
    copycat = DuplicateOrganising({**load_instrument_file(ORGANISING), "title": {"nl": "Namaak"}})
    app = start_app(EXTRA_PLUGINS={"copycat": copycat})
    registry = get_registry(app)
    assert registry.get("organising", 2).source == str(ORGANISING)  # the first one counts
    assert registry.get("organising", 2).definition["title"]["nl"] != "Namaak"
    status = get_host(app).statuses["copycat"]
    assert status.status == "error"
    assert status.last_error.startswith("instrument not loaded: instrument organising version 2 is registered "
                                        f"twice: by {ORGANISING} and by plugin copycat")
    assert any("registered twice" in error for error in registry.errors)


# --- one status for every process ---------------------------------------------------------------------------

def test_two_app_instances_on_one_database_show_the_same_problem(app, app_config, make_user, login, client):
    other = create_app({**app_config, "INSTANCE_PATH": app_config["INSTANCE_PATH"],
                        "EXTRA_PLUGINS": {**app_config["EXTRA_PLUGINS"], "tests.webhook": RaisingListener()}})
    try:
        event = {"project": "x", "wave": "pre", "participant": "R-1", "answers": {}, "scores": {},
                 "entered_by": None}
        get_host(other).call_bounded("surveyhub_response_completed", timeout=0.2, response=event)
        get_host(other).problems.flush()
        assert get_host(app).statuses.get("tests.webhook") is None  # this process never saw it ...
        admin = make_user("admin")
        login(admin.email)
        rows = plugin_rows(client.get("/admin/plugins").text)
        assert rows["tests.webhook"] == ("error", "surveyhub_response_completed raised ConnectionError: "
                                                  "webhook https://example.org/hook is unreachable")
        assert rows["tests.hanging"][0] == "error"  # ... but shows what the other one stored
        listed = app.test_cli_runner().invoke(args=["plugins"]).output
        assert "problem while running: tests.webhook, surveyhub_response_completed: 1x" in listed
        assert "tests.hanging  [error]  configured" in listed
        cleared = app.test_cli_runner().invoke(args=["plugins", "--clear-problems"]).output
        assert "cleared 2 stored problems" in cleared and "problem while running" not in cleared
        assert "tests.hanging  [ok]  configured" in cleared
    finally:
        other.extensions["surveyhub.db"].engine.dispose()
