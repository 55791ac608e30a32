"""The organisation's report for a period (``services.org_report``): whose projects it holds, its quotes and
limitations, and that its shape is the documented one (``org_report_contract``, ``docs/org-report-json.md``)."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import get_type_hints

import numpy as np
import pytest
from sqlalchemy import select

from surveyhub.models import Consent, Participant
from surveyhub.plugins import get_registry
from surveyhub.services import access, org_report, outcomes, projects
from surveyhub.services.context import ServiceContext
from surveyhub.services.errors import Forbidden, Invalid
from surveyhub.services.org_report_contract import (ForestRow, InstrumentUse, OrgMethod, OrgReport, PooledScale,
                                                    ProjectRow, ReliableChangeOverall, Totals)
from tests.fixtures.outcomes import answer, with_outcome_instruments
from tests.test_across import IN_YEAR, YEAR, rated_project, set_completed, spread

DOC = Path(__file__).resolve().parents[1] / "docs" / "org-report-json.md"


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


def build(app, session, actor: access.Actor, start: date = YEAR[0], end: date = YEAR[1], **given) -> dict:
    ctx = ServiceContext(session=session, actor=actor, registry=get_registry(app), host=None,
                         thresholds=outcomes.Thresholds(), base_url="http://surveyhub.test")
    report = org_report.build(ctx, start=start, end=end, **given)
    session.commit()
    return report


@pytest.fixture
def two_projects(app, session, org_people, make_org):
    """Two projects of Buurtwerk Noord (one shared with its funder) and one of another organisation."""
    org = org_people["org"]
    shared = rated_project(app, session, org, "Buurttuin", spread(12, 1), spread(12, 2, 3, 10), prefix="A")
    private = rated_project(app, session, org, "Speeltuin", spread(6, 3), spread(6, 4, 3, 10), prefix="B")
    other = rated_project(app, session, make_org("Welzijn Zuid"), "Moestuin", spread(8, 5), spread(8, 6), prefix="C")
    projects.set_share(session, access.Actor(org.id, "admin"), shared.slug, org_people["funder"].email, True)
    session.commit()
    return {"org": org, "shared": shared, "private": private, "other": other}


def actor_of(people: dict, role: str) -> access.Actor:
    user = people[role]
    return access.Actor(organisation_id=people["org"].id, role=role, user_id=user.id, email=user.email)


def test_staff_see_all_their_projects_and_a_funder_only_those_shared_with_them(app, session, org_people,
                                                                               two_projects, make_user):
    worker = build(app, session, actor_of(org_people, "worker"))
    assert [row["slug"] for row in worker["projects"]] == [two_projects["shared"].slug,
                                                           two_projects["private"].slug]
    assert worker["organisation"]["name"] == "Buurtwerk Noord" and worker["totals"]["residents"] == 18
    assert worker["scales"][0]["n_pairs"] == 18
    funder = build(app, session, actor_of(org_people, "funder"))
    assert [row["slug"] for row in funder["projects"]] == [two_projects["shared"].slug]
    assert funder["totals"]["residents"] == 12 and funder["scales"][0]["n_pairs"] == 12
    text = json.dumps(funder, allow_nan=False)
    assert two_projects["private"].slug not in text and "Speeltuin" not in text and "Moestuin" not in text
    # A funder nothing is shared with gets an empty report, not another's projects.
    other_funder = make_user("funder", org_people["org"])
    empty = build(app, session, access.Actor(org_people["org"].id, "funder", other_funder.id, other_funder.email))
    assert empty["projects"] == [] and empty["scales"] == [] and empty["totals"]["residents"] == 0


def test_a_role_without_the_capability_and_a_reversed_period_are_refused(app, session, org_people, two_projects):
    with pytest.raises(Forbidden):
        build(app, session, access.Actor(org_people["org"].id, "resident"))
    with pytest.raises(Invalid):
        build(app, session, actor_of(org_people, "admin"), date(2026, 12, 31), date(2026, 1, 1))


def test_limitations_name_what_limits_the_figures(app, session, org_people, make_org):
    org = org_people["org"]
    # 12 pairs; a second project of 3 pairs stays out of the pool; 3 residents never came back (match 15/18).
    rated_project(app, session, org, "Groot", spread(15, 7), spread(12, 8) + [None] * 3, prefix="G")
    small = rated_project(app, session, org, "Klein", [3, 4, 5], [4, 5, 6], prefix="K")
    report = build(app, session, actor_of(org_people, "admin"))
    assert report["limitations"] == ["no_control_group", "self_report", "projects_too_small"]
    assert report["match_rate"] == 1.0
    # Post responses without a pre response: the match rate falls below 0.8 and is named.
    for i in range(10):
        answer(app, session, small.slug, "post", f"N{i:03d}", {("rating", "rating"): 5}, commit=False)
    session.commit()
    set_completed(session, small.slug, IN_YEAR)
    report = build(app, session, actor_of(org_people, "admin"))
    assert report["match_rate"] == pytest.approx(15 / 25) and "match_rate" in report["limitations"]
    nothing = build(app, session, actor_of(org_people, "admin"), date(2020, 1, 1), date(2020, 12, 31))
    assert nothing["limitations"] == ["no_control_group", "self_report", "no_pairs"]
    assert nothing["match_rate"] is None


def test_quotes_are_those_residents_agreed_to_share_taken_in_turn(app, session, org_people):
    org = org_people["org"]
    first = rated_project(app, session, org, "Buurttuin", [3, 4, 5], [4, 5, 6], prefix="A")
    second = rated_project(app, session, org, "Speeltuin", [3, 4], [4, 5], prefix="B")
    for project, prefix, count in ((first, "A", 3), (second, "B", 2)):
        for i in range(count):
            code = f"{prefix}{i:03d}"
            answer(app, session, project.slug, "post", code, {("rating", "story"): f"Verhaal {code}"}, commit=False)
            participant = session.scalar(select(Participant).where(Participant.project_id == project.id,
                                                                   Participant.code == code))
            # The second resident of each project did not agree to be quoted.
            session.add(Consent(participant_id=participant.id, wording_version="1", language="nl",
                                share_quotes=i != 1))
    session.commit()
    report = build(app, session, actor_of(org_people, "worker"))
    assert [(quote["project"], quote["text"]) for quote in report["quotes"]] == [
        ("Buurttuin", "Verhaal A000"), ("Speeltuin", "Verhaal B000"), ("Buurttuin", "Verhaal A002")]


def test_the_report_has_exactly_the_documented_keys(app, session, org_people, two_projects):
    report = build(app, session, actor_of(org_people, "admin"))
    json.dumps(report, allow_nan=False)
    assert set(report) == set(get_type_hints(OrgReport))
    assert set(report["projects"][0]) == set(get_type_hints(ProjectRow))
    assert set(report["totals"]) == set(get_type_hints(Totals))
    assert set(report["scales"][0]) == set(get_type_hints(PooledScale))
    assert set(report["scales"][0]["forest"][0]) == set(get_type_hints(ForestRow))
    assert set(report["reliable_change"]) == set(get_type_hints(ReliableChangeOverall))
    assert set(report["method"]) == set(get_type_hints(OrgMethod))
    assert report["method"]["instruments"] == [{"id": "rating", "version": 1, "title": {"nl": "Cijfer", "en": "Cijfer"},
                                                "projects": 2}]
    documented = set(re.findall(r"`([a-z_0-9]+)`", DOC.read_text(encoding="utf-8")))
    for shape in (OrgReport, ProjectRow, Totals, ForestRow, ReliableChangeOverall, OrgMethod, InstrumentUse):
        assert set(get_type_hints(shape)) <= documented, (shape.__name__, set(get_type_hints(shape)) - documented)
    assert {"projects", "projects_too_small", "forest"} <= documented  # PooledScale's own keys


def test_the_documented_example_has_the_report_shape():
    text = DOC.read_text(encoding="utf-8")
    example = json.loads(text.split("```json", 1)[1].split("```", 1)[0])
    assert set(example) == set(get_type_hints(OrgReport))
    assert set(example["projects"][0]) == set(get_type_hints(ProjectRow))
    assert set(example["scales"][0]) == set(get_type_hints(PooledScale))


def test_compared_with_similar_projects_counts_only_other_organisations(app, session, org_people, make_org):
    """Five projects of two other organisations make a reference value; the reader's own never count."""
    east, west = make_org("Buurtwerk Oost"), make_org("Buurtwerk West")
    changes = []
    for number, org in enumerate([east, east, east, west, west]):
        pre = spread(10, 20 + number)
        post = [value + 1 + number % 2 for value in pre]
        changes.append(float(np.mean(post) - np.mean(pre)))
        rated_project(app, session, org, f"Project {number}", pre, post, prefix=f"X{number}")
    rated_project(app, session, org_people["org"], "Buurttuin", spread(10, 30), spread(10, 31), prefix="A")
    report = build(app, session, actor_of(org_people, "admin"))
    shown = report["reference"]["rating@1/rating"]
    assert shown == report["scales"][0]["reference"]
    assert shown["projects"] == 5 and shown["organisations"] == 2 and shown["reason"] is None
    assert shown["mean_change"] == round(float(np.mean(changes)), 1)
    # East's own report: only West's two projects and Noord's one are others: too few.
    east_report = build(app, session, access.Actor(east.id, "admin"))
    assert east_report["reference"]["rating@1/rating"]["reason"] == "too_few_projects"
    assert east_report["reference"]["rating@1/rating"]["mean_change"] is None
