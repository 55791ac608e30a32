"""What a methodologist checks in the report JSON, through the real path (import or answers → scores →
pairs → report): Holm across skills and a named primary outcome, the post → follow-up persistence list,
completers against drop-outs, the ceiling at the start, the sensitivity line without fuzzy code pairs,
the Wilcoxon method as documented, and the suppression of every new figure.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from sqlalchemy import select

from surveyhub.models import Project
from surveyhub.plugins import get_registry
from surveyhub.services import access, outcomes
from tests.fixtures.outcomes import (SHOW_ALL, answer, cli_report, codes, csv_file, import_csv, import_values,
                                     new_project, scale, with_outcome_instruments)
from tests.test_outcomes import report_of, show_all


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Methode")


def import_columns(runner, tmp_path, slug, wave, columns: dict[str, list], ids=None):
    """Several item columns in one file, one row per participant (``P001``...)."""
    n = len(next(iter(columns.values())))
    ids = ids or codes(n)
    rows = [[code, *(values[i] for values in columns.values())] for i, code in enumerate(ids)]
    import_csv(runner, slug, wave, csv_file(tmp_path / f"{slug}-{wave}.csv", ["participant", *columns], rows))


# --- threshold sources and match rate (issue 11 bugs) -----------------------------------------------

def test_a_tests_threshold_lifted_by_the_call_says_it_came_from_the_call(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating"])
    import_values(runner, tmp_path, slug, "pre", "rating", [4, 5, 6, 5, 4, 6])
    import_values(runner, tmp_path, slug, "post", "rating", [6, 6, 8, 7, 5, 7])
    # Reproduced first: `--min-n 12` made min_tests 12 but said "default".
    report = cli_report(runner, slug, "--min-n", "12")
    assert (report["thresholds"]["min_means"], report["thresholds"]["min_tests"]) == (12, 12)
    assert report["thresholds"]["sources"] == {"min_means": "call", "min_tests": "call", "min_cell": "default"}
    from_service = report_of(app, session, org, slug, min_means=12)["thresholds"]
    assert from_service["sources"]["min_tests"] == "call"
    # A tests threshold above the means threshold keeps its own source.
    assert cli_report(runner, slug, "--min-n", "3")["thresholds"]["sources"]["min_tests"] == "default"


def test_a_look_back_design_has_no_match_rate(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating"], retrospective=True)
    import_values(runner, tmp_path, slug, "post", "rating", [7, 8, 6, 8, 7, 9])
    import_values(runner, tmp_path, slug, "retro", "rating", [4, 4, 3, 5, 4, 5])
    report = cli_report(runner, slug, *SHOW_ALL)
    assert report["design"]["pretest"] is False and report["participation"]["post"] == 6
    assert report["participation"]["match_rate"] is None  # was 0.0: "0% matched"


# --- Holm and the primary outcome -------------------------------------------------------------------

def holm_of_three(p: list[float]) -> list[float]:
    """Holm by hand for three p-values: 3·p(1), then max with 2·p(2), then max with p(3)."""
    order = sorted(range(3), key=lambda i: p[i])
    first = min(1.0, 3 * p[order[0]])
    second = max(first, min(1.0, 2 * p[order[1]]))
    third = max(second, min(1.0, p[order[2]]))
    adjusted = [0.0] * 3
    adjusted[order[0]], adjusted[order[1]], adjusted[order[2]] = first, second, third
    return adjusted


def test_holm_across_the_skills_and_a_named_primary_outcome(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating", "decimal", "normed"])
    pre = {"rating": [4, 5, 6, 5, 4, 6, 5, 7, 6, 5, 4, 6],
           "amount": [40, 52, 61, 45, 38, 50, 47, 55, 60, 42, 49, 51],
           "points": [20, 22, 19, 25, 21, 23, 20, 24, 22, 18, 21, 20]}
    post = {"rating": [6, 6, 8, 7, 5, 7, 6, 8, 8, 6, 6, 7],
            "amount": [44, 50, 66, 47, 43, 49, 52, 55, 63, 47, 48, 56],
            "points": [21, 22, 18, 26, 22, 22, 21, 25, 22, 19, 20, 21]}
    import_columns(runner, tmp_path, slug, "pre", pre)
    import_columns(runner, tmp_path, slug, "post", post)
    report = cli_report(runner, slug, *SHOW_ALL)
    names = ["rating", "amount", "points"]
    expected_p = [stats.ttest_rel(post[name], pre[name]).pvalue for name in names]
    entries = [scale(report, s) for s in ("rating", "decimal", "normed")]
    assert [e["test"]["p"] for e in entries] == pytest.approx(expected_p, abs=1e-12)
    assert [e["test"]["p_holm"] for e in entries] == pytest.approx(holm_of_three(expected_p), abs=1e-12)
    assert not any(e["primary"] for e in entries)
    assert "Holm" in report["design"]["method"]["multiple_testing"]

    project = session.scalar(select(Project).where(Project.slug == slug))
    project.primary_scale = "decimal/decimal"
    session.commit()
    report = cli_report(runner, slug, *SHOW_ALL)
    rating, decimal, normed = (scale(report, s) for s in ("rating", "decimal", "normed"))
    assert (rating["primary"], decimal["primary"], normed["primary"]) == (False, True, False)
    assert decimal["test"]["p_holm"] == decimal["test"]["p"]
    low, high = sorted((expected_p[0], expected_p[2]))
    by_hand = {low: min(1.0, 2 * low), high: max(min(1.0, 2 * low), high)}
    assert rating["test"]["p_holm"] == pytest.approx(by_hand[expected_p[0]], abs=1e-12)
    assert normed["test"]["p_holm"] == pytest.approx(by_hand[expected_p[2]], abs=1e-12)


def test_hidden_tests_are_left_out_of_the_family(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating", "decimal"])
    import_columns(runner, tmp_path, slug, "pre", {"rating": [4, 5, 6, 5, 4, 6], "amount": [1, 2, 3, 4, 5, 6]})
    import_columns(runner, tmp_path, slug, "post", {"rating": [6, 6, 8, 7, 5, 7], "amount": [2, 2, 5, 4, 7, 9]})
    report = cli_report(runner, slug)  # six pairs: tests hidden
    assert all(e["test"]["p"] is None and e["test"]["p_holm"] is None for e in report["scales"])


# --- persistence: post → follow-up ------------------------------------------------------------------

def test_followup_and_persistence_both_appear_and_agree_with_scipy(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating"])
    pre, post, later = [4, 5, 6, 5, 4, 6, 5, 7, 6, 5], [7, 8, 8, 7, 6, 8, 7, 9, 8, 7], [6, 7, 8, 6, 6, 7, 6, 8, 7, 7]
    for wave, values in (("pre", pre), ("post", post), ("followup", later)):
        import_values(runner, tmp_path, slug, wave, "rating", values)
    report = cli_report(runner, slug, *SHOW_ALL)
    [followup], [persistence] = report["followup"], report["persistence"]
    assert (followup["comparison"], followup["baseline"]) == ("pre→followup", "pre")
    assert (persistence["comparison"], persistence["baseline"], persistence["label"]) == (
        "post→followup", "post", "change since the end")
    assert persistence["n_pairs"] == 10 and report["participation"]["persistence_paired"] == 10
    assert persistence["pre"]["mean"] == pytest.approx(np.mean(post)) and persistence["post"]["mean"] == pytest.approx(
        np.mean(later))
    expected = stats.ttest_rel(later, post)
    assert persistence["test"]["t"] == pytest.approx(expected.statistic, abs=1e-10)
    assert persistence["test"]["p"] == pytest.approx(expected.pvalue, abs=1e-12)
    assert persistence["change"]["mean"] == pytest.approx(np.mean(np.subtract(later, post)), abs=1e-12)
    assert followup["change"]["mean"] == pytest.approx(np.mean(np.subtract(later, pre)), abs=1e-12)


def test_no_persistence_without_post_and_followup_pairs(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating"])
    import_values(runner, tmp_path, slug, "pre", "rating", [4, 5, 6, 5, 4])
    import_values(runner, tmp_path, slug, "followup", "rating", [6, 6, 8, 7, 5])
    report = cli_report(runner, slug, *SHOW_ALL)
    assert report["followup"] and report["persistence"] == []
    assert report["participation"]["persistence_paired"] == 0


# --- completers and drop-outs ----------------------------------------------------------------------

def test_dropout_check_compares_the_baselines_as_scipy_does(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating"])
    pre = [4, 5, 6, 5, 4, 6, 5, 7, 6, 5, 3, 2, 4, 3, 5, 2, 3, 4, 2, 3]
    import_values(runner, tmp_path, slug, "pre", "rating", pre)
    import_values(runner, tmp_path, slug, "post", "rating", [7, 8, 8, 7, 6, 8, 7, 9, 8, 7], ids=codes(10))
    shown = cli_report(runner, slug, *SHOW_ALL)
    [check] = shown["participation"]["dropout_check"]
    completers, dropouts = pre[:10], pre[10:]
    assert (check["instrument"], check["scale"]) == ("rating", "rating")
    assert check["completers"] == {"n": 10, "mean": pytest.approx(np.mean(completers)),
                                   "sd": pytest.approx(np.std(completers, ddof=1))}
    assert check["dropouts"]["n"] == 10 and check["dropouts"]["mean"] == pytest.approx(np.mean(dropouts))
    assert check["difference"] == pytest.approx(np.mean(dropouts) - np.mean(completers), abs=1e-12)
    welch = stats.ttest_ind(dropouts, completers, equal_var=False)
    assert check["p"] == pytest.approx(welch.pvalue, abs=1e-12)
    assert check["completers"]["mean"] == scale(shown, "rating")["pre"]["mean"]  # the same residents
    # Default thresholds: ten in each group shows means and the test; five drop-outs would hide the test.
    assert cli_report(runner, slug)["participation"]["dropout_check"][0]["p"] is not None
    small = cli_report(runner, slug, "--min-tests", "11")["participation"]["dropout_check"][0]
    assert small["p"] is None and small["difference"] is not None
    hidden = cli_report(runner, slug, "--min-n", "11")["participation"]["dropout_check"][0]
    assert hidden["difference"] is None and hidden["completers"] == {"n": 10, "mean": None, "sd": None}


# --- the ceiling at the start -----------------------------------------------------------------------

def test_residents_who_start_at_the_top_of_the_scale(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating"])  # a 0–10 scale
    import_values(runner, tmp_path, slug, "pre", "rating", [10, 10, 9, 10, 8, 7, 10, 6, 10, 10, 5, 10])
    import_values(runner, tmp_path, slug, "post", "rating", [10, 9, 10, 10, 9, 8, 10, 8, 10, 10, 7, 10])
    entry = scale(cli_report(runner, slug, *SHOW_ALL), "rating")
    assert entry["range"] == [0.0, 10.0]
    assert entry["baseline_ceiling"] == {"count": 7, "share": pytest.approx(7 / 12)}
    few = scale(cli_report(runner, slug, "--min-cell", "8"), "rating")
    assert few["baseline_ceiling"] == {"count": "<8", "share": None} and "counts" in few["suppressed"]


# --- sensitivity without fuzzy code pairs -------------------------------------------------------------

def fuzzy_project(app, session, org) -> str:
    slug = new_project(app, session, org, ["decimal"])
    item = ("decimal", "amount")
    answer(app, session, slug, "pre", "F-SAME", {item: 10}, self_code="a|b|1|0|2|x")
    answer(app, session, slug, "post", "F-SAME", {item: 12})
    answer(app, session, slug, "pre", "F-PRE1", {item: 20}, self_code="e|b|1|0|2|x")
    answer(app, session, slug, "post", "F-PST1", {item: 23}, self_code="e|b|1|0|2|x")
    answer(app, session, slug, "pre", "F-PRE2", {item: 30}, self_code="k|m|5|1|1|z")
    answer(app, session, slug, "post", "F-PST2", {item: 38}, self_code="k|m|6|1|1|z")  # one slip: fuzzy
    return slug


def test_sensitivity_without_the_fuzzy_pairs(app, session, org):
    slug = fuzzy_project(app, session, org)
    entry = scale(report_of(app, session, org, slug, **show_all()), "decimal")
    assert entry["n_fuzzy"] == 1
    assert entry["sensitivity"] == {"n_pairs": 2, "change_mean": pytest.approx(2.5),
                                    "d_z": pytest.approx(2.5 / np.std([2, 3], ddof=1)),
                                    "p": pytest.approx(stats.ttest_rel([12, 23], [10, 20]).pvalue)}
    # One fuzzy pair below min_means 2: the difference from the full mean would be that resident's change.
    hidden = scale(report_of(app, session, org, slug, min_means=2, min_tests=2, min_cell=1), "decimal")
    assert hidden["change"]["mean"] is not None and "sensitivity" in hidden["suppressed"]
    assert hidden["sensitivity"] == {"n_pairs": 2, "change_mean": None, "d_z": None, "p": None}


def test_no_sensitivity_line_without_fuzzy_pairs(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating"])
    import_values(runner, tmp_path, slug, "pre", "rating", [4, 5, 6, 5, 4])
    import_values(runner, tmp_path, slug, "post", "rating", [6, 6, 8, 7, 5])
    assert scale(cli_report(runner, slug, *SHOW_ALL), "rating")["sensitivity"] is None


# --- shares and intervals -----------------------------------------------------------------------------

def test_share_reliably_improved_and_the_interval_of_d_z(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["normed"])  # norms SD 5, r .80: S_diff 3.16, reliable beyond 6.2
    pre = [10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 11, 13]
    post = [18, 20, 15, 17, 26, 21, 30, 25, 33, 29, 12, 21]
    import_values(runner, tmp_path, slug, "pre", "points", pre)
    import_values(runner, tmp_path, slug, "post", "points", post)
    entry = scale(cli_report(runner, slug, "--min-cell", "1"), "normed")
    improved = sum(1 for a, b in zip(pre, post) if (b - a) / (5 * math.sqrt(2) * math.sqrt(0.2)) > 1.96)
    assert entry["rci"]["improved"] == improved == 6
    assert entry["rci"]["improved_share"] == pytest.approx(improved / 12)
    wilson = stats.binomtest(improved, 12).proportion_ci(method="wilson")
    assert entry["rci"]["improved_ci95"] == [pytest.approx(wilson.low, abs=1e-12), pytest.approx(wilson.high, abs=1e-12)]
    low, high = entry["effect_size"]["d_z_ci95"]
    t = entry["test"]["t"]
    assert stats.nct.cdf(t, 11, low * math.sqrt(12)) == pytest.approx(0.975, abs=1e-8)
    assert stats.nct.cdf(t, 11, high * math.sqrt(12)) == pytest.approx(0.025, abs=1e-8)


# --- the Wilcoxon method as documented ------------------------------------------------------------------

def test_wilcoxon_p_is_the_documented_normal_approximation_without_continuity_correction(
        app, runner, session, org, tmp_path):
    """20 pairs with ties and a zero: scipy's 'auto' uses the normal approximation; R's
    wilcox.test(post, pre, paired = TRUE, exact = FALSE, correct = FALSE) computes exactly this."""
    slug = new_project(app, session, org, ["rating"])
    pre = [4, 5, 6, 5, 4, 6, 5, 7, 6, 5, 3, 2, 4, 3, 5, 2, 3, 4, 2, 3]
    post = [6, 6, 8, 7, 5, 7, 5, 8, 8, 6, 5, 3, 4, 5, 6, 4, 2, 6, 3, 5]
    import_values(runner, tmp_path, slug, "pre", "rating", pre)
    import_values(runner, tmp_path, slug, "post", "rating", post)
    report = cli_report(runner, slug, *SHOW_ALL)
    d = np.subtract(post, pre).astype(float)
    d = d[d != 0]  # zero_method="wilcox": zeros dropped
    ranks = stats.rankdata(np.abs(d))
    n = d.size
    r_plus = ranks[d > 0].sum()
    _values, ties = np.unique(np.abs(d), return_counts=True)
    variance = (n * (n + 1) * (2 * n + 1) - (ties ** 3 - ties).sum() / 2) / 24
    z = (r_plus - n * (n + 1) / 4) / math.sqrt(variance)  # no continuity correction
    assert scale(report, "rating")["test"]["wilcoxon_p"] == pytest.approx(2 * stats.norm.sf(abs(z)), abs=1e-12)
    method = report["design"]["method"]["wilcoxon"]
    for words in ("zero_method='wilcox'", "correction=False", "12 significant digits",
                  "exact = TRUE", "exact = FALSE", "correct = FALSE", "13 pairs", "50 pairs"):
        assert words in method, words


# --- every new figure obeys the small-number rules --------------------------------------------------------

def test_new_figures_follow_the_small_number_rules(app, session, org):
    slug = fuzzy_project(app, session, org)
    actor = access.cli_actor(session, project_slug=slug)
    report = outcomes.project_report(session, get_registry(app), actor, slug)  # defaults 5, 10, 5: three pairs
    entry = scale(report, "decimal")
    assert entry["suppressed"][:2] == ["means", "tests"]
    assert entry["rci"]["improved_share"] is None and entry["rci"]["improved_ci95"] is None
    assert entry["baseline_ceiling"] == {"count": None, "share": None}
    assert entry["effect_size"]["d_z_ci95"] is None and entry["test"]["p_holm"] is None
    assert entry["sensitivity"] == {"n_pairs": 2, "change_mean": None, "d_z": None, "p": None}
    check = report["participation"]["dropout_check"][0]
    assert check["completers"]["mean"] is None and check["difference"] is None and check["p"] is None


def test_each_list_is_its_own_family_for_holm(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating", "decimal"], retrospective=True)
    waves = {"pre": {"rating": [4, 5, 6, 5, 4, 6, 5, 7, 6, 5], "amount": [40, 52, 61, 45, 38, 50, 47, 55, 60, 42]},
             "post": {"rating": [6, 6, 8, 7, 5, 7, 6, 8, 8, 6], "amount": [44, 50, 66, 47, 43, 49, 52, 55, 63, 47]},
             "followup": {"rating": [5, 6, 7, 7, 5, 6, 6, 8, 7, 6], "amount": [41, 55, 60, 47, 40, 52, 50, 58, 61, 44]},
             "retro": {"rating": [3, 4, 5, 5, 3, 5, 4, 6, 5, 4], "amount": [35, 50, 55, 40, 38, 47, 45, 50, 55, 40]}}
    for wave, columns in waves.items():
        import_columns(runner, tmp_path, slug, wave, columns)
    report = cli_report(runner, slug, *SHOW_ALL)
    for name in ("scales", "retrospective", "followup", "persistence"):
        p = [entry["test"]["p"] for entry in report[name]]
        low, high = sorted(p)
        by_hand = {low: min(1.0, 2 * low), high: max(min(1.0, 2 * low), high)}
        assert [entry["test"]["p_holm"] for entry in report[name]] == [pytest.approx(by_hand[v], abs=1e-12)
                                                                        for v in p], name
    shifts = [entry["response_shift"]["test"] for entry in report["retrospective"]]
    low, high = sorted(test["p"] for test in shifts)
    assert min(test["p_holm"] for test in shifts) == pytest.approx(min(1.0, 2 * low), abs=1e-12)


def test_one_drop_out_hides_the_wave_sd_that_would_give_their_score_back(app, runner, session, org, tmp_path):
    # The reliable-change SD comes from the whole pre wave. Beside the pairs' own n, mean and SD, that SD
    # gives a lone drop-out's score back (up to its sign); it is hidden until min_means residents are outside.
    slug = new_project(app, session, org, ["rating"])
    pre = [4, 5, 6, 5, 4, 6, 5, 7, 6, 5, 2]
    import_values(runner, tmp_path, slug, "pre", "rating", pre)
    import_values(runner, tmp_path, slug, "post", "rating", [7, 8, 8, 7, 6, 8, 7, 9, 8, 7], ids=codes(10))
    one_out = cli_report(runner, slug, "--min-n", "5", "--min-tests", "5", "--min-cell", "1")
    [entry] = one_out["scales"]
    assert entry["n_pairs"] == 10 and entry["pre"]["sd"] is not None
    assert entry["rci"]["sd"] is None and entry["rci"]["s_diff"] is None
    assert "wave_sd" in entry["suppressed"]
    assert "wave_sd" in one_out["design"]["method"]["suppression"]
    # With the threshold at 1 the lone drop-out is enough: the wave's SD is shown, as scipy computes it.
    shown = cli_report(runner, slug, *SHOW_ALL)["scales"][0]
    assert shown["rci"]["sd"] == pytest.approx(np.std(pre, ddof=1)) and "wave_sd" not in shown["suppressed"]
