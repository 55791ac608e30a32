"""Intervals, Holm's adjustment and the completers/drop-outs check, against scipy and hand arithmetic."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats

from surveyhub.stats import compare_groups, d_z_interval, holm, wilson_interval

PROPERTY = settings(deadline=None, database=None)


# -- Wilson ---------------------------------------------------------------------------------------------

@PROPERTY
@given(st.integers(1, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_equals_scipy_binomtest(case):
    k, n = case
    expected = stats.binomtest(k, n).proportion_ci(method="wilson")
    low, high = wilson_interval(k, n)
    assert (low, high) == (pytest.approx(expected.low, abs=1e-12), pytest.approx(expected.high, abs=1e-12))
    assert 0.0 <= low <= k / n <= high <= 1.0


def test_wilson_by_hand_and_at_the_edges():
    # 8 of 10, z = 1.959964: centre (0.8 + z²/20) / (1 + z²/10), half-width z·√(0.016 + z²/400) / (1 + z²/10).
    z = 1.959963984540054
    centre = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z * math.sqrt(0.8 * 0.2 / 10 + z * z / 400) / (1 + z * z / 10)
    assert wilson_interval(8, 10) == [pytest.approx(centre - half, abs=1e-15), pytest.approx(centre + half, abs=1e-15)]
    assert wilson_interval(0, 7)[0] == 0.0 and wilson_interval(7, 7)[1] == 1.0
    assert wilson_interval(0, 0) is None
    for bad in ((3, 2), (-1, 2), (1.5, 3), (True, 3)):
        with pytest.raises(ValueError):
            wilson_interval(*bad)


# -- d_z from the noncentral t --------------------------------------------------------------------------

def test_d_z_interval_of_the_lakens_ratings():
    # d_z = 1.5 over 10 pairs, t = 1.5·√10; MBESS::ci.sm(sm = 1.5, N = 10) gives [0.5605, 2.4034].
    low, high = d_z_interval(1.5 * math.sqrt(10), 10)
    assert (low, high) == (pytest.approx(0.5605, abs=5e-5), pytest.approx(2.4034, abs=5e-5))


@PROPERTY
@given(st.one_of(st.just(0.0), st.floats(1e-6, 12), st.floats(-12, -1e-6)), st.integers(2, 300))
@example(8.0, 2)  # found by CI: scipy's noncentral t is NaN at δ = −8 (df 1) on the way to the root
def test_d_z_interval_ends_have_the_noncentral_t_tail_probabilities(t, n):
    low, high = d_z_interval(t, n)
    root_n = math.sqrt(n)
    assert stats.nct.cdf(t, n - 1, low * root_n) == pytest.approx(0.975, abs=1e-8)
    assert stats.nct.cdf(t, n - 1, high * root_n) == pytest.approx(0.025, abs=1e-8)
    assert low < t / root_n < high


def test_d_z_interval_is_symmetric_at_zero_and_near_the_normal_approximation_for_many_pairs():
    low, high = d_z_interval(0.0, 20)
    assert low == pytest.approx(-high, abs=1e-10)
    d, n = 0.4, 2000
    low, high = d_z_interval(d * math.sqrt(n), n)
    half = 1.959964 * math.sqrt(1 / n + d * d / (2 * n))
    assert (low, high) == (pytest.approx(d - half, abs=2e-3), pytest.approx(d + half, abs=2e-3))


def test_a_t_of_rounding_noise_is_zero():
    # scipy's noncentral t gives NaN for t ~ 1e-157; such a t is 0 for any purpose.
    assert d_z_interval(5.8e-157, 2) == d_z_interval(0.0, 2) == pytest.approx([-1.3859038, 1.3859038])


@pytest.mark.parametrize("t, n", [(None, 10), (float("nan"), 10), (float("inf"), 10), (2.0, 1), (1e7, 5)])
def test_no_d_z_interval_where_none_can_be_found(t, n):
    assert d_z_interval(t, n) is None


# -- Holm -----------------------------------------------------------------------------------------------

def test_holm_by_hand():
    # m = 4 available p: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → running max 0.06.
    assert holm([0.01, 0.04, 0.03, None, 0.005]) == [0.03, 0.06, 0.06, None, 0.02]
    # Primary outcome (index 1) keeps its p; the other three: 0.005·3, 0.01·2, 0.03·1.
    assert holm([0.01, 0.04, 0.03, None, 0.005], primary=1) == pytest.approx([0.02, 0.04, 0.03, None, 0.015])
    assert holm([0.6, 0.7]) == [1.0, 1.0]  # capped at 1
    assert holm([]) == [] and holm([None], primary=0) == [None]


@PROPERTY
@given(st.lists(st.one_of(st.none(), st.floats(0, 1)), max_size=12))
def test_holm_is_at_least_p_at_most_one_and_keeps_the_order(pvalues):
    adjusted = holm(pvalues)
    shown = [(p, a) for p, a in zip(pvalues, adjusted) if p is not None]
    assert all((a is None) == (p is None) for p, a in zip(pvalues, adjusted))
    assert all(p <= a <= 1.0 for p, a in shown)
    for p1, a1 in shown:
        for p2, a2 in shown:
            if p1 < p2:
                assert a1 <= a2
    m = len(shown)
    assert all(a <= min(1.0, m * p) for p, a in shown)  # never above Bonferroni


@pytest.mark.parametrize("bad", [([1.2], None), ([-0.1], None), ([0.1], 1)])
def test_holm_refuses_what_is_not_a_p_value(bad):
    with pytest.raises(ValueError):
        holm(*bad)


# -- completers and drop-outs ---------------------------------------------------------------------------

group = st.lists(st.integers(0, 20).map(lambda i: i / 4), min_size=0, max_size=25)


@PROPERTY
@given(group, group, st.integers(0, 12), st.integers(0, 14))
def test_compare_groups_against_scipy_and_the_thresholds(completers, dropouts, min_means, min_tests):
    out = compare_groups(completers, dropouts, min_means=min_means, min_tests=min_tests)
    assert (out["completers"]["n"], out["dropouts"]["n"]) == (len(completers), len(dropouts))
    smallest = min(len(completers), len(dropouts))
    if smallest < max(min_means, 1):
        assert out["difference"] is None and out["p"] is None
        assert all(out[g][k] is None for g in ("completers", "dropouts") for k in ("mean", "sd"))
        return
    assert out["difference"] == pytest.approx(np.mean(dropouts) - np.mean(completers), abs=1e-12)
    if smallest < max(min_tests, 2):
        assert out["p"] is None
    elif len(set(completers)) > 1 and len(set(dropouts)) > 1:
        expected = stats.ttest_ind(dropouts, completers, equal_var=False).pvalue
        assert out["p"] == pytest.approx(expected, abs=1e-12)
    elif len(set(completers)) > 1 or len(set(dropouts)) > 1:
        # One group does not vary: Welch's df is the other group's n − 1 (scipy gets there too, with a warning).
        varied = completers if len(set(completers)) > 1 else dropouts
        t = (np.mean(dropouts) - np.mean(completers)) / math.sqrt(np.var(varied, ddof=1) / len(varied))
        assert out["p"] == pytest.approx(2 * stats.t.sf(abs(t), len(varied) - 1), abs=1e-12)
    else:
        assert out["p"] is None


def test_compare_groups_by_hand():
    out = compare_groups([1, 2, 3, 4, 5], [3, 4, 5, 6, 7], min_means=5, min_tests=5)
    assert out["completers"] == {"n": 5, "mean": 3.0, "sd": pytest.approx(math.sqrt(2.5))}
    assert out["difference"] == 2.0
    # Equal SDs and sizes: Welch's t = 2 / √(2.5/5 + 2.5/5) = 2 with df = 8.
    assert out["p"] == pytest.approx(2 * stats.t.sf(2.0, 8), abs=1e-12)
