"""``surveyhub instruments list | show | validate``: what a worker or plugin author sees.

These commands need no database, so the app here is started without one. The
plugins folder is the repository's ``plugins/`` and the example package
``surveyhub-faces`` must be installed (``make setup`` installs it editable).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from surveyhub import create_app
from surveyhub.measures.questions import BUILTIN_TYPES
from tests.conftest import missing

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ["confidence", "conversation", "cooperation", "having_a_say", "neighbourhood", "network", "organising"]
VALID = """\
id: buurtquiz
version: 1
title: {nl: Buurtquiz, en: Neighbourhood quiz}
answer_sets:
  agree3:
    - {value: 1, label: {nl: Niet mee eens, en: Disagree}}
    - {value: 2, label: {nl: Neutraal, en: Neutral}}
    - {value: 3, label: {nl: Mee eens, en: Agree}}
scales:
  - id: knowing
    title: {nl: De buurt kennen, en: Knowing the neighbourhood}
    items:
      - {id: bq_1, type: choice, answer_set: agree3, text: {nl: Ik ken mijn buren., en: I know my neighbours.}}
      - {id: bq_2, type: faces, text: {nl: "Hoe voel je je in je straat?", en: "How do you feel in your street?"}}
    scoring: {method: mean, min_answered: 1}
"""


@pytest.fixture
def app_config(tmp_path):
    return {"INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "test", "TESTING": True,
            "PLUGINS_DIR": str(ROOT / "plugins")}


@pytest.fixture
def faces_installed():
    if "faces" not in {ep.name for ep in importlib.metadata.entry_points(group="surveyhub")}:
        missing("the example plugin is not installed: pip install -e ./plugins/surveyhub-faces")


def invoke(runner, *args):
    return runner.invoke(args=list(args))


# --- list ------------------------------------------------------------------------------

def test_list_shows_the_shipped_and_the_plugin_instruments(runner, faces_installed):
    result = invoke(runner, "instruments", "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split("@")[0] for line in lines] == sorted(SHIPPED + ["faces_wellbeing", "participation_ladder"])
    assert f"organising@2  Planning and organising  [organising]  ({ROOT / 'instruments' / 'organising.yaml'})" in lines
    assert ("participation_ladder@2  Taking part in the neighbourhood  [participation]  "
            "(plugin plugins.participation_ladder)") in lines
    [faces] = [line for line in lines if line.startswith("faces_wellbeing@2  ")]
    assert faces.endswith("surveyhub_faces/faces_wellbeing.yaml)")


def test_list_without_plugins_shows_the_five_shipped_instruments(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "bare"), "SECRET_KEY": "test", "PLUGINS_DIR": ""})
    try:
        listed = invoke(app.test_cli_runner(), "instruments", "list").output.splitlines()
    finally:
        app.extensions["surveyhub.db"].engine.dispose()
    assert {line.split("@")[0] for line in listed} >= set(SHIPPED)
    assert "participation_ladder" not in "\n".join(listed)


# --- show ------------------------------------------------------------------------------

def test_show_prints_every_item_in_dutch_and_english(runner):
    result = invoke(runner, "instruments", "show", "organising")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == f"organising version 2  ({ROOT / 'instruments' / 'organising.yaml'})"
    assert "  title [nl]: Plannen en organiseren" in lines and "  title [en]: Planning and organising" in lines
    assert "  scale organising (scoring: mean, higher is better: True)" in lines
    at = lines.index("    org_1 [choice]")
    assert lines[at + 1:at + 3] == ["      nl: Ik kan een buurtactiviteit van begin tot eind plannen.",
                                    "      en: I can plan a neighbourhood activity from start to finish."]
    assert "    org_5 [choice] (reverse)" in lines
    assert sum(1 for line in lines if line.startswith("      nl: ")) == 8  # seven items and one question
    assert "    org_proud_of [text]" in lines


def test_show_a_plugin_instrument_by_version(runner):
    result = invoke(runner, "instruments", "show", "participation_ladder@2")
    assert result.exit_code == 0
    assert "  scale participation (scoring: highest_rung, higher is better: True)" in result.output
    assert "      en: I lead a group of neighbours." in result.output


@pytest.mark.parametrize(("ref", "message"), [
    ("smileys", "Error: no instrument 'smileys'; see `surveyhub instruments list`"),
    ("organising@9", "Error: no instrument 'organising@9'; see `surveyhub instruments list`"),
    ("organising@one", "Error: bad instrument reference 'organising@one': the version after @ must be a number"),
])
def test_show_an_unknown_instrument_says_so_in_one_line(runner, ref, message):
    result = invoke(runner, "instruments", "show", ref)
    assert result.exit_code == 1
    assert result.output.strip() == message  # the test runner mixes stderr into output


# --- validate ----------------------------------------------------------------------------

def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_a_valid_file_exits_0(runner, tmp_path, faces_installed):
    result = invoke(runner, "instruments", "validate", str(write(tmp_path, "quiz.yaml", VALID)))
    assert result.exit_code == 0
    assert result.output.splitlines() == [f"{tmp_path / 'quiz.yaml'}: valid"]


def test_validate_the_shipped_instruments(runner):
    files = sorted(str(path) for path in (ROOT / "instruments").glob("*.yaml"))
    result = invoke(runner, "instruments", "validate", *files)
    assert result.exit_code == 0
    assert result.output.splitlines() == [f"{path}: valid" for path in files]


def test_validate_warns_about_missing_translations_but_passes(runner, tmp_path, faces_installed):
    path = write(tmp_path, "quiz.yaml", VALID.replace(", en: I know my neighbours.", ""))
    result = invoke(runner, "instruments", "validate", str(path))
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"warning: {path}: scales[0].items[0].text: missing translation 'en' (the Dutch text is shown instead)",
        f"{path}: valid"]


def test_validate_lists_every_problem_at_once_and_exits_1(runner, tmp_path):
    text = (VALID.replace("id: buurtquiz", "id: Buurt quiz").replace("type: faces", "type: smileys")
            .replace("method: mean", "method: median").replace("{id: bq_1,", "{id: bq_1, reversed: true,"))
    path = write(tmp_path, "quiz.yaml", text)
    result = invoke(runner, "instruments", "validate", str(path))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}: id: 'Buurt quiz' is not a valid id: use 2 to 63 lowercase letters, digits, '_' or '-', "
        "starting with a letter",
        f"{path}: scales[0].items[0]: unknown key 'reversed' (did you mean 'reverse'?)",
        f"{path}: scales[0].scoring.method: unknown scoring method 'median' (installed: highest_rung, mean, sum)",
        f"{path}: scales[0].items[1].type: unknown question type 'smileys' "
        f"(installed: {', '.join(sorted([*BUILTIN_TYPES, *faces_types()]))})",
    ]


def faces_types() -> list[str]:
    return ["faces"] if "faces" in {ep.name for ep in importlib.metadata.entry_points(group="surveyhub")} else []


@pytest.mark.parametrize(("text", "message"), [
    ("id: quiz\ntitle: {nl: Quiz\nversion: 1\n", "line 3 column 8: expected ',' or '}', but got ':'"),
    ("id: quiz\n\tversion: 1\n", "tabs are not allowed; indent with spaces"),
    ("- id: quiz\n", "the file must be a mapping of keys (id, version, title, ...), got a list"),
    ("", "the file is empty"),
    ("a: &a [x, x]\nb: [*a, *a]\n", "anchors and aliases ('&' and '*') are not allowed"),
    ("id: !!python/object/apply:os.system [\"true\"]\n", "the tag '!!python/object/apply:os.system' is not allowed"),
])
def test_validate_explains_what_is_wrong_with_the_yaml(runner, tmp_path, text, message):
    path = write(tmp_path, "quiz.yaml", text)
    result = invoke(runner, "instruments", "validate", str(path))
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith(f"{path}: ") and message in line


def test_validate_checks_every_file_and_fails_if_any_is_invalid(runner, tmp_path, faces_installed):
    good = write(tmp_path, "good.yaml", VALID)
    bad = write(tmp_path, "bad.yaml", VALID.replace("version: 1\n", ""))
    missing_file = tmp_path / "missing.yaml"
    result = invoke(runner, "instruments", "validate", str(bad), str(good), str(missing_file))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{bad}: (root): 'version' is required" in lines
    assert f"{good}: valid" in lines
    assert any(line.startswith(f"{missing_file}: cannot read the file") for line in lines)


def test_validate_needs_a_file(runner):
    result = invoke(runner, "instruments", "validate")
    assert result.exit_code == 2 and "Missing argument 'FILES...'" in result.output


def test_validate_refuses_a_file_over_256_kb(runner, tmp_path):
    path = write(tmp_path, "huge.yaml", VALID + "# " + "x" * (256 * 1024) + "\n")
    result = invoke(runner, "instruments", "validate", str(path))
    assert result.exit_code == 1
    assert "the file is too large" in result.output and "at most 256 KB" in result.output

