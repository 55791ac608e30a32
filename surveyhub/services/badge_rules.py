"""Which residents earn which Open Badge, and the words that say why.

A badge is earned per skill (an instrument scale) at the post wave, never before:
- **improvement**: the change from the pre score to the post score is reliable and in the
  scale's good direction, by the rule the worker's page on one resident and the report use
  (Jacobson & Truax: |change| / S_diff > 1.96, S_diff from ``outcomes.change_thresholds``).
  Without a pre score, a retrospective project judges the look-back (then → post) the same way:
  self-perceived change, and the badge says so.
- **level**: the post score reaches the project's ``badge_level`` (a level key, see
  :func:`level_key`), or the scale's highest level when none is set; on a scale where lower
  is better (``higher_is_better: false``) the best level is the lowest, and "reaches" counts down.
Only completed responses count. Residents the report pairs by their own code are one person:
the badge goes to the latest participant of the chain, as the certificate does.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.locale import Numbers, translate
from surveyhub.measures.scoring import level_for, score_range
from surveyhub.models import Participant, Project, Response, ScaleScore
from surveyhub.services import outcomes, pair_review, responses
from surveyhub.stats import reliable_change


@dataclass(frozen=True)
class Award:
    """One badge a resident has earned: who, which skill, why, and the plain facts the credential states."""

    participant_id: int
    code: str
    instrument_id: str
    version: int
    scale_id: str
    kind: str
    level: str | None
    facts: dict = field(default_factory=dict)

    @property
    def skill(self) -> str:
        return f"{self.instrument_id}@{self.version}:{self.scale_id}"


def level_key(level: dict) -> str:
    """A level's stable key: its English (else Dutch) label as a slug, e.g. ``strong``, ``doing-well``."""
    label = translate(level.get("label"), "en") or translate(level.get("label"), "nl")
    plain = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:40] or "level"


def level_choices(project: Project) -> list[tuple[str, dict]]:
    """The level keys a project's scales share, with a label each (first seen), lowest first."""
    found: dict[str, tuple[float, dict]] = {}
    for definition in responses.project_definitions(project):
        for scale in definition["scales"]:
            for level in scale.get("levels") or ():
                found.setdefault(level_key(level), (level["min"], level["label"]))
    return [(key, label) for key, (_, label) in sorted(found.items(), key=lambda kv: kv[1][0])]


def awards(session: Session, project: Project, participant_ids: set[int] | None = None) -> list[Award]:
    """Every badge the project's rule gives (``participant_ids``: only for these residents)."""
    if project.badge_rule == "off":
        return []
    people = _residents(session, project, participant_ids)
    own_scores = _own_scores(session, project, people)
    if not any(("post", "now") in own for own in own_scores.values()):
        return []
    thresholds = outcomes.change_thresholds(session, project) if project.badge_rule != "level" else {}
    codes = dict(session.execute(select(Participant.id, Participant.code)
                                 .where(Participant.id.in_(list(people)))).all())
    found = []
    for shown, own in own_scores.items():
        if ("post", "now") not in own:
            continue
        for definition in responses.project_definitions(project):
            for scale in definition["scales"]:
                found.extend(_for_scale(project, shown, codes[shown], definition, scale, own, thresholds))
    return found


def still_stated(session: Session, project: Project, badges: list) -> dict[int, bool]:
    """Badge row id -> whether the scores it states are still what the answers say.

    A badge states the end score (and for growth the earlier one). When a worker types a paper form
    again, or a file brings a resident's end answers again, a score can change: the badge then states
    something the answers no longer show. A changed rule does not count: a badge earned under the rule
    of its day stays right as long as its scores do.
    """
    if not badges:
        return {}
    people = _residents(session, project, {b.participant_id for b in badges if b.participant_id is not None})
    own_scores = _own_scores(session, project, people)
    own_of = {pid: own_scores.get(shown, {}) for shown, members in people.items() for pid in members}
    return {b.id: _states(b.facts or {}, b.kind, (b.instrument_id, b.skill.rsplit(":", 1)[-1]),
                          own_of.get(b.participant_id, {})) for b in badges}


def same_residents(session: Session, project: Project, participant_ids: set[int]) -> set[int]:
    """These participants and every other that is the same resident (paired by their own code)."""
    return {pid for members in _residents(session, project, participant_ids).values() for pid in members}


def _states(facts: dict, kind: str, key: tuple[str, str], own: dict) -> bool:
    """Whether no completed answers contradict the scores ``facts`` state. A wave without a completed score
    (a paper form being typed again, half-way) contradicts nothing: the badge waits for its completion."""
    if not _same(own.get(("post", "now"), {}).get(key), facts.get("now")):
        return False
    if kind != "improvement":
        return True
    earlier = ("pre", "now") if facts.get("comparison") == "post" else ("post", "then")
    return _same(own.get(earlier, {}).get(key), facts.get("start"))


def _same(score: float | None, stated) -> bool:
    return score is None or (isinstance(stated, (int, float)) and math.isclose(score, stated, abs_tol=1e-9))


def _own_scores(session: Session, project: Project, people: dict[int, list[int]]) -> dict[int, dict]:
    """Participant shown -> (wave kind, block) -> scores, the chain's members merged (a later one's win)."""
    scores = _scores(session, project, {pid for members in people.values() for pid in members})
    merged: dict[int, dict] = {}
    for shown, members in people.items():
        own: dict = {}
        for pid in members:  # the earliest participant first: a later one's scores win
            for wave_block, values in scores.get(pid, {}).items():
                own.setdefault(wave_block, {}).update(values)
        merged[shown] = own
    return merged


def _residents(session: Session, project: Project, participant_ids: set[int] | None = None) -> dict[int, list[int]]:
    """Participant shown -> the participants that are this one resident (oldest first); with
    ``participant_ids`` only the residents one of these belongs to."""
    linked = pair_review.linked_participants(session, project)
    chains: dict[int, list[int]] = {}
    for pid in session.scalars(select(Participant.id).where(Participant.project_id == project.id)
                               .order_by(Participant.id)):
        chains.setdefault(linked.get(pid, pid), []).append(pid)
    people = {max(members): members for members in chains.values()}
    if participant_ids is None:
        return people
    return {shown: members for shown, members in people.items() if set(members) & participant_ids}


def _scores(session: Session, project: Project, participant_ids: set[int]) -> dict[int, dict]:
    """participant -> (wave kind, block) -> {"scores": {(instrument, scale): score}, "at": completed_at}."""
    kinds = {w.id: w.kind for w in project.waves}
    query = (select(Response.participant_id, Response.wave_id, Response.completed_at, ScaleScore.block,
                    ScaleScore.instrument_id, ScaleScore.scale_id, ScaleScore.score)
             .join(ScaleScore, ScaleScore.response_id == Response.id)
             .where(Response.participant_id.in_(list(participant_ids)), Response.wave_id.in_(list(kinds)),
                    Response.status == "completed", ScaleScore.score.is_not(None)))
    found: dict[int, dict] = {}
    for pid, wave_id, at, block, instrument, scale, score in session.execute(query):
        slot = found.setdefault(pid, {}).setdefault((kinds[wave_id], block), {})
        slot[(instrument, scale)] = score
        slot["at"] = at
    return found


def _for_scale(project: Project, pid: int, code: str, definition: dict, scale: dict, own: dict,
               thresholds: dict) -> list[Award]:
    key = (definition["id"], scale["id"])
    post = own[("post", "now")].get(key)
    if post is None:
        return []
    facts = _facts(definition, scale, post, own[("post", "now")]["at"])
    found = []
    rule = project.badge_rule
    if rule in ("improvement", "either"):
        change = _reliable_improvement(key, scale, post, own, thresholds)
        if change is not None:
            found.append(Award(pid, code, definition["id"], int(definition["version"]), scale["id"], "improvement",
                               None, {**facts, **change}))
    if rule in ("level", "either") and scale.get("levels"):
        reached = level_for(post, scale)
        higher = bool(scale.get("higher_is_better", True))
        target = _target_level(scale, project.badge_level, higher)
        if reached is not None and (reached["min"] >= target["min"] if higher else reached["min"] <= target["min"]):
            found.append(Award(pid, code, definition["id"], int(definition["version"]), scale["id"], "level",
                               level_key(reached), {**facts, "level": reached["label"],
                                                    "level_min": reached["min"]}))
    return found


def _reliable_improvement(key, scale: dict, post: float, own: dict, thresholds: dict) -> dict | None:
    """The earlier score and the comparison when the change to ``post`` is reliable improvement, else None."""
    pre = own.get(("pre", "now"), {}).get(key)
    comparison, earlier, at = ("post", pre, own.get(("pre", "now"), {}).get("at"))
    if pre is None:  # no start score: the look-back of a retrospective project
        comparison, earlier, at = "then", own[("post", "then")].get(key) if ("post", "then") in own else None, None
    if earlier is None:
        return None
    higher = bool(scale.get("higher_is_better", True))
    verdict = reliable_change([post - earlier], thresholds.get((comparison, *key)), higher)["per_person"][0]
    if verdict != "improved":
        return None
    return {"comparison": comparison, "start": earlier, "start_at": at.isoformat() if at else None}


def _target_level(scale: dict, wanted: str | None, higher_is_better: bool = True) -> dict:
    """The level a badge needs at least: the chosen one, else the best (the highest; where lower is better,
    e.g. worry, the lowest). Where lower is better, "at least" counts down: that level or a lower one."""
    levels = scale["levels"]
    return next((level for level in levels if wanted and level_key(level) == wanted),
                levels[-1] if higher_is_better else levels[0])


def _facts(definition: dict, scale: dict, post: float, post_at: datetime) -> dict:
    bounds = score_range(scale, definition.get("answer_sets"))
    return {"instrument_title": definition["title"], "scale_title": scale["title"], "now": post,
            "now_at": post_at.isoformat() if post_at else None, "items": len(scale.get("items") or ()),
            "range": list(bounds) if bounds else None, "higher_is_better": bool(scale.get("higher_is_better", True))}


# --- the words -----------------------------------------------------------------------------------

def _lower_first(text: str) -> str:
    """'Netwerk in de buurt' inside a sentence: only the first letter (a name further on keeps its capital)."""
    return text[:1].lower() + text[1:]


def achievement_name(facts: dict, kind: str) -> str:
    skill = translate(facts["scale_title"], "nl")
    if kind == "improvement":
        return f"Gegroeid in {_lower_first(skill)}" if facts.get("comparison") == "post" \
            else f"Zelf ervaren groei in {_lower_first(skill)}"
    return f"{skill}: {translate(facts['level'], 'nl')}"


def achievement_description(facts: dict, kind: str) -> str:
    skill, title = _lower_first(translate(facts["scale_title"], "nl")), translate(facts["instrument_title"], "nl")
    if kind == "improvement":
        return (f"Voor iemand die bij een buurtproject is gegroeid in {skill}. "
                f"Gemeten met de vragenlijst {title}, aan het begin en aan het eind van het project.")
    return (f"Voor iemand die in {skill} het niveau '{translate(facts['level'], 'nl')}' heeft gehaald. "
            f"Gemeten met de vragenlijst {title} aan het eind van een buurtproject.")


def criteria(kind: str, comparison: str | None = None) -> str:
    """The rule in words: the same for everyone who earns this achievement."""
    if kind == "improvement" and comparison == "then":
        return ("Bij de eindmeting keek de deelnemer terug op hoe het vóór het project was. "
                "Het verschil tussen toen en nu is zo groot dat het geen toeval is (zelf ervaren groei).")
    if kind == "improvement":
        return ("De score bij de eindmeting is hoger dan bij de nulmeting. "
                "Het verschil is zo groot dat het geen toeval is (betrouwbare verandering).")
    return "De score bij de eindmeting ligt op of boven de grens van dit niveau."


def narrative(facts: dict, kind: str) -> str:
    """What earned this badge, with the numbers: e.g. 'De score op Samenwerken ging van 2,4 naar 3,6 …'."""
    n = Numbers("nl")
    skill, items = translate(facts["scale_title"], "nl"), facts["items"]
    scale_words = ""
    if facts.get("range"):
        scale_words = f" (op een schaal van {n.number(facts['range'][0], 0)} tot {n.number(facts['range'][1], 0)})"
    measured = f"Gemeten met een vragenlijst van {items} vragen." if items != 1 else \
        "Gemeten met een vragenlijst van 1 vraag."
    if kind == "improvement":
        start, now = n.number(facts["start"], 1), n.number(facts["now"], 1)
        if facts.get("comparison") == "then":
            return (f"Bij de eindmeting keek de deelnemer terug. De score op {skill} was vóór het project {start} "
                    f"en nu {now}{scale_words}. {measured} Dat verschil is meer dan toeval.")
        return f"De score op {skill} ging van {start} naar {now}{scale_words}. {measured} " \
               "Dat verschil is meer dan toeval."
    return (f"De score op {skill} was {n.number(facts['now'], 1)} bij de eindmeting{scale_words}. {measured} "
            f"Dat is het niveau '{translate(facts['level'], 'nl')}' (vanaf {n.number(facts['level_min'], 2)}).")
