"""The outcome report: published reference values, scipy cross-checks and properties, all through the
real path (answers imported or saved → scored → paired → ``project_report``), plus the awkward data a
real project produces: no pairs, one pair, no spread, unanswered scales, colliding codes.
"""

from __future__ import annotations

import json
import math
import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import stats
from sqlalchemy import select

from surveyhub.plugins import get_registry
from surveyhub.models import Consent, Organisation, Participant, Project, ProjectShare, User
from surveyhub.services import access, outcomes
from surveyhub.services.errors import NotFound, ServiceError
from tests.fixtures.outcomes import (LAKENS_POST, LAKENS_PRE, Q1, Q2, Q3, SHOW_ALL, answer, cli_report, codes,
                                     csv_file, import_csv, import_values, new_project, scale,
                                     with_outcome_instruments)

HYPOTHESIS = settings(max_examples=8, deadline=None, derandomize=True,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ESTIMATES = ("pre", "post", "change", "effect_size", "test")


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")


def shared_funder(session, org, slug) -> access.Actor:
    """The least-privileged reader of a report: a funder of ``org`` the project is shared with."""
    email = f"funder-{org.id}@example.org"
    funder = session.scalar(select(User).where(User.email == email))
    if funder is None:
        funder = User(organisation_id=org.id, email=email, password_hash="-", role="funder")
        session.add(funder)
        session.flush()
    project_id = session.scalar(select(Project.id).where(Project.slug == slug))
    if not session.scalar(select(ProjectShare.id).where(ProjectShare.project_id == project_id,
                                                        ProjectShare.user_id == funder.id)):
        session.add(ProjectShare(project_id=project_id, user_id=funder.id))
        session.flush()
    return access.Actor(organisation_id=org.id, role="funder", user_id=funder.id)


def report_of(app, session, org, slug, **thresholds) -> dict:
    actor = shared_funder(session, org, slug)
    report = outcomes.project_report(session, get_registry(app), actor, slug, **thresholds)
    session.commit()
    json.dumps(report, allow_nan=False)  # never NaN or infinity
    return report


def show_all() -> dict:
    return {"min_means": 1, "min_tests": 1, "min_cell": 1}


def fill(app, session, slug, instrument, item, pre, post, prefix="H"):
    for i, (before, after) in enumerate(zip(pre, post)):
        answer(app, session, slug, "pre", f"{prefix}{i}", {(instrument, item): before}, commit=False)
        answer(app, session, slug, "post", f"{prefix}{i}", {(instrument, item): after}, commit=False)
    session.commit()


# --- public reference values (DESIGN.md), through import → CLI report -------------------------------

def test_lakens_paired_ratings_through_import_and_report_json(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating"])
    import_values(runner, tmp_path, slug, "pre", "rating", LAKENS_PRE)
    import_values(runner, tmp_path, slug, "post", "rating", LAKENS_POST)
    report = cli_report(runner, slug, *SHOW_ALL)
    rating = scale(report, "rating")
    assert rating["suppressed"] == [] and rating["n_pairs"] == 10
    assert rating["change"]["mean"] == pytest.approx(1.0, abs=1e-12)
    assert rating["test"]["t"] == pytest.approx(4.743416, abs=5e-7)
    assert rating["test"]["df"] == 9
    assert rating["test"]["p"] == pytest.approx(0.0010539, abs=5e-8)
    assert rating["effect_size"]["d_z"] == pytest.approx(1.5, abs=1e-12)
    assert rating["effect_size"]["d_av"] == pytest.approx(1.128696, abs=5e-7)
    lo, hi = rating["change"]["ci95"]
    assert (lo, hi) == (pytest.approx(0.5231, abs=5e-5), pytest.approx(1.4769, abs=5e-5))
    assert rating["test"]["wilcoxon_p"] == pytest.approx(0.0078125, abs=5e-8)
    assert report["participation"] | {"waves": None} == report["participation"] | {
        "invited": 10, "pre": 10, "post": 10, "paired": 10, "match_rate": 1.0, "attrition": 0, "waves": None}


def test_cronbach_alpha_reference_is_the_pre_wave_alpha(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["triad"])
    path = csv_file(tmp_path / "triad.csv", ["participant", "q1", "q2", "q3"],
                    [[code, a, b, c] for code, a, b, c in zip(codes(10), Q1, Q2, Q3)])
    import_csv(runner, slug, "pre", path)
    reliability = scale(cli_report(runner, slug, *SHOW_ALL), "triad")["reliability"]
    assert reliability["pre"]["alpha"] == pytest.approx(0.7734375, abs=1e-12)
    assert (reliability["pre"]["n"], reliability["pre"]["k"]) == (10, 3)
    lo, hi = reliability["pre"]["ci95"]
    assert lo < 0.7734375 < hi < 1
    assert reliability["post"] == {"alpha": None, "n": 0, "k": 3, "ci95": None, "suppressed": True}


def test_reliable_change_reference_with_norms(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["normed"])
    import_values(runner, tmp_path, slug, "pre", "points", [10, 20])
    import_values(runner, tmp_path, slug, "post", "points", [18, 26])  # changes 8 (RC 2.530) and 6 (RC 1.897)
    rci = scale(cli_report(runner, slug, *SHOW_ALL), "normed")["rci"]
    assert rci["s_diff"] == pytest.approx(3.16228, abs=5e-6)
    assert 8 / rci["s_diff"] == pytest.approx(2.530, abs=5e-4)
    assert (rci["improved"], rci["unchanged"], rci["deteriorated"]) == (1, 1, 0)
    assert (rci["sd"], rci["r"], rci["sd_source"], rci["r_source"]) == (5.0, 0.8, "norms", "norms")


# --- scipy cross-checks on random data ---------------------------------------------------------------

pairs = st.lists(st.tuples(st.integers(0, 600), st.integers(0, 600)), min_size=14, max_size=20)


@HYPOTHESIS
@given(data=pairs)
def test_report_agrees_with_scipy_on_random_data(app, session, org, data):
    pre = [a / 10 for a, _b in data]
    post = [b / 10 for _a, b in data]
    diffs = np.round(np.subtract(post, pre), 9)
    assume(len(set(diffs.tolist())) > 1)
    slug = new_project(app, session, org, ["decimal"], name=f"Random {uuid.uuid4().hex[:8]}")
    fill(app, session, slug, "decimal", "amount", pre, post)
    entry = scale(report_of(app, session, org, slug, **show_all()), "decimal")
    n = len(pre)
    t = stats.ttest_rel(post, pre)
    assert entry["n_pairs"] == n
    assert entry["pre"]["mean"] == pytest.approx(np.mean(pre)) and entry["post"]["sd"] == pytest.approx(
        np.std(post, ddof=1))
    assert entry["change"]["mean"] == pytest.approx(np.mean(diffs), abs=1e-9)
    assert entry["test"]["t"] == pytest.approx(t.statistic, rel=1e-7)
    assert entry["test"]["p"] == pytest.approx(t.pvalue, rel=1e-6, abs=1e-12)
    sd_diff = np.std(diffs, ddof=1)
    assert entry["change"]["ci95"] == pytest.approx(
        list(stats.t.interval(0.95, n - 1, loc=np.mean(diffs), scale=sd_diff / math.sqrt(n))), abs=1e-9)
    assert entry["effect_size"]["d_z"] == pytest.approx(np.mean(diffs) / sd_diff, rel=1e-7)
    assert entry["effect_size"]["d_av"] == pytest.approx(
        np.mean(diffs) / ((np.std(pre, ddof=1) + np.std(post, ddof=1)) / 2), rel=1e-7)
    if np.any(diffs != 0):
        assert entry["test"]["wilcoxon_p"] == pytest.approx(stats.wilcoxon(diffs).pvalue, rel=1e-7)
    s_diff = 10 * math.sqrt(2) * math.sqrt(1 - 0.8)
    assert entry["rci"]["s_diff"] == pytest.approx(s_diff)
    improved = int(np.sum(diffs / s_diff > 1.96))
    deteriorated = int(np.sum(diffs / s_diff < -1.96))
    assert (entry["rci"]["improved"], entry["rci"]["deteriorated"]) == (improved, deteriorated)


# --- properties through the real path ----------------------------------------------------------------

def flipped(block: dict) -> dict:
    return {"change": block["change"]["mean"], "ci": block["change"]["ci95"],
            **{k: block["effect_size"][k] for k in ("d_z", "d_av", "g_av")}, "t": block["test"]["t"]}


@HYPOTHESIS
@given(data=pairs)
def test_swapping_pre_and_post_flips_every_sign(app, session, org, data):
    pre = [a / 10 for a, _b in data]
    post = [b / 10 for _a, b in data]
    assume(len(set(np.round(np.subtract(post, pre), 9).tolist())) > 1)
    forward = new_project(app, session, org, ["decimal"], name=f"Forward {uuid.uuid4().hex[:8]}")
    backward = new_project(app, session, org, ["decimal"], name=f"Backward {uuid.uuid4().hex[:8]}")
    fill(app, session, forward, "decimal", "amount", pre, post)
    fill(app, session, backward, "decimal", "amount", post, pre)
    a = scale(report_of(app, session, org, forward, **show_all()), "decimal")
    b = scale(report_of(app, session, org, backward, **show_all()), "decimal")
    fa, fb = flipped(a), flipped(b)
    for key in ("change", "d_z", "d_av", "g_av", "t"):
        assert fb[key] == pytest.approx(-fa[key], rel=1e-9, abs=1e-12)
    assert fb["ci"] == pytest.approx([-fa["ci"][1], -fa["ci"][0]], abs=1e-9)
    assert b["test"]["p"] == pytest.approx(a["test"]["p"], rel=1e-9)
    assert b["test"]["wilcoxon_p"] == pytest.approx(a["test"]["wilcoxon_p"], rel=1e-9)
    assert (b["pre"], b["post"]) == (a["post"], a["pre"])
    # Norms fix S_diff, so the reliable changes swap sides exactly.
    assert (b["rci"]["improved"], b["rci"]["deteriorated"]) == (a["rci"]["deteriorated"], a["rci"]["improved"])


@HYPOTHESIS
@given(data=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 400)), min_size=14, max_size=20),
       shift=st.integers(1, 600))
def test_adding_a_constant_to_every_score_changes_no_effect_size(app, session, org, data, shift):
    pre = [a / 10 for a, _b in data]
    post = [b / 10 for _a, b in data]
    assume(len(set(np.round(np.subtract(post, pre), 9).tolist())) > 1)
    plain = new_project(app, session, org, ["decimal"], name=f"Plain {uuid.uuid4().hex[:8]}")
    shifted = new_project(app, session, org, ["decimal"], name=f"Shifted {uuid.uuid4().hex[:8]}")
    fill(app, session, plain, "decimal", "amount", pre, post)
    fill(app, session, shifted, "decimal", "amount", [v + shift / 10 for v in pre], [v + shift / 10 for v in post])
    a = scale(report_of(app, session, org, plain, **show_all()), "decimal")
    b = scale(report_of(app, session, org, shifted, **show_all()), "decimal")
    for key in ("d_z", "d_av", "g_av"):
        assert b["effect_size"][key] == pytest.approx(a["effect_size"][key], rel=1e-7)
    for key in ("t", "p", "wilcoxon_p"):
        assert b["test"][key] == pytest.approx(a["test"][key], rel=1e-6)
    assert b["change"]["mean"] == pytest.approx(a["change"]["mean"], abs=1e-9)
    assert b["pre"]["mean"] == pytest.approx(a["pre"]["mean"] + shift / 10)


def test_a_reverse_coded_item_mirrors_its_score(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["mirror"])
    pre = [1, 2, 2, 3, 1, 2, 4, 2, 3, 1, 2, 2]
    post = [3, 4, 2, 5, 2, 3, 5, 4, 4, 2, 3, 5]
    for wave, values in (("pre", pre), ("post", post)):
        path = csv_file(tmp_path / f"{wave}.csv", ["participant", "s1", "m1"],
                        [[code, v, v] for code, v in zip(codes(len(values)), values)])
        import_csv(runner, slug, wave, path)
    report = cli_report(runner, slug, *SHOW_ALL)
    straight, mirrored = scale(report, "straight"), scale(report, "mirrored")
    assert mirrored["pre"]["mean"] == pytest.approx(6 - straight["pre"]["mean"])
    assert mirrored["post"]["mean"] == pytest.approx(6 - straight["post"]["mean"])
    assert mirrored["pre"]["sd"] == pytest.approx(straight["pre"]["sd"])
    assert mirrored["change"]["mean"] == pytest.approx(-straight["change"]["mean"])
    assert mirrored["effect_size"]["d_z"] == pytest.approx(-straight["effect_size"]["d_z"])
    assert mirrored["test"]["p"] == pytest.approx(straight["test"]["p"])


# --- small numbers -------------------------------------------------------------------------------------

def hidden(block: dict, parts=ESTIMATES) -> bool:
    return all(value is None for part in parts for value in block[part].values())


def test_suppression_never_leaks_into_the_report(app, session, org):
    three = new_project(app, session, org, ["decimal"], name="Drie paren")
    seven = new_project(app, session, org, ["decimal"], name="Zeven paren")
    fill(app, session, three, "decimal", "amount", [41.3, 52.7, 63.1], [55.5, 61.9, 70.2])
    fill(app, session, seven, "decimal", "amount", [10, 12, 14, 16, 18, 20, 22],
         [30, 31, 35, 36, 40, 41, 45], prefix="S")
    small = report_of(app, session, org, three)
    entry = scale(small, "decimal")
    assert entry["n_pairs"] == 3 and entry["suppressed"] == ["means", "tests"]
    assert hidden(entry) and entry["test"]["df"] is None
    assert all(entry["rci"][k] is None for k in ("s_diff", "improved", "unchanged", "deteriorated", "sd", "r"))
    assert entry["reliability"]["pre"]["alpha"] is None
    text = json.dumps(small)
    for secret in ("52.36", "62.53", "10.16", "41.3", "55.5"):
        assert secret not in text
    middle = scale(report_of(app, session, org, seven), "decimal")
    assert middle["suppressed"][:1] == ["tests"] and middle["pre"]["mean"] == pytest.approx(16)
    assert hidden(middle, ("effect_size", "test"))
    # Seven residents all improved reliably: a count of 7 is shown; the zeros are shown as 0.
    assert (middle["rci"]["improved"], middle["rci"]["deteriorated"]) == (7, 0)


def assert_nothing_leaks(report: dict) -> None:
    """No mean, SD, interval, test or effect size for any group below its threshold, anywhere."""
    t = report["thresholds"]
    blocks = []
    for entry in report["scales"] + report["retrospective"] + report["followup"]:
        blocks.append(entry)
        if entry.get("response_shift"):
            blocks.append({**entry["response_shift"], "post": entry["response_shift"]["then"]})
        for wave in (entry.get("reliability") or {}).values():
            if wave["n"] < t["min_means"]:
                assert wave["alpha"] is None and wave["ci95"] is None
    for block in blocks:
        if block["n_pairs"] < t["min_means"]:
            assert hidden(block), block
            assert all(block.get("rci", {}).get(k) is None for k in ("s_diff", "improved", "unchanged",
                                                                      "deteriorated", "sd", "r",
                                                                      "improved_share", "improved_ci95"))
            assert block.get("baseline_ceiling", {}).get("count") is None
        if block["n_pairs"] < t["min_tests"]:
            assert hidden(block, ("effect_size", "test")), block
            # Mean, SD and n would give t back: the spread of the change goes with the tests.
            assert block["change"]["sd"] is None and block["change"]["ci95"] is None
    for check in report["participation"]["dropout_check"]:
        smallest = min(check["completers"]["n"], check["dropouts"]["n"])
        if smallest < t["min_means"]:
            assert check["difference"] is None and check["completers"]["mean"] is None
        if smallest < t["min_tests"]:
            assert check["p"] is None


@HYPOTHESIS
@given(n=st.integers(0, 9), data=st.data())
def test_suppression_holds_for_any_group_size(app, session, org, n, data):
    values = data.draw(st.lists(st.tuples(st.integers(0, 600), st.integers(0, 600), st.integers(0, 600)),
                                min_size=n, max_size=n))
    slug = new_project(app, session, org, ["decimal"], name=f"Klein {uuid.uuid4().hex[:8]}", retrospective=True)
    for i, (before, after, then) in enumerate(values):
        answer(app, session, slug, "pre", f"K{i}", {("decimal", "amount"): before / 10}, commit=False)
        answer(app, session, slug, "post", f"K{i}", {("decimal", "amount"): after / 10},
               then={("decimal", "amount"): then / 10}, commit=False)
    session.commit()
    report = report_of(app, session, org, slug)
    assert scale(report, "decimal")["n_pairs"] == n
    assert_nothing_leaks(report)


def test_scale_scores_reach_the_report_to_the_last_digit(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["triad"])
    pre = [[code, a, b, c] for code, a, b, c in zip(codes(10), Q1, Q2, Q3)]
    post = [[code, 3, b, c] for code, _a, b, c in pre]
    for wave, rows in (("pre", pre), ("post", post)):
        import_csv(runner, slug, wave, csv_file(tmp_path / f"{wave}.csv", ["participant", "q1", "q2", "q3"], rows))
    entry = scale(cli_report(runner, slug, *SHOW_ALL), "triad")
    scores = {wave: [math.fsum(row[1:]) / 3 for row in rows] for wave, rows in (("pre", pre), ("post", post))}
    assert entry["pre"]["mean"] == float(np.mean(scores["pre"]))  # exactly: thirds need all 17 digits
    assert entry["post"]["sd"] == float(np.std(scores["post"], ddof=1))


def test_an_item_id_shared_by_two_instruments_is_kept_apart(app, runner, session, org, tmp_path):
    rows = [[code, a, b, c] for code, a, b, c in zip(codes(10), Q1, Q2, Q3)]
    alone = new_project(app, session, org, ["triad"], name="Alleen")
    import_csv(runner, alone, "pre", csv_file(tmp_path / "alone.csv", ["participant", "q1", "q2", "q3"], rows))
    both = new_project(app, session, org, ["triad", "village"], name="Samen")
    header = ["participant", "triad.q1", "q2", "q3", "village.q1", "c1"]
    import_csv(runner, both, "pre", csv_file(tmp_path / "both.csv", header,
                                             [row + [40 + i, 5] for i, row in enumerate(rows)]))
    alpha = scale(cli_report(runner, both, *SHOW_ALL), "triad")["reliability"]["pre"]["alpha"]
    assert alpha == scale(cli_report(runner, alone, *SHOW_ALL), "triad")["reliability"]["pre"]["alpha"]
    assert alpha == pytest.approx(0.7734375, abs=1e-12)


def test_alpha_of_a_small_group_is_hidden_too(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["triad"])
    path = csv_file(tmp_path / "triad.csv", ["participant", "q1", "q2", "q3"],
                    [[code, a, b, c] for code, a, b, c in zip(codes(4), Q1[3:7], Q2[3:7], Q3[3:7])])
    import_csv(runner, slug, "pre", path)
    shown = scale(cli_report(runner, slug, *SHOW_ALL), "triad")["reliability"]["pre"]
    assert shown["alpha"] is not None and shown["suppressed"] is False
    small = scale(cli_report(runner, slug), "triad")["reliability"]["pre"]
    assert small == {"alpha": None, "n": 4, "k": 3, "ci95": None, "suppressed": True}


def test_thresholds_come_from_the_call_then_the_organisation_then_the_defaults(app, session, org):
    slug = new_project(app, session, org, ["decimal"])
    fill(app, session, slug, "decimal", "amount", [1, 2, 3, 4, 5, 6], [2, 4, 4, 6, 7, 9])
    report = report_of(app, session, org, slug)
    assert report["thresholds"] == {"min_means": 5, "min_tests": 10, "min_cell": 5,
                                    "sources": dict.fromkeys(("min_means", "min_tests", "min_cell"), "default")}
    own = session.get(Organisation, org.id)
    own.min_pairs_means, own.min_pairs_tests, own.min_cell = 7, 8, 3
    session.commit()
    report = report_of(app, session, org, slug)
    assert (report["thresholds"]["min_means"], report["thresholds"]["min_tests"]) == (7, 8)
    assert scale(report, "decimal")["pre"]["mean"] is None
    report = report_of(app, session, org, slug, min_means=6, min_cell=2)
    assert report["thresholds"] | {"sources": None} == {"min_means": 6, "min_tests": 8, "min_cell": 2,
                                                        "sources": None}
    assert report["thresholds"]["sources"] == {"min_means": "call", "min_tests": "organisation",
                                               "min_cell": "call"}
    # Tests never show without their means: a higher means threshold lifts the tests threshold.
    report = report_of(app, session, org, slug, min_means=12)
    assert report["thresholds"]["min_tests"] == 12
    actor = shared_funder(session, org, slug)
    with pytest.raises(ServiceError, match="min_cell must be a whole number"):
        outcomes.project_report(session, get_registry(app), actor, slug, min_cell=-1)
    session.rollback()
    defaults = outcomes.Thresholds.from_settings({"MIN_PAIRS_MEANS": 2, "MIN_PAIRS_TESTS": 3, "MIN_CELL": 4})
    own.min_pairs_means = own.min_pairs_tests = own.min_cell = None
    session.commit()
    assert report_of(app, session, org, slug, defaults=defaults)["thresholds"]["min_tests"] == 3


# --- awkward data ---------------------------------------------------------------------------------------

def all_none(entry: dict) -> bool:
    return hidden(entry) and entry["rci"]["s_diff"] is None


def test_a_project_without_answers_or_pairs_reports_not_enough_data(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating", "triad"])
    empty = cli_report(runner, slug, *SHOW_ALL)
    assert empty["design"]["kind"] == "no comparison yet"
    assert all(entry["n_pairs"] == 0 and all_none(entry) for entry in empty["scales"])
    assert empty["participation"]["match_rate"] is None and empty["participation"]["attrition_rate"] is None
    import_values(runner, tmp_path, slug, "pre", "rating", [5, 6, 7])
    pre_only = cli_report(runner, slug, *SHOW_ALL)
    entry = scale(pre_only, "rating")
    assert entry["n_pairs"] == 0 and all_none(entry)
    assert pre_only["participation"]["attrition"] == 3 and pre_only["participation"]["attrition_rate"] == 1.0


def test_one_pair_gives_means_but_no_spread_interval_or_test(app, session, org):
    slug = new_project(app, session, org, ["decimal"])
    fill(app, session, slug, "decimal", "amount", [20], [25])
    entry = scale(report_of(app, session, org, slug, **show_all()), "decimal")
    assert entry["n_pairs"] == 1
    assert (entry["pre"]["mean"], entry["post"]["mean"], entry["change"]["mean"]) == (20.0, 25.0, 5.0)
    assert entry["change"]["sd"] is None and entry["change"]["ci95"] is None
    assert all(v is None for v in entry["test"].values()) and all(v is None for v in entry["effect_size"].values())


def test_identical_scores_give_zero_spread_and_no_test(app, session, org):
    same = new_project(app, session, org, ["decimal"], name="Gelijk")
    fill(app, session, same, "decimal", "amount", [30] * 6, [30] * 6)
    entry = scale(report_of(app, session, org, same, **show_all()), "decimal")
    assert (entry["change"]["mean"], entry["change"]["sd"], entry["change"]["ci95"]) == (0.0, 0.0, None)
    assert entry["pre"]["sd"] == 0.0 and entry["effect_size"] == {"d_z": None, "d_av": None, "g_av": None,
                                                                  "d_z_ci95": None}
    assert (entry["test"]["t"], entry["test"]["p"], entry["test"]["wilcoxon_p"]) == (None, None, None)
    assert entry["rci"]["unchanged"] == 6  # norms give S_diff even when the data do not vary
    shifted = new_project(app, session, org, ["decimal"], name="Allemaal twee erbij")
    fill(app, session, shifted, "decimal", "amount", [30] * 6, [32] * 6)
    entry = scale(report_of(app, session, org, shifted, **show_all()), "decimal")
    assert (entry["change"]["mean"], entry["change"]["sd"], entry["change"]["ci95"]) == (2.0, 0.0, None)
    assert entry["effect_size"]["d_z"] is None and entry["test"]["t"] is None
    assert entry["test"]["wilcoxon_p"] is not None  # ranks still say everyone went up


def test_a_scale_nobody_could_be_scored_on(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["triad", "rating"])
    for wave in ("pre", "post"):
        path = csv_file(tmp_path / f"{wave}.csv", ["participant", "q1", "rating"],
                        [[code, 2, 5] for code in codes(6)])  # triad needs all three items
        import_csv(runner, slug, wave, path)
    report = cli_report(runner, slug, *SHOW_ALL)
    triad = scale(report, "triad")
    assert triad["n_pairs"] == 0 and all_none(triad)
    assert triad["reliability"]["pre"]["n"] == 0 and triad["reliability"]["pre"]["alpha"] is None
    assert scale(report, "rating")["n_pairs"] == 6 and report["participation"]["paired"] == 6


def test_a_plugin_score_that_is_not_a_number_is_left_out(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["broken"])
    import_values(runner, tmp_path, slug, "pre", "b1", [1, 2, 3, 4, 5, 6])
    import_values(runner, tmp_path, slug, "post", "b1", [2, 3, 9, 5, 8, 7])
    entry = scale(cli_report(runner, slug, *SHOW_ALL), "broken")  # the CLI writes JSON with allow_nan=False
    assert entry["n_pairs"] == 3  # residents 3, 5 and 6 scored NaN at post
    assert entry["change"]["mean"] == pytest.approx(1.0)


# --- pairing -------------------------------------------------------------------------------------------

def test_own_codes_pair_exactly_after_normalising_and_fuzzily_only_when_unique(app, session, org):
    slug = new_project(app, session, org, ["decimal"])
    item = ("decimal", "amount")
    # Same participant: paired by participant.
    answer(app, session, slug, "pre", "A-SAME", {item: 10}, self_code="a|b|1|0|2|x")
    answer(app, session, slug, "post", "A-SAME", {item: 12})
    # Another phone: the same code with a decomposed accent (NFKC makes them equal).
    answer(app, session, slug, "pre", "A-PRE1", {item: 20}, self_code="é|b|1|0|2|x")
    answer(app, session, slug, "post", "A-PST1", {item: 23}, self_code="e\u0301|b|1|0|2|x")
    # One slip in one answer, and no other candidate: a fuzzy pair.
    answer(app, session, slug, "pre", "A-PRE2", {item: 30}, self_code="k|m|5|1|1|z")
    answer(app, session, slug, "post", "A-PST2", {item: 34}, self_code="k|m|6|1|1|z")
    # Two pre responses whose codes collide after normalising: ambiguous, never paired.
    answer(app, session, slug, "pre", "A-TWIN1", {item: 40}, self_code="t|t|1|1|1|t")
    answer(app, session, slug, "pre", "A-TWIN2", {item: 41}, self_code="t|t|1|1|1|\uff54")
    answer(app, session, slug, "post", "A-TWIN3", {item: 45}, self_code="t|t|1|1|1|t ")
    report = report_of(app, session, org, slug, **show_all())
    part = report["participation"]
    assert (part["paired"], part["paired_by_participant"], part["paired_by_code"], part["fuzzy_pairs"]) == (3, 1, 1, 1)
    assert part["ambiguous_codes"] == 1 and part["match_rate"] == pytest.approx(3 / 4)
    entry = scale(report, "decimal")
    assert entry["n_pairs"] == 3 and entry["n_fuzzy"] == 1
    assert entry["change"]["mean"] == pytest.approx((2 + 3 + 4) / 3)


def test_only_completed_responses_count(app, session, org):
    slug = new_project(app, session, org, ["decimal"])
    answer(app, session, slug, "pre", "C1", {("decimal", "amount"): 10})
    answer(app, session, slug, "post", "C1", {("decimal", "amount"): 90}, complete=False)
    report = report_of(app, session, org, slug, **show_all())
    assert report["participation"]["waves"]["post"] == {"status": "draft", "started": 1, "completed": 0}
    assert report["participation"]["paired"] == 0


# --- retrospective, follow-up, quotes, access --------------------------------------------------------

def test_then_test_is_self_perceived_change_with_response_shift(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating"], retrospective=True)
    pre, then, post = [5, 6, 4, 7, 5, 6], [4, 4, 3, 5, 4, 5], [7, 8, 6, 8, 7, 9]
    for wave, values in (("pre", pre), ("post", post), ("retro", then)):
        import_values(runner, tmp_path, slug, wave, "rating", values)
    report = cli_report(runner, slug, *SHOW_ALL)
    assert report["design"]["kind"] == "pre-post with retrospective then-test"
    retro = scale(report, "rating", "retrospective")
    assert (retro["label"], retro["comparison"], retro["baseline"]) == ("self-perceived change", "then→post", "then")
    assert retro["pre"]["mean"] == pytest.approx(np.mean(then))
    assert retro["change"]["mean"] == pytest.approx(np.mean(np.subtract(post, then)))
    shift = retro["response_shift"]
    assert shift["change"]["mean"] == pytest.approx(np.mean(np.subtract(then, pre)))
    assert (shift["pre"]["mean"], shift["then"]["mean"]) == (pytest.approx(np.mean(pre)), pytest.approx(np.mean(then)))
    assert "rci" not in shift
    assert scale(report, "rating")["reliability"]["then"]["n"] == 6


def test_every_key_of_the_report_is_documented(app, runner, session, org, tmp_path):
    from pathlib import Path

    slug = new_project(app, session, org, ["rating"], retrospective=True)
    for wave, values in (("pre", [5, 6, 4]), ("post", [7, 8, 6]), ("retro", [4, 4, 3]), ("followup", [6, 7, 6])):
        import_values(runner, tmp_path, slug, wave, "rating", values)
    answer(app, session, slug, "post", "P001", {("rating", "rating"): 7, ("rating", "story"): "Mooi"})
    participant = session.scalar(select(Participant).where(Participant.code == "P001"))
    session.add(Consent(participant_id=participant.id, wording_version="1", language="nl", share_quotes=True))
    session.commit()
    report = cli_report(runner, slug, *SHOW_ALL)
    assert report["quotes"] and report["followup"] and report["retrospective"]
    docs = (Path(__file__).parent.parent / "docs" / "report-json.md").read_text(encoding="utf-8")

    def keys(value, path=""):
        if isinstance(value, dict):
            for key, item in value.items():
                if path.endswith(("title", "question_text")) or path.endswith(".method"):
                    continue  # translation objects and the appendix texts
                yield key, f"{path}.{key}"
                yield from keys(item, f"{path}.{key}")
        elif isinstance(value, list):
            for item in value:
                yield from keys(item, path)

    undocumented = {where for key, where in keys(report) if f"`{key}`" not in docs}
    assert undocumented == set()


def test_then_test_without_pretest(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating"], retrospective=True)
    import_values(runner, tmp_path, slug, "post", "rating", [7, 8, 6, 8, 7, 9])
    import_values(runner, tmp_path, slug, "retro", "rating", [4, 4, 3, 5, 4, 5])
    report = cli_report(runner, slug, *SHOW_ALL)
    assert report["design"]["kind"] == "retrospective then-test without pretest"
    retro = scale(report, "rating", "retrospective")
    assert retro["n_pairs"] == 6 and retro["response_shift"] is None
    assert scale(report, "rating")["n_pairs"] == 0


def test_followup_is_compared_with_the_pretest(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating"])
    import_values(runner, tmp_path, slug, "pre", "rating", [4, 5, 6, 5, 4])
    import_values(runner, tmp_path, slug, "followup", "rating", [6, 6, 8, 7, 5])
    report = cli_report(runner, slug, *SHOW_ALL)
    [followup] = report["followup"]
    assert followup["comparison"] == "pre→followup" and followup["change"]["mean"] == pytest.approx(1.6)
    assert report["participation"]["followup_paired"] == 5 and report["participation"]["paired"] == 0


def test_quotes_only_from_residents_who_agreed(app, session, org):
    slug = new_project(app, session, org, ["rating"])
    for code, share, text in (("Q1", True, "  Ik ken nu\tmijn buren.\x07 "), ("Q2", False, "Niet delen aub"),
                              ("Q3", None, "Geen toestemming gegeven")):
        answer(app, session, slug, "post", code, {("rating", "rating"): 7, ("rating", "story"): text})
        if share is not None:
            participant = session.scalar(select(Participant).where(Participant.code == code))
            session.add(Consent(participant_id=participant.id, wording_version="1", language="nl",
                                share_quotes=share))
            session.commit()
    quotes = report_of(app, session, org, slug)["quotes"]
    assert quotes == [{"text": "Ik ken nu mijn buren.", "wave": "post", "instrument": "rating",
                       "question": "story", "question_text": {"nl": "Wat wil je nog kwijt?",
                                                              "en": "Wat wil je nog kwijt?"}, "chosen": False}]


def test_another_organisation_cannot_read_the_report(app, session, org, make_org):
    slug = new_project(app, session, org, ["rating"])
    other = make_org("Welzijn Zuid")
    with pytest.raises(NotFound):
        outcomes.project_report(session, get_registry(app), access.Actor(other.id, "admin"), slug)
