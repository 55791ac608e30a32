"""Cronbach's alpha: missing data, degenerate tables, and its Feldt interval."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveyhub.stats import cronbach_alpha

PROPERTY = settings(deadline=None, database=None)  # examples: the Hypothesis profile (tests/conftest.py)

REFERENCE = [
    [1, 1, 1], [2, 1, 1], [2, 1, 2], [3, 2, 1], [2, 3, 2],
    [2, 3, 3], [3, 2, 3], [3, 3, 3], [2, 3, 2], [3, 3, 3],
]


def test_respondents_with_a_missing_item_are_left_out():
    with_gaps = REFERENCE + [[None, 3, 1], [5, float("nan"), 5]]
    result = cronbach_alpha(with_gaps)
    assert result["n"] == 10
    assert result["alpha"] == pytest.approx(0.7734375, abs=5e-8)


@pytest.mark.parametrize(
    "items",
    [
        [],  # nobody answered
        [[4], [2], [3]],  # one item: no internal consistency to speak of
        [[1, 2, 3]],  # one respondent
        [[2, 2], [2, 2], [2, 2]],  # nobody differs
        [[1, 5], [5, 1], [3, 3]],  # totals all 6: variance of totals is 0
    ],
)
def test_alpha_not_computable(items):
    result = cronbach_alpha(items)
    assert result["alpha"] is None
    assert result["ci95"] is None


def test_counts_are_reported_even_without_alpha():
    result = cronbach_alpha([[1, 2, 3], [None, 1, 1]])
    assert result == {"alpha": None, "n": 1, "k": 3, "ci95": None}


def test_rows_of_different_length_raise():
    with pytest.raises(ValueError, match="respondent 1"):
        cronbach_alpha([[1, 2, 3], [1, 2]])


def test_non_numbers_raise():
    with pytest.raises(ValueError):
        cronbach_alpha([[1, 2], [1, "x"]])


def test_negative_alpha_is_reported_not_hidden():
    # Items that contradict each other: a real finding about the scale.
    result = cronbach_alpha([[1, 5], [5, 1], [2, 3], [4, 4]])
    assert result["alpha"] < 0
    lo, hi = result["ci95"]
    assert lo < result["alpha"] < hi


def covariance_alpha(rows):
    """Alpha from the covariance matrix: an independent route to the same value."""
    cov = np.cov(np.asarray(rows, dtype=float), rowvar=False)
    k = cov.shape[0]
    return k / (k - 1) * (1 - np.trace(cov) / cov.sum())


tables = st.tuples(st.integers(2, 6), st.integers(0, 30)).flatmap(
    lambda kn: st.lists(
        st.lists(st.one_of(st.integers(1, 5), st.none()), min_size=kn[0], max_size=kn[0]),
        min_size=kn[1],
        max_size=kn[1],
    )
)


@PROPERTY
@given(tables)
def test_alpha_properties(rows):
    result = cronbach_alpha(rows)
    complete = [row for row in rows if None not in row]
    assert result["n"] == len(complete)
    if result["alpha"] is None:
        assert result["ci95"] is None
        return
    assert math.isfinite(result["alpha"]) and result["alpha"] <= 1 + 1e-12
    assert result["alpha"] == pytest.approx(covariance_alpha(complete), rel=1e-9, abs=1e-9)
    lo, hi = result["ci95"]
    assert math.isfinite(lo) and math.isfinite(hi)
    assert lo <= result["alpha"] <= hi
