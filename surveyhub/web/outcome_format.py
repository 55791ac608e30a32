"""The report JSON as the dashboard shows it: numbers in the page's language, every figure with words.

Pure formatting of a report (``services.outcomes.project_report``, typed in
``services.report_contract``); everything hidden by the small-number rules is
already ``None`` (or a label such as "<5") there, so nothing here can reveal
it. Numbers are written by ``surveyhub.locale.Numbers``. The funder's report
is the one presenter: the key figures, what the skills share and each skill's
details, the look-back
and follow-up lines, the limitations, the category names and the quotes come
from ``rendering.report`` / ``rendering.report_words`` with the report's own
texts, so page and PDF say the same. Texts only the dashboard has (help beside
each figure, the alpha warning, what is hidden and why) are gettext messages
here and in the template.
"""

from __future__ import annotations

import math
import re
from datetime import date

from flask_babel import gettext as _

from surveyhub.locale import DASH, Numbers, translate
from surveyhub.rendering import report as report_pdf
from surveyhub.rendering import report_exploratory, report_words, texts
from surveyhub.services.report_contract import ChangeEntry, Design, Participation, Report, Thresholds

__all__ = ["DASH", "Numbers", "chart_min_width", "dashboard_view"]


def dashboard_view(report: Report, n: Numbers, lang: str) -> dict:
    """Everything the dashboard template shows, as plain strings and lists.

    A figure that cannot be computed reads "cannot be computed" rather than a
    dash; a figure hidden by the small-number rules says so where it would stand.
    """
    n = Numbers(n.lang, missing=_("cannot be computed"))
    t = texts.REPORT[lang]
    limits = report["thresholds"]
    scales = [_entry(entry, limits, n, lang, t) for entry in report["scales"]]
    # Only a look-back and no start questionnaire: there is no measured change to show, not even as words.
    measured = report["design"]["kind"] != "retrospective then-test without pretest"
    return {
        "design": _design_text(report["design"]),
        "thresholds": _("Averages need at least %(means)s pairs; tests and effect sizes at least %(tests)s; "
                        "counts below %(cell)s show as “<%(cell)s”.", means=limits["min_means"],
                        tests=limits["min_tests"], cell=limits["min_cell"]),
        "headline": _headline(report, lang, t),
        "story": _story(report, n, lang, t),
        "measured": measured,
        "participation": _participation_rows(report["participation"], n, measured),
        "scales": scales,
        # What the skills share, said once (as the report does), then each skill's own figures in words.
        "skills_lead": report_words.common_lead(report["scales"], lang, t) if measured else [],
        "score_explained": report_pdf.score_explained(report, lang, t),
        "means_note": _all_hidden_note(report["scales"], "means", limits, n),
        "tests_note": _all_hidden_note(report["scales"], "tests", limits, n),
        "rci_note": _rci_note(scales),
        "categories": {key: t[key] for key in ("improved", "unchanged", "deteriorated")},
        "alpha_warnings": [warning for s in scales for warning in s["alpha_warnings"]],
        "retrospective": [{**_entry(entry, limits, n, lang, t), "sentence": report_words.retro_line(entry, lang, t)}
                          for entry in report["retrospective"]],
        "followup": [_followup_line(entry, n, lang, t) for entry in report["followup"]],
        "persistence": [report_words.persistence_line(entry, lang, t) for entry in report["persistence"]],
        "dropout": _dropout_lines(report, n, lang),
        "limitations_heading": t["limitations"],
        "limitations": report_words.limitations(report, lang, t),
        "quotes": report_pdf.quotes(report),
        "activity": _activity(report, lang),
    }


def _activity(report: Report, lang: str) -> dict:
    """What residents did, the comparison with similar projects and "What seems to work?", in the PDF's words
    (``rendering.report_exploratory``): the profile's sentences, one reference line per skill (or none), and the
    exploratory tables with each group's start beside its change."""
    return {"profile_heading": report_exploratory.texts_for(lang)["profile_heading"],
            "profile": report_exploratory.profile(report, lang),
            "reference": {(e["instrument"], e["scale"]): line for e in report["scales"]
                          if (line := report_exploratory.reference_line(e, lang))},
            "reference_note": report_exploratory.reference_note(report, lang),
            "heading": report_exploratory.texts_for(lang)["heading"],
            "appendix": report_exploratory.appendix(report, lang)}


def _design_text(design: Design) -> str:
    return {
        "pre-post with retrospective then-test": _("Residents answered at the start and at the end; at the end "
                                                   "they also looked back at how they were before the project."),
        "pre-post": _("Residents answered at the start and at the end of the project."),
        "retrospective then-test without pretest": _("Residents answered at the end and looked back at how they "
                                                     "were before the project; there was no start questionnaire."),
    }.get(design["kind"], _("No resident has answered both questionnaires yet."))


# --- the figures at the top -------------------------------------------------------------------------

def _headline(report: Report, lang: str, t: dict) -> list[dict]:
    """The report's key figures (``rendering.report.headline``), each with a line saying what it counts."""
    helps = {t["fig_invited"]: _("Everyone in the project with a personal link or their own code."),
             t["fig_pre"]: _("Filled in the start questionnaire, at the beginning of the project."),
             t["fig_post"]: _("Filled in the final questionnaire, at the end of the project.")}
    improved = t["fig_improved"].split("{")[0]
    figures = []
    for figure in report_pdf.headline(report, lang, t):
        if figure["label"] in helps:
            help_text = helps[figure["label"]]
        elif figure["label"].startswith(improved):
            help_text = _("Clearly improved: their change is larger than the measurement error of the questionnaire.")
        else:  # a figure the report added later: point to where its count is explained
            help_text = _("A count of residents; the participation table below explains each step.")
        figures.append({**figure, "help": help_text})
    return figures


def _story(report: Report, n: Numbers, lang: str, t: dict) -> dict:
    """What the project did, in the report's words: period, funder, meetings, volunteer hours, outputs."""
    project = report["project"]
    facts = [report_pdf.period_text(project["period"], lang, t)]
    if project["funder"]:
        facts.append(t["funder"].format(funder=project["funder"]))
    if project["meetings_held"] is not None:
        facts.append(t["meetings"].format(n=n.count(project["meetings_held"])))
    if project["volunteer_hours"] is not None:
        facts.append(t["volunteer_hours"].format(n=n.count(project["volunteer_hours"])))
    outputs = [(n.date(date.fromisoformat(output["date"])), output["description"]) for output in project["outputs"]]
    return {"heading": t["story"], "facts": [fact for fact in facts if fact], "outputs_heading": t["outputs"],
            "outputs": outputs}


def _participation_rows(part: Participation, n: Numbers, measured: bool) -> list[tuple[str, str, str]]:
    """(label, figure, what it counts) per step; without a start questionnaire only the steps there were."""
    rows = [(_("Residents in the project"), n.count(part["invited"]),
             _("Everyone with a personal link or their own code.")),
            (_("Started the pre wave"), n.count(part["waves"]["pre"]["started"]),
             _("Opened the start questionnaire and answered at least one question.")),
            (_("Completed the pre wave"), n.count(part["pre"]), _("Filled in the start questionnaire to the end.")),
            (_("Completed the post wave"), n.count(part["post"]), _("Filled in the final questionnaire to the end.")),
            (_("Paired (start and end)"), n.count(part["paired"]),
             _("Filled in both. Only for them can we compare the start with the end.")),
            (_("Match rate (post responses paired with a pre response)"), n.percent(part["match_rate"]),
             _("Of all final questionnaires, the share we could pair with a start questionnaire.")
             if part["match_rate"] is not None else _("There was no start questionnaire to pair with.")),
            (_("Paired by their own code"), n.count(part["paired_by_code"] + part["fuzzy_pairs"]),
             _("Residents without a personal link, paired by the code they made themselves.")),
            (_("Of which with one answer of the code different (fuzzy)"), n.count(part["fuzzy_pairs"]),
             _("Paired although one part of the own code differed; only where just one pair was possible.")),
            (_("Did the pre wave but not (yet) the post wave"), n.count(part["attrition"]),
             _("They are not in the comparison. They may still fill in the final questionnaire."))]
    if not measured:
        rows = [rows[0], rows[3]]
    if part["waves"]["followup"]["completed"]:
        rows.append((_("Completed the follow-up wave"), n.count(part["followup"]),
                     _("Filled in the questionnaire some time after the end.")))
    return rows


# --- one skill ----------------------------------------------------------------------------------------

def _entry(entry: ChangeEntry, limits: Thresholds, n: Numbers, lang: str, t: dict) -> dict:
    title = translate(entry["title"], lang)
    hidden_means = "means" in entry["suppressed"]
    hidden_tests = "tests" in entry["suppressed"]
    # Only then → post entries carry a response shift, only pre → post entries their reliability.
    shift = entry["response_shift"] if entry["comparison"] == "then→post" else None  # type: ignore[typeddict-item]
    reliability = entry["reliability"] if entry["comparison"] == "pre→post" else {}  # type: ignore[typeddict-item]
    effect, test, rci = entry["effect_size"], entry["test"], entry["rci"]
    return {
        "title": title, "key": (entry["instrument"], entry["scale"]),
        "n_pairs": n.count(entry["n_pairs"]),
        "pre": n.number(entry["pre"]["mean"]), "pre_sd": n.number(entry["pre"]["sd"]),
        "post": n.number(entry["post"]["mean"]), "post_sd": n.number(entry["post"]["sd"]),
        "change": n.signed(entry["change"]["mean"]),
        "ci": (_("not shown: fewer than %(min)s pairs", min=limits["min_tests"])
               if entry["change"]["ci95"] is None and hidden_tests else n.interval(entry["change"]["ci95"])),
        "ci_hidden": entry["change"]["ci95"] is None and hidden_tests,
        "range": n.interval(entry["range"], 0) if entry["range"] else DASH,
        "d_z": n.number(effect["d_z"]), "d_z_ci": n.interval(effect["d_z_ci95"]),
        "d_av": n.number(effect["d_av"]), "g_av": n.number(effect["g_av"]),
        "t": n.number(test["t"]), "df": n.count(test["df"]), "p": n.p(test["p"]),
        "p_holm": n.p(test["p_holm"]), "wilcoxon_p": n.p(test["wilcoxon_p"]),
        "improved": n.count(rci["improved"]), "unchanged": n.count(rci["unchanged"]),
        "deteriorated": n.count(rci["deteriorated"]),
        "share": _share(entry, n),
        "rci_shown": not hidden_means and all(rci[k] is not None for k in ("improved", "unchanged", "deteriorated")),
        "rci_reason": (_("Not shown: too few residents with a start and an end.") if hidden_means else
                       _("Cannot be computed: the reliability of this skill is not known.")),
        "hidden_means": hidden_means, "hidden_tests": hidden_tests,
        "means_note": _("Not shown: %(n)s residents with a start and an end, fewer than %(min)s.",
                        n=n.count(entry["n_pairs"]), min=limits["min_means"]),
        "tests_note": _("Not shown: tests and effect sizes need at least %(min)s residents with a start and an "
                        "end; here %(n)s.", n=n.count(entry["n_pairs"]), min=limits["min_tests"]),
        "sentence": " ".join(report_words.skill_details(entry, lang, t, limits)),
        "ceiling": _ceiling(entry, n),
        "primary": t["primary_mark"] if entry["primary"] else "",
        "sensitivity": _sensitivity(entry, n),
        "reliability": [_alpha_row(kind, r, n) for kind, r in reliability.items() if r["n"] > 0],
        "alpha_warnings": _alpha_warnings(title, reliability, n),
        "shift": None if shift is None else {
            "n_pairs": n.count(shift["n_pairs"]), "change": n.signed(shift["change"]["mean"]),
            "ci": n.interval(shift["change"]["ci95"]), "pre": n.number(shift["pre"]["mean"]),
            "then": n.number(shift["then"]["mean"])},
    }


def chart_min_width(svg: str, smallest_px: float = 12.0) -> int:
    """How wide (CSS px) a chart must be drawn so that its smallest text is at least ``smallest_px`` high.

    Charts are drawn once for screen and paper on a fixed canvas (``viewBox``);
    the page scales them. Below this width the chart scrolls inside its own box
    instead of shrinking its labels out of reading size.
    """
    box = re.search(r'viewBox="0 0 ([\d.]+) [\d.]+"', svg)
    sizes = [float(size) for size in re.findall(r'font-size="([\d.]+)"', svg)]
    if box is None or not sizes:
        return 0
    return math.ceil(float(box.group(1)) * smallest_px / min(sizes))


def _sensitivity(entry: ChangeEntry, n: Numbers) -> str:
    """The result without the pairs matched by an own code with one difference, or "" when there were none."""
    found = entry["sensitivity"]
    if found is None:
        return ""
    if "sensitivity" in entry["suppressed"]:  # the difference from the full result would be those few's change
        return _("%(fuzzy)s pairs were matched by an own code with one difference. That is too few to show the "
                 "result without them: it would show how those few residents changed.",
                 fuzzy=n.count(entry["n_fuzzy"]))
    if found["change_mean"] is None:
        return _("Without the %(fuzzy)s pairs matched by an own code with one difference, too few pairs are left "
                 "to show figures.", fuzzy=n.count(entry["n_fuzzy"]))
    text = _("Without the %(fuzzy)s pairs matched by an own code with one difference (%(n)s pairs left): change "
             "%(change)s.", fuzzy=n.count(entry["n_fuzzy"]), n=n.count(found["n_pairs"]),
             change=n.signed(found["change_mean"]))
    if found["d_z"] is not None and found["p"] is not None:
        text += " " + _("d_z %(d_z)s, p %(p)s.", d_z=n.number(found["d_z"]), p=n.p(found["p"]))
    return text


def _share(entry: ChangeEntry, n: Numbers) -> str:
    """"35% (95% interval 19% to 55%)", or "" while the count is hidden."""
    share, ci = report_words.improved_share(entry), report_words.improved_interval(entry)
    if share is None or ci is None:
        return ""
    return _("%(share)s (95%% interval %(lo)s to %(hi)s)", share=n.percent(share), lo=n.percent(ci[0]),
             hi=n.percent(ci[1]))


def _ceiling(entry: ChangeEntry, n: Numbers) -> str:
    """How many of the pairs had the highest score at the start (they cannot show growth), for the details table."""
    ceiling = entry["baseline_ceiling"]
    if ceiling["count"] is None or entry["range"] is None:
        return n.missing
    if ceiling["share"] is None:
        return n.count(ceiling["count"])
    return f"{n.count(ceiling['count'])} ({n.percent(ceiling['share'])})"


def _alpha_row(kind: str, found, n: Numbers) -> dict:
    """One wave's Cronbach's alpha for the details table; a missing alpha says why in words."""
    note = ""
    if found["alpha"] is None:
        note = (_("Not shown: too few complete answers.") if found["suppressed"] else
                _("Cannot be computed from these answers."))
    return {"kind": kind, "alpha": n.number(found["alpha"]), "ci": n.interval(found["ci95"]),
            "n": n.count(found["n"]), "note": note}


def _wave_words(kind: str) -> str:
    return {"pre": _("the start questionnaire"), "post": _("the final questionnaire"),
            "followup": _("the follow-up questionnaire"), "then": _("the look back")}.get(kind, kind)


def _alpha_warnings(title: str, reliability: dict, n: Numbers) -> list[str]:
    """A plain warning for every wave where the questions of a skill hang together poorly (alpha below 0.6)."""
    warnings = []
    for kind, found in reliability.items():
        alpha = found["alpha"]
        if alpha is None or alpha >= report_words.LOW_ALPHA:
            continue
        warnings.append(_("Careful with %(skill)s: in %(wave)s its questions hang together poorly (Cronbach's alpha "
                          "%(alpha)s, below %(limit)s). They may not all measure the same thing. Read the results "
                          "for this skill with care.", skill=title, wave=_wave_words(kind),
                          alpha=n.number(alpha), limit=n.number(report_words.LOW_ALPHA, 1)))
    return warnings


# --- after the end: follow-up, did the change last, who stopped ----------------------------------------

def _followup_line(entry: ChangeEntry, n: Numbers, lang: str, t: dict) -> str:
    """Start → follow-up in the report's words, with who clearly improved by then."""
    line = report_words.followup_line(entry, lang, t)
    if report_words.means_hidden(entry):
        return line
    return f"{line} {report_words.rci_sentence(entry, n, t)}"


def _dropout_lines(report: Report, n: Numbers, lang: str) -> list[str]:
    """Did residents who stopped before the end differ at the start from those who stayed? One line per skill
    that could be compared; one line in all when none could."""
    titles = {(e["instrument"], e["scale"]): translate(e["title"], lang) for e in report["scales"]}
    checks = [c for c in report["participation"]["dropout_check"] if c["dropouts"]["n"] > 0]
    compared = [c for c in checks if c["completers"]["mean"] is not None and c["dropouts"]["mean"] is not None]
    if checks and not compared:
        return [_("%(n)s residents stopped before the end: too few to compare them with those who stayed.",
                  n=n.count(max(c["dropouts"]["n"] for c in checks)))]
    lines = []
    for check in compared:
        stayed, stopped = check["completers"], check["dropouts"]
        text = _("%(skill)s: at the start, the %(stopped)s residents who stopped scored %(stopped_mean)s on "
                 "average, the %(stayed)s who stayed %(stayed_mean)s.",
                 skill=titles.get((check["instrument"], check["scale"]), check["scale"]),
                 stopped=n.count(stopped["n"]), stopped_mean=n.number(stopped["mean"]),
                 stayed=n.count(stayed["n"]), stayed_mean=n.number(stayed["mean"]))
        if check["p"] is not None:
            text += " " + _("Difference %(difference)s (p = %(p)s, Welch's t-test).",
                            difference=n.signed(check["difference"]), p=n.p(check["p"]))
        lines.append(text)
    return lines


# --- what is hidden, in words ---------------------------------------------------------------------------

def _all_hidden_note(entries: list, what: str, limits: Thresholds, n: Numbers) -> str:
    """When no skill shows ``what`` (means or tests), one sentence instead of a table of dashes; else ""."""
    if not entries or not all(what in entry["suppressed"] for entry in entries):
        return ""
    most = n.count(max(entry["n_pairs"] for entry in entries))
    if what == "means":
        return _("So far at most %(n)s residents filled in both the start and the end questionnaire. We show "
                 "averages from %(min)s residents, to protect the privacy of a small group; until then this page "
                 "shows how many took part.", n=most, min=limits["min_means"])
    return _("So far at most %(n)s residents filled in both questionnaires. Tests and effect sizes need at least "
             "%(min)s, so this page shows the averages only. Read them as a first impression, not as proof.",
             n=most, min=limits["min_tests"])


def _rci_note(scales: list[dict]) -> str:
    if scales and not any(s["rci_shown"] for s in scales):
        return scales[0]["rci_reason"]
    return ""
