"""The impact report's parts about what residents did: the participation profile, the comparison with
similar projects per skill, and the appendix "What seems to work? (exploratory)".

Plain values for ``report.html`` (its partial ``_report_exploratory.html``), every number from the
report JSON (``participation_profile``, ``scales[].reference``, ``exploratory``), formatted by
``surveyhub.locale``. The exploratory section says in words that it shows no cause and that
residents who do more may differ at the start, and shows each group's start beside its change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from surveyhub.locale import translate
from surveyhub.rendering.formatting import numbers
from surveyhub.rendering.report_words import count_words
from surveyhub.rendering.texts import REPORT, DocumentTexts, language, pgettext

if TYPE_CHECKING:
    from surveyhub.services.report_contract import ExploratoryScale, Reference, Report, ScaleEntry

TEXTS = DocumentTexts({
    "profile_heading": pgettext("report", "What residents did"),
    "profile_activities": pgettext("report", "{activities} activities were recorded, {hours} hours in all."),
    "profile_one_activity": pgettext("report", "One activity was recorded, {hours} hours in all."),
    "profile_residents": pgettext("report", "{residents} residents took part in at least one activity. Together "
                                            "they gave {hours} hours."),
    "profile_one_resident": pgettext("report", "One resident took part in an activity, for {hours} hours."),
    "profile_bands": pgettext("report", "How often: once {one}, 2 to 4 times {some}, 5 times or more {many}."),
    "profile_roles": pgettext("report", "Their biggest role: took part {participant}, volunteer {volunteer}, "
                                        "organiser {organiser}, chair or spokesperson {chair}."),
    "profile_kind": pgettext("report", "{kind}: {activities} times, {residents} residents"),
    "profile_none": pgettext("report", "No activities were recorded for this project."),
    "kinds": {"meeting": pgettext("report", "Meetings"), "workday": pgettext("report", "Work days"),
              "event": pgettext("report", "Events"), "training": pgettext("report", "Trainings"),
              "other": pgettext("report", "Other activities")},
    "reference_line": pgettext("report", "Compared with similar projects: there residents changed by {change} on "
                                         "average and {share} clearly improved ({projects} projects of "
                                         "{organisations} other organisations)."),
    "reference_line_no_share": pgettext("report", "Compared with similar projects: there residents changed by "
                                                  "{change} on average ({projects} projects of {organisations} "
                                                  "other organisations)."),
    "reference_note": pgettext("report", "Similar projects are projects of other organisations with the same "
                                         "questionnaire and enough residents. We show them only when at least 5 "
                                         "projects of at least 2 organisations take part, and we round the "
                                         "figures. So no single project can be recognised."),
    "heading": pgettext("report", "What seems to work? (exploratory)"),
    "intro": pgettext("report", "Did residents who did more also grow more? Here we compare groups of residents. "
                                "This is exploratory: it does not show what causes what. Residents who do more may "
                                "already differ at the start. So also look at the average at the start."),
    "measure_hours": pgettext("report", "The groups by how much residents did are made from their hours: a third "
                                        "with the fewest, a third in the middle, a third with the most hours."),
    "measure_activities": pgettext("report", "The groups by how much residents did are made from their number of "
                                             "activities: a third with the fewest, a third in the middle, a third "
                                             "with the most."),
    "ties": pgettext("report", "Residents who did the same amount are always in the same group. So the groups are "
                               "not always the same size, and sometimes there are only two."),
    "no_activities": pgettext("report", "No activities were recorded for the residents who filled in the "
                                        "questionnaire twice. So there is nothing to compare yet."),
    "no_pairs": pgettext("report", "Nobody filled in the questionnaire at the start and at the end yet. So there "
                                   "is nothing to compare yet."),
    "not_computed": pgettext("report", "This report was made before this part existed."),
    "col_group": pgettext("report", "Group"),
    "col_n": pgettext("report", "Residents"),
    "col_start": pgettext("report", "Start (SD)"),
    "col_change": pgettext("report", "Change (95% interval)"),
    "lower_hours": pgettext("report", "Fewest: ≤ {up_to} hours"),
    "middle_hours": pgettext("report", "Middle: > {above} and ≤ {up_to} hours"),
    "upper_hours": pgettext("report", "Most: > {above} hours"),
    "lower_activities": pgettext("report", "Fewest: ≤ {up_to} activities"),
    "middle_activities": pgettext("report", "Middle: > {above} and ≤ {up_to} activities"),
    "upper_activities": pgettext("report", "Most: > {above} activities"),
    "led": pgettext("report", "Organised or chaired"),
    "not_led": pgettext("report", "Never organised or chaired"),
    "difference_intensity": pgettext("report", "Difference most − fewest"),
    "difference_role": pgettext("report", "Difference organised − never"),
    "p_value": pgettext("report", "p-value {p} (Welch's test)"),
    "hidden_means": pgettext("report", "A group has fewer than {n} residents. To protect them, we show no averages "
                                       "for these groups."),
    "hidden_tests": pgettext("report", "A group has fewer than {n} residents: no intervals."),
    "hidden_overlap": pgettext("report", "Next to the other grouping, these figures would show the change of very "
                                         "few residents. So we do not show them."),
})


def texts_for(lang: str) -> dict:
    return TEXTS[language(lang)]


def profile(report: Report, lang: str) -> dict | None:
    """The participation profile: a few short sentences and a line per kind of activity.

    None for a report stored before the profile existed.
    """
    found = report["participation_profile"]
    if found is None:
        return None
    t, words, n = texts_for(lang), REPORT[language(lang)], numbers(lang)
    if not found["activities"]:
        return {"sentences": [t["profile_none"]], "kinds": []}
    one_activity, one_resident = found["activities"] == 1, found["residents"] == 1
    sentences = [t["profile_one_activity" if one_activity else "profile_activities"].format(
                     activities=n.count(found["activities"]), hours=n.number(found["hours"], 0)),
                 t["profile_one_resident" if one_resident else "profile_residents"].format(
                     residents=n.count(found["residents"]), hours=n.number(found["resident_hours"], 0))]
    if found["residents"]:
        bands = {band["band"]: count_words(band["residents"], n, words) for band in found["by_activities"]}
        sentences.append(t["profile_bands"].format(one=bands["1"], some=bands["2-4"], many=bands["5+"]))
        roles = {role["role"]: count_words(role["residents"], n, words) for role in found["by_role"]}
        sentences.append(t["profile_roles"].format(**roles))
    kinds = [t["profile_kind"].format(kind=t["kinds"][kind["kind"]], activities=n.count(kind["activities"]),
                                      residents=count_words(kind["residents"], n, words))
             for kind in found["by_kind"]]
    return {"sentences": sentences, "kinds": kinds}


def reference_line(entry: ScaleEntry, lang: str) -> str:
    """"Compared with similar projects: ..." beside one skill's result; empty when not shown."""
    shown: Reference = entry["reference"]
    if shown["mean_change"] is None:
        return ""
    t, n = texts_for(lang), numbers(lang)
    values = {"change": n.signed(shown["mean_change"], 1), "projects": n.count(shown["projects"]),
              "organisations": n.count(shown["organisations"])}
    if shown["improved_share"] is None:
        return t["reference_line_no_share"].format(**values)
    return t["reference_line"].format(share=n.percent(shown["improved_share"]), **values)


def reference_note(report: Report, lang: str) -> str:
    """Said once, under the skills, when any skill has a reference value."""
    return texts_for(lang)["reference_note"] if any(reference_line(e, lang) for e in report["scales"]) else ""


def appendix(report: Report, lang: str) -> dict | None:
    """The section "What seems to work? (exploratory)"; None where there was no pretest to compare with."""
    if not report["design"]["pretest"]:
        return None
    t = texts_for(lang)
    block = report["exploratory"]
    lines = [t["intro"]]
    if block["reason"] is not None:
        return {"lines": lines + [t[block["reason"]]], "tables": []}
    lines += [t["measure_" + (block["measure"] or "hours")], t["ties"]]
    limits = report["thresholds"]
    tables = [_table(entry, block["measure"] or "hours", limits, lang) for entry in block["scales"]
              if entry["by_intensity"] is not None or entry["by_role"] is not None]
    return {"lines": lines, "tables": tables}


def _table(entry: ExploratoryScale, measure: str, limits, lang: str) -> dict:
    """One skill's table: the intensity groups and their difference, then the role groups and theirs."""
    t, words, n = texts_for(lang), REPORT[language(lang)], numbers(lang)
    hidden = words["hidden_short"]
    rows, notes = [], []
    for key, compared in (("by_intensity", entry["by_intensity"]), ("by_role", entry["by_role"])):
        if compared is None:
            continue
        for group in compared["groups"]:
            label = t[group["key"]] if key == "by_role" else t[f"{group['key']}_{measure}"].format(
                above=_amount(group["above"], n), up_to=_amount(group["up_to"], n))
            baseline, change = group["baseline"], group["change"]
            start = (f"{n.number(baseline['mean'])} ({n.number(baseline['sd'])})" if baseline["mean"] is not None
                     else hidden)
            moved = hidden if change["mean"] is None else n.signed(change["mean"]) + (
                f" ({n.interval(change['ci95'])})" if change["ci95"] is not None else "")
            rows.append({"cells": [label, count_words(group["n"], n, words), start, moved], "difference": False})
        difference = compared["difference"]
        if difference is not None and difference["mean"] is not None:
            moved = n.signed(difference["mean"])
            if difference["ci95"] is not None:
                moved += f" ({n.interval(difference['ci95'])}); {t['p_value'].format(p=n.p(difference['p']))}"
            rows.append({"cells": [t["difference_role" if key == "by_role" else "difference_intensity"], "", "",
                                   moved], "difference": True})
        note = (t["hidden_overlap"] if "overlap" in compared["suppressed"] else
                t["hidden_means"].format(n=n.count(limits["min_means"])) if "means" in compared["suppressed"] else
                t["hidden_tests"].format(n=n.count(max(limits["min_tests"], limits["min_means"])))
                if "tests" in compared["suppressed"] else "")
        if note and note not in notes:
            notes.append(note)
    return {"title": translate(entry["title"], lang),
            "head": [t["col_group"], t["col_n"], t["col_start"], t["col_change"]], "rows": rows, "notes": notes}


def _amount(value: float | None, n) -> str:
    """Hours or activities as a worker counts them: whole numbers without decimals, else one."""
    if value is None:
        return ""
    return n.number(value, 0 if float(value).is_integer() else 1)


def context(report: Report, lang: str) -> dict:
    """Everything the report template's partial needs, by part."""
    return {"profile": profile(report, lang), "reference_note": reference_note(report, lang),
            "appendix": appendix(report, lang), "heading": texts_for(lang)["heading"],
            "profile_heading": texts_for(lang)["profile_heading"]}
