"""The faces plugin: its question type in a WTForms form, its instrument, its entry point.

Run from the SurveyHub checkout with the plugin installed:
``.venv/bin/pytest plugins/surveyhub-faces/tests``.
"""

from __future__ import annotations

import importlib.metadata
import re

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Form

import surveyhub_faces
from surveyhub.measures import builtin, validation, yaml_loader
from surveyhub.measures.registry import build_registry
from surveyhub.measures.scoring import score_scale
from surveyhub.plugins import PluginHost
from surveyhub_faces import faces
from surveyhub_faces.faces import FacesType

ITEM = {"id": "fw_home", "type": "faces", "text": {"nl": "Hoe voel je je in je buurt?",
                                                   "en": "How do you feel in your neighbourhood?"}}


def form_for(item: dict, lang: str = "nl", data: dict | None = None):
    """A bare WTForms form with one faces field, the way the questionnaire builds one per item."""
    context = {"answer_sets": {}, "lang": lang}
    form_class = type("OneItemForm", (Form,), {"answer": FacesType().make_field(item, context)})
    return form_class(formdata=MultiDict(data) if data is not None else None)


def host_with_faces() -> PluginHost:
    """A bare plugin host: the built-ins (for the mean method) plus this plugin."""
    host = PluginHost()
    for name, plugin in builtin.builtin_plugins({"INSTRUMENTS_DIR": None}).items():
        host.register(plugin, name, "built-in", builtin=True)
    host.register(surveyhub_faces, "faces", "test")
    return host


def test_the_field_offers_five_faces_each_with_a_word():
    html = str(form_for(ITEM).answer())
    assert re.findall(r'<input[^>]*type="radio"[^>]*value="(\d)"', html) == ["1", "2", "3", "4", "5"]
    assert html.count('aria-hidden="true"><svg') == 5
    for word in ("Heel verdrietig", "Verdrietig", "Gaat wel", "Blij", "Heel blij"):
        assert f'<span class="face-label">{word}</span>' in html
    # every radio button has its own label, so the word is its accessible name
    ids = re.findall(r'<input[^>]*id="([^"]+)"', html)
    assert all(f'for="{field_id}"' in html for field_id in ids)
    assert "<img" not in html and "http" not in html.replace("http://www.w3.org", "")


def test_the_field_speaks_the_residents_language_and_falls_back_to_dutch():
    assert "Very happy" in str(form_for(ITEM, "en").answer())
    assert form_for(ITEM, "en").answer.label.text == "How do you feel in your neighbourhood?"
    assert "Heel blij" in str(form_for(ITEM, "tr").answer())


def test_label_words_are_escaped(monkeypatch):
    monkeypatch.setitem(faces.LABELS, 5, {"nl": "<script>alert(1)</script>"})
    label = faces.face_label(5, "nl")
    assert isinstance(label, Markup)
    assert "<script>" not in label and "&lt;script&gt;" in label


@pytest.mark.parametrize(("raw", "stored"), [("1", 1.0), ("5", 5.0), (" 3 ", 3.0), ("4.0", 4.0),
                                              (2, 2.0), ("", None), (None, None)])
def test_code_stores_one_to_five(raw, stored):
    assert FacesType().code(ITEM, raw, {"answer_sets": {}, "lang": "nl"}) == stored


@pytest.mark.parametrize("raw", ["0", "6", "2.5", "blij", "nan", "inf", "-1"])
def test_code_refuses_anything_else_with_a_message_for_the_resident(raw):
    with pytest.raises(ValueError, match="Kies een van de gezichten"):
        FacesType().code(ITEM, raw, {"answer_sets": {}, "lang": "nl"})
    with pytest.raises(ValueError, match="Choose one of the faces"):
        FacesType().code(ITEM, raw, {"answer_sets": {}, "lang": "en"})


def test_a_submitted_form_codes_to_the_stored_value():
    form = form_for(ITEM, data={"answer": "4"})
    assert form.validate()
    assert FacesType().code(ITEM, form.answer.data, {"answer_sets": {}, "lang": "nl"}) == 4.0
    assert re.findall(r'<input checked[^>]*value="(\d)"', str(form.answer())) == ["4"]


def test_the_type_is_scored_on_one_to_five():
    assert FacesType.scored is True
    assert FacesType().value_range(ITEM, {"answer_sets": {}, "lang": "nl"}) == (1.0, 5.0)


def test_the_instrument_is_valid_complete_and_scores_with_faces():
    registry = build_registry(host_with_faces())
    assert registry.errors == []
    loaded = registry.get("faces_wellbeing", 2)
    assert loaded is not None and loaded.source == str(surveyhub_faces.INSTRUMENT_FILE)
    data = yaml_loader.load_instrument_file(surveyhub_faces.INSTRUMENT_FILE)
    assert validation.translation_warnings(data, "faces_wellbeing.yaml") == []
    [scale] = loaded.definition["scales"]
    assert 4 <= len(scale["items"]) <= 6 and {i["type"] for i in scale["items"]} == {"faces"}
    answers = {item["id"]: 4.0 for item in scale["items"]} | {scale["items"][0]["id"]: 2.0}
    expected = (2.0 + 4.0 * (len(scale["items"]) - 1)) / len(scale["items"])
    assert score_scale(scale, answers, {}, registry.scoring_methods) == pytest.approx(expected)


def test_the_entry_point_loads_the_plugin_into_the_app(tmp_path):
    names = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="surveyhub")}
    assert names.get("faces") == "surveyhub_faces", "install the plugin: pip install -e ./plugins/surveyhub-faces"
    from surveyhub import create_app
    from surveyhub.plugins import get_registry
    from surveyhub.plugins import get_host

    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test", "PLUGINS_DIR": ""})
    status = get_host(app).statuses["faces"]
    assert (status.status, status.version) == ("ok", importlib.metadata.version("surveyhub-faces"))
    assert status.hooks == ["surveyhub_register_instruments", "surveyhub_register_question_types"]
    assert isinstance(get_registry(app).question_types["faces"].qtype, FacesType)  # in its guard
    assert get_registry(app).get("faces_wellbeing") is not None
    app.extensions["surveyhub.db"].engine.dispose()
