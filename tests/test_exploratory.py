"""Which elements seem to work: change by participation intensity and by role held (exploratory, not causal).

Every figure is checked against a direct SciPy computation on the same pairs; the tie rule of the
terciles, the all-or-nothing suppression per grouping and the overlap guard are checked on small,
adversarial cases; Hypothesis checks that group sizes add up and that suppression never leaks a value.
"""

from __future__ import annotations

import itertools
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sqlalchemy import select

from surveyhub.models import Activity, ActivityParticipant, Participant, Project
from surveyhub.stats.subgroups import compare, describe_group, reveals_small_set, tercile_groups, welch
from tests.fixtures.outcomes import cli_report, codes, import_values, new_project, with_outcome_instruments
from tests.test_report_contract import documented_tables, own_keys


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


LIMITS = {"min_means": 5, "min_tests": 10, "min_cell": 5}


# --- the tercile rule ------------------------------------------------------------------------------

def test_terciles_cut_at_the_third_and_two_thirds_positions():
    labels, bounds = tercile_groups([1, 2, 3, 4, 5, 6, 7, 8, 9])
    assert labels == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert bounds == [(None, 3.0), (3.0, 6.0), (6.0, None)]


def test_terciles_never_split_ties_and_drop_empty_groups():
    # Positions ceil(10/3)=4 and ceil(20/3)=7 both hold 0: the lower group takes every 0, no middle group.
    labels, bounds = tercile_groups([0, 0, 0, 0, 0, 0, 0, 2, 3, 5])
    assert labels == [0] * 7 + [1, 1, 1]
    assert bounds == [(None, 0.0), (0.0, None)]
    labels, bounds = tercile_groups([4, 4, 4, 4])  # everyone did the same: one group, nothing to compare
    assert set(labels) == {0} and len(bounds) == 1
    # The same values in another order get the same groups.
    values = [5, 1, 3, 3, 9, 0, 3, 7]
    labels, _ = tercile_groups(values)
    shuffled = list(reversed(values))
    again, _ = tercile_groups(shuffled)
    assert [dict(zip(values, labels))[v] for v in shuffled] == again


# --- the numbers against SciPy ----------------------------------------------------------------------

def test_group_figures_and_the_welch_difference_match_scipy():
    rng = np.random.default_rng(14)
    pre_a, pre_b = rng.normal(3, 0.6, 14), rng.normal(2.6, 0.7, 11)
    post_a, post_b = pre_a + rng.normal(0.6, 0.5, 14), pre_b + rng.normal(0.1, 0.4, 11)
    a, b = describe_group(pre_a, post_a), describe_group(pre_b, post_b)
    change_a, change_b = post_a - pre_a, post_b - pre_b
    assert a["baseline"]["mean"] == pytest.approx(pre_a.mean()) and a["baseline"]["sd"] == pytest.approx(
        pre_a.std(ddof=1))
    low, high = stats.t.interval(0.95, 13, loc=change_a.mean(), scale=stats.sem(change_a))
    assert a["change"]["ci95"] == pytest.approx([low, high])
    found = welch(a, b)
    expected = stats.ttest_ind(change_a, change_b, equal_var=False)
    assert found["mean"] == pytest.approx(change_a.mean() - change_b.mean())
    assert found["p"] == pytest.approx(expected.pvalue)
    ci = expected.confidence_interval(0.95)
    assert found["ci95"] == pytest.approx([ci.low, ci.high])


def test_all_or_nothing_per_grouping():
    rng = np.random.default_rng(1)
    groups = [(list(rng.normal(3, 1, n)), list(rng.normal(3.5, 1, n))) for n in (12, 4)]
    shown = compare(groups, (0, 1), **LIMITS)
    assert [g["n"] for g in shown["groups"]] == ["≥5", "<5"]  # the lone hidden count is protected
    assert all(g["change"]["mean"] is None and g["baseline"]["mean"] is None for g in shown["groups"])
    assert shown["difference"] == {"mean": None, "ci95": None, "p": None}
    assert {"means", "tests", "counts"} <= set(shown["suppressed"])
    groups = [(list(rng.normal(3, 1, n)), list(rng.normal(3.5, 1, n))) for n in (12, 7)]
    shown = compare(groups, (0, 1), **LIMITS)
    assert all(g["change"]["mean"] is not None and g["change"]["ci95"] is None for g in shown["groups"])
    assert shown["difference"]["mean"] is not None and shown["difference"]["p"] is None
    assert shown["suppressed"] == ["tests"]


def test_a_grouping_that_overlaps_the_other_but_for_one_resident_is_caught():
    # Led = the upper group plus one resident of the middle group: led minus upper is that one resident.
    intensity = ["lower"] * 6 + ["middle"] * 6 + ["upper"] * 6
    led = [False] * 6 + [True] + [False] * 5 + [True] * 6
    assert reveals_small_set([intensity, led], 5)
    assert not reveals_small_set([intensity], 5)
    assert not reveals_small_set([intensity, [False] * 3 + [True] * 3 + [False] * 3 + [True] * 3 + [False] * 3
                                  + [True] * 3], 5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.booleans(), st.floats(1, 5), st.floats(1, 5)), min_size=2,
                max_size=40), st.integers(1, 8), st.integers(1, 12))
def test_group_counts_add_up_and_no_hidden_value_leaks(rows, min_means, min_cell):
    limits = {"min_means": min_means, "min_tests": min_means + 2, "min_cell": min_cell}
    labels, bounds = tercile_groups([r[0] for r in rows])
    groups = [([r[2] for r, g in zip(rows, labels) if g == k], [r[3] for r, g in zip(rows, labels) if g == k])
              for k in range(len(bounds))]
    shown = compare(groups, (len(bounds) - 1, 0), **limits)
    ns = [len(pre) for pre, _post in groups]
    assert sum(ns) == len(rows)
    for n, group in zip(ns, shown["groups"]):
        assert group["n"] == n or (isinstance(group["n"], str) and (n < min_cell or group["n"].startswith("≥")))
    if min(ns) < min_means:  # a hidden group: nothing of any group shown
        assert all(g["change"]["mean"] is None and g["baseline"]["sd"] is None for g in shown["groups"])
    else:  # every shown set holds at least min_means, and so does every union the total lets one form
        assert not reveals_small_set([labels], min_means)
    if min(ns) < min_means + 2:
        assert all(g["change"]["ci95"] is None for g in shown["groups"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.booleans()), min_size=1, max_size=14), st.integers(2, 6))
def test_the_overlap_guard_agrees_with_brute_force(rows, min_size):
    """Brute force: a set of residents is revealed when its indicator is a combination of the published sets."""
    first, second = [r[0] for r in rows], [r[1] for r in rows]
    published = [np.ones(len(rows))] + [np.asarray([x == v for x in labels], dtype=float)
                                         for labels in (first, second) for v in set(labels)]
    matrix = np.vstack(published)
    revealed = False
    for size in range(1, min(min_size, len(rows) + 1)):
        for chosen in itertools.combinations(range(len(rows)), size):
            target = np.zeros(len(rows))
            target[list(chosen)] = 1
            solution = np.linalg.lstsq(matrix.T, target, rcond=None)[0]
            if np.allclose(matrix.T @ solution, target, atol=1e-8):
                revealed = True
    assert reveals_small_set([first, second], min_size) == revealed


# --- through a real report ---------------------------------------------------------------------------

def add_activities(session, slug: str, plan: dict[str, list[tuple[float, str]]]) -> None:
    """plan: participant code -> [(hours, role)], one activity per entry (worker-recorded, so confirmed)."""
    project = session.scalar(select(Project).where(Project.slug == slug))
    ids = {p.code: p.id for p in session.scalars(select(Participant).where(Participant.project_id == project.id))}
    for code, entries in plan.items():
        for hours, role in entries:
            activity = Activity(project_id=project.id, happened_on=date(2026, 5, 1), kind="workday", hours=hours)
            activity.participants.append(ActivityParticipant(participant_id=ids[code], role=role))
            session.add(activity)
    session.commit()


def test_the_report_groups_pairs_by_hours_and_role_and_matches_scipy(app, runner, session, make_org, tmp_path):
    org = make_org("Buurtwerk Verkennend")
    slug = new_project(app, session, org, ["rating"])
    rng = np.random.default_rng(7)
    n = 33
    pre = [int(v) for v in rng.integers(3, 8, n)]
    post = [min(10, p + int(d)) for p, d in zip(pre, rng.integers(-1, 4, n))]
    import_values(runner, tmp_path, slug, "pre", "rating", pre)
    import_values(runner, tmp_path, slug, "post", "rating", post)
    ids = codes(n)
    hours = {code: float(i % 11) for i, code in enumerate(ids)}
    leaders = set(ids[::3])
    add_activities(session, slug, {code: [(hours[code], "organiser" if code in leaders else "participant")]
                                   for code in ids if hours[code] > 0})
    report = cli_report(runner, slug, "--min-n", "5", "--min-tests", "8", "--min-cell", "3")
    block = report["exploratory"]
    assert block["exploratory"] is True and block["causal"] is False and block["measure"] == "hours"
    [entry] = block["scales"]
    assert entry["n_pairs"] == n
    values = [hours[c] for c in ids]
    labels, bounds = tercile_groups(values)
    pre_a, post_a = np.asarray(pre, float), np.asarray(post, float)
    by_intensity = entry["by_intensity"]
    assert [g["key"] for g in by_intensity["groups"]] == ["lower", "middle", "upper"]
    for k, group in enumerate(by_intensity["groups"]):
        members = np.asarray(labels) == k
        changes = post_a[members] - pre_a[members]
        assert group["n"] == int(members.sum())
        assert (group["above"], group["up_to"]) == bounds[k]
        assert group["baseline"]["mean"] == pytest.approx(pre_a[members].mean())
        assert group["baseline"]["sd"] == pytest.approx(pre_a[members].std(ddof=1))
        assert group["change"]["mean"] == pytest.approx(changes.mean())
        low, high = stats.t.interval(0.95, changes.size - 1, loc=changes.mean(), scale=stats.sem(changes))
        assert group["change"]["ci95"] == pytest.approx([low, high])
    top, bottom = (np.asarray(labels) == 2), (np.asarray(labels) == 0)
    welch_ = stats.ttest_ind(post_a[top] - pre_a[top], post_a[bottom] - pre_a[bottom], equal_var=False)
    assert by_intensity["difference"]["between"] == ["upper", "lower"]
    assert by_intensity["difference"]["p"] == pytest.approx(welch_.pvalue)
    ci = welch_.confidence_interval()
    assert by_intensity["difference"]["ci95"] == pytest.approx([ci.low, ci.high])
    led = np.asarray([c in leaders and hours[c] > 0 for c in ids])
    role = entry["by_role"]
    if "overlap" not in role["suppressed"]:
        assert role["groups"][0]["key"] == "led" and role["groups"][0]["n"] == int(led.sum())
        expected = stats.ttest_ind(post_a[led] - pre_a[led], post_a[~led] - pre_a[~led], equal_var=False)
        assert role["difference"]["p"] == pytest.approx(expected.pvalue)
    assert report["design"]["method"]["exploratory"].startswith("Exploratory, not causal")


def test_activities_are_the_measure_when_no_hours_were_recorded_and_unconfirmed_ones_do_not_count(
        app, runner, session, make_org, tmp_path):
    org = make_org("Buurtwerk Zonder Uren")
    slug = new_project(app, session, org, ["rating"])
    import_values(runner, tmp_path, slug, "pre", "rating", [5] * 12)
    import_values(runner, tmp_path, slug, "post", "rating", [6, 7, 5, 6, 8, 6, 7, 5, 6, 7, 6, 8])
    ids = codes(12)
    add_activities(session, slug, {code: [(0.0, "participant")] * (i % 4) for i, code in enumerate(ids)})
    report = cli_report(runner, slug)
    assert report["exploratory"]["measure"] == "activities"
    # A resident's own contribution that no worker confirmed does not count.
    project = session.scalar(select(Project).where(Project.slug == slug))
    pid = session.scalar(select(Participant.id).where(Participant.project_id == project.id,
                                                      Participant.code == ids[0]))
    activity = Activity(project_id=project.id, happened_on=date(2026, 6, 1), kind="event", hours=3.0)
    link = ActivityParticipant(participant_id=pid, role="chair", source="resident")
    activity.participants.append(link)
    session.add(activity)
    session.flush()
    link.confirmed_at = None  # (set after the insert: the column's default would fill in an explicit None)
    session.commit()
    assert session.scalar(select(ActivityParticipant.confirmed_at).where(ActivityParticipant.id == link.id)) is None
    again = cli_report(runner, slug)
    assert again["exploratory"] == report["exploratory"]


def test_without_activities_the_block_says_why(app, runner, session, make_org, tmp_path):
    org = make_org("Buurtwerk Leeg")
    slug = new_project(app, session, org, ["rating"])
    import_values(runner, tmp_path, slug, "pre", "rating", [5, 6, 7])
    report = cli_report(runner, slug)
    assert report["exploratory"] == {"exploratory": True, "causal": False, "measure": None, "reason": "no_pairs",
                                     "scales": []}
    import_values(runner, tmp_path, slug, "post", "rating", [6, 6, 8])
    assert cli_report(runner, slug)["exploratory"]["reason"] == "no_activities"


def test_a_pair_made_by_self_made_code_adds_up_both_participants(app, runner, session, make_org, tmp_path):
    """Two anonymous participants with one code are one resident: their activities add up."""
    from tests.fixtures.outcomes import answer

    org = make_org("Buurtwerk Code")
    slug = new_project(app, session, org, ["rating"])
    for i in range(12):
        code = f"a|b|c|d|e|{i}"
        answer(app, session, slug, "pre", f"A{i}", {("rating", "rating"): 4 + i % 3}, self_code=code)
        answer(app, session, slug, "post", f"B{i}", {("rating", "rating"): 5 + i % 4}, self_code=code)
    # Resident 0: 2 h recorded on the pre participant and 3 h on the post participant: 5 h, the most.
    add_activities(session, slug, {"A0": [(2.0, "participant")], "B0": [(3.0, "organiser")],
                                   **{f"A{i}": [(1.0, "participant")] for i in range(1, 12)}})
    report = cli_report(runner, slug, "--min-n", "1", "--min-tests", "1", "--min-cell", "1")
    [entry] = report["exploratory"]["scales"]
    upper = [g for g in entry["by_intensity"]["groups"] if g["key"] == "upper"]
    assert upper and upper[0]["n"] == 1 and upper[0]["above"] == 1.0
    assert [g["n"] for g in entry["by_role"]["groups"]] == [1, 11]


# --- the document ------------------------------------------------------------------------------------

def test_the_exploratory_and_profile_tables_are_documented_key_by_key():
    from surveyhub.services import report_contract as contract

    tables = documented_tables()
    for heading, kind in (("`exploratory`", contract.Exploratory), ("`exploratory` scales", contract.ExploratoryScale),
                          ("Comparisons", contract.SubgroupComparison), ("`reference`", contract.Reference),
                          ("`participation_profile`", contract.ParticipationProfile)):
        documented = {key for keys, _meaning in tables[heading] for key in keys}
        assert documented == own_keys(kind), (heading, documented ^ own_keys(kind))


# --- the PDF -------------------------------------------------------------------------------------------

def test_the_pdf_says_what_residents_did_and_labels_the_comparison_exploratory(app, runner, session, make_org,
                                                                                tmp_path):
    from surveyhub.plugins import get_registry
    from surveyhub.services import access, outcomes
    from surveyhub.services import documents as docs
    from tests.fixtures.documents import BASE_URL, pdf_text

    org = make_org("Buurtwerk Rapport")
    slug = new_project(app, session, org, ["rating"], name="Speeltuin Verkenning")
    n = 30
    pre = [4 + i % 4 for i in range(n)]
    post = [p + (i % 3) for i, p in enumerate(pre)]
    import_values(runner, tmp_path, slug, "pre", "rating", pre)
    import_values(runner, tmp_path, slug, "post", "rating", post)
    ids = codes(n)
    add_activities(session, slug, {code: [(2.0, "organiser" if i >= 20 else "participant")] * (1 + i // 10)
                                   for i, code in enumerate(ids)})
    actor = access.Actor(org.id, "worker")
    report = outcomes.project_report(session, get_registry(app), actor, slug)
    issued = docs.issue_report(session, get_registry(app), actor, slug, base_url=BASE_URL, report=report)
    session.commit()
    text = " ".join(pdf_text(issued.pdf).split())
    assert "Wat bewoners deden" in text
    assert "Er zijn 60 activiteiten vastgelegd, samen 120 uur." in text
    assert "Wat lijkt te werken? (verkennend)" in text
    assert "Dit is verkennend: het laat niet zien wat de oorzaak is." in text
    assert "Bewoners die meer doen, kunnen bij de start al anders zijn." in text
    assert "Minste: ≤ 2 uur 10" in text and "Midden: > 2 en ≤ 4 uur 10" in text and "Meeste: > 4 uur 10" in text
    assert "Verschil meeste − minste +0,20 (-0,62 tot 1,02); p-waarde 0,616 (toets van Welch)" in text
    assert "Nooit georganiseerd of voorgezeten" in text and "Verschil georganiseerd − nooit" in text
    assert "Vergeleken met vergelijkbare projecten" not in text  # no other organisation's projects
