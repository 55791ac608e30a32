"""The engine across projects (``services.across``): which data belong to the period, residents
counted once across projects and organisations, pooled change checked against SciPy on the same
concatenated pairs, small projects kept out of the pool, versions never pooled together.

Data go in through the response services (scores by the real scoring code) on the test-only
"rating" instrument, whose score is the answer; SQLite and PostgreSQL (``database_url``).
"""

from __future__ import annotations

import math
from datetime import date, datetime, timezone

import numpy as np
import pytest
from scipy import stats as scipy_stats
from sqlalchemy import select, update

from surveyhub import hookimpl
from surveyhub.models import Activity, ActivityParticipant, Participant, Project, ProjectOutput, Response, Wave
from surveyhub.plugins import get_registry
from surveyhub.services import access, across, outcomes
from tests.fixtures.outcomes import answer, new_project, with_outcome_instruments
from tests.fixtures.statements import statements
from tests.plugins.outcome_instruments import RATING

#: Thresholds as the defaults: means from 5 pairs, tests from 10, counts from 5.
DEFAULTS = {"min_means": 5, "min_tests": 10, "min_cell": 5,
            "sources": {"min_means": "default", "min_tests": "default", "min_cell": "default"}}

YEAR = (date(2026, 1, 1), date(2026, 12, 31))
IN_YEAR = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
LAST_YEAR = datetime(2025, 6, 15, 12, 0, tzinfo=timezone.utc)


class RatingTwo:
    """The rating instrument in a second version, for "versions are never pooled"."""

    @hookimpl
    def surveyhub_register_instruments(self):
        return [{**RATING, "version": 2}]


@pytest.fixture
def app_config(app_config):
    config = with_outcome_instruments(app_config)
    config["EXTRA_PLUGINS"]["rating_two"] = RatingTwo()
    return config


def rated_project(app, session, org, name: str, pre: list[float], post: list[float], *, prefix: str = "P",
                  self_codes: list[str | None] | None = None, completed: datetime = IN_YEAR,
                  instrument: str = "rating@1") -> Project:
    """A project whose resident i rated ``pre[i]`` at the start and ``post[i]`` at the end."""
    slug = new_project(app, session, org, [instrument], name=name)
    add_pairs(app, session, slug, pre, post, prefix=prefix, self_codes=self_codes, completed=completed)
    return session.scalar(select(Project).where(Project.slug == slug))


def add_pairs(app, session, slug: str, pre: list[float], post: list[float | None], *, prefix: str = "P",
              self_codes=None, completed: datetime = IN_YEAR, start: int = 0) -> None:
    """Residents ``prefix``+number answer pre and (where ``post[i]`` is not None) post."""
    for i, (before, after) in enumerate(zip(pre, post), start=start):
        code = f"{prefix}{i:03d}"
        self_code = self_codes[i - start] if self_codes else None
        answer(app, session, slug, "pre", code, {("rating", "rating"): before}, self_code=self_code, commit=False)
        if after is not None:
            answer(app, session, slug, "post", code, {("rating", "rating"): after}, commit=False)
    session.commit()
    set_completed(session, slug, completed)


def set_completed(session, slug: str, when: datetime, codes: list[str] | None = None) -> None:
    """Every completed response of the project (or of these participants) completed at ``when``."""
    project_id = session.scalar(select(Project.id).where(Project.slug == slug))
    chosen = select(Response.id).join(Wave, Wave.id == Response.wave_id).join(
        Participant, Participant.id == Response.participant_id).where(Wave.project_id == project_id)
    if codes is not None:
        chosen = chosen.where(Participant.code.in_(codes))
    session.execute(update(Response).where(Response.id.in_(chosen), Response.status == "completed")
                    .values(completed_at=when))
    session.commit()


def summarise(app, session, projects, start=YEAR[0], end=YEAR[1], thresholds=None) -> dict:
    found = across.summarise(session, get_registry(app), list(projects), start=start, end=end,
                             thresholds=thresholds or DEFAULTS)
    session.commit()
    return found


def the_scale(summary: dict, version: int = 1) -> dict:
    [entry] = [entry for entry in summary["scales"] if entry["instrument_version"] == version]
    return entry


def spread(n: int, seed: int, low: int = 2, high: int = 9) -> list[float]:
    rng = np.random.default_rng(seed)
    return [float(v) for v in rng.integers(low, high, size=n)]


def test_pooled_change_is_scipy_on_the_concatenated_pairs(app, session, make_org):
    org = make_org()
    pre_a, post_a = spread(8, 1), spread(8, 2, 3, 10)
    pre_b, post_b = spread(12, 3), spread(12, 4, 3, 10)
    a = rated_project(app, session, org, "Buurttuin", pre_a, post_a, prefix="A")
    b = rated_project(app, session, org, "Speeltuin", pre_b, post_b, prefix="B")
    entry = the_scale(summarise(app, session, [a, b]))

    pre, post = np.array(pre_a + pre_b), np.array(post_a + post_b)
    diff = post - pre
    t = scipy_stats.ttest_rel(post, pre)
    assert entry["n_pairs"] == 20 and entry["projects"] == 2 and entry["projects_too_small"] == 0
    assert entry["pre"]["mean"] == pytest.approx(pre.mean()) and entry["post"]["mean"] == pytest.approx(post.mean())
    assert entry["change"]["mean"] == pytest.approx(diff.mean())
    assert entry["change"]["sd"] == pytest.approx(diff.std(ddof=1))
    half = scipy_stats.t.ppf(0.975, 19) * diff.std(ddof=1) / math.sqrt(20)
    assert entry["change"]["ci95"] == pytest.approx([diff.mean() - half, diff.mean() + half])
    assert entry["test"]["t"] == pytest.approx(t.statistic) and entry["test"]["p"] == pytest.approx(t.pvalue)
    assert entry["test"]["df"] == 19
    assert entry["test"]["wilcoxon_p"] == pytest.approx(scipy_stats.wilcoxon(diff).pvalue)
    assert entry["effect_size"]["d_z"] == pytest.approx(diff.mean() / diff.std(ddof=1))
    # The forest: each project's own mean change with its interval (B has 12 pairs: shown; A has 8: the
    # interval needs min_tests), then the pooled row.
    rows = {row["slug"]: row for row in entry["forest"]}
    assert [row["kind"] for row in entry["forest"]] == ["project", "project", "pooled"]
    assert rows[a.slug]["mean"] == pytest.approx(np.mean(post_a) - np.mean(pre_a)) and rows[a.slug]["ci95"] is None
    diff_b = np.array(post_b) - np.array(pre_b)
    half_b = scipy_stats.t.ppf(0.975, 11) * diff_b.std(ddof=1) / math.sqrt(12)
    assert rows[b.slug]["ci95"] == pytest.approx([diff_b.mean() - half_b, diff_b.mean() + half_b])
    assert entry["forest"][-1]["mean"] == pytest.approx(diff.mean()) and entry["forest"][-1]["n_pairs"] == 20


def test_a_pooled_single_project_is_its_own_report(app, session, make_org):
    """One project pooled alone gives the project report's figures (the same code under the same rules)."""
    org = make_org()
    project = rated_project(app, session, org, "Buurttuin", spread(15, 5), spread(15, 6, 3, 10))
    entry = the_scale(summarise(app, session, [project]))
    own = outcomes.project_report(session, get_registry(app), access.Actor(org.id, "admin"), project.slug)["scales"][0]
    for key in ("n_pairs", "pre", "post", "change", "effect_size", "rci", "baseline_ceiling", "suppressed"):
        assert entry[key] == own[key], key
    assert entry["test"]["t"] == own["test"]["t"] and entry["reliability"]["pre"] == own["reliability"]["pre"]


def test_a_project_too_small_stays_out_of_the_pool_so_comparing_reports_gives_nothing_away(app, session, make_org):
    """4 pairs in A, 12 in B: pooling all 16 would give A's mean back as (16·pooled − 12·B) / 4."""
    org = make_org()
    small = rated_project(app, session, org, "Klein", [2, 3, 4, 5], [9, 9, 9, 9], prefix="S")
    big = rated_project(app, session, org, "Groot", spread(12, 7), spread(12, 8, 3, 10), prefix="G")
    entry = the_scale(summarise(app, session, [small, big]))
    own = outcomes.project_report(session, get_registry(app), access.Actor(org.id, "admin"), big.slug)["scales"][0]
    assert entry["n_pairs"] == 12 and entry["projects"] == 1 and entry["projects_too_small"] == 1
    assert entry["change"]["mean"] == own["change"]["mean"]  # the pool IS the big project: nothing of the small
    rows = {row["slug"]: row for row in entry["forest"]}
    assert rows[small.slug] == {**rows[small.slug], "n_pairs": 4, "mean": None, "ci95": None, "pooled": False}
    assert "means" in rows[small.slug]["suppressed"]
    # A report of the small project alone shows no figures either.
    alone = the_scale(summarise(app, session, [small]))
    assert alone["n_pairs"] == 0 and alone["change"]["mean"] is None and alone["projects_too_small"] == 1


def test_different_versions_are_never_pooled_and_are_named(app, session, make_org):
    org = make_org()
    one = rated_project(app, session, org, "Eén", spread(6, 9), spread(6, 10), prefix="E")
    two = rated_project(app, session, org, "Twee", spread(7, 11), spread(7, 12), prefix="T", instrument="rating@2")
    summary = summarise(app, session, [one, two])
    assert the_scale(summary, 1)["n_pairs"] == 6 and the_scale(summary, 2)["n_pairs"] == 7
    assert summary["version_notes"] == [{"instrument": "rating", "title": RATING["title"], "versions": [
        {"version": 1, "projects": [one.slug]}, {"version": 2, "projects": [two.slug]}]}]


def test_a_self_made_code_is_one_resident_across_projects_and_organisations(app, session, make_org):
    north, south = make_org("Buurtwerk Noord"), make_org("Welzijn Zuid")
    same = "Jan|Pietersen|12|rood|A|7"
    a = rated_project(app, session, north, "Buurttuin", [3, 4], [4, 5], prefix="A", self_codes=[same, None])
    # The same code typed otherwise (case, spaces) in a second project of the same organisation ...
    b = rated_project(app, session, north, "Speeltuin", [3], [4], prefix="B", self_codes=["  jan|PIETERSEN |12|Rood|a|7"])
    # ... and in another organisation's project; the participant codes A000/B000 never link residents.
    c = rated_project(app, session, south, "Moestuin", [2, 2], [3, 3], prefix="A", self_codes=[same.upper(), None])
    one_org = summarise(app, session, [a, b])
    assert [row["residents"] for row in one_org["projects"]] == [2, 1]
    assert one_org["totals"]["residents"] == 2 and one_org["totals"]["residents_in_projects"] == 3
    network = summarise(app, session, [a, b, c])
    assert network["totals"]["organisations"] == 2
    assert network["totals"]["residents"] == 3 and network["totals"]["residents_in_projects"] == 5


def test_the_period_decides_pairs_residents_activities_and_outputs(app, session, make_org):
    org = make_org()
    project = rated_project(app, session, org, "Buurttuin", [3, 4, 5, 3, 4, 5], [4, 5, 5, 4, 5, 5])
    set_completed(session, project.slug, LAST_YEAR, codes=["P000", "P001"])  # both waves of two residents
    residents = dict(session.execute(select(Participant.code, Participant.id)
                                     .where(Participant.project_id == project.id)).all())
    held = Activity(project_id=project.id, happened_on=date(2026, 3, 1), kind="workday", hours=4.0)
    earlier = Activity(project_id=project.id, happened_on=date(2025, 12, 31), kind="meeting", hours=2.0)
    proposed = Activity(project_id=project.id, happened_on=date(2026, 4, 1), kind="event", hours=3.0)
    session.add_all([held, earlier, proposed])
    session.flush()
    session.add_all([
        ActivityParticipant(activity_id=held.id, participant_id=residents["P000"], role="organiser"),
        ActivityParticipant(activity_id=held.id, participant_id=residents["P002"], hours=1.5),
        ActivityParticipant(activity_id=held.id, participant_id=residents["P001"], source="resident"),
        ActivityParticipant(activity_id=earlier.id, participant_id=residents["P001"]),
        ActivityParticipant(activity_id=proposed.id, participant_id=residents["P001"]),
        ProjectOutput(project_id=project.id, happened_on=date(2026, 5, 12), description="Speeltuin geopend"),
        ProjectOutput(project_id=project.id, happened_on=date(2027, 1, 1), description="Volgend jaar"),
    ])
    session.flush()
    # Waiting for a worker: a resident's proposed activity, and a resident's own contribution to the work day.
    # (Set after the insert: the column's default fills in a None given to the constructor.)
    session.execute(update(Activity).where(Activity.id == proposed.id).values(confirmed_at=None))
    session.execute(update(ActivityParticipant).where(ActivityParticipant.activity_id == held.id,
                                                      ActivityParticipant.participant_id == residents["P001"])
                    .values(confirmed_at=None))
    session.commit()
    [row] = summarise(app, session, [project])["projects"]
    assert row["pairs"] == 4 and row["post"] == 4 and row["answered"] == 4
    assert row["in_activities"] == 2 and row["residents"] == 5  # P000 took part in the workday, P001 did not count
    assert row["activities"] == 1 and row["activity_hours"] == 4.0 and row["resident_hours"] == 5.5
    assert [output["description"] for output in row["outputs"]] == ["Speeltuin geopend"]
    # Last year: the two early residents' pairs and the December meeting (P001 took part).
    [last] = summarise(app, session, [project], date(2025, 1, 1), date(2025, 12, 31))["projects"]
    assert last["pairs"] == 2 and last["activities"] == 1 and last["residents"] == 2
    # A period with nothing in it: no project at all.
    empty = summarise(app, session, [project], date(2020, 1, 1), date(2020, 12, 31))
    assert empty["projects"] == [] and empty["totals"]["residents"] == 0 and empty["scales"] == []


def test_reliable_change_overall_adds_only_scales_shown_whole(app, session, make_org):
    org = make_org()
    # "normed": norms SD 5, r .80, S_diff 3.16: a change of 8 is reliable, 1 is not (7 improved, 5 unchanged).
    # "decimal": norms SD 10, r .80, S_diff 6.32: only two residents change reliably, shown as "<5".
    # "rating": no norms and every baseline the same, so no S_diff and no counts at all.
    slug = new_project(app, session, org, ["normed@1", "decimal@1", "rating@1"], name="Buurttuin")
    for i in range(12):
        code = f"P{i:03d}"
        answer(app, session, slug, "pre", code, {("normed", "points"): 10, ("decimal", "amount"): 50,
                                                 ("rating", "rating"): 5}, commit=False)
        answer(app, session, slug, "post", code, {("normed", "points"): 18 if i < 7 else 11,
                                                  ("decimal", "amount"): 70 if i < 2 else 50 + i % 2,
                                                  ("rating", "rating"): 5 + i % 3}, commit=False)
    session.commit()
    set_completed(session, slug, IN_YEAR)
    project = session.scalar(select(Project).where(Project.slug == slug))
    summary = summarise(app, session, [project])
    rci = {entry["instrument"]: entry["rci"] for entry in summary["scales"]}
    assert (rci["normed"]["improved"], rci["normed"]["unchanged"], rci["normed"]["deteriorated"]) == (7, 5, 0)
    assert rci["decimal"]["improved"] == "<5" and rci["rating"]["improved"] is None
    assert summary["reliable_change"] == {"scales": 1, "scales_left_out": 2, "n": 12, "improved": 7,
                                          "unchanged": 5, "deteriorated": 0, "suppressed": []}


def test_the_engine_reads_per_project_never_per_resident(app, session, make_org):
    """Two projects of 5 residents and two of 14 cost the same statements: nothing is read per resident."""
    org = make_org()
    few = [rated_project(app, session, org, f"Klein {i}", [3, 4, 5, 6, 7], [4, 5, 6, 7, 8], prefix=f"F{i}")
           for i in range(2)]
    many = [rated_project(app, session, org, f"Groot {i}", spread(14, i), spread(14, i + 5), prefix=f"M{i}")
            for i in range(2)]
    summarise(app, session, few + many)  # the instrument snapshots are read once a session: not counted below
    with statements(control=False) as small:
        summarise(app, session, few)
    with statements(control=False) as large:
        summarise(app, session, many)
    assert len(small) == len(large) and len(large) > 0
