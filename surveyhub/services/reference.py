"""Compared with similar projects: reference values per instrument version from the whole installation.

For one scale of one instrument version, the mean change (pre → post) and the share of
residents who reliably improved, averaged over the projects that used that same version
(same id, version and snapshot digest) — each project counts once, whatever its size.
The rules that keep any one project out of sight:

* only projects of organisations that share (``Organisation.shares_reference``);
* only projects with at least ``min_tests`` pairs on the scale — the installation's
  threshold, never a report's own, so two reports with different thresholds cannot be
  compared to isolate a project near the threshold; smaller projects never contribute;
* only projects of *other* organisations than the reader's: an organisation's own projects
  never move its own reference, so it cannot subtract what it knows;
* shown only when at least :data:`MIN_PROJECTS` projects of at least
  :data:`MIN_ORGANISATIONS` organisations contribute;
* rounded (mean change to one decimal, share to whole 5 %), with the number of projects and
  organisations behind it and no pair counts.

Each project is paired and judged exactly as its own report does (``outcome_data.pair_waves``,
``stats.rci_parameters``, ``stats.reliable_change``), from a handful of set-based queries per
instrument version — never a report per project. A :class:`ReferenceBook` keeps what it read for
its own lifetime (one report), so the organisation report can ask per scale without re-reading.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.measures.definition import item_range, reverse_code
from surveyhub.models import (Answer, InstrumentVersion, Organisation, PairDecision, Participant, Project,
                              ProjectInstrument, Response, ScaleScore, Wave)
from surveyhub.services import outcome_data, responses
from surveyhub.services.outcome_data import ProjectData
from surveyhub.services.report_contract import Reference
from surveyhub.stats import cronbach_alpha, rci_parameters, reliable_change

#: Fewest contributing projects, and organisations, before a reference value is shown.
MIN_PROJECTS = 5
MIN_ORGANISATIONS = 2
#: The share improved is shown in steps of this size (5 %).
SHARE_STEP = 0.05

#: What the method appendix says (``design.method.reference``).
METHOD_TEXT = (
    "Compared with similar projects: per instrument version (same id, version and definition) and scale, the mean "
    "change and the share of residents who reliably improved, each computed per project as its own report does "
    "and then averaged over projects (each project counts once). Only projects of other organisations that share "
    "their results anonymously, each with at least the installation's min_tests pairs; shown only when at least "
    f"{MIN_PROJECTS} projects of at least {MIN_ORGANISATIONS} organisations contribute; the mean change rounded to "
    "one decimal and the share to whole 5%. The share improved averages only the projects where reliable change "
    "could be judged."
)


@dataclass(frozen=True)
class ProjectFigures:
    """One project's result on one scale (never shown on its own)."""

    project_id: int
    organisation_id: int
    mean_change: float
    #: improved / pairs; None where no S_diff could be found (no norms, no alpha).
    improved_share: float | None


def not_shown(reason: Literal["too_few_projects", "not_computed"]) -> Reference:
    return {"mean_change": None, "improved_share": None, "projects": None, "organisations": None, "reason": reason}


def combine(figures: list[ProjectFigures], organisation_id: int | None) -> Reference:
    """The reference value from the projects' figures, leaving out ``organisation_id``'s own projects."""
    others = [f for f in figures if f.organisation_id != organisation_id]
    organisations = {f.organisation_id for f in others}
    if len(others) < MIN_PROJECTS or len(organisations) < MIN_ORGANISATIONS:
        return not_shown("too_few_projects")
    shares = [f for f in others if f.improved_share is not None]
    share = None
    if len(shares) >= MIN_PROJECTS and len({f.organisation_id for f in shares}) >= MIN_ORGANISATIONS:
        share = round(float(np.mean([cast(float, f.improved_share) for f in shares])) / SHARE_STEP) * SHARE_STEP
        share = round(share, 2)
    mean = round(float(np.mean([f.mean_change for f in others])), 1) + 0.0  # + 0.0: never "-0.0"
    return {"mean_change": mean, "improved_share": share, "projects": len(others),
            "organisations": len(organisations), "reason": None}


class ReferenceBook:
    """Reference values for one report (or one organisation report): reads each instrument version once.

    :param min_tests: the installation's threshold (``Thresholds.from_settings(app.config).min_tests``).
    """

    def __init__(self, session: Session, min_tests: int):
        self.session, self.min_tests = session, min_tests
        self._read: dict[tuple[str, int, str | None, int | None], dict[str, list[ProjectFigures]]] = {}

    def lookup(self, instrument_id: str, version: int, scale_id: str, *, organisation_id: int | None,
               digest: str | None = None) -> Reference:
        """The reference value of one scale for a report of ``organisation_id``.

        ``digest``: the snapshot's digest (the report's own pin); None takes the installed version
        (scope ``"*"``), which is what an instrument id and version name for most readers.
        """
        key = (instrument_id, version, digest, organisation_id)
        if key not in self._read:
            self._read[key] = self._figures(instrument_id, version, digest, organisation_id)
        return combine(self._read[key].get(scale_id, []), organisation_id)

    def figures(self, instrument_id: str, version: int, scale_id: str, digest: str | None = None) \
            -> list[ProjectFigures]:
        """Every contributing project's figures (for tests and the organisation report's own checks)."""
        key = (instrument_id, version, digest, None)
        if key not in self._read:
            self._read[key] = self._figures(instrument_id, version, digest, None)
        return list(self._read[key].get(scale_id, []))

    def _figures(self, instrument_id: str, version: int, digest: str | None,
                 organisation_id: int | None) -> dict[str, list[ProjectFigures]]:
        """Each contributing project's figures per scale, leaving out ``organisation_id``'s own projects.

        Nothing is read beyond one query when too few projects of other organisations use the
        version: no reference could be shown anyway.
        """
        session = self.session
        pinned = (select(Project.id, Project.organisation_id, Project.form_length, InstrumentVersion.id,
                         InstrumentVersion.digest)
                  .join(ProjectInstrument, ProjectInstrument.project_id == Project.id)
                  .join(InstrumentVersion, InstrumentVersion.id == ProjectInstrument.instrument_version_id)
                  .join(Organisation, Organisation.id == Project.organisation_id)
                  .where(InstrumentVersion.instrument_id == instrument_id, InstrumentVersion.version == version,
                         Organisation.shares_reference.is_(True), Project.purged_at.is_(None)))
        pinned = pinned.where(InstrumentVersion.digest == digest) if digest is not None \
            else pinned.where(InstrumentVersion.scope == "*")
        if organisation_id is not None:
            pinned = pinned.where(Project.organisation_id != organisation_id)
        projects = session.execute(pinned).all()
        if len(projects) < MIN_PROJECTS or len({row[1] for row in projects}) < MIN_ORGANISATIONS:
            return {}
        project_ids = select(pinned.subquery().c[0])
        waves = {wave_id: (project_id, kind) for wave_id, project_id, kind in session.execute(
            select(Wave.id, Wave.project_id, Wave.kind).where(Wave.project_id.in_(project_ids),
                                                             Wave.kind.in_(("pre", "post"))))}
        wave_ids = select(Wave.id).where(Wave.project_id.in_(project_ids), Wave.kind.in_(("pre", "post")))
        completed = select(Response.id).where(Response.wave_id.in_(wave_ids), Response.status == "completed")
        per_project: dict[int, dict[int, tuple[int, str, str]]] = defaultdict(dict)
        for rid, pid, wave_id in session.execute(select(Response.id, Response.participant_id, Response.wave_id)
                                                 .where(Response.id.in_(completed))):
            project_id, kind = waves[wave_id]
            per_project[project_id][rid] = (pid, kind, "completed")
        codes: dict[int, dict[int, str]] = defaultdict(dict)
        for pid, project_id, code in session.execute(
                select(Participant.id, Participant.project_id, Participant.self_code)
                .where(Participant.project_id.in_(project_ids), Participant.self_code.is_not(None))):
            codes[project_id][pid] = str(code)
        decided: dict[int, dict[tuple[int, int], str]] = defaultdict(dict)
        for project_id, first, second, decision in session.execute(
                select(PairDecision.project_id, PairDecision.first_participant_id,
                       PairDecision.second_participant_id, PairDecision.decision)
                .where(PairDecision.project_id.in_(project_ids))):
            decided[project_id][(first, second)] = decision
        scores: dict[str, dict[int, float]] = defaultdict(dict)
        score: Any
        for rid, scale_id, score in session.execute(
                select(ScaleScore.response_id, ScaleScore.scale_id, ScaleScore.score)
                .where(ScaleScore.response_id.in_(completed), ScaleScore.instrument_id == instrument_id,
                       ScaleScore.block == "now", ScaleScore.score.is_not(None))):
            if np.isfinite(score):
                scores[scale_id][rid] = float(score)
        definitions = {(iv_id, iv_digest, form): responses.definitions_for(session, [(iv_id, iv_digest)], form)[0]
                       for _p, _o, form, iv_id, iv_digest in projects}
        pre_waves = select(Wave.id).where(Wave.project_id.in_(project_ids), Wave.kind == "pre")
        answers = _Answers(session, select(Response.id).where(Response.wave_id.in_(pre_waves),
                                                              Response.status == "completed"), instrument_id)
        found: dict[str, list[ProjectFigures]] = defaultdict(list)
        for project_id, organisation_id, form, iv_id, iv_digest in projects:
            data = ProjectData(cast(Project, None), {}, 0, per_project.get(project_id, {}),
                               codes.get(project_id, {}), {}, decided.get(project_id, {}))
            pairs = outcome_data.pair_waves(data, "pre", "post").pairs
            pre_ids = sorted(data.completed("pre").values())
            for scale in definitions[(iv_id, iv_digest, form)]["scales"]:
                figures = self._project(project_id, organisation_id, scale, definitions[(iv_id, iv_digest, form)],
                                        pairs, pre_ids, scores.get(scale["id"], {}), answers)
                if figures is not None:
                    found[scale["id"]].append(figures)
        return dict(found)

    def _project(self, project_id, organisation_id, scale, definition, pairs, pre_ids, now, answers) \
            -> ProjectFigures | None:
        paired = [(now[p.first], now[p.second]) for p in pairs
                  if now.get(p.first) is not None and now.get(p.second) is not None]
        if len(paired) < max(self.min_tests, 2):
            return None  # a small project never contributes
        changes = [after - before for before, after in paired]
        wave = [now[rid] for rid in pre_ids if now.get(rid) is not None]
        norms = scale.get("norms")
        alpha = None
        if not (norms and norms.get("sd") is not None and norms.get("reliability") is not None):
            alpha = cronbach_alpha(answers.table(definition, scale, pre_ids))["alpha"]
        s_diff = rci_parameters(norms, wave, alpha)["s_diff"]
        share = None
        if s_diff is not None:
            judged = reliable_change(changes, s_diff, bool(scale.get("higher_is_better", True)))
            share = judged["improved"] / len(changes)
        return ProjectFigures(project_id, organisation_id, float(np.mean(changes)), share)


class _Answers:
    """The instrument's numeric answers of the completed pre responses (for alpha), read on first use in one query."""

    def __init__(self, session: Session, completed, instrument_id: str):
        self.session, self.completed, self.instrument_id = session, completed, instrument_id
        self._values: dict[int, dict[str, float]] | None = None

    def table(self, definition: dict, scale: dict, response_ids: list[int]) -> np.ndarray:
        if self._values is None:
            self._values = defaultdict(dict)
            for rid, item_id, value in self.session.execute(
                    select(Answer.response_id, Answer.item_id, Answer.value_num)
                    .where(Answer.response_id.in_(self.completed), Answer.instrument_id == self.instrument_id,
                           Answer.block == "now", Answer.value_num.is_not(None))):
                self._values[rid][item_id] = float(cast(float, value))
        answer_sets = definition.get("answer_sets") or {}
        table = np.full((len(response_ids), len(scale["items"])), np.nan)
        for j, item in enumerate(scale["items"]):
            column = np.asarray([self._values.get(rid, {}).get(item["id"], np.nan) for rid in response_ids])
            if item.get("reverse"):
                bounds = item_range(item, answer_sets)
                if bounds is not None:
                    column = cast(Any, reverse_code)(column, *bounds)
            table[:, j] = column
        table[~np.isfinite(table)] = np.nan
        return table


def attach(session: Session, project: Project, scales: list, installation) -> None:
    """Set ``reference`` on each pre → post entry of ``project``'s report, in place.

    :param installation: the installation's thresholds (``outcomes.Thresholds``): a project needs
        ``max(min_means, min_tests)`` pairs to contribute, whatever the reading organisation set.
    """
    book = ReferenceBook(session, max(installation.min_means, installation.min_tests))
    digests = {(pinned.instrument_id, pinned.version): pinned.snapshot.digest for pinned in project.instruments}
    for entry in scales:
        digest = digests.get((entry["instrument"], entry["instrument_version"]))
        entry["reference"] = (book.lookup(entry["instrument"], entry["instrument_version"], entry["scale"],
                                          organisation_id=project.organisation_id, digest=digest)
                              if digest is not None else not_shown("too_few_projects"))
