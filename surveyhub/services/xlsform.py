"""An instrument from an XLSForm workbook (the Kobo/ODK spreadsheet), checked exactly as a YAML upload is.

The workbook is read as data only (openpyxl read-only, cached values, bounded
in bytes, rows and columns); nothing in it is ever run. The ``survey`` sheet's
rows become items (``select_one`` -> choice, ``select_multiple`` -> choices,
``integer``/``decimal``/``range`` -> number, ``text``), ``choices`` become
answer sets, labels per language (``label::Nederlands (nl)``) become
translated texts. SurveyHub columns say what XLSForm cannot: which scale an
item scores (``surveyhub_scale``), whether it is reverse-worded
(``surveyhub_reverse``) and its SurveyHub type (``surveyhub_type``); the
``surveyhub`` sheet holds the rest as JSON (``xlsform_export`` writes both).
A plain Kobo form without them gets what can be read, and every missing
piece as an error, never a guess. Every error names the sheet, row and column.
"""

from __future__ import annotations

import json
import re
from typing import Any

from surveyhub.measures.definition import InstrumentError
from surveyhub.measures.validation import validate_definition
from surveyhub.services.xlsform_sheets import (CHOICES, INSTRUMENT_IN_SHEETS, META, META_INSTRUMENT, SETTINGS,
                                               SURVEY, Reader, language_code, languages, nl_column,
                                               read_sheets, translated, where)
from surveyhub.services.xlsform_sheets import MAX_BYTES as MAX_BYTES  # the upload limit callers read
from surveyhub.services.xlsform_survey import read_survey


#: Nesting of a JSON value in the surveyhub sheet: an instrument needs 4 (levels -> level -> label -> text).
MAX_DEPTH = 20


def _depth(value: Any) -> int:
    """How deeply lists and mappings nest in ``value`` (without recursion: the value may be hostile)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        current, level = todo.pop()
        if isinstance(current, (list, dict)):
            deepest = max(deepest, level)
            todo += [(child, level + 1) for child in (current.values() if isinstance(current, dict) else current)]
    return deepest


def _read_meta(reader: Reader) -> None:
    """The ``surveyhub`` sheet: (element, key) -> the JSON value, for what XLSForm cannot hold."""
    sheet = reader.sheets.get(META)
    if sheet is None:
        return
    for row, cells in sheet.rows:
        element, key, raw = cells.get("element", ""), cells.get("key", ""), cells.get("value", "")
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError):
            reader.error(where(sheet, row, "value"), "not valid JSON")
            continue
        if _depth(value) > MAX_DEPTH:
            reader.error(where(sheet, row, "value"), f"nested more than {MAX_DEPTH} levels deep")
            continue
        reader.meta.setdefault(element, {})[key] = value
        path = {META_INSTRUMENT: (key,)}.get(element)
        if path:
            reader.place(path, where(sheet, row, "value"))


def _settings(reader: Reader) -> tuple[Any, Any, dict, str]:
    """(id, version, title, default language) from the settings sheet and the SurveyHub sheet."""
    sheet = reader.sheets.get(SETTINGS)
    cells = sheet.rows[0][1] if sheet and sheet.rows else {}
    row = sheet.rows[0][0] if sheet and sheet.rows else 2
    default = language_code(cells.get("default_language", "")) or "nl"
    form_id = cells.get("form_id", "")
    instrument_id = re.sub(r"_v\d+$", "", form_id)
    version: Any = cells.get("version", "")
    where = sheet.name if sheet else SETTINGS
    if not form_id:
        reader.error(f"{where}, row {row}, column form_id", "empty; write the instrument id, e.g. buurt_v1")
    if not version:
        reader.error(f"{where}, row {row}, column version", "empty; write the instrument's version number (1, 2 ...)")
    elif version.isdigit():
        version = int(version)
    reader.place(("id",), f"{where}, row {row}, column form_id")
    reader.place(("version",), f"{where}, row {row}, column version")
    title = reader.meta.get(META_INSTRUMENT, {}).get("title")
    if title is None:
        title = {default: cells["form_title"]} if cells.get("form_title") else {}
        reader.place(("title",), f"{where}, row {row}, column form_title")
    return instrument_id, version, title, default


def _choices(reader: Reader, default: str, used: set[str], yes_no_list: str | None) -> dict[str, list]:
    sheet = reader.sheets.get(CHOICES)
    if sheet is None:
        if used:
            reader.error(CHOICES, "the sheet is missing; it holds the answers of select_one questions")
        return {}
    labels = languages(reader, sheet, "label", default)
    sets: dict[str, list] = {}
    seen: dict[tuple[str, str], int] = {}
    for row, cells in sheet.rows:
        name, value = cells.get("list_name", ""), cells.get("name", "")
        if not name:
            reader.error(where(sheet, row, "list_name"), "empty")
            continue
        if name == yes_no_list:
            continue  # SurveyHub's own yes/no answers (1/0), not an answer set
        if name not in used and not re.fullmatch(r"[+-]?\d+(\.\d+)?", value):
            continue  # a list no question uses, with text values: not an answer set
        if (name, value) in seen:
            reader.error(where(sheet, row, "name"), f"{value!r} appears twice in the list {name!r} "
                         f"(also row {seen[(name, value)]})")
            continue
        seen[(name, value)] = row
        try:
            number = float(value)
        except ValueError:
            reader.error(where(sheet, row, "name"), f"{value!r} is not a number; SurveyHub answers are scored, "
                         "so each answer's name is its value (1, 2, 3 ...)")
            continue
        options = sets.setdefault(name, [])
        label = translated(cells, labels)
        if not label.get("nl"):
            reader.error(where(sheet, row, nl_column(labels)), "empty")
        reader.place(("answer_sets", name, len(options)), where(sheet, row))
        reader.place(("answer_sets", name, len(options), "label"), where(sheet, row, nl_column(labels)))
        options.append({"value": int(number) if number.is_integer() and "." not in value else number,
                        "label": label})
    return sets


def read_definition(content: bytes, source: str) -> tuple[dict, dict[str, str]]:
    """(definition, places) from an XLSForm; InstrumentError lists every problem in the sheets.

    The definition is not validated yet (see ``parse_xlsform``).
    """
    reader = Reader(source, read_sheets(content, source))
    if SURVEY not in reader.sheets:
        raise InstrumentError([f"{source}: there is no 'survey' sheet; an XLSForm has the sheets survey, "
                               "choices and settings"])
    _read_meta(reader)
    instrument_id, version, title, default = _settings(reader)
    survey = read_survey(reader, default)
    answer_sets = _choices(reader, default, survey.lists, survey.yes_no_list)
    for list_name, (row, column) in survey.lists_used.items():
        if list_name not in answer_sets and list_name != survey.yes_no_list:
            reader.error(where(reader.sheets[SURVEY], row, column), f"unknown list {list_name!r}: the choices "
                         "sheet has no answers with that list_name")
    if reader.errors:
        raise InstrumentError(reader.errors)
    data: dict[str, Any] = {"id": instrument_id, "version": version, "title": title}
    data |= {key: value for key, value in reader.meta.get(META_INSTRUMENT, {}).items()
             if key not in INSTRUMENT_IN_SHEETS and key != "title"}
    data |= {"answer_sets": answer_sets, "scales": survey.scales}
    if survey.questions:
        data["questions"] = survey.questions
    return data, reader.places


def _placed(error: str, source: str, places: dict[str, str]) -> str:
    """A validation error with the sheet, row and column of its path put first."""
    prefix = f"{source}: "
    if not error.startswith(prefix):
        return error
    path, sep, message = error[len(prefix):].partition(": ")
    if not sep:
        return error
    best = max((p for p in places if path == p or path.startswith((p + ".", p + "["))), key=len, default=None)
    return f"{prefix}{places[best]}: {message} ({path})" if best else error


def parse_xlsform(content: bytes, source: str, **known: Any) -> dict:
    """The definition in an XLSForm, validated as a YAML upload is (``known``: ``registry.known()``)."""
    data, places = read_definition(content, source)
    errors = validate_definition(data, source, **known)
    if errors:
        raise InstrumentError([_placed(error, source, places) for error in errors])
    return data


def upload(session, registry, actor, content: bytes, filename: str):
    """Validate and store an organisation's XLSForm as its own instrument (see ``instruments.upload``)."""
    from surveyhub.services import instruments

    data = parse_xlsform(content, filename, **registry.known())
    return instruments.upload_definition(session, registry, actor, data, filename)
