"""Plugins that fail while the app runs, registered by tests through ``EXTRA_PLUGINS``."""

from __future__ import annotations

from surveyhub import hookimpl

EXPLODING = {
    "id": "exploding_check",
    "version": 1,
    "title": {"nl": "Kapotte score", "en": "Broken score"},
    "answer_sets": {"agree3": [
        {"value": 1, "label": {"nl": "Niet mee eens", "en": "Disagree"}},
        {"value": 2, "label": {"nl": "Neutraal", "en": "Neutral"}},
        {"value": 3, "label": {"nl": "Mee eens", "en": "Agree"}},
    ]},
    "scales": [{
        "id": "broken",
        "title": {"nl": "Kapot", "en": "Broken"},
        "items": [{"id": f"ex_{n}", "type": "choice", "answer_set": "agree3",
                   "text": {"nl": f"Stelling {n}.", "en": f"Statement {n}."}} for n in (1, 2, 3)],
        "scoring": {"method": "explode"},
    }],
}


def explode(values, scale):
    return sum(v for v in values.values() if v is not None) / 0  # a plugin's bug, on purpose


class ExplodingScoring:
    """A scoring method that raises whenever a response is scored."""

    @hookimpl
    def surveyhub_register_scoring_methods(self):
        return {"explode": explode}

    @hookimpl
    def surveyhub_register_instruments(self):
        return [EXPLODING]


class RaisingListener:
    """A completed-response listener whose webhook is down."""

    @hookimpl
    def surveyhub_response_completed(self, response):
        raise ConnectionError("webhook https://example.org/hook is unreachable")


class ListScoring:
    """Returns a list where a dict of methods is expected."""

    @hookimpl
    def surveyhub_register_scoring_methods(self):
        return [lambda values, scale: 1.0]


class StringInstruments:
    """Returns a file name where a list of definitions is expected."""

    @hookimpl
    def surveyhub_register_instruments(self):
        return "instruments/organising.yaml"


class NotCallableScoring:
    """Maps one name to something that is not a callable, next to a good method."""

    @hookimpl
    def surveyhub_register_scoring_methods(self):
        return {"half": "mean / 2", "maximum": lambda values, scale: max(
            (v for v in values.values() if v is not None), default=None)}


class DuplicateOrganising:
    """Registers the shipped organising version again, next to the shipped YAML file."""

    def __init__(self, definition: dict):
        self.definition = definition

    @hookimpl
    def surveyhub_register_instruments(self):
        return [self.definition]
