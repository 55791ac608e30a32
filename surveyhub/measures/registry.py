"""The instrument registry: every installed instrument, scoring method and question type.

Built once per app from the plugin hooks. An invalid definition is reported
(``errors``, the admin page, ``surveyhub plugins``) and left out; the same id
and version from two sources stops start-up with an error naming both.
Organisation uploads live in the database (``services.instruments``) and are
validated by the same code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app

from surveyhub.measures import schema

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
    #: Which plugin provided each question type and scoring method, for error reports.
    owners: dict[str, str] = field(default_factory=dict)

    def owner(self, kind: str, name: str) -> str:
        """``kind`` is "type" or "method"."""
        return self.owners.get(f"{kind}:{name}", f"unknown {kind} {name}")

    def get(self, instrument_id: str, version: int | None = None) -> LoadedInstrument | None:
        if version is not None:
            return self.instruments.get((instrument_id, version))
        versions = [v for (i, v) in self.instruments if i == instrument_id]
        return self.instruments[(instrument_id, max(versions))] if versions else None

    def all(self) -> list[LoadedInstrument]:
        return [self.instruments[key] for key in sorted(self.instruments)]

    def validate(self, data, source: str) -> list[str]:
        """Schema errors for a definition, checked against installed types and methods."""
        return schema.validate_definition(data, source, known_types=set(self.question_types),
                                          known_methods=set(self.scoring_methods))

    def add(self, data: dict, source: str) -> None:
        errors = self.validate(data, source)
        if errors:
            self.errors.extend(errors)
            for error in errors:
                log.error("instrument not loaded: %s", error)
            return
        definition = schema.normalise(data)
        key = (definition["id"], definition["version"])
        if key in self.instruments:
            raise RegistryConflict(
                f"instrument {key[0]} version {key[1]} is registered twice: "
                f"by {self.instruments[key].source} and by {source}; give one a new id or version")
        self.instruments[key] = LoadedInstrument(key[0], key[1], definition, source,
                                                 schema.definition_digest(definition))


def _merged_dicts(host, hook_name: str, kind: str, owners: dict, prefix: str) -> dict:
    merged: dict = {}
    # Call order runs from plugins to built-ins; apply in reverse so plugins win.
    for plugin_name, result in reversed(host.call_isolated(hook_name)):
        if not isinstance(result, dict):
            host.fail(plugin_name, f"{hook_name} must return a dict of {kind}, got {type(result).__name__}",
                      state="error")
            continue
        merged.update(result)
        owners.update({f"{prefix}:{name}": plugin_name for name in result})
    return merged


def _definitions(host):
    for plugin_name, result in host.call_isolated("surveyhub_register_instruments"):
        if not isinstance(result, (list, tuple)):
            host.fail(plugin_name, "surveyhub_register_instruments must return a list", state="error")
            continue
        for entry in result:
            yield plugin_name, entry


def build_registry(host) -> InstrumentRegistry:
    owners: dict[str, str] = {}
    registry = InstrumentRegistry(
        scoring_methods=_merged_dicts(host, "surveyhub_register_scoring_methods", "scoring methods", owners, "method"),
        question_types=_merged_dicts(host, "surveyhub_register_question_types", "question types", owners, "type"),
        owners=owners,
    )
    for plugin_name, entry in _definitions(host):
        if isinstance(entry, (str, Path)):
            source = str(entry)
            try:
                data = schema.load_instrument_file(entry)
            except schema.InstrumentError as exc:
                registry.errors.extend(exc.errors)
                continue
        elif isinstance(entry, dict):
            data, source = entry, f"plugin {plugin_name}"
        else:
            host.fail(plugin_name, f"instrument entries must be dicts or paths, got {type(entry).__name__}",
                      state="error")
            continue
        registry.add(data, source)
    return registry


def init_app(app: Flask) -> None:
    from surveyhub.plugins import get_host

    app.extensions["surveyhub.registry"] = build_registry(get_host(app))


def get_registry(app: Flask | None = None) -> InstrumentRegistry:
    return (app or current_app).extensions["surveyhub.registry"]
