"""The report contract (``services/report_contract.py``) and ``docs/report-json.md`` say the same thing,
and a report built through the services has exactly the contract's keys — no more, no fewer.

Readers (dashboard, PDF, exports) trust this shape and read it without fallbacks, so a key the
service stops producing, or starts producing without a type, must fail here first.
"""

from __future__ import annotations

import json
import re
import types
import typing
from pathlib import Path

import pytest
from sqlalchemy import select

from surveyhub.plugins import get_registry
from surveyhub.models import Consent, Participant
from surveyhub.services import access, demo, outcomes
from surveyhub.services import report_contract as contract
from tests.fixtures.outcomes import SHOW_ALL, answer, cli_report, import_values, new_project, with_outcome_instruments

DOCS = Path(__file__).parent.parent / "docs" / "report-json.md"

#: Each table of the document and the type it describes.
SECTIONS = {
    "Top level": contract.Report,
    "`project`": contract.ProjectInfo,
    "`thresholds`": contract.Thresholds,
    "`design`": contract.Design,
    "`participation`": contract.Participation,
    "Change entries": contract.ChangeEntry,
    "`rci`": contract.ReliableChange,
    "`reliability`": contract.Reliability,
    "`response_shift`": contract.ResponseShift,
    "`quotes`": contract.Quote,
    "`dropout_check`": contract.DropoutCheck,
    "`baseline_ceiling`": contract.Ceiling,
    "`sensitivity`": contract.Sensitivity,
}
#: Change-entry rows that belong to one kind of entry only ("pre → post entries only").
ONLY = {"pre → post entries only": contract.ScaleEntry, "then → post entries only": contract.RetrospectiveEntry}


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


def documented_tables() -> dict[str, list[tuple[list[str], str]]]:
    """Heading -> rows of (keys in the first column, meaning)."""
    tables: dict[str, list[tuple[list[str], str]]] = {}
    heading = None
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif line.startswith("| `") and heading is not None:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            tables.setdefault(heading, []).append((re.findall(r"`([^`]+)`", cells[0]), cells[-1]))
    return tables


def own_keys(kind) -> set[str]:
    return set(typing.get_type_hints(kind))


def test_every_table_of_the_document_is_a_type_of_the_contract():
    tables = documented_tables()
    assert set(SECTIONS) <= set(tables), set(SECTIONS) - set(tables)
    for heading, kind in SECTIONS.items():
        rows = tables[heading]
        documented = {key for keys, _meaning in rows for key in keys}
        if kind is contract.ChangeEntry:
            for marker, subtype in ONLY.items():
                extra = {key for keys, meaning in rows if meaning.startswith(marker) for key in keys}
                assert extra == own_keys(subtype) - own_keys(kind), (heading, marker)
                documented -= extra
        assert documented == own_keys(kind), (heading, documented ^ own_keys(kind))


def test_nested_objects_described_in_words_name_every_key_of_their_type():
    """Objects the document describes inside a row's meaning (``{mean, sd}``, ``id``, ``version`` ...)."""
    meanings = {(heading, key): meaning for heading, rows in documented_tables().items()
                for keys, meaning in rows for key in keys}
    inline = {("`project`", "instruments"): contract.InstrumentInfo,
              ("`thresholds`", "sources"): contract.ThresholdSources,
              ("`design`", "method"): contract.Method,
              ("`participation`", "waves"): contract.Waves,
              ("Change entries", "pre"): contract.MeanSd,
              ("Change entries", "change"): contract.Change,
              ("Change entries", "effect_size"): contract.EffectSize,
              ("Change entries", "test"): contract.Test,
              ("`dropout_check`", "completers"): contract.GroupBaseline,
              ("`dropout_check`", "dropouts"): contract.GroupBaseline}
    for where, kind in inline.items():
        named = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", meanings[where]))
        assert own_keys(kind) <= named, (where, own_keys(kind) - named)
    # The per-wave object of `waves` names the keys of one wave too.
    assert own_keys(contract.WaveCounts) <= set(re.findall(r"\w+", meanings[("`participation`", "waves")]))


def test_the_documents_example_uses_only_contract_keys():
    text = DOCS.read_text(encoding="utf-8")
    example = json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))
    problems = list(shape_problems(example, contract.Report, "report", partial=True))
    assert problems == []


# --- real reports ------------------------------------------------------------------------------------

def shape_problems(value, kind, path: str, partial: bool = False):
    """Where ``value`` differs from the type ``kind``: missing or extra keys, wrong kinds of values.

    ``partial``: the document's abridged example may leave keys out (and writes "..." for them).
    """
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is typing.Any:
        return
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return
        options = [arg for arg in args if arg is not type(None)]
        found = [list(shape_problems(value, arg, path, partial)) for arg in options]
        if not any(problems == [] for problems in found):
            yield from min(found, key=len)
        return
    if origin is typing.Literal:
        if value not in args:
            yield f"{path}: {value!r} is not one of {args}"
        return
    if typing.is_typeddict(kind):
        if not isinstance(value, dict):
            yield f"{path}: {type(value).__name__}, not an object"
            return
        hints = typing.get_type_hints(kind)
        given = {key for key in value if key != "..."} if partial else set(value)
        for key in sorted(given - set(hints)):
            yield f"{path}.{key}: not in the contract"
        if not partial:
            for key in sorted(set(hints) - given):
                yield f"{path}.{key}: missing"
        for key in sorted(given & set(hints)):
            yield from shape_problems(value[key], hints[key], f"{path}.{key}", partial)
        return
    if origin is list:
        if not isinstance(value, list):
            yield f"{path}: {type(value).__name__}, not a list"
            return
        for i, item in enumerate(value):
            yield from shape_problems(item, args[0], f"{path}[{i}]", partial)
        return
    if origin is dict:
        if not isinstance(value, dict):
            yield f"{path}: {type(value).__name__}, not an object"
            return
        for key, item in value.items():
            yield from shape_problems(item, args[1], f"{path}.{key}", partial)
        return
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            yield f"{path}: {value!r} is not a number"
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            yield f"{path}: {value!r} is not a whole number"
    elif not isinstance(value, kind):
        yield f"{path}: {value!r} is not {kind.__name__}"


def test_a_report_with_every_part_has_exactly_the_contracts_keys(app, runner, session, make_org, tmp_path):
    org = make_org("Buurtwerk Contract")
    slug = new_project(app, session, org, ["rating", "triad"], retrospective=True)
    for wave, values in (("pre", [5, 6, 4, 7, 5, 6]), ("post", [7, 8, 6, 7, 8, 9]), ("retro", [4, 4, 3, 5, 4, 5]),
                         ("followup", [6, 7, 6, 8, 6, 7])):
        import_values(runner, tmp_path, slug, wave, "rating", values)
    answer(app, session, slug, "post", "P001", {("rating", "rating"): 7, ("rating", "story"): "Mooi"})
    participant = session.scalar(select(Participant).where(Participant.code == "P001"))
    session.add(Consent(participant_id=participant.id, wording_version="1", language="nl", share_quotes=True))
    session.commit()
    for report in (cli_report(runner, slug, *SHOW_ALL), cli_report(runner, slug)):  # shown, and suppressed
        assert report["scales"] and report["retrospective"] and report["followup"] and report["quotes"]
        assert report["persistence"] and report["participation"]["dropout_check"]
        assert report["retrospective"][0]["response_shift"] is not None
        assert list(shape_problems(report, contract.Report, "report")) == []


def test_the_demo_report_has_exactly_the_contracts_keys(app, session, tmp_path):
    result = demo.load(session, get_registry(app), "http://surveyhub.test", tmp_path)
    session.commit()
    actor = access.cli_actor(session, project_slug=result.project_slug)
    report: contract.Report = outcomes.project_report(session, get_registry(app), actor, result.project_slug)
    assert "counts" in {name for entry in report["scales"] for name in entry["suppressed"]}
    assert list(shape_problems(report, contract.Report, "report")) == []


def test_the_checker_finds_a_missing_an_extra_and_a_mistyped_key():
    entry = {"mean": 1.0, "sd": None, "extra": 1}
    assert list(shape_problems(entry, contract.MeanSd, "x")) == ["x.extra: not in the contract"]
    assert list(shape_problems({"mean": "1"}, contract.MeanSd, "x")) == ["x.sd: missing", "x.mean: '1' is not a number"]


def test_a_report_stored_before_the_methodologists_keys_reads_as_todays_contract(app, runner, session, make_org,
                                                                                  tmp_path):
    """After the retention purge only the stored report remains; one made by an older release lacks the keys
    added since, and the readers trust the contract."""
    from surveyhub.models import Project

    org = make_org("Buurtwerk Bewaard")
    slug = new_project(app, session, org, ["rating"], retrospective=True)
    for wave, values in (("pre", [5, 6, 4, 7, 5, 6]), ("post", [7, 8, 6, 7, 8, 9]), ("retro", [4, 4, 3, 5, 4, 5]),
                         ("followup", [6, 7, 6, 8, 6, 7])):
        import_values(runner, tmp_path, slug, wave, "rating", values)
    actor = access.cli_actor(session, project_slug=slug)
    current = outcomes.project_report(session, get_registry(app), actor, slug)
    old = json.loads(json.dumps(current))
    del old["persistence"], old["participation"]["persistence_paired"], old["participation"]["dropout_check"]
    for key in ("funder", "period", "outputs", "meetings_held", "volunteer_hours", "recommendations",
                "primary_scale"):
        del old["project"][key]
    old["quotes"] = [{"text": "Fijn", "wave": "post", "instrument": "rating", "question": "story",
                      "question_text": None}]
    for key in ("wilcoxon", "multiple_testing", "ceiling", "dropout_check", "sensitivity"):
        del old["design"]["method"][key]
    for entry in old["scales"] + old["retrospective"] + old["followup"]:
        for key in ("primary", "baseline_ceiling", "sensitivity"):
            del entry[key]
        del entry["test"]["p_holm"], entry["effect_size"]["d_z_ci95"]
        del entry["rci"]["improved_share"], entry["rci"]["improved_ci95"]
        entry["change"]["sd"], entry["change"]["ci95"] = 0.8, [0.1, 1.9]  # shown beside hidden tests back then
        if entry.get("response_shift"):
            del entry["response_shift"]["test"]["p_holm"], entry["response_shift"]["effect_size"]["d_z_ci95"]
    project = session.scalar(select(Project).where(Project.slug == slug))
    project.purged_summary = old
    session.commit()
    upgraded = outcomes.project_report(session, get_registry(app), actor, slug)
    assert list(shape_problems(upgraded, contract.Report, "report")) == []
    assert upgraded["persistence"] == [] and upgraded["participation"]["dropout_check"] == []
    assert upgraded["project"]["period"] == {"start": None, "end": None} and upgraded["project"]["outputs"] == []
    assert upgraded["quotes"][0]["chosen"] is False
    entry = upgraded["scales"][0]
    assert "tests" in entry["suppressed"] and entry["change"]["sd"] is None and entry["change"]["ci95"] is None
    assert entry["primary"] is False and entry["sensitivity"] is None and entry["rci"]["improved_share"] is None
    assert project.purged_summary == old  # read, never rewritten
    project.purged_summary = json.loads(json.dumps(current))
    session.commit()
    assert outcomes.project_report(session, get_registry(app), actor, slug) == current  # today's comes back as it was
