"""The shared ground of XLSForm import and export: sheet and column names, languages, reading a workbook.

A workbook is read as data only: openpyxl in read-only mode with cached
values, bounded in bytes (packed and unpacked), rows and columns; nothing in
it is ever run, and any file openpyxl cannot read is one line for the author.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from surveyhub.locale import LANGUAGE_NAMES
from surveyhub.measures.definition import InstrumentError, path_text
from surveyhub.services.imports import PARTICIPANT_COLUMN

SURVEY, CHOICES, SETTINGS, META = "survey", "choices", "settings", "surveyhub"
COL_SCALE, COL_REVERSE, COL_TYPE = "surveyhub_scale", "surveyhub_reverse", "surveyhub_type"
#: The answer import's code column is the form's first question.
PARTICIPANT_FIELD = PARTICIPANT_COLUMN
META_FORM, META_INSTRUMENT, META_SCALE, META_ITEM = "form", "instrument", "scale:", "item:"
#: Keys the survey, choices and settings sheets carry; everything else goes to the ``surveyhub`` sheet.
INSTRUMENT_IN_SHEETS = frozenset({"id", "version", "answer_sets", "scales", "questions"})
SCALE_IN_SHEETS = frozenset({"id", "title", "items"})
ITEM_IN_SHEETS = frozenset({"id", "type", "text", "help", "reverse", "required", "answer_set"})

MAX_BYTES = 2 * 1024 * 1024
#: Unpacked size of all parts: a small .xlsx never needs more; a zip bomb is refused before parsing.
MAX_UNPACKED = 40 * 1024 * 1024
MAX_ROWS = 1000
#: Rows looked at for a filled one past ``MAX_ROWS`` (cheap: blank rows cost little), so an item typed far
#: below the form is refused rather than silently left out.
SCANNED_ROWS = 50 * MAX_ROWS
MAX_COLUMNS = 200
MAX_CELL = 32767  # Excel's own limit

#: Kobo/ODK rows that collect nothing SurveyHub scores or asks: skipped on import.
SKIPPED_TYPES = frozenset({"start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber",
                           "username", "email", "audit", "note", "calculate", "start-geopoint"})
NUMBER_TYPES = frozenset({"integer", "decimal", "range"})
_TRUE, _FALSE = {"true", "yes", "1", "ja", "waar"}, {"false", "no", "0", "", "nee", "onwaar"}
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_NAME_TO_CODE = {name.casefold(): code for code, name in LANGUAGE_NAMES.items()} | {
    "dutch": "nl", "english": "en", "turkish": "tr", "arabic": "ar", "polish": "pl"}


def language_label(code: str) -> str:
    """``nl`` -> ``Nederlands (nl)``: the XLSForm way of naming a language."""
    return f"{LANGUAGE_NAMES.get(code, code)} ({code})"


def language_column(prefix: str, code: str) -> str:
    return f"{prefix}::{language_label(code)}"


def language_code(name: str) -> str | None:
    """``Nederlands (nl)``, ``Dutch``, ``nl`` -> ``nl``; None when the language cannot be told."""
    name = name.strip()
    found = re.search(r"\(([^()]+)\)\s*$", name)
    if found and _LANGUAGE_CODE.match(found.group(1).strip()):
        return found.group(1).strip()
    if _LANGUAGE_CODE.match(name):
        return name
    return _NAME_TO_CODE.get(name.casefold())


# --- reading the workbook ---------------------------------------------------------------

@dataclass
class Sheet:
    """One sheet as text cells: ``header`` (column names) and ``rows`` (row number, {column: text})."""

    name: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    def has(self, column: str) -> bool:
        return column in self.header


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_sheets(content: bytes, source: str) -> dict[str, Sheet]:
    """Every sheet of an .xlsx as text; InstrumentError (never a traceback) for anything else."""
    if len(content) > MAX_BYTES:
        raise InstrumentError([f"{source}: the file is too large; an XLSForm may be at most "
                               f"{MAX_BYTES // 1024 // 1024} MB"])
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise InstrumentError([f"{source}: this is not an .xlsx workbook (XLSForm); save it from Excel, "
                               "LibreOffice or Kobo as .xlsx"]) from None
    if unpacked > MAX_UNPACKED:
        raise InstrumentError([f"{source}: the workbook unpacks to more than {MAX_UNPACKED // 1024 // 1024} MB"])
    try:
        return _read(content, source)
    except InstrumentError:
        raise
    except Exception:  # noqa: BLE001 - openpyxl fails in many ways on a broken file; the author needs one line
        raise InstrumentError([f"{source}: the workbook cannot be read; save it again as .xlsx"]) from None


def _read(content: bytes, source: str) -> dict[str, Sheet]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        sheets: dict[str, Sheet] = {}
        for ws in book.worksheets:
            sheet = _read_sheet(ws, source)
            sheets.setdefault(sheet.name.strip().casefold(), sheet)
        return sheets
    finally:
        book.close()


def _column_name(text: str) -> str:
    """``Type`` -> ``type``, ``Label::Nederlands (nl)`` -> ``label::Nederlands (nl)``: XLSForm ignores case."""
    head, sep, rest = text.partition("::")
    return head.strip().lower() + (sep + rest.strip() if sep else "")


def _read_sheet(ws, source: str) -> Sheet:
    rows = ws.iter_rows(max_row=SCANNED_ROWS, max_col=MAX_COLUMNS, values_only=True)
    header_cells = next(rows, None) or ()
    header = [_column_name(_text(cell)) for cell in header_cells]
    while header and not header[-1]:
        header.pop()
    sheet = Sheet(ws.title, header)
    for number, values in enumerate(rows, start=2):
        cells = {header[i]: _text(v)[:MAX_CELL] for i, v in enumerate(values)
                 if i < len(header) and header[i] and _text(v)}
        if not cells:
            continue
        if number > MAX_ROWS + 1:
            raise InstrumentError([f"{source}: {ws.title}: more than {MAX_ROWS} rows; an instrument is shorter"])
        sheet.rows.append((number, cells))
    return sheet


@dataclass
class Reader:
    source: str
    sheets: dict[str, Sheet]
    errors: list[str] = field(default_factory=list)
    #: definition path (as ``path_text``) -> "sheet, row N, column C", to say where a validation error is.
    places: dict[str, str] = field(default_factory=dict)
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{self.source}: {where}: {message}")

    def place(self, path: tuple, where: str) -> None:
        self.places[path_text(path)] = where


def where(sheet: Sheet, row: int | None = None, column: str | None = None) -> str:
    parts = [sheet.name] + ([f"row {row}"] if row else []) + ([f"column {column}"] if column else [])
    return ", ".join(parts)


def languages(reader: Reader, sheet: Sheet, prefix: str, default: str) -> dict[str, str]:
    """Column -> language code for ``label``/``hint`` columns; a column whose language is unclear is an error."""
    found: dict[str, str] = {}
    for column in sheet.header:
        head, sep, rest = column.partition("::")
        if head.strip().casefold() != prefix:
            continue
        code = language_code(rest) if sep else default
        if code is None:
            reader.error(where(sheet, column=column), "cannot tell the language; name the column like "
                         f"{language_column(prefix, 'nl')}")
        else:
            found[column] = code
    return found


def translated(cells: dict[str, str], columns: dict[str, str]) -> dict[str, str]:
    return {code: cells[column] for column, code in columns.items() if cells.get(column)}


def nl_column(columns: dict[str, str]) -> str:
    return next((column for column, code in columns.items() if code == "nl"), language_column("label", "nl"))


def truth(text: str) -> bool | None:
    """``yes``/``true``/``1`` -> True, ``no``/``false``/``0``/empty -> False, anything else None."""
    value = text.strip().casefold()
    return True if value in _TRUE else False if value in _FALSE else None
