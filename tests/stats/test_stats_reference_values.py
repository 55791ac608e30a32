"""The public reference values of DESIGN.md, to the digits shown there."""

import pytest

from surveyhub.stats import (
    cronbach_alpha,
    paired_change,
    rci_s_diff,
    reliable_change,
    reliable_change_index,
)

# Lakens (2013), movie ratings read as a paired pre/post set.
LAKENS_PRE = [9, 6, 7, 8, 7, 9, 8, 8, 8, 7]
LAKENS_POST = [9, 7, 8, 9, 8, 9, 9, 10, 9, 9]

# Item columns; respondent i answered Q1[i], Q2[i], Q3[i].
Q1 = [1, 2, 2, 3, 2, 2, 3, 3, 2, 3]
Q2 = [1, 1, 1, 2, 3, 3, 2, 3, 3, 3]
Q3 = [1, 1, 2, 1, 2, 3, 3, 3, 2, 3]


@pytest.fixture
def lakens():
    return paired_change(LAKENS_PRE, LAKENS_POST)


def test_lakens_mean_change(lakens):
    assert lakens["n_pairs"] == 10
    assert lakens["change"]["mean"] == pytest.approx(1.0, abs=0.05)


def test_lakens_paired_t(lakens):
    assert lakens["test"]["t"] == pytest.approx(4.743416, abs=5e-7)
    assert lakens["test"]["df"] == 9
    assert lakens["test"]["p"] == pytest.approx(0.0010539, abs=5e-8)


def test_lakens_effect_sizes(lakens):
    assert lakens["effect_size"]["d_z"] == pytest.approx(1.5, abs=0.05)
    assert lakens["effect_size"]["d_av"] == pytest.approx(1.128696, abs=5e-7)


def test_lakens_g_av_uses_hedges_correction_with_paired_df(lakens):
    # J = 1 − 3/(4·df − 1) with df = n − 1 = 9, as G_AV_CORRECTION states.
    assert lakens["effect_size"]["g_av"] == pytest.approx(1.128696 * (1 - 3 / 35), abs=1e-6)


def test_lakens_confidence_interval(lakens):
    lo, hi = lakens["change"]["ci95"]
    assert lo == pytest.approx(0.5231, abs=5e-5)
    assert hi == pytest.approx(1.4769, abs=5e-5)


def test_lakens_wilcoxon_exact_with_zero_differences_dropped(lakens):
    assert lakens["test"]["wilcoxon_p"] == pytest.approx(0.0078125, abs=5e-8)


def test_cronbach_alpha_reference():
    result = cronbach_alpha([list(row) for row in zip(Q1, Q2, Q3)])
    assert result["alpha"] == pytest.approx(0.7734375, abs=5e-8)
    assert (result["n"], result["k"]) == (10, 3)


def test_feldt_interval_brackets_alpha_and_matches_pingouin():
    result = cronbach_alpha([list(row) for row in zip(Q1, Q2, Q3)])
    lo, hi = result["ci95"]
    assert lo < result["alpha"] < hi
    # pingouin.cronbach_alpha on the same data reports [0.336, 0.939].
    assert lo == pytest.approx(0.336, abs=5e-4)
    assert hi == pytest.approx(0.939, abs=5e-4)


def test_rci_reference():
    s_diff = rci_s_diff(5, 0.80)
    assert s_diff == pytest.approx(3.16228, abs=5e-6)
    assert reliable_change_index(8, s_diff) == pytest.approx(2.530, abs=5e-4)


def test_rci_reference_change_of_8_is_reliable_improvement():
    result = reliable_change([8], rci_s_diff(5, 0.80))
    assert result["per_person"] == ["improved"]
    assert (result["improved"], result["unchanged"], result["deteriorated"]) == (1, 0, 0)
