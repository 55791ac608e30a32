"""What plugins hand over is guarded once, where it is registered: callers never catch, the host always hears.

Each guard (``surveyhub.plugin_guards``) catches what the plugin's object
raises, reports it through ``PluginHost.fail`` (so the admin plugins page and
``surveyhub plugins`` show it, in every process) and falls back safely. A
``value_range`` that raised used to reach only the log; it reaches the host now.
"""

from __future__ import annotations

import html
import io

import pytest

from surveyhub import hookimpl
from surveyhub.measures import builtin
from surveyhub.measures.registry import build_registry
from surveyhub.plugin_guards import GuardedExporter, GuardedMethod, GuardedQuestionType, PluginFailed
from surveyhub.plugins import PluginHost

ITEM = {"id": "q1", "type": "wobbly", "text": {"nl": "Hoe gaat het?"}}
CONTEXT = {"answer_sets": {}, "lang": "nl"}


class Reports:
    """A stand-in host that keeps what guards report."""

    def __init__(self):
        self.seen = []

    def fail(self, name, message, state="failed", hook=None):
        self.seen.append((name, state, hook, message))


class Wobbly:
    """A question type whose every method breaks, each in its own way."""

    scored = True

    def make_field(self, item, context):
        raise KeyError("label")

    def code(self, item, raw, context):
        if raw == "nee":
            raise ValueError("Kies een getal.")
        raise AttributeError("'NoneType' object has no attribute 'strip'")

    def value_range(self, item, context):
        raise ZeroDivisionError("division by zero")


def test_a_method_that_raises_or_returns_text_scores_none_and_is_reported():
    host = Reports()
    raising = GuardedMethod(host, "tests.norms", "norms", lambda values, scale: 1 / 0)
    texting = GuardedMethod(host, "tests.norms", "words", lambda values, scale: "hoog")
    fine = GuardedMethod(host, "tests.norms", "fine", lambda values, scale: 3)
    assert raising({"a": 1.0}, {}) is None and texting({"a": 1.0}, {}) is None
    assert fine({"a": 1.0}, {}) == 3.0 and isinstance(fine({}, {}), float)
    assert host.seen == [
        ("tests.norms", "error", "scoring method norms",
         "scoring method 'norms' raised ZeroDivisionError: division by zero"),
        ("tests.norms", "error", "scoring method words", "scoring method 'words' returned str, not a number"),
    ]


def test_a_method_with_a_budget_that_hangs_is_cut_off_and_reported():
    import threading

    release = threading.Event()
    host = Reports()
    slow = GuardedMethod(host, "tests.slow", "slow", lambda values, scale: release.wait(5), timeout=0.05)
    try:
        assert slow({}, {}) is None
    finally:
        release.set()
    assert host.seen == [("tests.slow", "error", "scoring method slow",
                          "scoring method 'slow' raised TimeoutError: did not finish within 0.05 s")]


def test_a_question_type_that_breaks_falls_back_and_is_reported():
    host = Reports()
    wobbly = GuardedQuestionType(host, "tests.wobbly", "wobbly", Wobbly())
    assert wobbly.scored is True
    assert wobbly.make_field(ITEM, CONTEXT) is None  # the item is left out of the page
    assert wobbly.code(ITEM, "  drie  ", CONTEXT) == "drie"  # kept as the text sent
    assert wobbly.code(ITEM, None, CONTEXT) is None
    with pytest.raises(ValueError, match="Kies een getal."):  # the resident's message passes through
        wobbly.code(ITEM, "nee", CONTEXT)
    assert wobbly.value_range(ITEM, CONTEXT) is None  # the chart leaves the scale out
    assert [(name, state, hook) for name, state, hook, _ in host.seen] == [("tests.wobbly", "error",
                                                                           "question type wobbly")] * 4
    messages = [message for *_, message in host.seen]
    assert messages[0] == "question type 'wobbly' failed to render: KeyError: 'label'"
    assert messages[1] == ("question type 'wobbly' failed on item 'q1' (AttributeError: 'NoneType' object has "
                           "no attribute 'strip'); the answer was kept as the text sent")
    assert messages[2].endswith("(AttributeError: 'NoneType' object has no attribute 'strip')")
    assert messages[3] == "question type 'wobbly': value_range raised ZeroDivisionError: division by zero"


def test_ctrl_c_is_never_swallowed():
    def interrupted(values, scale):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        GuardedMethod(Reports(), "tests.x", "x", interrupted)({}, {})


def test_an_exporter_that_fails_says_which_plugin_and_is_reported():
    class Broken:
        extension, mimetype = "json", "application/json"

        def write(self, table, stream):
            raise OSError("disk full")

    host = Reports()
    exporter = GuardedExporter(host, "tests.export", "json", Broken())
    assert (exporter.extension, exporter.mimetype) == ("json", "application/json")
    with pytest.raises(PluginFailed) as raised:
        exporter.write(None, io.BytesIO())
    assert str(raised.value) == "export format of tests.export failed: OSError: disk full"
    assert host.seen == [("tests.export", "error", "export format json",
                          "export format of tests.export failed: OSError: disk full")]


class WobblyPlugin:
    @hookimpl
    def surveyhub_register_question_types(self):
        return {"wobbly": Wobbly()}

    @hookimpl
    def surveyhub_register_scoring_methods(self):
        return {"explode": lambda values, scale: 1 / 0}


def _registry_with(plugin):
    host = PluginHost()
    for name, builtin_plugin in builtin.builtin_plugins({"INSTRUMENTS_DIR": None}).items():
        host.register(builtin_plugin, name, "built-in", builtin=True)
    host.register(plugin, "tests.wobbly", "test")
    return host, build_registry(host)


def test_the_registry_guards_plugins_once_and_leaves_the_built_ins_as_they_are():
    host, registry = _registry_with(WobblyPlugin())
    wobbly, explode = registry.question_types["wobbly"], registry.scoring_methods["explode"]
    assert isinstance(wobbly, GuardedQuestionType) and isinstance(wobbly.qtype, Wobbly)
    assert isinstance(explode, GuardedMethod)
    assert registry.bounded_question_types["wobbly"] is not wobbly  # the same type, with the save's budget
    from surveyhub.measures.questions import BUILTIN_TYPES
    from surveyhub.measures.scoring import BUILTIN_METHODS
    assert registry.question_types["choice"] is BUILTIN_TYPES["choice"]
    assert registry.scoring_methods["mean"] is BUILTIN_METHODS["mean"]
    # Called the way the report and the save call them: no try/except, and the host hears of each failure.
    assert wobbly.value_range(ITEM, CONTEXT) is None
    assert explode({"a": 1.0}, {"scoring": {}}) is None
    status = host.statuses["tests.wobbly"]
    assert status.status == "error" and status.last_error == "scoring method 'explode' raised ZeroDivisionError: " \
                                                             "division by zero"


class First:
    @hookimpl(tryfirst=True)
    def surveyhub_register_instruments(self):
        return ["first"]


class Second:
    @hookimpl
    def surveyhub_register_instruments(self):
        raise RuntimeError("norms server down")


class Third:
    @hookimpl
    def surveyhub_register_instruments(self):
        return None


def test_call_isolated_keeps_pluggy_order_and_goes_on_past_a_failure():
    host = PluginHost()
    for name, plugin in (("first", First()), ("second", Second()), ("third", Third())):
        host.register(plugin, name, "test")
    assert host.call_isolated("surveyhub_register_instruments") == [("first", ["first"]), ("third", None)]
    assert host.statuses["second"].status == "error"
    assert host.statuses["second"].last_error == "surveyhub_register_instruments raised RuntimeError: norms server down"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "EXTRA_PLUGINS": {"tests.wobbly": WobblyPlugin()}}


def test_a_failure_seen_at_run_time_reaches_the_admin_plugins_page(app, client, make_user, login):
    """What a guard reports is stored for every worker process; the admin page reads it from there."""
    from surveyhub.plugins import get_registry
    from tests.test_plugin_manager import plugin_rows

    assert get_registry(app).question_types["wobbly"].value_range(ITEM, CONTEXT) is None  # as the report calls it
    [problem] = [p for p in get_host_problems(app) if p.plugin == "tests.wobbly"]
    assert (problem.hook, problem.count) == ("question type wobbly", 1)
    login(make_user("admin").email)
    rows = plugin_rows(html.unescape(client.get("/admin/plugins").text))
    assert rows["tests.wobbly"] == ("error", "question type 'wobbly': value_range raised ZeroDivisionError: "
                                             "division by zero")


def get_host_problems(app):
    from surveyhub.plugins import get_host

    return get_host(app).problems.stored() or []  # a session of its own: no request is open here
