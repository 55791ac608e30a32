"""``surveyhub activities add|import|list``, driven as a script or a worker at a terminal would, on both backends.

User errors end with a non-zero exit and one line ``Error: ...`` on stderr (a refused file: that line
and every problem below it), never a traceback, and store nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from surveyhub.models import Activity, ActivityParticipant
from tests.test_cli_foundation import assert_user_error, invoke

DAY = (date.today() - timedelta(days=3)).isoformat()


@pytest.fixture
def place(make_org, make_project, make_participant):
    org = make_org("Buurtwerk Terminal")
    slug = make_project(org, "Moestuin").slug
    return {"slug": slug, "codes": [make_participant(org, slug, name).code for name in ("Anna", "Bram", "Cas")]}


def stored(session) -> tuple[int, int]:
    session.expire_all()
    found = (session.scalar(select(func.count()).select_from(Activity)),
             session.scalar(select(func.count()).select_from(ActivityParticipant)))
    session.commit()
    return found


def test_add_prints_the_new_activitys_id_and_list_shows_it(runner, session, place):
    anna, bram, cas = place["codes"]
    result = invoke(runner, "activities", "add", place["slug"], "--date", DAY, "--kind", "werkdag", "--hours", "3,5",
                    "--title", "Bouwdag moestuin", "--participant", f"{anna}:organisator",
                    "--participant", bram, "--participant", f"{cas}:volunteer")
    assert result.exit_code == 0, result.output
    activity_id = int(result.stdout.strip())
    session.expire_all()
    activity = session.get(Activity, activity_id)
    assert (activity.kind, activity.hours, activity.title) == ("workday", 3.5, "Bouwdag moestuin")
    assert sorted(e.role for e in activity.participants) == ["organiser", "participant", "volunteer"]
    session.commit()

    listed = invoke(runner, "activities", "list", place["slug"])
    assert listed.exit_code == 0, listed.output
    [line] = listed.stdout.splitlines()
    assert line.split("\t") == [str(activity_id), DAY, "workday", "3.5 h",
                                "3 residents (1 participant, 1 volunteer, 1 organiser)", "Bouwdag moestuin"]


@pytest.mark.parametrize("args, fragment", [
    (["--kind", "feest"], "not a kind of activity"),
    (["--hours", "25"], "0 to 24"),
    (["--date", "2099-01-01"], "in the future"),
    (["--participant", "R-NOBODY"], "no resident with code 'R-NOBODY'"),
    (["--participant", "{anna}:baas"], "not a role"),
])
def test_add_refuses_a_bad_value_in_one_line_and_stores_nothing(runner, session, place, args, fragment):
    given = {"--date": DAY, "--kind": "meeting", "--hours": "2"}
    extra = []
    for option, value in zip(args[::2], args[1::2]):
        if option in given:
            given[option] = value
        else:
            extra += [option, value.format(anna=place["codes"][0])]
    result = invoke(runner, "activities", "add", place["slug"], *[x for pair in given.items() for x in pair], *extra)
    assert_user_error(result, fragment)
    assert stored(session) == (0, 0)


def test_add_to_an_unknown_project_is_one_line(runner):
    assert_user_error(invoke(runner, "activities", "add", "nergens", "--date", DAY, "--kind", "meeting",
                             "--hours", "1"), "no project 'nergens'")


def test_import_prints_what_it_stored_and_a_second_run_adds_nothing(runner, session, place, tmp_path):
    anna, bram, cas = place["codes"]
    file = tmp_path / "activiteiten.csv"
    file.write_text("date,kind,hours,title,participant,role,participant_hours\n"
                    f"{DAY},meeting,2,Bewonersavond,{anna},chair,\n"
                    f"{DAY},meeting,2,Bewonersavond,{bram},,\n"
                    f"{DAY},event,5,Buurtfeest,{cas},organiser,6\n", encoding="utf-8")
    result = invoke(runner, "activities", "import", place["slug"], str(file))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "2 activities, 3 entries imported"
    assert stored(session) == (2, 3)
    again = invoke(runner, "activities", "import", place["slug"], str(file))
    assert again.stdout.strip() == "0 activities, 0 entries imported" and stored(session) == (2, 3)


def test_import_of_a_bad_file_lists_every_problem_and_stores_nothing(runner, session, place, tmp_path):
    anna = place["codes"][0]
    file = tmp_path / "fout.csv"
    file.write_text("date,kind,hours,title,participant,role\n"
                    f"{DAY},meeting,2,Avond,{anna},participant\n"
                    f"{DAY},meeting,twee,Avond,R-WIE,participant\n", encoding="utf-8")
    result = invoke(runner, "activities", "import", place["slug"], str(file))
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines[0] == f"Error: {file}: nothing was imported: the file has 2 problems:"
    assert lines[1].startswith("  row 3: column 'hours'") and lines[2].startswith("  row 3: column 'participant'")
    assert stored(session) == (0, 0)
