"""Change in subgroups of the same pairs: the exploratory "which elements work" analysis.

Residents who did more (more hours, a leading role) are compared with those who
did less on the change of one scale. Such groups choose themselves, so nothing
here says what *caused* a difference; the baseline of each group is reported
beside its change for that reason ("those who do more may differ at the start").

Three pieces, all pure:

* :func:`tercile_groups` splits residents by how much they did, with a tie rule
  that never separates two residents who did the same amount.
* :func:`compare` describes each group (n, baseline mean and SD, mean change with
  its t interval) and the difference between two groups with Welch's interval,
  under the report's small-number rules — all or nothing per comparison, so a
  hidden group can never be worked out from the shown ones and the total.
* :func:`reveals_small_set` checks that several groupings of the same pairs,
  published side by side, do not together give away the sum of fewer than
  ``min_size`` residents (one grouping's group minus an overlapping one of
  another, for instance).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from ._numeric import as_float, finite_array, mean_sd
from .disclosure import suppress_counts

#: What each name in a comparison's ``suppressed`` list stands for.
SUBGROUP_SUPPRESSION = {
    "means": "a group has fewer pairs than min_means: no group's baseline, change or difference is shown "
             "(one shown group beside the total would give the hidden one back)",
    "tests": "a group has fewer pairs than min_tests: no intervals and no p-value in this comparison",
    "counts": "a group's count is shown as '<N' (or '≥N' to protect it)",
    "overlap": "shown beside the other grouping of the same residents, these groups would give away the change "
               "of fewer than min_means residents: their figures are hidden",
}

#: Most cells :func:`reveals_small_set` examines (2^cells subsets); more is refused, never guessed.
MAX_CELLS = 16


def tercile_groups(values: Sequence[float]) -> tuple[list[int], list[tuple[float | None, float | None]]]:
    """Split ``values`` into (up to) three groups by size: lower, middle and upper third.

    The rule, deterministic and never splitting ties: sort the n values; the first cut
    is the value at position ⌈n/3⌉, the second the value at position ⌈2n/3⌉ (1-based).
    The lower group holds every value up to and including the first cut, the middle group
    the values above it up to and including the second cut, the upper group the values
    above the second cut. Residents with the same value always share a group, so a group
    can come out empty (many residents with the same number of activities); empty groups
    are dropped and the others renumbered — fewer than three groups then.

    :returns: the group index (0 = lowest) of each value, and per group its bounds
        ``(above, up_to)``: values ``> above`` and ``<= up_to`` (None: no bound).
    """
    n = len(values)
    if n == 0:
        return [], []
    ordered = sorted(float(v) for v in values)
    first, second = ordered[math.ceil(n / 3) - 1], ordered[math.ceil(2 * n / 3) - 1]
    raw = [0 if v <= first else 1 if v <= second else 2 for v in values]
    bounds = {0: (None, first), 1: (first, second), 2: (second, None)}
    used = sorted(set(raw))
    renumber = {group: index for index, group in enumerate(used)}
    return [renumber[group] for group in raw], [bounds[group] for group in used]


def describe_group(pre: Sequence[float], post: Sequence[float]) -> dict:
    """One group: ``{n, baseline: {mean, sd}, change: {mean, sd, ci95}}`` (no suppression)."""
    before, after = finite_array(pre, "pre"), finite_array(post, "post")
    if before.size != after.size:
        raise ValueError("pre and post must come in pairs")
    changes = after - before
    base_mean, base_sd = mean_sd(before)
    change_mean, change_sd = mean_sd(changes)
    return {"n": int(changes.size), "baseline": {"mean": base_mean, "sd": base_sd},
            "change": {"mean": change_mean, "sd": change_sd, "ci95": t_interval(change_mean, change_sd,
                                                                              int(changes.size))}}


def t_interval(mean: float | None, sd: float | None, n: int) -> list[float] | None:
    """The 95% interval of a mean from the t distribution (n − 1 df); None without spread or below 2."""
    if mean is None or sd is None or sd == 0.0 or n < 2:
        return None
    low, high = stats.t.interval(0.95, n - 1, loc=mean, scale=sd / math.sqrt(n))
    low, high = as_float(low), as_float(high)
    return None if low is None or high is None else [low, high]


def welch(first: dict, second: dict) -> dict:
    """Difference of two groups' mean change (first − second) with Welch's 95% interval and p.

    The same as ``scipy.stats.ttest_ind(first, second, equal_var=False)`` and its
    ``confidence_interval()``, from n, mean and SD (ddof 1) of each group's changes.
    Interval and p are None when neither group varies or a group has fewer than 2.
    """
    a, b = first["change"], second["change"]
    out: dict = {"mean": None, "ci95": None, "p": None, "df": None}
    if a["mean"] is None or b["mean"] is None:
        return out
    out["mean"] = as_float(a["mean"] - b["mean"])
    if first["n"] < 2 or second["n"] < 2 or a["sd"] is None or b["sd"] is None:
        return out
    part = (a["sd"] ** 2 / first["n"], b["sd"] ** 2 / second["n"])
    variance = part[0] + part[1]
    if variance <= 0.0:
        return out
    df = variance ** 2 / (part[0] ** 2 / (first["n"] - 1) + part[1] ** 2 / (second["n"] - 1))
    se = math.sqrt(variance)
    t = out["mean"] / se
    half = float(stats.t.ppf(0.975, df)) * se
    out["ci95"] = [as_float(out["mean"] - half), as_float(out["mean"] + half)]
    out["p"] = as_float(2.0 * stats.t.sf(abs(t), df))
    out["df"] = as_float(df)
    return out


def compare(groups: list[tuple[list[float], list[float]]], contrast: tuple[int, int] | None, *,
            min_means: int, min_tests: int, min_cell: int) -> dict:
    """Each group's baseline and change, and the ``contrast`` (group i − group j), as a report may show them.

    All or nothing: when any group has fewer than ``min_means`` pairs no group shows a
    mean (the total is shown elsewhere, so one hidden group would follow from the others);
    when any group has fewer than ``min_tests`` no interval or p is shown. Counts below
    ``min_cell`` read ``"<N"``, with a second count hidden when one alone would follow from
    the total (:func:`~surveyhub.stats.suppress_counts`).

    :returns: ``{"groups": [{n, baseline: {mean, sd}, change: {mean, ci95}}], "difference":
        {mean, ci95, p} | None, "suppressed": [...]}`` — names from :data:`SUBGROUP_SUPPRESSION`.
    """
    described = [describe_group(pre, post) for pre, post in groups]
    smallest = min((group["n"] for group in described), default=0)
    suppressed = []
    hide_means = smallest < max(min_means, 1)
    hide_tests = smallest < max(min_means, min_tests, 2)
    if hide_means:
        suppressed.append("means")
    if hide_tests:
        suppressed.append("tests")
    counts = suppress_counts({str(i): group["n"] for i, group in enumerate(described)}, min_cell)
    if any(isinstance(value, str) for value in counts.values()):
        suppressed.append("counts")
    difference = None
    if contrast is not None:
        found = welch(described[contrast[0]], described[contrast[1]])
        difference = {"mean": None if hide_means else found["mean"],
                      "ci95": None if hide_tests else found["ci95"],
                      "p": None if hide_tests else found["p"]}
    shown = []
    for index, group in enumerate(described):
        shown.append({
            "n": counts[str(index)],
            "baseline": {"mean": None if hide_means else group["baseline"]["mean"],
                         "sd": None if hide_means else group["baseline"]["sd"]},
            "change": {"mean": None if hide_means else group["change"]["mean"],
                       "ci95": None if hide_tests else group["change"]["ci95"]},
        })
    return {"groups": shown, "difference": difference, "suppressed": suppressed}


def hide(compared: dict, reason: str) -> dict:
    """``compared`` with every mean, interval and p removed (the counts stay), ``reason`` added."""
    for group in compared["groups"]:
        group["baseline"] = {"mean": None, "sd": None}
        group["change"] = {"mean": None, "ci95": None}
    if compared["difference"] is not None:
        compared["difference"] = {"mean": None, "ci95": None, "p": None}
    if reason not in compared["suppressed"]:
        compared["suppressed"].append(reason)
    return compared


def reveals_small_set(labellings: list[Sequence[object]], min_size: int) -> bool:
    """Would publishing a sum (or mean and n) for every group of every labelling give away fewer than ``min_size``?

    ``labellings`` label the same residents (position i is one resident) several ways; each
    labelling's groups are published, and so is the total. Residents with the same labels in
    every labelling form a cell. A set of cells has a sum that follows from the published
    ones exactly when its indicator lies in the span of the published groups' indicators;
    this looks for such a set of 1 to ``min_size − 1`` residents.

    :raises ValueError: beyond :data:`MAX_CELLS` cells (too many combinations to check).
    """
    if not labellings:
        return False
    n = len(labellings[0])
    if any(len(labels) != n for labels in labellings):
        raise ValueError("every labelling must label the same residents")
    cells: dict[tuple, int] = {}
    for i in range(n):
        key = tuple(labels[i] for labels in labellings)
        cells[key] = cells.get(key, 0) + 1
    keys = list(cells)
    if len(keys) > MAX_CELLS:
        raise ValueError(f"{len(keys)} cells are too many to check")
    rows = [[1.0] * len(keys)]  # the total
    for position, labels in enumerate(labellings):
        for label in sorted(set(labels), key=repr):
            rows.append([1.0 if key[position] == label else 0.0 for key in keys])
    published = np.asarray(rows)
    projection = np.linalg.pinv(published) @ published
    sizes = np.asarray([cells[key] for key in keys])
    for count in range(1, min(len(keys), min_size - 1) + 1):  # each cell holds at least one resident
        for chosen in itertools.combinations(range(len(keys)), count):
            size = int(sizes[list(chosen)].sum())
            if not 0 < size < min_size:
                continue
            indicator = np.zeros(len(keys))
            indicator[list(chosen)] = 1.0
            if np.allclose(indicator @ projection, indicator, atol=1e-8):
                return True
    return False
