"""A worker's decisions on code pairs: a confirmed pair is made and no longer fuzzy, an undone pair never made."""

from hypothesis import given, settings
from hypothesis import strategies as st

from surveyhub.stats import match_codes

PROPERTY = settings(deadline=None, database=None)  # examples: the Hypothesis profile (tests/conftest.py)


def code(text):
    return tuple(text)


def test_an_undone_fuzzy_pair_is_not_made():
    pre, post = {"p1": code("abcdef")}, {"q1": code("abcdxf")}
    assert match_codes(pre, post)["pairs"] == [("p1", "q1", True)]
    result = match_codes(pre, post, undone=[("p1", "q1")])
    assert result["pairs"] == [] and result["n_fuzzy"] == 0
    assert result["unmatched_pre"] == ["p1"] and result["unmatched_post"] == ["q1"]


def test_a_confirmed_fuzzy_pair_is_made_and_not_fuzzy():
    result = match_codes({"p1": code("abcdef")}, {"q1": code("abcdxf")}, confirmed=[("p1", "q1")])
    assert result["pairs"] == [("p1", "q1", False)]
    assert result["confirmed"] == [("p1", "q1")]
    assert result["n_fuzzy"] == 0


def test_a_confirmed_pair_holds_when_a_newcomer_would_make_it_ambiguous():
    # q1 is one slip from p1 and from the later p2: without the decision nobody pairs.
    pre, post = {"p1": code("abcdef"), "p2": code("abcdyf")}, {"q1": code("abcdxf")}
    assert match_codes(pre, post)["pairs"] == []
    result = match_codes(pre, post, confirmed=[("p1", "q1")])
    assert result["pairs"] == [("p1", "q1", False)] and result["unmatched_pre"] == ["p2"]


def test_a_confirmed_response_makes_no_code_ambiguous():
    # p1 was confirmed with q9; its code no longer blocks p2 pairing exactly with q2.
    pre = {"p1": code("abcdef"), "p2": code("abcdef")}
    post = {"q2": code("abcdef"), "q9": code("zbcdef")}
    assert match_codes(pre, post)["pairs"] == []
    result = match_codes(pre, post, confirmed=[("p1", "q9")])
    assert result["pairs"] == [("p1", "q9", False), ("p2", "q2", False)]
    assert result["ambiguous"] == []


def test_undoing_one_pair_frees_its_post_for_its_other_neighbour():
    # q1 had two candidates (p1, p2); with q1–p1 undone, p2 is its only one and p2's only one is q1.
    pre, post = {"p1": code("abcdex"), "p2": code("abcdey")}, {"q1": code("abcdez")}
    assert match_codes(pre, post)["pairs"] == []
    assert match_codes(pre, post, undone=[("p1", "q1")])["pairs"] == [("p2", "q1", True)]


def test_an_undone_exact_pair_is_not_made_either():
    result = match_codes({"p1": code("abcdef")}, {"q1": code("abcdef")}, undone=[("p1", "q1")])
    assert result["pairs"] == []


def test_decisions_about_absent_responses_change_nothing():
    pre, post = {"p1": code("abcdef")}, {"q1": code("abcdxf")}
    assert match_codes(pre, post, confirmed=[("p7", "q1")], undone=[("p1", "q7")]) == match_codes(pre, post)


def test_one_response_in_two_confirmed_pairs_is_paired_once():
    pre, post = {"p1": code("abcdef")}, {"q1": code("abcdxf"), "q2": code("abcdyf")}
    result = match_codes(pre, post, confirmed=[("p1", "q2"), ("p1", "q1")])
    assert result["pairs"] == [("p1", "q1", False)] and result["unmatched_post"] == ["q2"]


codes = st.text(alphabet="ab", min_size=6, max_size=6).map(code)
keys = st.text(alphabet="0123", min_size=1, max_size=2)
responses = st.dictionaries(keys, codes, max_size=12)


@st.composite
def with_decisions(draw):
    pre = draw(responses)
    post = {"q" + key: value for key, value in draw(responses).items()}
    pairs = st.tuples(st.sampled_from(sorted(pre) or ["none"]), st.sampled_from(sorted(post) or ["none"]))
    return pre, post, draw(st.lists(pairs, max_size=4)), draw(st.lists(pairs, max_size=4))


@PROPERTY
@given(with_decisions())
def test_decisions_properties(case):
    pre, post, confirmed, undone = case
    undone = [pair for pair in undone if pair not in confirmed]  # the service keeps one decision per pair
    result = match_codes(pre, post, confirmed=confirmed, undone=undone)
    pairs = {(a, b) for a, b, _fuzzy in result["pairs"]}
    # Undone pairs are never made; confirmed pairs are made unless a response was already confirmed elsewhere.
    assert not pairs & set(undone)
    assert set(result["confirmed"]) <= pairs
    for a, b in set(confirmed):
        if a in pre and b in post and (a, b) not in result["confirmed"]:
            assert any(a == x or b == y for x, y in result["confirmed"])
    # A confirmed pair is never counted fuzzy, and n_fuzzy counts exactly the fuzzy pairs left.
    assert all(not fuzzy for a, b, fuzzy in result["pairs"] if (a, b) in result["confirmed"])
    assert result["n_fuzzy"] == sum(fuzzy for _a, _b, fuzzy in result["pairs"])
    # Still one-to-one, and every response paired or unmatched.
    pre_ids = [pair[0] for pair in result["pairs"]]
    post_ids = [pair[1] for pair in result["pairs"]]
    assert len(set(pre_ids)) == len(pre_ids) and len(set(post_ids)) == len(post_ids)
    assert sorted(pre_ids + result["unmatched_pre"]) == sorted(pre)
    assert sorted(post_ids + result["unmatched_post"]) == sorted(post)
    # Pairs the codes make on their own are exact or one part apart.
    for a, b, fuzzy in result["pairs"]:
        if (a, b) not in result["confirmed"]:
            assert sum(x != y for x, y in zip(pre[a], post[b])) == (1 if fuzzy else 0)
    # Without decisions, nothing changes from before.
    if not confirmed and not undone:
        plain = match_codes(pre, post)
        assert result == plain
