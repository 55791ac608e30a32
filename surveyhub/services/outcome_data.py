"""What the outcome report and the exports read from the database, and how waves are paired.

A handful of set-based queries per project (responses, scale scores, item
answers, consents), never one ORM load per resident: a report over 10,000
residents must come back within two seconds (``bench/report_json.py``).
Everything returned is plain values; the statistics are left to
:mod:`surveyhub.stats`.

Pairing (DESIGN.md "Measurement rules"): a resident's pre and post responses
belong together when they are the same participant (personal link, import),
or, for residents who made their own code on the anonymous link, when their
codes match — exactly, or one part apart when that match is unique both ways
(:func:`surveyhub.stats.match_codes`). Code pairs are counted separately and
fuzzy ones flagged, so the report can say so. A worker's decision on the pairs
page (``PairDecision``) comes first: an undone pair is never made, a confirmed
one is made and counts as a code pair, no longer as fuzzy.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from surveyhub.measures.definition import item_range, reverse_code
from surveyhub.models import Answer, Consent, PairDecision, Participant, Project, Response, ScaleScore
from surveyhub.services.questionnaire import PROJECT_INSTRUMENT
from surveyhub.stats import match_codes, normalise_code

#: A self-generated code has six answers (``services.anonymous.self_code``).
CODE_PARTS = 6

#: Joins instrument and item (or scale) ids into one key; no id contains it.
KEY_SEPARATOR = "\x1f"
#: Joins the keys of one response's answers into one text (``text_lists``); no key contains it.
LIST_SEPARATOR = "\x1e"

#: (block, instrument id, scale id), block "now" or "then".
ScaleKey = tuple[str, str, str]


@dataclass(frozen=True)
class Pair:
    """Two completed responses of one resident: ``first`` the earlier wave's."""

    first: int
    second: int
    #: "participant" (same participant), "code" (same self-made code) or
    #: "fuzzy" (codes one answer apart, the only candidate both ways).
    #: A pair a worker confirmed is a "code" pair, whatever its codes.
    by: str
    #: A worker confirmed these two are one resident (``PairDecision``).
    confirmed: bool = False


@dataclass
class Pairing:
    pairs: list[Pair] = field(default_factory=list)
    #: Self-made codes held by more than one response in a wave: never paired.
    ambiguous_codes: int = 0

    def count(self, by: str) -> int:
        return sum(1 for pair in self.pairs if pair.by == by)


@dataclass
class ProjectData:
    """One project's responses and scores, keyed by response id."""

    project: Project
    #: wave kind -> wave id
    waves: dict[str, int]
    invited: int
    #: response id -> (participant id, wave kind, status)
    responses: dict[int, tuple[int, str, str]]
    #: participant id -> self-made code ("a|b|c|d|e|f"), anonymous residents only
    self_codes: dict[int, str]
    #: (block, instrument, scale) -> response id -> score; a response without a score is absent
    scores: dict[ScaleKey, dict[int, float]]
    #: (earlier participant id, later participant id) -> "confirmed" | "undone", the workers' decisions
    decisions: dict[tuple[int, int], str] = field(default_factory=dict)
    _completed: dict[str, dict[int, int]] = field(default_factory=dict, repr=False)

    def completed(self, kind: str) -> dict[int, int]:
        """participant id -> completed response id, for one wave."""
        if kind not in self._completed:
            self._completed[kind] = {pid: rid for rid, (pid, wave, status) in self.responses.items()
                                     if wave == kind and status == "completed"}
        return self._completed[kind]

    def started(self, kind: str) -> int:
        return sum(1 for _pid, wave, _status in self.responses.values() if wave == kind)


def json_object(session: Session, key, value):
    """SQL for "the group's rows as one JSON object, key → value".

    One row per response with one JSON object moves far fewer Python objects
    than one row per answer, and ``json.loads`` parses it in C. A single
    aggregate keeps every key with its own value whatever order the rows come in.
    """
    if session.get_bind().dialect.name == "postgresql":
        return func.json_object_agg(key, value)
    return func.json_group_object(key, value)


def text_lists(session: Session, key, value) -> tuple:
    """SQL for "the group's keys, and its numbers in the same order", as two texts.

    Cheaper than a JSON object for every answer of a project (no quoting, and
    the numbers parse in one go). Keys are joined with ``LIST_SEPARATOR``,
    numbers with commas. PostgreSQL promises no order without ORDER BY, so
    both lists are ordered by the key; SQLite feeds every aggregate of a group
    the same rows in the same order.
    """
    keys = func.aggregate_strings(key, LIST_SEPARATOR)
    numbers = func.aggregate_strings(cast(value, Text), ",")
    if session.get_bind().dialect.name == "postgresql":
        return keys.aggregate_order_by(key), numbers.aggregate_order_by(key)
    return keys, numbers


def load(session: Session, project: Project, with_scores: bool = True) -> ProjectData:
    """Responses and scale scores of every wave of ``project`` (scores of completed responses only).

    ``with_scores=False`` skips the scores, for callers that only pair responses.
    """
    waves = {wave.kind: wave.id for wave in project.waves}
    kind_of = {wave_id: kind for kind, wave_id in waves.items()}
    responses = {
        rid: (pid, kind_of[wave_id], status)
        for rid, pid, wave_id, status in session.execute(
            select(Response.id, Response.participant_id, Response.wave_id, Response.status)
            .where(Response.wave_id.in_(list(kind_of))))
    }
    invited = session.scalar(select(func.count()).select_from(Participant)
                             .where(Participant.project_id == project.id)) or 0
    self_codes = {pid: code for pid, code in session.execute(
        select(Participant.id, Participant.self_code)
        .where(Participant.project_id == project.id, Participant.self_code.is_not(None))) if code is not None}
    data = ProjectData(project, waves, int(invited), responses, self_codes, {}, decisions(session, project.id))
    if with_scores:
        data.scores = _scores(session, list(kind_of))
    return data


def decisions(session: Session, project_id: int) -> dict[tuple[int, int], str]:
    """The workers' decisions on code pairs: (earlier participant, later participant) -> decision."""
    return {(first, second): decision for first, second, decision in session.execute(
        select(PairDecision.first_participant_id, PairDecision.second_participant_id, PairDecision.decision)
        .where(PairDecision.project_id == project_id))}


def _scores(session: Session, wave_ids: list[int]) -> dict[ScaleKey, dict[int, float]]:
    key = ScaleScore.instrument_id + KEY_SEPARATOR + ScaleScore.scale_id
    score: Any = ScaleScore.score
    if session.get_bind().dialect.name == "sqlite":
        # SQLite's JSON keeps 15 significant digits; a mean of thirds needs 17 to come back exactly.
        score = func.printf("%!.17g", ScaleScore.score)
    query = (select(ScaleScore.response_id, ScaleScore.block, json_object(session, key, score))
             .where(ScaleScore.response_id.in_(completed_responses(wave_ids)), ScaleScore.score.is_not(None))
             .group_by(ScaleScore.response_id, ScaleScore.block))
    scores: dict[ScaleKey, dict[int, float]] = defaultdict(dict)
    layouts: dict[tuple, list[tuple[str, str]]] = {}
    for rid, block, found in session.connection().execute(query):
        found = _json(found)
        keys = tuple(found)
        layout = layouts.get(keys)
        if layout is None:
            layout = layouts[keys] = [tuple(k.split(KEY_SEPARATOR, 1)) for k in keys]
        for (instrument_id, scale_id), value in zip(layout, found.values()):
            number = float(value)  # a number, or its text (SQLite's printf, PostgreSQL's "NaN")
            # A plugin's scoring method could have stored NaN (PostgreSQL keeps it): not a score.
            if math.isfinite(number):
                scores[(block, instrument_id, scale_id)][rid] = number
    return dict(scores)


def completed_responses(wave_ids: list[int]):
    """The completed responses of these waves, as a subquery.

    Written as ``response_id IN (subquery)`` rather than a join: SQLite then walks
    the answers (or scores) index in response order and groups without sorting.
    """
    return select(Response.id).where(Response.wave_id.in_(wave_ids), Response.status == "completed")


def _json(value):
    """A JSON aggregate as Python: SQLite hands over text, psycopg an already-parsed dict."""
    return json.loads(value) if isinstance(value, str) else value



def pair_waves(data: ProjectData, first: str, second: str) -> Pairing:
    """Pair the completed responses of wave ``first`` with those of wave ``second``.

    The workers' decisions (``data.decisions``) apply to any two waves the two
    participants answered in that order.
    """
    before, after = data.completed(first), data.completed(second)
    pairs = [Pair(before[pid], after[pid], "participant") for pid in sorted(set(before) & set(after))]
    pre_codes = _codes(data, before)
    post_codes = _codes(data, after)
    if not pre_codes or not post_codes:
        return Pairing(pairs)
    decided: dict[str, list[tuple[str, str]]] = {"confirmed": [], "undone": []}
    for (earlier, later), decision in data.decisions.items():
        if earlier in before and later in after:
            decided[decision].append((str(before[earlier]), str(after[later])))
    matched = match_codes(pre_codes, post_codes, **decided)
    confirmed = set(matched["confirmed"])
    taken = {pair.first for pair in pairs} | {pair.second for pair in pairs}
    for pre_key, post_key, fuzzy in matched["pairs"]:
        pre_rid, post_rid = int(pre_key), int(post_key)
        # The same participant is already paired above; code matching only
        # links responses that no participant link could.
        if pre_rid in taken or post_rid in taken:
            continue
        pairs.append(Pair(pre_rid, post_rid, "fuzzy" if fuzzy else "code", (pre_key, post_key) in confirmed))
    return Pairing(pairs, len(matched["ambiguous"]))


def _codes(data: ProjectData, completed: dict[int, int]) -> dict[str, tuple[str, ...]]:
    """Response id (as text, which match_codes sorts) -> normalised self-made code."""
    codes = {}
    for pid, rid in completed.items():
        code = data.self_codes.get(pid)
        if code is None:
            continue
        parts = normalise_code(code.split("|"))
        if len(parts) == CODE_PARTS:
            codes[str(rid)] = parts
    return codes


class ItemValues:
    """Item answers (numbers) of completed responses, for Cronbach's alpha.

    Read in one query, one row per response and block, into a responses ×
    items matrix (NaN where unanswered).
    """

    def __init__(self, session: Session, data: ProjectData, definitions: list[dict]):
        # SQLite writes a number as text with 15 significant digits: exact for answers as typed
        # or chosen (a 16-digit typed number would move alpha by about 1e-15).
        self.columns: dict[tuple[str, str, str], int] = {}  # (block, instrument, item) -> column
        self.rows: dict[int, int] = {}  # response id -> row
        item_owner: dict[str, set[str]] = defaultdict(set)
        for definition in definitions:
            items = [item for scale in definition["scales"] for item in scale["items"]]
            for item in items + list(definition.get("questions") or []):
                item_owner[item["id"]].add(definition["id"])
        # Item ids alone identify the item unless two instruments share one (rare): then
        # the key names the instrument too, at some cost per answer.
        unique = all(len(owners) == 1 for owners in item_owner.values())
        key = Answer.item_id if unique else Answer.instrument_id + KEY_SEPARATOR + Answer.item_id
        owner = {item: next(iter(owners)) for item, owners in item_owner.items()}
        query = (select(Answer.response_id, Answer.block, *text_lists(session, key, Answer.value_num))
                 .where(Answer.response_id.in_(completed_responses(list(data.waves.values()))),
                        Answer.value_num.is_not(None), Answer.instrument_id != PROJECT_INSTRUMENT)
                 .group_by(Answer.response_id, Answer.block))
        rows, counts, column_ids, texts = [], [], [], []
        layouts: dict[tuple, np.ndarray] = {}
        for rid, block, keys, found in session.connection().execute(query):
            layout = layouts.get((block, keys))
            if layout is None:
                layout = layouts[(block, keys)] = np.asarray(
                    [self._column(block, *(k.split(KEY_SEPARATOR, 1) if not unique else (owner.get(k, ""), k)))
                     for k in keys.split(LIST_SEPARATOR)], dtype=np.int64)
            rows.append(self.rows.setdefault(rid, len(self.rows)))
            counts.append(len(layout))
            column_ids.append(layout)
            texts.append(found)
        self.matrix = np.full((len(self.rows), max(len(self.columns), 1)), np.nan)
        if texts:
            # One conversion in C for every answer: "Inf" and "NaN" parse, and become NaN below.
            values = np.array(",".join(texts).split(","), dtype=float)
            self.matrix[np.repeat(rows, counts), np.concatenate(column_ids)] = values
        self.matrix[~np.isfinite(self.matrix)] = np.nan
        self._row_cache: dict[tuple, np.ndarray] = {}

    def _column(self, block: str, instrument_id: str, item_id: str) -> int:
        return self.columns.setdefault((block, instrument_id, item_id), len(self.columns))

    def table(self, block: str, definition: dict, scale: dict, response_ids: list[int]) -> np.ndarray:
        """Respondents × items after reverse coding; NaN where an item was not answered.

        A float array, which ``stats.cronbach_alpha`` takes as it is: as lists
        of Python floats it cost more than the statistics.
        """
        # A response without a single answer here would be left out as incomplete anyway.
        key = tuple(sorted(response_ids))
        rows = self._row_cache.get(key)
        if rows is None:
            rows = self._row_cache[key] = np.asarray([self.rows[rid] for rid in key if rid in self.rows],
                                                     dtype=np.int64)
        answer_sets = definition.get("answer_sets") or {}
        table = np.full((rows.size, len(scale["items"])), np.nan)
        for j, item in enumerate(scale["items"]):
            column = self.columns.get((block, definition["id"], item["id"]))
            if column is None or not rows.size:
                continue
            values = self.matrix[rows, column]
            if item.get("reverse"):
                bounds = item_range(item, answer_sets)
                if bounds is not None:
                    values = reverse_code(values, *bounds)
            table[:, j] = values
        return table


def sharing_participants(session: Session, project: Project) -> set[int]:
    """Participants whose latest consent allows quoting their open answers."""
    latest: dict[int, tuple[int, bool]] = {}
    for consent_id, pid, share in session.execute(
            select(Consent.id, Consent.participant_id, Consent.share_quotes)
            .join(Participant, Participant.id == Consent.participant_id)
            .where(Participant.project_id == project.id)):
        if pid not in latest or consent_id > latest[pid][0]:
            latest[pid] = (consent_id, bool(share))
    return {pid for pid, (_id, share) in latest.items() if share}


def text_answers(session: Session, data: ProjectData, participant_ids: set[int]) -> list[tuple]:
    """(response id, instrument id, item id, text) of completed responses by these participants."""
    if not participant_ids:
        return []
    wave_ids = list(data.waves.values())
    rows = session.execute(
        select(Answer.response_id, Response.participant_id, Answer.instrument_id, Answer.item_id,
               Answer.value_text)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.wave_id.in_(wave_ids), Response.status == "completed", Answer.value_text.is_not(None))
        .order_by(Answer.response_id, Answer.id))
    # Filtered here rather than with IN (...): a large project would pass
    # thousands of ids, more than SQLite allows in one statement.
    return [(rid, instrument_id, item_id, text) for rid, pid, instrument_id, item_id, text in rows
            if pid in participant_ids]
