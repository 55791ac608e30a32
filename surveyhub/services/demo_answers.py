"""Made-up answers for the demo: a resident's level per instrument, and answers around it.

Shared by every demo project (``demo``, ``demo_field``). Answers go in through
``responses.record_answers`` and ``responses.complete``, the way a resident's page
stores them, so every score is the real scoring code's.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from surveyhub.measures.definition import item_range
from surveyhub.measures.registry import InstrumentRegistry
from surveyhub.measures.scoring import score_scale
from surveyhub.models import Answer, Participant, Project, Response, ScaleScore, Token, Wave
from surveyhub.services import responses, short_codes
from surveyhub.services.participants import CODE_ALPHABET, new_token

#: Per instrument: (starting level on 1-5, this resident's growth by the end).
Profile = dict[str, tuple[float, float]]


def profile(rng: random.Random, instruments: Iterable[str]) -> Profile:
    """A starting level per instrument and this resident's growth (some grow, some do not)."""
    grower = rng.random() < 0.7
    return {name: (rng.uniform(1.8, 3.6), rng.gauss(0.7, 0.35) if grower else rng.gauss(0.0, 0.3))
            for name in instruments}


def grown(before: Profile) -> Profile:
    """The profile at the end: each level plus its growth."""
    return {name: (level + growth, 0.0) for name, (level, growth) in before.items()}


def item_value(rng: random.Random, item: dict, sets: dict, level: float) -> float | None:
    if rng.random() < 0.03:
        return None  # residents skip the odd question
    span = item_range(item, sets)
    if span is None:  # the demo's instruments give every scored item a range
        return None
    lo, hi = span
    if item["type"] != "choice":
        return float(round(min(hi, max(lo, lo + (level - 1) / 4 * (hi - lo) + rng.gauss(0, 1)))))
    value = min(hi, max(lo, round(level + rng.gauss(0, 0.6))))
    return float(lo + hi - value if item.get("reverse") else value)


def values(definitions: list[dict], levels: Profile, rng: random.Random, *, then: bool = False,
           quote: str | Mapping[str, str] | None = None, before: Profile | None = None) -> dict:
    """One resident's answers: every item near their level; ``quote`` in the open question(s).

    ``quote`` is one text for every open question, or a text per question id. ``then`` with
    ``before``: the post wave's look-back block too, rated a little lower than the real start.
    """
    found: dict[tuple[str, str, str], object] = {}
    for definition in definitions:
        sets = definition.get("answer_sets") or {}
        level = levels[definition["id"]][0]
        for scale in definition["scales"]:
            for item in scale["items"]:
                found[("now", definition["id"], item["id"])] = item_value(rng, item, sets, level)
                if then and before is not None:
                    # Looking back, residents tend to rate their start a little lower.
                    then_level = before[definition["id"]][0] - 0.2
                    found[("then", definition["id"], item["id"])] = item_value(rng, item, sets, then_level)
        for question in definition.get("questions") or []:
            text = quote.get(question["id"]) if isinstance(quote, Mapping) else quote
            if question["type"] == "text" and text:
                found[("now", definition["id"], question["id"])] = text
            elif question["type"] != "text":
                found[("now", definition["id"], question["id"])] = item_value(rng, question, sets, level)
    return found


def answer(session, registry: InstrumentRegistry, project: Project, participant: Participant, wave: Wave,
           levels: Profile, rng: random.Random, *, then: bool, when: datetime,
           quote: str | Mapping[str, str] | None = None, before: Profile | None = None) -> None:
    """One completed response, stored the way a resident's pages store it (see ``values``)."""
    response = responses.get_or_start(session, participant, wave)
    drawn = values(responses.project_definitions(project), levels, rng, then=then, quote=quote, before=before)
    responses.record_answers(session, project, response, drawn, registry.scoring_methods)
    responses.complete(session, project, response, registry.scoring_methods)
    response.started_at, response.completed_at = when, when + timedelta(minutes=rng.randint(6, 20))


def residents(session: Session, project_id: int, names: Sequence[str],
              self_codes: Sequence[str] = ()) -> list[Participant]:
    """Invited residents (a personal link each, in ``names`` order), then residents on the anonymous link.

    Written in one go: the demo's larger projects would take seconds one invitation at a time.
    """
    used: set[str] = set()

    def code(prefix: str) -> str:
        while (drawn := f"{prefix}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(5))) in used:
            pass
        used.add(drawn)
        return drawn

    people = [Participant(project_id=project_id, code=code("R"), display_name=name, source="link") for name in names]
    people += [Participant(project_id=project_id, code=code("A"), self_code=self_code, source="anonymous")
               for self_code in self_codes]
    for person in people:
        person.tokens.append(Token(token=new_token()))
    session.add_all(people)
    short_codes.ensure(session, [token for person in people for token in person.tokens])  # flushes
    return people


def answer_all(session: Session, registry: InstrumentRegistry, project: Project, wave: Wave,
               answered: Sequence[tuple[Participant, dict]], rng: random.Random, when: datetime) -> None:
    """Completed responses of many residents to one wave: ``answered`` holds each one's ``values``.

    The answers and the scale scores go in as two inserts, the scores computed from the same
    values by the scoring code every response uses (``score_scale``), so each matches its answers:
    a resident's pages store a response a page at a time, which the demo's hundreds cannot wait for.
    """
    rows = [{"participant_id": participant.id, "wave_id": wave.id, "status": "completed", "current_page": 0,
             "language": "nl", "channel": "web", "started_at": when, "updated_at": when,
             "completed_at": when + timedelta(minutes=rng.randint(6, 20))} for participant, _ in answered]
    if not rows:
        return
    made = session.scalars(insert(Response).returning(Response.id, sort_by_parameter_order=True), rows).all()
    definitions = responses.project_definitions(project)
    stored, scores = [], []
    for response_id, (_, drawn) in zip(made, answered, strict=True):
        for (block, instrument, item), value in drawn.items():
            if value is not None:
                text = value if isinstance(value, str) else None
                stored.append({"response_id": response_id, "block": block, "instrument_id": instrument,
                               "item_id": item, "value_num": None if text else float(value), "value_text": text,
                               "updated_at": when})
        for definition in definitions:
            given = {item: value for (block, instrument, item), value in drawn.items()
                     if block == "now" and instrument == definition["id"]}
            for scale in definition["scales"]:
                scores.append({"response_id": response_id, "block": "now", "instrument_id": definition["id"],
                               "instrument_version": definition["version"], "scale_id": scale["id"],
                               "score": score_scale(scale, given, definition.get("answer_sets") or {},
                                                    registry.scoring_methods),
                               "n_answered": sum(given.get(i["id"]) is not None for i in scale["items"])})
    if stored:
        session.execute(insert(Answer), stored)
    if scores:
        session.execute(insert(ScaleScore), scores)
