"""The ``survey`` sheet of an XLSForm as SurveyHub scales and questions.

A row's SurveyHub type comes from ``surveyhub_type`` or else from its XLSForm
type; its scale from ``surveyhub_scale`` (empty: a question without a score).
A scale's title is the label of the ``begin_group`` row that names it in
``surveyhub_scale``. A form without the ``surveyhub_scale`` column cannot
say which scale a scored question belongs to: that is an error naming the
rows, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from surveyhub.services.xlsform_sheets import (COL_REVERSE, COL_SCALE, COL_TYPE, ITEM_IN_SHEETS, META_FORM,
                                               META_ITEM, META_SCALE, NUMBER_TYPES, PARTICIPANT_FIELD,
                                               SCALE_IN_SHEETS, SKIPPED_TYPES, SURVEY, Reader, Sheet,
                                               languages, nl_column, translated, truth, where)

_GROUPED = re.compile(r"^(begin|end|select)[ _](group|repeat|one|multiple)\b\s*(.*)$", re.I)
_RANGE = re.compile(r"^\s*\.\s*>=\s*(-?\d+(?:\.\d+)?)\s+and\s+\.\s*<=\s*(-?\d+(?:\.\d+)?)\s*$")
#: SurveyHub types that carry a score; a row of these without a scale needs the author to say so.
_UNSCORED = frozenset({"text", "choices"})


@dataclass
class Survey:
    scales: list[dict] = field(default_factory=list)
    questions: list[dict] = field(default_factory=list)
    #: list names select rows use -> (row, column) of the first, to name an unknown list
    lists_used: dict[str, tuple[int, str]] = field(default_factory=dict)
    yes_no_list: str | None = None

    @property
    def lists(self) -> set[str]:
        return set(self.lists_used)


def _split_type(raw: str) -> tuple[str, str]:
    """``select one agree5`` / ``select_one agree5`` -> ("select_one", "agree5")."""
    found = _GROUPED.match(raw)
    if found:
        return f"{found.group(1)}_{found.group(2)}".lower(), found.group(3).strip()
    word, _, rest = raw.partition(" ")
    return word.lower(), rest.strip()


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def _range(cells: dict[str, str]) -> dict[str, Any]:
    """min/max/step from a plain form's ``parameters`` (range rows) or ``constraint`` (``. >= 0 and . <= 10``)."""
    found: dict[str, Any] = {}
    for part in cells.get("parameters", "").split():
        key, _, value = part.partition("=")
        if key in ("start", "end", "step") and re.fullmatch(r"-?\d+(\.\d+)?", value):
            found[{"start": "min", "end": "max"}.get(key, key)] = _number(value)
    limits = _RANGE.match(cells.get("constraint", ""))
    if limits and "min" not in found:
        found |= {"min": _number(limits.group(1)), "max": _number(limits.group(2))}
    return found


class _SurveyReader:
    def __init__(self, reader: Reader, default: str):
        self.reader = reader
        self.sheet: Sheet = reader.sheets[SURVEY]
        self.labels = languages(reader, self.sheet, "label", default)
        self.hints = languages(reader, self.sheet, "hint", default)
        self.survey = Survey(yes_no_list=reader.meta.get(META_FORM, {}).get("yes_no_list"))
        self.scales: dict[str, dict] = {}
        self.scale_rows: dict[str, int] = {}
        self.titled: set[str] = set()
        self.names: dict[str, int] = {}
        self.without_scale: list[tuple[int, str]] = []
        self.item_places: list[tuple[dict, int]] = []

    def error(self, row: int | None, column: str | None, message: str) -> None:
        self.reader.error(where(self.sheet, row, column), message)

    def read(self) -> Survey:
        for column in ("type", "name"):
            if not self.sheet.has(column):
                self.error(None, column, "the column is missing")
        if not self.labels:
            self.error(None, "label::Nederlands (nl)", "the column is missing; it holds each question's text")
        for row, cells in self.sheet.rows:
            self.row(row, cells)
        self.finish()
        return self.survey

    def row(self, row: int, cells: dict[str, str]) -> None:
        kind, rest = _split_type(cells.get("type", ""))
        if not kind:
            if cells.get("name"):
                self.error(row, "type", "empty; write the question type (select_one LIST, integer, text ...)")
            return
        if kind == "begin_group":
            self.group(row, cells)
        elif kind in ("begin_repeat", "end_repeat"):
            self.error(row, "type", "a repeat cannot be used in a SurveyHub instrument")
        elif kind == "end_group" or kind in SKIPPED_TYPES:
            return
        elif kind == "text" and cells.get("name") == PARTICIPANT_FIELD:
            return  # the participant code SurveyHub adds to every exported form
        else:
            self.item(row, cells, kind, rest)

    def scale(self, scale_id: str, row: int) -> dict:
        if scale_id not in self.scales:
            scale: dict[str, Any] = {"id": scale_id, "title": {}}
            extras = self.reader.meta.get(f"{META_SCALE}{scale_id}", {})
            scale |= {key: value for key, value in extras.items() if key not in SCALE_IN_SHEETS}
            scale["items"] = []
            self.scales[scale_id] = scale
            self.scale_rows[scale_id] = row
        return self.scales[scale_id]

    def group(self, row: int, cells: dict[str, str]) -> None:
        scale_id = cells.get(COL_SCALE, "")
        if not scale_id:
            return  # a group only for the form's layout
        scale = self.scale(scale_id, row)
        scale["title"] = translated(cells, self.labels)
        self.scale_rows[scale_id] = row
        self.titled.add(scale_id)
        if not scale["title"].get("nl"):
            self.error(row, nl_column(self.labels), "empty")

    def item_type(self, row: int, cells: dict[str, str], kind: str, rest: str) -> tuple[str | None, str | None]:
        """(SurveyHub type, answer set) of a question row; (None, None) after an error."""
        given = cells.get(COL_TYPE, "")
        if kind in ("select_one", "select_multiple"):
            words = rest.split()
            if len(words) != 1:
                self.error(row, "type", f"{kind} needs exactly one list name after it" + (
                    f" ({' '.join(words[1:])!r} cannot be used)" if len(words) > 1 else ""))
                return None, None
            if words[0] == self.survey.yes_no_list and kind == "select_one":
                return given or "yes_no", None
            self.survey.lists_used.setdefault(words[0], (row, "type"))
            return given or ("choices" if kind == "select_multiple" else "choice"), words[0]
        if kind in NUMBER_TYPES:
            return given or "number", None
        if kind == "text":
            return given or "text", None
        self.error(row, "type", f"the type {kind!r} cannot be used in SurveyHub; use select_one, "
                   "select_multiple, integer, decimal, range or text")
        return None, None

    def item(self, row: int, cells: dict[str, str], kind: str, rest: str) -> None:
        name = cells.get("name", "")
        if not name:
            self.error(row, "name", "empty; every question needs a name (its column in the answers file)")
            return
        if name in self.names:
            self.error(row, "name", f"{name!r} appears twice (also row {self.names[name]})")
            return
        self.names[name] = row
        item_type, answer_set = self.item_type(row, cells, kind, rest)
        if item_type is None:
            return
        item: dict[str, Any] = {"id": name, "type": item_type, "text": translated(cells, self.labels)}
        if not item["text"].get("nl"):
            self.error(row, nl_column(self.labels), "empty")
        if answer_set:
            item["answer_set"] = answer_set
        if help_text := translated(cells, self.hints):
            item["help"] = help_text
        for key, column in (("required", "required"), ("reverse", COL_REVERSE)):
            value = truth(cells.get(column, ""))
            if value is None:
                self.error(row, column, f"wrong value {cells[column]!r}; write true or false")
            elif value:
                item[key] = True
        extras = self.reader.meta.get(f"{META_ITEM}{name}")
        if extras is not None:
            item |= {key: value for key, value in extras.items() if key not in ITEM_IN_SHEETS}
        elif item_type == "number":
            item |= _range(cells)
        self.place(item, row, cells)

    def place(self, item: dict, row: int, cells: dict[str, str]) -> None:
        if self.sheet.has(COL_SCALE):
            scale_id = cells.get(COL_SCALE, "")
        elif item["type"] in _UNSCORED:
            scale_id = ""
        else:
            self.without_scale.append((row, item["id"]))
            return
        if scale_id:
            self.scale(scale_id, row)["items"].append(item)
        else:
            self.survey.questions.append(item)
        self.item_places.append((item, row))

    def finish(self) -> None:
        if self.without_scale:
            rows = ", ".join(f"{row} ({name})" for row, name in self.without_scale)
            self.error(None, COL_SCALE, "the column is missing, so it is unclear which scale each question "
                       f"scores (rows {rows}); add it with the scale's id per question, empty for a question "
                       "without a score, and a begin_group row per scale with that id and the scale's title")
        for scale_id in self.scales:
            if scale_id not in self.titled:
                self.error(self.scale_rows[scale_id], COL_SCALE, f"the scale {scale_id!r} has no title: add a "
                           f"begin_group row with {COL_SCALE} {scale_id} and the scale's title as its label")
        self.survey.scales = list(self.scales.values())
        self.record_places()

    def record_places(self) -> None:
        rows = {id(item): row for item, row in self.item_places}
        label = nl_column(self.labels)
        hint = next((c for c, code in self.hints.items() if code == "nl"), "hint")
        paths: list[tuple[tuple, list[dict]]] = [(("scales", i), scale["items"])
                                                 for i, scale in enumerate(self.scales.values())]
        paths.append((("questions",), self.survey.questions))
        for i, scale_id in enumerate(self.scales):
            self.reader.place(("scales", i), where(self.sheet, self.scale_rows[scale_id]))
            self.reader.place(("scales", i, "title"), where(self.sheet, self.scale_rows[scale_id], label))
        for prefix, items in paths:
            base = prefix + ("items",) if prefix[0] == "scales" else prefix
            for j, item in enumerate(items):
                row = rows[id(item)]
                self.reader.place(base + (j,), where(self.sheet, row))
                for key, column in (("text", label), ("help", hint), ("type", "type"), ("answer_set", "type"),
                                    ("reverse", COL_REVERSE), ("required", "required")):
                    self.reader.place(base + (j, key), where(self.sheet, row, column))


def read_survey(reader: Reader, default: str) -> Survey:
    """Scales and questions of the survey sheet; problems go to ``reader.errors``."""
    return _SurveyReader(reader, default).read()
