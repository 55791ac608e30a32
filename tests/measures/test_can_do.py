"""Can-do wording in instruments: optional, checked like every translation, and not part of the version digest."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from surveyhub.measures.definition import InstrumentError, definition_digest, translate
from surveyhub.measures.yaml_loader import load_instrument_file, parse_instrument

INSTRUMENTS = Path(__file__).resolve().parents[2] / "instruments"

MINIMAL = """\
id: demo
version: 1
title: {nl: Demo}
answer_sets:
  yn: [{value: 1, label: {nl: Ja}}, {value: 2, label: {nl: Nee}}]
scales:
  - id: demo
    title: {nl: Demo}
    %(scale_can_do)s
    items:
      - {id: q1, type: choice, answer_set: yn, text: {nl: Vraag een}%(item_can_do)s}
"""


def _parse(scale_can_do: str = "", item_can_do: str = "") -> dict:
    return parse_instrument(MINIMAL % {"scale_can_do": scale_can_do, "item_can_do": item_can_do}, "demo.yaml")


def test_can_do_is_optional_on_an_item_and_a_scale():
    plain = _parse()
    worded = _parse("can_do: {nl: samen plannen}", ", can_do: {nl: een vraag stellen, en: ask a question}")
    assert "can_do" not in plain["scales"][0]
    assert translate(worded["scales"][0]["items"][0]["can_do"], "en") == "ask a question"
    assert translate(worded["scales"][0]["can_do"], "en") == "samen plannen"  # falls back to Dutch


def test_can_do_must_be_a_translation_with_dutch():
    for bad in (", can_do: een vraag stellen", ", can_do: {en: ask a question}"):
        with pytest.raises(InstrumentError) as raised:
            _parse(item_can_do=bad)
        assert "can_do" in str(raised.value)


def test_can_do_wording_does_not_change_the_version_digest():
    plain = _parse()
    worded = _parse("can_do: {nl: samen plannen}", ", can_do: {nl: een vraag stellen}")
    reworded = copy.deepcopy(worded)
    reworded["scales"][0]["items"][0]["can_do"] = {"nl": "iets anders"}
    assert definition_digest(plain) == definition_digest(worded) == definition_digest(reworded)
    changed = copy.deepcopy(worded)
    changed["scales"][0]["items"][0]["text"] = {"nl": "Vraag twee"}
    assert definition_digest(changed) != definition_digest(worded)  # a real change still counts
    assert "can_do" in worded["scales"][0]["items"][0]  # the digest leaves the definition itself whole


def test_shipped_can_do_phrases_complete_a_sentence_in_both_languages():
    for path in sorted(INSTRUMENTS.glob("*.yaml")):
        data = load_instrument_file(path)
        for scale in data["scales"]:
            assert scale.get("can_do"), (path.name, scale["id"])
            worded = [item for item in scale["items"] if item.get("can_do")]
            assert len(worded) >= 4, (path.name, scale["id"])
            for item in worded + [scale]:
                for lang in ("nl", "en"):
                    phrase = item["can_do"][lang]
                    # a phrase after "kan nu" / "can now": lower case, no full stop, no "je"/"ik"/"I"
                    assert phrase[0].islower() and not phrase.endswith("."), phrase
                    assert not {"je", "ik", "jij", "i", "you"} & set(phrase.casefold().split()), phrase
            assert not any(item.get("reverse") and item.get("can_do") for item in scale["items"])
