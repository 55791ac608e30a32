"""XLSForm in and out: an instrument travels to Kobo/ODK and back without losing anything.

Every shipped instrument goes YAML -> XLSForm -> pyxform (must convert) ->
import -> the same definition. The exported form's field names are the
columns the CSV answer import reads, so answers collected with Kobo import
back. A bad workbook gets every problem with its sheet, row and column, and
no workbook, however odd, ever gets a traceback.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyxform.xls2xform import convert

from surveyhub.measures.definition import InstrumentError, normalise
from surveyhub.measures.yaml_loader import load_instrument_file
from surveyhub.plugins import get_registry
from surveyhub.services import access, imports, xlsform, xlsform_export
from tests.fixtures.outcomes import new_project

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "instruments").glob("*.yaml"))
NL, EN = "label::Nederlands (nl)", "label::English (en)"
SURVEY_HEAD = ["type", "name", NL, EN, "surveyhub_scale", "surveyhub_reverse"]
CHOICES_HEAD = ["list_name", "name", NL, EN]
AGREE3 = [["agree3", "1", "Niet mee eens", "Disagree"], ["agree3", "2", "Neutraal", "Neutral"],
          ["agree3", "3", "Mee eens", "Agree"]]


def workbook(survey: list[list] | None, choices: list[list] | None = None, *,
             survey_head: list[str] = SURVEY_HEAD, settings: list[list] | None = None) -> bytes:
    """A hand-made XLSForm: each sheet is a header row plus rows (None leaves a sheet out)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    sheets = {"survey": (survey_head, survey), "choices": (CHOICES_HEAD, choices),
              "settings": (["form_title", "form_id", "version"], settings or [["Buurtquiz", "buurtquiz", "1"]])}
    for name, (head, rows) in sheets.items():
        if rows is None:
            continue
        sheet = book.create_sheet(name)
        sheet.append(head)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def good_survey() -> list[list]:
    return [["begin_group", "knowing", "De buurt kennen", "Knowing the neighbourhood", "knowing", ""],
            ["select_one agree3", "bq_1", "Ik ken mijn buren.", "I know my neighbours.", "knowing", "false"],
            ["select_one agree3", "bq_2", "Ik ken niemand.", "I know nobody.", "knowing", "true"],
            ["end_group", "knowing", "", "", "", ""],
            ["text", "proud_of", "Waar ben je trots op?", "What are you proud of?", "", ""]]


def problems(content: bytes) -> list[str]:
    with pytest.raises(InstrumentError) as caught:
        xlsform.parse_xlsform(content, "form.xlsx")
    return caught.value.errors


def sheet_rows(content: bytes, name: str) -> list[dict]:
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True)[name]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


# --- round trip ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_instrument_goes_to_xlsform_and_back_unchanged(path):
    original = load_instrument_file(path)
    content = xlsform_export.export(original)
    xform = convert(xlsform=io.BytesIO(content), file_type=".xlsx").xform  # what Kobo/ODK would do
    item_ids = [item["id"] for scale in original["scales"] for item in scale["items"]]
    assert all(f"<{item_id}" in xform for item_id in item_ids)
    back = xlsform.parse_xlsform(content, f"{path.stem}.xlsx")
    assert normalise(back) == normalise(original)


def test_the_export_speaks_xlsform_with_every_language_and_the_surveyhub_columns():
    original = load_instrument_file(ROOT / "instruments" / "cooperation.yaml")
    content = xlsform_export.export(original)
    survey = sheet_rows(content, "survey")
    assert survey[0]["type"] == "text" and survey[0]["name"] == "participant"
    assert survey[1] == {**survey[1], "type": "begin_group", "name": "cooperation", "surveyhub_scale": "cooperation",
                         "label::Nederlands (nl)": "Samenwerken", "label::العربية (ar)": "العمل معًا"}
    assert survey[2]["type"] == "select_one agree5" and survey[2]["surveyhub_reverse"] == "false"
    assert survey[2]["label::Polski (pl)"] == "Pracuję z innymi mieszkańcami nad planem dla okolicy."
    assert [r["name"] for r in sheet_rows(content, "choices")] == ["1", "2", "3", "4", "5"]
    assert sheet_rows(content, "settings") == [{"form_title": "Samenwerken", "form_id": "cooperation_v2",
                                               "version": "2", "default_language": "Nederlands (nl)"}]
    extra = {(r["element"], r["key"]) for r in sheet_rows(content, "surveyhub")}
    assert {("scale:cooperation", "levels"), ("scale:cooperation", "short_form"),
            ("item:coo_1", "can_do"), ("item:coo_1", "retrospective_text")} <= extra


def test_yes_no_number_and_text_items_survive_the_round_trip():
    original = {
        "id": "mixed", "version": 3, "title": {"nl": "Gemengd", "en": "Mixed"},
        "scales": [{"id": "doing", "title": {"nl": "Doen"}, "scoring": {"method": "sum", "min_answered": 2},
                    "items": [{"id": "d_1", "type": "yes_no", "text": {"nl": "Deed je mee?"}, "required": True},
                              {"id": "d_4", "type": "yes_no", "text": {"nl": "Hielp je?"}, "reverse": True}]},
                   {"id": "counting", "title": {"nl": "Tellen"},
                    "items": [{"id": "d_2", "type": "number", "min": 0, "max": 10, "step": 1,
                               "text": {"nl": "Hoeveel keer?"}, "help": {"nl": "Tel ze."}}]}],
        "questions": [{"id": "d_3", "type": "number", "min": 0.5, "max": 2.5, "text": {"nl": "=1+1 is geen formule"}},
                      {"id": "why", "type": "text", "text": {"nl": "Waarom?"}}]}
    content = xlsform_export.export(original)
    types = {r["name"]: r["type"] for r in sheet_rows(content, "survey")}
    assert types["d_1"] == "select_one yes_no" and types["d_2"] == "integer" and types["d_3"] == "decimal"
    assert normalise(xlsform.parse_xlsform(content, "mixed.xlsx")) == normalise(original)


# --- answers collected with the form import back ------------------------------------------------

@pytest.mark.parametrize("instrument", ["cooperation", "organising"])
def test_the_forms_field_names_are_the_columns_the_answer_import_reads(app, session, make_org, instrument):
    org = make_org("Buurtwerk Noord")
    slug = new_project(app, session, org, [instrument])
    registry = get_registry(app)
    definition = registry.get(instrument).definition
    survey = sheet_rows(xlsform_export.export(definition), "survey")
    fields = [r["name"] for r in survey if r["type"] not in ("begin_group", "end_group")]
    assert fields[0] == imports.PARTICIPANT_COLUMN
    assert fields[1:] == [item["id"] for scale in definition["scales"] for item in scale["items"]] + [
        q["id"] for q in definition.get("questions") or []]
    answers = {r["name"]: "4" if r["type"].startswith("select_one") else "" for r in survey}
    csv_text = ",".join(fields) + "\n" + "\n".join(
        ",".join([code] + [answers[name] for name in fields[1:]]) for code in ("K001", "K002"))
    actor = access.Actor(organisation_id=org.id, role="admin")
    result = imports.import_responses(session, registry, actor, slug, "pre", csv_text)
    session.commit()
    assert (result.rows, result.new_participants, result.completed) == (2, 2, 2)


def test_a_kobo_csv_export_of_the_form_imports_as_it_comes(app, session, make_org):
    """Kobo adds its own columns (_id, _uuid, ...) and, with groups in the headers, "cooperation/coo_1"."""
    org = make_org("Buurtwerk Noord")
    slug = new_project(app, session, org, ["cooperation"])
    registry = get_registry(app)
    items = [item["id"] for item in registry.get("cooperation").definition["scales"][0]["items"]]
    header = ["participant", *[f"cooperation/{item}" for item in items], "_id", "_uuid", "_submission_time",
              "__version__", "_index"]
    row = ["K001", *["5"] * len(items), "17", "a1b2", "2026-11-30T10:00:00", "vX", "1"]
    csv_text = ";".join(header) + "\n" + ";".join(row) + "\n"
    result = imports.import_responses(session, registry, access.Actor(organisation_id=org.id, role="admin"), slug,
                                      "pre", csv_text)
    session.commit()
    assert (result.rows, result.completed) == (1, 1)
    with pytest.raises(imports.ImportRefused) as refused:  # a column that is no question is still refused
        imports.import_responses(session, registry, access.Actor(organisation_id=org.id, role="admin"), slug,
                                 "pre", "participant;cooperation/colour\nK002;3\n")
    session.rollback()
    assert refused.value.problems == ["header: unknown column 'colour'; it is not a question of this project's "
                                      "questionnaire"]


# --- bad workbooks: sheet, row and column ------------------------------------------------------

def test_a_good_hand_made_form_imports():
    data = xlsform.parse_xlsform(workbook(good_survey(), AGREE3), "form.xlsx")
    assert data["id"] == "buurtquiz" and data["version"] == 1 and data["title"] == {"nl": "Buurtquiz"}
    assert data["scales"][0]["items"][1] == {"id": "bq_2", "type": "choice", "answer_set": "agree3",
                                             "reverse": True,
                                             "text": {"nl": "Ik ken niemand.", "en": "I know nobody."}}
    assert data["questions"] == [{"id": "proud_of", "type": "text", "text": {
        "nl": "Waar ben je trots op?", "en": "What are you proud of?"}}]


def test_a_missing_survey_sheet_is_named():
    assert problems(workbook(None, AGREE3)) == [
        "form.xlsx: there is no 'survey' sheet; an XLSForm has the sheets survey, choices and settings"]


def test_an_unknown_list_is_named_with_its_row_and_column():
    survey = good_survey()
    survey[2][0] = "select_one agree9"
    assert problems(workbook(survey, AGREE3)) == [
        "form.xlsx: survey, row 4, column type: unknown list 'agree9': the choices sheet has no answers with "
        "that list_name"]


def test_a_duplicate_name_is_named_with_both_rows():
    survey = good_survey()
    survey[2][1] = "bq_1"
    assert problems(workbook(survey, AGREE3)) == [
        "form.xlsx: survey, row 4, column name: 'bq_1' appears twice (also row 3)"]


def test_an_empty_label_is_named_with_its_language_column():
    survey = good_survey()
    survey[1][2] = ""
    assert problems(workbook(survey, AGREE3)) == ["form.xlsx: survey, row 3, column label::Nederlands (nl): empty"]


def test_a_wrong_reverse_value_is_named():
    survey = good_survey()
    survey[2][5] = "soms"
    assert problems(workbook(survey, AGREE3)) == [
        "form.xlsx: survey, row 4, column surveyhub_reverse: wrong value 'soms'; write true or false"]


def test_answers_that_are_not_numbers_or_appear_twice_are_named_in_the_choices_sheet():
    choices = [*AGREE3, ["agree3", "3", "Eens", "Agree"], ["agree3", "veel", "Veel", "Much"]]
    assert problems(workbook(good_survey(), choices)) == [
        "form.xlsx: choices, row 5, column name: '3' appears twice in the list 'agree3' (also row 4)",
        "form.xlsx: choices, row 6, column name: 'veel' is not a number; SurveyHub answers are scored, so each "
        "answer's name is its value (1, 2, 3 ...)"]


@pytest.mark.parametrize("content", [b"", b"id: buurtquiz\nversion: 1\n", b"PK\x03\x04 broken zip",
                                     b"\x00" * 2000])
def test_a_file_that_is_not_an_xlsx_gets_one_line(content):
    assert problems(content) == ["form.xlsx: this is not an .xlsx workbook (XLSForm); save it from Excel, "
                                 "LibreOffice or Kobo as .xlsx"]


def test_validation_errors_point_to_the_cell_they_come_from():
    found = problems(workbook(good_survey(), AGREE3, settings=[["Buurtquiz", "Buurt Quiz!", "twee"]]))
    assert len(found) == 2
    assert found[0].startswith("form.xlsx: settings, row 2, column form_id: ") and found[0].endswith("(id)")
    assert found[1].startswith("form.xlsx: settings, row 2, column version: ") and "(version)" in found[1]


def test_a_plain_kobo_form_says_what_is_missing_instead_of_guessing():
    head = ["type", "name", "label::Dutch (nl)", "required"]
    survey = [["start", "start", "", ""], ["begin_group", "g1", "Deel 1", ""],
              ["select_one agree3", "q1", "Ik ken mijn buren.", "yes"],
              ["integer", "q2", "Hoe vaak?", ""], ["end_group", "", "", ""], ["text", "remark", "Opmerking", ""],
              ["geopoint", "where", "Waar ben je?", ""]]
    found = problems(workbook(survey, AGREE3, survey_head=head))
    assert found == [
        "form.xlsx: survey, row 8, column type: the type 'geopoint' cannot be used in SurveyHub; use select_one, "
        "select_multiple, integer, decimal, range or text",
        "form.xlsx: survey, column surveyhub_scale: the column is missing, so it is unclear which scale each "
        "question scores (rows 4 (q1), 5 (q2)); add it with the scale's id per question, empty for a question "
        "without a score, and a begin_group row per scale with that id and the scale's title"]


def test_an_unclear_language_column_is_named():
    head = ["type", "name", "label::Nederlands (nl)", "label::Klingon", "surveyhub_scale", "surveyhub_reverse"]
    assert problems(workbook(good_survey(), AGREE3, survey_head=head)) == [
        "form.xlsx: survey, column label::Klingon: cannot tell the language; name the column like "
        "label::Nederlands (nl)"]


def test_the_surveyhub_sheet_refuses_broken_or_deeply_nested_json():
    book = openpyxl.load_workbook(io.BytesIO(xlsform_export.export(
        load_instrument_file(ROOT / "instruments" / "cooperation.yaml"))))
    book["surveyhub"].append(["item:coo_1", "options", "[" * 3000 + "]" * 3000])
    book["surveyhub"].append(["item:coo_2", "options", "[" * 30 + "]" * 30])
    book["surveyhub"].append(["scale:cooperation", "levels", "{not json"])
    out = io.BytesIO()
    book.save(out)
    rows = book["surveyhub"].max_row
    assert problems(out.getvalue()) == [
        f"form.xlsx: surveyhub, row {rows - 2}, column value: not valid JSON",
        f"form.xlsx: surveyhub, row {rows - 1}, column value: nested more than 20 levels deep",
        f"form.xlsx: surveyhub, row {rows}, column value: not valid JSON"]


# --- never a traceback ------------------------------------------------------------------------

CELL = st.one_of(st.none(), st.integers(-5, 5), st.floats(allow_nan=True), st.booleans(),
                 st.sampled_from(["select_one agree3", "select_one", "begin_group", "end_group", "integer",
                                  "text", "range", "yes", "true", "knowing", "bq_1", "agree3", "1", "", " "]),
                 st.text(max_size=12))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(survey=st.lists(st.lists(CELL, min_size=0, max_size=7), max_size=8),
       choices=st.lists(st.lists(CELL, min_size=0, max_size=4), max_size=6))
def test_random_cells_give_errors_never_a_traceback(survey, choices):
    def clean(rows):  # openpyxl cannot write control characters at all
        return [[re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", c) if isinstance(c, str) else c for c in row]
                for row in rows]

    try:
        data = xlsform.parse_xlsform(workbook(clean(survey), clean(choices)), "fuzz.xlsx")
    except InstrumentError as exc:
        assert exc.errors and all(e.startswith("fuzz.xlsx: ") for e in exc.errors)
    else:
        assert data["id"] == "buurtquiz"


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_give_errors_never_a_traceback(content):
    with pytest.raises(InstrumentError):
        xlsform.parse_xlsform(content, "fuzz.xlsx")


def test_two_columns_for_one_question_are_refused_not_one_dropped(app, session, make_org):
    """'cooperation/coo_1' and 'coo_1' (or two groups, or 'growth.coo_1') are one question: a CSV with both would
    keep one column's answers and silently drop the other's, so the import names both columns instead."""
    org = make_org("Buurtwerk Noord")
    slug = new_project(app, session, org, ["cooperation"])
    registry = get_registry(app)
    actor = access.Actor(organisation_id=org.id, role="admin")
    first = registry.get("cooperation").definition["scales"][0]["items"][0]["id"]
    for header in ([f"cooperation/{first}", first], [f"a/{first}", f"b/{first}"], [first, f"cooperation.{first}"],
                   ["x/participant"]):
        csv_text = ";".join(["participant", *header]) + "\n" + ";".join(["K001", *["2"] * len(header)]) + "\n"
        with pytest.raises(imports.ImportRefused) as refused:
            imports.import_responses(session, registry, actor, slug, "pre", csv_text)
        session.rollback()
        assert any("same" in problem and repr(header[-1]) in problem for problem in refused.value.problems), \
            refused.value.problems


def _rezipped(content: bytes, extra: dict[str, bytes]) -> bytes:
    """The workbook with ``extra`` parts added (deflated), as a hostile author could."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        for name, data in extra.items():
            target.writestr(name, data)
    return out.getvalue()


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    """50 MB of zeros deflate to 50 KB: the file is small, its parts are not."""
    content = _rezipped(workbook(good_survey(), AGREE3), {"xl/media/zeros.bin": b"\0" * (50 * 1024 * 1024)})
    assert len(content) < xlsform.MAX_BYTES
    assert problems(content) == ["form.xlsx: the workbook unpacks to more than 40 MB"]


def _zip_by_hand(parts: list[tuple[str, bytes, int]]) -> bytes:
    """A zip written byte by byte: (name, data, the size its headers claim), each part deflated."""
    import struct
    import zlib

    out, directory = io.BytesIO(), []
    for name, data, claimed in parts:
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        raw, encoded = packer.compress(data) + packer.flush(), name.encode()
        directory.append((encoded, out.tell(), zlib.crc32(data), len(raw), claimed))
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, zlib.crc32(data), len(raw), claimed,
                              len(encoded), 0) + encoded + raw)
    start = out.tell()
    for encoded, offset, crc, packed, claimed in directory:
        out.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, packed, claimed,
                              len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(directory), len(directory), out.tell() - start,
                          start, 0))
    return out.getvalue()


def test_a_part_that_lies_about_its_size_is_read_no_further_than_it_says():
    """The sizes in a zip's directory are the author's word: a survey sheet claiming 10 bytes while it unpacks to
    50 MB passes the size check, is read no further than its 10 bytes, and the zip's checksum then fails: one
    line for the author, never 50 MB in memory."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(workbook(good_survey(), AGREE3))) as archive:
        parts = [(item.filename, archive.read(item), item.file_size) for item in archive.infolist()]
    assert xlsform.read_definition(_zip_by_hand(parts), "form.xlsx")[0]["id"]  # honest sizes: a good workbook
    xml = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
           + b"<row/>" * (8 * 1024 * 1024) + b"</sheetData></worksheet>")
    parts = [(name, xml, 10) if name == "xl/worksheets/sheet1.xml" else (name, data, size)
             for name, data, size in parts]
    content = _zip_by_hand(parts)
    assert len(content) < xlsform.MAX_BYTES
    assert problems(content) == ["form.xlsx: the workbook cannot be read; save it again as .xlsx"]


def test_a_form_past_its_row_limit_is_refused_not_read_to_the_end():
    from surveyhub.services import xlsform_sheets

    rows = good_survey() + [["select_one agree3", f"extra_{n}", "Vraag", "Question", "samen", ""]
                            for n in range(xlsform_sheets.MAX_ROWS)]
    assert problems(workbook(rows, AGREE3)) == [f"form.xlsx: survey: more than {xlsform_sheets.MAX_ROWS} rows; "
                                                "an instrument is shorter"]


def test_a_row_far_below_the_form_is_refused_not_silently_left_out():
    """Only the first rows were read: an item typed far below the others (after blank rows) was dropped without
    a word, so the instrument lost a question. Now any filled row past the limit refuses the form."""
    book = openpyxl.load_workbook(io.BytesIO(workbook(good_survey(), AGREE3)))
    book["survey"].cell(row=5000, column=1, value="select_one agree3")
    book["survey"].cell(row=5000, column=2, value="far_below")
    out = io.BytesIO()
    book.save(out)
    from surveyhub.services import xlsform_sheets

    assert problems(out.getvalue()) == [f"form.xlsx: survey: more than {xlsform_sheets.MAX_ROWS} rows; "
                                        "an instrument is shorter"]


def test_control_characters_in_an_instruments_text_do_not_break_the_export():
    """A YAML upload may hold a vertical tab or another control character (\\v in a quoted string) that an .xlsx
    cannot store: openpyxl refused the whole export (a 500 on the download). They are left out; the rest stays."""
    definition = load_instrument_file(SHIPPED[0])
    definition = definition if isinstance(definition, dict) else definition.definition
    import copy

    changed = copy.deepcopy(definition)
    item = changed["scales"][0]["items"][0]
    item["text"]["nl"] = "Samen\x0b werken\x01 =1+1"
    content = xlsform_export.export(changed)
    [row] = [r for r in sheet_rows(content, "survey") if r["name"] == item["id"]]
    assert row[NL] == "Samen werken =1+1"
