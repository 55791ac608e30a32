"""One resident's scores and growth, for the worker to look at together with the resident.

The Outcomes Star's ritual: worker and resident sit down with the resident's own
results. Per skill the page shows the score at each finished wave and whether the
change is clear, by the same reliable-change rule the impact report uses
(``outcomes.change_thresholds``, classified by ``stats.reliable_change``): "improved",
"unchanged" or "deteriorated", or None when the project has too few answers to judge.
The look-back (the post wave's "then" block) is the resident's self-perceived change.

Workers and admins only (capability ``project.residents``); funders never reach it.
Plain values out: the page needs no ORM rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.measures.definition import translate
from surveyhub.measures.scoring import level_for, score_range
from surveyhub.models import WAVE_KINDS, Response
from surveyhub.services import access, outcomes, responses
from surveyhub.services.access import Actor
from surveyhub.services.participants import get_participant
from surveyhub.stats import reliable_change

#: Comparisons shown, in order: (name, from, to); "then" is the look-back inside the post wave.
COMPARISONS = (("post", "pre", "post"), ("followup", "pre", "followup"), ("then", "then", "post"))


@dataclass(frozen=True)
class Change:
    #: "post" (pre → post), "followup" (pre → follow-up) or "then" (look-back → post: self-perceived).
    comparison: str
    #: "improved" | "unchanged" | "deteriorated" | None (too few answers in the project to judge)
    verdict: str | None
    #: later − earlier score
    difference: float


@dataclass(frozen=True)
class Skill:
    instrument: str
    title: str
    low: float
    high: float
    higher_is_better: bool
    #: wave kind ("pre", "post", "followup") or "then" -> score, only for finished waves with a score
    scores: dict[str, float]
    changes: list[Change] = field(default_factory=list)
    level_now: str | None = None


@dataclass(frozen=True)
class ResidentGrowth:
    code: str
    display_name: str | None
    #: wave kind -> "done" | "busy" (waves the resident has not started are left out)
    waves: dict[str, str]
    skills: list[Skill]

    @property
    def has_look_back(self) -> bool:
        return any("then" in skill.scores for skill in self.skills)


def resident_growth(session: Session, actor: Actor, slug: str, code: str, lang: str) -> ResidentGrowth:
    """Scores per skill at each finished wave and the change between them, in words the page translates."""
    project = access.project(session, actor, slug, "project.residents")
    participant = get_participant(session, actor, slug, code, project=project)
    kinds = {w.id: w.kind for w in project.waves}
    found = list(session.scalars(select(Response).where(Response.participant_id.in_(_same_resident(
        session, project, participant)), Response.wave_id.in_(list(kinds))).order_by(Response.id)))
    waves = {kinds[r.wave_id]: "done" if r.status == "completed" else "busy" for r in found}
    waves = {kind: waves[kind] for kind in WAVE_KINDS if kind in waves}
    scores: dict[tuple[str, str, str], float] = {}  # (wave or "then", instrument, scale) -> score
    for response in found:
        if response.status != "completed":
            continue  # scores follow every saved page: an unfinished wave is no measurement
        for s in response.scores:
            if s.score is not None:
                wave = "then" if s.block == "then" else kinds[response.wave_id]
                scores[(wave, s.instrument_id, s.scale_id)] = s.score
    thresholds = outcomes.change_thresholds(session, project) if scores else {}
    skills = [_skill(definition, scale, scores, thresholds, lang)
              for definition in responses.project_definitions(project) for scale in definition["scales"]]
    return ResidentGrowth(participant.code, participant.display_name, waves, [s for s in skills if s.scores])


def _same_resident(session: Session, project, participant) -> list[int]:
    """The participant, and for an own code also the participants the report pairs with them (one person)."""
    if participant.source != "anonymous":
        return [participant.id]
    from surveyhub.services import pair_review

    linked = pair_review.linked_participants(session, project)
    root = linked.get(participant.id, participant.id)
    return [root, *(pid for pid, shown in linked.items() if shown == root)]


def _skill(definition: dict, scale: dict, scores: dict, thresholds: dict, lang: str) -> Skill:
    key = (definition["id"], scale["id"])
    own = {wave: scores[(wave, *key)] for wave in ("pre", "then", "post", "followup") if (wave, *key) in scores}
    higher = bool(scale.get("higher_is_better", True))
    bounds = score_range(scale, definition.get("answer_sets")) or _observed(own.values())
    changes = []
    for comparison, first, second in COMPARISONS:
        if first in own and second in own:
            difference = own[second] - own[first]
            judged = reliable_change([difference], thresholds.get((comparison, *key)), higher)
            changes.append(Change(comparison, judged["per_person"][0], difference))
    latest = next((own[w] for w in ("followup", "post", "pre") if w in own), None)
    level = level_for(latest, scale)
    return Skill(translate(definition["title"], lang), translate(scale["title"], lang), bounds[0], bounds[1],
                 higher, own, changes, translate(level["label"], lang) if level else None)


def _observed(values) -> tuple[float, float]:
    """A range for a scale whose bounds are unknown (a plugin's scoring): the scores seen, or 0–1."""
    seen = list(values)
    low, high = (min(seen), max(seen)) if seen else (0.0, 1.0)
    return (low, high) if high > low else (low - 1.0, high + 1.0)
