"""Instrument definitions: the shipped instruments, and every way a bad file is refused."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from surveyhub.measures.definition import (
    BUILTIN_TYPES,
    InstrumentError,
    definition_digest,
    item_range,
    normalise,
    path_text,
    reverse_code,
    translate,
)
from surveyhub.measures.validation import instrument_schema, translation_warnings, validate_definition
from surveyhub.measures.yaml_loader import MAX_BYTES, load_instrument_file, load_yaml_text, parse_instrument

INSTRUMENTS = Path(__file__).resolve().parents[2] / "instruments"
SHIPPED = sorted(INSTRUMENTS.glob("*.yaml"))
METHODS = {"mean", "sum"}
STRICT = {"known_types": set(BUILTIN_TYPES), "known_methods": METHODS}
#: The languages every shipped instrument speaks (Turkish, Arabic and Polish as drafts).
LANGUAGES = ("nl", "en", "tr", "ar", "pl")
#: Instruments added for the field's other accents (issue 14), still at their first version.
FIRST_VERSION = {"having_a_say", "neighbourhood"}

MINIMAL = """\
id: demo
version: 1
title: {nl: Demo}
answer_sets:
  yn: [{value: 1, label: {nl: Ja}}, {value: 2, label: {nl: Nee}}]
scales:
  - id: demo
    title: {nl: Demo}
    items:
      - {id: q1, type: choice, answer_set: yn, text: {nl: Vraag een}}
      - {id: q2, type: choice, answer_set: yn, text: {nl: Vraag twee}}
"""


def organising() -> dict:
    return load_instrument_file(INSTRUMENTS / "organising.yaml")


def refused(text: str, **kwargs) -> list[str]:
    with pytest.raises(InstrumentError) as caught:
        parse_instrument(text, "bad.yaml", **kwargs)
    assert str(caught.value) == "\n".join(caught.value.errors)
    return caught.value.errors


# --- the shipped instruments ----------------------------------------------------

def test_seven_instruments_are_shipped():
    assert [p.stem for p in SHIPPED] == ["confidence", "conversation", "cooperation", "having_a_say", "neighbourhood",
                                         "network", "organising"]


def test_schema_file_is_a_valid_2020_12_schema():
    Draft202012Validator.check_schema(instrument_schema())


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_instrument_is_valid_and_fully_translated(path):
    data = load_instrument_file(path, require_languages=LANGUAGES, **STRICT)
    assert data["id"] == path.stem
    # version 2: short forms, look-back wording, fewer reverse items; the new ones had them from version 1
    assert data["version"] == (1 if path.stem in FIRST_VERSION else 2)
    assert translation_warnings(data, str(path), languages=LANGUAGES) == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scales_follow_the_item_writing_rules(path):
    data = normalise(load_instrument_file(path))
    agree5 = data["answer_sets"]["agree5"]
    assert [o["value"] for o in agree5] == [1, 2, 3, 4, 5]
    assert all(set(o["label"]) == set(LANGUAGES) for o in agree5)
    for scale in data["scales"]:
        items = scale["items"]
        assert 4 <= len(items) <= 8
        # Version 2: reverse-worded items confuse B1 readers; at most one is kept, with its reason beside it.
        assert sum(item["reverse"] for item in items) <= 1
        assert all(item["type"] == "choice" and item["answer_set"] == "agree5" for item in items)
        assert len(items) - 3 <= scale["scoring"]["min_answered"] <= len(items) - 1
        assert scale["norms"] == {}
        assert [lv["min"] for lv in scale["levels"]] == [1.0, 2.75, 3.75]
        assert "vóór het project" in scale["retrospective"]["nl"]
        for item in items:
            words = item["text"]["nl"].split()
            assert len(words) <= 15, item["id"]
            assert "ik" in [w.strip(",.").lower() for w in words], f"{item['id']} is not first person"
            then = item["retrospective_text"]["nl"]
            assert then.startswith("Vóór het project ") and len(then.split()) <= 15, item["id"]


def test_shipped_item_ids_are_unique_across_instruments():
    # A questionnaire combines instruments and imports one CSV column per item id.
    ids = [item["id"] for path in SHIPPED for item in _all_items(load_instrument_file(path))]
    assert len(ids) == len(set(ids))


def test_count_question_stays_out_of_the_mean_scored_network_scale():
    data = load_instrument_file(INSTRUMENTS / "network.yaml")
    (helpers,) = data["questions"]
    assert helpers["type"] == "number" and (helpers["min"], helpers["max"], helpers["step"]) == (0, 10, 1)
    assert all(item["type"] == "choice" for item in data["scales"][0]["items"])


def test_organising_has_an_open_question():
    assert [q["type"] for q in organising()["questions"]] == ["text"]


def _all_items(data: dict) -> list[dict]:
    return [item for scale in data["scales"] for item in scale["items"]] + data.get("questions", [])


# --- files that are not plain YAML data ------------------------------------------

def test_yaml_syntax_error_names_file_line_and_column():
    (error,) = refused("id: demo\ntitle: [unclosed\nversion: 1\n")
    assert re.match(r"bad\.yaml: line \d+ column \d+: ", error)


def test_tabs_get_a_hint():
    (error,) = refused("id: demo\n\tversion: 1\n")
    assert error.startswith("bad.yaml: line 2 column 1:") and "indent with spaces" in error


@pytest.mark.parametrize(("text", "kind"), [("- id: demo\n- version: 1\n", "a list"),
                                            ("just a sentence\n", "a string"), ("42\n", "a number")])
def test_top_level_must_be_a_mapping(text, kind):
    assert refused(text) == [f"bad.yaml: the file must be a mapping of keys (id, version, title, ...), got {kind}"]


def test_empty_file_is_refused():
    assert refused("# only a comment\n") == ["bad.yaml: the file is empty"]


def test_huge_text_is_refused_before_parsing(monkeypatch):
    import yaml

    def never(*args, **kwargs):
        raise AssertionError("a text over the limit reached the YAML parser")

    monkeypatch.setattr(yaml, "load", never)
    (error,) = refused("title: " + "x" * 10_000_000)
    assert error.startswith("bad.yaml: the file is too large") and f"{MAX_BYTES // 1024} KB" in error


def test_multibyte_text_counts_bytes_not_characters():
    text = "description: {nl: " + "é" * (MAX_BYTES // 2 + 10) + "}\n"
    assert len(text) < MAX_BYTES
    assert "too large" in refused(text)[0]


def test_billion_laughs_fails_fast_at_the_first_anchor():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{c}: &{c} [{', '.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")]
    (error,) = refused("\n".join(lines) + "\n")
    # Line 1 proves nothing after the first anchor was even composed, let alone expanded.
    assert error.startswith("bad.yaml: line 1 column 4:") and "aliases" in error


def test_python_tag_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    (error,) = refused(f"id: !!python/object/apply:os.system ['touch {marker}']\n")
    assert error.startswith("bad.yaml: line 1 column 5:")
    assert "'!!python/object/apply:os.system' is not allowed" in error
    assert not marker.exists()


def test_duplicate_yaml_keys_are_refused_instead_of_silently_overwritten():
    (error,) = refused(MINIMAL + "title: {nl: Nog een titel}\n")
    assert error.startswith("bad.yaml: line 12 column 1:") and "'title' appears twice" in error


def test_yes_no_and_dates_stay_text():
    # YAML 1.1 would turn the English label "Yes" into True and the key 'no' (Norwegian) into False.
    data = load_yaml_text("label: {nl: Ja, en: Yes, 'no': Ja}\nwhen: 2024-05-01\nflag: true\n", "x.yaml")
    assert data == {"label": {"nl": "Ja", "en": "Yes", "no": "Ja"}, "when": "2024-05-01", "flag": True}


def test_file_errors_name_the_path(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(MINIMAL.replace("answer_set: yn, text: {nl: Vraag twee}", "answer_set: nope, text: {nl: x}"),
                    encoding="utf-8")
    with pytest.raises(InstrumentError) as caught:
        load_instrument_file(path)
    assert caught.value.errors == [f"{path}: scales[0].items[1].answer_set: unknown answer set 'nope' (known: yn)"]


@pytest.mark.parametrize(("content", "expected"), [
    (b"x" * (MAX_BYTES + 1), "the file is too large"),
    (b"title: {nl: \xff\xfe}\n", "is not UTF-8 text"),
])
def test_unreadable_files_are_refused(tmp_path, content, expected):
    path = tmp_path / "x.yaml"
    path.write_bytes(content)
    with pytest.raises(InstrumentError, match=expected):
        load_instrument_file(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(InstrumentError, match=r"nothere\.yaml: cannot read the file"):
        load_instrument_file(tmp_path / "nothere.yaml")


# --- structure and meaning -------------------------------------------------------

def test_minimal_definition_is_valid():
    assert parse_instrument(MINIMAL, "ok.yaml", **STRICT)["id"] == "demo"


def test_unknown_keys_are_named_with_a_suggestion():
    errors = refused(MINIMAL.replace("title: {nl: Demo}\nanswer", "titel: {nl: Demo}\nanswer"))
    assert "bad.yaml: (root): unknown key 'titel' (did you mean 'title'?)" in errors
    assert "bad.yaml: (root): 'title' is required" in errors


def test_unknown_key_deep_inside_names_the_path():
    errors = refused(MINIMAL.replace("{id: q2, type", "{id: q2, hulp: x, type"))
    assert errors == ["bad.yaml: scales[0].items[1]: unknown key 'hulp' (did you mean 'help'?)"]


@pytest.mark.parametrize("key", ["id", "version"])
def test_missing_id_or_version(key):
    text = "\n".join(line for line in MINIMAL.splitlines() if not line.startswith(f"{key}:"))
    assert refused(text) == [f"bad.yaml: (root): '{key}' is required"]


def test_type_errors_are_human():
    errors = refused(MINIMAL.replace("version: 1", "version: one"))
    assert errors == ["bad.yaml: version: must be an integer, got 'one'"]


def test_many_errors_are_reported_at_once():
    text = (MINIMAL.replace("version: 1", "version: 0")
            .replace("{id: q2,", "{id: q1,")
            .replace("title: {nl: Demo}\nanswer", "title: {en: Demo}\nanswer"))
    assert refused(text) == [
        "bad.yaml: title: the Dutch text ('nl') is required",
        "bad.yaml: version: must be at least 1, got 0",
        "bad.yaml: scales[0].items[1].id: item id 'q1' is already used at scales[0].items[0]",
    ]


def test_unknown_scoring_method_only_when_methods_are_known():
    text = MINIMAL + "    scoring: {method: median}\n"
    assert parse_instrument(text, "ok.yaml")  # without the installed list nothing can be said
    assert refused(text, known_methods=METHODS) == [
        "bad.yaml: scales[0].scoring.method: unknown scoring method 'median' (installed: mean, sum)"]


def test_plugin_types_and_methods_with_their_own_settings():
    text = (MINIMAL.replace("{id: q2, type: choice, answer_set: yn,", "{id: q2, type: smiley, options: {faces: 5},")
            + "    scoring: {method: irt, model: graded, min_answered: 2}\n")
    assert parse_instrument(text, "ok.yaml", known_types=BUILTIN_TYPES | {"smiley"}, known_methods={"irt"})
    assert refused(text, known_types=set(BUILTIN_TYPES), known_methods={"irt"}) == [
        "bad.yaml: scales[0].items[1].type: unknown question type 'smiley' (installed: choice, number, text, yes_no)"]


def _with(change):
    data = copy.deepcopy(organising())
    change(data)
    return validate_definition(data, "o.yaml", **STRICT)


def _item(data, i=0):
    return data["scales"][0]["items"][i]


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: _item(d, 1).update(id="org_1"), "scales[0].items[1].id: item id 'org_1' is already used"),
    (lambda d: d["questions"][0].update(id="org_3"), "questions[0].id: item id 'org_3' is already used"),
    (lambda d: d["scales"].append(copy.deepcopy(d["scales"][0]) | {"items": [_item(d) | {"id": "x1"}]}),
     "scales[1].id: scale id 'organising' is already used at scales[0]"),
    (lambda d: d["answer_sets"]["agree5"][4].update(value=4),
     "answer_sets.agree5[4].value: value 4 is already used at answer_sets.agree5[3]"),
    (lambda d: _item(d).update(answer_set="agree7"), "scales[0].items[0].answer_set: unknown answer set 'agree7'"),
    (lambda d: _item(d).pop("answer_set"), "scales[0].items[0]: a choice item needs an 'answer_set'"),
    (lambda d: d["questions"].append({"id": "n1", "type": "number", "min": 5, "max": 5, "text": {"nl": "x"}}),
     "questions[1].max: max (5) must be greater than min (5)"),
    (lambda d: d["questions"].append({"id": "n1", "type": "number", "step": 0, "text": {"nl": "x"}}),
     "questions[1].step: must be more than 0, got 0"),
    (lambda d: d["scales"][0]["scoring"].update(min_answered=8),
     "scales[0].scoring.min_answered: 8 is more than the 7 item(s) in this scale"),
    (lambda d: d["scales"][0]["levels"].reverse(), "scales[0].levels[1].min: levels must go up"),
    (lambda d: d["questions"][0].update(reverse=True), "questions[0].reverse: a text item cannot be reverse coded"),
    (lambda d: _item(d).update(type="text") or _item(d).pop("answer_set"),
     "scales[0].items[0]: a text item cannot be scored; move it to 'questions'"),
    (lambda d: d["scales"][0]["items"].append({"id": "x1", "type": "number", "min": 0, "max": 10,
                                               "text": {"nl": "x"}}),
     "scales[0].items[7]: this item runs from 0 to 10, the first item from 1 to 5"),
    (lambda d: d["scales"][0].update(norms={"sd": 0, "reliability": 1.0}), "scales[0].norms.sd: must be more than 0"),
    (lambda d: d["scales"][0].update(norms={"sd": 0.7, "reliability": 1.0}),
     "scales[0].norms.reliability: must be less than 1"),
    (lambda d: _item(d).update(min=float("nan")), "scales[0].items[0].min: must be a finite number"),
    (lambda d: d["title"].update(Dutch="x"), "title: 'Dutch' is not a language code"),
    (lambda d: d.update(id="Plannen 1"), "id: 'Plannen 1' is not a valid id"),
])
def test_meaning_checks(change, expected):
    errors = _with(change)
    assert any(error.startswith(f"o.yaml: {expected}") for error in errors), errors


def test_norms_may_be_null_or_given():
    assert _with(lambda d: d["scales"][0].update(norms=None)) == []
    assert _with(lambda d: d["scales"][0].update(norms={"sd": 0.7, "reliability": 0.82})) == []


def test_non_mapping_definition_from_a_plugin():
    assert validate_definition(["id"], "plugin x") == [
        "plugin x: (root): must be a mapping of keys (id, version, title, ...), got a list"]


def test_html_in_titles_is_plain_data():
    # Escaping is the renderer's job; the loader must neither refuse nor alter the text.
    title = "<script>alert('x')</script> & <b>vet</b>"
    data = parse_instrument(MINIMAL.replace("title: {nl: Demo}\nanswer", f'title: {{nl: "{title}"}}\nanswer'), "x")
    assert data["title"]["nl"] == title


# --- languages --------------------------------------------------------------------

def test_required_languages_and_translation_warnings():
    data = load_yaml_text(MINIMAL, "m.yaml")
    assert validate_definition(data, "m.yaml") == []
    assert "m.yaml: scales[0].items[1].text: the 'en' text is required" in validate_definition(
        data, "m.yaml", require_languages=("nl", "en"))
    warnings = translation_warnings(data, "m.yaml")
    assert "m.yaml: title: missing translation 'en' (the Dutch text is shown instead)" in warnings
    assert len(warnings) == 6  # title, 2 labels, scale title, 2 items


def test_translate_falls_back_to_dutch_then_any_language():
    assert translate({"nl": "Hallo", "en": "Hello"}, "en") == "Hello"
    assert translate({"nl": "Hallo", "en": "Hello"}, "en-GB") == "Hello"
    assert translate({"nl": "Hallo"}, "tr") == "Hallo"
    assert translate({"ar": "مرحبا"}, "en") == "مرحبا"
    assert translate({}, "nl") == ""


# --- using a valid definition ---------------------------------------------------------

def test_normalise_fills_defaults_without_touching_the_input():
    data = load_yaml_text(MINIMAL, "m.yaml")
    before = copy.deepcopy(data)
    full = normalise(data)
    assert data == before
    scale = full["scales"][0]
    assert scale["higher_is_better"] is True
    assert scale["scoring"] == {"method": "mean", "min_answered": 1}
    assert scale["norms"] == {} and scale["levels"] == []
    assert all(item["reverse"] is False for item in scale["items"])
    assert full["questions"] == []
    assert normalise(full) == full


def test_item_range_by_type():
    sets = {"agree5": [{"value": v} for v in (3, 1, 5, 2, 4)]}
    assert item_range({"type": "choice", "answer_set": "agree5"}, sets) == (1, 5)
    assert item_range({"type": "number", "min": 0, "max": 10}, sets) == (0, 10)
    assert item_range({"type": "number"}, sets) is None
    assert item_range({"type": "yes_no"}, sets) == (0, 1)
    assert item_range({"type": "text"}, sets) is None
    assert reverse_code(2, 1, 5) == 4


def test_digest_ignores_key_order_and_spelled_out_defaults_but_not_changes():
    data = organising()
    shuffled = dict(reversed(list(copy.deepcopy(data).items())))
    shuffled["scales"][0] = dict(reversed(list(shuffled["scales"][0].items())))
    assert definition_digest(shuffled) == definition_digest(data)
    assert definition_digest(normalise(data)) == definition_digest(data)
    changed = copy.deepcopy(data)
    _item(changed)["text"]["en"] += "!"
    assert definition_digest(changed) != definition_digest(data)
    assert re.fullmatch(r"[0-9a-f]{64}", definition_digest(data))


def test_path_text():
    assert path_text(()) == "(root)"
    assert path_text(("scales", 1, "items", 3, "answer_set")) == "scales[1].items[3].answer_set"
    assert path_text(("answer_sets", "a b")) == "answer_sets['a b']"


def test_a_parsed_file_is_reused_as_a_copy_and_a_changed_one_is_checked_again():
    """Each app of a process parses an instrument file once; what a caller changes stays its own."""
    text = (Path(__file__).parents[2] / "instruments" / "organising.yaml").read_text(encoding="utf-8")
    first = parse_instrument(text, "organising.yaml")
    first["title"] = {"en": "changed by the caller"}
    second = parse_instrument(text, "organising.yaml")
    assert second["title"] != first["title"] and second == parse_instrument(text, "organising.yaml")
    broken = text.replace("version:", "versio:", 1)
    with pytest.raises(InstrumentError):
        parse_instrument(broken, "organising.yaml")
