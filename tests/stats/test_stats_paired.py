"""Paired change: edge cases, and properties cross-checked against scipy."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from surveyhub.stats import describe, paired_change

PROPERTY = settings(deadline=None, database=None)  # examples: the Hypothesis profile (tests/conftest.py)

# Scores on a quarter-point grid: realistic for item means, and exact in
# binary, so differences carry no rounding noise and scipy sees the same data.
grid_score = st.integers(0, 40).map(lambda i: i / 4)
# With ties or zeros and 11–13 pairs, scipy's Wilcoxon runs an exact
# permutation test over up to 8192 sign flips (~0.8 s a call); random
# examples skip those sizes to keep the suite fast, and
# test_wilcoxon_permutation_path_agrees_with_scipy covers them.
pair_count = st.one_of(st.integers(0, 10), st.integers(14, 40))
grid_pairs = pair_count.flatmap(
    lambda n: st.lists(st.tuples(grid_score, grid_score), min_size=n, max_size=n)
)
any_score = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


def split(pairs):
    return [p[0] for p in pairs], [p[1] for p in pairs]


def numbers_in(value):
    """Every number anywhere in a nested structure of dicts, lists, tuples."""
    if isinstance(value, dict):
        for item in value.values():
            yield from numbers_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from numbers_in(item)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value


def assert_all_finite(value):
    for number in numbers_in(value):
        assert math.isfinite(number), value


# -- describe ---------------------------------------------------------------


def test_describe_uses_sample_sd():
    assert describe([2, 4, 4, 4, 5, 5, 7, 9]) == {
        "n": 8,
        "mean": 5.0,
        "sd": pytest.approx(2.138090, abs=5e-7),
    }


def test_describe_small_n():
    assert describe([]) == {"n": 0, "mean": None, "sd": None}
    assert describe([3.5]) == {"n": 1, "mean": 3.5, "sd": None}


def test_describe_constant_values_have_sd_zero():
    assert describe([0.1, 0.1, 0.1])["sd"] == 0.0


@pytest.mark.parametrize("bad", [[1, None], [1, float("nan")], [float("inf")], ["x"]])
def test_describe_refuses_non_scores(bad):
    with pytest.raises(ValueError):
        describe(bad)


# -- edge cases -------------------------------------------------------------


def test_no_pairs():
    result = paired_change([], [])
    assert result["n_pairs"] == 0
    assert list(numbers_in(result)) == [0]


def test_one_pair_has_means_but_nothing_that_needs_spread():
    result = paired_change([2], [4])
    assert result["pre"] == {"mean": 2.0, "sd": None}
    assert result["change"] == {"mean": 2.0, "sd": None, "ci95": None}
    assert result["effect_size"] == {"d_z": None, "d_av": None, "g_av": None}
    assert result["test"] == {"t": None, "df": None, "p": None, "wilcoxon_p": None}


def test_two_pairs_have_no_g_av_because_j_is_zero_at_df_1():
    result = paired_change([1, 2], [2, 4])
    assert result["effect_size"]["d_z"] is not None
    assert result["effect_size"]["g_av"] is None


def test_all_identical_scores():
    result = paired_change([3, 3, 3, 3], [3, 3, 3, 3])
    assert result["pre"]["sd"] == 0.0
    assert result["change"] == {"mean": 0.0, "sd": 0.0, "ci95": None}
    assert result["effect_size"] == {"d_z": None, "d_av": None, "g_av": None}
    assert result["test"] == {"t": None, "df": 3, "p": None, "wilcoxon_p": None}


def test_all_differences_zero_gives_no_t_and_no_wilcoxon():
    result = paired_change([1, 2, 3, 4], [1, 2, 3, 4])
    assert result["test"]["t"] is None
    assert result["test"]["p"] is None
    assert result["test"]["wilcoxon_p"] is None
    assert result["effect_size"]["d_av"] == 0.0


def test_same_change_for_everyone_has_no_t_but_a_wilcoxon():
    result = paired_change([1, 2, 3, 4, 5], [2, 3, 4, 5, 6])
    assert result["change"]["sd"] == 0.0
    assert result["test"]["t"] is None
    assert result["effect_size"]["d_z"] is None
    assert result["test"]["wilcoxon_p"] == pytest.approx(stats.wilcoxon([1] * 5).pvalue)


def test_rounding_noise_is_not_a_change():
    # 0.1 + 0.2 != 0.3 in floating point; the same answers must not count
    # as a tiny improvement in the Wilcoxon test.
    result = paired_change([0.1 + 0.2, 1.0, 2.0], [0.3, 1.0, 2.0])
    assert result["change"]["mean"] == pytest.approx(0.0, abs=1e-15)
    assert result["test"]["wilcoxon_p"] is None


def test_length_mismatch_raises():
    with pytest.raises(ValueError, match="pairs"):
        paired_change([1, 2, 3], [1, 2])


@pytest.mark.parametrize("bad", [None, float("nan"), float("-inf")])
def test_missing_or_nan_raises(bad):
    with pytest.raises(ValueError):
        paired_change([1, 2, bad], [1, 2, 3])
    with pytest.raises(ValueError):
        paired_change([1, 2, 3], [bad, 2, 3])


def test_wilcoxon_permutation_path_agrees_with_scipy():
    pre = [3, 2, 4, 1, 3, 3, 2, 5, 4, 2, 3, 1, 4]
    post = [4, 2, 5, 3, 3, 4, 2, 4, 5, 3, 5, 1, 4]
    expected = stats.wilcoxon(post, pre).pvalue
    assert paired_change(pre, post)["test"]["wilcoxon_p"] == pytest.approx(expected, rel=1e-12)


# -- properties -------------------------------------------------------------


@PROPERTY
@given(grid_pairs)
def test_tests_agree_with_scipy(pairs):
    pre, post = split(pairs)
    result = paired_change(pre, post)
    diffs = np.subtract(post, pre)
    assume(len(pairs) >= 2)
    if np.ptp(diffs) == 0:
        assert result["test"]["t"] is None and result["test"]["p"] is None
    else:
        expected = stats.ttest_rel(post, pre)
        assert result["test"]["t"] == pytest.approx(float(expected.statistic), rel=1e-12)
        assert result["test"]["p"] == pytest.approx(float(expected.pvalue), rel=1e-9, abs=1e-300)
        assert result["test"]["df"] == len(pairs) - 1
    if not diffs.any():
        assert result["test"]["wilcoxon_p"] is None
    else:
        expected_w = stats.wilcoxon(post, pre).pvalue
        assert result["test"]["wilcoxon_p"] == pytest.approx(float(expected_w), rel=1e-12)


@PROPERTY
@given(grid_pairs)
def test_confidence_interval_agrees_with_scipy(pairs):
    pre, post = split(pairs)
    diffs = np.subtract(post, pre)
    assume(len(pairs) >= 2 and np.ptp(diffs) > 0)
    expected = stats.t.interval(
        0.95, len(diffs) - 1, loc=diffs.mean(), scale=stats.sem(diffs)
    )
    assert paired_change(pre, post)["change"]["ci95"] == pytest.approx(list(expected), rel=1e-9)


@PROPERTY
@given(grid_pairs)
def test_effect_sizes_follow_lakens_formulas(pairs):
    pre, post = split(pairs)
    diffs = np.subtract(post, pre)
    assume(len(pairs) >= 3 and np.ptp(diffs) > 0 and np.ptp(pre) + np.ptp(post) > 0)
    result = paired_change(pre, post)["effect_size"]
    sd_av = (np.std(pre, ddof=1) + np.std(post, ddof=1)) / 2
    d_av = diffs.mean() / sd_av
    assert result["d_z"] == pytest.approx(diffs.mean() / np.std(diffs, ddof=1), rel=1e-9)
    assert result["d_av"] == pytest.approx(d_av, rel=1e-9)
    assert result["g_av"] == pytest.approx(d_av * (1 - 3 / (4 * (len(pairs) - 1) - 1)), rel=1e-9)


def same(actual, expected):
    """Equal up to rounding, with None only ever equal to None."""
    if actual is None or expected is None:
        return actual is expected
    return actual == pytest.approx(expected, rel=1e-9, abs=1e-9)


def negated(value):
    return None if value is None else -value


@PROPERTY
@given(grid_pairs)
def test_swapping_pre_and_post_flips_the_sign(pairs):
    pre, post = split(pairs)
    forward, backward = paired_change(pre, post), paired_change(post, pre)
    assert backward["change"]["mean"] == negated(forward["change"]["mean"])
    for key in ("d_z", "d_av", "g_av"):
        assert same(backward["effect_size"][key], negated(forward["effect_size"][key])), key
    assert same(backward["test"]["t"], negated(forward["test"]["t"]))
    assert same(backward["test"]["p"], forward["test"]["p"])
    assert same(backward["test"]["wilcoxon_p"], forward["test"]["wilcoxon_p"])
    if forward["change"]["ci95"] is None:
        assert backward["change"]["ci95"] is None
    else:
        lo, hi = forward["change"]["ci95"]
        assert backward["change"]["ci95"] == pytest.approx([-hi, -lo])


@PROPERTY
@given(grid_pairs, st.floats(-100, 100, allow_nan=False))
def test_adding_a_constant_changes_no_effect_size(pairs, shift):
    pre, post = split(pairs)
    before = paired_change(pre, post)["effect_size"]
    after = paired_change([x + shift for x in pre], [x + shift for x in post])["effect_size"]
    for key in before:
        assert same(after[key], before[key]), key


@PROPERTY
@given(grid_pairs, st.floats(0.01, 100, allow_nan=False))
def test_scaling_leaves_effect_sizes_unchanged(pairs, factor):
    pre, post = split(pairs)
    before = paired_change(pre, post)["effect_size"]
    after = paired_change([x * factor for x in pre], [x * factor for x in post])["effect_size"]
    for key in before:
        assert same(after[key], before[key]), key


constant_lists = st.integers(0, 12).flatmap(
    lambda n: st.tuples(
        st.lists(any_score, min_size=n, max_size=n),
        st.lists(any_score, min_size=n, max_size=n),
    )
)
constant_pairs = st.tuples(st.integers(0, 12), any_score, any_score).map(
    lambda t: ([t[1]] * t[0], [t[2]] * t[0])
)


@PROPERTY
@given(st.one_of(constant_lists, constant_pairs, grid_pairs.map(split)))
def test_never_nan_or_infinity(lists):
    pre, post = lists
    result = paired_change(pre, post)
    assert_all_finite(result)
    assert_all_finite(describe(pre))
