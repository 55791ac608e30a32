"""Every hook in ``surveyhub/hookspecs.py``, exercised through the app: one ``test_hook_<name>`` each.

The test plugins live in ``tests/plugins/contract.py`` (one small, realistic
plugin per hook) and are registered through ``EXTRA_PLUGINS``; the plugins
folder is the repository's ``plugins/``, so the participation ladder example
runs here too. ``test_every_hook_is_documented_and_tested`` keeps the contract
honest: a new hook needs a docstring with ``:returns:``, a section in
``docs/plugins.md`` and a ``test_hook_<name>`` below.

The certificate and report sections are checked through ``call_isolated``
with the context their callers pass, and through the collector the documents
use (``document_context.plugin_sections``); export formats through the export
service; the completed-response event with the payload the questionnaire
sends (``responses.completed_event``).
"""

from __future__ import annotations

import importlib.metadata
import inspect
import io
import json
import math
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import Form

from surveyhub import hookspecs
from surveyhub.plugins import PluginHost, get_host, get_registry
from surveyhub.models import Participant
from surveyhub.services import access, document_context, exports, participants, responses
from tests.conftest import missing
from tests.plugins import contract

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "plugins.md"
SPEC_NAMES = sorted(name for name, obj in vars(hookspecs).items()
                    if name.startswith("surveyhub_") and hasattr(obj, "surveyhub_spec"))


@pytest.fixture
def recorder():
    return contract.CompletedRecorder()


@pytest.fixture
def app_config(app_config, recorder):
    return {**app_config, "PLUGINS_DIR": str(ROOT / "plugins"), "EXTRA_PLUGINS": {
        "tests.instruments": contract.Instruments(), "tests.scoring": contract.Scoring(),
        "tests.question_types": contract.QuestionTypes(), "tests.certificate": contract.CertificateSections(),
        "tests.report": contract.ReportSections(), "tests.exports": contract.ExportFormats(),
        "tests.completed": recorder}}


def answer(app, session, org, slug: str, instrument: str, values: dict, name: str | None = None):
    """A resident of the project answers the pre wave; the response is completed and committed."""
    actor = access.Actor(organisation_id=org.id, role="admin")
    [invitation] = participants.add_participants(session, actor, slug, entries=[(name, None)])
    project = access.project(session, actor, slug, "project.setup")
    participant = session.scalar(select(Participant).where(Participant.project_id == project.id,
                                                           Participant.code == invitation.code))
    pre = next(wave for wave in project.waves if wave.kind == "pre")
    response = responses.get_or_start(session, participant, pre)
    responses.save_answers(session, response, {("now", instrument, item): v for item, v in values.items()})
    registry = get_registry(app)
    responses.complete(session, project, response, registry.scoring_methods,
                       on_error=registry.scoring_error_handler(get_host(app)))
    session.commit()
    return project, pre, response


def scores_of(response) -> dict[str, float | None]:
    return {score.scale_id: score.score for score in response.scores if score.block == "now"}


def bare_form(question_type, items: list[dict], lang: str, data: dict | None = None) -> Form:
    """A WTForms form with one field per item, built the way the questionnaire builds its pages."""
    context = {"answer_sets": {}, "lang": lang}
    fields = {item["id"]: question_type.make_field(item, context) for item in items}
    return type("PageForm", (Form,), fields)(formdata=MultiDict(data) if data is not None else None)


# --- surveyhub_register_instruments ------------------------------------------------

def test_hook_surveyhub_register_instruments(app, session, make_org, make_project):
    registry = get_registry(app)
    assert registry.errors == []
    assert registry.get("garden_days", 1).source == "plugin tests.instruments"  # a dict
    assert registry.get("buurtquiz", 2).source == str(Path(contract.DATA / "buurtquiz.yaml"))  # a path
    assert registry.get("participation_ladder", 2).source == "plugin plugins.participation_ladder"
    listed = app.test_cli_runner().invoke(args=["instruments", "list"]).output
    assert "garden_days@1  Garden days  [gardening]  (plugin tests.instruments)" in listed
    assert "buurtquiz@2  Neighbourhood quiz  [knowing]" in listed
    info = make_project(make_org(), instruments=("garden_days", "buurtquiz@2", "organising"))
    assert info.instruments == ["garden_days@1", "buurtquiz@2", "organising@2"]


# --- surveyhub_register_scoring_methods -------------------------------------------

def test_hook_surveyhub_register_scoring_methods(app, session, make_org, make_project):
    registry = get_registry(app)
    assert registry.scoring_methods["median"].method is contract.score_median  # in its guard, registered once
    assert {"mean", "sum", "highest_rung"} <= set(registry.scoring_methods)
    org = make_org()
    garden = make_project(org, instruments=("garden_days",))
    *_, response = answer(app, session, org, garden.slug, "garden_days", {"gd_1": 1.0, "gd_2": 4.0, "gd_3": 4.0})
    assert scores_of(response) == {"gardening": 4.0}  # the median; a mean would give 3.0
    ladder = make_project(org, name="Speeltuin", instruments=("participation_ladder",))
    *_, response = answer(app, session, org, ladder.slug, "participation_ladder",
                          {"ladder_1": 1.0, "ladder_2": 1.0, "ladder_3": 0.0, "ladder_4": 1.0, "ladder_5": 0.0})
    assert scores_of(response) == {"participation": 4.0}  # the highest rung answered yes


def ladder_method():
    """The example plugin, loaded the way the app loads it, in a bare PluginHost (no app, no database)."""
    host = PluginHost()
    host.load_folder(str(ROOT / "plugins"))
    module = host.pm.get_plugin("plugins.participation_ladder")
    assert host.statuses["plugins.participation_ladder"].status == "ok"
    return module.highest_rung, module.INSTRUMENT["scales"][0]


@pytest.mark.parametrize(("values", "expected"), [
    ({"ladder_1": 0.0, "ladder_2": 0.0, "ladder_3": 0.0}, 0.0),
    ({"ladder_1": 1.0, "ladder_2": 1.0, "ladder_3": 0.0, "ladder_4": 1.0}, 4.0),
    ({"ladder_1": 0.0, "ladder_2": 0.0, "ladder_6": 1.0}, 6.0),  # skipped rungs below still count as reached
    ({"ladder_1": 1.0, "ladder_2": 1.0}, None),  # fewer than min_answered (3)
    ({"ladder_1": 1.0, "ladder_2": math.nan, "ladder_3": 1.0}, None),  # NaN is unanswered
])
def test_participation_ladder_scores_the_highest_rung_reached(values, expected):
    highest_rung, scale = ladder_method()
    full = {item["id"]: values.get(item["id"]) for item in scale["items"]}
    assert highest_rung(full, scale) == expected


def test_participation_ladder_reads_the_rung_order_from_the_scale():
    highest_rung, scale = ladder_method()
    values = {"ladder_1": 1.0, "ladder_2": 1.0, "ladder_3": 0.0}
    assert highest_rung(values, scale) == 2.0
    turned = {**scale, "scoring": {**scale["scoring"], "rungs": ["ladder_3", "ladder_2", "ladder_1"]}}
    assert highest_rung(values, turned) == 3.0
    without = {**scale, "scoring": {"method": "highest_rung", "min_answered": 1}}  # item order
    assert highest_rung({"ladder_5": 1.0}, without) == 5.0
    with pytest.raises(ValueError, match="scoring.rungs must be a list of item ids"):
        highest_rung(values, {**scale, "scoring": {"rungs": "ladder_1"}})


# --- surveyhub_register_question_types ---------------------------------------------

def test_hook_surveyhub_register_question_types(app):
    registry = get_registry(app)
    stars = registry.question_types["stars"]
    assert isinstance(stars.qtype, contract.StarsType)  # in its guard, registered once
    assert {"choice", "number", "text", "yes_no"} <= set(registry.question_types)
    # instruments may use the new type; an unknown type is refused by name
    assert registry.get("buurtquiz", 2) is not None
    unknown = {"id": "smiley_check", "version": 1, "title": {"nl": "Smileys"}, "scales": [{
        "id": "mood", "title": {"nl": "Stemming"},
        "items": [{"id": "mood_1", "type": "smileys", "text": {"nl": "Hoe gaat het?"}}]}]}
    [error] = registry.validate(unknown, "smileys.yaml")
    assert error.startswith("smileys.yaml: scales[0].items[0].type: unknown question type 'smileys' (installed: ")
    assert "stars" in error
    # the questionnaire builds one field per item and codes what comes back
    items = registry.get("buurtquiz", 2).definition["scales"][0]["items"]
    form = bare_form(stars, items, "nl", {"bq_1": "3", "bq_2": "1"})
    assert form.validate()
    context = {"answer_sets": {}, "lang": "nl"}
    assert [stars.code(item, form[item["id"]].data, context) for item in items] == [3.0, 1.0, None]
    assert '<span aria-hidden="true">★★★</span> drie sterren' in str(form["bq_1"]())
    with pytest.raises(ValueError, match="Kies een, twee of drie sterren"):
        stars.code(items[0], "4", context)


def test_the_faces_plugin_question_type_works_in_a_form(app, session, make_org, make_project):
    if "faces" not in {ep.name for ep in importlib.metadata.entry_points(group="surveyhub")}:
        missing("the example plugin is not installed: pip install -e ./plugins/surveyhub-faces")
    registry = get_registry(app)
    faces = registry.question_types["faces"]
    definition = registry.get("faces_wellbeing", 2).definition
    items = definition["scales"][0]["items"]
    submitted = {item["id"]: str(n) for item, n in zip(items, (5, 4, 4, 3, 5, 2))}
    form = bare_form(faces, items, "en", submitted)
    assert form.validate()
    assert "Very happy" in str(form[items[0]["id"]]())
    coded = {item["id"]: faces.code(item, form[item["id"]].data, {"answer_sets": {}, "lang": "en"})
             for item in items}
    org = make_org()
    info = make_project(org, instruments=("faces_wellbeing",))
    *_, response = answer(app, session, org, info.slug, "faces_wellbeing", coded)
    assert scores_of(response) == {"wellbeing": pytest.approx(sum(coded.values()) / len(coded))}


# --- surveyhub_certificate_sections ----------------------------------------------

def certificate_context(lang: str, grew: bool) -> dict:
    return {"lang": lang, "participant": {"display_name": "Fatima", "code": "R-7KQ2M"},
            "project": {"name": "Buurttuin Oost", "slug": "buurttuin-oost"},
            "organisation": {"name": "Buurtwerk Noord"},
            "scales": [{"title": "Plannen en organiseren", "level_start": "Op weg", "level_now": "Sterk", "grew": grew},
                       {"title": "Samenwerken", "level_start": "Goed bezig", "level_now": "Goed bezig",
                        "grew": False}]}


def test_hook_surveyhub_certificate_sections(app):
    host = get_host(app)
    results = dict(host.call_isolated("surveyhub_certificate_sections", context=certificate_context("nl", True)))
    assert results["tests.certificate"] == [
        {"title": "Waar je in groeide", "body": "Fatima: Plannen en organiseren (Buurttuin Oost)"}]
    # None means "nothing to add" and must be skipped by the caller, like pluggy does
    results = dict(host.call_isolated("surveyhub_certificate_sections", context=certificate_context("en", False)))
    assert results["tests.certificate"] is None
    assert host.statuses["tests.certificate"].status == "ok"
    # what the certificate shows: the documents' collector accepts the sections as they are
    assert document_context.plugin_sections(host, "surveyhub_certificate_sections", certificate_context("nl", True)) \
        == [{"title": "Waar je in groeide", "body": "Fatima: Plannen en organiseren (Buurttuin Oost)",
             "plugin": "tests.certificate"}]


# --- surveyhub_report_sections -------------------------------------------------------

def test_hook_surveyhub_report_sections(app):
    report = {"participation": {"invited": 12, "pre": 10, "post": 9, "paired": 8, "match_rate": 0.889},
              "scales": [{"instrument": "organising", "scale": "organising", "n_pairs": 8,
                          "pre": {"mean": 2.9, "sd": 0.6}, "post": {"mean": 3.6, "sd": 0.5}, "suppressed": False}]}
    context = {"lang": "en", "project": {"name": "Buurttuin Oost", "slug": "buurttuin-oost"},
               "organisation": {"name": "Buurtwerk Noord"}, "report": report}
    results = dict(get_host(app).call_isolated("surveyhub_report_sections", context=context))
    assert results["tests.report"] == [
        {"title": "Reach", "body": "8 of 12 residents answered twice in Buurttuin Oost."}]
    [section] = document_context.plugin_sections(get_host(app), "surveyhub_report_sections", context)
    assert section["plugin"] == "tests.report" and section["title"] == "Reach"


# --- surveyhub_register_export_formats ------------------------------------------------

def test_hook_surveyhub_register_export_formats(app, session, make_org, make_project):
    host = get_host(app)
    formats = {}
    for _plugin, result in host.call_isolated("surveyhub_register_export_formats"):
        formats.update(result)
    assert set(formats) >= {"jsonl", "csv-nl"}
    assert exports.format_names(host)[:3] == ["csv", "xlsx", "sav"]
    assert {"jsonl", "csv-nl"} <= set(exports.format_names(host))
    # a plugin format writes the project's real response table
    org = make_org()
    info = make_project(org)
    answer(app, session, org, info.slug, "organising", {"org_1": 2.0, "org_2": 4.0})
    actor = access.Actor(organisation_id=org.id, role="worker")
    table = exports.response_table(session, actor, info.slug)
    exporter = exports.exporter_for("jsonl", host)
    assert (exporter.extension, exporter.mimetype) == ("jsonl", "application/x-ndjson")
    stream = io.BytesIO()
    exporter.write(table, stream)
    [row] = [json.loads(line) for line in stream.getvalue().decode().splitlines()]
    assert list(row) == table.columns
    assert row["participant"].startswith("R-") and (row["wave"], row["status"]) == ("pre", "completed")
    assert (row["org_1"], row["org_2"], row["org_3"]) == (2.0, 4.0, None)
    assert row["score_organising"] is None  # two answers are fewer than min_answered (5)
    dutch = io.BytesIO()
    exports.exporter_for("csv-nl", host).write(table, dutch)
    header, line = dutch.getvalue().decode("utf-8-sig").splitlines()
    assert header.split(";")[0] == table.labels["participant"] and line.startswith(row["participant"] + ";pre;")


# --- surveyhub_response_completed -----------------------------------------------------

def test_hook_surveyhub_response_completed(app, session, make_org, make_project, recorder):
    org = make_org()
    info = make_project(org)
    project, pre, response = answer(app, session, org, info.slug, "organising",
                                    {f"org_{n}": 4.0 for n in range(1, 8)} | {"org_proud_of": "De moestuin"})
    event = responses.completed_event(project, pre, response, entered_by=None).as_dict()
    results = get_host(app).call_isolated("surveyhub_response_completed", response=event)
    assert ("tests.completed", None) in results
    [received] = recorder.events
    assert received["project"] == info.slug and received["wave"] == "pre"
    assert received["participant"] == response.participant.code and received["entered_by"] is None
    assert received["answers"]["organising.org_1"] == 4.0
    assert received["answers"]["organising.org_proud_of"] == "De moestuin"
    # org_5 is reverse coded: 4 becomes 2, so the mean of six 4s and one 2
    assert received["scores"] == {"organising.organising": pytest.approx(26 / 7)}
    json.dumps(received)  # plain values only: a plugin can send it on as it is


# --- the contract itself ----------------------------------------------------------------

def test_the_hook_list_is_the_one_plugins_are_checked_against():
    assert len(SPEC_NAMES) >= 7
    host = PluginHost()
    assert {name for name in SPEC_NAMES if getattr(host.pm.hook, name).spec is not None} == set(SPEC_NAMES)


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_every_hook_is_documented_and_tested(name):
    spec = getattr(hookspecs, name)
    doc = inspect.getdoc(spec) or ""
    assert ":returns:" in doc, f"{name}: the docstring must say what the hook returns (:returns:)"
    for argument in inspect.signature(spec).parameters:
        assert f":param {argument}:" in doc, f"{name}: the docstring must describe {argument!r} (:param:)"
    heading = re.compile(rf"^#{{2,4}} `{name}(\([a-z_, ]*\))?`\s*$", re.M)
    assert heading.search(DOCS.read_text(encoding="utf-8")), f"docs/plugins.md needs a section headed `{name}`"
    assert callable(globals().get(f"test_hook_{name}")), f"tests/test_hooks.py needs test_hook_{name}"


def test_the_guide_documents_no_hook_that_does_not_exist():
    documented = re.findall(r"^#{2,4} `(surveyhub_[a-z_]+)", DOCS.read_text(encoding="utf-8"), re.M)
    assert sorted(documented) == SPEC_NAMES
