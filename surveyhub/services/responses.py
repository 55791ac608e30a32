"""Responses: start, save answers page by page (idempotently), score and complete.

Saving is an upsert keyed on (response, block, instrument, item), so a double
click, a refresh or a back-and-forward never duplicates or loses an answer.
Scores are computed with the project's pinned instrument snapshot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, cast

from sqlalchemy import Table, UniqueConstraint, inspect, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from surveyhub.db import after_commit
from surveyhub.measures.definition import in_form
from surveyhub.measures.scoring import coded_values
from surveyhub.models import Answer, InstrumentVersion, Participant, Project, Response, ScaleScore, Wave
from surveyhub.models._types import utcnow
from surveyhub.services import webhooks
from surveyhub.services.questionnaire import PROJECT_INSTRUMENT, Page, asks_in_wave, build_pages
from surveyhub.text import clean

log = logging.getLogger(__name__)

#: (block, instrument id, item id) -> value (float, str or None)
AnswerKey = tuple[str, str, str]


#: Snapshots never change once stored, so each process decodes one only once. Keyed by the
#: snapshot's digest (SHA-256 of its content): never stale, whichever database a process serves.
_SNAPSHOTS: dict[str, dict] = {}
#: ``session.info`` key: instrument version id -> digest, as read in this session.
_DIGESTS = "surveyhub.snapshot_digests"


def project_definitions(project: Project) -> list[dict]:
    """The pinned instrument snapshots of a project, in questionnaire order (do not mutate them)."""
    session = object_session(project)
    if session is None:
        raise ValueError("project_definitions needs a project loaded in a session")
    ids = [pi.instrument_version_id for pi in project.instruments]
    known = session.info.setdefault(_DIGESTS, {})
    if any(i not in known for i in ids):
        known.update(session.execute(select(InstrumentVersion.id, InstrumentVersion.digest)
                                     .where(InstrumentVersion.id.in_(ids))).all())
    return definitions_for(session, [(i, known[i]) for i in ids], project.form_length)


def definitions_for(session: Session, pinned: list[tuple[int, str]], form_length: str = "full") -> list[dict]:
    """Instrument snapshots by (version id, digest), decoded once per process (do not mutate them).

    ``form_length`` "short" gives each instrument's short form (``measures.definition.in_form``),
    also made once per process.
    """
    missing = [i for i, digest in pinned if digest not in _SNAPSHOTS]
    if missing:
        rows = session.execute(select(InstrumentVersion.digest, InstrumentVersion.definition)
                               .where(InstrumentVersion.id.in_(missing)))
        _SNAPSHOTS.update({digest: definition for digest, definition in rows})
    if form_length != "short":
        return [_SNAPSHOTS[digest] for _i, digest in pinned]
    for _i, digest in pinned:
        if f"{digest}:short" not in _SNAPSHOTS:
            _SNAPSHOTS[f"{digest}:short"] = in_form(_SNAPSHOTS[digest], "short")
    return [_SNAPSHOTS[f"{digest}:short"] for _i, digest in pinned]


def pages_for(project: Project, wave_kind: str, question_mode: str | None = None) -> list[Page]:
    """The pages of one wave as residents see them (form length, question mode, the wave's own questions).

    ``question_mode``: another mode than the project's; paper is always "page" (a printed page per screen).
    """
    extra = [q.definition for q in project.questions if asks_in_wave(q.waves, wave_kind)]
    return build_pages(project_definitions(project), extra, wave_kind, project.retrospective,
                       question_mode=question_mode or project.question_mode)


def get_or_start(session: Session, participant: Participant, wave: Wave, language: str = "nl",
                 entered_by_id: int | None = None, channel: str = "web") -> Response:
    """The participant's response to the wave, created on first use (safe under races)."""
    query = select(Response).where(Response.participant_id == participant.id, Response.wave_id == wave.id)
    found = session.scalar(query)
    if found is not None:
        return found
    response = Response(participant_id=participant.id, wave_id=wave.id, language=language,
                        entered_by_id=entered_by_id, channel=channel)
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:  # a parallel request created it first: use that one
        return session.scalars(query).one()
    return response


def save_answers(session: Session, response: Response, values: dict[AnswerKey, object]) -> None:
    """Insert or update the given answers in one statement; ``None`` clears an answer.

    One multi-row ``INSERT … ON CONFLICT (response, block, instrument, item) DO
    UPDATE`` on SQLite and PostgreSQL alike, so a double click or a parallel
    save meets the unique key, never a duplicate. Low level: callers use
    :func:`record_answers`, which keeps the scale scores in step.
    """
    if response.id is None:
        session.flush()
    now = utcnow()
    rows, cleared = [], []
    for (block, instrument, item), value in values.items():
        number, text = _normalised(value)
        if number is None and text is None:
            cleared.append((block, instrument, item))
        else:
            rows.append({"response_id": response.id, "block": block, "instrument_id": instrument,
                         "item_id": item, "value_num": number, "value_text": text, "updated_at": now})
    table = cast(Table, Answer.__table__)  # a declarative model's table; SQLAlchemy types it as FromClause
    if rows:
        session.execute(_upsert(session, table, ("value_num", "value_text", "updated_at")), rows).all()
    if cleared:  # rare (an answer taken back): no row is made for a question never answered
        session.execute(update(table).where(
            table.c.response_id == response.id,
            tuple_(table.c.block, table.c.instrument_id, table.c.item_id).in_(cleared),
        ).values(value_num=None, value_text=None, updated_at=now))
    response.updated_at = now
    _forget_loaded(session, response)


def _normalised(value) -> tuple[float | None, str | None]:
    """(number, text) as stored: whatever the source, one rule."""
    number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    text = (clean(value) or None) if isinstance(value, str) else None
    return number, text


#: Upsert statements per (dialect, table), built once: rows come as parameters.
_UPSERTS: dict[tuple[str, str], object] = {}


def _upsert(session: Session, table, changing: tuple[str, ...]):
    """``INSERT … ON CONFLICT (the table's unique key) DO UPDATE SET changing … RETURNING id``.

    Executed with a list of rows, SQLAlchemy sends it as ONE multi-row INSERT
    ("insertmanyvalues", hence the RETURNING) on SQLite and PostgreSQL alike.
    """
    dialect = session.get_bind().dialect.name
    statement = _UPSERTS.get((dialect, table.name))
    if statement is None:
        insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
        [unique] = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
        statement = insert.on_conflict_do_update(
            index_elements=list(unique.columns),
            set_={name: getattr(insert.excluded, name) for name in changing}).returning(table.c.id)
        _UPSERTS[(dialect, table.name)] = statement
    return statement


def _forget_loaded(session: Session, response: Response) -> None:
    """Answers and scores were written past the ORM: loaded collections are reloaded on next use."""
    state = inspect(response)
    loaded = [name for name in ("answers", "scores") if name in state.dict]
    if loaded and state.persistent:
        for name in loaded:  # rows already in the session would otherwise come back with their old values
            for row in state.dict[name]:
                if inspect(row).persistent:
                    session.expire(row)
        session.expire(response, loaded)


def record_answers(session: Session, project: Project, response: Response, values: dict[AnswerKey, object],
                   methods: dict, on_error=None, definitions: list[dict] | None = None) -> None:
    """Store answers and recompute the response's scale scores: the one way answers change.

    Every writer (a resident's page, paper entry, a CSV import) goes through here,
    so a stored score always matches the stored answers. ``definitions``: the
    project's pinned snapshots when the caller has them (else they are looked up).
    """
    save_answers(session, response, values)
    # A scale's score rests on its own instrument's (and block's) answers only: the others stay as they are.
    touched = {instrument for (_block, instrument, _item) in values}
    score_response(session, project, response, methods, instruments=touched, definitions=definitions,
                   written=values, **({"on_error": on_error} if on_error else {}))


def answers_of(response: Response) -> dict[AnswerKey, object]:
    return {(a.block, a.instrument_id, a.item_id): (a.value_text if a.value_text is not None else a.value_num)
            for a in response.answers}


def _score_one(scale: dict, answers: dict, answer_sets: dict, methods: dict, on_error) -> float | None:
    method_name = scale["scoring"]["method"]
    method = methods.get(method_name)
    if method is None:
        on_error(method_name, f"scoring method {method_name!r} is not installed")
        return None
    # A plugin's method is guarded (``surveyhub.plugin_guards``): it reports its own failure and gives None.
    score = method(coded_values(scale, answers, answer_sets), scale)
    return float(score) if score is not None else None


def score_response(session: Session, project: Project, response: Response, methods: dict,
                   on_error=lambda method, message: log.error(message),
                   instruments: set[str] | None = None, definitions: list[dict] | None = None,
                   written: dict[AnswerKey, object] | None = None) -> None:
    """(Re)compute every scale score of the response (or of these instruments), for the now and then blocks.

    Reads the stored answers (after this transaction's writes, so a parallel
    save of another page is counted) and writes the scores in one upsert.
    ``written``: the answers this transaction just stored; then only their
    blocks are scored, and when they hold every item of those scales (a page
    that is a whole instrument) nothing needs to be read back.
    """
    if response.id is None:
        session.flush()
    # Without autoflush: the response row's pending change (last change, resume point) goes out
    # once, with the caller's flush, instead of a second UPDATE before these statements.
    with session.no_autoflush:
        _write_scores(session, project, response, methods, on_error, instruments, definitions, written)
    _forget_loaded(session, response)


def _write_scores(session: Session, project: Project, response: Response, methods: dict, on_error,
                  instruments: set[str] | None, definitions: list[dict] | None,
                  written: dict[AnswerKey, object] | None) -> None:
    scored = [definition for definition in (definitions if definitions is not None else project_definitions(project))
              if instruments is None or definition["id"] in instruments]
    blocks = None if written is None else {(block, instrument) for (block, instrument, _item) in written}
    if blocks is not None and written is not None and _holds_every_item(scored, blocks, written):
        answers = {key: _stored_value(value) for key, value in written.items()}
    else:
        answers = stored_answers(session, response.id, instruments)
    rows = []
    for definition in scored:
        for block in ("now", "then"):
            if blocks is not None and (block, definition["id"]) not in blocks:
                continue  # this block's answers did not change: neither did its scores
            block_answers = {item: v for (b, inst, item), v in answers.items()
                             if b == block and inst == definition["id"]}
            if block == "then" and not block_answers:
                continue
            for scale in definition["scales"]:
                n = sum(1 for i in scale["items"] if block_answers.get(i["id"]) is not None)
                score = _score_one(scale, block_answers, definition.get("answer_sets") or {}, methods, on_error)
                rows.append({"response_id": response.id, "block": block, "instrument_id": definition["id"],
                             "instrument_version": definition["version"], "scale_id": scale["id"],
                             "score": score, "n_answered": n})
    if rows:
        session.execute(_upsert(session, ScaleScore.__table__, ("score", "n_answered")), rows).all()


def _holds_every_item(definitions: list[dict], blocks: set[tuple[str, str]], written: dict) -> bool:
    return all((block, definition["id"], item["id"]) in written
               for definition in definitions for block in ("now", "then") if (block, definition["id"]) in blocks
               for scale in definition["scales"] for item in scale["items"])


def _stored_value(value):
    number, text = _normalised(value)
    return text if text is not None else number


def stored_answers(session: Session, response_id: int, instruments: set[str] | None) -> dict[AnswerKey, object]:
    """The stored answers of a response (of these instruments), read as plain values."""
    query = select(Answer.block, Answer.instrument_id, Answer.item_id, Answer.value_num, Answer.value_text) \
        .where(Answer.response_id == response_id)
    if instruments is not None:
        query = query.where(Answer.instrument_id.in_(sorted(instruments)))
    return {(block, inst, item): (text if text is not None else num)
            for block, inst, item, num, text in session.execute(query)}


def complete(session: Session, project: Project, response: Response, methods: dict, on_error=None, *,
             on_completed: Callable[[dict], object] | None = None, wave: Wave | None = None,
             entered_by: str | None = None,
             on_post_completed: Callable[[Project, Response], object] | None = None) -> None:
    """Score and mark completed (idempotent: completing twice changes nothing else).

    ``on_completed`` hears the ``surveyhub_response_completed`` payload once the
    unit of work commits (``db.after_commit``), never for a write that rolled back.
    ``on_post_completed`` runs in the same transaction once a response is complete, e.g. to issue
    the Open Badges the resident earned with a post wave (``services.badges.on_completion``).
    """
    score_response(session, project, response, methods,
                   **({"on_error": on_error} if on_error else {}))
    if response.status != "completed":
        response.status = "completed"
        response.completed_at = utcnow()
        webhooks.response_completed(session, project, wave or session.get_one(Wave, response.wave_id), response,
                                    entered_by)
    session.flush()
    if on_post_completed is not None:
        on_post_completed(project, response)
    if on_completed is not None:
        payload = completed_event(project, wave or session.get_one(Wave, response.wave_id), response,
                                  entered_by).as_dict()
        after_commit(session, lambda: on_completed(payload))


def announcer(host) -> Callable[[dict], object]:
    """``on_completed`` for :func:`complete`: the plugin hook, with its time budget (a plugin never holds a page up)."""
    return lambda payload: host.call_bounded("surveyhub_response_completed", response=payload)


@dataclass(frozen=True)
class CompletedEvent:
    """The plain payload of ``surveyhub_response_completed``."""

    project: str
    wave: str
    participant: str
    answers: dict
    scores: dict
    entered_by: str | None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def completed_event(project: Project, wave: Wave, response: Response, entered_by: str | None) -> CompletedEvent:
    answers = {f"{inst}.{item}" if block == "now" else f"then.{inst}.{item}": value
               for (block, inst, item), value in answers_of(response).items() if inst != PROJECT_INSTRUMENT}
    scores = {f"{s.instrument_id}.{s.scale_id}" if s.block == "now" else f"then.{s.instrument_id}.{s.scale_id}":
              s.score for s in response.scores}
    return CompletedEvent(project.slug, wave.kind, response.participant.code, answers, scores, entered_by)
