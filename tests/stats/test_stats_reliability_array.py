"""Cronbach's alpha from a float array (what the report passes) agrees with the list route, errors included."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveyhub.stats import cronbach_alpha

PROPERTY = settings(max_examples=100, deadline=None, database=None)

tables = st.tuples(st.integers(1, 6), st.integers(0, 30)).flatmap(
    lambda kn: st.lists(
        st.lists(st.one_of(st.integers(1, 5), st.floats(1, 5), st.just(math.nan)), min_size=kn[0], max_size=kn[0]),
        min_size=kn[1], max_size=kn[1]))


@PROPERTY
@given(tables)
def test_array_and_lists_give_the_same_result(rows):
    from_lists = cronbach_alpha(rows)
    assert cronbach_alpha(np.array(rows, dtype=float).reshape(len(rows), -1) if rows else np.empty((0, 0))) == from_lists
    # Lists holding None where the array holds NaN: the value-by-value route, same answer.
    with_none = [[None if isinstance(v, float) and math.isnan(v) else v for v in row] for row in rows]
    assert cronbach_alpha(with_none) == from_lists


def test_infinity_is_an_error_naming_the_respondent_unless_the_row_is_incomplete_anyway():
    for table in ([[1.0, 2.0], [2.0, math.inf], [3.0, 3.0]], np.array([[1.0, 2.0], [2.0, math.inf], [3.0, 3.0]])):
        with pytest.raises(ValueError, match="respondent 1"):
            cronbach_alpha(table)
    assert cronbach_alpha([[1.0, 2.0], [math.nan, math.inf], [3.0, 3.0], [2.0, 2.5]])["n"] == 3


def test_bools_and_text_still_go_value_by_value():
    with pytest.raises(ValueError):
        cronbach_alpha([[1, 2], [True, 3]])
    with pytest.raises(ValueError):
        cronbach_alpha([[1.0, 2.0], [1.0, "x"]])
