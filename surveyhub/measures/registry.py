"""The instrument registry: every installed instrument, scoring method and question type.

Built once per app from the plugin hooks. An invalid definition is reported
(``errors``, the admin page, ``surveyhub plugins``) and left out. When two
sources register the same id and version, the first one registered counts
(the built-in YAML files before any plugin) and the second is reported with
both names and left out: the app still starts.
Organisation uploads live in the database (``services.instruments``) and are
validated by the same code.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app

from surveyhub.measures.definition import InstrumentError, definition_digest, normalise
from surveyhub.measures.validation import validate_definition
from surveyhub.measures.yaml_loader import load_instrument_file

log = logging.getLogger(__name__)


class RegistryConflict(Exception):
    """Two sources registered the same instrument id and version."""


@dataclass(frozen=True)
class LoadedInstrument:
    id: str
    version: int
    definition: dict
    source: str
    digest: str


@dataclass
class InstrumentRegistry:
    instruments: dict[tuple[str, int], LoadedInstrument] = field(default_factory=dict)
    scoring_methods: dict[str, object] = field(default_factory=dict)
    question_types: dict[str, object] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    #: scoring method name -> the plugin that registered it (to report its failures)
    method_sources: dict[str, str] = field(default_factory=dict)
    #: question type name -> the plugin that registered it
    type_sources: dict[str, str] = field(default_factory=dict)
    #: the scoring methods as a resident's save calls them: a plugin's method gets a time budget
    bounded_scoring_methods: dict[str, object] = field(default_factory=dict)
    #: the question types as a resident's save codes answers: a plugin type's ``code`` gets a time budget
    bounded_question_types: dict[str, object] = field(default_factory=dict)

    def get(self, instrument_id: str, version: int | None = None) -> LoadedInstrument | None:
        if version is not None:
            return self.instruments.get((instrument_id, version))
        versions = [v for (i, v) in self.instruments if i == instrument_id]
        return self.instruments[(instrument_id, max(versions))] if versions else None

    def all(self) -> list[LoadedInstrument]:
        return [self.instruments[key] for key in sorted(self.instruments)]

    def known(self) -> dict:
        """The installed names validation checks against (``validation.validate_definition`` keywords)."""
        return {"known_types": set(self.question_types), "known_methods": set(self.scoring_methods)}

    def validate(self, data, source: str) -> list[str]:
        """Schema errors for a definition, checked against installed types and methods."""
        return validate_definition(data, source, **self.known())

    def load_file(self, path: str | Path) -> dict:
        """Read and validate a YAML file; ``InstrumentError`` lists every problem at once."""
        return load_instrument_file(path, **self.known())

    def add(self, data: dict, source: str, validated: bool = False) -> list[str]:
        """Add a definition; return its errors (and leave it out) when it is not valid."""
        errors = [] if validated else self.validate(data, source)
        if errors:
            self._refuse(errors)
            return errors
        definition = normalise(data)
        key = (definition["id"], definition["version"])
        if key in self.instruments:
            raise RegistryConflict(
                f"instrument {key[0]} version {key[1]} is registered twice: "
                f"by {self.instruments[key].source} and by {source}; give one a new id or version")
        self.instruments[key] = LoadedInstrument(key[0], key[1], definition, source,
                                                 definition_digest(definition))
        return []

    def _refuse(self, errors: list[str]) -> None:
        self.errors.extend(errors)
        for error in errors:
            log.error("instrument not loaded: %s", error)

    def scoring_error_handler(self, host):
        """An ``on_error`` for ``services.responses.score_response``: log, and mark the method's plugin.

        The admin plugins page and ``surveyhub plugins`` then show the failure;
        the score itself is stored as ``None`` and the answers stay saved.
        """
        def on_error(method: str, message: str) -> None:
            log.error(message)
            if method in self.method_sources:
                host.fail(self.method_sources[method], message, state="error", hook=f"scoring method {method}")
        return on_error

    def question_type_error_handler(self, host):
        """An ``on_error(type name, message)`` for question types that fail while a resident answers.

        Marks the plugin that registered the type (stored for every process to show).
        """
        def on_error(type_name: str, message: str) -> None:
            source = self.type_sources.get(type_name, f"question type {type_name}")
            host.fail(source, message, state="error", hook=f"question type {type_name}")
        return on_error


def bounded(method, timeout: float):
    """``method`` run in a thread of its own; ``TimeoutError`` when it has not returned after ``timeout`` s.

    Scoring runs inside the save's write transaction: a plugin's method that
    hangs would hold up the resident, and on SQLite every other writer too.
    The thread is left to finish on its own; its result is not used. What
    the method raises is raised again (``ValueError`` stays ``ValueError``).
    """
    def call(*args):
        box: dict = {}

        def run():
            try:
                box["result"] = method(*args)
            except BaseException as exc:  # noqa: B036 - handed to the caller, who reports it
                box["error"] = exc

        worker = threading.Thread(target=run, name="plugin call", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise TimeoutError(f"did not finish within {timeout:g} s")
        if "error" in box:
            error = box["error"]
            raise (RuntimeError(f"the method called sys.exit({error.code!r})") if isinstance(error, SystemExit)
                   else error)
        return box.get("result")
    return call


class BoundedQuestionType:
    """A plugin's question type whose ``code`` runs with a time budget (``bounded``); the rest as it is."""

    def __init__(self, qtype, timeout: float):
        self._qtype = qtype
        self.scored = qtype.scored
        self.code = bounded(qtype.code, timeout)

    def __getattr__(self, name):
        return getattr(self._qtype, name)


def _is_question_type(value) -> bool:
    return hasattr(value, "scored") and all(callable(getattr(value, name, None))
                                            for name in ("make_field", "code", "value_range"))


#: What each dict hook must map names to, and how to say so.
_ENTRY_CHECKS = {
    "surveyhub_register_scoring_methods": (callable, "a callable (values, scale) -> float | None"),
    "surveyhub_register_question_types": (_is_question_type,
                                          "an object with scored, make_field, code and value_range"),
}


def _merged_dicts(host, hook_name: str, kind: str, sources: dict | None = None) -> dict:
    merged: dict = {}
    is_valid, wanted = _ENTRY_CHECKS[hook_name]
    # Call order runs from plugins to built-ins; apply in reverse so plugins win.
    for plugin_name, result in reversed(host.call_isolated(hook_name)):
        if result is None:  # as in pluggy: nothing to add
            continue
        if not isinstance(result, dict):
            host.fail(plugin_name, f"{hook_name} must return a dict of {kind}, got {type(result).__name__}",
                      state="error")
            continue
        for name, value in result.items():
            if not isinstance(name, str) or not is_valid(value):
                host.fail(plugin_name, f"{hook_name}: {name!r} left out; it must map a name to {wanted}, "
                          f"got {type(value).__name__}", state="error")
                continue
            merged[name] = value
            if sources is not None:
                sources[name] = plugin_name
    return merged


def _definitions(host):
    # In the order the plugins were registered (built-ins first): the first source of an id and version counts.
    for plugin_name, result in reversed(host.call_isolated("surveyhub_register_instruments")):
        if result is None:
            continue
        if not isinstance(result, (list, tuple)):
            host.fail(plugin_name, "surveyhub_register_instruments must return a list of dicts or paths, "
                      f"got {type(result).__name__}", state="error")
            continue
        for entry in result:
            yield plugin_name, entry


def build_registry(host) -> InstrumentRegistry:
    method_sources: dict[str, str] = {}
    type_sources: dict[str, str] = {}
    registry = InstrumentRegistry(
        scoring_methods=_merged_dicts(host, "surveyhub_register_scoring_methods", "scoring methods",
                                      method_sources),
        question_types=_merged_dicts(host, "surveyhub_register_question_types", "question types", type_sources),
        method_sources=method_sources,
        type_sources=type_sources,
    )
    registry.bounded_scoring_methods = {
        name: method if method_sources.get(name, "").startswith("surveyhub.") else bounded(method, host.hook_timeout)
        for name, method in registry.scoring_methods.items()}
    registry.bounded_question_types = {
        name: qtype if type_sources.get(name, "").startswith("surveyhub.") else
        BoundedQuestionType(qtype, host.hook_timeout) for name, qtype in registry.question_types.items()}
    for plugin_name, entry in _definitions(host):
        errors = _add_entry(registry, plugin_name, entry)
        if errors:  # shown beside the plugin too, so its author sees it where they look
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            host.fail(plugin_name, f"instrument not loaded: {errors[0]}{more}", state="error")
    return registry


def _add_entry(registry: InstrumentRegistry, plugin_name: str, entry) -> list[str]:
    if isinstance(entry, (str, Path)):
        try:
            data = registry.load_file(entry)
        except InstrumentError as exc:
            registry._refuse(exc.errors)
            return exc.errors
        return _add_once(registry, data, str(entry), validated=True)
    if isinstance(entry, dict):
        return _add_once(registry, entry, f"plugin {plugin_name}")
    return [f"plugin {plugin_name}: instrument entries must be dicts or paths, got {type(entry).__name__}"]


def _add_once(registry: InstrumentRegistry, data: dict, source: str, validated: bool = False) -> list[str]:
    """Add a definition; a second registration of an id and version is reported and left out."""
    try:
        return registry.add(data, source, validated=validated)
    except RegistryConflict as exc:
        message = f"{exc}; the second one is left out"
        registry._refuse([message])
        return [message]


def init_app(app: Flask) -> None:
    from surveyhub.plugins import get_host, started

    app.extensions["surveyhub.registry"] = build_registry(get_host(app))
    started(app)  # the plugins are in place: from now on their problems are stored for every process


def get_registry(app: Flask | None = None) -> InstrumentRegistry:
    return (app or current_app).extensions["surveyhub.registry"]
