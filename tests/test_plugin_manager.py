"""The plugin manager: discovery, contract checks, failure isolation and how failures are shown.

Most tests only start an app (no database): ``start_app`` builds one with the
given settings. Tests that score a response or log in use the ``app`` fixture,
whose settings below load the ``tests/plugins/folder_mixed`` plugins folder
and a scoring method that raises.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pluggy
import pytest
from sqlalchemy import select

import surveyhub.plugins
from surveyhub import create_app
from surveyhub.plugins import get_host, get_registry
from surveyhub.measures.yaml_loader import load_instrument_file
from surveyhub.models import Participant, Response
from surveyhub.services import access, responses
from tests.plugins.contract import CompletedRecorder
from tests.plugins.failing import (DuplicateOrganising, ExplodingScoring, ListScoring, NotCallableScoring,
                                   RaisingListener, StringInstruments)

ROOT = Path(__file__).resolve().parents[1]
FOLDER = Path(__file__).with_name("plugins") / "folder_mixed"
ORGANISING = ROOT / "instruments" / "organising.yaml"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PLUGINS_DIR": str(FOLDER), "EXTRA_PLUGINS": {"exploding": ExplodingScoring()}}


@pytest.fixture
def start_app(tmp_path):
    """Start an app without a database: plugins and the registry are built in ``create_app``."""
    started = []

    def start(**settings):
        config = {"INSTANCE_PATH": str(tmp_path / f"instance{len(started)}"), "SECRET_KEY": "test",
                  "PLUGINS_DIR": "", **settings}
        app = create_app(config)
        started.append(app)
        return app

    yield start
    for app in started:
        app.extensions["surveyhub.db"].engine.dispose()


def status_of(app, name: str):
    return get_host(app).statuses[name]


# --- one manager per app --------------------------------------------------------

def test_each_app_builds_its_own_plugin_manager(start_app):
    recorder = CompletedRecorder()
    first = start_app(EXTRA_PLUGINS={"recorder": recorder}, PLUGINS_DIR=str(FOLDER))
    second = start_app(PLUGINS_DIR=str(FOLDER))
    assert get_host(first).pm is not get_host(second).pm
    assert "recorder" in get_host(first).statuses and "recorder" not in get_host(second).statuses
    # the folder is imported for each app, so no module state is shared between them
    assert get_host(first).pm.get_plugin("plugins.good") is not get_host(second).pm.get_plugin("plugins.good")
    get_host(first).fail("plugins.good", "a failure in the first app", state="error")
    assert status_of(second, "plugins.good").status == "ok"


def test_no_plugin_manager_is_built_at_import_time():
    assert not [value for value in vars(surveyhub.plugins).values() if isinstance(value, pluggy.PluginManager)]


# --- discovery and contract checks at start-up ---------------------------------

def test_a_plugin_that_fails_to_import_is_reported_and_the_others_still_run(start_app):
    app = start_app(PLUGINS_DIR=str(FOLDER))
    broken = status_of(app, "plugins.broken_import")
    assert broken.status == "failed"
    assert broken.last_error.startswith("import failed: ModuleNotFoundError")
    assert "surveyhub_weather_service" in broken.last_error
    good = status_of(app, "plugins.good")
    assert (good.status, good.version, good.hooks) == ("ok", "0.3", ["surveyhub_register_scoring_methods"])
    assert "lowest" in get_registry(app).scoring_methods
    assert get_registry(app).get("organising", 2) is not None  # the built-ins ran too


def test_only_python_modules_not_starting_with_underscore_are_loaded(start_app):
    app = start_app(PLUGINS_DIR=str(FOLDER))
    folder_plugins = {name for name in get_host(app).statuses if name.startswith("plugins.")}
    assert folder_plugins == {"plugins.good", "plugins.broken_import", "plugins.misspelt", "plugins.bad_args",
                              "plugins.raising", "plugins.wrapper"}


def test_a_hook_name_matching_no_spec_is_reported_and_unregistered(start_app):
    app = start_app(PLUGINS_DIR=str(FOLDER))
    misspelt = status_of(app, "plugins.misspelt")
    assert misspelt.status == "failed"
    assert "unknown hook(s): surveyhub_register_instrument " in misspelt.last_error
    assert misspelt.hooks == []
    assert get_host(app).pm.get_plugin("plugins.misspelt") is None
    get_host(app).pm.check_pending()  # nothing unverified is left behind


def test_a_hook_asking_for_unknown_arguments_is_reported(start_app):
    app = start_app(PLUGINS_DIR=str(FOLDER))
    bad_args = status_of(app, "plugins.bad_args")
    assert bad_args.status == "failed"
    assert "{'session'}" in bad_args.last_error and "can not be found in the hookspec" in bad_args.last_error
    assert "\n" not in bad_args.last_error  # one line for the status table
    assert get_host(app).pm.get_plugin("plugins.bad_args") is None
    assert get_host(app).call_isolated("surveyhub_response_completed", response={}) == []


def test_a_hook_wrapper_is_refused_with_the_reason(start_app):
    app = start_app(PLUGINS_DIR=str(FOLDER))
    wrapper = status_of(app, "plugins.wrapper")
    assert wrapper.status == "failed"
    assert "hook wrappers are not supported (surveyhub_register_scoring_methods)" in wrapper.last_error
    assert set(get_registry(app).scoring_methods) == {"mean", "sum", "lowest"}


def test_a_second_plugin_under_a_taken_name_is_refused_and_the_first_keeps_its_status(start_app):
    app = start_app(PLUGINS_DIR=str(FOLDER), EXTRA_PLUGINS={"plugins.good": CompletedRecorder()})
    assert status_of(app, "plugins.good").status == "ok"
    second = status_of(app, "plugins.good (configured)")
    assert second.status == "failed" and f"already used by {FOLDER / 'good.py'}" in second.last_error


# --- failures while hooks run ----------------------------------------------------

def test_a_hook_that_raises_at_start_up_is_an_error_and_the_other_plugins_still_count(start_app):
    app = start_app(PLUGINS_DIR=str(FOLDER))
    raising = status_of(app, "plugins.raising")
    assert raising.status == "error"
    assert raising.last_error == "surveyhub_register_instruments raised RuntimeError: the norms server did not answer"
    assert raising.hooks == ["surveyhub_register_instruments"]  # loaded; only its call failed
    assert {loaded.id for loaded in get_registry(app).all()} >= {"organising", "confidence", "network"}


@pytest.mark.parametrize("raising_first", [True, False], ids=["raising-registered-first", "raising-registered-last"])
def test_a_hook_that_raises_at_run_time_does_not_stop_the_others(start_app, raising_first):
    recorder = CompletedRecorder()
    plugins = {"webhook": RaisingListener(), "recorder": recorder}
    app = start_app(EXTRA_PLUGINS=plugins if raising_first else dict(reversed(plugins.items())))
    event = {"project": "buurttuin", "wave": "pre", "participant": "R-ABCDE", "answers": {"organising.org_1": 4.0},
             "scores": {"organising.organising": None}, "entered_by": None}
    results = get_host(app).call_isolated("surveyhub_response_completed", response=event)
    assert results == [("recorder", None)]
    assert recorder.events == [event]
    webhook = status_of(app, "webhook")
    assert webhook.status == "error"
    assert webhook.last_error == ("surveyhub_response_completed raised ConnectionError: "
                                  "webhook https://example.org/hook is unreachable")
    assert status_of(app, "recorder").status == "ok"


def test_wrong_return_types_are_reported_and_skipped(start_app):
    app = start_app(EXTRA_PLUGINS={"list-scoring": ListScoring(), "string-instruments": StringInstruments(),
                                   "half": NotCallableScoring()})
    assert status_of(app, "list-scoring").status == "error"
    assert status_of(app, "list-scoring").last_error == (
        "surveyhub_register_scoring_methods must return a dict of scoring methods, got list")
    assert status_of(app, "string-instruments").last_error == (
        "surveyhub_register_instruments must return a list of dicts or paths, got str")
    assert status_of(app, "half").status == "error"
    assert "'half' left out" in status_of(app, "half").last_error
    registry = get_registry(app)
    assert set(registry.scoring_methods) == {"mean", "sum", "maximum"}  # the good entry next to 'half' counts
    baseline = get_registry(start_app())  # the installed instruments, without these plugins
    assert registry.instruments.keys() == baseline.instruments.keys()  # the string was not read as a path
    assert registry.errors == []


def test_an_invalid_plugin_instrument_is_left_out_and_shown_beside_its_plugin(start_app):
    broken = load_instrument_file(ORGANISING)
    broken = {**broken, "id": "organising_copy", "scales": [{**broken["scales"][0], "scoring": {"method": "median"}}]}
    app = start_app(EXTRA_PLUGINS={"copy": DuplicateOrganising(broken)})
    assert get_registry(app).get("organising_copy") is None
    assert "unknown scoring method 'median'" in get_registry(app).errors[0]
    copy = status_of(app, "copy")
    assert copy.status == "error" and copy.last_error.startswith("instrument not loaded: plugin copy: scales[0]")


def test_the_same_instrument_version_from_two_sources_is_reported_and_the_app_starts(start_app):
    # Issue 9: a plugin that re-registers an instrument used to stop start-up; now the first source
    # counts (the shipped YAML), the second is left out and reported naming both, and the app starts.
    copycat = DuplicateOrganising(load_instrument_file(ORGANISING))
    app = start_app(EXTRA_PLUGINS={"copycat": copycat})
    [message] = [error for error in get_registry(app).errors if "registered twice" in error]
    assert "instrument organising version 2 is registered twice" in message
    assert str(ORGANISING) in message and "plugin copycat" in message
    assert get_registry(app).get("organising", 2).source == str(ORGANISING)
    assert status_of(app, "copycat").status == "error" and "plugin copycat" in status_of(app, "copycat").last_error


def test_the_command_line_names_both_sources_of_a_conflict_without_a_traceback(tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    for name in ("first", "second"):
        (folder / f"{name}.py").write_text(
            "from surveyhub import hookimpl\n"
            "from surveyhub.measures.yaml_loader import load_instrument_file\n"
            "@hookimpl\n"
            "def surveyhub_register_instruments():\n"
            f"    data = load_instrument_file({str(ORGANISING)!r})\n"
            "    return [{**data, 'id': 'buurtgesprek'}]\n")
    env = {**os.environ, "SURVEYHUB_PLUGINS_DIR": str(folder), "SURVEYHUB_INSTANCE_PATH": str(tmp_path / "instance")}
    done = subprocess.run([sys.executable, "-c", "from surveyhub.cli import main; main()", "instruments", "list"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0  # the app starts; the second registration is left out
    assert "Traceback" not in done.stderr
    assert "instrument buurtgesprek version 2 is registered twice" in done.stderr
    assert "plugin plugins.first" in done.stderr and "plugin plugins.second" in done.stderr
    assert "buurtgesprek@2" in done.stdout and "(plugin plugins.first)" in done.stdout


# --- a plugin that raises does not cost a resident an answer --------------------

def test_a_scoring_method_that_raises_keeps_the_answers_and_stores_no_score(app, session, make_org, make_project,
                                                                         make_participant):
    org = make_org()
    info = make_project(org, instruments=("exploding_check",))
    invitation = make_participant(org, info.slug)
    project = access.project(session, access.Actor(organisation_id=org.id, role="admin"), info.slug, "project.setup")
    participant = session.scalar(select(Participant).where(Participant.project_id == project.id,
                                                           Participant.code == invitation.code))
    pre = next(wave for wave in project.waves if wave.kind == "pre")
    response = responses.get_or_start(session, participant, pre)
    given = {("now", "exploding_check", "ex_1"): 3.0, ("now", "exploding_check", "ex_2"): 1.0,
             ("now", "exploding_check", "ex_3"): 2.0}
    responses.save_answers(session, response, given)
    session.commit()

    registry, host = get_registry(app), get_host(app)
    responses.complete(session, project, response, registry.scoring_methods,
                       on_error=registry.scoring_error_handler(host))
    session.commit()

    session.expire_all()
    stored = session.get(Response, response.id)
    assert stored.status == "completed" and stored.completed_at is not None
    assert responses.answers_of(stored) == given
    assert [(s.scale_id, s.score, s.n_answered) for s in stored.scores] == [("broken", None, 3)]
    exploding = host.statuses["exploding"]
    assert exploding.status == "error"
    assert exploding.last_error == "scoring method 'explode' raised ZeroDivisionError: float division by zero"


# --- where admins see it ------------------------------------------------------------

def test_surveyhub_plugins_shows_every_status_and_last_error(start_app):
    app = start_app(PLUGINS_DIR=str(FOLDER))
    result = app.test_cli_runner().invoke(args=["plugins"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "surveyhub.instruments  [ok]  built-in"
    assert f"plugins.good 0.3  [ok]  {FOLDER / 'good.py'}" in lines
    assert f"plugins.raising  [error]  {FOLDER / 'raising.py'}" in lines
    assert ("    last error: surveyhub_register_instruments raised RuntimeError: "
            "the norms server did not answer") in lines
    assert f"plugins.broken_import  [failed]  {FOLDER / 'broken_import.py'}" in lines
    assert any(line.startswith("    last error: import failed: ModuleNotFoundError") for line in lines)
    assert any("last error: not loaded: unknown hook(s): surveyhub_register_instrument " in line for line in lines)


def plugin_rows(html: str) -> dict[str, tuple[str, str]]:
    """Plugin name -> (status, last error) from the admin plugins table."""
    rows = re.findall(r'<tr class="status-(\w+)">\s*<th scope="row">([^<]+)</th>(.*?)</tr>', html, re.S)
    return {name: (status, re.findall(r"<td>(.*?)</td>", cells, re.S)[-1]) for status, name, cells in rows}


def test_the_admin_plugins_page_shows_status_and_last_error(client, make_user, login):
    admin = make_user("admin")
    login(admin.email)
    page = client.get("/admin/plugins")
    assert page.status_code == 200
    rows = plugin_rows(page.text)
    assert rows["surveyhub.scoring"] == ("ok", "")
    assert rows["plugins.good"] == ("ok", "")
    assert rows["plugins.raising"] == (
        "error", "surveyhub_register_instruments raised RuntimeError: the norms server did not answer")
    status, error = rows["plugins.broken_import"]
    assert status == "failed" and error.startswith("import failed: ModuleNotFoundError")
    assert rows["plugins.bad_args"][0] == "failed"
    assert "{&#39;session&#39;}" in rows["plugins.bad_args"][1]  # shown escaped


def test_workers_may_not_see_the_plugins_page(client, make_user, login):
    worker = make_user("worker")
    login(worker.email)
    assert client.get("/admin/plugins").status_code == 403
