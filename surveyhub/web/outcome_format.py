"""The report JSON as the dashboard shows it: numbers in the page's language, results in words.

Pure formatting of a report (``services.outcomes.project_report``, typed in
``services.report_contract``); everything hidden by the small-number rules is
already ``None`` there, so nothing here can reveal it. Numbers are written by
``surveyhub.locale.Numbers`` and "went up / down" is judged by
``documents.report.verdict``, the rule the PDF uses, so page and PDF agree.
"""

from __future__ import annotations

from flask_babel import gettext as _

from surveyhub.rendering.report import verdict
from surveyhub.locale import DASH, Numbers, translate
from surveyhub.services.report_contract import ChangeEntry, Design, Participation, Report, Thresholds

__all__ = ["DASH", "Numbers", "dashboard_view"]


def dashboard_view(report: Report, n: Numbers, lang: str) -> dict:
    return {
        "design": _design_text(report["design"]),
        "participation": _participation_rows(report["participation"], n),
        "scales": [_entry(entry, report["thresholds"], n, lang) for entry in report["scales"]],
        "retrospective": [_entry(entry, report["thresholds"], n, lang) for entry in report["retrospective"]],
        "followup": [_entry(entry, report["thresholds"], n, lang) for entry in report["followup"]],
        "thresholds": _("Averages need at least %(means)s pairs; tests and effect sizes at least %(tests)s; "
                        "counts below %(cell)s show as “<%(cell)s”.", means=report["thresholds"]["min_means"],
                        tests=report["thresholds"]["min_tests"], cell=report["thresholds"]["min_cell"]),
        "quotes": [quote["text"] for quote in report["quotes"]],
    }


def _design_text(design: Design) -> str:
    return {
        "pre-post with retrospective then-test": _("Residents answered at the start and at the end; at the end "
                                                   "they also looked back at how they were before the project."),
        "pre-post": _("Residents answered at the start and at the end of the project."),
        "retrospective then-test without pretest": _("Residents answered at the end and looked back at how they "
                                                     "were before the project; there was no start questionnaire."),
    }.get(design["kind"], _("No resident has answered both questionnaires yet."))


def _participation_rows(part: Participation, n: Numbers) -> list[tuple[str, str]]:
    rows = [(_("Residents in the project"), n.count(part["invited"])),
            (_("Started the pre wave"), n.count(part["waves"]["pre"]["started"])),
            (_("Completed the pre wave"), n.count(part["pre"])),
            (_("Completed the post wave"), n.count(part["post"])),
            (_("Paired (start and end)"), n.count(part["paired"])),
            (_("Match rate (post responses paired with a pre response)"), n.percent(part["match_rate"])),
            (_("Paired by their own code"), n.count(part["paired_by_code"] + part["fuzzy_pairs"])),
            (_("Of which with one answer of the code different (fuzzy)"), n.count(part["fuzzy_pairs"])),
            (_("Did the pre wave but not (yet) the post wave"), n.count(part["attrition"]))]
    if part["waves"]["followup"]["completed"]:
        rows.append((_("Completed the follow-up wave"), n.count(part["followup"])))
    return rows


def _entry(entry: ChangeEntry, thresholds: Thresholds, n: Numbers, lang: str) -> dict:
    title = translate(entry["title"], lang)
    hidden_means = "means" in entry["suppressed"]
    hidden_tests = "tests" in entry["suppressed"]
    # Only then → post entries carry a response shift, only pre → post entries their reliability.
    shift = entry["response_shift"] if entry["comparison"] == "then→post" else None  # type: ignore[typeddict-item]
    reliability = entry["reliability"] if entry["comparison"] == "pre→post" else {}  # type: ignore[typeddict-item]
    return {
        "title": title,
        "n_pairs": n.count(entry["n_pairs"]),
        "pre": n.number(entry["pre"]["mean"]), "pre_sd": n.number(entry["pre"]["sd"]),
        "post": n.number(entry["post"]["mean"]), "post_sd": n.number(entry["post"]["sd"]),
        "change": n.signed(entry["change"]["mean"]), "ci": n.interval(entry["change"]["ci95"]),
        "d_z": n.number(entry["effect_size"]["d_z"]), "d_av": n.number(entry["effect_size"]["d_av"]),
        "g_av": n.number(entry["effect_size"]["g_av"]),
        "t": n.number(entry["test"]["t"]), "df": n.count(entry["test"]["df"]), "p": n.p(entry["test"]["p"]),
        "wilcoxon_p": n.p(entry["test"]["wilcoxon_p"]),
        "improved": n.count(entry["rci"]["improved"]), "unchanged": n.count(entry["rci"]["unchanged"]),
        "deteriorated": n.count(entry["rci"]["deteriorated"]),
        "hidden_means": hidden_means, "hidden_tests": hidden_tests,
        "sentence": _sentence(entry, title, thresholds, n),
        "reliability": [(kind, n.number(r["alpha"]), n.interval(r["ci95"]), n.count(r["n"]))
                        for kind, r in reliability.items()],
        "shift": None if shift is None else {
            "n_pairs": n.count(shift["n_pairs"]), "change": n.signed(shift["change"]["mean"]),
            "ci": n.interval(shift["change"]["ci95"]), "pre": n.number(shift["pre"]["mean"]),
            "then": n.number(shift["then"]["mean"])},
    }


def _sentence(entry: ChangeEntry, title: str, thresholds: Thresholds, n: Numbers) -> str:
    """What changed, in words first, then the numbers it rests on (WRITING.md "Numbers for funders")."""
    if "means" in entry["suppressed"]:
        return _("%(scale)s: %(n)s pairs, fewer than %(min)s, so no averages are shown.",
                 scale=title, n=n.count(entry["n_pairs"]), min=thresholds["min_means"])
    change, ci = entry["change"]["mean"], entry["change"]["ci95"]
    found = verdict(entry)
    if found == "improved":
        trend = _("improved")
    elif found == "deteriorated":
        trend = _("got worse")
    elif change is None:
        trend = _("could not be compared")
    elif "tests" in entry["suppressed"]:  # too few pairs to say how sure: no direction claimed, as in the PDF
        trend = _("changed")
    else:
        trend = _("did not change clearly")
    top = n.number(entry["range"][1], 0) if entry["range"] else DASH
    text = _("%(scale)s %(trend)s: on average from %(pre)s to %(post)s (scale up to %(top)s), "
             "%(n)s residents; 95%% interval of the change %(ci)s.", scale=title, trend=trend,
             pre=n.number(entry["pre"]["mean"], 1), post=n.number(entry["post"]["mean"], 1), top=top,
             n=n.count(entry["n_pairs"]), ci=n.interval(ci))
    if "tests" in entry["suppressed"]:
        text += " " + _("Tests and effect sizes need at least %(min)s pairs.", min=thresholds["min_tests"])
    return text
