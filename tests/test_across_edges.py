"""The engine across projects at its edges: nobody changed, exactly at the thresholds, a scale where lower
is better, and Welch's difference and the t interval against SciPy for any groups (Hypothesis).

Data go in through the response services, as in ``tests/test_across.py``.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from sqlalchemy import select

from surveyhub import hookimpl
from surveyhub.models import Project
from surveyhub.stats.subgroups import describe_group, t_interval, welch
from tests.fixtures.outcomes import answer, new_project, with_outcome_instruments
from tests.plugins.outcome_instruments import NORMED
from tests.test_across import IN_YEAR, rated_project, set_completed, spread, summarise, the_scale


class Worry:
    """A scale where lower is better: worries (norms SD 5, r .80, so S_diff 3.16)."""

    @hookimpl
    def surveyhub_register_instruments(self):
        scale = {**NORMED["scales"][0], "id": "worry", "higher_is_better": False}
        return [{**NORMED, "id": "worry", "scales": [scale]}]


@pytest.fixture
def app_config(app_config):
    config = with_outcome_instruments(app_config)
    config["EXTRA_PLUGINS"]["worry"] = Worry()
    return config


def test_when_nobody_changed_the_pooled_scale_has_no_test_and_the_json_has_no_nan(app, session, make_org):
    org = make_org()
    first = rated_project(app, session, org, "Stil", [5.0] * 6, [5.0] * 6, prefix="A")
    second = rated_project(app, session, org, "Ook stil", [3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
                           [3.0, 4.0, 5.0, 6.0, 7.0, 8.0], prefix="B")
    summary = summarise(app, session, [first, second])
    entry = the_scale(summary)
    assert entry["n_pairs"] == 12 and entry["change"]["mean"] == 0.0 and entry["change"]["sd"] == 0.0
    assert entry["change"]["ci95"] is None and entry["test"]["p"] is None and entry["test"]["p_holm"] is None
    assert entry["effect_size"]["d_z"] is None
    json.dumps(summary, allow_nan=False)  # raises on NaN or infinity anywhere


@pytest.mark.parametrize("pairs, pooled, means, tests", [(4, False, False, False), (5, True, True, False),
                                                         (9, True, True, False), (10, True, True, True)])
def test_exactly_at_the_thresholds(app, session, make_org, pairs, pooled, means, tests):
    """min_means 5 and min_tests 10: a project with exactly that many pairs is shown at that level."""
    org = make_org()
    project = rated_project(app, session, org, "Precies", spread(pairs, pairs), spread(pairs, pairs + 1, 3, 10))
    entry = the_scale(summarise(app, session, [project]))
    [row] = [row for row in entry["forest"] if row["kind"] == "project"]
    assert row["pooled"] is pooled and entry["projects"] == int(pooled)
    assert (row["mean"] is not None) is means and (entry["change"]["mean"] is not None) is means
    assert (row["ci95"] is not None) is tests and (entry["test"]["t"] is not None) is tests


def test_where_lower_is_better_a_reliable_drop_counts_as_improved_in_the_overall_counts(app, session, make_org):
    org = make_org()
    pre = [20.0] * 12
    post = [12.0] * 7 + [19.0] * 5  # seven dropped by 8 (> 1.96 × 3.16), five by 1
    slugs = []
    for name, part, prefix in (("Zorgen", range(6), "A"), ("Meer zorgen", range(6, 12), "B")):
        slug = new_project(app, session, org, ["worry@1"], name=name)
        for i in part:
            answer(app, session, slug, "pre", f"{prefix}{i:03d}", {("worry", "points"): pre[i]}, commit=False)
            answer(app, session, slug, "post", f"{prefix}{i:03d}", {("worry", "points"): post[i]}, commit=False)
        session.commit()
        set_completed(session, slug, IN_YEAR)
        slugs.append(slug)
    projects = list(session.scalars(select(Project).where(Project.slug.in_(slugs))))
    summary = summarise(app, session, projects)
    [entry] = [one for one in summary["scales"] if one["instrument"] == "worry"]
    assert entry["higher_is_better"] is False and entry["change"]["mean"] == pytest.approx(np.mean(post) - 20.0)
    assert (entry["rci"]["improved"], entry["rci"]["unchanged"], entry["rci"]["deteriorated"]) == (7, 5, 0)
    assert summary["reliable_change"]["improved"] == 7 and summary["reliable_change"]["deteriorated"] == 0


values = st.lists(st.integers(1, 5), min_size=2, max_size=25)


@settings(max_examples=80, deadline=None)
@given(values, values, values, values)
def test_welch_and_the_t_interval_are_scipys_for_any_groups(pre_a, post_a, pre_b, post_b):
    n_a, n_b = min(len(pre_a), len(post_a)), min(len(pre_b), len(post_b))
    pre_a, post_a, pre_b, post_b = (np.asarray(v[:n], float) for v, n in
                                    ((pre_a, n_a), (post_a, n_a), (pre_b, n_b), (post_b, n_b)))
    a, b = describe_group(pre_a, post_a), describe_group(pre_b, post_b)
    change_a, change_b = post_a - pre_a, post_b - pre_b
    found = welch(a, b)
    assert found["mean"] == pytest.approx(change_a.mean() - change_b.mean(), abs=1e-12)
    interval = t_interval(a["change"]["mean"], a["change"]["sd"], n_a)
    if change_a.std(ddof=1) == 0:
        assert interval is None
    else:
        low, high = scipy_stats.t.interval(0.95, n_a - 1, loc=change_a.mean(), scale=scipy_stats.sem(change_a))
        assert interval == pytest.approx([low, high])
    both_flat = change_a.std(ddof=1) == 0 and change_b.std(ddof=1) == 0
    if both_flat:
        assert found["p"] is None and found["ci95"] is None
        return
    with warnings.catch_warnings():  # SciPy warns where one group does not vary; its answer is still right
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = scipy_stats.ttest_ind(change_a, change_b, equal_var=False)
        ci = expected.confidence_interval(0.95)
    assume(math.isfinite(expected.pvalue))
    assert found["p"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-12)
    assert found["ci95"] == pytest.approx([ci.low, ci.high], rel=1e-9, abs=1e-12)
    assert found["df"] == pytest.approx(expected.df)
