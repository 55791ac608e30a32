"""Built-in behaviour, registered as ordinary plugins (``trylast`` so plugins may override).

- ``surveyhub.instruments``: the YAML files of the instruments folder;
- ``surveyhub.scoring``: the ``mean`` and ``sum`` scoring methods;
- ``surveyhub.question_types``: ``choice``, ``number``, ``text`` and ``yes_no``.
"""

from __future__ import annotations

from pathlib import Path

from surveyhub.hookspecs import hookimpl


class YamlInstruments:
    """Registers every ``*.yaml`` file in the instruments folder."""

    def __init__(self, folder: str | None):
        self.folder = Path(folder) if folder else None

    @hookimpl(trylast=True)
    def surveyhub_register_instruments(self):
        if self.folder is None or not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("*.yaml")) + sorted(self.folder.glob("*.yml"))


class BuiltinScoring:
    @hookimpl(trylast=True)
    def surveyhub_register_scoring_methods(self):
        from surveyhub.measures.scoring import BUILTIN_METHODS

        return dict(BUILTIN_METHODS)


class BuiltinQuestionTypes:
    @hookimpl(trylast=True)
    def surveyhub_register_question_types(self):
        from surveyhub.measures.questions import BUILTIN_TYPES

        return dict(BUILTIN_TYPES)


def builtin_plugins(config) -> dict[str, object]:
    return {
        "surveyhub.instruments": YamlInstruments(config.get("INSTRUMENTS_DIR")),
        "surveyhub.scoring": BuiltinScoring(),
        "surveyhub.question_types": BuiltinQuestionTypes(),
    }
