"""The pairs page: which anonymous residents the report treats as one, and the worker's say in it.

Residents on the anonymous link make their own code; a resident who lost the
device cookie starts again as a new participant, and the report pairs the two
by code (``outcome_data.pair_waves``) — exactly, or one answer apart when that
is the only candidate both ways ("fuzzy"). A worker who knows the residents
sees those pairs here and may confirm a fuzzy pair (it then counts as a code
pair, no longer as fuzzy) or undo it (the two are counted apart). Every
decision is a ``PairDecision`` row, recorded in the audit trail, and can be
taken back.

The codes themselves are personal (a birth month, a parent's initial): the page
shows only the answers that differ, never the other ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from surveyhub.models import PairDecision, Participant, Project, Response
from surveyhub.models._types import utcnow
from surveyhub.services import access, audit, outcome_data
from surveyhub.services.errors import Invalid, N_, NotFound
from surveyhub.stats import normalise_code

#: The capability of the page and its decisions: residents' pairing is individual data.
CAPABILITY = "project.residents"
#: The comparisons the report makes, earlier wave first.
COMPARISONS = (("pre", "post"), ("pre", "followup"), ("post", "followup"))
#: What a worker may decide; "reset" takes a decision back (the report pairs by the codes again).
DECISIONS = ("confirmed", "undone", "reset")
_ACTIONS = {"confirmed": "pair.confirm", "undone": "pair.undo", "reset": "pair.reset"}


@dataclass(frozen=True)
class Side:
    """One of the two residents of a pair, as the worker knows them."""

    participant_id: int
    code: str  #: the pseudonymous code, e.g. "A-4K7P2"
    name: str | None
    wave: str
    completed_at: datetime | None


@dataclass(frozen=True)
class CodePair:
    """Two residents whose codes are one answer apart (or whom a worker decided about)."""

    first: Side
    second: Side
    #: "open" (the report pairs them, nobody decided), "confirmed" or "undone".
    status: str
    #: The differing answers: (part index 0–5, first's answer, second's answer); the others are equal and hidden.
    differences: list[tuple[int, str, str]]

    @property
    def key(self) -> str:
        """What the page's forms send back: "<first participant id>-<second participant id>"."""
        return f"{self.first.participant_id}-{self.second.participant_id}"


@dataclass
class Comparison:
    first: str
    second: str
    by_participant: int = 0  #: the same resident with the same link in both waves
    exact: int = 0  #: two participants with the same code
    pairs: list[CodePair] = field(default_factory=list)  #: fuzzy, confirmed and undone pairs
    ambiguous_codes: int = 0
    #: anonymous residents of the later wave that found no earlier answers (pseudonymous codes)
    unpaired_second: list[str] = field(default_factory=list)
    unpaired_first: int = 0  #: anonymous residents of the earlier wave without later answers (yet)

    @property
    def fuzzy_open(self) -> int:
        return sum(1 for pair in self.pairs if pair.status == "open")


@dataclass(frozen=True)
class Review:
    slug: str
    name: str
    comparisons: list[Comparison]
    anonymous: int  #: residents who started on the anonymous link


def review(session: Session, actor: access.Actor, slug: str) -> Review:
    """Every comparison the report makes whose later wave has completed answers."""
    project = access.project(session, actor, slug, CAPABILITY)
    data = outcome_data.load(session, project, with_scores=False)
    people = _people(session, project)
    comparisons = []
    for first, second in COMPARISONS:
        if first in data.waves and second in data.waves and data.completed(second):
            comparisons.append(_comparison(data, people, first, second))
    return Review(project.slug, project.name, comparisons, len(data.self_codes))


def decide(session: Session, actor: access.Actor, slug: str, first_id: int, second_id: int, decision: str) -> None:
    """Confirm or undo the pair of these two residents, or take the decision back ("reset").

    Only a pair the page shows may be decided: a fuzzy pair the report makes, or one
    decided before. Audited as ``pair.confirm`` / ``pair.undo`` / ``pair.reset``.
    :raises Invalid: an unknown decision, or two residents that are no such pair (any more).
    """
    if decision not in DECISIONS:
        raise Invalid(N_("Choose confirm or undo."))
    project = access.project(session, actor, slug, CAPABILITY)
    shown = {(pair.first.participant_id, pair.second.participant_id): pair
             for comparison in review(session, actor, slug).comparisons for pair in comparison.pairs}
    pair = shown.get((first_id, second_id))
    if pair is None:
        raise Invalid(N_("These two residents are not a pair that can be confirmed or undone (any more)."))
    found = session.scalar(select(PairDecision).where(
        PairDecision.project_id == project.id, PairDecision.first_participant_id == first_id,
        PairDecision.second_participant_id == second_id))
    if decision == "reset":
        if found is not None:
            session.execute(delete(PairDecision).where(PairDecision.id == found.id))
    elif found is None:
        session.add(PairDecision(project_id=project.id, first_participant_id=first_id,
                                 second_participant_id=second_id, decision=decision, decided_by_id=actor.user_id))
    else:
        found.decision, found.decided_by_id, found.decided_at = decision, actor.user_id, utcnow()
    audit.record(session, _ACTIONS[decision], actor=actor, project_id=project.id,
                 target=f"project:{project.slug}/{pair.first.code}+{pair.second.code}",
                 details={"before": pair.status})
    session.flush()


def linked_participants(session: Session, project: Project) -> dict[int, int]:
    """Anonymous participants the report counts as one resident: participant id -> the one to show them as.

    For the residents list: a resident who lost the device cookie made a second
    participant; paired by code (exactly, fuzzily or confirmed, never undone),
    the later one is shown as the earliest of the chain. Participants not paired
    by code are absent. Same rule as the report: ``outcome_data.pair_waves``.
    """
    data = outcome_data.load(session, project, with_scores=False)
    parent: dict[int, int] = {}

    def root(pid: int) -> int:
        while pid in parent:
            pid = parent[pid]
        return pid

    for first, second in COMPARISONS:
        for pair in outcome_data.pair_waves(data, first, second).pairs:
            if pair.by == "participant":
                continue
            earlier, later = root(data.responses[pair.first][0]), root(data.responses[pair.second][0])
            if earlier != later:
                parent[later] = earlier
    return {pid: root(pid) for pid in parent}


def earlier_selves(session: Session, project: Project) -> set[int]:
    """Anonymous participants the report counts as the same resident as a later one (``linked_participants``):
    of each such chain only the latest participant gets a document, never one each."""
    chains: dict[int, list[int]] = {}
    for pid, root in linked_participants(session, project).items():
        chains.setdefault(root, [root]).append(pid)
    return {pid for members in chains.values() for pid in members if pid != max(members)}


def _comparison(data: outcome_data.ProjectData, people: dict, first: str, second: str) -> Comparison:
    pairing = outcome_data.pair_waves(data, first, second)
    found = Comparison(first, second, by_participant=pairing.count("participant"),
                       exact=sum(1 for pair in pairing.pairs if pair.by == "code" and not pair.confirmed),
                       ambiguous_codes=pairing.ambiguous_codes)
    before, after = data.completed(first), data.completed(second)
    for pair in pairing.pairs:
        if pair.by == "fuzzy" or pair.confirmed:
            earlier, later = data.responses[pair.first][0], data.responses[pair.second][0]
            found.pairs.append(_pair(data, people, earlier, later, first, second,
                                     "confirmed" if pair.confirmed else "open"))
    for (earlier, later), decision in sorted(data.decisions.items()):
        if decision == "undone" and earlier in before and later in after:
            found.pairs.append(_pair(data, people, earlier, later, first, second, "undone"))
    paired_first = {data.responses[pair.first][0] for pair in pairing.pairs}
    paired_second = {data.responses[pair.second][0] for pair in pairing.pairs}
    found.unpaired_first = sum(1 for pid in before if pid in data.self_codes and pid not in paired_first)
    found.unpaired_second = sorted(people[pid][0] for pid in after
                                   if pid in data.self_codes and pid not in paired_second)
    return found


def _pair(data, people: dict, earlier: int, later: int, first: str, second: str, status: str) -> CodePair:
    one = normalise_code(data.self_codes.get(earlier, "").split("|"))
    other = normalise_code(data.self_codes.get(later, "").split("|"))
    differences = [(i, a, b) for i, (a, b) in enumerate(zip(one, other)) if a != b]
    return CodePair(_side(data, people, earlier, first), _side(data, people, later, second), status, differences)


def _side(data, people: dict, pid: int, wave: str) -> Side:
    code, name, completed = people.get(pid, ("?", None, {}))
    return Side(pid, code, name, wave, completed.get(data.waves[wave]))


def _people(session: Session, project: Project) -> dict[int, tuple[str, str | None, dict[int, datetime | None]]]:
    """Anonymous participant id -> (pseudonymous code, name, wave id -> completed at), in one query."""
    people: dict[int, tuple[str, str | None, dict[int, datetime | None]]] = {}
    rows = session.execute(
        select(Participant.id, Participant.code, Participant.display_name, Response.wave_id, Response.completed_at)
        .outerjoin(Response, Response.participant_id == Participant.id)
        .where(Participant.project_id == project.id, Participant.self_code.is_not(None)))
    for pid, code, name, wave_id, completed_at in rows:
        entry = people.setdefault(pid, (code, name, {}))
        if wave_id is not None:
            entry[2][wave_id] = completed_at
    return people


def parse_key(key: str) -> tuple[int, int]:
    """The two participant ids of a form's pair key ("12-15"); NotFound for anything else."""
    first, sep, second = (key or "").partition("-")
    if not sep or not first.isdigit() or not second.isdigit() or len(key) > 40:
        raise NotFound("no such pair")
    return int(first), int(second)
