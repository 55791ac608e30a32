"""A network's report (issue 14, point 4): organisations side by side and combined, with stricter honesty rules.

Data go in through the response services (``tests.fixtures.outcomes.answer``), on the test-only
``rating`` instrument whose score is the answer, so the pooled figures can be checked against
SciPy on the same pairs. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from scipy import stats as scipy_stats
from surveyhub.models import Organisation
from surveyhub.services import network_report, networks
from surveyhub.services.errors import Invalid, NotFound
from tests.fixtures.outcomes import answer, new_project, with_outcome_instruments
from tests.test_across import RatingTwo
from tests.test_networks import context
from tests.fixtures.clock import local_today

ITEM = ("rating", "rating")
TODAY = local_today()
PERIOD = {"start": TODAY - timedelta(days=30), "end": TODAY + timedelta(days=1)}


@pytest.fixture
def app_config(app_config):
    config = with_outcome_instruments(app_config)
    config["EXTRA_PLUGINS"]["rating_two"] = RatingTwo()  # the rating instrument in a second version
    return config


def residents(app, session, slug: str, pre: list[int], post: list[int], *, prefix: str, codes=None) -> None:
    """One resident per value: a pre and a post answer; ``codes``: their self-made codes."""
    for i, (before, after) in enumerate(zip(pre, post)):
        code = f"{prefix}{i:03d}"
        self_code = codes[i] if codes else None
        answer(app, session, slug, "pre", code, {ITEM: before}, self_code=self_code, commit=False)
        answer(app, session, slug, "post", code, {ITEM: after}, self_code=self_code, commit=False)
    session.commit()


def self_code(i: int) -> str:
    return f"a|b|{i % 10}|{i // 10}|2|x"


@pytest.fixture
def hood(app, session, make_org, make_user):
    """North coordinates the network, South joins; each with an opted-in project of its own."""
    north, south, west = make_org("Buurtwerk Noord"), make_org("Welzijn Zuid"), make_org("Dorpsteam West")
    info, code = networks.create(context(app, session, north), name="Samen Oost", area="Oost")
    networks.join(context(app, session, south), code)
    session.commit()
    slugs = {"north": new_project(app, session, north, ["rating@1"], name="Speeltuin Noord"),
             "south": new_project(app, session, south, ["rating@1"], name="Moestuin Zuid")}
    for org, key in ((north, "north"), (south, "south")):
        networks.opt_in(context(app, session, org), info.slug, slugs[key])
    session.commit()
    return {"north": north, "south": south, "west": west, "slug": info.slug, "projects": slugs,
            "funder": make_user("funder", north)}


def report(app, session, org, slug, role="admin", user=None) -> dict:
    found = network_report.report(context(app, session, org, role=role, user=user), slug, **PERIOD)
    session.commit()
    return found


def test_residents_with_the_same_own_code_count_once_across_organisations(app, session, hood):
    # 15 residents in each organisation; 10 of South's made the same own code as 10 of North's.
    pre, post = [5] * 15, [7] * 15
    residents(app, session, hood["projects"]["north"], pre, post, prefix="N", codes=[self_code(i) for i in range(15)])
    residents(app, session, hood["projects"]["south"], pre, post, prefix="S",
              codes=[self_code(i) for i in range(10)] + [self_code(50 + i) for i in range(5)])
    found = report(app, session, hood["north"], hood["slug"])
    assert [(o["name"], o["residents"]) for o in found["organisations"]] == [("Buurtwerk Noord", 15),
                                                                           ("Welzijn Zuid", 15)]
    assert found["totals"]["residents"] == 20, "20 people, not 30"
    assert "same_residents_in_several_organisations" in found["limitations"]


def _lakens(app, session, hood, key: str, prefix: str, extra: int = 0) -> tuple[list[int], list[int]]:
    pre = [9, 6, 7, 8, 7, 9, 8, 8, 8, 7] + [6] * extra
    post = [9, 7, 8, 9, 8, 9, 9, 10, 9, 9] + [8] * extra
    residents(app, session, hood["projects"][key], pre, post, prefix=prefix)
    return pre, post


def test_the_combined_change_is_scipys_on_the_pooled_pairs_and_each_organisation_stands_beside_it(
        app, session, hood):
    north = _lakens(app, session, hood, "north", "N", extra=2)
    south = _lakens(app, session, hood, "south", "S", extra=1)
    found = report(app, session, hood["north"], hood["slug"])
    [scale] = found["scales"]
    pre = np.array(north[0] + south[0], float)
    post = np.array(north[1] + south[1], float)
    diff = post - pre
    assert scale["n_pairs"] == len(diff) == 23
    assert scale["change"]["mean"] == pytest.approx(diff.mean())
    low, high = scipy_stats.t.interval(0.95, len(diff) - 1, loc=diff.mean(), scale=scipy_stats.sem(diff))
    assert scale["change"]["ci95"] == pytest.approx([low, high])
    assert scale["test"]["p"] == pytest.approx(scipy_stats.ttest_rel(post, pre).pvalue)
    assert scale["effect_size"]["d_z"] == pytest.approx(diff.mean() / diff.std(ddof=1))
    assert scale["projects"] == 2 and not scale["too_few"]
    side = {o["name"]: o["scales"][0] for o in found["organisations"]}
    north_diff = np.array(north[1], float) - np.array(north[0], float)
    assert side["Buurtwerk Noord"]["change"]["mean"] == pytest.approx(north_diff.mean())
    assert side["Buurtwerk Noord"]["n_pairs"] == 12 and side["Welzijn Zuid"]["n_pairs"] == 11
    # The same report for every reader: both members' admins, a worker and the municipality's funder.
    networks.add_viewer(context(app, session, hood["north"]), hood["slug"], hood["funder"].email)
    session.commit()
    readers = [report(app, session, hood["south"], hood["slug"]),
               report(app, session, hood["north"], hood["slug"], role="worker"),
               report(app, session, hood["north"], hood["slug"], role="funder", user=hood["funder"])]
    for other in readers:
        assert {**other, "generated_at": None} == {**found, "generated_at": None}


def _shape(found: dict) -> str:
    return json.dumps({key: value for key, value in found.items() if key != "generated_at"}, sort_keys=True)


def test_a_small_project_opted_in_between_two_reports_cannot_be_worked_out(app, session, hood):
    """Adversarial: South opts in a project of 4 residents between two reports; compare them."""
    _lakens(app, session, hood, "north", "N", extra=2)
    _lakens(app, session, hood, "south", "S", extra=1)
    small = new_project(app, session, hood["south"], ["rating@1"], name="Klein Clubje")
    residents(app, session, small, [1, 1, 2, 1], [10, 10, 9, 10], prefix="K")
    before = report(app, session, hood["north"], hood["slug"])
    networks.opt_in(context(app, session, hood["south"]), hood["slug"], small)
    session.commit()
    after = report(app, session, hood["north"], hood["slug"])
    # Change figures do not move at all: 4 pairs are too few to count in them.
    assert after["scales"][0]["n_pairs"] == before["scales"][0]["n_pairs"]
    for key in ("change", "pre", "post", "effect_size", "test", "rci"):
        assert after["scales"][0][key] == before["scales"][0][key], key
    assert [o["scales"] for o in after["organisations"]] == [o["scales"] for o in before["organisations"]]
    assert after["scales"][0]["projects_too_small"] == 1 and "projects_too_small" in after["limitations"]
    # Counts are rounded to 5: the difference is never the project's 4.
    differences = []
    for part_before, part_after in [(before["totals"], after["totals"])] + list(zip(
            before["organisations"], after["organisations"])):
        for key in network_report.ROUNDED:
            first, second = part_before[key], part_after[key]
            for value in (first, second):
                assert value == 0 or (isinstance(value, str) and value.startswith("<")) or value % 5 == 0, (key, value)
            if isinstance(first, int) and isinstance(second, int):
                differences.append(second - first)
    assert 4 not in differences and all(d % 5 == 0 for d in differences)
    assert before["totals"]["residents"] == 25 and after["totals"]["residents"] == 25  # 23 and 27
    # Nothing about one project or one resident: no project names, slugs, codes, quotes or forest.
    text = _shape(after)
    for secret in ("Klein Clubje", small, "Speeltuin Noord", "Moestuin Zuid", "K000", "N000", "S000",
                   '"forest"', '"quotes"', '"slug": "speeltuin', "a|b|"):
        assert secret not in text, secret


def test_an_organisation_with_too_few_pairs_shows_too_few_and_small_counts_as_below_five(app, session, hood):
    _lakens(app, session, hood, "north", "N")
    residents(app, session, hood["projects"]["south"], [3, 4, 5], [6, 6, 6], prefix="S")
    found = report(app, session, hood["north"], hood["slug"])
    south = next(o for o in found["organisations"] if o["name"] == "Welzijn Zuid")
    assert south["residents"] == "<5" and south["pairs"] == "<5"
    assert south["scales"] == [{"instrument": "rating", "instrument_version": 1, "scale": "rating", "projects": 0,
                                "too_few": True, "n_pairs": None, "change": {"mean": None, "ci95": None},
                                "effect_size": {"d_z": None, "g_av": None}}]
    north = next(o for o in found["organisations"] if o["name"] == "Buurtwerk Noord")
    assert north["scales"][0]["too_few"] is False and north["scales"][0]["n_pairs"] == 10


def test_the_strictest_threshold_of_any_member_holds_for_everyone(app, session, hood):
    _lakens(app, session, hood, "north", "N", extra=1)  # 11 pairs
    org = session.get(Organisation, hood["south"].id)
    org.min_pairs_tests = 12
    session.commit()
    found = report(app, session, hood["north"], hood["slug"])
    assert found["thresholds"] == {"min_pairs": 12, "min_means": 12, "min_tests": 12, "min_cell": 5, "rounding": 5}
    [scale] = found["scales"]
    assert scale["too_few"] and scale["change"]["mean"] is None
    assert found["organisations"][0]["scales"][0]["too_few"]


def test_only_members_and_funders_let_in_read_it(app, session, hood, make_user):
    with pytest.raises(NotFound):
        report(app, session, hood["west"], hood["slug"])
    with pytest.raises(NotFound):
        report(app, session, hood["north"], hood["slug"], role="funder", user=hood["funder"])
    with pytest.raises(NotFound):
        report(app, session, hood["north"], "no-such-network")
    with pytest.raises(Invalid):
        network_report.report(context(app, session, hood["north"]), hood["slug"], start=TODAY,
                              end=TODAY - timedelta(days=1))
    empty = report(app, session, hood["north"], hood["slug"])
    assert empty["totals"]["residents"] == 0 and empty["scales"] == [] and "no_pairs" in empty["limitations"]
    assert [o["projects_opted_in"] for o in empty["organisations"]] == [1, 1]


def test_where_versions_differ_the_report_names_organisations_and_counts_projects_never_which(app, session, hood,
                                                                                              client_for, make_user):
    _lakens(app, session, hood, "north", "N")
    newer = new_project(app, session, hood["south"], ["rating@2"], name="Nieuwe Versie Zuid")
    residents(app, session, newer, [5] * 10, [7] * 10, prefix="V")
    networks.opt_in(context(app, session, hood["south"]), hood["slug"], newer)
    session.commit()
    found = report(app, session, hood["north"], hood["slug"])
    assert found["version_notes"] == [{"instrument": "rating", "title": {"nl": "Cijfer", "en": "Cijfer"}, "versions": [
        {"version": 1, "projects": 1, "organisations": ["Buurtwerk Noord"]},
        {"version": 2, "projects": 1, "organisations": ["Welzijn Zuid"]}]}]
    assert [(s["instrument_version"], s["n_pairs"]) for s in found["scales"]] == [(1, 10), (2, 10)]
    assert "versions_differ" in found["limitations"] and newer not in _shape(found)
    # The page words it with the organisations' names, and names no project.
    admin = make_user("admin", hood["south"])
    page = client_for(admin.email).get(f"/networks/{hood['slug']}/report")
    assert page.status_code == 200 and "Nieuwe Versie Zuid" not in page.text and "Speeltuin Noord" not in page.text
