"""Import answers from a CSV file (paper questionnaires typed into a spreadsheet, another tool's export).

The file has a ``participant`` column (the participant's pseudonymous code;
an unknown code creates a participant with source "import") and one column
per question id; an empty cell is unanswered. Every value goes through its
question type's ``code()`` — the same check a resident's form gets. A file
with any bad row is refused whole, with every problem listed; nothing is
stored. Dutch Excel files work as they are: ``;`` separators, decimal commas,
a UTF-8 byte-order mark, or Excel's Windows-1252 "CSV" encoding.

Waves: ``pre``, ``post`` and ``followup`` fill that wave's questionnaire and
complete the responses; ``retro`` fills the post wave's retrospective "then"
block (completing nothing by itself: the post response completes when its
own answers come in). An import never changes a response a resident entered
online.

Short write transactions: the file is read and every row checked first,
without holding a write transaction (SQLite has one write lock for the whole
database, and residents save pages meanwhile). Then the rows are stored
``BATCH_ROWS`` at a time, each batch in a transaction of its own, keyed by
participant code, so running the same import again gives the same result. A
batch that fails undoes the batches stored before it (``import_undo``): the
file is stored whole or not at all.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.db import let_others_write
from surveyhub.measures.questions import format_number
from surveyhub.measures.registry import InstrumentRegistry
from surveyhub.models import Participant, Project, Response, Wave
from surveyhub.services import access, audit, import_undo, responses
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Invalid
from surveyhub.services.questionnaire import PROJECT_INSTRUMENT
from surveyhub.text import clean

_log = logging.getLogger(__name__)

IMPORT_WAVES = ("pre", "post", "retro", "followup")
PARTICIPANT_COLUMN = "participant"
MAX_ROWS = 20_000
MAX_CODE_LENGTH = 64
#: A write transaction stores at most this many rows, and starts no new row after BATCH_SECONDS:
#: a resident saving a page meanwhile waits at most about one batch, however slow the machine.
BATCH_ROWS = 200
BATCH_SECONDS = 0.5
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class ImportRefused(Invalid):
    """The file has problems; ``problems`` lists every one (nothing was stored)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        if len(problems) == 1:
            super().__init__(N_("nothing was imported: the file has 1 problem"))
        else:
            super().__init__(N_("nothing was imported: the file has %(count)s problems"), count=len(problems))


@dataclass(frozen=True)
class Column:
    """A file column that holds answers to one question."""

    name: str
    block: str
    instrument_id: str
    item: dict
    answer_sets: dict


@dataclass
class ImportResult:
    wave: str
    rows: int
    new_participants: int
    completed: int
    #: retro rows whose post response is not completed yet
    waiting: int
    #: payloads of ``surveyhub_response_completed`` once committed, when no ``on_completed`` was given
    events: list[dict] = field(default_factory=list)
    #: seconds each batch's write transaction lasted (the longest is what a saving resident may wait)
    batch_seconds: list[float] = field(default_factory=list)
    #: what the stored batches made and changed, to undo them when a later batch fails
    undo: import_undo.Undo = field(default_factory=import_undo.Undo, repr=False)


def decode(data: bytes | str) -> str:
    """Text of an uploaded CSV file: UTF-8 (with or without BOM), else Excel's Windows-1252.

    Cleaned as all free text is (``surveyhub.text``): NFC, no control characters.
    """
    if isinstance(data, str):
        return clean(data.lstrip("\ufeff"))
    if b"\x00" in data:
        raise ImportRefused(["the file is not a text (CSV) file"])
    try:
        return clean(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return clean(data.decode("cp1252", errors="replace"))


def read_rows(data: bytes | str, max_rows: int) -> tuple[list[str], list[list[str]]]:
    """A CSV file's header and rows, in any encoding and separator ``decode``/``sniff_delimiter`` accept.

    Refused whole (ImportRefused) when empty, unreadable as CSV (a cell past the reader's 128 KB) or
    longer than ``max_rows``.
    """
    text = decode(data)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ImportRefused(["the file is empty; the first line must name the columns"])
    reader = csv.reader(io.StringIO(text), delimiter=sniff_delimiter(lines[0]))
    try:
        records = list(reader)
    except csv.Error as exc:  # a cell of more than 128 KB: no answer or activity is that long
        raise ImportRefused([f"line {reader.line_num}: the file cannot be read as CSV ({exc})"]) from None
    header, body = records[0], records[1:]
    if len(body) > max_rows:
        raise ImportRefused([f"the file has {len(body)} rows; import at most {max_rows} at a time"])
    return header, body


def sniff_delimiter(header_line: str) -> str:
    """``;`` (Dutch Excel), tab or ``,``: whichever separates the header most."""
    counts = {sep: header_line.count(sep) for sep in (";", "\t", ",")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def import_responses(session: Session, registry: InstrumentRegistry, actor: Actor, slug: str, wave: str,
                     data: bytes | str, *, on_score_error=None, commit: Callable[[], None] | None = None,
                     on_completed: Callable[[dict], object] | None = None,
                     batch_rows: int | None = None, badges_base_url: str | None = None) -> ImportResult:
    """Check the whole file, then store it: every row or none.

    With ``commit`` (the CLI passes ``session.commit``) the rows are checked
    outside any write transaction and stored in batches of at most
    ``batch_rows`` (default ``BATCH_ROWS``) rows and about ``BATCH_SECONDS``,
    each committed on its own; a failing batch undoes the earlier ones and
    the error is raised. Without it everything is flushed into the caller's
    one transaction, for the caller to commit.

    With ``badges_base_url`` an import of end answers (post, retro) issues the Open Badges they earned,
    as a resident finishing on their phone gets them (``badges.issue_earned``); a failure there is
    logged and never costs the import.

    :raises ImportRefused: listing every problem (header and rows).
    """
    project, target, parsed = _check(session, registry, actor, slug, wave, data, commit)
    result = ImportResult(wave, len(parsed), 0, 0, 0)
    most = (batch_rows or BATCH_ROWS) if commit else len(parsed)
    # In batches, a completion is announced only once the whole import stands: a later batch that fails
    # undoes the earlier ones, and a plugin must never hear of a completion that was then taken back.
    # Each batch's committed events are collected in result.events until then.
    per_row = None if commit else on_completed
    try:
        began, in_batch = time.perf_counter(), 0
        for row in parsed:
            _store(session, registry, actor, project, target, wave, [row], on_score_error, result, per_row)
            in_batch += 1
            if commit and (in_batch >= most or time.perf_counter() - began >= BATCH_SECONDS):
                project, target = _end_batch(session, commit, result, began, project, target)
                began, in_batch = time.perf_counter(), 0
        if commit and in_batch:
            project, target = _end_batch(session, commit, result, began, project, target)
        if badges_base_url is not None and target.kind == "post" and project.badge_rule != "off":
            _issue_badges(session, project, badges_base_url)
        audit.record(session, "responses.import", actor=actor, project_id=project.id,
                     target=f"project:{slug}/{wave}", details={"rows": result.rows,
                                                               "new_participants": result.new_participants})
        if commit:
            commit()
    except BaseException:
        session.rollback()
        if commit and result.undo:
            import_undo.undo(session, project, registry.scoring_methods, result.undo, on_score_error)
            commit()
        raise
    if commit and on_completed is not None:
        for event in result.events:
            on_completed(event)
    return result


def _issue_badges(session: Session, project: Project, base_url: str) -> None:
    from surveyhub.services import badges

    try:
        with session.begin_nested():
            badges.issue_earned(session, project, base_url=base_url)
    except Exception:  # noqa: BLE001 - the badges can be issued later (surveyhub badges, the project's page)
        _log.exception("issuing badges after an import in project %s failed", project.slug)


def _end_batch(session, commit, result: ImportResult, began: float, project, target):
    """Commit a batch, give waiting writers their turn, and start the next batch with an empty session."""
    commit()
    result.batch_seconds.append(time.perf_counter() - began)
    let_others_write(session)  # a resident waiting to save a page goes first
    # Thousands of stored rows kept in the session would make every flush, so every batch, slower.
    session.expunge_all()
    return session.get(Project, project.id), session.get(Wave, target.id)


def _check(session, registry, actor, slug, wave, data, end_reads):
    """``(project, target wave, coded rows)``; raises ImportRefused listing every problem.

    Reads what the check needs, then (with ``end_reads``) ends the transaction
    before coding the rows, so checking a large file never holds the write lock.
    """
    project = access.project(session, actor, slug, "project.rows")
    if wave not in IMPORT_WAVES:
        raise Invalid(N_("unknown wave %(wave)r (choose %(choices)s)"), wave=wave, choices=", ".join(IMPORT_WAVES))
    if wave == "retro" and not project.retrospective:
        raise Invalid(N_("this project has no retrospective ('then') block; the retro wave needs one"))
    target = next(w for w in project.waves if w.kind == ("post" if wave == "retro" else wave))
    header, body = read_rows(data, MAX_ROWS)
    columns, code_index, problems = _header(project, registry, header, "then" if wave == "retro" else "now")
    if problems:
        raise ImportRefused(problems)
    known = (_existing_codes(session, project), _online_participants(session, target))
    if end_reads:
        end_reads()  # nothing written yet: this only ends the read (on SQLite: frees the write lock)
    parsed, problems = _rows(known, registry, columns, code_index, len(header), body)
    if problems:
        raise ImportRefused(problems)
    if not parsed:
        raise ImportRefused(["the file has no rows with answers"])
    return project, target, parsed


def _questions(project: Project, block: str) -> dict[str, list[Column]]:
    """Column name -> the questions it may mean (more than one: ambiguous without the instrument)."""
    found: dict[str, list[Column]] = {}

    def add(name, column):
        found.setdefault(name, []).append(column)

    for definition in responses.project_definitions(project):
        sets = definition.get("answer_sets") or {}
        items = [item for scale in definition["scales"] for item in scale["items"]]
        if block == "now":
            items += list(definition.get("questions") or [])
        for item in items:
            column = Column(item["id"], block, definition["id"], item, sets)
            add(item["id"], column)
            add(f"{definition['id']}.{item['id']}", column)
            if block == "then":
                add(f"then_{item['id']}", column)
    if block == "now":
        for question in project.questions:
            definition = question.definition
            add(question.question_id, Column(question.question_id, "now", PROJECT_INSTRUMENT, definition,
                                             definition.get("answer_sets") or {}))
    return found


def _header(project, registry, header: list[str], block: str):
    names = [cell.strip().lstrip("\ufeff") for cell in header]
    known = _questions(project, block)
    problems: list[str] = []
    columns: dict[int, Column] = {}
    code_index: int | None = None
    seen: dict[str, int] = {}
    question_of: dict[tuple, int] = {}  # one question named twice ("group/q1" and "q1"): refused, never one dropped
    for index, name in enumerate(names):
        label = f"column {index + 1}"
        if not name:
            problems.append(f"header: {label} has no name")
            continue
        if name.casefold() in seen:
            problems.append(f"header: column {name!r} appears twice (columns {seen[name.casefold()] + 1} "
                            f"and {index + 1})")
            continue
        seen[name.casefold()] = index
        if name.startswith("_"):  # Kobo's own columns (_id, _uuid, _submission_time, __version__): no question id
            continue
        name = name.rsplit("/", 1)[-1]  # Kobo's "group/question" header (an XLSForm export has a group per scale)
        if name.casefold() == PARTICIPANT_COLUMN:
            if code_index is not None:
                problems.append(f"header: column {names[index]!r} is the same as column {names[code_index]!r} "
                                f"(columns {code_index + 1} and {index + 1}); keep one")
            code_index = index if code_index is None else code_index
            continue
        candidates = known.get(name, [])
        if not candidates:
            where = "the retrospective block" if block == "then" else "this project's questionnaire"
            problems.append(f"header: unknown column {name!r}; it is not a question of {where}")
        elif len(candidates) > 1:
            options = ", ".join(f"{c.instrument_id}.{c.item['id']}" for c in candidates)
            problems.append(f"header: column {name!r} is ambiguous; write one of {options}")
        elif candidates[0].item["type"] not in registry.question_types:
            problems.append(f"header: column {name!r} has question type {candidates[0].item['type']!r}, "
                            "which is not installed")
        elif (same := question_of.setdefault((candidates[0].block, candidates[0].instrument_id,
                                              candidates[0].item["id"]), index)) != index:
            problems.append(f"header: column {names[index]!r} is the same question as column {names[same]!r} "
                            f"(columns {same + 1} and {index + 1}); keep one")
        else:
            columns[index] = candidates[0]
    if code_index is None:
        problems.insert(0, f"header: there is no {PARTICIPANT_COLUMN!r} column")
    return columns, code_index, problems


def _prepare(cell: str) -> str:
    """A number cell as a form would send it: "3,0" and "3.0" -> "3", "7,5" -> "7.5"."""
    if _DECIMAL_COMMA.match(cell):
        cell = cell.replace(",", ".")
    if _NUMBER.match(cell):
        value = float(cell)
        return str(int(value)) if value.is_integer() else repr(value)
    return cell


def _rows(known, registry, columns: dict[int, Column], code_index: int, width: int, body):
    """Coded rows ``(row number, code, participant id or None, values)`` and every problem found.

    ``known`` is ``(existing codes, participants who answered online)``, read before.
    """
    existing, online = known
    first_row: dict[str, int] = {}
    parsed: list[tuple] = []
    problems: list[str] = []
    for number, cells in enumerate(body, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        row_problems = []
        if any(cell.strip() for cell in cells[width:]):
            row_problems.append(f"has {len(cells)} cells but the header names {width} columns")
        code = cells[code_index].strip() if code_index < len(cells) else ""
        participant_id = None
        if not code:
            row_problems.append("the participant cell is empty")
        elif len(code) > MAX_CODE_LENGTH or not code.isprintable():
            row_problems.append(f"participant code {code[:20]!r}… is longer than {MAX_CODE_LENGTH} characters"
                                if len(code) > MAX_CODE_LENGTH else "the participant code has control characters")
        else:
            key = code.casefold()
            if key in first_row:
                row_problems.append(f"participant {code!r} appears again (first in row {first_row[key]}); "
                                    "codes that differ only in capitals or spaces are the same resident")
            else:
                first_row[key] = number
            matches = existing.get(key, [])
            if len(matches) > 1:
                row_problems.append(f"participant {code!r} matches more than one resident "
                                    f"({', '.join(c for c, _ in matches)}); use the exact code")
            elif matches:
                participant_id = matches[0][1]
                if participant_id in online:
                    row_problems.append(f"participant {code!r} answered this wave online; an import does not "
                                        "change a resident's own answers")
        values = _code_values(cells, columns, registry, row_problems)
        if values is not None and not any(v is not None for v in values.values()):
            row_problems.append("no answers in this row (leave the row out, or fill in the answers)")
        if row_problems:
            problems.extend(f"row {number}: {problem}" for problem in row_problems)
        else:
            parsed.append((number, code, participant_id, values))
    return parsed, problems


def _code_values(cells, columns: dict[int, Column], registry, row_problems: list[str]) -> dict | None:
    values = {}
    for index, column in columns.items():
        qtype = registry.question_types[column.item["type"]]
        raw = cells[index].strip() if index < len(cells) else ""
        if qtype.scored:
            raw = _prepare(raw)
        context = {"answer_sets": column.answer_sets, "lang": "nl"}
        try:
            value = qtype.code(column.item, raw, context)
        except ValueError as exc:
            row_problems.append(f"column {column.name!r}: {cells[index].strip()!r} is not allowed: {exc}"
                                + _allowed(column))
            continue
        # A plugin's type is guarded: when it breaks, the cell is kept as text and the admin page says so.
        values[(column.block, column.instrument_id, column.item["id"])] = value
    return values


def _allowed(column: Column) -> str:
    """What a worker may type in the column, when the item says so."""
    item = column.item
    if item.get("answer_set") in column.answer_sets:
        values = [format_number(option["value"]) for option in column.answer_sets[item["answer_set"]]]
        return f" (allowed: {', '.join(values)})"
    if item.get("type") == "yes_no":
        return " (allowed: 1 for yes, 0 for no)"
    if item.get("type") == "number":
        return f" (allowed: {format_number(item['min'])} to {format_number(item['max'])})"
    return ""


def _existing_codes(session, project) -> dict[str, list[tuple[str, int]]]:
    """Case-folded participant code -> [(code, participant id)]."""
    found: dict[str, list[tuple[str, int]]] = {}
    for code, pid in session.execute(select(Participant.code, Participant.id)
                                     .where(Participant.project_id == project.id)):
        found.setdefault(code.strip().casefold(), []).append((code, pid))
    return found


def _online_participants(session, wave: Wave) -> set[int]:
    return set(session.scalars(select(Response.participant_id).where(Response.wave_id == wave.id,
                                                                     Response.channel == "web")))


def _store(session, registry, actor, project, wave: Wave, kind: str, parsed, on_score_error,
           result: ImportResult, on_completed=None) -> None:
    """Store one batch of rows (flushed; the caller commits). Safe to run again: rows are keyed by code."""
    methods = registry.scoring_methods
    extra = {"on_error": on_score_error} if on_score_error else {}
    for _number, code, participant_id, values in parsed:
        participant = session.get(Participant, participant_id) if participant_id is not None else \
            session.scalar(select(Participant).where(Participant.project_id == project.id, Participant.code == code))
        if participant is None:  # also found when an earlier, interrupted run of this file made it
            participant = Participant(project_id=project.id, code=code, source="import")
            session.add(participant)
            session.flush()
            result.new_participants += 1
            result.undo.participants.append(participant.id)
        else:
            result.undo.remember(session, participant, wave)
        response = responses.get_or_start(session, participant, wave, entered_by_id=actor.user_id,
                                          channel="import")
        response.channel, response.entered_by_id = "import", actor.user_id
        responses.record_answers(session, project, response, values, methods, on_score_error)  # scores follow
        if kind == "retro" and response.status != "completed":
            result.waiting += 1
            continue
        # The completion event goes out once this row's batch is committed (db.after_commit).
        responses.complete(session, project, response, methods, **extra, wave=wave, entered_by=actor.email,
                           on_completed=on_completed or result.events.append)
        result.completed += 1
