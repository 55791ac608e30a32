"""Reliable change: S_diff, classification and where SD and r come from."""

import math

import pytest

from surveyhub.stats import rci_parameters, rci_s_diff, reliable_change


@pytest.mark.parametrize(
    "sd, r",
    [
        (None, 0.8),
        (0, 0.8),
        (-1, 0.8),
        (float("nan"), 0.8),
        (5, None),
        (5, 1.0),  # perfect reliability: no measurement error to compare with
        (5, 1.2),
        (5, -1.5),
        (5, float("nan")),
    ],
)
def test_s_diff_not_computable(sd, r):
    assert rci_s_diff(sd, r) is None


def test_s_diff_accepts_low_and_negative_reliability():
    assert rci_s_diff(5, 0) == pytest.approx(5 * math.sqrt(2))
    assert rci_s_diff(5, -1) == pytest.approx(10.0)


def test_classification_at_and_beyond_the_threshold():
    s_diff = 1.0
    result = reliable_change([1.96, 1.97, -1.96, -1.97, 0.0], s_diff)
    assert result["per_person"] == [
        "unchanged", "improved", "unchanged", "deteriorated", "unchanged",
    ]
    assert (result["improved"], result["unchanged"], result["deteriorated"]) == (1, 3, 1)
    assert result["s_diff"] == 1.0


def test_lower_is_better_turns_a_reliable_rise_into_deterioration():
    result = reliable_change([3.0, -3.0, 0.5], 1.0, higher_is_better=False)
    assert result["per_person"] == ["deteriorated", "improved", "unchanged"]


def test_without_s_diff_nothing_is_judged():
    assert reliable_change([3.0, -3.0], None) == {
        "s_diff": None,
        "improved": None,
        "unchanged": None,
        "deteriorated": None,
        "per_person": [None, None],
    }


@pytest.mark.parametrize("bad", [0, -1.0, float("nan")])
def test_unusable_s_diff_raises(bad):
    with pytest.raises(ValueError):
        reliable_change([1.0], bad)


def test_changes_with_missing_values_raise():
    with pytest.raises(ValueError):
        reliable_change([1.0, None], 1.0)


PRE = [2.0, 3.0, 4.0, 3.0, 2.0]  # SD = sqrt(0.7)


def test_norms_win_over_data():
    result = rci_parameters({"sd": 0.5, "reliability": 0.9}, PRE, 0.6)
    assert result == {
        "sd": 0.5,
        "r": 0.9,
        "sd_source": "norms",
        "r_source": "norms",
        "s_diff": pytest.approx(rci_s_diff(0.5, 0.9)),
    }


def test_each_value_falls_back_to_the_data_on_its_own():
    result = rci_parameters({"sd": 0.5}, PRE, 0.6)
    assert (result["sd_source"], result["r_source"]) == ("norms", "data")
    assert result["r"] == 0.6
    result = rci_parameters({"reliability": 0.9}, PRE, 0.6)
    assert (result["sd_source"], result["r_source"]) == ("data", "norms")
    assert result["sd"] == pytest.approx(math.sqrt(0.7))


def test_data_only():
    result = rci_parameters(None, PRE, 0.6)
    assert (result["sd_source"], result["r_source"]) == ("data", "data")
    assert result["s_diff"] == pytest.approx(math.sqrt(0.7) * math.sqrt(2) * math.sqrt(0.4))


def test_no_rci_without_norms_or_alpha():
    result = rci_parameters({}, PRE, None)
    assert result["r"] is None and result["r_source"] is None
    assert result["s_diff"] is None


def test_no_rci_without_any_spread():
    result = rci_parameters(None, [3.0], 0.8)
    assert result["sd"] is None and result["sd_source"] is None
    assert result["s_diff"] is None


def test_broken_norms_raise():
    with pytest.raises(ValueError, match="reliability"):
        rci_parameters({"reliability": "high"}, PRE, None)
