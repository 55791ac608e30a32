"""The plugin host: one ``pluggy.PluginManager`` per app, built in ``create_app``.

Discovery: the built-in plugins (``measures.builtin``), the ``surveyhub``
entry-point group, and every module in the plugins folder
(``SURVEYHUB_PLUGINS_DIR``). A plugin that fails to import or does not match
the contract is reported (log, admin page, ``surveyhub plugins``) and left
out; the app still starts, also when a plugin calls ``sys.exit()`` while it is
imported or registered.

Calls go through pluggy, one implementation at a time (``call_isolated``,
through ``PluginManager.subset_hook_caller``), so one failing plugin never
stops the others or costs an answer; events on a resident's path go through
``call_bounded``, which gives every plugin its own thread and the whole call a
time budget (``SURVEYHUB_PLUGIN_HOOK_TIMEOUT``). Objects plugins hand over
(scoring methods, question types, exporters) are wrapped once, where they are
registered, in the guards of ``surveyhub.plugin_guards``. Every failure goes
through ``PluginHost.fail``; problems seen after start-up are stored in the
database (``surveyhub.plugin_problems``) so every worker process shows them.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pluggy
from flask import Flask, current_app, has_app_context

from surveyhub import hookspecs
from surveyhub.measures.registry import InstrumentRegistry, build_registry
from surveyhub.plugin_guards import GuardedExporter, GuardedMethod, GuardedQuestionType, describe, plugin_crash
from surveyhub.plugin_problems import Problem, ProblemLog

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "surveyhub"
#: Seconds a resident's page waits for event hooks (``SURVEYHUB_PLUGIN_HOOK_TIMEOUT``).
DEFAULT_HOOK_TIMEOUT = 2.0
#: Calls of one plugin still running past their budget before the next ones are skipped.
MAX_OVERDUE_CALLS = 4


@dataclass
class PluginStatus:
    """What the admin page and ``surveyhub plugins`` show for one plugin."""

    name: str
    source: str
    version: str = ""
    hooks: list[str] = field(default_factory=list)
    status: str = "ok"  # ok | failed | error (loaded, but a call failed)
    last_error: str | None = None
    builtin: bool = False


class PluginHost:
    """The app's ``pluggy.PluginManager`` plus the status of every plugin."""

    def __init__(self, database=None, hook_timeout: float = DEFAULT_HOOK_TIMEOUT) -> None:
        self.pm = pluggy.PluginManager("surveyhub")
        self.pm.add_hookspecs(hookspecs)
        self.statuses: dict[str, PluginStatus] = {}
        #: Problems seen after start-up go to the database, for every process to show.
        self.problems = ProblemLog(database)
        self.hook_timeout = hook_timeout
        #: Set once the app is built; from then on problems are stored, not only kept here.
        self.started = False
        self._overdue: dict[str, int] = {}
        self._overdue_lock = threading.Lock()
        self._collected: dict[str, Any] = {}

    # -- registration -----------------------------------------------------
    def register(self, plugin: object, name: str, source: str, version: str = "", builtin: bool = False) -> None:
        if name in self.statuses:  # keep the first plugin's status; report the second under its source
            taken, first = name, self.statuses[name].source
            name = f"{name} ({source})"
            self.statuses[name] = PluginStatus(name=name, source=source, version=version)
            self.fail(name, f"not loaded: the name {taken!r} is already used by {first}")
            return
        status = PluginStatus(name=name, source=source, version=version, builtin=builtin)
        self.statuses[name] = status
        try:
            self.pm.register(plugin, name=name)
            problem = self._contract_problem(name)
            if problem:
                self.pm.unregister(name=name)
                raise pluggy.PluginValidationError(plugin, problem)
        except BaseException as exc:  # a plugin must never stop start-up, not even with sys.exit()
            if not plugin_crash(exc):
                raise
            if self.pm.get_plugin(name) is not None:
                self.pm.unregister(name=name)
            reason = describe(exc) if isinstance(exc, SystemExit) else " ".join(str(exc).split())
            self.fail(name, f"not loaded: {reason}")  # one line for the status table
            return
        status.hooks = self._hook_names(name)

    def _contract_problem(self, name: str) -> str | None:
        """What pluggy accepts but SurveyHub cannot call: unknown hook names and wrappers."""
        unknown = [hook for hook in self._hook_names(name) if hook not in _spec_names()]
        if unknown:
            return f"unknown hook(s): {', '.join(unknown)} (see surveyhub/hookspecs.py for the hook names)"
        plugin = self.pm.get_plugin(name)
        # call_isolated calls each implementation without the other plugins, so a wrapper would never wrap anything.
        wrappers = sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or []
                          for impl in caller.get_hookimpls()
                          if impl.plugin_name == name and (impl.wrapper or impl.hookwrapper))
        if wrappers:
            return (f"hook wrappers are not supported ({', '.join(wrappers)}): SurveyHub calls every "
                    "implementation on its own so that one failing plugin cannot stop the others")
        return None

    def _hook_names(self, name: str) -> list[str]:
        plugin = self.pm.get_plugin(name)
        return sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or [])

    def fail(self, name: str, message: str, state: str = "failed", hook: str | None = None) -> None:
        """Mark the plugin; after start-up also store the problem for every process to show.

        :param hook: where it happened (a hook name, ``question type stars``, ...);
            by default the hook name the message starts with.
        """
        status = self.statuses.setdefault(name, PluginStatus(name=name, source="?"))
        if status.status != "failed":  # a plugin left out stays "failed"; run-time trouble cannot undo that
            status.status = state
        status.last_error = message
        log.error("plugin %s: %s", name, message)
        if self.started:
            self.problems.record(name, hook or _hook_of(message, state), message)

    def overview(self, problems: list[Problem]) -> list[PluginStatus]:
        """Each plugin's status as every process should show it: start-up state plus stored problems.

        A plugin that loaded but has stored problems shows as ``error`` with the
        most recent stored message; a plugin left out at start-up stays
        ``failed``. Problems under a name this process does not know (a
        question type's name, another installation's plugin) get a row of their own.

        :param problems: ``self.problems.stored(...)``, the most recent first.
        """
        latest: dict[str, Problem] = {}
        for problem in problems:
            latest.setdefault(problem.plugin, problem)
        shown = []
        for status in self.statuses.values():
            problem = latest.pop(status.name, None)
            if problem is not None:
                status = replace(status, status="failed" if status.status == "failed" else "error",
                                 last_error=problem.message)
            shown.append(status)
        shown += [PluginStatus(name=name, source="?", status="error", last_error=problem.message)
                  for name, problem in latest.items()]
        return sorted(shown, key=lambda s: (not s.builtin, s.name))

    # -- guarding what plugins hand over (see surveyhub.plugin_guards) ------
    def guard_method(self, plugin: str, name: str, method: Callable[..., Any],
                     timeout: float | None = None) -> GuardedMethod:
        return GuardedMethod(self, plugin, name, method, timeout)

    def guard_question_type(self, plugin: str, name: str, qtype: Any,
                            timeout: float | None = None) -> GuardedQuestionType:
        return GuardedQuestionType(self, plugin, name, qtype, timeout)

    def guard_exporter(self, plugin: str, name: str, exporter: Any) -> GuardedExporter:
        return GuardedExporter(self, plugin, name, exporter)

    def collected(self, key: str, collect: Callable[[PluginHost], Any]) -> Any:
        """``collect(self)``, once per host: what plugins register is read and guarded once, not per call."""
        if key not in self._collected:
            self._collected[key] = collect(self)
        return self._collected[key]

    # -- discovery --------------------------------------------------------
    def load_entry_points(self) -> None:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            name = ep.name
            version = ep.dist.version if ep.dist else ""
            try:
                plugin = ep.load()
            except BaseException as exc:
                if not plugin_crash(exc):
                    raise
                self.statuses[name] = PluginStatus(name=name, source=f"entry point {ep.value}", version=version)
                self.fail(name, f"import failed: {describe(exc)}")
                continue
            if self.pm.is_registered(plugin):
                continue
            self.register(plugin, name, f"entry point {ep.value}", version)

    def load_folder(self, folder: str | None) -> None:
        if not folder or not Path(folder).is_dir():
            return
        for path in sorted(Path(folder).glob("*.py")):
            if path.name.startswith("_"):
                continue
            name = f"plugins.{path.stem}"
            try:
                module = _import_file(name, path)
            except BaseException as exc:
                if not plugin_crash(exc):
                    raise
                self.statuses[name] = PluginStatus(name=name, source=str(path))
                self.fail(name, f"import failed: {describe(exc)}")
                continue
            self.register(module, name, str(path), getattr(module, "__version__", ""))

    # -- calling ----------------------------------------------------------
    def call_isolated(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation through pluggy, one at a time; failures are recorded and skipped.

        pluggy stops at the first exception, so each implementation gets a
        call of its own (a subset hook caller without the other plugins).

        :returns: ``(plugin name, result)`` for each implementation that
            returned without raising, in pluggy's call order.
        """
        results = []
        for name in self._call_order(hook_name):
            try:
                result = self._call_one(hook_name, name, kwargs)
            except BaseException as exc:
                if not plugin_crash(exc):
                    raise
                self.fail(name, f"{hook_name} raised {describe(exc)}", state="error", hook=hook_name)
                log.debug("traceback:\n%s", traceback.format_exc())
                continue
            results.append((name, result))
        return results

    def _call_order(self, hook_name: str) -> list[str]:
        """The plugins implementing a hook, in pluggy's call order (last registered first, tryfirst/trylast)."""
        return [impl.plugin_name for impl in reversed(getattr(self.pm.hook, hook_name).get_hookimpls())]

    def _call_one(self, hook_name: str, plugin_name: str, kwargs: dict[str, Any]) -> Any:
        """One plugin's implementation, called by pluggy; its result (``None``: nothing to add)."""
        others = [plugin for name, plugin in self.pm.list_name_plugin() if name != plugin_name and plugin is not None]
        caller = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
        result = caller(**kwargs)
        spec = caller.spec
        if spec is not None and spec.opts.get("firstresult"):
            return result
        return result[0] if result else None

    def call_bounded(self, hook_name: str, timeout: float | None = None, **kwargs) -> list[tuple[str, object]]:
        """Like ``call_isolated``, but each implementation runs in a thread and the call ends in time.

        Waits at most ``timeout`` seconds (default: the app's hook budget) for
        all of them together. A plugin still running then is reported and left
        to finish on its own; its result is dropped. A plugin with
        ``MAX_OVERDUE_CALLS`` calls still running is skipped (and reported)
        until one returns, so a plugin that hangs for good cannot pile up threads.

        :returns: ``(plugin name, result)`` for each implementation that
            returned in time without raising, in pluggy's call order.
        """
        budget = self.hook_timeout if timeout is None else timeout
        app = current_app._get_current_object() if has_app_context() else None
        runs = [run for name in self._call_order(hook_name)
                if (run := self._start(name, hook_name, kwargs, app)) is not None]
        deadline = time.monotonic() + budget
        for run in runs:
            run.thread.join(max(0.0, deadline - time.monotonic()))
        results = []
        for run in runs:
            if run.thread.is_alive():
                self.fail(run.plugin, f"{hook_name} did not finish within {budget:g} s; SurveyHub went on "
                          "without it", state="error", hook=hook_name)
            elif run.error is not None:
                self.fail(run.plugin, f"{hook_name} raised {run.error}", state="error", hook=hook_name)
            else:
                results.append((run.plugin, run.result))
        return results

    def _start(self, name: str, hook_name: str, kwargs: dict, app) -> _Run | None:
        with self._overdue_lock:
            running = self._overdue.get(name, 0)
            if running >= MAX_OVERDUE_CALLS:
                skip = True
            else:
                skip = False
                self._overdue[name] = running + 1
        if skip:
            self.fail(name, f"{hook_name} skipped: {running} earlier calls have not finished yet",
                      state="error", hook=hook_name)
            return None
        run = _Run(name)
        run.thread = threading.Thread(target=self._run_one, args=(run, hook_name, kwargs, app),
                                      name=f"plugin {name}", daemon=True)
        run.thread.start()
        return run

    def _run_one(self, run: _Run, hook_name: str, kwargs: dict, app) -> None:
        try:
            if app is not None:
                with app.app_context():
                    run.result = self._call_one(hook_name, run.plugin, kwargs)
            else:
                run.result = self._call_one(hook_name, run.plugin, kwargs)
        except BaseException as exc:  # noqa: B036 - reported by the caller; a thread has no one else to tell
            run.error = describe(exc)
            log.debug("traceback:\n%s", traceback.format_exc())
        finally:
            with self._overdue_lock:
                self._overdue[run.plugin] -= 1


@dataclass
class _Run:
    """One implementation's call in its own thread (``PluginHost.call_bounded``)."""

    plugin: str
    thread: threading.Thread | None = None
    result: object = None
    error: str | None = None


def _hook_of(message: str, state: str) -> str:
    first = message.split(" ", 1)[0]
    if first.startswith("surveyhub_"):
        return first.rstrip(":")
    return "start-up" if state == "failed" else "run time"


def _spec_names() -> set[str]:
    return {name for name in dir(hookspecs) if name.startswith("surveyhub_")}


def _import_file(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def build_host(app: Flask, builtins: dict[str, object]) -> PluginHost:
    """The app's host: the built-in plugins first, then entry points, the plugins folder and ``EXTRA_PLUGINS``."""
    from surveyhub.db import get_db

    host = PluginHost(get_db(app), hook_timeout(app.config))
    for name, plugin in builtins.items():
        host.register(plugin, name, "built-in", builtin=True)
    host.load_entry_points()
    host.load_folder(app.config.get("PLUGINS_DIR"))
    for name, plugin in (app.config.get("EXTRA_PLUGINS") or {}).items():  # tests and embedding
        host.register(plugin, name, "configured")
    host.pm.check_pending()  # everything unknown was unregistered above; this must pass
    return host


def hook_timeout(config) -> float:
    """The time budget of event hooks on a resident's path, from ``PLUGIN_HOOK_TIMEOUT``."""
    from surveyhub.config import ConfigError

    value = config.get("PLUGIN_HOOK_TIMEOUT", DEFAULT_HOOK_TIMEOUT)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 < seconds <= 60:
        raise ConfigError(f"SURVEYHUB_PLUGIN_HOOK_TIMEOUT must be a number of seconds above 0 and at most 60, "
                          f"got {value!r}")
    return seconds


def init_app(app: Flask) -> None:
    """Build the plugin host and the instrument registry; from then on problems are stored for every process."""
    from surveyhub.measures import builtin

    host = build_host(app, builtin.builtin_plugins(app.config))
    app.extensions["surveyhub.plugins"] = host
    app.extensions["surveyhub.registry"] = build_registry(host)
    host.started = True


def get_host(app: Flask | None = None) -> PluginHost:
    return (app or current_app).extensions["surveyhub.plugins"]


def get_registry(app: Flask | None = None) -> InstrumentRegistry:
    return (app or current_app).extensions["surveyhub.registry"]
