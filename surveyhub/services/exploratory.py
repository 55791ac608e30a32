"""Which elements seem to work: change per skill by what residents did (exploratory, never causal).

For each pre → post scale, the pairs are split two ways: by how much the resident did
(terciles of hours, or of activities where no hours were recorded) and by whether they
ever organised or chaired an activity. Each group's baseline and change is shown with
its interval, and the difference between the top and bottom group (or those who led and
those who did not) with Welch's interval. Residents choose how much they do, so those
who do more may differ at the start: the baseline of every group is shown beside its
change, and the JSON says ``"exploratory": true, "causal": false``.

A pair's intensity is the sum over the participant ids it joins (two ids when the pair was
made by self-made code), read once from :mod:`services.participation`. The statistics and
the small-number rules are :mod:`surveyhub.stats.subgroups`; on top of those, a grouping
whose groups, beside the other grouping and the scale's own figures, would give away the
change of fewer than ``min_means`` residents is hidden (``"overlap"``).
"""

from __future__ import annotations

from typing import Literal, cast

from sqlalchemy.orm import Session

from surveyhub.models import Project
from surveyhub.services import participation
from surveyhub.services.outcome_data import Pairing, ProjectData
from surveyhub.services.participation import Intensity
from surveyhub.services.report_contract import (Exploratory, ExploratoryScale, ScaleEntry, SubgroupComparison,
                                               Thresholds)
from surveyhub.stats.subgroups import compare, hide, reveals_small_set, tercile_groups

#: What the method appendix says about this analysis (``design.method.exploratory``).
METHOD_TEXT = (
    "Exploratory, not causal: per pre → post scale the pairs are grouped by how much the resident did "
    "(confirmed activities of the project; a pair made by self-made code adds up its participants) — terciles "
    "of hours, or of activities where no hours were recorded: sorted, the first cut is the value at position "
    "ceil(n/3), the second at ceil(2n/3); a group holds the values up to and including its cut and above the one "
    "before, so residents with equal values share a group and empty groups are dropped (then fewer than three) — "
    "and by role (ever organised or chaired an activity, or never). Per group: n, the baseline mean and SD, the "
    "mean change and its 95% t interval (n − 1 df). The difference between the top and bottom group (led minus "
    "never led) has Welch's 95% interval and p (scipy.stats.ttest_ind(equal_var=False); R: t.test(a, b)). All or "
    "nothing per grouping: a group below min_means hides every mean of that grouping, a group below min_tests "
    "every interval and p; counts below min_cell read '<N'. A grouping that, beside the other grouping and the "
    "scale's figures, would give away the change of fewer than min_means residents is hidden ('overlap'). "
    "Residents who do more may differ at the start: compare the groups' baselines."
)

#: Group keys by number of intensity groups (lowest first).
INTENSITY_KEYS = {1: ("all",), 2: ("lower", "upper"), 3: ("lower", "middle", "upper")}


def analyse(session: Session, project: Project, data: ProjectData, pairing: Pairing, scales: list[ScaleEntry],
            thresholds: Thresholds) -> Exploratory:
    """The report's ``exploratory`` block for the pre → post ``scales`` already computed on ``pairing``."""
    done = participation.by_participant(session, [project.id])
    report: Exploratory = {"exploratory": True, "causal": False, "measure": None, "reason": None, "scales": []}
    if not pairing.pairs:
        report["reason"] = "no_pairs"
        return report
    intensity = [_pair_intensity(done, data, pair) for pair in pairing.pairs] if done else []
    if not any(one.activities for one in intensity):
        report["reason"] = "no_activities"
        return report
    measure = "hours" if any(one.hours > 0 for one in intensity) else "activities"
    report["measure"] = cast(Literal["hours", "activities"], measure)
    for entry in scales:
        now = data.scores.get(("now", entry["instrument"], entry["scale"]), {})
        kept = [(i, now[pair.first], now[pair.second]) for i, pair in enumerate(pairing.pairs)
                if now.get(pair.first) is not None and now.get(pair.second) is not None]
        report["scales"].append(_scale(entry, kept, intensity, pairing, measure, thresholds))
    return report


def _pair_intensity(done: dict[int, Intensity], data: ProjectData, pair) -> Intensity:
    """What the resident behind a pair did: the sum over the (one or two) participant ids it joins."""
    first, second = data.responses[pair.first][0], data.responses[pair.second][0]
    if first == second or second not in done:
        return done.get(first, participation.NONE)
    if first not in done:
        return done[second]
    parts = [done[first], done[second]]
    return Intensity(activities=sum(p.activities for p in parts), hours=round(sum(p.hours for p in parts), 2),
                     roles=tuple(sorted({r for p in parts for r in p.roles})), led=sum(p.led for p in parts),
                     by_role={})


def _scale(entry: ScaleEntry, kept: list[tuple[int, float, float]], intensity: list[Intensity], pairing: Pairing,
           measure: str, thresholds: Thresholds) -> ExploratoryScale:
    limits = {"min_means": thresholds["min_means"], "min_tests": thresholds["min_tests"],
              "min_cell": thresholds["min_cell"]}
    values = [float(getattr(intensity[i], measure)) for i, _b, _a in kept]
    labels, bounds = tercile_groups(values)
    by_intensity = None
    if len(bounds) > 1:
        groups = [([b for (_i, b, _a), g in zip(kept, labels) if g == k], [a for (_i, _b, a), g in zip(kept, labels)
                                                                           if g == k]) for k in range(len(bounds))]
        compared = compare(groups, (len(bounds) - 1, 0), **limits)
        keys = INTENSITY_KEYS[len(bounds)]
        by_intensity = _named(compared, list(keys), bounds, (keys[-1], keys[0]))
    led = [intensity[i].ever_led for i, _b, _a in kept]
    by_role = None
    if any(led) and not all(led):
        groups = [([b for (_i, b, _a), x in zip(kept, led) if x is flag], [a for (_i, _b, a), x in zip(kept, led)
                                                                          if x is flag]) for flag in (True, False)]
        by_role = _named(compare(groups, (0, 1), **limits), ["led", "not_led"], [(None, None)] * 2,
                         ("led", "not_led"))
    _guard_overlap(entry, kept, pairing, labels if by_intensity else None, led if by_role else None,
                   by_intensity, by_role, thresholds["min_means"])
    return {"instrument": entry["instrument"], "scale": entry["scale"], "title": entry["title"],
            "n_pairs": len(kept), "by_intensity": by_intensity, "by_role": by_role}


def _named(compared: dict, keys: list[str], bounds, between: tuple[str, str]) -> SubgroupComparison:
    groups = [{"key": key, "n": group["n"], "above": above, "up_to": up_to, "baseline": group["baseline"],
               "change": group["change"]}
              for key, group, (above, up_to) in zip(keys, compared["groups"], bounds)]
    difference = compared["difference"]
    return cast(SubgroupComparison, {
        "groups": groups, "suppressed": compared["suppressed"],
        "difference": None if difference is None else {"between": list(between), **difference}})


def _shows_means(compared) -> bool:
    return compared is not None and "means" not in compared["suppressed"] and "overlap" not in compared["suppressed"]


def _guard_overlap(entry: ScaleEntry, kept, pairing: Pairing, intensity_labels, led, by_intensity, by_role,
                   min_means: int) -> None:
    """Hide a grouping whose means, beside what else is shown about the same pairs, reveal a few residents.

    Shown about these pairs already: the total (the scale's mean change) and, when its figures are
    shown, the change without the fuzzy code pairs (``sensitivity``).
    """
    published: list[list[object]] = []
    sensitivity = entry["sensitivity"]
    if sensitivity is not None and sensitivity["change_mean"] is not None:
        published.append([pairing.pairs[i].by == "fuzzy" for i, _b, _a in kept])
    for labels, compared in ((intensity_labels, by_intensity), (led, by_role)):
        if not _shows_means(compared):
            continue
        if reveals_small_set(published + [list(labels)], min_means):
            hide(cast(dict, compared), "overlap")
        else:
            published.append(list(labels))
