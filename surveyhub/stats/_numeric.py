"""Numeric guards shared by the statistics core.

Every public function in :mod:`surveyhub.stats` promises plain finite numbers
or ``None``. The helpers here are where that promise is kept: input
validation, "is this spread real or rounding noise", and conversion of numpy
scalars to plain floats.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

#: Relative size below which a spread or difference counts as floating-point
#: noise. Scale scores are means of a handful of items, so two answers that
#: are "the same" can differ by a few ulps when summed in another order;
#: 1e-12 is thousands of ulps yet far below any real difference on a
#: questionnaire scale.
NOISE_TOL = 1e-12


def finite_array(values: Iterable[float], name: str) -> np.ndarray:
    """Return ``values`` as a float array, refusing None, NaN and infinity.

    Missing scores must be dropped (or the pair left out) by the caller: a
    silently skipped value here would shift which pre belongs to which post.
    """
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a list of numbers, not a string")
    out = []
    for i, value in enumerate(values):
        if value is None:
            raise ValueError(f"{name}[{i}] is None; leave out missing scores before computing")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name}[{i}] is not a number: {value!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"{name}[{i}] is {number}; NaN and infinity are not scores")
        out.append(number)
    return np.asarray(out, dtype=float)


def is_number(value: object) -> bool:
    """True for a finite real number (bools excluded: True is not a score)."""
    if value is None or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def nearly_constant(arr: np.ndarray) -> bool:
    """True when the values do not vary beyond rounding noise (or n < 2).

    Guarding here, before scipy, is what keeps zero-variance data from
    producing inf/NaN and scipy's "catastrophic cancellation" warning: scipy
    warns when the spread is below ~1e-15 of the mean, well inside this test.
    """
    if arr.size < 2:
        return True
    spread = float(arr.max() - arr.min())
    return spread <= NOISE_TOL * float(np.abs(arr).max())


def mean_sd(arr: np.ndarray) -> tuple[float | None, float | None]:
    """Mean (None for n=0) and SD with ddof=1 (None for n<2, 0.0 when constant)."""
    mean = float(np.mean(arr)) if arr.size else None
    if arr.size < 2:
        return mean, None
    if nearly_constant(arr):
        return mean, 0.0
    return mean, float(np.std(arr, ddof=1))


def as_float(value: object) -> float | None:
    """A numpy scalar as a plain float, or None when it is not finite.

    Callers guard the known degenerate cases before computing; this is the
    last line of defence so that no NaN or infinity reaches a report.
    """
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None
