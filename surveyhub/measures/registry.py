"""The instrument registry: every installed instrument, scoring method and question type.

Built once per app from the plugin hooks. An invalid definition is reported
(``errors``, the admin page, ``surveyhub plugins``) and left out. When two
sources register the same id and version, the first one registered counts
(the built-in YAML files before any plugin) and the second is reported with
both names and left out: the app still starts.
Organisation uploads live in the database (``services.instruments``) and are
validated by the same code.

A plugin's scoring methods and question types are wrapped here, once, in the
guards the plugin host makes (``host.guard_method``, ``host.guard_question_type``,
see ``surveyhub.plugin_guards``): callers use them without ``try``/``except``
and every failure reaches the host. The registry takes the host as an
argument; it knows nothing of Flask (``surveyhub.plugins`` keeps it on the app).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    #: scoring method name -> a callable ``(values, scale) -> float | None`` (a plugin's in its guard)
    scoring_methods: dict[str, Any] = field(default_factory=dict)
    #: question type name -> a question type (a plugin's in its guard)
    question_types: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    #: scoring method name -> the plugin that registered it (to report its failures)
    method_sources: dict[str, str] = field(default_factory=dict)
    #: question type name -> the plugin that registered it
    type_sources: dict[str, str] = field(default_factory=dict)
    #: the scoring methods as a resident's save calls them: a plugin's method gets a time budget
    bounded_scoring_methods: dict[str, Any] = field(default_factory=dict)
    #: the question types as a resident's save codes answers: a plugin type's ``code`` gets a time budget
    bounded_question_types: dict[str, Any] = field(default_factory=dict)

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

    def scoring_error_handler(self, host) -> Callable[[str, str], None]:
        """An ``on_error(method, message)`` for a scale whose scoring method is not installed.

        A plugin's method that fails reports itself (its guard); this covers the
        method that is not there at all. Reported on the host under the plugin
        that registered the method, else under ``scoring method <name>``.
        """
        def on_error(method: str, message: str) -> None:
            host.fail(self.method_sources.get(method, f"scoring method {method}"), message, state="error",
                      hook=f"scoring method {method}")
        return on_error

    def question_type_error_handler(self, host) -> Callable[[str, str], None]:
        """An ``on_error(type name, message)`` for an item whose question type is not installed."""
        def on_error(type_name: str, message: str) -> None:
            source = self.type_sources.get(type_name, f"question type {type_name}")
            host.fail(source, message, state="error", hook=f"question type {type_name}")
        return on_error


def _is_question_type(value) -> bool:
    return hasattr(value, "scored") and all(callable(getattr(value, name, None))
                                            for name in ("make_field", "code", "value_range"))


#: What each dict hook must map names to, and how to say so.
_ENTRY_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
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
    """Every instrument, scoring method and question type the host's plugins register, plugins' ones guarded.

    ``host``: a ``surveyhub.plugins.PluginHost`` (``call_isolated``, ``fail``,
    ``guard_method``, ``guard_question_type``, ``hook_timeout``).
    """
    method_sources: dict[str, str] = {}
    type_sources: dict[str, str] = {}
    methods = _merged_dicts(host, "surveyhub_register_scoring_methods", "scoring methods", method_sources)
    types = _merged_dicts(host, "surveyhub_register_question_types", "question types", type_sources)
    registry = InstrumentRegistry(
        scoring_methods=_guarded(host.guard_method, methods, method_sources),
        question_types=_guarded(host.guard_question_type, types, type_sources),
        method_sources=method_sources,
        type_sources=type_sources,
        bounded_scoring_methods=_guarded(host.guard_method, methods, method_sources, host.hook_timeout),
        bounded_question_types=_guarded(host.guard_question_type, types, type_sources, host.hook_timeout),
    )
    for plugin_name, entry in _definitions(host):
        errors = _add_entry(registry, plugin_name, entry)
        if errors:  # shown beside the plugin too, so its author sees it where they look
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            host.fail(plugin_name, f"instrument not loaded: {errors[0]}{more}", state="error")
    return registry


def _guarded(guard, objects: dict[str, Any], sources: dict[str, str], timeout: float | None = None) -> dict:
    """Each plugin's object in its guard (with a time budget when ``timeout`` is set); built-ins as they are."""
    return {name: obj if sources.get(name, "").startswith("surveyhub.") else guard(sources[name], name, obj, timeout)
            for name, obj in objects.items()}


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
