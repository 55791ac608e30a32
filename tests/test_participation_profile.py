"""The report's participation profile: what residents did, from confirmed activity records, small counts hidden."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from surveyhub.models import Activity, ActivityParticipant, Participant, Project
from tests.fixtures.outcomes import cli_report, codes, import_values, new_project, with_outcome_instruments


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


def test_the_profile_counts_activities_hours_and_residents_by_band_role_and_kind(
        app, runner, session, make_org, tmp_path):
    org = make_org("Buurtwerk Profiel")
    slug = new_project(app, session, org, ["rating"])
    import_values(runner, tmp_path, slug, "pre", "rating", [5] * 14)
    project = session.scalar(select(Project).where(Project.slug == slug))
    ids = [session.scalar(select(Participant.id).where(Participant.project_id == project.id, Participant.code == c))
           for c in codes(14)]
    # Two meetings of 2 h with residents 0-9 (resident 0 chairs both), one work day of 4 h with residents 0-5,
    # resident 6 staying 6 h; then five trainings of 1 h with resident 13 only.
    for _ in range(2):
        meeting = Activity(project_id=project.id, happened_on=date(2026, 3, 1), kind="meeting", hours=2.0)
        meeting.participants.extend(ActivityParticipant(participant_id=pid, role="chair" if i == 0 else "participant")
                                    for i, pid in enumerate(ids[:10]))
        session.add(meeting)
    workday = Activity(project_id=project.id, happened_on=date(2026, 4, 1), kind="workday", hours=4.0)
    workday.participants.extend(ActivityParticipant(participant_id=pid, role="volunteer",
                                                    hours=6.0 if i == 6 else None)
                                for i, pid in enumerate(ids[:7]))
    session.add(workday)
    for _ in range(5):
        training = Activity(project_id=project.id, happened_on=date(2026, 5, 1), kind="training", hours=1.0)
        training.participants.append(ActivityParticipant(participant_id=ids[13], role="participant"))
        session.add(training)
    proposed = Activity(project_id=project.id, happened_on=date(2026, 6, 1), kind="event", hours=3.0)
    proposed.participants.append(ActivityParticipant(participant_id=ids[12], role="organiser", source="resident"))
    session.add(proposed)
    session.flush()
    proposed.confirmed_at = None  # a resident's proposal no worker confirmed yet: counts nowhere
    session.commit()

    profile = cli_report(runner, slug, "--min-cell", "3")["participation_profile"]
    assert profile["activities"] == 8 and profile["hours"] == 2 * 2.0 + 4.0 + 5 * 1.0
    assert profile["resident_hours"] == 10 * 2 * 2.0 + 6 * 4.0 + 6.0 + 5 * 1.0
    assert profile["residents"] == 11
    # 1 activity: nobody; 2-4: residents 0-9; 5+: resident 13 -> "<3", and the smallest other (0) protected.
    assert profile["by_activities"] == [{"band": "1", "residents": "<3"}, {"band": "2-4", "residents": 10},
                                        {"band": "5+", "residents": "<3"}]
    # Highest role: resident 0 chaired; 1-6 volunteered; 7-9 and 13 took part. The lone "<3" (chair) is protected
    # by hiding the smallest other count (organiser, 0) too.
    assert profile["by_role"] == [{"role": "participant", "residents": 4}, {"role": "volunteer", "residents": 6},
                                  {"role": "organiser", "residents": "<3"}, {"role": "chair", "residents": "<3"}]
    assert profile["by_kind"] == [
        {"kind": "meeting", "activities": 2, "hours": 4.0, "residents": 10},
        {"kind": "workday", "activities": 1, "hours": 4.0, "residents": 7},
        {"kind": "training", "activities": 5, "hours": 5.0, "residents": "<3"}]


def test_a_project_without_activities_has_an_empty_profile(app, runner, session, make_org, tmp_path):
    org = make_org("Buurtwerk Zonder")
    slug = new_project(app, session, org, ["rating"])
    profile = cli_report(runner, slug)["participation_profile"]
    assert profile["activities"] == 0 and profile["residents"] == 0 and profile["by_kind"] == []
    assert [band["residents"] for band in profile["by_activities"]] == [0, 0, 0]


def test_one_activity_and_one_resident_read_in_the_singular():
    """'Er is één activiteit vastgelegd', not 'Er zijn 1 activiteiten'."""
    from surveyhub.rendering import report_exploratory

    found = {"activities": 1, "hours": 2.0, "residents": 1, "resident_hours": 2.0,
             "by_activities": [{"band": "1", "residents": 1}, {"band": "2-4", "residents": 0},
                               {"band": "5+", "residents": 0}],
             "by_role": [{"role": role, "residents": 1 if role == "organiser" else 0}
                         for role in ("participant", "volunteer", "organiser", "chair")],
             "by_kind": [{"kind": "meeting", "activities": 1, "residents": 1}]}
    said = report_exploratory.profile({"participation_profile": found}, "nl")["sentences"]
    assert said[:2] == ["Er is één activiteit vastgelegd, samen 2 uur.", "Eén bewoner deed mee aan een activiteit, 2 uur."]
    said = report_exploratory.profile({"participation_profile": found}, "en")["sentences"]
    assert said[0] == "One activity was recorded, 2 hours in all."
