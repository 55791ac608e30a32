"""The plugin manager: one per app, built in ``create_app``.

Discovery: the built-in plugins, the ``surveyhub`` entry-point group, and every
module in the plugins folder (``SURVEYHUB_PLUGINS_DIR``). A plugin that fails
to import or does not match the contract is reported (log, admin page,
``surveyhub plugins``) and left out; the app still starts. Hook calls made
while a resident answers go through ``call_isolated`` so one failing plugin
never stops the others or costs an answer.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pluggy
from flask import Flask, current_app

from surveyhub import hookspecs

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "surveyhub"


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

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("surveyhub")
        self.pm.add_hookspecs(hookspecs)
        self.statuses: dict[str, PluginStatus] = {}

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
        except Exception as exc:  # a plugin must never stop start-up
            self.fail(name, f"not loaded: {' '.join(str(exc).split())}")  # one line for the status table
            return
        status.hooks = self._hook_names(name)

    def _contract_problem(self, name: str) -> str | None:
        """What pluggy accepts but SurveyHub cannot call: unknown hook names and wrappers."""
        unknown = [hook for hook in self._hook_names(name) if hook not in _spec_names()]
        if unknown:
            return f"unknown hook(s): {', '.join(unknown)} (see surveyhub/hookspecs.py for the hook names)"
        plugin = self.pm.get_plugin(name)
        # call_isolated calls each implementation on its own, so a wrapper would never wrap anything.
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

    def fail(self, name: str, message: str, state: str = "failed") -> None:
        status = self.statuses.setdefault(name, PluginStatus(name=name, source="?"))
        status.status, status.last_error = state, message
        log.error("plugin %s: %s", name, message)

    # -- discovery --------------------------------------------------------
    def load_entry_points(self) -> None:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            name = ep.name
            version = ep.dist.version if ep.dist else ""
            try:
                plugin = ep.load()
            except Exception as exc:
                self.statuses[name] = PluginStatus(name=name, source=f"entry point {ep.value}", version=version)
                self.fail(name, f"import failed: {type(exc).__name__}: {exc}")
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
            except Exception as exc:
                self.statuses[name] = PluginStatus(name=name, source=str(path))
                self.fail(name, f"import failed: {type(exc).__name__}: {exc}")
                continue
            self.register(module, name, str(path), getattr(module, "__version__", ""))

    # -- calling ----------------------------------------------------------
    def call_isolated(self, hook_name: str, **kwargs) -> list[tuple[str, object]]:
        """Call every implementation on its own; failures are recorded and skipped.

        :returns: ``(plugin name, result)`` for each implementation that
            returned without raising, in pluggy's call order.
        """
        results = []
        caller = getattr(self.pm.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):  # pluggy calls last-registered first
            try:
                result = impl.function(*[kwargs[arg] for arg in impl.argnames])
            except Exception as exc:
                self.fail(impl.plugin_name, f"{hook_name} raised {type(exc).__name__}: {exc}", state="error")
                log.debug("traceback:\n%s", traceback.format_exc())
                continue
            results.append((impl.plugin_name, result))
        return results


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


def build_host(app: Flask) -> PluginHost:
    from surveyhub.measures import builtin

    host = PluginHost()
    for name, plugin in builtin.builtin_plugins(app.config).items():
        host.register(plugin, name, "built-in", builtin=True)
    host.load_entry_points()
    host.load_folder(app.config.get("PLUGINS_DIR"))
    for name, plugin in (app.config.get("EXTRA_PLUGINS") or {}).items():  # tests and embedding
        host.register(plugin, name, "configured")
    host.pm.check_pending()  # everything unknown was unregistered above; this must pass
    return host


def init_app(app: Flask) -> None:
    app.extensions["surveyhub.plugins"] = build_host(app)


def get_host(app: Flask | None = None) -> PluginHost:
    return (app or current_app).extensions["surveyhub.plugins"]
