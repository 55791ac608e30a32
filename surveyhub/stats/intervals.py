"""95% intervals a methodologist asks for beside a point estimate.

* :func:`wilson_interval` — a share of residents (e.g. "reliably improved"):
  Wilson's score interval, which stays inside [0, 1] and behaves at 0 and n,
  unlike the Wald interval p ± z·√(p(1−p)/n).
* :func:`d_z_interval` — the paired effect size d_z: the exact interval from
  the noncentral t distribution (the t statistic of a paired test is
  d_z·√n, noncentral t with df = n − 1 and noncentrality δ·√n).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import optimize, stats

from ._numeric import as_float, is_number

#: Largest noncentrality searched for; beyond this scipy's noncentral t loses
#: accuracy, and an effect that large needs no interval to be believed.
MAX_NONCENTRALITY = 1e4
#: A t statistic closer to 0 than this is 0 (far below any real effect).
T_NOISE = 1e-12


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie between 0 and 1, got {confidence!r}")
    return float(stats.norm.ppf(1.0 - (1.0 - confidence) / 2.0))


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> list[float] | None:
    """Wilson score interval of the share ``k / n``; None for n = 0.

    The same as ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``
    (and R's ``prop.test(k, n, correct = FALSE)$conf.int``), in closed form.

    :raises ValueError: unless 0 ≤ k ≤ n are whole numbers.
    """
    if isinstance(k, bool) or isinstance(n, bool) or not isinstance(k, int) or not isinstance(n, int):
        raise ValueError(f"k and n must be whole numbers, got {k!r} and {n!r}")
    if not 0 <= k <= n:
        raise ValueError(f"need 0 ≤ k ≤ n, got k={k}, n={n}")
    if n == 0:
        return None
    z = _z(confidence)
    p = k / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denominator
    # At k = 0 (k = n) the low (high) end is exactly 0 (1); the formula gives it a few ulps off.
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return [low, high]


def d_z_interval(t: float | None, n: int, confidence: float = 0.95) -> list[float] | None:
    """Exact interval of d_z from the paired t statistic ``t`` over ``n`` pairs.

    Solves ``nct.cdf(t, n − 1, δ) = 0.975`` and ``= 0.025`` for the
    noncentrality δ (Steiger & Fouladi 1997) and divides both by √n. None
    when t is None or not finite, below 2 pairs, or when the root cannot be
    found reliably (|δ| beyond :data:`MAX_NONCENTRALITY`).
    """
    if not is_number(t) or n < 2:
        return None
    t = float(t)  # type: ignore[arg-type]
    if abs(t) < T_NOISE:
        t = 0.0  # scipy's noncentral t returns NaN for t ~ 1e-157; the interval moves by < 1e-12
    df = n - 1
    tail = (1.0 - confidence) / 2.0
    _z(confidence)  # validates confidence
    ends = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # scipy's noncentral t warns far out in its tails
        for target in (1.0 - tail, tail):
            delta = _solve_noncentrality(t, df, target)
            if delta is None:
                return None
            ends.append(delta / math.sqrt(n))
    low, high = (as_float(value) for value in ends)
    return None if low is None or high is None else [low, high]


def _solve_noncentrality(t: float, df: int, target: float) -> float | None:
    """δ with ``nct.cdf(t, df, δ) = target``; the cdf falls as δ grows."""

    def gap(delta: float) -> float:
        cdf = float(stats.nct.cdf(t, df, delta))
        if not math.isfinite(cdf):
            # scipy gives NaN at some points deep in a tail (t = 8, df = 1, δ = −8 while δ = −6 gives
            # 1 − 1.6e-11): there the cdf is 1 below t and 0 above it to far more digits than the root needs.
            cdf = 1.0 if delta < t else 0.0
        return cdf - target

    if abs(t) > MAX_NONCENTRALITY:  # the root lies beyond the range where the cdf can be trusted
        return None
    low, high, step = t - 1.0, t + 1.0, 1.0
    while gap(low) < 0.0:
        step *= 2.0
        low = t - step
        if abs(low) > MAX_NONCENTRALITY:
            return None
    while gap(high) > 0.0:
        step *= 2.0
        high = t + step
        if abs(high) > MAX_NONCENTRALITY:
            return None
    if not (math.isfinite(gap(low)) and math.isfinite(gap(high))):
        return None
    return float(optimize.brentq(gap, low, high, xtol=1e-12, rtol=1e-12))
