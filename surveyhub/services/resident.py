"""The resident's side of a questionnaire: links, waves, consent, pages, completion.

Plain functions the questionnaire pages (and the worker's paper entry) call.
Nothing is stored before consent; each page is stored when the resident moves
on; a page with a problem stores nothing from that request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import JSON, and_, bindparam, case, func, select, type_coerce
from sqlalchemy.orm import Session

from surveyhub.measures.definition import translate
from surveyhub.models import (Consent, InstrumentVersion, Participant, Project, ProjectInstrument, ProjectQuestion,
                              Response, Token, WAVE_KINDS, Wave)
from surveyhub.services import consent, questionnaire, responses
from surveyhub.services.errors import NotFound
from surveyhub.services.questionnaire import Page

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Link:
    participant: Participant
    project: Project


def resolve(session: Session, token: str) -> Link:
    """The participant and project of an active personal link; NotFound otherwise."""
    if not token or len(token) > 64:
        raise NotFound("unknown link")
    row = session.scalar(select(Token).where(Token.token == token, Token.revoked_at.is_(None)))
    if row is None:
        raise NotFound("unknown link")
    participant = row.participant
    return Link(participant, session.get_one(Project, participant.project_id))


@dataclass(frozen=True)
class ResidentSession:
    """Everything one request on a personal link needs, resolved in one go (``open_session``).

    ``wave`` is the open wave to answer now (None: nothing to answer), ``latest``
    the latest wave the resident started or finished; ``response`` and
    ``latest_response`` their responses (None before the first save).
    ``pages`` are the questionnaire pages of ``wave``, shared by every request
    on the same pinned instrument versions (do not mutate them).
    """

    token: str
    link: Link
    wave: Wave | None
    latest: Wave | None
    response: Response | None
    latest_response: Response | None
    consented: bool
    definitions: list[dict]
    pages: list[Page]
    #: The link's short code for typing (``services.short_codes``); None for a link that has none yet.
    short_code: str | None = None

    @property
    def participant(self) -> Participant:
        return self.link.participant

    @property
    def project(self) -> Project:
        return self.link.project


def open_session(session: Session, token: str) -> ResidentSession:
    """Resolve a personal link: participant, project, waves, responses, consent and pages in one statement.

    One row per wave of the project, each with the participant, the project and
    the participant's response to that wave, plus whether consent was given and
    the questionnaire's shape (pinned instrument versions, extra questions) as
    JSON; the pages themselves come from the in-process cache
    (``questionnaire.cached_pages``). NotFound for an unknown or revoked link.
    """
    if not token or len(token) > 64:
        raise NotFound("unknown link")
    rows = session.execute(_session_query(session.get_bind().dialect.name), {"token": token}).all()
    if not rows:
        raise NotFound("unknown link")
    participant, project, _w, _r, consent, pinned, extra, short_code = rows[0]
    by_wave = sorted(((w, r) for _p, _pr, w, r, *_rest in rows if w is not None),
                     key=lambda pair: WAVE_KINDS.index(pair[0].kind))
    wave, latest = _current(project, by_wave)
    responses_by_wave = {w.id: r for w, r in by_wave}
    versions = [(version, digest) for _position, version, digest in sorted(pinned or [])]
    definitions = responses.definitions_for(session, versions, project.form_length)
    pages = questionnaire.cached_pages([digest for _v, digest in versions], definitions,
                                       _asked_in(extra, wave.kind), wave.kind, project.retrospective,
                                       project.form_length, project.question_mode) if wave is not None else []
    return ResidentSession(token, Link(participant, project), wave, latest,
                           responses_by_wave.get(wave.id) if wave else None,
                           responses_by_wave.get(latest.id) if latest else None,
                           bool(consent), definitions, pages, short_code)


def _asked_in(extra: list | None, wave_kind: str) -> list[dict]:
    """The project's own questions (``[[position, definition, waves], …]``) this wave asks, in order."""
    return [row[1] for row in sorted(extra or [], key=lambda row: row[0])
            if questionnaire.asks_in_wave(row[2] if len(row) > 2 else None, wave_kind)]


#: The statement of ``open_session`` per dialect, built once (the token is its one parameter).
_SESSION_QUERIES: dict[str, object] = {}


def _session_query(dialect: str):
    query = _SESSION_QUERIES.get(dialect)
    if query is None:
        consented = select(Consent.id).where(Consent.participant_id == Participant.id).exists()
        query = (
            select(Participant, Project, Wave, Response, consented.label("consented"),
                   _aggregated(dialect, ProjectInstrument.position, ProjectInstrument.instrument_version_id,
                               InstrumentVersion.digest),
                   _aggregated(dialect, ProjectQuestion.position, ProjectQuestion.definition, json_value=True,
                               also=ProjectQuestion.waves),
                   Token.short_code)
            .select_from(Token)
            .join(Participant, Participant.id == Token.participant_id)
            .join(Project, Project.id == Participant.project_id)
            .outerjoin(Wave, Wave.project_id == Project.id)
            .outerjoin(Response, and_(Response.participant_id == Participant.id, Response.wave_id == Wave.id))
            .where(Token.token == bindparam("token"), Token.revoked_at.is_(None)))
        _SESSION_QUERIES[dialect] = query
    return query


def _aggregated(dialect: str, position, value, digest=None, json_value: bool = False, also=None):
    """A correlated subquery: ``[[position, value(, digest)(, also)], …]`` of the project's rows, as JSON.

    ``digest``: the pinned snapshot's digest (joined), which names its content for the caches.
    ``also``: one more JSON column of the same rows (a question's ``waves``).
    """
    table = position.class_

    def as_json(column):
        return func.json(column) if dialect != "postgresql" else column

    values = [position, as_json(value) if json_value else value]
    if digest is not None:
        values.append(digest)
    if also is not None:
        values.append(as_json(also))
    if dialect == "postgresql":
        aggregate = func.json_agg(func.json_build_array(*values))
    else:
        aggregate = func.json_group_array(func.json_array(*values))
    query = select(aggregate).where(table.project_id == Project.id)
    if digest is not None:
        query = query.join(InstrumentVersion, InstrumentVersion.id == table.instrument_version_id)
    return type_coerce(query.scalar_subquery(), JSON)


def _current(project: Project, by_wave: list[tuple[Wave, Response | None]]) -> tuple[Wave | None, Wave | None]:
    """(the open wave to answer now, the latest wave started or finished): see :func:`current_wave`."""
    latest = None
    accepting = project.archived_at is None and project.purged_at is None
    for wave, response in by_wave:
        if response is not None:
            latest = wave
        if accepting and wave.status == "open" and (response is None or response.status != "completed"):
            return wave, latest
    return None, latest


def response_for(session: Session, participant: Participant, wave: Wave) -> Response | None:
    return session.scalar(select(Response).where(Response.participant_id == participant.id,
                                                 Response.wave_id == wave.id))


def current_wave(session: Session, link: Link) -> tuple[Wave | None, Wave | None]:
    """(the open wave to answer now, the latest wave this resident finished or started).

    The first open wave the resident has not completed; if every open wave is
    done, none. The second value lets a closed or finished link show the right page.
    """
    waves = sorted(link.project.waves, key=lambda w: WAVE_KINDS.index(w.kind))
    latest = None
    # An archived project takes no new answers: every wave counts as closed.
    accepting = link.project.archived_at is None and link.project.purged_at is None
    for wave in waves:
        response = response_for(session, link.participant, wave)
        if response is not None:
            latest = wave
        if accepting and wave.status == "open" and (response is None or response.status != "completed"):
            return wave, latest
    return None, latest


def has_consent(session: Session, participant: Participant) -> bool:
    """Consent is asked once per participant; it covers every wave of the project."""
    return session.scalar(select(Consent.id).where(Consent.participant_id == participant.id).limit(1)) is not None


def give_consent(session: Session, participant: Participant, wave: Wave, wording_version: str, language: str,
                 share_quotes: bool, recorded_by_id: int | None = None) -> None:
    """Record consent once; ``wording_version`` is the project's, raised to the words shown now
    (``consent.wording_version``), on a phone and on paper alike."""
    if not has_consent(session, participant):
        session.add(Consent(participant_id=participant.id, wave_id=wave.id,
                            wording_version=consent.wording_version(wording_version),
                            language=language, share_quotes=share_quotes, recorded_by_id=recorded_by_id))
        session.flush()


def initial_values(response: Response | None, page: Page, types: dict, session: Session | None = None
                   ) -> dict[str, object]:
    """Form data for a page from what is saved: choices as their option values.

    With ``session``: one plain query for the page's instrument (no ORM rows).
    """
    if response is None or response.id is None:
        return {}
    saved = responses.stored_answers(session, response.id, page.instruments) if session is not None \
        else responses.answers_of(response)
    data: dict[str, object] = {}
    for slot in page.slots:
        value = saved.get((slot.block, slot.instrument_id, slot.item["id"]))
        if value is None:
            continue
        data[slot.key] = _format_saved(value)
    return data


def _format_saved(value) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value)


def code_page(page: Page, form_data, types: dict, lang: str) -> tuple[dict, dict[str, str]]:
    """Turn submitted data into answers; ``(values, errors)``. Any error means: store nothing.

    A plugin's type is guarded (``surveyhub.plugin_guards``): when it breaks, its
    ``code`` keeps what the resident sent and reports the failure itself.
    """
    values, errors = {}, {}
    context_cache: dict[str, dict] = {}
    for slot in page.slots:
        raw_values = form_data.getlist(slot.key)
        qtype = types.get(slot.item["type"])
        if len(raw_values) > 1 and not getattr(qtype, "multiple", False):  # checkboxes send several
            errors[slot.key] = "repeated"
            continue
        raw = raw_values if getattr(qtype, "multiple", False) else (raw_values[0] if raw_values else None)
        if qtype is None:
            continue  # a plugin type that is gone: the item is not shown, nothing to store
        context = context_cache.setdefault(slot.instrument_id, {"answer_sets": slot.answer_sets, "lang": lang})
        try:
            values[(slot.block, slot.instrument_id, slot.item["id"])] = qtype.code(slot.item, raw, context)
        except ValueError as exc:  # the resident's answer is not acceptable: the message goes beside the field
            errors[slot.key] = str(exc)
    return values, errors


def nothing_answered(page: Page, values: dict) -> bool:
    """A page of statements sent with not one answer: worth asking "continue anyway?".

    Pages of open questions only are left alone: leaving those empty is normal.
    """
    return page.scored and all(value is None or value == "" for value in values.values())


def save_page(session: Session, project: Project, response: Response, page_index: int, values: dict,
              n_pages: int, move: str, methods: dict, on_error=None, definitions: list[dict] | None = None) -> int:
    """Store one page (scores follow) and return the index of the page to show next (``n_pages`` = finished).

    Three writes: the answers (one upsert), the scale scores of the page's
    instruments (one upsert, after re-reading that instrument's answers) and the
    response row (resume point, last change) — see ``responses.record_answers``.
    """
    responses.record_answers(session, project, response, values, methods, on_error, definitions)
    if move == "back":
        target = max(0, page_index - 1)
    else:
        target = min(n_pages, page_index + 1)
    reached = min(target, n_pages)
    # In SQL: a parallel save of a later page (another tab) is never moved back by this one.
    response.current_page = case((Response.current_page < reached, reached), else_=Response.current_page)
    session.flush()
    return target


def save(session: Session, resident_session: ResidentSession, response: Response, page_index: int, values: dict,
         move: str, methods: dict, on_error=None) -> int:
    """Store a checked page (``code_page``) of an open session; returns the page to show next."""
    return save_page(session, resident_session.project, response, page_index, values,
                     len(resident_session.pages), move, methods, on_error, resident_session.definitions)


def growth_summary(session: Session, participant: Participant, project: Project, lang: str) -> list[dict]:
    """Per scale: where the resident started, stands now and whether they grew. Never a decline."""
    waves = {w.kind: w for w in project.waves}
    pre = response_for(session, participant, waves["pre"])
    post = response_for(session, participant, waves["post"])
    if post is None or post.status != "completed":
        return []
    # Scores follow every saved page: an unfinished pretest is no starting point.
    pre_scores = pre.scores if pre is not None and pre.status == "completed" else []
    start = {(s.instrument_id, s.scale_id): s.score for s in pre_scores if s.block == "now"}
    if not start:  # no pretest: use the retrospective "then" block
        start = {(s.instrument_id, s.scale_id): s.score for s in post.scores if s.block == "then"}
    now = {(s.instrument_id, s.scale_id): s.score for s in post.scores if s.block == "now"}
    summary = []
    for definition in responses.project_definitions(project):
        for scale in definition["scales"]:
            key = (definition["id"], scale["id"])
            score_now = now.get(key)
            if score_now is None:
                continue
            summary.append(_scale_summary(scale, start.get(key), score_now, lang, definition.get("answer_sets")))
    return summary


def _scale_summary(scale: dict, start: float | None, now: float, lang: str, answer_sets: dict | None) -> dict:
    from surveyhub.measures.scoring import grew as grew_on, level_for, score_range

    higher = scale.get("higher_is_better", True)
    grew = grew_on(start, now, higher, score_range(scale, answer_sets))  # the one growth rule
    level_now = level_for(now, scale)
    level_start = level_for(start, scale) if start is not None else None
    return {"title": translate(scale["title"], lang), "grew": grew,
            "level_now": translate(level_now["label"], lang) if level_now else None,
            "level_start": translate(level_start["label"], lang) if level_start else None}


def organisation_name(session: Session, project: Project) -> str:
    from surveyhub.models import Organisation
    return session.get_one(Organisation, project.organisation_id).name
