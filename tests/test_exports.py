"""``surveyhub responses export``: one row per resident and wave, read back exactly as stored.

CSV (also Dutch Excel), XLSX and SPSS files must give a researcher the stored
values, labels for SPSS, and never a cell that runs as a formula in Excel.
"""

from __future__ import annotations

import inspect
import io
import json
import math

import openpyxl
import pandas as pd
import pyreadstat
import pytest
from sqlalchemy import select

from surveyhub import hookimpl
from surveyhub.models import Answer, Participant, Response, ScaleScore, Wave
from surveyhub.plugins import get_host
from surveyhub.services import access, exports
from surveyhub.services.errors import NotFound
from surveyhub.text import clean
from tests.fixtures.outcomes import answer, csv_file, import_csv, new_project, with_outcome_instruments
from tests.plugins.contract import ExportFormats

NASTY = ["=HYPERLINK(\"http://evil.example\",\"klik\")", "+31 6 1234", "-2+3", "@SUM(A1:A9)", "\tverstopt",
         "\rterug", "gewoon tekst"]


class CsvHijacker:
    """A plugin that tries to replace the built-in csv export; it must be refused."""

    @hookimpl
    def surveyhub_register_export_formats(self):
        return {"csv": ExportFormats().surveyhub_register_export_formats()["jsonl"]}


class BrokenExporter:
    extension, mimetype = "txt", "text/plain"

    def write(self, table, stream):
        raise RuntimeError("disk full")


class BrokenFormats:
    @hookimpl
    def surveyhub_register_export_formats(self):
        return {"broken": BrokenExporter()}


@pytest.fixture
def app_config(app_config):
    config = with_outcome_instruments(app_config)
    config["EXTRA_PLUGINS"].update({"tests.exports": ExportFormats(), "tests.hijack": CsvHijacker(),
                                    "tests.broken": BrokenFormats()})
    return config


@pytest.fixture
def project(app, runner, session, make_org, tmp_path):
    """Residents with item answers, open text (some of it formula-like), scores and then-scores."""
    org = make_org("Buurtwerk Noord")
    slug = new_project(app, session, org, ["triad", "rating"], retrospective=True)
    header = ["participant", "q1", "q2", "q3", "rating", "story"]
    pre = [["R-1", 1, 2, 3, 7, NASTY[0]], ["R-2", 2, 2, 2, 6, NASTY[1]], ["=cmd|' /C calc'!A0", 3, 1, 2, 9, NASTY[2]],
           ["R-4", 1, 1, "", 4, NASTY[3]], ["R-5", 3, 3, 3, 10, NASTY[4]], ["R-6", 2, 3, 1, 0, NASTY[5]]]
    post = [["R-1", 2, 3, 3, 8, NASTY[6]], ["R-2", 3, 2, 2, 7, ""], ["R-4", 2, 2, 2, 6, ""]]
    import_csv(runner, slug, "pre", csv_file(tmp_path / "pre.csv", header, pre))
    import_csv(runner, slug, "post", csv_file(tmp_path / "post.csv", header, post))
    import_csv(runner, slug, "retro", csv_file(tmp_path / "retro.csv", ["participant", "q1", "q2", "q3", "rating"],
                                               [["R-1", 1, 1, 2, 5], ["R-2", 2, 1, 1, 5], ["R-4", 1, 1, 1, 3]]))
    return org, slug


def stored(session, slug: str) -> dict[tuple[str, str], dict]:
    """(participant code, wave) -> {column name: value} straight from the database."""
    found: dict[tuple[str, str], dict] = {}
    rows = session.execute(select(Participant.code, Wave.kind, Answer.block, Answer.item_id, Answer.value_num,
                                  Answer.value_text)
                           .join(Response, Response.participant_id == Participant.id)
                           .join(Wave, Wave.id == Response.wave_id)
                           .join(Answer, Answer.response_id == Response.id)).all()
    for code, wave, block, item, number, text in rows:
        value = text if text is not None else number
        if value is not None:
            found.setdefault((code, wave), {})[("then_" if block == "then" else "") + item] = value
    for code, wave, block, scale_id, score in session.execute(
            select(Participant.code, Wave.kind, ScaleScore.block, ScaleScore.scale_id, ScaleScore.score)
            .join(Response, Response.participant_id == Participant.id).join(Wave, Wave.id == Response.wave_id)
            .join(ScaleScore, ScaleScore.response_id == Response.id)):
        if score is not None:
            found.setdefault((code, wave), {})[("then_score_" if block == "then" else "score_") + scale_id] = score
    session.commit()
    return found


def export(runner, slug, tmp_path, fmt, *extra) -> bytes:
    target = tmp_path / f"export.{fmt}"
    result = runner.invoke(args=["responses", "export", slug, "--format", fmt, "-o", str(target), *extra])
    assert result.exit_code == 0, (result.output, result.exception)
    return target.read_bytes()


def as_records(frame: pd.DataFrame) -> dict[tuple[str, str], dict]:
    records = {}
    for row in frame.to_dict("records"):
        values = {k: v for k, v in row.items() if k not in exports.response_table.__annotations__ and
                  k not in ("participant", "wave", "status", "channel", "language", "completed_at", "pair",
                            "pair_by") and not (isinstance(v, float) and math.isnan(v)) and v != ""}
        code = row["participant"]
        records[(code[1:] if code.startswith("'") else code, row["wave"])] = values
    return records


def unquote(value):
    return value[1:] if isinstance(value, str) and value.startswith("'") else value


def test_csv_reads_back_as_stored(runner, session, project, tmp_path):
    _org, slug = project
    frame = pd.read_csv(io.BytesIO(export(runner, slug, tmp_path, "csv")), keep_default_na=False,
                        na_values=[""], dtype={"story": str})
    assert list(frame.columns[:8]) == ["participant", "wave", "status", "channel", "language", "completed_at",
                                       "pair", "pair_by"]
    assert len(frame) == 9  # six pre responses, three post responses (the retro block is in the post row)
    got = {key: {k: unquote(v) for k, v in values.items()} for key, values in as_records(frame).items()}
    assert got == stored(session, slug)
    assert set(frame["pair"].dropna()) == {"R-1", "R-2", "R-4"}


def test_sav_has_the_stored_values_and_labels(runner, session, project, tmp_path):
    _org, slug = project
    path = tmp_path / "read.sav"
    path.write_bytes(export(runner, slug, tmp_path, "sav"))
    frame, meta = pyreadstat.read_sav(str(path))
    assert as_records(frame) == stored(session, slug)
    assert meta.column_names_to_labels["q1"] == "Vraag 1"
    assert meta.column_names_to_labels["then_q1"] == "Then (before the project): Vraag 1"
    assert meta.variable_value_labels["q1"] == {1.0: "Antwoord 1", 2.0: "Antwoord 2", 3.0: "Antwoord 3"}
    assert meta.readstat_variable_types["rating"] == "double" and meta.readstat_variable_types["story"] == "string"


def test_xlsx_has_the_stored_values_and_a_variables_sheet(runner, session, project, tmp_path):
    _org, slug = project
    workbook = openpyxl.load_workbook(io.BytesIO(export(runner, slug, tmp_path, "xlsx")), read_only=True)
    rows = list(workbook["data"].iter_rows(values_only=True))
    width = len(rows[0])
    frame = pd.DataFrame([list(row) + [None] * (width - len(row)) for row in rows[1:]], columns=rows[0])
    got = {key: {k: unquote(v) for k, v in values.items() if v is not None} for key, values in
           as_records(frame).items()}
    # openpyxl writes 16 significant digits (Excel itself keeps 15): equal up to the last digit.
    expected = {key: {k: pytest.approx(v, rel=1e-15) if isinstance(v, float) else v for k, v in values.items()}
                for key, values in stored(session, slug).items()}
    assert got == expected
    variables = {row[0]: row[1:] for row in workbook["variables"].iter_rows(min_row=2, values_only=True)}
    assert variables["q1"] == ("Vraag 1", "1 = Antwoord 1; 2 = Antwoord 2; 3 = Antwoord 3")


def test_formulas_are_neutralised_in_csv_and_xlsx(runner, project, tmp_path):
    _org, slug = project
    text = export(runner, slug, tmp_path, "csv").decode("utf-8")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    stories = set(frame["story"]) - {""}
    # Open answers are trimmed when they come in, so a leading tab or CR never reaches the file here.
    assert stories == {"'" + s for s in NASTY if s[0] in "=+-@"} | {"verstopt", "terug", "gewoon tekst"}
    assert "'=cmd|' /C calc'!A0" in set(frame["participant"])
    workbook = openpyxl.load_workbook(io.BytesIO(export(runner, slug, tmp_path, "xlsx")))
    cells = [cell.value for row in workbook["data"].iter_rows() for cell in row if isinstance(cell.value, str)]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    assert all(cell.data_type != "f" for row in workbook["data"].iter_rows() for cell in row)


def test_every_formula_start_is_neutralised_by_the_writers():
    table = exports.ExportTable(["code", "text", "number"], numeric={"number"},
                                source=lambda: iter([[s, s, -1.5] for s in NASTY]))
    csv_text = io.BytesIO()
    exports.CsvFormat().write(table, csv_text)
    frame = pd.read_csv(io.BytesIO(csv_text.getvalue()), dtype={"code": str, "text": str})
    # Written cleaned (surveyhub.text: a CR becomes a newline), and inert: a quote before every formula start.
    cleaned = [clean(s) for s in NASTY]
    assert frame["text"].tolist() == ["'" + s if s[0] in "=+-@\t\r\n" else s for s in cleaned]
    assert frame["number"].tolist() == [-1.5] * len(NASTY)  # numbers are numbers, never quoted
    xlsx = io.BytesIO()
    exports.XlsxFormat().write(table, xlsx)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.getvalue()))["data"]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == frame["text"].tolist()
    assert {row[2] for row in sheet.iter_rows(min_row=2, values_only=True)} == {-1.5}


def test_dutch_excel_dialect(runner, session, project, tmp_path):
    _org, slug = project
    raw = export(runner, slug, tmp_path, "csv", "--dialect", "excel-nl")
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("participant;wave;status;")
    assert "2,3333333333333335" in raw.decode("utf-8")  # R-2's first mean score... or another mean of thirds
    dutch = pd.read_csv(io.BytesIO(raw), sep=";", decimal=",", encoding="utf-8-sig", keep_default_na=False,
                        na_values=[""], dtype={"story": str})
    plain = pd.read_csv(io.BytesIO(export(runner, slug, tmp_path, "csv")), keep_default_na=False,
                        na_values=[""], dtype={"story": str})
    pd.testing.assert_frame_equal(dutch, plain)


def test_a_dutch_excel_file_imports_and_exports_in_that_dialect(app, runner, session, make_org, tmp_path):
    org = make_org("Buurtwerk Zuid")
    slug = new_project(app, session, org, ["decimal"])
    import_csv(runner, slug, "pre", csv_file(tmp_path / "nl.csv", ["participant", "amount"],
                                             [["N1", "7,25"], ["N2", "12,5"], ["N3", "40"]], sep=";", bom=True))
    lines = export(runner, slug, tmp_path, "csv", "--dialect", "excel-nl").decode("utf-8-sig").split("\r\n")
    rows = {line.split(";")[0]: line.split(";") for line in lines[1:] if line}
    header = lines[0].split(";")
    assert [rows[code][header.index("amount")] for code in ("N1", "N2", "N3")] == ["7,25", "12,5", "40"]
    assert [rows[code][header.index("score_decimal")] for code in ("N1", "N2", "N3")] == ["7,25", "12,5", "40"]


def test_rows_are_streamed_in_batches(app, session, project, monkeypatch):
    org, slug = project
    actor = access.Actor(organisation_id=org.id, role="worker")
    table = exports.response_table(session, actor, slug)
    assert inspect.isgenerator(table.rows())
    whole = list(table.rows())
    monkeypatch.setattr(exports, "BATCH", 2)
    assert list(exports.response_table(session, actor, slug).rows()) == whole
    session.commit()


def test_a_funder_gets_the_report_not_the_answers(app, session, project):
    org, slug = project
    with pytest.raises(NotFound):  # a funder never learns which rows exist: the project is "not found"
        exports.response_table(session, access.Actor(organisation_id=org.id, role="funder"), slug)
    session.rollback()


def test_plugin_formats_come_through_the_hook(app, runner, project, tmp_path):
    _org, slug = project
    lines = export(runner, slug, tmp_path, "jsonl").decode("utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 9
    assert {row["participant"] for row in rows} == {"R-1", "R-2", "=cmd|' /C calc'!A0", "R-4", "R-5", "R-6"}
    assert {row["rating"] for row in rows if row["wave"] == "post"} == {8.0, 7.0, 6.0}
    # A plugin may add formats, never replace a built-in one (csv stays safe).
    host = get_host(app)
    assert host.statuses["tests.hijack"].status == "error"
    assert "export format 'csv' left out" in host.statuses["tests.hijack"].last_error
    result = runner.invoke(args=["responses", "export", slug, "--format", "broken", "-o", str(tmp_path / "b.txt")])
    assert result.exit_code == 1 and "disk full" in result.stderr
    assert host.statuses["tests.broken"].status == "error"
    assert not (tmp_path / "b.txt").exists()
    result = runner.invoke(args=["responses", "export", slug, "--format", "pdf", "-o", str(tmp_path / "x")])
    assert result.exit_code == 1 and "unknown export format 'pdf'" in result.stderr


def test_code_pairs_are_marked_in_the_export(app, runner, session, make_org, tmp_path):
    org = make_org("Buurtwerk Oost")
    slug = new_project(app, session, org, ["decimal"])
    answer(app, session, slug, "pre", "A-PRE", {("decimal", "amount"): 10}, self_code="k|m|5|1|1|z")
    answer(app, session, slug, "post", "A-POST", {("decimal", "amount"): 14}, self_code="k|m|6|1|1|z")
    frame = pd.read_csv(io.BytesIO(export(runner, slug, tmp_path, "csv")))
    assert frame[["participant", "wave", "pair", "pair_by"]].values.tolist() == [
        ["A-PRE", "pre", "A-PRE", "fuzzy"], ["A-POST", "post", "A-PRE", "fuzzy"]]


def test_a_failing_plugin_export_in_the_browser_says_so_instead_of_a_broken_file(app, client_for, make_user,
                                                                                  project):
    org, slug = project
    worker = client_for(make_user("worker", org).email)
    response = worker.get(f"/projects/{slug}/export.broken")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/projects/{slug}/outcomes")
    assert "disk full" in worker.get(response.headers["Location"]).text
    jsonl = worker.get(f"/projects/{slug}/export.jsonl")
    assert jsonl.status_code == 200 and jsonl.mimetype == "application/x-ndjson"
    assert len(jsonl.data.decode().splitlines()) == 9


def test_what_each_resident_did_follows_their_answers_when_the_project_records_activities(
        runner, session, project, tmp_path):
    """Three columns per resident (the same on each of their rows), only once activities are recorded."""
    from datetime import date

    from surveyhub.models import Activity, ActivityParticipant, Project

    _org, slug = project
    before = pd.read_csv(io.BytesIO(export(runner, slug, tmp_path, "csv")), keep_default_na=False, na_values=[""])
    assert "activities" not in before.columns
    project_id = session.scalar(select(Project.id).where(Project.slug == slug))
    ids = dict(session.execute(select(Participant.code, Participant.id)
                               .where(Participant.project_id == project_id)).all())
    workday = Activity(project_id=project_id, happened_on=date(2026, 5, 2), kind="workday", hours=4.0)
    meeting = Activity(project_id=project_id, happened_on=date(2026, 5, 9), kind="meeting", hours=2.0)
    workday.participants += [ActivityParticipant(participant_id=ids["R-1"], role="organiser"),
                             ActivityParticipant(participant_id=ids["R-2"], role="volunteer", hours=1.5)]
    meeting.participants += [ActivityParticipant(participant_id=ids["R-1"], role="chair")]
    session.add_all([workday, meeting])
    session.commit()

    frame = pd.read_csv(io.BytesIO(export(runner, slug, tmp_path, "csv")), keep_default_na=False, na_values=[""])
    assert list(frame.columns[-3:]) == ["activities", "activity_hours", "activities_led"]
    did = {(row["participant"], row["wave"]): (row["activities"], row["activity_hours"], row["activities_led"])
           for row in frame.to_dict("records")}
    assert did[("R-1", "pre")] == did[("R-1", "post")] == (2, 6.0, 2)
    assert did[("R-2", "post")] == (1, 1.5, 0)
    assert did[("R-5", "pre")] == (0, 0.0, 0)  # took part in no activity: zero, not empty
    path = tmp_path / "did.sav"
    path.write_bytes(export(runner, slug, tmp_path, "sav"))
    frame, meta = pyreadstat.read_sav(str(path))
    assert meta.column_names_to_labels["activities_led"] == "Activities organised or chaired"
    assert frame.loc[(frame["participant"] == "R-1") & (frame["wave"] == "pre"), "activity_hours"].item() == 6.0
