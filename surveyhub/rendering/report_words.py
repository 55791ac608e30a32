"""The impact report's sentences: what changed, in plain words first and then the numbers.

Pure functions on the report JSON (``services.report_contract``) and the
report's texts (``texts.REPORT``); nothing is recomputed. What every skill
has in common (how the score works, what the interval and the effect size
mean) is said once by the report; the sentences here say only what differs
per skill. Look-back results get their own words ("self-perceived change")
and never the words of measured change; no sentence claims a cause.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from surveyhub.locale import Numbers, join_words, translate
from surveyhub.rendering.formatting import numbers

if TYPE_CHECKING:
    from surveyhub.services.report_contract import ChangeEntry, Report, Thresholds

#: Cohen's rough conventions for a standardised difference, as (lower bound, text key).
EFFECT_SIZES = ((0.8, "size_large"), (0.5, "size_medium"), (0.2, "size_small"), (0.0, "size_tiny"))
#: Below this Cronbach's alpha a scale's statements hang together too loosely to read without care.
LOW_ALPHA = 0.6
#: Below this many pairs the report says the groups are small.
SMALL_GROUP = 30


def verdict(entry: ChangeEntry) -> str | None:
    """``"improved"``, ``"deteriorated"`` or ``"unclear"``; None when there is nothing to judge by.

    Judged by the 95% interval of the mean change and the scale's direction
    (``higher_is_better``): a scale where lower is better improved when the
    whole interval lies below zero. No verdict without an interval or while
    the tests are hidden (too few pairs to draw a conclusion). The dashboard
    uses this same rule, so page and PDF never disagree.
    """
    ci = entry["change"]["ci95"]
    if ci is None or "means" in entry["suppressed"] or "tests" in entry["suppressed"]:
        return None
    lo, hi = ci
    up, down = lo > 0, hi < 0
    if not entry["higher_is_better"]:
        up, down = down, up
    return "improved" if up else "deteriorated" if down else "unclear"


def means_hidden(entry: ChangeEntry) -> bool:
    return "means" in entry["suppressed"] or entry["pre"]["mean"] is None or entry["post"]["mean"] is None


def skill_name(entry: ChangeEntry, lang: str) -> str:
    """The skill's name inside a sentence: lower case in Dutch ("plannen en organiseren")."""
    title = translate(entry["title"], lang)
    return title.lower() if lang == "nl" else title


def scale_max(entry: ChangeEntry, n: Numbers, t: dict) -> str:
    """" out of 5", or nothing for a scale without a known range."""
    if not entry["range"]:
        return ""
    high = entry["range"][1]
    return t["on_max"].format(max=n.number(high, 0 if float(high).is_integer() else 1))


def count_words(value, n: Numbers, t: dict) -> str:
    """A reliable-change count in words: "fewer than 5", "5 or more", or the number."""
    if isinstance(value, str) and value.startswith("<"):
        return t["less_than"].format(n=value[1:])
    if isinstance(value, str) and value.startswith("≥"):
        return t["at_least"].format(n=value[1:])
    return n.count(value)


def summary_sentence(entry: ChangeEntry, lang: str, t: dict) -> list[str]:
    """The lead sentence of one skill: the direction in words (when there is one), then the averages."""
    n = numbers(lang)
    skill = skill_name(entry, lang)
    if means_hidden(entry):
        return [t["too_few"].format(skill=skill)]
    values = {"skill": skill, "pre": n.number(entry["pre"]["mean"]), "post": n.number(entry["post"]["mean"]),
              "scale_max": scale_max(entry, n, t)}
    found = verdict(entry)
    key = {"improved": "grew", "deteriorated": "declined", "unclear": "unclear", None: "unsure"}[found]
    return [t[key].format(**values)]


def effect_words(d: float | None, ci: list[float] | None, n: Numbers, t: dict, key: str = "effect") -> str:
    """The effect size d_z put into words by the rough conventions, with its interval.

    ``key`` ``"effect"`` names the conventions in the sentence (a paragraph on its own);
    ``"effect_short"`` leaves that to the section's introduction, which says it once.
    """
    if d is None:
        return ""
    shown = abs(round(d, 2))  # judged as printed: a d_z of 0.797 reads "0.80" and is called large
    size = next(t[name] for bound, name in EFFECT_SIZES if shown >= bound)
    if ci:
        return t[key].format(d=n.number(d), lo=n.number(ci[0]), hi=n.number(ci[1]), size=size)
    return t[key + "_no_ci"].format(d=n.number(d), size=size)


def skill_paragraph(entry: ChangeEntry, lang: str, t: dict, limits: Thresholds) -> list[str]:
    """One skill's paragraph on its own (the dashboard's card): lead, how sure, effect size, per resident."""
    if means_hidden(entry):
        return summary_sentence(entry, lang, t)
    return summary_sentence(entry, lang, t) + _details(entry, lang, t, limits, effect_key="effect")


def common_lead(entries: list, lang: str, t: dict) -> list[str]:
    """What the skills have in common, said once: which went up, which did not change clearly, and so on."""
    groups: dict[str, list[str]] = {}
    for entry in entries:
        found = verdict(entry)
        key = ("hidden_all" if means_hidden(entry) else
               {"improved": "grew_all", "deteriorated": "declined_all", "unclear": "unclear_all"}.get(
                   found or "", "open_all"))
        groups.setdefault(key, []).append(skill_name(entry, lang))
    if len(entries) > 1 and set(groups) <= {"grew_all"} | {"unclear_all"} and len(groups) == 1:
        key = next(iter(groups))  # every skill alike: say so with the number, not a long list
        return [t[key.replace("_all", "_every")].format(k=numbers(lang).count(len(entries)))]
    order = ("grew_all", "unclear_all", "declined_all", "open_all", "hidden_all")
    return [_capital(t[key].format(skills=join_words(groups[key], lang))) for key in order if key in groups]


def skill_details(entry: ChangeEntry, lang: str, t: dict, limits: Thresholds) -> list[str]:
    """What differs per skill, after the common lead: the averages, how sure, the effect size, per resident."""
    n = numbers(lang)
    if means_hidden(entry):
        return [t["details_hidden"]]
    lead = t["from_to"].format(pre=n.number(entry["pre"]["mean"]), post=n.number(entry["post"]["mean"]),
                               scale_max=scale_max(entry, n, t))
    return [lead] + _details(entry, lang, t, limits, effect_key="effect_short")


def _details(entry: ChangeEntry, lang: str, t: dict, limits: Thresholds, effect_key: str) -> list[str]:
    n = numbers(lang)
    sentences = []
    change = entry["change"]
    if change["ci95"] is not None:
        sentences.append(t["certainty"].format(lo=n.number(change["ci95"][0]), hi=n.number(change["ci95"][1])))
    elif change["sd"] == 0:
        sentences.append(t["same_change"])
    if "tests" in entry["suppressed"]:
        sentences.append(t["tests_need"].format(n=n.count(max(limits["min_tests"], limits["min_means"]))))
    else:
        words = effect_words(entry["effect_size"]["d_z"], _d_z_interval(entry), n, t, effect_key)
        if words:
            sentences.append(words)
    sentences.append(rci_sentence(entry, n, t))
    return [s for s in sentences if s]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _d_z_interval(entry: ChangeEntry) -> list[float] | None:
    """The exact 95% interval of d_z (noncentral t), as the JSON holds it."""
    return entry["effect_size"]["d_z_ci95"]


def rci_sentence(entry: ChangeEntry, n: Numbers, t: dict) -> str:
    rci = entry["rci"]
    counts = (rci["improved"], rci["unchanged"], rci["deteriorated"])
    if any(count is None for count in counts):
        return t["rci_unknown_line"]
    improved, unchanged, deteriorated = (count_words(c, n, t) for c in counts)
    share, ci = rci["improved_share"], rci["improved_ci95"]
    if share is not None and ci is not None:  # a share only beside its plain count (the JSON's rule)
        return t["rci_line_share"].format(improved=improved, unchanged=unchanged, deteriorated=deteriorated,
                                          share=n.percent(share), lo=n.percent(ci[0]), hi=n.percent(ci[1]))
    return t["rci_line"].format(improved=improved, unchanged=unchanged, deteriorated=deteriorated)


def brief_line(entry: ChangeEntry, lang: str, t: dict) -> str:
    """One skill in one line for page 2: the direction of the average and who clearly improved."""
    n = numbers(lang)
    title = translate(entry["title"], lang)
    if means_hidden(entry):
        return f"{title}: {t['brief_hidden']}"
    trend = {"improved": t["brief_up"], "deteriorated": t["brief_down"], "unclear": t["brief_flat"],
             None: t["brief_same"] if entry["change"]["sd"] == 0 else t["brief_open"]}[verdict(entry)]
    if verdict(entry) == "improved" and not entry["higher_is_better"]:
        trend = t["brief_down"]  # a better score on a lower-is-better scale is lower
    elif verdict(entry) == "deteriorated" and not entry["higher_is_better"]:
        trend = t["brief_up"]
    line = t["brief_line"].format(skill=title, trend=trend, pre=n.number(entry["pre"]["mean"], 1),
                                  post=n.number(entry["post"]["mean"], 1))
    improved = entry["rci"]["improved"]
    if improved is not None:
        line += "; " + t["brief_rci"].format(improved=count_words(improved, n, t), n=n.count(entry["n_pairs"]))
    return line


def retro_line(entry: ChangeEntry, lang: str, t: dict) -> str:
    """A look-back result in its own words: self-perceived change, never "clearly improved"."""
    return _compared_line(entry, lang, t, "retro_line_plain", "retro_line_short", "then")


def followup_line(entry: ChangeEntry, lang: str, t: dict) -> str:
    """Start → follow-up."""
    return _compared_line(entry, lang, t, "followup_line", "followup_line_short", "pre")


def persistence_line(entry: ChangeEntry, lang: str, t: dict) -> str:
    """End → follow-up: did the change last? In words first (by the interval, as ``verdict``), then the numbers."""
    numbers_line = _compared_line(entry, lang, t, "persistence_line", "persistence_line_short", "pre")
    key = {"improved": "lasted_up", "deteriorated": "lasted_down", "unclear": "lasted_same"}.get(verdict(entry) or "")
    return f"{t[key].format(skill=skill_name(entry, lang))} {numbers_line}" if key else numbers_line


def _compared_line(entry: ChangeEntry, lang: str, t: dict, full: str, short: str, first: str) -> str:
    n = numbers(lang)
    title = translate(entry["title"], lang)
    if means_hidden(entry):
        return t["too_few"].format(skill=skill_name(entry, lang))
    values = {"skill": title, first: n.number(entry["pre"]["mean"]), "post": n.number(entry["post"]["mean"]),
              "scale_max": scale_max(entry, n, t), "n": n.count(entry["n_pairs"])}
    ci = entry["change"]["ci95"]
    if ci is None:
        return t[short].format(**values)
    return t[full].format(**values, change=n.signed(entry["change"]["mean"]), lo=n.number(ci[0]),
                          hi=n.number(ci[1]))


def limitations(report: Report, lang: str, t: dict) -> list[str]:
    """What the figures cannot tell, generated from this project's design and data."""
    n = numbers(lang)
    part, design = report["participation"], report["design"]
    lines = [t["lim_comparison"], t["lim_self_report"]]
    if design["pretest"] and part["attrition"] > 0:
        lines.append(t["lim_dropout"].format(dropped=n.count(part["attrition"]), started=n.count(part["pre"]))
                     + " " + dropout_words(report, lang, t))
    if design["then_test"]:
        lines.append(t["lim_recall"])
    measured = report["scales"] if design["pretest"] else report["retrospective"]
    shown = [e for e in measured if not means_hidden(e)]
    if shown and min(e["n_pairs"] for e in shown) < SMALL_GROUP:
        lines.append(t["lim_small"].format(n=n.count(min(e["n_pairs"] for e in shown))))
    hidden = [skill_name(e, lang) for e in measured if means_hidden(e)]
    if hidden:
        lines.append(t["lim_hidden"].format(skills=join_words(hidden, lang)))
    low = [skill_name(e, lang) for e in report["scales"] if _low_alpha(e)]
    if low:
        lines.append(t["lim_alpha"].format(skills=join_words(low, lang)))
    lines.extend(t["lim_ceiling"].format(count=count_words(e["baseline_ceiling"]["count"], n, t),
                                         n=n.count(e["n_pairs"]), skill=skill_name(e, lang))
                 for e in measured if _at_ceiling(e))
    return lines


#: From this share of residents at the highest score at the start, the report names the ceiling.
CEILING_SHARE = 0.15
#: Completers and drop-outs "differed at the start" when Welch's test gives a p below this.
DROPOUT_P = 0.05


def _at_ceiling(entry) -> bool:
    """Many residents started at the top: a shown share of at least ``CEILING_SHARE``, or "≥N"."""
    ceiling = entry["baseline_ceiling"]
    if ceiling["share"] is not None:
        return ceiling["share"] >= CEILING_SHARE and ceiling["count"] not in (0, None)
    return isinstance(ceiling["count"], str) and ceiling["count"].startswith("≥")


def dropout_words(report: Report, lang: str, t: dict) -> str:
    """Whether the residents who stopped started differently (``participation.dropout_check``, Welch's test)."""
    checks = report["participation"]["dropout_check"]
    titles = {(e["instrument"], e["scale"]): skill_name(e, lang) for e in report["scales"]}
    tested = [(titles[(c["instrument"], c["scale"])], c["p"], c["difference"]) for c in checks
              if c["p"] is not None and c["difference"] is not None]
    if not tested:
        shown = any(c["difference"] is not None for c in checks)  # averages, but too few for a test
        return t["lim_dropout_untested"] if shown else t["lim_dropout_few"]
    lower = [skill for skill, p, difference in tested if p < DROPOUT_P and difference < 0]
    higher = [skill for skill, p, difference in tested if p < DROPOUT_P and difference > 0]
    words = []
    if lower:
        words.append(t["lim_dropout_lower"].format(skills=join_words(lower, lang)))
    if higher:
        words.append(t["lim_dropout_higher"].format(skills=join_words(higher, lang)))
    return " ".join(words) or t["lim_dropout_same"]


def _low_alpha(entry) -> bool:
    alphas = [r["alpha"] for r in entry["reliability"].values() if r["alpha"] is not None]
    return bool(alphas) and min(alphas) < LOW_ALPHA


def improved_share(entry: ChangeEntry) -> float | None:
    """The share who clearly improved (``rci.improved_share``); None while hidden or not computable."""
    return entry["rci"]["improved_share"]


def improved_interval(entry: ChangeEntry) -> list[float] | None:
    """The Wilson 95% interval of that share (``rci.improved_ci95``)."""
    return entry["rci"]["improved_ci95"]
