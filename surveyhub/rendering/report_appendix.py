"""The impact report's method appendix: what a methodologist needs to check every figure.

Design, participation and pairing, the instruments with their versions and
items, reliability, the small-number thresholds and where each came from, the
exact tests (the Wilcoxon method and the rounding included), multiple testing,
and the technical tables — each row with a line of words saying what it is.
Plain values for ``report.html``; every number comes from the report JSON.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from surveyhub.locale import Numbers, join_words, translate
from surveyhub.rendering.formatting import numbers

if TYPE_CHECKING:
    from surveyhub.services.report_contract import ChangeEntry, Report, Thresholds

G_AV_NOTE = {
    "nl": "Hedges' g_av = d_av × J, met de correctie voor kleine groepen J = 1 − 3/(4·df − 1) en "
          "df = aantal paren − 1. Onder 3 paren tonen we g_av niet.",
    "en": "Hedges' g_av = d_av × J, with the small-sample correction J = 1 − 3/(4·df − 1) and "
          "df = number of pairs − 1. Below 3 pairs g_av is not shown.",
}
#: Skills per technical table: five columns of figures fit the width of an A4 page.
COLUMNS = 5


def method(data: dict, report: Report, funnel: dict, lang: str, t: dict) -> dict:
    n = numbers(lang)
    limits = report["thresholds"]
    design, part = report["design"], report["participation"]
    fuzzy = part["fuzzy_pairs"]
    return {
        "design": _design(report, t),
        "participation": _participation(report, n, t), "funnel": funnel, "match_rate_note":
            t["match_rate_note"] if design["pretest"] else "",
        "instruments": _instruments(data, report, n, t),
        "thresholds": t["thresholds_plain"].format(**limits),
        "sources": _sources(limits, lang, t),
        "pairing": [t["pairing_text"]] + ([t["pairing_fuzzy"].format(n=n.count(fuzzy))] if fuzzy else []),
        "statistics": [line for line in (t["statistics_text"], G_AV_NOTE[lang], t["wilcoxon_text"], t["rci_text"],
                                         _multiple(report, n, t), t["rounding_text"]) if line],
        "withdrawn": _withdrawn(part["withdrawn"], n, t),
        "sensitivity": _sensitivity(report, lang, t),
        "dropouts": _dropouts(report, lang, t),
        "tables": [table for title, entries, first in (
            (t["tables"], report["scales"] if design["pretest"] else [], "row_pre"),
            (t["tables_retro"], report["retrospective"], "row_then"),
            (t["tables_followup"], report["followup"], "row_pre"),
            (t["tables_persistence"], report["persistence"], "row_post"))
            for table in _tables(title, entries, first, limits, lang, t)],
    }


def _design(report: Report, t: dict) -> list[str]:
    design = report["design"]
    lines = [t["design_text"] if design["pretest"] else t["design_retro_only"]]
    if design["pretest"] and design["then_test"]:
        lines.append(t["design_retro"])
    if design["followup"]:
        lines.append(t["design_followup"])
    return lines


def _participation(report: Report, n: Numbers, t: dict) -> list[tuple[str, str]]:
    """The participation figures; the match rate only where there is a start to match with."""
    part, design = report["participation"], report["design"]
    rows = [(t["invited"], n.count(part["invited"]))]
    if design["pretest"]:
        rows.append((t["pre_done"], n.count(part["pre"])))
    rows.append((t["post_done"], n.count(part["post"])))
    if design["followup"]:
        rows.append((t["followup_done"], n.count(part["followup"])))
    if design["pretest"]:
        rows.append((t["paired"], n.count(part["paired"])))
        if part["match_rate"] is not None:
            rows.append((t["match_rate"], n.percent(part["match_rate"])))
    return rows


def _sources(limits: Thresholds, lang: str, t: dict) -> str:
    """Each threshold with where its value came from, as ``thresholds.sources`` says."""
    parts = [f"{name} {limits[name]} ({t['source_' + limits['sources'][name]]})"  # type: ignore[literal-required]
             for name in ("min_means", "min_tests", "min_cell")]
    return t["sources"].format(sources=join_words(parts, lang))


def _multiple(report: Report, n: Numbers, t: dict) -> str:
    """Holm across the skills of each list; a named primary outcome keeps its own p. One skill: nothing to say."""
    tested = report["scales"] if report["design"]["pretest"] else report["retrospective"]
    if len(tested) < 2:
        return ""
    words = t["multiple_holm"].format(k=n.count(len(tested)))
    primary = [e for e in report["scales"] if e["primary"]]
    if primary:
        words += " " + t["multiple_primary"].format(skill=translate(primary[0]["title"], n.lang))
    return words


def _sensitivity(report: Report, lang: str, t: dict) -> list[str]:
    """The change without the fuzzily matched pairs, per skill that has any (``sensitivity``)."""
    n = numbers(lang)
    lines = []
    for entry in report["scales"]:
        check = entry["sensitivity"]
        if check is None:
            continue
        lines.append(t["sensitivity_line"].format(
            skill=translate(entry["title"], lang), n=n.count(check["n_pairs"]),
            change=n.signed(check["change_mean"]) or t["hidden_short"], d=n.number(check["d_z"]) or t["hidden_short"],
            p=n.p(check["p"]) or t["hidden_short"]))
    return lines


def _dropouts(report: Report, lang: str, t: dict) -> dict | None:
    """Completers and drop-outs at the start, per skill (``participation.dropout_check``)."""
    checks = report["participation"]["dropout_check"]
    if not report["design"]["pretest"] or not any(check["difference"] is not None for check in checks):
        return None  # nothing to compare (no drop-outs, or too few: the limitations say so in words)
    n = numbers(lang)
    titles = {(e["instrument"], e["scale"]): translate(e["title"], lang) for e in report["scales"]}
    rows = []
    for check in checks:
        rows.append([titles.get((check["instrument"], check["scale"]), check["scale"]),
                     _group(check["completers"], n), _group(check["dropouts"], n),
                     n.signed(check["difference"]) or t["hidden_short"], n.p(check["p"]) or t["hidden_short"]])
    return {"title": t["dropout_table"], "head": [t["skill_col"], t["completers_col"], t["dropouts_col"],
                                                  t["difference_col"], t["row_p"]], "rows": rows}


def _group(group, n: Numbers) -> str:
    shown = _mean_sd(group, n)
    return f"{n.count(group['n'])}: {shown}" if shown else n.count(group["n"])


def _instruments(data: dict, report: Report, n: Numbers, t: dict) -> list[dict]:
    reliability = {(entry["instrument"], entry["scale"]): entry["reliability"] for entry in report["scales"]}
    instruments = []
    for instrument in data["instruments"]:
        scales = []
        for scale in instrument["scales"]:
            waves = reliability.get((instrument["id"], scale["id"]), {})
            alpha = {wave: _alpha(waves.get(wave), n, t) for wave in ("pre", "post")}
            norms = scale["norms"]
            scales.append({
                "title": scale["title"], "questions": scale["items"],
                "alpha": t["alpha"].format(pre=alpha["pre"] or t["alpha_unknown"],
                                           post=alpha["post"] or t["alpha_unknown"]),
                "norms": t["norms"].format(sd=n.number(norms["sd"]), r=n.number(norms["reliability"]))
                if norms.get("sd") is not None and norms.get("reliability") is not None else "",
            })
        instruments.append({"title": instrument["title"], "id": instrument["id"],
                            "version": t["version"].format(version=instrument["version"]), "scales": scales})
    return instruments


def _alpha(reliability, n: Numbers, t: dict) -> str:
    """Cronbach's alpha of one wave with its 95% interval; empty when unknown or hidden."""
    if reliability is None or reliability["alpha"] is None:
        return ""
    value = n.number(reliability["alpha"])
    ci = reliability["ci95"]
    return t["alpha_ci"].format(alpha=value, lo=n.number(ci[0]), hi=n.number(ci[1])) if ci else value


def _withdrawn(count: int, n: Numbers, t: dict) -> str:
    """The appendix's line on residents who withdrew and were erased; empty when nobody did."""
    if count <= 0:
        return ""
    return t["withdrawn_one"] if count == 1 else t["withdrawn_text"].format(n=n.count(count))


# --- the technical tables --------------------------------------------------------------------------

ROWS = ("row_n", "first", "row_post", "row_change", "row_ci", "row_dz", "row_dav", "row_gav", "row_t", "row_p",
        "row_holm", "row_wilcoxon")


def _tables(title: str, entries: list, first: str, limits: Thresholds, lang: str, t: dict) -> list[dict]:
    """One table per five skills: a row per figure (label and a line of words), a column per skill."""
    if not entries:
        return []
    post = "row_followup" if entries[0]["comparison"] == "pre→followup" else "row_post"
    tables = []
    for start in range(0, len(entries), COLUMNS):
        chunk = entries[start:start + COLUMNS]
        columns = [_cells(e, lang) for e in chunk]
        rows = []
        for key in ROWS:
            label_key = first if key == "first" else post if key == "row_post" else key
            words_key = "row_mean_words" if key in ("first", "row_post") else key + "_words"
            cells = [_shown(column[key], e, key, t) for column, e in zip(columns, chunk)]
            rows.append({"label": t[label_key], "words": t[words_key], "cells": cells})
        notes = _hidden_notes(chunk, limits, t)
        # A narrow table (few skills) gives its labels room, so each row's words fit on one line.
        label = 50 if len(chunk) > 3 else 72
        tables.append({"title": title if start == 0 else "", "skills": [translate(e["title"], lang) for e in chunk],
                       "rows": rows, "notes": notes, "label_mm": label, "width_mm": label + 24 * len(chunk)})
    return tables


def _cells(entry: ChangeEntry, lang: str) -> dict[str, str]:
    n = numbers(lang)
    change, effect, test = entry["change"], entry["effect_size"], entry["test"]
    t_text = f"t({n.count(test['df'])}) = {n.number(test['t'])}" if test["t"] is not None and test["df"] else ""
    return {"row_n": n.count(entry["n_pairs"]), "first": _mean_sd(entry["pre"], n),
            "row_post": _mean_sd(entry["post"], n), "row_change": _mean_sd(change, n),
            "row_ci": n.interval(change["ci95"]), "row_dz": n.number(effect["d_z"]),
            "row_dav": n.number(effect["d_av"]), "row_gav": n.number(effect["g_av"]), "row_t": t_text,
            "row_p": n.p(test["p"]), "row_holm": n.p(test["p_holm"]), "row_wilcoxon": n.p(test["wilcoxon_p"])}


MEANS_ROWS = ("first", "row_post", "row_change", "row_ci")


def _shown(value: str, entry: ChangeEntry, key: str, t: dict) -> str:
    """A cell's figure; a hidden one says "not shown" (the note under the table says why)."""
    if key == "row_n":
        return value
    hidden = "means" in entry["suppressed"] or (key not in MEANS_ROWS and "tests" in entry["suppressed"])
    if hidden:
        return t["hidden_short"]
    return value or t["not_computable"]


def _hidden_notes(entries: list, limits: Thresholds, t: dict) -> list[str]:
    notes = []
    if any("means" in e["suppressed"] for e in entries):
        notes.append(t["hidden_means"].format(n=limits["min_means"]))
    if any("tests" in e["suppressed"] and "means" not in e["suppressed"] for e in entries):
        notes.append(t["hidden_tests"].format(n=max(limits["min_tests"], limits["min_means"])))
    return notes


def _mean_sd(part, n: Numbers) -> str:
    if part["mean"] is None:
        return ""
    sd = f" ({n.number(part['sd'])})" if part["sd"] is not None else ""
    return n.number(part["mean"]) + sd
