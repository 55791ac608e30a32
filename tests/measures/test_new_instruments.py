"""The two instruments for the field's other accents: having a say, and together in the neighbourhood.

``having_a_say`` ("Meepraten en meebeslissen") is for work that leans towards inspraak and
zeggenschap; ``neighbourhood`` ("Samen in de buurt") towards liveability and social cohesion.
The rules every shipped instrument keeps (item wording, look-back, languages, short forms) are
tested for all of them in test_schema.py and test_instrument_forms.py; this module checks what
is particular to these two: their scales, that they score (full and short form, the one reverse
item mirrored), that every text has Dutch and English, and that a resident gets them on the
questionnaire page and a worker in the report.
"""

from __future__ import annotations

from pathlib import Path
from statistics import mean

import pytest

from surveyhub.measures.definition import BUILTIN_TYPES, normalise, short_form
from surveyhub.measures.scoring import coded_values, level_for, score_scale
from surveyhub.measures.validation import validate_definition
from surveyhub.measures.yaml_loader import load_instrument_file
from tests.fixtures.factories import csrf_token
from tests.fixtures.outcomes import SHOW_ALL, answer, cli_report

INSTRUMENTS = Path(__file__).resolve().parents[2] / "instruments"
#: Instrument id -> its scales, each with the number of items (full form) and the reverse items.
EXPECTED = {
    "having_a_say": {"speaking_up": (7, set()), "influence": (7, set())},
    "neighbourhood": {"together": (6, set()), "at_home": (7, {"home_5"})},
}
TITLES = {"having_a_say": ("Meepraten en meebeslissen", "Having a say"),
          "neighbourhood": ("Samen in de buurt", "Together in the neighbourhood")}


def load(instrument_id: str) -> dict:
    return normalise(load_instrument_file(INSTRUMENTS / f"{instrument_id}.yaml"))


@pytest.mark.parametrize("instrument_id", sorted(EXPECTED))
def test_it_loads_at_version_1_with_its_scales_and_titles(instrument_id):
    data = load(instrument_id)
    assert (data["id"], data["version"]) == (instrument_id, 1)
    assert (data["title"]["nl"], data["title"]["en"]) == TITLES[instrument_id]
    scales = {scale["id"]: (len(scale["items"]), {i["id"] for i in scale["items"] if i["reverse"]})
              for scale in data["scales"]}
    assert scales == EXPECTED[instrument_id]
    assert validate_definition(data, instrument_id, known_types=set(BUILTIN_TYPES),
                               known_methods={"mean", "sum"}, require_languages=("nl", "en")) == []
    # The open question is optional to answer and stays out of every score.
    [question] = data["questions"]
    assert question["type"] == "text" and "leeg laten" in question["help"]["nl"]


@pytest.mark.parametrize("instrument_id", sorted(EXPECTED))
def test_every_text_has_dutch_and_english_and_they_differ(instrument_id):
    data = load_instrument_file(INSTRUMENTS / f"{instrument_id}.yaml")
    texts = list(_texts(data))  # the certificate's can-do phrases too
    assert len(texts) >= 55
    for text in texts:
        assert text.get("nl", "").strip() and text.get("en", "").strip(), text
        assert text["nl"] != text["en"], text


def test_the_look_back_asks_the_same_thing_in_the_past():
    data = load("having_a_say")
    [say_1] = [i for s in data["scales"] for i in s["items"] if i["id"] == "say_1"]
    assert say_1["text"]["nl"] == "Ik weet wie bij de gemeente over mijn straat beslist."
    assert say_1["retrospective_text"]["nl"] == \
        "Vóór het project wist ik wie bij de gemeente over mijn straat besliste."


@pytest.mark.parametrize("instrument_id", sorted(EXPECTED))
def test_the_full_form_scores_the_mean_with_the_reverse_item_mirrored(instrument_id):
    data = load(instrument_id)
    sets = data["answer_sets"]
    for scale in data["scales"]:
        answers = {item["id"]: float(1 + n % 5) for n, item in enumerate(scale["items"])}
        expected = mean(6 - v if item["reverse"] else v for item, v in zip(scale["items"], answers.values()))
        assert score_scale(scale, answers, sets) == pytest.approx(expected)
        # Agreeing with everything a strong resident would: the reverse item answered "disagree".
        strong = {item["id"]: 2.0 if item["reverse"] else 5.0 for item in scale["items"]}
        coded = coded_values(scale, strong, sets)
        assert set(coded.values()) == ({5.0, 4.0} if any(i["reverse"] for i in scale["items"]) else {5.0})
        assert level_for(score_scale(scale, strong, sets), scale)["label"]["nl"] == "Sterk"
        assert level_for(1.5, scale)["label"]["nl"] == "Op weg"
        # Too few answers: no score rather than a guess.
        needed = scale["scoring"]["min_answered"]
        few = {item["id"]: 3.0 for item in scale["items"][:needed - 1]}
        assert score_scale(scale, few, sets) is None


@pytest.mark.parametrize("instrument_id", sorted(EXPECTED))
def test_the_short_form_scores_on_three_of_its_four_items(instrument_id):
    data = load(instrument_id)
    short = short_form(data)
    for full_scale, scale in zip(data["scales"], short["scales"], strict=True):
        kept = [item["id"] for item in scale["items"]]
        assert kept == full_scale["short_form"] and len(kept) == 4
        assert not any(item["reverse"] for item in scale["items"])
        answers = {kept[0]: 4.0, kept[1]: 5.0, kept[2]: 3.0}  # one left empty
        assert score_scale(scale, answers, short["answer_sets"]) == pytest.approx(4.0)
        assert score_scale(scale, {kept[0]: 4.0, kept[1]: 5.0}, short["answer_sets"]) is None


def test_item_ids_do_not_clash_with_the_other_shipped_instruments():
    ours = {i["id"] for name in EXPECTED for s in load(name)["scales"] for i in s["items"]}
    others = {i["id"] for path in INSTRUMENTS.glob("*.yaml") if path.stem not in EXPECTED
              for s in load(path.stem)["scales"] for i in s["items"]}
    assert len(ours) == 27 and not ours & others


# --- in a project: the resident's page and the report ------------------------------------------------

def test_a_resident_answers_them_in_english(client, make_org, make_project, make_participant):
    org = make_org()
    info = make_project(org, "Bewonersraad", instruments=("having_a_say", "neighbourhood"))
    invitation = make_participant(org, info.slug)
    first = client.get(f"/q/{invitation.token}?lang=en").get_data(as_text=True)
    sent = client.post(f"/q/{invitation.token}", data={"csrf_token": csrf_token(first), "consent": "y"})
    assert sent.status_code == 302
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "I know who at the municipality decides about my street." in page
    assert "Strongly agree" in page


def test_the_report_shows_each_scale_with_its_pairs(app, session, runner, make_org, make_project):
    org = make_org()
    info = make_project(org, "Buurttuin", instruments=("having_a_say", "neighbourhood"))
    data = {name: load(name) for name in EXPECTED}
    pre_levels = [2, 2, 3, 2, 3, 2, 3, 3, 2, 2, 3, 2]
    for n, level in enumerate(pre_levels):
        code = f"P{n:03d}"
        answer(app, session, info.slug, "pre", code, _at(data, level))
        answer(app, session, info.slug, "post", code, _at(data, level + 1 + n % 2))
    report = cli_report(runner, info.slug, *SHOW_ALL)
    found = {(entry["instrument"], entry["scale"]): entry for entry in report["scales"]}
    assert set(found) == {(name, scale) for name, scales in EXPECTED.items() for scale in scales}
    for entry in found.values():
        assert entry["n_pairs"] == len(pre_levels)
        assert entry["pre"]["mean"] == pytest.approx(mean(pre_levels))
        assert entry["change"]["mean"] == pytest.approx(1.5)


def _texts(value):
    """Every translated text in a definition: each mapping with a Dutch entry."""
    if isinstance(value, dict):
        if "nl" in value:
            yield value
        else:
            for child in value.values():
                yield from _texts(child)
    elif isinstance(value, list):
        for child in value:
            yield from _texts(child)


def _at(data: dict, level: int) -> dict:
    """Every item answered so that each scale scores ``level`` (the reverse item mirrored)."""
    return {(name, item["id"]): float(6 - level if item["reverse"] else level)
            for name, definition in data.items() for scale in definition["scales"] for item in scale["items"]}
