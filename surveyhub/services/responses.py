"""Responses: start, save answers page by page (idempotently), score and complete.

Saving is an upsert keyed on (response, block, instrument, item), so a double
click, a refresh or a back-and-forward never duplicates or loses an answer.
Scores are computed with the project's pinned instrument snapshot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from surveyhub.measures.scoring import coded_values
from surveyhub.models import Answer, InstrumentVersion, Participant, Project, Response, ScaleScore, Wave
from surveyhub.models._types import utcnow
from surveyhub.services.questionnaire import PROJECT_INSTRUMENT, Page, build_pages
from surveyhub.text import clean

log = logging.getLogger(__name__)

#: (block, instrument id, item id) -> value (float, str or None)
AnswerKey = tuple[str, str, str]


#: Snapshots never change once stored, so each process decodes one only once.
#: Keyed by database as well: one process may serve (or test) several databases.
_SNAPSHOTS: dict[tuple[str, int], dict] = {}


def project_definitions(project: Project) -> list[dict]:
    """The pinned instrument snapshots of a project, in questionnaire order (do not mutate them)."""
    session = object_session(project)
    database = str(session.get_bind().url)
    ids = [pi.instrument_version_id for pi in project.instruments]
    missing = [i for i in ids if (database, i) not in _SNAPSHOTS]
    if missing:
        rows = session.execute(select(InstrumentVersion.id, InstrumentVersion.definition)
                               .where(InstrumentVersion.id.in_(missing)))
        _SNAPSHOTS.update({(database, row_id): definition for row_id, definition in rows})
    return [_SNAPSHOTS[(database, i)] for i in ids]


def pages_for(project: Project, wave_kind: str) -> list[Page]:
    extra = [q.definition for q in project.questions]
    return build_pages(project_definitions(project), extra, wave_kind, project.retrospective)


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
        return session.scalar(query)
    return response


def save_answers(session: Session, response: Response, values: dict[AnswerKey, object]) -> None:
    """Insert or update the given answers; ``None`` clears an answer.

    Low level: callers use :func:`record_answers`, which keeps the scale scores in step.
    """
    existing = {(a.block, a.instrument_id, a.item_id): a for a in response.answers}
    for key, value in values.items():
        number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        text = (clean(value) or None) if isinstance(value, str) else None  # whatever the source: one rule
        answer = existing.get(key)
        if answer is None:
            if value is None:
                continue
            response.answers.append(Answer(block=key[0], instrument_id=key[1], item_id=key[2],
                                           value_num=number, value_text=text))
        elif (answer.value_num, answer.value_text) != (number, text):
            answer.value_num, answer.value_text = number, text
    response.updated_at = utcnow()
    session.flush()


def record_answers(session: Session, project: Project, response: Response, values: dict[AnswerKey, object],
                   methods: dict, on_error=None) -> None:
    """Store answers and recompute the response's scale scores: the one way answers change.

    Every writer (a resident's page, paper entry, a CSV import) goes through here,
    so a stored score always matches the stored answers.
    """
    save_answers(session, response, values)
    # A scale's score rests on its own instrument's answers only: the others stay as they are.
    touched = {instrument for (_block, instrument, _item) in values}
    score_response(session, project, response, methods, instruments=touched,
                   **({"on_error": on_error} if on_error else {}))


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
                   instruments: set[str] | None = None) -> list[ScaleScore]:
    """(Re)compute every scale score of the response (or of these instruments), for the now and then blocks."""
    answers = answers_of(response)
    by_key = {(s.block, s.instrument_id, s.scale_id): s for s in response.scores}
    for pinned in project.instruments:
        definition = pinned.snapshot.definition
        if instruments is not None and definition["id"] not in instruments:
            continue
        for block in ("now", "then"):
            block_answers = {item: v for (b, inst, item), v in answers.items()
                             if b == block and inst == definition["id"]}
            if block == "then" and not block_answers:
                continue
            for scale in definition["scales"]:
                item_ids = [i["id"] for i in scale["items"]]
                n = sum(1 for i in item_ids if block_answers.get(i) is not None)
                score = _score_one(scale, block_answers, definition.get("answer_sets") or {}, methods, on_error)
                key = (block, definition["id"], scale["id"])
                row = by_key.get(key)
                if row is None:
                    row = ScaleScore(block=block, instrument_id=definition["id"],
                                     instrument_version=definition["version"], scale_id=scale["id"])
                    response.scores.append(row)
                row.score, row.n_answered = score, n
    session.flush()
    return list(response.scores)


def complete(session: Session, project: Project, response: Response, methods: dict, on_error=None) -> None:
    """Score and mark completed (idempotent: completing twice changes nothing else)."""
    score_response(session, project, response, methods,
                   **({"on_error": on_error} if on_error else {}))
    if response.status != "completed":
        response.status = "completed"
        response.completed_at = utcnow()
    session.flush()


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
