"""Scale scores: built-in methods, min_answered, and reverse coding."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveyhub.measures.definition import normalise, reverse_code
from surveyhub.measures.yaml_loader import load_instrument_file
from surveyhub.measures.scoring import (
    BUILTIN_METHODS,
    coded_values,
    level_for,
    score_mean,
    score_sum,
    score_scale,
)

INSTRUMENTS = Path(__file__).resolve().parents[2] / "instruments"
# No example database: tests must not leave a .hypothesis folder in the repository.
quick = settings(database=None, deadline=None)


def scale_of(n_items: int, min_answered: int = 1) -> dict:
    return {"items": [{"id": f"q{i}"} for i in range(n_items)],
            "scoring": {"method": "mean", "min_answered": min_answered}}


def organising() -> tuple[dict, dict]:
    data = normalise(load_instrument_file(INSTRUMENTS / "organising.yaml"))
    return data["scales"][0], data["answer_sets"]


def test_builtin_methods():
    assert BUILTIN_METHODS == {"mean": score_mean, "sum": score_sum}


def test_mean_over_answered_items():
    assert score_mean({"q0": 1, "q1": 2, "q2": None, "q3": 4}, scale_of(4, 3)) == pytest.approx(7 / 3)


def test_below_min_answered_is_none_not_a_guess():
    values = {"q0": 5, "q1": None, "q2": None, "q3": float("nan")}
    assert score_mean(values, scale_of(4, 2)) is None
    assert score_sum(values, scale_of(4, 2)) is None
    assert score_mean({"q0": None}, scale_of(1)) is None


def test_sum_equals_plain_sum_when_all_answered():
    assert score_sum({"q0": 1, "q1": 2, "q2": 5}, scale_of(3)) == 8


def test_sum_is_prorated_when_items_are_skipped():
    # Skipping an item must not lower a score: 3 answered with mean 4 over 4 items -> 16.
    assert score_sum({"q0": 3, "q1": 4, "q2": 5, "q3": None}, scale_of(4, 3)) == 16


def test_coded_values_reverse_the_marked_item_only():
    scale, sets = organising()
    answers = {item["id"]: 2 for item in scale["items"]} | {"unrelated": 1}
    coded = coded_values(scale, answers, sets)
    assert set(coded) == {item["id"] for item in scale["items"]}
    assert coded["org_5"] == 4  # the reverse-worded item: 2 on 1..5 mirrors to 4
    assert [v for k, v in coded.items() if k != "org_5"] == [2.0] * 6


def test_unanswered_stays_none_through_coding():
    scale, sets = organising()
    assert coded_values(scale, {"org_5": None, "org_1": float("nan")}, sets)["org_5"] is None
    assert coded_values(scale, {"org_1": float("nan")}, sets)["org_1"] is None


def test_score_scale_and_level_for_a_shipped_instrument():
    scale, sets = organising()
    answers = {item["id"]: 4 for item in scale["items"]} | {"org_5": 2}  # consistent answers
    score = score_scale(scale, answers, sets)
    assert score == 4.0
    assert level_for(score, scale)["label"]["en"] == "Strong"
    assert level_for(2.75, scale)["label"]["nl"] == "Goed bezig"
    assert level_for(None, scale) is None
    assert score_scale(scale, {"org_1": 4}, sets) is None  # 1 answered, 5 needed


def test_reverse_coding_for_yes_no_and_number_items():
    scale = {"items": [{"id": "a", "type": "yes_no", "reverse": True},
                       {"id": "b", "type": "number", "min": 0, "max": 10, "reverse": True}],
             "scoring": {"method": "mean", "min_answered": 1}}
    assert coded_values(scale, {"a": 1, "b": 3}, {}) == {"a": 0, "b": 7}


@quick
@given(lo=st.integers(-100, 100), width=st.integers(1, 100), data=st.data())
def test_reversing_twice_is_identity_and_stays_in_range(lo, width, data):
    hi = lo + width
    value = data.draw(st.integers(lo, hi))
    mirrored = reverse_code(value, lo, hi)
    assert lo <= mirrored <= hi
    assert reverse_code(mirrored, lo, hi) == value
    assert mirrored - lo == hi - value  # the distance to one end becomes the distance to the other


@quick
@given(lo=st.floats(-1e6, 1e6), width=st.floats(1e-3, 1e6), frac=st.floats(0, 1))
def test_reversing_twice_is_identity_for_decimals(lo, width, frac):
    hi, value = lo + width, lo + frac * width
    assert math.isclose(reverse_code(reverse_code(value, lo, hi), lo, hi), value, rel_tol=1e-9, abs_tol=1e-6)


@quick
@given(answers=st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=7, max_size=7))
def test_reverse_item_score_is_lo_plus_hi_minus_value(answers):
    scale, sets = organising()
    raw = {item["id"]: value for item, value in zip(scale["items"], answers)}
    coded = coded_values(scale, raw, sets)
    for item in scale["items"]:
        value = raw[item["id"]]
        expected = None if value is None else (1 + 5 - value if item["reverse"] else value)
        assert coded[item["id"]] == expected
    answered = [v for v in coded.values() if v is not None]
    score = score_mean(coded, scale)
    if len(answered) < scale["scoring"]["min_answered"]:
        assert score is None
    else:
        assert 1 <= score <= 5 and score == pytest.approx(sum(answered) / len(answered))
