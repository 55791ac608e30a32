"""Response exports for researchers: one row per participant and wave, pseudonymous codes only.

:func:`response_table` describes the data as an :class:`ExportTable`
(columns, labels, value labels and a ``rows()`` iterator that reads the
database in batches, so a large project never sits in memory at once).
Formats write a table to a binary stream: ``csv`` (also Dutch Excel: ``;``,
decimal comma, byte-order mark), ``xlsx`` (openpyxl's write-only workbook),
``sav`` (SPSS, with variable and value labels) and whatever plugins register
through ``surveyhub_register_export_formats``.

Spreadsheet safety: a text cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab, a carriage return or a newline would run as a formula when the file is opened in
Excel; CSV and XLSX prefix such cells with a single quote.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.measures.definition import translate
from surveyhub.models import Answer, Participant, Response, ScaleScore
from surveyhub.services import access, outcome_data, participation, responses
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Invalid, UserError
from surveyhub.services.questionnaire import PROJECT_INSTRUMENT
from surveyhub.services.report_contract import Report
from surveyhub.text import clean

#: Responses read per database round trip while streaming rows.
BATCH = 500
DIALECTS = ("default", "excel-nl")
WAVE_ORDER = {"pre": 0, "post": 1, "followup": 2}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_SPSS_RESERVED = {"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"}


@dataclass
class ExportTable:
    """A table of plain values, as export formats (built-in and plugins) receive it.

    ``columns`` are variable names (valid SPSS names, unique); ``labels`` maps a
    column to a readable label; ``value_labels`` maps a numeric column to
    ``{value: label}``; ``numeric`` names the columns that hold numbers (the
    others hold text). ``rows()`` yields one list per row, in column order, of
    ``str``, ``float``, ``int`` or ``None``; a response table reads the database
    in batches and ends its (read-only) transaction before yielding each batch.
    """

    columns: list[str]
    labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)
    numeric: set[str] = field(default_factory=set)
    source: Callable[[], Iterator[list]] = field(default=lambda: iter(()), repr=False)

    def rows(self) -> Iterator[list]:
        return self.source()


def neutralise(value):
    """A text cell cleaned (see ``surveyhub.text``) and, when a spreadsheet would run it as a formula,
    made inert with a leading quote.

    Text is cleaned where it comes in; cleaning again here covers text stored
    before that rule or by a plugin, so no control character ever makes a
    writer fail (openpyxl) or cut a value short (SPSS ends a text at NUL).
    """
    if isinstance(value, str):
        value = clean(value)
        if value.startswith(_FORMULA_START):
            return "'" + value
    return value


class _Names:
    """Unique, valid SPSS variable names (also fine for CSV, Excel, R and pandas)."""

    def __init__(self):
        self.taken: set[str] = set()

    def __call__(self, *wanted: str) -> str:
        for candidate in wanted:
            name = self._valid(candidate)
            if name.lower() not in self.taken:
                self.taken.add(name.lower())
                return name
        base, n = self._valid(wanted[-1])[:56], 2
        while f"{base}_{n}".lower() in self.taken:
            n += 1
        self.taken.add(f"{base}_{n}".lower())
        return f"{base}_{n}"

    @staticmethod
    def _valid(wanted: str) -> str:
        name = re.sub(r"[^A-Za-z0-9_]", "_", wanted)
        if not name or not name[0].isalpha():
            name = "v_" + name
        name = name[:60]
        return name + "_" if name.upper() in _SPSS_RESERVED else name


@dataclass(frozen=True)
class _Source:
    """Where a column's values come from."""

    kind: str  # "answer" | "score"
    block: str
    instrument_id: str
    key: str  # item id or scale id


#: What each resident did (``services.participation``), the last columns when the project records activities.
PARTICIPATION_COLUMNS = {"activities": "Activities taken part in (confirmed)",
                         "activity_hours": "Hours given at those activities",
                         "activities_led": "Activities organised or chaired"}


def response_table(session: Session, actor: Actor, slug: str, lang: str = "nl") -> ExportTable:
    """Every response of the project the actor may export (admins and workers; funders get the report).

    Read ``rows()`` while ``session`` is open.
    """
    project = access.project(session, actor, slug, "project.rows")
    names = _Names()
    fixed = {"participant": "Participant (pseudonymous code)", "wave": "Wave (pre, post, followup)",
             "status": "Response status (started, completed)", "channel": "How the answers came in",
             "language": "Language of the questionnaire", "completed_at": "Completed at (UTC)",
             "pair": "Code of the participant whose pre response this response is paired with",
             "pair_by": "How the pair was made (participant, code, fuzzy)"}
    table = ExportTable([names(name) for name in fixed], labels=dict(fixed))
    sources: dict[str, _Source] = {}
    # The then block's columns also when the project stopped asking it but has such answers.
    then = project.retrospective or _has_then_answers(session, project)
    for definition in responses.project_definitions(project):
        _instrument_columns(table, names, sources, definition, then, lang)
    for question in project.questions:
        name = names(question.question_id, f"project_{question.question_id}")
        _add_item_column(table, name, question.definition, question.definition.get("answer_sets") or {}, lang)
        sources[name] = _Source("answer", "now", PROJECT_INSTRUMENT, question.question_id)
    for definition in responses.project_definitions(project):
        for scale in definition["scales"]:
            for block in ("now", "then") if then else ("now",):
                prefix = "then_score" if block == "then" else "score"
                name = names(f"{prefix}_{scale['id']}", f"{prefix}_{definition['id']}_{scale['id']}")
                what = "retrospective 'then' score" if block == "then" else "score"
                table.columns.append(name)
                table.labels[name] = f"{translate(scale['title'], lang)} ({what}, {scale['scoring']['method']})"
                table.numeric.add(name)
                sources[name] = _Source("score", block, definition["id"], scale["id"])
    did = participation.by_participant(session, [project.id])
    if did:  # what each resident did, when the project records activities (the same on each of their rows)
        for wanted, label in PARTICIPATION_COLUMNS.items():
            name = names(wanted, f"participation_{wanted}")
            table.columns.append(name)
            table.labels[name] = label
            table.numeric.add(name)
    data = outcome_data.load(session, project, with_scores=False)
    table.source = lambda: _rows(session, data, table.columns, sources, did)
    return table


def _has_then_answers(session: Session, project) -> bool:
    waves = [wave.id for wave in project.waves]
    return session.scalar(select(Answer.id).join(Response, Response.id == Answer.response_id)
                          .where(Response.wave_id.in_(waves), Answer.block == "then").limit(1)) is not None


def _instrument_columns(table, names, sources, definition: dict, then: bool, lang: str) -> None:
    sets = definition.get("answer_sets") or {}
    items = [item for scale in definition["scales"] for item in scale["items"]]
    for item in items + list(definition.get("questions") or []):
        name = names(item["id"], f"{definition['id']}_{item['id']}")
        _add_item_column(table, name, item, sets, lang)
        sources[name] = _Source("answer", "now", definition["id"], item["id"])
    if then:
        for item in items:
            name = names(f"then_{item['id']}", f"then_{definition['id']}_{item['id']}")
            _add_item_column(table, name, item, sets, lang, prefix="Then (before the project): ")
            sources[name] = _Source("answer", "then", definition["id"], item["id"])


def _add_item_column(table: ExportTable, name: str, item: dict, sets: dict, lang: str, prefix: str = "") -> None:
    table.columns.append(name)
    table.labels[name] = prefix + translate(item.get("text"), lang)
    if item.get("type") in ("text", "choices"):  # "choices" is stored as the chosen options' words
        return
    table.numeric.add(name)
    if item.get("answer_set") and item["answer_set"] in sets:
        table.value_labels[name] = {float(option["value"]): translate(option["label"], lang)
                                    for option in sets[item["answer_set"]]}
    elif item.get("type") == "yes_no":
        table.value_labels[name] = {0.0: "Nee" if lang == "nl" else "No", 1.0: "Ja" if lang == "nl" else "Yes"}


def _rows(session: Session, data: outcome_data.ProjectData, columns: list[str],
          sources: dict[str, _Source], did: dict[int, participation.Intensity]) -> Iterator[list]:
    codes = dict(session.execute(select(Participant.id, Participant.code)
                                 .where(Participant.project_id == data.project.id)).all())
    pair_of = _pairs(data, codes)
    meta = {rid: row for rid, *row in session.execute(
        select(Response.id, Response.channel, Response.language, Response.completed_at)
        .where(Response.wave_id.in_(list(data.waves.values()))))}
    session.commit()
    order = sorted(data.responses, key=lambda rid: (data.responses[rid][0], WAVE_ORDER[data.responses[rid][1]]))
    position = {name: i for i, name in enumerate(columns)}
    answer_cols = {(s.block, s.instrument_id, s.key): position[name] for name, s in sources.items()
                   if s.kind == "answer"}
    score_cols = {(s.block, s.instrument_id, s.key): position[name] for name, s in sources.items()
                  if s.kind == "score"}
    for start in range(0, len(order), BATCH):
        batch = order[start:start + BATCH]
        rows: dict[int, list[Any]] = {}
        for rid in batch:
            pid, wave, status = data.responses[rid]
            channel, language, completed_at = meta[rid]
            pair, by = pair_of.get(rid, (None, None))
            when = (completed_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                    if isinstance(completed_at, datetime) else None)
            rows[rid] = [codes[pid], wave, status, channel, language, when, pair, by] + \
                [None] * (len(columns) - 8)
            if did:
                done = did.get(pid, participation.NONE)
                rows[rid][-len(PARTICIPATION_COLUMNS):] = [done.activities, done.hours, done.led]
        for rid, block, instrument_id, item_id, number, text in session.execute(
                select(Answer.response_id, Answer.block, Answer.instrument_id, Answer.item_id,
                       Answer.value_num, Answer.value_text).where(Answer.response_id.in_(batch))):
            column = answer_cols.get((block, instrument_id, item_id))
            if column is not None:
                rows[rid][column] = text if text is not None else number
        for rid, block, instrument_id, scale_id, score in session.execute(
                select(ScaleScore.response_id, ScaleScore.block, ScaleScore.instrument_id, ScaleScore.scale_id,
                       ScaleScore.score).where(ScaleScore.response_id.in_(batch))):
            column = score_cols.get((block, instrument_id, scale_id))
            if column is not None and score is not None and math.isfinite(score):
                rows[rid][column] = score
        # End the read transaction before handing rows out: a slow download must never hold
        # SQLite's write lock (every transaction there starts with BEGIN IMMEDIATE).
        session.commit()
        for rid in batch:
            yield rows[rid]


def _pairs(data: outcome_data.ProjectData, codes: dict[int, str]) -> dict[int, tuple[str, str]]:
    """Response id -> (code of the pre response's participant, how the pair was made)."""
    found: dict[int, tuple[str, str]] = {}
    for later in ("post", "followup"):
        for pair in outcome_data.pair_waves(data, "pre", later).pairs:
            label = codes[data.responses[pair.first][0]]
            found[pair.first] = found.get(pair.first, (label, pair.by))
            found[pair.second] = (label, pair.by)
    return found


# -- formats -----------------------------------------------------------------

def _number_text(value: float | int, decimal: str) -> str:
    text = str(int(value)) if isinstance(value, int) or float(value).is_integer() else repr(float(value))
    return text.replace(".", decimal) if decimal != "." else text


class CsvFormat:
    """Comma-separated UTF-8; ``excel-nl``: semicolons, decimal commas and a BOM, as Dutch Excel opens them."""

    extension = "csv"
    mimetype = "text/csv"

    def __init__(self, dialect: str = "default"):
        if dialect not in DIALECTS:
            raise Invalid(N_("unknown CSV dialect %(dialect)r (choose %(choices)s)"), dialect=dialect,
                          choices=", ".join(DIALECTS))
        self.dialect = dialect

    def chunks(self, table: ExportTable) -> Iterator[bytes]:
        dutch = self.dialect == "excel-nl"
        delimiter, decimal = (";", ",") if dutch else (",", ".")
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
        if dutch:
            buffer.write("\ufeff")
        writer.writerow(table.columns)
        for n, row in enumerate(table.rows(), start=1):
            writer.writerow(["" if v is None else _number_text(v, decimal) if _is_number(v) else neutralise(str(v))
                             for v in row])
            if n % 200 == 0:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")

    def write(self, table: ExportTable, stream) -> None:
        for chunk in self.chunks(table):
            stream.write(chunk)


class XlsxFormat:
    """An Excel workbook (write-only, row by row): sheet "data" and sheet "variables"."""

    extension = "xlsx"
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def write(self, table: ExportTable, stream) -> None:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        data = workbook.create_sheet("data")
        data.append(table.columns)
        for row in table.rows():
            data.append([neutralise(v) for v in row])
        variables = workbook.create_sheet("variables")
        variables.append(["variable", "label", "values"])
        for column in table.columns:
            values = "; ".join(f"{_number_text(v, '.')} = {label}"
                               for v, label in sorted(table.value_labels.get(column, {}).items()))
            variables.append([column, neutralise(table.labels.get(column, "")), neutralise(values)])
        workbook.save(stream)


class SavFormat:
    """SPSS ``.sav`` with variable labels and value labels (built in memory: pyreadstat needs a whole frame)."""

    extension = "sav"
    mimetype = "application/x-spss-sav"

    def write(self, table: ExportTable, stream) -> None:
        try:
            import pandas as pd
            import pyreadstat
        except ImportError as exc:  # pragma: no cover - both are dependencies
            raise UserError(N_("SPSS export needs pandas and pyreadstat: %(error)s"), error=str(exc)) from exc
        frame = pd.DataFrame(list(table.rows()), columns=table.columns)
        for column in table.columns:
            if column in table.numeric:
                frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
            else:
                frame[column] = frame[column].astype("object").where(frame[column].notna(), "")
                frame[column] = frame[column].map(lambda value: clean(str(value)))
        fd, path = tempfile.mkstemp(suffix=".sav")
        os.close(fd)
        try:
            pyreadstat.write_sav(frame, path, column_labels=[clean(str(table.labels.get(c, "")))[:250]
                                                             for c in table.columns],
                                 variable_value_labels={c: {float(v): clean(str(label))[:120]
                                                            for v, label in labels.items()}
                                                        for c, labels in table.value_labels.items()})
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 16):
                    stream.write(chunk)
        finally:
            os.unlink(path)


BUILTIN_FORMATS = {"csv": CsvFormat, "xlsx": XlsxFormat, "sav": SavFormat}


def _is_exporter(value) -> bool:
    return (isinstance(getattr(value, "extension", None), str) and isinstance(getattr(value, "mimetype", None), str)
            and callable(getattr(value, "write", None)))


def plugin_formats(host) -> dict[str, Any]:
    """Export formats from ``surveyhub_register_export_formats``, each in its guard; the built-in names stay built in.

    Read once per plugin host (``host.collected``): a plugin's exporter is wrapped
    once, where it is registered, so its failures reach the admin plugins page.
    """
    return {} if host is None else host.collected("export formats", _collect_formats)


def _collect_formats(host) -> dict[str, Any]:
    found = {}
    for plugin_name, result in host.call_isolated("surveyhub_register_export_formats"):
        if result is None:
            continue
        if not isinstance(result, dict):
            host.fail(plugin_name, "surveyhub_register_export_formats must return a dict of exporters, "
                      f"got {type(result).__name__}", state="error")
            continue
        for name, exporter in result.items():
            if not isinstance(name, str) or name in BUILTIN_FORMATS or not _is_exporter(exporter):
                host.fail(plugin_name, f"export format {name!r} left out: it must be a new name mapped to an "
                          "object with extension, mimetype and write(table, stream)", state="error")
                continue
            found[name] = host.guard_exporter(plugin_name, name, exporter)
    return found


def format_names(host=None) -> list[str]:
    return list(BUILTIN_FORMATS) + sorted(plugin_formats(host))


def exporter_for(name: str, host=None, dialect: str = "default"):
    """The exporter for ``name``: a built-in or a plugin's; ``dialect`` applies to csv only."""
    if name in BUILTIN_FORMATS:
        if dialect != "default" and name != "csv":
            raise Invalid(N_("--dialect applies to the csv format only"))
        return CsvFormat(dialect) if name == "csv" else BUILTIN_FORMATS[name]()
    plugins = plugin_formats(host)
    if name not in plugins:
        raise Invalid(N_("unknown export format %(format)r (choose %(choices)s)"), format=name,
                      choices=", ".join(format_names(host)))
    return plugins[name]


def chunks(exporter, table: ExportTable) -> Iterator[bytes]:
    """The export as byte chunks for a streamed download.

    CSV is written row by row as it is sent. Other formats are written whole
    first (a workbook or SPSS file is only valid once finished), into a
    temporary file that stays in memory up to 8 MB, so a failing plugin
    exporter raises here, before anything is sent.
    """
    if isinstance(exporter, CsvFormat):
        return exporter.chunks(table)
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)
    try:
        exporter.write(table, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return _read_and_close(spool)


def _read_and_close(spool) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(1 << 16):
            yield chunk


SUMMARY_FIELDS = [
    ("instrument", "Instrument"), ("scale", "Scale"), ("comparison", "Comparison (pre→post, then→post, "
                                                                     "pre→followup)"),
    ("label", "What the change means"), ("n_pairs", "Pairs"), ("pre_mean", "Baseline mean"),
    ("pre_sd", "Baseline SD"), ("post_mean", "Later mean"), ("post_sd", "Later SD"),
    ("change_mean", "Mean change"), ("change_sd", "SD of the change"), ("ci95_low", "95% CI low"),
    ("ci95_high", "95% CI high"), ("d_z", "d_z"), ("d_av", "d_av"), ("g_av", "g_av"), ("t", "t"),
    ("df", "df"), ("p", "p (paired t)"), ("wilcoxon_p", "p (Wilcoxon)"), ("improved", "Reliably improved"),
    ("unchanged", "No reliable change"), ("deteriorated", "Reliably deteriorated"),
    ("suppressed", "Left out because of small numbers"),
]
_SUMMARY_TEXT = {"instrument", "scale", "comparison", "label", "improved", "unchanged", "deteriorated",
                 "suppressed"}


def summary_table(report: Report) -> ExportTable:
    """The report's per-scale results as a table: exactly the numbers the report shows, nothing hidden."""
    columns = [name for name, _label in SUMMARY_FIELDS]

    def rows():
        for entry in report["scales"] + report["retrospective"] + report["followup"]:
            ci = entry["change"]["ci95"] or [None, None]
            yield [entry["instrument"], entry["scale"], entry["comparison"], entry["label"], entry["n_pairs"],
                   entry["pre"]["mean"], entry["pre"]["sd"], entry["post"]["mean"], entry["post"]["sd"],
                   entry["change"]["mean"], entry["change"]["sd"], ci[0], ci[1],
                   *(entry["effect_size"][k] for k in ("d_z", "d_av", "g_av")),
                   *(entry["test"][k] for k in ("t", "df", "p", "wilcoxon_p")),
                   *(None if entry["rci"][k] is None else str(entry["rci"][k])
                     for k in ("improved", "unchanged", "deteriorated")),
                   ", ".join(entry["suppressed"])]

    return ExportTable(columns, labels=dict(SUMMARY_FIELDS), numeric=set(columns) - _SUMMARY_TEXT, source=rows)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
