"""An instrument as an XLSForm workbook (the Kobo/ODK spreadsheet), so field teams can collect with it.

The ``survey`` sheet asks a ``participant`` code first, then one group per
scale with a ``select_one`` (or number, text ...) row per item, then the
questions without a score. Field names are the item ids: exactly the columns
``surveyhub responses import`` reads, so a Kobo/ODK CSV export of the answers
imports back. SurveyHub columns (``surveyhub_scale``, ``surveyhub_reverse``,
``surveyhub_type``) and a ``surveyhub`` sheet (JSON of what XLSForm cannot
carry: levels, scoring, norms, short forms, can-do and look-back wording)
make the round trip lossless; Kobo and ODK ignore both. Every workbook is
converted with pyxform before it is handed out: a form that Kobo would refuse
is never produced.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet

from surveyhub.measures.definition import InstrumentError, translations_of
from surveyhub.measures.questions import format_number
from surveyhub.services import xlsform_sheets as xf

#: Words of the rows SurveyHub adds itself, per language (missing languages get the Dutch).
PARTICIPANT_LABEL = {"nl": "Code van de deelnemer", "en": "Participant code"}
YES_NO = (("1", {"nl": "Ja", "en": "Yes"}), ("0", {"nl": "Nee", "en": "No"}))


def languages_of(data: dict) -> list[str]:
    """The instrument's languages, Dutch first: those it lists, then any a text uses."""
    found = [lang for lang in data.get("languages") or [] if isinstance(lang, str)]
    for _path, text in translations_of(data):
        found += [lang for lang in text if lang not in found]
    ordered = ["nl"] + [lang for lang in found if lang != "nl"]
    return list(dict.fromkeys(ordered))


def _xlsform_type(item: dict, yes_no_list: str) -> str:
    kind = item["type"]
    if kind == "yes_no":
        return f"select_one {yes_no_list}"
    if item.get("answer_set"):
        return f"{'select_multiple' if kind == 'choices' else 'select_one'} {item['answer_set']}"
    if kind == "number":
        step = item.get("step")
        whole = step is not None and float(step).is_integer() and all(
            float(item.get(key, 0)).is_integer() for key in ("min", "max"))
        return "integer" if whole else "decimal"
    return "text"


def _constraint(item: dict) -> str:
    if item["type"] != "number" or "min" not in item or "max" not in item:
        return ""
    return f". >= {format_number(item['min'])} and . <= {format_number(item['max'])}"


def _yes_no_list(data: dict) -> str:
    """A choices list name for yes/no items that no answer set uses."""
    sets = data.get("answer_sets") or {}
    name, n = "yes_no", 1
    while name in sets:
        n += 1
        name = f"yes_no_{n}"
    return name


class _Sheet:
    """Rows written by column name; strings that look like formulas stay text."""

    def __init__(self, sheet: Worksheet, columns: list[str]):
        self.sheet, self.columns = sheet, columns
        sheet.append(columns)

    def add(self, **values: str) -> None:
        self.add_row(values)

    def add_row(self, values: dict[str, str]) -> None:
        row = self.sheet.max_row + 1
        for index, column in enumerate(self.columns, start=1):
            value = values.get(column, "")
            if value == "":
                continue
            # Control characters (a \v in a YAML string) cannot be stored in an .xlsx: left out, not an error.
            cell = self.sheet.cell(row=row, column=index, value=ILLEGAL_CHARACTERS_RE.sub("", str(value)))
            cell.data_type = "s"  # "=..." is a resident's text, never a formula


def _translated(prefix: str, text: dict | None, langs: Iterable[str]) -> dict[str, str]:
    return {xf.language_column(prefix, lang): text[lang] for lang in langs
            if isinstance(text, dict) and text.get(lang)}


def _fallback(text: dict, langs: list[str]) -> dict:
    return {lang: text.get(lang) or text["nl"] for lang in langs}


def _item_row(item: dict, scale_id: str, langs: list[str], yes_no_list: str) -> dict[str, str]:
    row = {"type": _xlsform_type(item, yes_no_list), "name": item["id"], "required": "yes" if item.get("required")
           else "", "constraint": _constraint(item), xf.COL_SCALE: scale_id, xf.COL_TYPE: item["type"],
           **_translated("label", item.get("text"), langs), **_translated("hint", item.get("help"), langs)}
    if scale_id:
        row[xf.COL_REVERSE] = "true" if item.get("reverse") else "false"
    return row


def _all_items(data: dict) -> list[tuple[bool, dict]]:
    """(scored, item) for every item: the scales' first, then the questions without a score."""
    return [(True, item) for scale in data["scales"] for item in scale["items"]] + [
        (False, item) for item in data.get("questions") or []]


def _meta_rows(data: dict) -> list[tuple[str, str, object]]:
    """(element, key, value) for everything the survey and choices sheets do not carry."""
    rows: list[tuple[str, str, object]] = [
        (xf.META_INSTRUMENT, key, value) for key, value in data.items() if key not in xf.INSTRUMENT_IN_SHEETS]
    for scale in data["scales"]:
        rows += [(f"{xf.META_SCALE}{scale['id']}", key, value) for key, value in scale.items()
                 if key not in xf.SCALE_IN_SHEETS]
    rows += [(f"{xf.META_ITEM}{item['id']}", key, value) for _scored, item in _all_items(data)
             for key, value in item.items() if key not in xf.ITEM_IN_SHEETS]
    return rows


def build_workbook(data: dict) -> Workbook:
    """The XLSForm workbook for a valid definition (not yet checked; see ``export``)."""
    langs = languages_of(data)
    yes_no_list = _yes_no_list(data)
    book = Workbook()
    survey_sheet = book.active
    survey_sheet.title = xf.SURVEY
    hints = langs if any(item.get("help") for _scored, item in _all_items(data)) else []
    survey = _Sheet(survey_sheet, ["type", "name", *[xf.language_column("label", lang) for lang in langs],
                                   *[xf.language_column("hint", lang) for lang in hints], "required",
                                   "constraint", xf.COL_SCALE, xf.COL_REVERSE, xf.COL_TYPE])
    survey.add_row({"type": "text", "name": xf.PARTICIPANT_FIELD, "required": "yes",
                    **_translated("label", _fallback(PARTICIPANT_LABEL, langs), langs)})
    for scale in data["scales"]:
        survey.add_row({"type": "begin_group", "name": scale["id"], xf.COL_SCALE: scale["id"],
                        **_translated("label", scale["title"], langs)})
        for item in scale["items"]:
            survey.add_row(_item_row(item, scale["id"], langs, yes_no_list))
        survey.add_row({"type": "end_group", "name": scale["id"]})
    for item in data.get("questions") or []:
        survey.add_row(_item_row(item, "", langs, yes_no_list))

    choices = _Sheet(book.create_sheet(xf.CHOICES), ["list_name", "name",
                                                      *[xf.language_column("label", lang) for lang in langs]])
    for name, options in (data.get("answer_sets") or {}).items():
        for option in options:
            choices.add_row({"list_name": name, "name": format_number(option["value"]),
                             **_translated("label", option["label"], langs)})
    if any(item["type"] == "yes_no" for _scored, item in _all_items(data)):
        for value, label in YES_NO:
            choices.add_row({"list_name": yes_no_list, "name": value,
                             **_translated("label", _fallback(label, langs), langs)})

    settings = _Sheet(book.create_sheet(xf.SETTINGS), ["form_title", "form_id", "version", "default_language"])
    settings.add_row({"form_title": data["title"]["nl"], "form_id": f"{data['id']}_v{data['version']}",
                      "version": str(data["version"]), "default_language": xf.language_label("nl")})

    meta = _Sheet(book.create_sheet(xf.META), ["element", "key", "value"])
    meta.add_row({"element": xf.META_FORM, "key": "yes_no_list", "value": json.dumps(yes_no_list)})
    for element, key, part in _meta_rows(data):
        meta.add_row({"element": element, "key": key, "value": json.dumps(part, ensure_ascii=False, sort_keys=True)})
    return book


def check_with_pyxform(content: bytes) -> list[str]:
    """Convert the workbook to an XForm with pyxform; return its warnings, raise InstrumentError if it fails."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    try:
        convert(xlsform=io.BytesIO(content), warnings=warnings, file_type=".xlsx")
    except PyXFormError as exc:
        raise InstrumentError([f"pyxform refused the exported form: {exc}"]) from None
    return warnings


def export(data: dict) -> bytes:
    """The .xlsx bytes of a valid definition, after pyxform has converted them without error."""
    out = io.BytesIO()
    build_workbook(data).save(out)
    content = out.getvalue()
    check_with_pyxform(content)
    return content
