"""Pairing pre and post responses by participant or by self-generated code."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveyhub.stats import match_codes, normalise_code, pair_by_participant

PROPERTY = settings(deadline=None, database=None)  # examples: the Hypothesis profile (tests/conftest.py)


def code(text):
    """'abcdef' → ('a', 'b', 'c', 'd', 'e', 'f'): six one-letter parts."""
    return tuple(text)


def test_normalise_code_trims_folds_and_collapses_whitespace():
    assert normalise_code(["  De   Vries ", "STRASSE", "1\t2", None, "", "x"]) == (
        "de vries", "strasse", "1 2", "", "", "x",
    )


def test_normalise_code_unifies_unicode_forms():
    composed, decomposed = "\u00e9", "e\u0301"
    assert normalise_code([composed]) == normalise_code([decomposed.upper()])


def test_exact_matches():
    result = match_codes(
        {"p2": code("bbbbbb"), "p1": code("aaaaaa"), "p3": code("cccccc")},
        {"q1": code("aaaaaa"), "q2": code("bbbbbb"), "q9": code("zzzzzz")},
    )
    assert result["pairs"] == [("p1", "q1", False), ("p2", "q2", False)]
    assert result["unmatched_pre"] == ["p3"]
    assert result["unmatched_post"] == ["q9"]
    assert result["n_fuzzy"] == 0
    assert result["ambiguous"] == []


def test_one_slip_is_matched_and_counted_as_fuzzy():
    result = match_codes({"p1": code("abcdef")}, {"q1": code("abcdxf")})
    assert result["pairs"] == [("p1", "q1", True)]
    assert result["n_fuzzy"] == 1


def test_two_slips_are_not_matched():
    result = match_codes({"p1": code("abcdef")}, {"q1": code("abcxyf")})
    assert result["pairs"] == []


def test_duplicate_code_is_ambiguous_and_never_paired():
    result = match_codes(
        {"p1": code("abcdef"), "p2": code("abcdef")},
        {"q1": code("abcdef"), "q2": code("abcdez")},
    )
    assert result["pairs"] == []
    assert result["ambiguous"] == [code("abcdef")]
    assert result["unmatched_pre"] == ["p1", "p2"]
    assert result["unmatched_post"] == ["q1", "q2"]


def test_code_duplicated_on_the_other_side_is_ambiguous_too():
    result = match_codes(
        {"p1": code("abcdef")},
        {"q1": code("abcdef"), "q2": code("abcdef")},
    )
    assert result["pairs"] == []
    assert result["ambiguous"] == [code("abcdef")]


def test_ambiguous_code_on_one_side_blocks_a_fuzzy_match_elsewhere():
    # A post code held twice cannot be paired; it must also not be skipped
    # over so that its one-off neighbour looks like a unique match.
    result = match_codes(
        {"p1": code("abcdef"), "p2": code("abcdef"), "p3": code("abcdxf")},
        {"q1": code("abcdez")},
    )
    assert result["pairs"] == []


def test_ambiguous_code_is_never_paired_fuzzily():
    for pre, post in (
        ({"p1": code("abcdex")}, {"q1": code("abcdef"), "q2": code("abcdef")}),
        ({"p1": code("abcdef"), "p2": code("abcdef")}, {"q1": code("abcdex")}),
    ):
        result = match_codes(pre, post)
        assert result["pairs"] == [], (pre, post)
        assert result["ambiguous"] == [code("abcdef")]


def test_fuzzy_needs_a_unique_candidate_on_the_pre_side():
    result = match_codes(
        {"p1": code("abcdex"), "p2": code("abcdey")},
        {"q1": code("abcdez")},
    )
    assert result["pairs"] == []


def test_fuzzy_needs_a_unique_candidate_on_the_post_side():
    result = match_codes(
        {"p1": code("abcdef")},
        {"q1": code("abcdex"), "q2": code("abcdey")},
    )
    assert result["pairs"] == []


def test_fuzzy_ignores_codes_already_matched_exactly():
    # q1 is one slip from both p1 and p2, but p1 already has its post (q2).
    result = match_codes(
        {"p1": code("abcdef"), "p2": code("abcdxf")},
        {"q1": code("abcdyf"), "q2": code("abcdef")},
    )
    assert result["pairs"] == [("p1", "q2", False), ("p2", "q1", True)]


def test_blank_codes_identify_nobody():
    blank = ("",) * 6
    result = match_codes({"p1": blank}, {"q1": blank})
    assert result["pairs"] == []
    assert result["unmatched_pre"] == ["p1"] and result["unmatched_post"] == ["q1"]


def test_codes_of_different_length_raise():
    with pytest.raises(ValueError):
        match_codes({"p1": code("abcdef")}, {"q1": code("abcde")})


codes = st.text(alphabet="ab", min_size=6, max_size=6).map(code)
response_ids = st.text(alphabet="0123456789", min_size=1, max_size=3)
responses = st.dictionaries(response_ids, codes, max_size=15)


def differing_parts(a, b):
    return sum(x != y for x, y in zip(a, b))


@PROPERTY
@given(responses, responses.map(lambda d: {"q" + k: v for k, v in d.items()}))
def test_matching_properties(pre, post):
    result = match_codes(pre, post)
    pre_ids = [pair[0] for pair in result["pairs"]]
    post_ids = [pair[1] for pair in result["pairs"]]
    # One-to-one, and every response is either paired or unmatched.
    assert len(set(pre_ids)) == len(pre_ids) and len(set(post_ids)) == len(post_ids)
    assert sorted(pre_ids + result["unmatched_pre"]) == sorted(pre)
    assert sorted(post_ids + result["unmatched_post"]) == sorted(post)
    ambiguous = set(result["ambiguous"])
    for pre_id, post_id, fuzzy in result["pairs"]:
        assert pre[pre_id] not in ambiguous and post[post_id] not in ambiguous
        assert differing_parts(pre[pre_id], post[post_id]) == (1 if fuzzy else 0)
    assert result["n_fuzzy"] == sum(pair[2] for pair in result["pairs"])
    assert result["pairs"] == sorted(result["pairs"])
    # Same answer whatever order the responses arrive in.
    assert match_codes(dict(reversed(pre.items())), dict(reversed(post.items()))) == result


def test_pair_by_participant_keeps_complete_pairs_in_key_order():
    pre = {"b": 2.0, "a": 1.0, "c": None, "d": 4.0}
    post = {"a": 1.5, "b": 2.5, "c": 3.0, "e": 5.0}
    assert pair_by_participant(pre, post) == [("a", 1.0, 1.5), ("b", 2.0, 2.5)]


def test_pair_by_participant_refuses_nan():
    with pytest.raises(ValueError):
        pair_by_participant({"a": float("nan")}, {"a": 1.0})
