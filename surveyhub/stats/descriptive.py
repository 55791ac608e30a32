"""Descriptive statistics for one list of scale scores."""

from __future__ import annotations

from ._numeric import finite_array, mean_sd


def describe(values: list[float]) -> dict:
    """Count, mean and standard deviation (ddof=1) of ``values``.

    :param values: scale scores; None or NaN raises ValueError (drop missing
        scores first, so that the count says how many were used).
    :returns: ``{"n": int, "mean": float | None, "sd": float | None}``; mean is
        None for n=0, sd is None for n<2 and 0.0 when every value is the same.
    """
    arr = finite_array(values, "values")
    mean, sd = mean_sd(arr)
    return {"n": int(arr.size), "mean": mean, "sd": sd}
