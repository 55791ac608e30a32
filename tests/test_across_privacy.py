"""Reports across projects attacked by choosing periods, and the period's days in the installation's time zone.

A reader picks any period for the organisation's or the network's report. Were each pair counted in
the change by the day its post questionnaire came in, two periods one day apart would differ by
the residents who answered that day, and their change would follow from the two means and pair
counts: ``n2·m2 − n1·m1``. The change therefore counts a project's pairs in whole blocks of the
installation's threshold (``across_period.blocks``); these tests compare many periods, and the same
period under a member's raised threshold, and find no difference of fewer than a block.
"""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from surveyhub.models import Organisation, Participant, Project
from surveyhub.plugins import get_registry
from surveyhub.services import access, across, across_period, network_report, networks, org_report, outcomes, projects
from surveyhub.services.context import ServiceContext
from surveyhub.services.outcome_data import Pair
from tests.fixtures.outcomes import new_project, with_outcome_instruments
from tests.test_across import DEFAULTS, add_pairs
from tests.test_networks import context
from tests.fixtures.clock import local_today

BLOCK = 10  # the installation's max(min_means 5, min_tests 10)


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


def trickling_project(app, session, org, name: str, prefix: str, days: list[date]) -> Project:
    """One resident per day in ``days`` finishes the post questionnaire that day (pre in January)."""
    slug = new_project(app, session, org, ["rating@1"], name=name)
    rng = np.random.default_rng(len(days) + ord(prefix[0]))
    pre = [float(v) for v in rng.integers(2, 7, len(days))]
    post = [float(v) for v in rng.integers(4, 10, len(days))]
    add_pairs(app, session, slug, pre, post, prefix=prefix, completed=_at(date(2026, 1, 10)))
    project = session.scalar(select(Project).where(Project.slug == slug))
    for i, day in enumerate(days):
        code = f"{prefix}{i:03d}"
        set_posts(session, project, code, _at(day))
    return project


def set_posts(session, project: Project, code: str, when: datetime) -> None:
    from sqlalchemy import update

    from surveyhub.models import Response, Wave
    post_wave = select(Wave.id).where(Wave.project_id == project.id, Wave.kind == "post")
    participant = select(Participant.id).where(Participant.project_id == project.id, Participant.code == code)
    session.execute(update(Response).where(Response.wave_id.in_(post_wave), Response.participant_id.in_(participant))
                    .values(completed_at=when))
    session.commit()


def _pooled(summary: dict) -> tuple[int, float | None]:
    if not summary["scales"]:
        return 0, None
    entry = summary["scales"][0]
    return entry["n_pairs"], entry["change"]["mean"]


def _only_whole_blocks(figures: list[tuple[int, float | None]], blocks: list[tuple[int, float]]) -> None:
    """Every report's change rests on a union of whole blocks: its n and n·mean are those of some union.

    ``blocks``: each block's pair count and sum of changes. Then no two reports differ by fewer
    residents than the smallest block, and the figures of a resident who answered on the last
    day of one period and not the other are never set apart.
    """
    unions = {}
    for count in range(len(blocks) + 1):
        for chosen in itertools.combinations(blocks, count):
            unions[sum(n for n, _total in chosen)] = sum(total for _n, total in chosen)
    for n, mean in figures:
        assert n in unions, (n, sorted(unions))
        if n:
            assert mean == pytest.approx(unions[n] / n), n


def _block_figures(session, project: Project, sizes: list[int]) -> list[tuple[int, float]]:
    """The project's blocks of pairs in the order of answering: (pairs, sum of changes)."""
    from surveyhub.services import outcome_data
    data = outcome_data.load(session, project)
    now = data.scores[("now", "rating", "rating")]
    pairs = outcome_data.pair_waves(data, "pre", "post").pairs
    times = across_period.post_times(session, [project.id])
    cut = across_period.blocks(pairs, times, BLOCK)
    assert [len(part) for part in cut] == sizes
    return [(len(part), sum(now[p.second] - now[p.first] for p in part)) for part in cut]


def test_periods_one_day_apart_never_give_away_one_residents_change(app, session, make_org):
    """22 residents answer the post questionnaire one a day from 10 June; every period ending that month."""
    org = make_org()
    days = [date(2026, 6, 10) + timedelta(days=i) for i in range(22)]
    project = trickling_project(app, session, org, "Buurttuin", "D", days)
    figures = []
    for start, end in itertools.product([date(2026, 1, 1), date(2026, 6, 15), date(2026, 6, 21)],
                                        [date(2026, 6, 9) + timedelta(days=i) for i in range(25)]):
        if start <= end:
            summary = across.summarise(session, get_registry(app), [project], start=start, end=end,
                                       thresholds=DEFAULTS)
            figures.append(_pooled(summary))
            # The pair count of the period is still the day-by-day count (not about anyone's answers).
            if summary["projects"]:
                assert summary["projects"][0]["pairs"] == sum(start <= day <= end for day in days)
    # Blocks of 10 in the order of answering: the first ten (up to 19 June), then the last twelve.
    _only_whole_blocks(figures, _block_figures(session, project, [10, 12]))
    assert {n for n, _mean in figures} == {0, 10, 12, 22}


def test_a_funders_two_organisation_reports_one_day_apart_differ_by_whole_blocks(app, session, make_org,
                                                                                 make_user):
    org = make_org()
    days = [date(2026, 3, 2)] * 11 + [date(2026, 3, 3)]  # eleven answer on one day, one the next
    project = trickling_project(app, session, org, "Speeltuin", "F", days)
    funder = make_user("funder", org)
    projects.set_share(session, access.Actor(org.id, "admin"), project.slug, funder.email, True)
    session.commit()
    ctx = ServiceContext(session=session, actor=access.Actor(org.id, "funder", funder.id, funder.email),
                         registry=get_registry(app), host=None, thresholds=outcomes.Thresholds(),
                         base_url="http://test")
    before = org_report.build(ctx, start=date(2026, 1, 1), end=date(2026, 3, 2))
    after = org_report.build(ctx, start=date(2026, 1, 1), end=date(2026, 3, 3))
    session.commit()
    assert before["totals"]["pairs"] == 11 and after["totals"]["pairs"] == 12  # counted day by day
    # The change: one block of 12 whose last answer came on 3 March, so nothing before it.
    assert before["scales"][0]["n_pairs"] == 0 and before["scales"][0]["change"]["mean"] is None
    assert after["scales"][0]["n_pairs"] == 12
    rows = {row["kind"]: row for row in before["scales"][0]["forest"]}
    assert rows["project"]["n_pairs"] == 0 and rows["project"]["mean"] is None
    # The report says why eleven pairs of the period are not in the change yet; the next day's report needs not.
    assert before["scales"][0]["blocks_differ"] and "change_in_blocks" in before["limitations"]
    assert not after["scales"][0]["blocks_differ"] and "change_in_blocks" not in after["limitations"]


def test_a_network_member_cannot_isolate_a_resident_by_period_or_by_raising_its_threshold(app, session, make_org):
    north, south = make_org("Buurtwerk Noord"), make_org("Welzijn Zuid")
    info, code = networks.create(context(app, session, north), name="Samen Oost", area="Oost")
    networks.join(context(app, session, south), code)
    session.commit()
    # North's project: 12 answered in May, then one a day in June (3 more). South's: 15 in May.
    north_days = [date(2026, 5, 20)] * 12 + [date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 3)]
    mine = trickling_project(app, session, north, "Speeltuin Noord", "N", north_days)
    theirs = trickling_project(app, session, south, "Moestuin Zuid", "S", [date(2026, 5, 21)] * 15)
    networks.opt_in(context(app, session, north), info.slug, mine.slug)
    networks.opt_in(context(app, session, south), info.slug, theirs.slug)
    session.commit()
    figures, sides = [], []
    for threshold in (None, 11, 13):
        org = session.get(Organisation, south.id)
        org.min_pairs_tests = threshold  # South (the attacker) moves the network's min_pairs
        session.commit()
        for end in (date(2026, 5, 31), date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 3)):
            found = network_report.report(context(app, session, south), info.slug, start=date(2026, 1, 1), end=end)
            session.commit()
            figures.append(_pooled(found))
            north_side = found["organisations"][0]["scales"]
            sides.append((north_side[0]["n_pairs"] or 0, north_side[0]["change"]["mean"]) if north_side
                         else (0, None))
    # North's 15 pairs are one block (10, and a last 5 joined to it) that ends on 3 June; South's one block.
    north_blocks, south_blocks = _block_figures(session, mine, [15]), _block_figures(session, theirs, [15])
    _only_whole_blocks(figures, north_blocks + south_blocks)
    _only_whole_blocks(sides, north_blocks)
    assert {n for n, _mean in sides} == {0, 15} and {n for n, _mean in figures} == {15, 30}


def test_a_questionnaire_finished_just_after_midnight_on_new_years_day_belongs_to_the_new_year(app, session,
                                                                                             make_org):
    """00:30 on 1 January in Amsterdam is 23:30 UTC on 31 December: the installation's clock decides."""
    org = make_org()
    slug = new_project(app, session, org, ["rating@1"], name="Nieuwjaar")
    add_pairs(app, session, slug, [3.0] * 6, [5.0] * 6, prefix="J",
              completed=datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc))
    project = session.scalar(select(Project).where(Project.slug == slug))

    def pairs(year: int, zone: str) -> int:
        summary = across.summarise(session, get_registry(app), [project], start=date(year, 1, 1),
                                   end=date(year, 12, 31), thresholds=DEFAULTS, zone=zone)
        return summary["totals"]["pairs"]

    assert pairs(2026, "Europe/Amsterdam") == 6 and pairs(2025, "Europe/Amsterdam") == 0
    assert pairs(2025, "UTC") == 6 and pairs(2026, "UTC") == 0
    assert across_period.bounds(date(2026, 1, 1), date(2026, 12, 31), "Europe/Amsterdam") == (
        datetime(2025, 12, 31, 23, 0, tzinfo=timezone.utc), datetime(2026, 12, 31, 23, 0, tzinfo=timezone.utc))
    # The organisation report takes the installation's TIMEZONE from the request's context.
    ctx = ServiceContext(session=session, actor=access.Actor(org.id, "admin"), registry=get_registry(app),
                         host=None, thresholds=outcomes.Thresholds(), base_url="http://test",
                         timezone="Europe/Amsterdam")
    assert org_report.build(ctx, start=date(2026, 1, 1), end=date(2026, 12, 31))["totals"]["pairs"] == 6
    session.commit()


def test_the_command_line_and_the_queue_hand_the_installations_time_zone_to_the_report(app, session, runner,
                                                                                     make_org):
    org = make_org("Buurtwerk Nieuwjaar")
    slug = new_project(app, session, org, ["rating@1"], name="Nieuwjaar")
    add_pairs(app, session, slug, [3.0] * 6, [5.0] * 6, prefix="J",
              completed=datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc))

    def pairs(year: int) -> int:
        result = runner.invoke(args=["report", "--org", org.slug, "--from", f"{year}-01-01", "--to", f"{year}-12-31"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["totals"]["pairs"]

    app.config["TIMEZONE"] = "Europe/Amsterdam"
    assert (pairs(2025), pairs(2026)) == (0, 6)
    app.config["TIMEZONE"] = "UTC"
    assert (pairs(2025), pairs(2026)) == (6, 0)
    from surveyhub.queue import context_for, get_queue
    app.config["TIMEZONE"] = "America/Curacao"
    with app.app_context():
        assert context_for(get_queue(app), session, access.Actor(org.id, "admin")).timezone == "America/Curacao"


# The cut itself, for any times, sizes and periods.

@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=0, max_size=45), st.integers(1, 12),
       st.lists(st.tuples(st.integers(0, 41), st.integers(0, 41)), min_size=2, max_size=6))
def test_two_periods_differ_by_whole_blocks_of_at_least_the_block_size(days, size, periods):
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    pairs = [Pair(first=1000 + i, second=i, by="participant") for i in range(len(days))]
    times = {i: base + timedelta(days=day) for i, day in enumerate(days)}
    cut = across_period.blocks(pairs, times, size)
    assert sorted(p.second for part in cut for p in part) == list(range(len(days)))  # every pair, once
    assert all(len(part) >= size for part in cut) or len(cut) == 1
    chosen = []
    for a, b in periods:
        low, high = base + timedelta(days=min(a, b)), base + timedelta(days=max(a, b))
        chosen.append({p.second for p in across_period.Blocks(size, times, low, high).chosen(pairs)})
    for first, second in itertools.combinations(chosen, 2):
        difference = first ^ second
        assert not difference or len(difference) >= min(size, len(days))


def test_a_member_cannot_test_whether_someone_with_a_guessed_code_took_part_elsewhere(app, session, make_org):
    """North adds one participant with a self-made code it guessed; the report is the same whether or not
    South has a resident with that code (the overlap counts in steps of 5, none below 5)."""
    from sqlalchemy import update

    from tests.fixtures.outcomes import answer
    north, south = make_org("Buurtwerk Noord"), make_org("Welzijn Zuid")
    info, code = networks.create(context(app, session, north), name="Samen Oost", area="Oost")
    networks.join(context(app, session, south), code)
    session.commit()
    theirs = new_project(app, session, south, ["rating@1"], name="Schuldhulp Zuid")
    mine = new_project(app, session, north, ["rating@1"], name="Speeltuin Noord")
    # 15 of South's and 13 of North's (with the guess): 28 or, were the guess counted once, 27 — either side
    # of a rounding step (30 or 25).
    for slug, prefix, offset, count in ((theirs, "S", 0, 15), (mine, "N", 100, 12)):
        for i in range(count):
            for wave, value in (("pre", 4), ("post", 6)):
                answer(app, session, slug, wave, f"{prefix}{i:03d}", {("rating", "rating"): value},
                       self_code=f"a|b|{offset + i}|c|2|x", commit=False)
        networks.opt_in(context(app, session, north if slug == mine else south), info.slug, slug)
    # The guess: one more resident of North's, first with a code nobody else has.
    answer(app, session, mine, "pre", "GUESS", {("rating", "rating"): 5}, self_code="z|z|9|z|9|z", commit=False)
    session.commit()

    def shape() -> str:
        found = network_report.report(context(app, session, north), info.slug, start=date(2000, 1, 1),
                                      end=local_today() + timedelta(days=1))
        session.commit()
        return json.dumps({key: value for key, value in found.items() if key != "generated_at"}, sort_keys=True)

    fresh = shape()
    guessed = select(Participant.id).where(Participant.code == "GUESS")
    session.execute(update(Participant).where(Participant.id.in_(guessed)).values(self_code="a|b|3|c|2|x"))
    session.commit()
    assert shape() == fresh, "one matching code moved the network report"
    # From five shared residents on, they are counted once (and the report says so).
    for i in range(4, 8):
        session.execute(update(Participant).where(Participant.code == f"N{i:03d}",
                                                  Participant.project_id.in_(select(Project.id).where(
                                                      Project.slug == mine))).values(self_code=f"a|b|{i}|c|2|x"))
    session.commit()
    found = json.loads(shape())
    assert found["totals"]["residents"] == 25 and "same_residents_in_several_organisations" in found["limitations"]
    assert [o["residents"] for o in found["organisations"]] == [15, 15]  # 13 and 15; 28 − 5 = 23 together


@pytest.mark.parametrize("overlap, floor, counted", [(0, 5, 0), (1, 5, 0), (4, 5, 0), (5, 5, 5), (9, 5, 5),
                                                     (10, 5, 10), (6, 7, 0), (7, 7, 5), (12, 7, 10)])
def test_residents_in_several_organisations_count_in_steps_of_five(overlap, floor, counted):
    assert network_report.in_several(overlap, floor) == counted


def test_the_pdf_and_the_page_word_the_blocks_limitation_in_dutch(app):
    from surveyhub.rendering import across_report
    with app.app_context():
        [line] = across_report.limitations({"limitations": ["change_in_blocks"]}, "nl", across_report.words("nl"))
    assert line.startswith("Nog niet elk begin en eind uit deze periode zit in de cijfers over groei.")
