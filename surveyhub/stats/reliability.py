"""Internal consistency of a scale: Cronbach's alpha with Feldt's 95% CI.

Alpha per scale per wave goes into the report's method appendix, and the
pre-wave alpha is the fallback reliability for reliable change when an
instrument ships no norms.
"""

from __future__ import annotations

import math
from itertools import chain

import numpy as np
from scipy import stats

from ._numeric import as_float, is_number, nearly_constant


def cronbach_alpha(items: list[list[float | None]] | np.ndarray) -> dict:
    """Cronbach's alpha of a respondents × items table.

    :param items: one list per respondent, each with the same k item values
        (after reverse coding), or the same as a 2-D float array. A respondent
        with any missing value (None or NaN) is left out entirely (listwise
        deletion).
    :raises ValueError: when rows differ in length or hold a non-number.
    :returns: ``{"alpha", "n", "k", "ci95"}`` where n counts the complete
        respondents. alpha and ci95 are None when k < 2, n < 2 or the total
        score does not vary. ci95 is Feldt's (1965) interval:
        ``[1 − (1−α)·F(.975; n−1, (n−1)(k−1)), 1 − (1−α)·F(.025; ...)]``.
    """
    data, k = _complete_rows(items)
    n = int(data.shape[0])
    result: dict = {"alpha": None, "n": n, "k": k, "ci95": None}
    if k < 2 or n < 2:
        return result
    totals = data.sum(axis=1)
    if nearly_constant(totals):
        return result
    item_variance = float(data.var(axis=0, ddof=1).sum())
    total_variance = float(totals.var(ddof=1))
    alpha = as_float(k / (k - 1) * (1.0 - item_variance / total_variance))
    result["alpha"] = alpha
    if alpha is not None:
        result["ci95"] = feldt_ci(alpha, n, k)
    return result


def feldt_ci(alpha: float, n: int, k: int, level: float = 0.95) -> list[float] | None:
    """Feldt (1965) confidence interval for alpha from n respondents and k items.

    The upper F quantile gives the *lower* bound: (1 − α) is scaled up by it,
    so 1 − (1 − α)·F shrinks.
    """
    if n < 2 or k < 2 or not is_number(alpha):
        return None
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1.0 - level) / 2.0
    lo = as_float(1.0 - (1.0 - alpha) * stats.f.ppf(1.0 - tail, df1, df2))
    hi = as_float(1.0 - (1.0 - alpha) * stats.f.ppf(tail, df1, df2))
    return None if lo is None or hi is None else [lo, hi]


def _complete_rows(items: list[list[float | None]] | np.ndarray) -> tuple[np.ndarray, int]:
    """The rows without missing values as an n × k float array, and k (0 when there are no rows).

    A table of plain floats and ints (what the report passes, 10,000 residents
    and more) is checked and filtered as an array; anything else (None, bools,
    text) goes value by value, with the same rules.
    """
    if isinstance(items, np.ndarray) and items.ndim == 2 and items.dtype.kind in "fiu":
        return _complete_array(items.astype(float, copy=False))
    k = len(items[0]) if len(items) else 0
    for i, row in enumerate(items):
        if len(row) != k:
            raise ValueError(f"respondent {i} has {len(row)} item values, expected {k}")
    if not len(items):
        return np.empty((0, 0)), 0
    if set(map(type, chain.from_iterable(items))) <= {float, int}:
        return _complete_array(np.array(items, dtype=float).reshape(len(items), k))
    rows = []
    for i, row in enumerate(items):
        if any(_missing(value) for value in row):
            continue
        if not all(is_number(value) for value in row):
            raise ValueError(f"respondent {i} has a value that is not a number: {row!r}")
        rows.append([float(value) for value in row])
    return np.array(rows, dtype=float).reshape(len(rows), k), k


def _complete_array(table: np.ndarray) -> tuple[np.ndarray, int]:
    """``_complete_rows`` for a float array: NaN is missing, infinity is an error."""
    if not table.shape[0]:
        return np.empty((0, 0)), 0
    complete = ~np.isnan(table).any(axis=1)
    finite = np.isfinite(table).all(axis=1)
    bad = np.flatnonzero(complete & ~finite)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"respondent {i} has a value that is not a number: {table[i].tolist()!r}")
    return table[complete], table.shape[1]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
