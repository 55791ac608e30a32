"""The per-scale report block: contents and small-number suppression."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveyhub.stats import build_scale_block, suppress_count, suppress_counts

PROPERTY = settings(deadline=None, database=None)  # examples: the Hypothesis profile (tests/conftest.py)

LAKENS_PRE = [9, 6, 7, 8, 7, 9, 8, 8, 8, 7]
LAKENS_POST = [9, 7, 8, 9, 8, 9, 9, 10, 9, 9]


def numbers_at(value, path=()):
    """(path, number) for every number anywhere in a nested structure."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from numbers_at(item, (*path, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from numbers_at(item, (*path, index))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path, value


# -- suppress_count -----------------------------------------------------------


@pytest.mark.parametrize(
    "n, min_cell, shown",
    [(None, 5, None), (0, 5, 0), (1, 5, "<5"), (4, 5, "<5"), (5, 5, 5), (2, 3, "<3"), (3, 3, 3)],
)
def test_suppress_count(n, min_cell, shown):
    assert suppress_count(n, min_cell) == shown


def test_negative_count_raises():
    with pytest.raises(ValueError):
        suppress_count(-1)


def test_a_lone_hidden_count_gets_a_hidden_partner():
    # 7 + ? + 0 = 10 would give the hidden 3 away.
    counts = {"improved": 7, "unchanged": 3, "deteriorated": 0}
    assert suppress_counts(counts) == {"improved": 7, "unchanged": "<5", "deteriorated": "<5"}
    assert suppress_counts(counts, complementary=False)["deteriorated"] == 0


def test_a_partner_above_the_threshold_is_shown_truthfully():
    counts = {"improved": 6, "unchanged": 4, "deteriorated": 5}
    assert suppress_counts(counts) == {"improved": 6, "unchanged": "<5", "deteriorated": "≥5"}


def test_two_hidden_counts_need_no_partner():
    counts = {"improved": 10, "unchanged": 2, "deteriorated": 3}
    assert suppress_counts(counts) == {"improved": 10, "unchanged": "<5", "deteriorated": "<5"}


# -- build_scale_block -------------------------------------------------------


def test_full_block_for_enough_pairs():
    block = build_scale_block(LAKENS_PRE, LAKENS_POST, norms={"sd": 0.5, "reliability": 0.8})
    assert set(block) == {
        "n_pairs", "pre", "post", "change", "effect_size", "test", "rci", "baseline_ceiling", "suppressed",
    }
    assert block["test"]["t"] == pytest.approx(4.743416, abs=5e-7)
    assert block["rci"]["s_diff"] == pytest.approx(0.5 * math.sqrt(2) * math.sqrt(0.2))
    # Changes 0,1,1,1,1,0,1,2,1,2 against 1.96 × 0.316 = 0.62: eight improved.
    assert block["rci"]["improved"] == 8
    assert block["rci"]["unchanged"] == "<5" and block["rci"]["deteriorated"] == "<5"
    assert (block["rci"]["sd_source"], block["rci"]["r_source"]) == ("norms", "norms")
    assert block["suppressed"] == ["counts"]


def test_lower_is_better_scale():
    block = build_scale_block(
        LAKENS_PRE, LAKENS_POST, norms={"sd": 0.5, "reliability": 0.8}, higher_is_better=False
    )
    assert block["rci"]["deteriorated"] == 8


def test_between_thresholds_means_but_no_tests():
    block = build_scale_block(LAKENS_PRE[:6], LAKENS_POST[:6])
    assert block["change"]["mean"] is not None
    # Mean, SD (or CI) and n give t, and so p, back: with tests hidden the spread of the change is hidden too.
    assert block["change"]["sd"] is None and block["change"]["ci95"] is None
    assert block["pre"]["sd"] is not None and block["post"]["sd"] is not None
    assert set(block["test"].values()) == {None}
    assert set(block["effect_size"].values()) == {None}
    assert block["suppressed"] == ["tests"]


def test_share_improved_with_its_wilson_interval_only_beside_a_plain_count():
    from scipy import stats

    block = build_scale_block(LAKENS_PRE, LAKENS_POST, norms={"sd": 0.5, "reliability": 0.8})
    assert block["rci"]["improved"] == 8 and block["rci"]["improved_share"] == 0.8
    wilson = stats.binomtest(8, 10).proportion_ci(method="wilson")
    assert block["rci"]["improved_ci95"] == [pytest.approx(wilson.low, abs=1e-12),
                                             pytest.approx(wilson.high, abs=1e-12)]
    lower = build_scale_block(LAKENS_PRE, LAKENS_POST, norms={"sd": 0.5, "reliability": 0.8},
                              higher_is_better=False)
    assert lower["rci"]["improved"] == "<5"  # 0 improved, but protecting the 2 "unchanged"
    assert lower["rci"]["improved_share"] is None and lower["rci"]["improved_ci95"] is None
    few = build_scale_block(LAKENS_PRE, LAKENS_POST, norms={"sd": 0.5, "reliability": 0.8}, min_cell=9)
    assert few["rci"]["improved"] == "<9" and few["rci"]["improved_share"] is None


def test_d_z_interval_beside_d_z():
    block = build_scale_block(LAKENS_PRE, LAKENS_POST)
    low, high = block["effect_size"]["d_z_ci95"]
    assert low < block["effect_size"]["d_z"] < high
    assert build_scale_block(LAKENS_PRE[:6], LAKENS_POST[:6])["effect_size"]["d_z_ci95"] is None
    same = build_scale_block([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    assert same["test"]["t"] is None and same["effect_size"]["d_z_ci95"] is None


def test_residents_at_the_ceiling_at_the_start():
    pre, post = [5, 5, 5, 5, 5, 4, 3, 4, 5, 2], [5, 4, 5, 5, 5, 5, 4, 4, 5, 3]  # a 1–5 scale: six start at 5
    block = build_scale_block(pre, post, ceiling=5)
    assert block["baseline_ceiling"] == {"count": 6, "share": 0.6}
    block = build_scale_block(LAKENS_PRE, LAKENS_POST, ceiling=9)
    assert block["baseline_ceiling"] == {"count": "<5", "share": None}
    assert "counts" in block["suppressed"]
    assert build_scale_block(LAKENS_PRE, LAKENS_POST, ceiling=10)["baseline_ceiling"] == {"count": 0, "share": 0.0}
    assert build_scale_block(LAKENS_PRE, LAKENS_POST)["baseline_ceiling"] == {"count": None, "share": None}
    hidden = build_scale_block(LAKENS_PRE[:4], LAKENS_POST[:4], ceiling=8)
    assert hidden["baseline_ceiling"] == {"count": None, "share": None}


def test_below_min_means_only_the_count_of_pairs_remains():
    block = build_scale_block(
        LAKENS_PRE[:4], LAKENS_POST[:4], norms={"sd": 0.5, "reliability": 0.8}
    )
    assert list(numbers_at(block)) == [(("n_pairs",), 4)]
    assert block["suppressed"] == ["means", "tests"]


def test_thresholds_are_configurable():
    block = build_scale_block(LAKENS_PRE[:4], LAKENS_POST[:4], min_means=3, min_tests=4)
    assert block["suppressed"] == []
    assert block["test"]["t"] is not None


def test_rci_from_data_uses_the_whole_pre_wave_when_given():
    paired = build_scale_block(LAKENS_PRE, LAKENS_POST, pre_alpha=0.8)
    whole = build_scale_block(LAKENS_PRE, LAKENS_POST, pre_alpha=0.8, pre_wave=LAKENS_PRE + [1, 10])
    assert paired["rci"]["sd_source"] == "data" and paired["rci"]["r_source"] == "data"
    assert whole["rci"]["s_diff"] > paired["rci"]["s_diff"]


def test_no_rci_without_reliability():
    block = build_scale_block(LAKENS_PRE, LAKENS_POST)
    assert block["rci"]["s_diff"] is None and block["rci"]["improved"] is None


@pytest.mark.parametrize("bad", [{"min_means": -1}, {"min_tests": 2.5}, {"min_cell": None}])
def test_bad_thresholds_raise(bad):
    with pytest.raises(ValueError):
        build_scale_block(LAKENS_PRE, LAKENS_POST, **bad)


def test_length_mismatch_raises():
    with pytest.raises(ValueError):
        build_scale_block([1, 2, 3], [1, 2])


score = st.integers(0, 20).map(lambda i: i / 4)
blocks = st.integers(0, 16).flatmap(
    lambda n: st.tuples(
        st.lists(score, min_size=n, max_size=n),
        st.lists(score, min_size=n, max_size=n),
        st.integers(0, 12),
        st.integers(0, 16),
        st.one_of(st.none(), st.floats(-0.5, 0.99)),
    )
)

TEST_PARTS = ("test", "effect_size")


@PROPERTY
@given(blocks)
def test_suppression_never_leaks(case):
    pre, post, min_means, min_tests, alpha = case
    block = build_scale_block(
        pre, post, min_means=min_means, min_tests=min_tests, pre_alpha=alpha, ceiling=4.0
    )
    n = len(pre)
    numbers = list(numbers_at(block))
    for _, number in numbers:
        assert math.isfinite(number)
    if n < min_means:
        assert numbers == [(("n_pairs",), n)]
    if n < min_tests:
        assert not [path for path, _ in numbers if path[0] in TEST_PARTS]
        assert block["change"]["sd"] is None and block["change"]["ci95"] is None
    for shown in (*(block["rci"][c] for c in ("improved", "unchanged", "deteriorated")),
                  block["baseline_ceiling"]["count"]):
        assert shown is None or shown == 0 or shown == "<5" or shown == "≥5" or shown >= 5
    # A share is shown only beside the plain count it is made of.
    for count, share in ((block["rci"]["improved"], block["rci"]["improved_share"]),
                         (block["baseline_ceiling"]["count"], block["baseline_ceiling"]["share"])):
        assert share is None or (isinstance(count, int) and share == count / n)
