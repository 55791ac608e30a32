"""A report stored before a key existed, read as today's contract.

After the retention purge a project keeps only the report made at that time
(``Project.purged_summary``); the readers (dashboard, PDF) trust the contract
and read every key without fallbacks. A stored report from an older release
gets the keys added since, as "not computed" (None, empty lists, False), and
today's suppression rules where they hide more than the old ones did. No figure
is recomputed: the residents' answers are gone.
"""

from __future__ import annotations

from typing import Mapping, cast

from surveyhub.services.report_contract import Report

#: The lists of change entries.
ENTRY_LISTS = ("scales", "retrospective", "followup", "persistence")

#: The project's story (``project_story``), as a project without one reports it.
PROJECT_STORY: dict[str, object] = {
    "funder": None, "period": {"start": None, "end": None}, "outputs": [], "meetings_held": None,
    "volunteer_hours": None, "recommendations": None, "primary_scale": None}


def upgrade(stored: Mapping, method: Mapping[str, object]) -> Report:
    """``stored`` with every key added since it was made; a current report comes back unchanged.

    :param method: today's ``design.method`` texts, for the keys the stored one lacks.
    """
    report = _copy(stored)
    report.setdefault("persistence", [])
    if isinstance(report.get("project"), dict):
        for key, empty in PROJECT_STORY.items():
            report["project"].setdefault(key, _copy(empty))
    for quote in report.get("quotes") or []:
        quote.setdefault("chosen", False)
    design = report.get("design")
    if isinstance(design, dict) and isinstance(design.get("method"), dict):
        for key, text in method.items():
            design["method"].setdefault(key, text)
    # What residents did, which elements seem to work and the reference values were not computed then.
    report.setdefault("participation_profile", None)
    report.setdefault("exploratory", {"exploratory": True, "causal": False, "measure": None,
                                      "reason": "not_computed", "scales": []})
    for entry in report.get("scales") or []:
        entry.setdefault("reference", {"mean_change": None, "improved_share": None, "projects": None,
                                       "organisations": None, "reason": "not_computed"})
    participation = report.get("participation")
    if isinstance(participation, dict):
        participation.setdefault("persistence_paired", 0)
        participation.setdefault("dropout_check", [])
    for name in ENTRY_LISTS:
        for entry in report.get(name) or []:
            _upgrade_entry(entry, change_entry=True)
            if entry.get("response_shift"):
                _upgrade_entry(entry["response_shift"], change_entry=False)
    return cast(Report, report)


def _upgrade_entry(entry: dict, *, change_entry: bool) -> None:
    entry.get("test", {}).setdefault("p_holm", None)
    entry.get("effect_size", {}).setdefault("d_z_ci95", None)
    if "tests" in (entry.get("suppressed") or []) and isinstance(entry.get("change"), dict):
        entry["change"]["sd"] = entry["change"]["ci95"] = None  # mean, SD and n would give t back
    if not change_entry:
        return
    entry.setdefault("primary", False)
    entry.setdefault("baseline_ceiling", {"count": None, "share": None})
    entry.setdefault("sensitivity", None)
    if isinstance(entry.get("rci"), dict):
        entry["rci"].setdefault("improved_share", None)
        entry["rci"].setdefault("improved_ci95", None)


def _copy(value):
    """A deep copy of plain JSON values (the stored report is never changed in place)."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value
