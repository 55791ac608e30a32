"""The resident's side of a questionnaire: links, waves, consent, pages, completion.

Plain functions the questionnaire pages (and the worker's paper entry) call.
Nothing is stored before consent; each page is stored when the resident moves
on; a page with a problem stores nothing from that request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.measures.definition import translate
from surveyhub.models import Consent, Participant, Project, Response, Token, WAVE_KINDS, Wave
from surveyhub.services import responses
from surveyhub.services.errors import NotFound
from surveyhub.services.questionnaire import Page, Slot

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
    return Link(participant, session.get(Project, participant.project_id))


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
    if not has_consent(session, participant):
        session.add(Consent(participant_id=participant.id, wave_id=wave.id, wording_version=wording_version,
                            language=language, share_quotes=share_quotes, recorded_by_id=recorded_by_id))
        session.flush()


def initial_values(response: Response | None, page: Page, types: dict) -> dict[str, object]:
    """Form data for a page from what is saved: choices as their option values."""
    if response is None:
        return {}
    saved = responses.answers_of(response)
    data = {}
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
        if len(raw_values) > 1:
            errors[slot.key] = "repeated"
            continue
        raw = raw_values[0] if raw_values else None
        qtype = types.get(slot.item["type"])
        if qtype is None:
            continue  # a plugin type that is gone: the item is not shown, nothing to store
        context = context_cache.setdefault(slot.instrument_id, {"answer_sets": slot.answer_sets, "lang": lang})
        try:
            values[(slot.block, slot.instrument_id, slot.item["id"])] = qtype.code(slot.item, raw, context)
        except ValueError as exc:  # the resident's answer is not acceptable: the message goes beside the field
            errors[slot.key] = str(exc)
    return values, errors


def save_page(session: Session, project: Project, response: Response, page_index: int, values: dict,
              n_pages: int, move: str, methods: dict, on_error=None) -> int:
    """Store one page (scores follow) and return the index of the page to show next (``n_pages`` = finished)."""
    responses.record_answers(session, project, response, values, methods, on_error)
    if move == "back":
        target = max(0, page_index - 1)
    else:
        target = min(n_pages, page_index + 1)
    response.current_page = max(response.current_page, min(target, n_pages))
    session.flush()
    return target


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
    for pinned in project.instruments:
        definition = pinned.snapshot.definition
        for scale in definition["scales"]:
            key = (definition["id"], scale["id"])
            if now.get(key) is None:
                continue
            summary.append(_scale_summary(scale, start.get(key), now[key], lang, definition.get("answer_sets")))
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
    return session.get(Organisation, project.organisation_id).name
