"""Change between paired pre and post scores: means, CI, effect sizes, tests.

This is the core of what a funder is told: how much residents changed on a
scale, how sure we are (95% CI, paired t-test, Wilcoxon signed-rank as the
check for ordinal data) and how large the change is (Lakens 2013 effect
sizes). Change is always post − pre.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ._numeric import as_float, finite_array, mean_sd, nearly_constant

#: Significant digits kept in post − pre; far more than any questionnaire
#: score carries, far fewer than the 15–16 where rounding noise lives.
SIGNIFICANT_DIGITS = 12

#: How g_av is corrected for small samples; the report's method appendix
#: quotes this text so that readers can recompute the value.
G_AV_CORRECTION = (
    "Hedges' g_av = d_av × J, with the small-sample correction "
    "J = 1 − 3/(4·df − 1) and df = n_pairs − 1 (the paired degrees of "
    "freedom); g_av is not reported below 3 pairs, where J would be 0."
)


def hedges_j(df: int) -> float | None:
    """Hedges' approximate small-sample correction J for ``df`` degrees of freedom.

    None for df < 2: at df=1 the formula gives J=0, which would report every
    effect as exactly zero.
    """
    if df < 2:
        return None
    return 1.0 - 3.0 / (4.0 * df - 1.0)


def paired_change(pre: list[float], post: list[float]) -> dict:
    """Describe and test the change from ``pre`` to ``post`` for paired scores.

    ``pre[i]`` and ``post[i]`` belong to the same resident.

    Effect sizes follow Lakens (2013): ``d_z = M_diff / SD_diff``,
    ``d_av = M_diff / ((SD_pre + SD_post) / 2)`` and ``g_av = d_av × J`` where
    J is Hedges' correction with df = n_pairs − 1 (see :data:`G_AV_CORRECTION`).

    :raises ValueError: when the lists differ in length or hold None/NaN/inf.
    :returns: ``{"n_pairs", "pre": {mean, sd}, "post": {mean, sd},
        "change": {mean, sd, ci95}, "effect_size": {d_z, d_av, g_av},
        "test": {t, df, p, wilcoxon_p}}``. Anything not computable (too few
        pairs, no variation) is None, never NaN or infinity. When every
        difference is zero, t, p and wilcoxon_p are None; when everyone
        changed by the same amount, t, p, ci95 and d_z are None (SD_diff = 0).

    The Wilcoxon p-value is scipy's default: zero differences dropped, exact
    for up to 50 pairs without ties, and (scipy ≥ 1.15) an exact permutation
    test for up to 13 pairs with ties or zeros — which can take ~1 s at 13.
    """
    pre_arr = finite_array(pre, "pre")
    post_arr = finite_array(post, "post")
    if pre_arr.size != post_arr.size:
        raise ValueError(
            f"pre has {pre_arr.size} scores and post has {post_arr.size}; "
            "paired scores must come in pairs"
        )
    n = int(pre_arr.size)
    diffs = differences(pre_arr, post_arr)
    pre_mean, pre_sd = mean_sd(pre_arr)
    post_mean, post_sd = mean_sd(post_arr)
    change_mean, change_sd = mean_sd(diffs)
    return {
        "n_pairs": n,
        "pre": {"mean": pre_mean, "sd": pre_sd},
        "post": {"mean": post_mean, "sd": post_sd},
        "change": {
            "mean": change_mean,
            "sd": change_sd,
            "ci95": mean_ci95(change_mean, change_sd, n),
        },
        "effect_size": _effect_sizes(n, change_mean, change_sd, pre_sd, post_sd),
        "test": _tests(pre_arr, post_arr, diffs),
    }


def differences(pre_arr: np.ndarray, post_arr: np.ndarray) -> np.ndarray:
    """post − pre, rounded to SIGNIFICANT_DIGITS digits of the largest score.

    Two identical sets of answers summed in another order can differ by a
    few ulps. Unrounded, such noise turns "no change" into a tiny change that
    Wilcoxon ranks, and splits ties (scipy's wilcoxon docs warn about this).
    """
    diffs = post_arr - pre_arr
    scale = max(float(np.abs(pre_arr).max(initial=0.0)), float(np.abs(post_arr).max(initial=0.0)))
    if scale == 0.0:
        return diffs
    # Clamped so that np.round's internal 10**decimals stays finite.
    decimals = min(300, SIGNIFICANT_DIGITS - math.ceil(math.log10(scale)))
    return np.round(diffs, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0


def mean_ci95(mean: float | None, sd: float | None, n: int) -> list[float] | None:
    # With SD 0 the interval would collapse to a point and claim certainty
    # that three identical answers cannot give; report no interval instead.
    if mean is None or sd is None or sd == 0.0 or n < 2:
        return None
    lo, hi = stats.t.interval(0.95, n - 1, loc=mean, scale=sd / math.sqrt(n))
    lo, hi = as_float(lo), as_float(hi)
    return None if lo is None or hi is None else [lo, hi]


def _effect_sizes(
    n: int,
    change_mean: float | None,
    change_sd: float | None,
    pre_sd: float | None,
    post_sd: float | None,
) -> dict:
    d_z = d_av = g_av = None
    if change_mean is not None and change_sd:
        d_z = as_float(change_mean / change_sd)
    if change_mean is not None and pre_sd is not None and post_sd is not None:
        average_sd = (pre_sd + post_sd) / 2.0
        if average_sd > 0.0:
            d_av = as_float(change_mean / average_sd)
    j = hedges_j(n - 1)
    if d_av is not None and j is not None:
        g_av = d_av * j
    return {"d_z": d_z, "d_av": d_av, "g_av": g_av}


def _tests(pre_arr: np.ndarray, post_arr: np.ndarray, diffs: np.ndarray) -> dict:
    n = int(diffs.size)
    result: dict = {"t": None, "df": None, "p": None, "wilcoxon_p": None}
    if n < 2:
        return result
    result["df"] = n - 1
    # Constant differences give SD 0 and t = ±inf; scipy would also warn.
    # The raw differences are checked too because scipy sees those.
    if not (nearly_constant(diffs) or nearly_constant(post_arr - pre_arr)):
        res = stats.ttest_rel(post_arr, pre_arr)
        result["t"] = as_float(res.statistic)
        result["p"] = as_float(res.pvalue)
    if np.any(diffs != 0.0):
        result["wilcoxon_p"] = as_float(stats.wilcoxon(diffs).pvalue)
    return result
