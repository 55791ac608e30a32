"""Short forms, look-back wording and translation status: how an author marks them and how a mistake is told."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from surveyhub.measures.definition import (
    BUILTIN_TYPES,
    definition_digest,
    has_short_form,
    in_form,
    item_counts,
    short_form,
    translation_status,
)
from surveyhub.measures.validation import validate_definition
from surveyhub.measures.yaml_loader import load_instrument_file

INSTRUMENTS = Path(__file__).resolve().parents[2] / "instruments"
SHIPPED = sorted(INSTRUMENTS.glob("*.yaml"))
STRICT = {"known_types": set(BUILTIN_TYPES), "known_methods": {"mean", "sum"}}


def organising() -> dict:
    return load_instrument_file(INSTRUMENTS / "organising.yaml")


def problems(change) -> list[str]:
    data = copy.deepcopy(organising())
    change(data)
    return validate_definition(data, "o.yaml", **STRICT)


def scale(data: dict) -> dict:
    return data["scales"][0]


# --- short_form -------------------------------------------------------------------------------

def test_a_short_form_of_the_scales_own_items_is_valid_and_keeps_exactly_those_items():
    assert problems(lambda d: scale(d).update(short_form=["org_7", "org_2"])) == []
    data = organising() | {"scales": [scale(organising()) | {"short_form": ["org_7", "org_2"]}]}
    assert [item["id"] for item in scale(short_form(data))["items"]] == ["org_2", "org_7"]  # the scale's order


@pytest.mark.parametrize(("short", "expected"), [
    (["org_1", "org_9"], "o.yaml: scales[0].short_form[1]: 'org_9' is not an item of this scale (its items: "
                         "org_1, org_2, org_3, org_4, org_5, org_6, org_7)"),
    (["org_1", "org_proud_of"], "o.yaml: scales[0].short_form[1]: 'org_proud_of' is not an item of this scale"),
    (["org_1", "org_2", "org_1"], "o.yaml: scales[0].short_form: lists 'org_1' twice"),
    (["org_1"], "o.yaml: scales[0].short_form: needs at least 2 entries"),
    ([], "o.yaml: scales[0].short_form: needs at least 2 entries"),
    ([f"org_{n}" for n in range(1, 8)],
     "o.yaml: scales[0].short_form: lists all 7 items of this scale; a short form leaves at least one out"),
    ("org_1", "o.yaml: scales[0].short_form: must be a list, got 'org_1'"),
    (["org_1", 2], "o.yaml: scales[0].short_form[1]: must be text, got 2"),
])
def test_a_bad_short_form_is_refused_with_what_to_change(short, expected):
    found = problems(lambda d: scale(d).update(short_form=short))
    assert any(line.startswith(expected) for line in found), found


def test_the_short_form_of_a_scale_is_checked_against_that_scale_only():
    def two_scales(d):
        other = copy.deepcopy(scale(d)) | {"id": "second", "short_form": ["org_1", "org_2"]}
        other["items"] = [item | {"id": f"s_{item['id']}"} for item in other["items"]]
        d["scales"].append(other)
    assert any(line.startswith("o.yaml: scales[1].short_form[0]: 'org_1' is not an item of this scale")
               for line in problems(two_scales))


# --- retrospective_text ------------------------------------------------------------------------

def test_every_item_under_a_look_back_lead_in_needs_its_past_tense_wording():
    found = problems(lambda d: scale(d)["items"][2].pop("retrospective_text"))
    assert found == ["o.yaml: scales[0].items[2]: item 'org_3' needs a 'retrospective_text': this scale has a "
                     "'retrospective' lead-in, so the item is asked again about before the project; write it in "
                     "the past tense (\"Vóór het project kon ik ...\")"]


def test_without_a_lead_in_the_look_back_wording_is_optional():
    def no_lead_in(d):
        scale(d).pop("retrospective")
        for item in scale(d)["items"][:3]:
            item.pop("retrospective_text")
    assert problems(no_lead_in) == []


def test_look_back_wording_is_translated_text_and_only_for_scale_items():
    assert problems(lambda d: scale(d)["items"][0].update(retrospective_text="Vroeger")) == [
        "o.yaml: scales[0].items[0].retrospective_text: must be a mapping of keys, got 'Vroeger'"]
    assert problems(lambda d: scale(d)["items"][0].update(retrospective_text={"en": "Before"})) == [
        "o.yaml: scales[0].items[0].retrospective_text: the Dutch text ('nl') is required"]
    assert problems(lambda d: d["questions"][0].update(retrospective_text={"nl": "Waar was je trots op?"})) == [
        "o.yaml: questions[0].retrospective_text: only items in a scale are asked in the look-back; "
        "remove 'retrospective_text' here"]


def test_look_back_wording_counts_in_the_digest_and_in_the_language_check():
    data = organising()
    changed = copy.deepcopy(data)
    scale(changed)["items"][0]["retrospective_text"]["nl"] = "Vroeger plande ik niets."
    assert definition_digest(changed) != definition_digest(data)
    english_gone = copy.deepcopy(data)
    scale(english_gone)["items"][0]["retrospective_text"].pop("en")
    assert validate_definition(english_gone, "o.yaml", require_languages=("nl", "en")) == [
        "o.yaml: scales[0].items[0].retrospective_text: the 'en' text is required"]


# --- translation_status ---------------------------------------------------------------------------

def test_translation_status_names_listed_languages_with_draft_or_confirmed():
    assert problems(lambda d: d.update(languages=["nl", "en", "tr"], translation_status={"tr": "confirmed"})) == []
    assert problems(lambda d: d.update(languages=["nl", "en"], translation_status={"de": "draft"})) == [
        "o.yaml: translation_status.de: 'de' is not one of the instrument's languages ('languages' lists nl, en); "
        "add it to 'languages' or remove this entry"]
    assert problems(lambda d: d.pop("languages") and d.update(translation_status={"en": "draft"})) == [
        "o.yaml: translation_status.en: 'en' is not one of the instrument's languages (there is no 'languages' "
        "list); add it to 'languages' or remove this entry"]


@pytest.mark.parametrize(("status", "expected"), [
    ({"tr": "checked"}, "o.yaml: translation_status.tr: must be one of 'draft', 'confirmed', got 'checked'"),
    ({"tr": True}, "o.yaml: translation_status.tr: must be one of 'draft', 'confirmed', got True"),
    ({"Turks": "draft"}, "o.yaml: translation_status: 'Turks' is not a language code such as 'nl' or 'en'"),
    ("draft", "o.yaml: translation_status: must be a mapping of keys, got 'draft'"),
])
def test_a_bad_translation_status_is_refused(status, expected):
    found = problems(lambda d: d.update(languages=["nl", "en", "tr"], translation_status=status))
    assert found == [expected]


def test_an_unmarked_translation_counts_as_a_draft_and_the_status_leaves_the_digest_alone():
    data = organising() | {"languages": ["nl", "en", "tr", "de"], "translation_status": {"tr": "confirmed"}}
    assert translation_status(data) == {"nl": "confirmed", "en": "confirmed", "tr": "confirmed", "de": "draft"}
    assert translation_status({"id": "x"}) == {"nl": "confirmed"}
    assert definition_digest(data) == definition_digest(data | {"translation_status": {"tr": "draft"}})


# --- the shipped instruments -----------------------------------------------------------------------

@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_each_shipped_short_form_keeps_its_listed_items_and_a_sane_minimum(path):
    data = load_instrument_file(path, **STRICT)
    assert data["version"] == (1 if path.stem in ("having_a_say", "neighbourhood") else 2) and has_short_form(data)
    short = short_form(data)
    for full_scale, short_scale in zip(data["scales"], short["scales"], strict=True):
        listed = full_scale["short_form"]
        assert 3 <= len(listed) <= 4
        assert [item["id"] for item in short_scale["items"]] == [i["id"] for i in full_scale["items"]
                                                                 if i["id"] in listed]
        needed = short_scale["scoring"]["min_answered"]
        assert len(listed) - 1 <= needed < len(listed)  # one answer may be missing, no more
        assert not any(item.get("reverse") for item in short_scale["items"])  # the clearest items only
    assert short.get("questions") == data.get("questions")
    assert in_form(data, "full") is data
    full, kept = item_counts(data)
    assert (full, kept) == (sum(len(s["items"]) for s in data["scales"]), sum(len(s["short_form"])
                                                                             for s in data["scales"]))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_a_reverse_item_left_in_a_shipped_instrument_says_why(path):
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    data = load_instrument_file(path)
    for item in (i for s in data["scales"] for i in s["items"] if i.get("reverse")):
        at = next(n for n, line in enumerate(lines) if re.fullmatch(rf"\s*- id: {item['id']}", line))
        comment = []
        for line in reversed(lines[:at]):
            if not line.strip().startswith("#"):
                break
            comment.append(line)
        assert len(comment) >= 2 and "positive" in " ".join(comment), f"{item['id']}: say why it stays reverse"


#: Every text a resident (or their certificate) shows, per scale item.
ITEM_TEXTS = ("text", "retrospective_text")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_each_shipped_instrument_speaks_five_languages_and_calls_three_of_them_drafts(path):
    data = load_instrument_file(path, **STRICT)
    assert data["languages"] == ["nl", "en", "tr", "ar", "pl"]
    assert data["translation_status"] == {"tr": "draft", "ar": "draft", "pl": "draft"}  # never claimed as checked
    assert translation_status(data) == {"nl": "confirmed", "en": "confirmed", "tr": "draft", "ar": "draft",
                                        "pl": "draft"}
    texts = [data["title"], data["description"]]
    texts += [option["label"] for options in data["answer_sets"].values() for option in options]
    for scale_ in data["scales"]:
        texts += [scale_["title"], scale_["retrospective"], scale_["can_do"]]
        texts += [level["label"] for level in scale_["levels"]]
        for item in scale_["items"]:
            texts += [item[key] for key in ITEM_TEXTS] + ([item["can_do"]] if "can_do" in item else [])
            assert "can_do" in item or item.get("reverse") or item["id"] == "cnf_5", item["id"]
    for question in data.get("questions", []):
        texts += [question["text"], question["help"]]
    for text in texts:
        assert set(text) == set(data["languages"]), text["nl"]
        assert all(value.strip() and value != text["nl"] for lang, value in text.items() if lang != "nl"), text
    arabic = [text["ar"] for text in texts]
    assert all(re.search("[\u0600-\u06ff]", value) for value in arabic)  # written in Arabic script


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_the_look_back_wording_is_in_the_past_in_every_language(path):
    data = load_instrument_file(path)
    for item in (item for scale_ in data["scales"] for item in scale_["items"]):
        then = item["retrospective_text"]
        assert then["nl"].startswith("Vóór het project "), item["id"]
        assert then["en"].startswith("Before the project, "), item["id"]
        assert then["tr"].startswith("Projeden önce "), item["id"]
        assert then["ar"].startswith("قبل المشروع، "), item["id"]
        assert then["pl"].startswith("Przed projektem "), item["id"]
        assert all(then[lang] != item["text"][lang] for lang in then), item["id"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_polish_wording_fits_every_resident_without_gender_endings(path):
    # Polish marks the speaker's gender in the past tense ("wiedziałem"/"wiedziałam"); slashes and
    # brackets ("wiedziałem(-am)") are hard to read, so the wording avoids the gendered forms.
    text = path.read_text(encoding="utf-8")
    polish = re.findall(r"^\s*pl: (.*)$", text, re.M)
    assert len(polish) > 30
    assert [line for line in polish if re.search(r"\(-|/|łem\b|łam\b", line)] == []
