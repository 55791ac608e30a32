"""``surveyhub responses import``: answers from CSV files, all rows or none.

A worker types paper questionnaires into a spreadsheet (often Dutch Excel:
semicolons, decimal commas, a byte-order mark) and imports them. Every value
is checked as the resident's form would check it; a file with any bad row is
refused whole with every problem listed, and nothing is stored.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from surveyhub.models import Answer, Participant, Project, Response, ScaleScore, Wave
from tests.fixtures.outcomes import (LAKENS_PRE, codes, csv_file, import_csv, import_values, new_project,
                                     with_outcome_instruments)


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")


def stored(session, slug: str, wave: str = "pre") -> dict[str, dict]:
    """participant code -> {item: value} for the wave's responses, read in one short transaction."""
    rows = session.execute(
        select(Participant.code, Answer.block, Answer.item_id, Answer.value_num, Answer.value_text)
        .join(Response, Response.participant_id == Participant.id).join(Wave, Wave.id == Response.wave_id)
        .join(Project, Project.id == Wave.project_id).join(Answer, Answer.response_id == Response.id)
        .where(Project.slug == slug, Wave.kind == wave)).all()
    session.commit()
    found: dict[str, dict] = {}
    for code, block, item, number, text in rows:
        if number is None and text is None:
            continue  # a cleared answer
        key = item if block == "now" else f"then:{item}"
        found.setdefault(code, {})[key] = text if text is not None else number
    return found


def count(session, model, slug: str) -> int:
    query = select(func.count()).select_from(model)
    if model is Participant:
        query = query.join(Project).where(Project.slug == slug)
    value = session.scalar(query)
    session.commit()
    return value


def test_import_creates_pseudonymous_participants_and_completed_scored_responses(app, runner, session, org,
                                                                               tmp_path):
    slug = new_project(app, session, org, ["rating"])
    result = import_values(runner, tmp_path, slug, "pre", "rating", LAKENS_PRE)
    assert "Imported 10 rows into the pre wave" in result.output and "10 new residents" in result.output
    rows = session.execute(
        select(Participant.code, Participant.source, Response.channel, Response.status, ScaleScore.score)
        .join(Response, Response.participant_id == Participant.id)
        .join(ScaleScore, ScaleScore.response_id == Response.id).order_by(Participant.code)).all()
    session.commit()
    assert [(code, score) for code, _s, _c, _st, score in rows] == list(zip(codes(10), map(float, LAKENS_PRE)))
    assert {(source, channel, status) for _code, source, channel, status, _score in rows} == {
        ("import", "import", "completed")}


def test_dutch_excel_file_with_semicolons_decimal_commas_and_bom(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["decimal", "triad"])
    path = csv_file(tmp_path / "nl.csv", ["participant", "amount", "q1", "q2", "q3"],
                    [["A1", "7,5", "1", "2", "3"], ["A2", "12,25", "3", "3", "3"], ["A3", "40", "2", "", "1"]],
                    sep=";", bom=True)
    import_csv(runner, slug, "pre", path)
    assert stored(session, slug) == {"A1": {"amount": 7.5, "q1": 1.0, "q2": 2.0, "q3": 3.0},
                                     "A2": {"amount": 12.25, "q1": 3.0, "q2": 3.0, "q3": 3.0},
                                     "A3": {"amount": 40.0, "q1": 2.0, "q3": 1.0}}


def test_excel_windows_1252_file_keeps_its_accents(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating"])
    path = csv_file(tmp_path / "ansi.csv", ["participant", "rating", "story"],
                    [["B1", "8", "Geweldig café, échte buren"]], sep=";", encoding="cp1252")
    import_csv(runner, slug, "pre", path)
    assert stored(session, slug)["B1"]["story"] == "Geweldig café, échte buren"


def test_a_file_with_bad_rows_is_refused_whole_and_every_problem_is_listed(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating", "triad"])
    path = csv_file(tmp_path / "bad.csv", ["participant", "rating", "q1", "colour"],
                    [["C1", "8", "2", ""], ["C2", "11", "2", ""], ["C3", "acht", "2", ""], ["c1 ", "7", "4", ""],
                     ["C5", "6", "1", ""]])
    result = import_csv(runner, slug, "pre", path, ok=False)
    assert result.exit_code != 0
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: ") and "nothing was imported: the file has" in lines[0]
    # The unknown column is a header problem: the rows are not even read.
    assert any("unknown column 'colour'" in line for line in lines)
    assert "Traceback" not in result.output
    assert count(session, Participant, slug) == 0 and count(session, Response, slug) == 0

    path = csv_file(tmp_path / "bad_rows.csv", ["participant", "rating", "q1"],
                    [["C1", "8", "2"], ["C2", "11", "2"], ["C3", "acht", "2"], ["c1 ", "7", "4"], ["C5", "6", "1"],
                     ["", "5", "1"]])
    result = import_csv(runner, slug, "pre", path, ok=False)
    assert result.exit_code == 1
    problems = result.stderr.splitlines()[1:]
    assert any(p.strip().startswith("row 3:") and "'11'" in p and "(allowed: 0 to 10)" in p
               for p in problems)  # out of range
    assert any(p.strip().startswith("row 4:") and "'acht'" in p for p in problems)  # not a number
    assert any(p.strip().startswith("row 5:") and "appears again (first in row 2)" in p for p in problems)
    assert any(p.strip().startswith("row 5:") and "'4'" in p for p in problems)  # not an answer option
    assert any(p.strip().startswith("row 7:") and "participant cell is empty" in p for p in problems)
    assert not any(p.strip().startswith(("row 2:", "row 6:")) for p in problems)
    assert count(session, Participant, slug) == 0 and count(session, Response, slug) == 0


def test_a_cell_too_large_for_csv_is_refused_naming_its_line(app, runner, session, org, tmp_path):
    """A 200 KB cell (past what CSV reads) is one line of error, not a traceback."""
    slug = new_project(app, session, org, ["rating"])
    path = tmp_path / "huge.csv"
    path.write_text("participant,rating\nC1,8\nC2," + "9" * 200_000 + "\n", encoding="utf-8")
    result = import_csv(runner, slug, "pre", path, ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "cannot be read as CSV" in result.stderr and "line 3" in result.stderr
    assert count(session, Participant, slug) == 0


def test_codes_are_matched_ignoring_capitals_and_spaces(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating"])
    import_values(runner, tmp_path, slug, "pre", "rating", [6, 7], ids=["R-ABC12", "R-XYZ34"])
    path = csv_file(tmp_path / "post.csv", ["Participant", "rating"], [["  r-abc12 ", "9"], ["R-XYZ34", "8"]])
    result = import_csv(runner, slug, "post", path)
    assert "0 new residents" in result.output
    assert stored(session, slug, "post") == {"R-ABC12": {"rating": 9.0}, "R-XYZ34": {"rating": 8.0}}


def test_importing_again_updates_and_empty_cells_clear(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["triad"])
    first = csv_file(tmp_path / "a.csv", ["participant", "q1", "q2", "q3"], [["D1", "1", "2", "3"]])
    import_csv(runner, slug, "pre", first)
    again = csv_file(tmp_path / "b.csv", ["participant", "q1", "q2"], [["D1", "3", ""]])
    import_csv(runner, slug, "pre", again)
    assert stored(session, slug) == {"D1": {"q1": 3.0, "q3": 3.0}}


def test_retro_fills_the_post_waves_then_block(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating"], retrospective=True)
    import_values(runner, tmp_path, slug, "post", "rating", [9, 8])
    result = import_values(runner, tmp_path, slug, "retro", "rating", [6, 5])
    assert "2 post responses updated" in result.output
    assert stored(session, slug, "post") == {"P001": {"rating": 9.0, "then:rating": 6.0},
                                             "P002": {"rating": 8.0, "then:rating": 5.0}}
    then_scores = session.scalars(select(ScaleScore.score).where(ScaleScore.block == "then")
                                  .order_by(ScaleScore.score)).all()
    session.commit()
    assert then_scores == [5.0, 6.0]


def test_retro_needs_a_retrospective_project(app, runner, session, org, tmp_path):
    slug = new_project(app, session, org, ["rating"])
    path = csv_file(tmp_path / "r.csv", ["participant", "rating"], [["E1", "5"]])
    result = import_csv(runner, slug, "retro", path, ok=False)
    assert result.exit_code == 1 and "no retrospective" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_import_never_changes_answers_a_resident_gave_online(app, runner, session, org, tmp_path):
    from tests.fixtures.outcomes import answer

    slug = new_project(app, session, org, ["rating"])
    answer(app, session, slug, "pre", "R-ONLINE", {("rating", "rating"): 4})
    path = csv_file(tmp_path / "o.csv", ["participant", "rating"], [["R-ONLINE", "9"]])
    result = import_csv(runner, slug, "pre", path, ok=False)
    assert "answered this wave online" in result.stderr
    assert stored(session, slug) == {"R-ONLINE": {"rating": 4.0}}


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"rating\r\n5\r\n", "no 'participant' column"),
    (b"participant,rating\r\n", "no rows with answers"),
    (b"participant,rating\r\nF1,\r\n", "no answers in this row"),
    (b"participant,rating,rating\r\nF1,5,5\r\n", "appears twice"),
    (b"participant,rating\r\nF1,5,7\r\n", "has 3 cells"),
])
def test_malformed_files_get_one_clear_reason(app, runner, session, org, tmp_path, content, message):
    slug = new_project(app, session, org, ["rating"])
    path = tmp_path / "m.csv"
    path.write_bytes(content)
    result = import_csv(runner, slug, "pre", path, ok=False)
    assert result.exit_code == 1 and message in result.stderr, result.output
    assert count(session, Participant, slug) == 0


def test_unknown_project_and_missing_file_are_user_errors(runner, tmp_path):
    path = csv_file(tmp_path / "x.csv", ["participant", "rating"], [["G1", "5"]])
    result = import_csv(runner, "no-such-project", "pre", path, ok=False)
    assert result.exit_code == 1 and "no project 'no-such-project'" in result.stderr
    result = runner.invoke(args=["responses", "import", "no-such-project", "--wave", "pre",
                                 str(tmp_path / "missing.csv")])
    assert result.exit_code == 1 and "cannot read" in result.stderr and "Traceback" not in result.output
