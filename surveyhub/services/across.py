"""Figures across projects for a period: the engine under the organisation and network reports.

:func:`summarise` takes projects (of one organisation, or of several in a network) and a period
and returns plain values (``org_report_contract.Summary``, documented in ``docs/org-report-json.md``).

Which data belong to the period (both ends inclusive, dates in the installation's time zone, setting
``TIMEZONE``: a questionnaire finished at 00:30 on 1 January in Amsterdam belongs to the new year):

* a pre → post **pair** is counted (``pairs``, the match rate) when its post response was completed in
  the period (pairing is the project report's, over all the project's responses, so a pair is the
  same pair in both reports);
* the **change** figures take a project's pairs on a scale in whole **blocks** of the installation's
  threshold, a block counting when its last post response was completed in the period
  (:mod:`services.across_period`): so two reports of different periods, thresholds, or with and without
  a project differ by whole blocks, never by the one resident who answered on the last day;
* a **resident took part** when they completed a questionnaire in the period or took part in a
  confirmed activity held in the period;
* **activities** are confirmed activities held in the period, **outputs** those dated in it;
* a **project** is in the report when it has any of these in the period.

Residents reached are counted once: a resident with a self-made code is one person wherever the
same (normalised) code appears, across projects and organisations; anyone else counts per
participant. Pooling: a scale is pooled over the projects that used the same instrument id AND
version, and only over projects with at least ``min_means`` pairs on it, so a small project's
figures cannot be worked out by comparing the pooled row with the other projects (or with their
own reports). Every statistic is the project report's (``outcomes`` and ``stats``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone, tzinfo
from typing import cast

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyhub.measures.registry import InstrumentRegistry
from surveyhub.models import Activity, ActivityParticipant, Organisation, Project, ProjectOutput, Response, Wave
from surveyhub.services import across_period, outcome_data, participation, reference, responses
from surveyhub.services.org_report_contract import (ForestRow, PooledScale, ProjectRow, ReliableChangeOverall,
                                                    Summary, Totals, VersionNote)
from surveyhub.services.outcome_data import CODE_PARTS, ItemValues, Pair, ProjectData
from surveyhub.services.outcomes import ScaleContext  # the project report's own scale-entry code
from surveyhub.services.report_contract import Thresholds
from surveyhub.stats import RCI_CATEGORIES, cronbach_alpha, holm, normalise_code, suppress_counts
from surveyhub.stats._numeric import mean_sd
from surveyhub.stats.paired import differences, mean_ci95

#: (instrument id, version, scale id): what is pooled together.
PoolKey = tuple[str, int, str]


@dataclass
class _Loaded:
    """One project's data for the period."""

    project: Project
    organisation: str
    data: ProjectData
    definitions: list[dict]
    #: Pre → post pairs whose post response was completed in the period.
    pairs: list[Pair]
    #: Participants who completed a questionnaire in the period.
    answered: set[int] = field(default_factory=set)
    #: Post responses completed in the period.
    posts: int = 0
    #: Every pre → post pair of the project, whatever the period (the change counts them in blocks).
    all_pairs: list[Pair] = field(default_factory=list)
    _items: ItemValues | None = None

    def items(self, session: Session) -> ItemValues:
        """The pre wave's item answers (alpha is the pre wave's): half of what all waves would read."""
        if self._items is None:
            pre = {kind: wave_id for kind, wave_id in self.data.waves.items() if kind == "pre"}
            self._items = ItemValues(session, replace(self.data, waves=pre), self.definitions)
        return self._items


def summarise(session: Session, registry: InstrumentRegistry, projects: list[Project], *, start: date, end: date,
              thresholds: Thresholds, keep: dict[int, ProjectData] | None = None, block: int | None = None,
              zone: str | tzinfo = timezone.utc) -> Summary:
    """Participation, activities, outputs and pooled change of ``projects`` in the period.

    The caller decides which projects the actor may see; nothing here checks access.
    :param thresholds: the resolved small-number thresholds (``outcomes.resolve_thresholds``).
    :param keep: when given, receives each reported project's data by project id (read once: the
        organisation report takes its quotes from it).
    :param block: pairs per block of change (the module's docstring; :func:`across_period.block_size`).
        Default: from ``thresholds`` (for tests of the engine alone).
    :param zone: the installation's time zone (setting ``TIMEZONE``), where the period's days begin.
    """
    ids = [project.id for project in projects]
    low, high = across_period.bounds(start, end, zone)
    size = max(block if block is not None else max(thresholds["min_means"], thresholds["min_tests"]), 1)
    answered = _answered(session, ids, low, high)
    post_times = across_period.post_times(session, ids)
    activity_rows, in_activities = _activities(session, ids, start, end)
    outputs = _outputs(session, ids, start, end)
    org_names = dict(session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_({project.organisation_id for project in projects}))).all())
    loaded: list[_Loaded] = []
    for project in sorted(projects, key=lambda one: (org_names.get(one.organisation_id, ""), one.name, one.id)):
        if not (answered.get(project.id) or activity_rows.get(project.id) or outputs.get(project.id)):
            continue
        data = outcome_data.load(session, project)
        if keep is not None:
            keep[project.id] = data
        mine = answered.get(project.id, [])
        in_period = {rid for rid, _pid, kind in mine if kind == "post"}
        every = outcome_data.pair_waves(data, "pre", "post").pairs
        pairs = [pair for pair in every if pair.second in in_period]
        loaded.append(_Loaded(project, org_names.get(project.organisation_id, ""), data,
                              responses.project_definitions(project), pairs,
                              {pid for _rid, pid, _kind in mine}, len(in_period), every))
    rows = [_project_row(one, activity_rows.get(one.project.id), in_activities.get(one.project.id, set()),
                         outputs.get(one.project.id, [])) for one in loaded]
    chosen = across_period.Blocks(size, post_times, low, high)
    scales, notes = _pooled_scales(session, registry, loaded, thresholds, chosen)
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "thresholds": thresholds,
        "projects": rows,
        "totals": _totals(loaded, rows, in_activities),
        "scales": scales,
        "version_notes": notes,
        "reliable_change": _overall(scales, thresholds),
    }


def _answered(session: Session, ids: list[int], low: datetime, high: datetime) \
        -> dict[int, list[tuple[int, int, str]]]:
    """project id -> (response id, participant id, wave kind) of responses completed in [low, high)."""
    found: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for project_id, rid, pid, kind in session.execute(
            select(Wave.project_id, Response.id, Response.participant_id, Wave.kind)
            .join(Wave, Wave.id == Response.wave_id)
            .where(Wave.project_id.in_(ids), Response.status == "completed",
                   Response.completed_at >= low, Response.completed_at < high)):
        found[project_id].append((rid, pid, kind))
    return found


def _activities(session: Session, ids: list[int], start: date, end: date):
    """project id -> (activities, activity hours, resident hours); project id -> residents taking part.

    Activities count once confirmed (``participation.counted`` for who took part).
    """
    in_period = (Activity.project_id.in_(ids), Activity.confirmed_at.is_not(None),
                 Activity.happened_on >= start, Activity.happened_on <= end)
    totals: dict[int, list[float]] = {
        project_id: [int(count), float(hours or 0.0), 0.0] for project_id, count, hours in session.execute(
            select(Activity.project_id, func.count(Activity.id), func.sum(Activity.hours))
            .where(*in_period).group_by(Activity.project_id))}
    people: dict[int, set[int]] = defaultdict(set)
    hours = func.coalesce(ActivityParticipant.hours, Activity.hours)
    for project_id, pid, given in session.execute(
            select(Activity.project_id, ActivityParticipant.participant_id, func.sum(hours))
            .join(Activity, Activity.id == ActivityParticipant.activity_id)
            .where(*in_period, *participation.counted())
            .group_by(Activity.project_id, ActivityParticipant.participant_id)):
        people[project_id].add(pid)
        totals[project_id][2] += float(given or 0.0)
    return totals, people


def _outputs(session: Session, ids: list[int], start: date, end: date) -> dict[int, list[dict]]:
    """project id -> outputs dated in the period (the photo's bytes stay in the database)."""
    found: dict[int, list[dict]] = defaultdict(list)
    for output_id, project_id, day, description, has_photo in session.execute(
            select(ProjectOutput.id, ProjectOutput.project_id, ProjectOutput.happened_on, ProjectOutput.description,
                   ProjectOutput.photo.is_not(None))
            .where(ProjectOutput.project_id.in_(ids), ProjectOutput.happened_on >= start,
                   ProjectOutput.happened_on <= end)
            .order_by(ProjectOutput.happened_on, ProjectOutput.id)):
        found[project_id].append({"id": output_id, "date": day.isoformat(), "description": description,
                                  "photo": bool(has_photo)})
    return found


def _project_row(one: _Loaded, activity: list[float] | None, active: set[int], outputs: list[dict]) -> ProjectRow:
    project = one.project
    count, activity_hours, resident_hours = activity or (0, 0.0, 0.0)
    return {
        "slug": project.slug,
        "name": project.name,
        "organisation": one.organisation,
        "period": {"start": project.period_start.isoformat() if project.period_start else None,
                   "end": project.period_end.isoformat() if project.period_end else None},
        "instruments": [{"id": d["id"], "version": d["version"], "title": d["title"]} for d in one.definitions],
        "residents": len(one.answered | active),
        "answered": len(one.answered),
        "in_activities": len(active),
        "post": one.posts,
        "pairs": len(one.pairs),
        "activities": int(count),
        "activity_hours": round(float(activity_hours), 2),
        "resident_hours": round(float(resident_hours), 2),
        "outputs": cast(list, outputs),
    }


def person_key(data: ProjectData, participant_id: int) -> tuple[str, object]:
    """Who a participant is across projects: their normalised self-made code, else themselves."""
    code = data.self_codes.get(participant_id)
    if code is not None:
        parts = normalise_code(code.split("|"))
        if len(parts) == CODE_PARTS:
            return ("code", tuple(parts))
    return ("participant", participant_id)


def _totals(loaded: list[_Loaded], rows: list[ProjectRow], in_activities: dict[int, set[int]]) -> Totals:
    people = {person_key(one.data, pid) for one in loaded
              for pid in one.answered | in_activities.get(one.project.id, set())}
    return {
        "projects": len(rows),
        "organisations": len({one.project.organisation_id for one in loaded}),
        "residents": len(people),
        "residents_in_projects": sum(row["residents"] for row in rows),
        "pairs": sum(row["pairs"] for row in rows),
        "activities": sum(row["activities"] for row in rows),
        "activity_hours": round(sum(row["activity_hours"] for row in rows), 2),
        "resident_hours": round(sum(row["resident_hours"] for row in rows), 2),
        "outputs": sum(len(row["outputs"]) for row in rows),
    }


def _pooled_scales(session: Session, registry: InstrumentRegistry, loaded: list[_Loaded],
                   thresholds: Thresholds, chosen: across_period.Blocks) -> tuple[list[PooledScale], list[VersionNote]]:
    """One pooled entry per (instrument, version, scale), in first-use order; notes where versions differ."""
    uses: dict[PoolKey, list[tuple[_Loaded, dict, dict]]] = {}
    versions: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    titles: dict[str, dict] = {}
    for one in loaded:
        for definition in one.definitions:
            versions[definition["id"]][definition["version"]].append(one.project.slug)
            titles.setdefault(definition["id"], definition["title"])
            for scale in definition["scales"]:
                key = (definition["id"], definition["version"], scale["id"])
                uses.setdefault(key, []).append((one, definition, scale))
    context = ScaleContext(None, None, thresholds, registry)  # type: ignore[arg-type]
    entries = [_pooled(session, context, used, thresholds, chosen) for used in uses.values()]
    adjusted = holm([entry["test"]["p"] for entry in entries], None)
    for entry, p_holm in zip(entries, adjusted):
        entry["test"]["p_holm"] = p_holm
    notes: list[VersionNote] = [
        {"instrument": instrument, "title": titles[instrument],
         "versions": [{"version": version, "projects": slugs} for version, slugs in sorted(by_version.items())]}
        for instrument, by_version in versions.items() if len(by_version) > 1]
    return entries, notes


def _pooled(session: Session, context: ScaleContext, used: list[tuple[_Loaded, dict, dict]],
            thresholds: Thresholds, chosen: across_period.Blocks) -> PooledScale:
    """The project report's scale entry over the pairs of every big-enough project, with its forest."""
    min_means = thresholds["min_means"]
    pairs: list[Pair] = []
    scores: dict[int, float] = {}
    baseline: list[float] = []
    tables: list[np.ndarray] = []
    forest: list[ForestRow] = []
    pooled_projects = too_small = 0
    differ = False
    for one, definition, scale in used:
        now = one.data.scores.get(("now", definition["id"], scale["id"]), {})
        mine = chosen.chosen([pair for pair in one.all_pairs if pair.first in now and pair.second in now])
        by_day = {pair.second for pair in one.pairs if pair.first in now and pair.second in now}
        differ = differ or {pair.second for pair in mine} != by_day
        forest.append(_forest_row(one, mine, now, thresholds))
        in_pool = len(mine) >= min_means and len(mine) > 0
        if not in_pool:
            too_small += bool(mine)
            continue
        pooled_projects += 1
        pairs.extend(mine)
        scores.update(now)
        pre_ids = sorted(one.data.completed("pre").values())
        baseline.extend(now[rid] for rid in pre_ids if rid in now)
        tables.append(one.items(session).table("now", definition, scale, pre_ids))
    _one, definition, scale = used[0]
    # A short and a full form of one version answer different items: no alpha over their rows together.
    raw_alpha = (cronbach_alpha(np.vstack(tables)) if tables and len({t.shape[1] for t in tables}) == 1
                 else {"alpha": None, "n": 0, "k": len(scale["items"]), "ci95": None})
    change = context.change(pairs, scores, scores, scale=scale, norms=scale.get("norms"), alpha=raw_alpha["alpha"],
                            baseline_wave=baseline, ceiling=context.ceiling(definition, scale))
    entry = context.header(definition, scale, "pre→post", "pre", "change")
    entry.update(change)
    entry["reliability"] = {"pre": context.shown_alpha(raw_alpha)}
    forest.append({"kind": "pooled", "slug": None, "name": None, "organisation": None,
                   "n_pairs": entry["n_pairs"], "mean": entry["change"]["mean"], "ci95": entry["change"]["ci95"],
                   "pooled": True, "suppressed": list(entry["suppressed"])})
    # Compared with similar projects: the caller fills it in for its readers (``services.reference``).
    entry["reference"] = reference.not_shown("not_computed")
    entry.update({"projects": pooled_projects, "projects_too_small": too_small, "forest": forest,
                  "blocks_differ": differ})
    return cast(PooledScale, entry)


def _forest_row(one: _Loaded, pairs: list[Pair], now: dict[int, float], thresholds: Thresholds) -> ForestRow:
    """A project's mean change and interval, hidden as its own report hides them.

    The mean needs ``min_means`` pairs, the interval ``min_tests`` (with the mean and n it
    gives t back), exactly the rule of ``stats.build_scale_block``.
    """
    n = len(pairs)
    # paired_change's own steps for the change alone: its tests (an exact Wilcoxon can take a second at
    # 13 pairs with ties) are not shown in a forest.
    diffs = differences(np.asarray([now[pair.first] for pair in pairs], dtype=float),
                         np.asarray([now[pair.second] for pair in pairs], dtype=float))
    mean, sd = mean_sd(diffs)
    suppressed = []
    if n < thresholds["min_means"]:
        suppressed.append("means")
    if n < max(thresholds["min_means"], thresholds["min_tests"]):
        suppressed.append("tests")
    return {"kind": "project", "slug": one.project.slug, "name": one.project.name,
            "organisation": one.organisation, "n_pairs": n,
            "mean": None if "means" in suppressed else mean,
            "ci95": None if "tests" in suppressed else mean_ci95(mean, sd, n),
            "pooled": n >= thresholds["min_means"] and n > 0, "suppressed": suppressed}


def _overall(scales: list[PooledScale], thresholds: Thresholds) -> ReliableChangeOverall:
    """Reliable change summed over the scales whose three counts are all shown as numbers.

    A scale with a count shown as "<N" (or none at all) is left out whole: adding its hidden count
    would let anyone work it out by subtracting the other scales' counts.
    """
    sums = dict.fromkeys(RCI_CATEGORIES, 0)
    counted = left_out = n = 0
    for entry in scales:
        rci = cast(dict, entry["rci"])
        if not all(isinstance(rci[name], int) and not isinstance(rci[name], bool) for name in RCI_CATEGORIES):
            left_out += bool(entry["n_pairs"])
            continue
        for name in RCI_CATEGORIES:
            sums[name] += rci[name]
        counted += 1
        n += entry["n_pairs"]
    shown = suppress_counts(dict(sums), thresholds["min_cell"]) if counted else dict.fromkeys(RCI_CATEGORIES)
    hidden = any(isinstance(value, str) for value in shown.values())
    return {"scales": counted, "scales_left_out": left_out, "n": n,
            "improved": shown["improved"], "unchanged": shown["unchanged"],
            "deteriorated": shown["deteriorated"], "suppressed": ["counts"] if hidden else []}
