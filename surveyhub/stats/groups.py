"""Two independent groups at the start: did residents who stayed differ from those who left?

A pre → post result describes the residents who answered twice. When those
who dropped out started lower (or higher), the change says less about
everyone who began. The check compares the baseline scores of completers and
drop-outs with Welch's t-test (no equal-variance assumption), under the same
small-number rules as every other figure.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ._numeric import as_float, finite_array, mean_sd, nearly_constant


def compare_groups(completers: list[float], dropouts: list[float], *, min_means: int = 5,
                   min_tests: int = 10) -> dict:
    """Baseline of completers and drop-outs, and Welch's test of the difference.

    :param completers: baseline scores of residents with a paired later response.
    :param dropouts: baseline scores of residents without one.
    :param min_means: either group smaller than this: no means, SDs, difference or p
        (a mean of two residents describes those two).
    :param min_tests: either group smaller than this (or than ``min_means``): no p.
    :returns: ``{"completers": {n, mean, sd}, "dropouts": {n, mean, sd},
        "difference", "p"}``; difference is dropouts − completers;
        p of Welch's test (as ``scipy.stats.ttest_ind(dropouts, completers,
        equal_var=False)``), None when neither group varies.
    """
    groups = {"completers": finite_array(completers, "completers"),
              "dropouts": finite_array(dropouts, "dropouts")}
    out: dict = {}
    for name, values in groups.items():
        mean, sd = mean_sd(values)
        out[name] = {"n": int(values.size), "mean": mean, "sd": sd}
    smallest = min(values.size for values in groups.values())
    out["difference"] = out["p"] = None
    if smallest < max(min_means, 1):  # an empty group has no mean to compare
        for name in groups:
            out[name]["mean"] = out[name]["sd"] = None
        return out
    out["difference"] = as_float(out["dropouts"]["mean"] - out["completers"]["mean"])
    if smallest >= max(min_means, min_tests, 2) and not all(nearly_constant(v) for v in groups.values()):
        out["p"] = _welch_p(out["completers"], out["dropouts"])
    return out


def _welch_p(first: dict, second: dict) -> float | None:
    """Two-sided p of Welch's t-test from n, mean and SD (ddof 1) of each group.

    The same as ``scipy.stats.ttest_ind(second, first, equal_var=False)``, but
    from the SDs :func:`mean_sd` gives: a group that does not vary has SD 0
    exactly (scipy would compute it from rounding noise, and warn).
    """
    part = [group["sd"] ** 2 / group["n"] for group in (first, second)]
    variance = part[0] + part[1]
    if variance <= 0.0:
        return None
    t = (second["mean"] - first["mean"]) / float(np.sqrt(variance))
    df = variance ** 2 / sum(v ** 2 / (group["n"] - 1) for v, group in zip(part, (first, second)))
    return as_float(2.0 * stats.t.sf(abs(t), df))
