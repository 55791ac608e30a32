"""The funder's impact report from the report JSON to PDF.

Every number printed comes from the report JSON (``services.outcomes``, typed
in ``services.report_contract``), formatted by ``surveyhub.locale``; nothing is
recomputed here, and the JSON is read as the contract says it is — no
fallbacks for shapes the service never makes. Where the JSON holds None
because a group is too small, the report says so in words and never shows a
number. The summary leads with what changed in words, then the number, as
WRITING.md asks. The charts are ``documents.charts``, the dashboard's own.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import TYPE_CHECKING

from surveyhub.rendering import charts, svg, texts
from surveyhub.rendering.formatting import numbers
from surveyhub.rendering.render import Images, get_renderer
from surveyhub.locale import Numbers, iso_utc, translate

if TYPE_CHECKING:  # the contract lives with the service that makes the report
    from surveyhub.services.report_contract import ChangeEntry, Participation, Report, Thresholds

TEMPLATE = "report.html"
RCI_CATEGORIES = ("improved", "unchanged", "deteriorated")

G_AV_NOTE = {
    "nl": "Hedges' g_av = d_av × J, met de correctie voor kleine groepen J = 1 − 3/(4·df − 1) en "
          "df = aantal paren − 1. Onder 3 paren tonen we g_av niet.",
    "en": "Hedges' g_av = d_av × J, with the small-sample correction J = 1 − 3/(4·df − 1) and "
          "df = number of pairs − 1. Below 3 pairs g_av is not shown.",
}


# --- the one rule for "did it go the right way" ------------------------------------------------------

def verdict(entry: ChangeEntry) -> str | None:
    """``"improved"``, ``"deteriorated"`` or ``"unclear"``; None when there is nothing to judge by.

    Judged by the 95% interval of the mean change and the scale's direction
    (``higher_is_better``): a scale where lower is better improved when the
    whole interval lies below zero. No verdict without an interval or while
    the tests are hidden (too few pairs to say how sure it is). The dashboard
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


def _means_hidden(entry: ChangeEntry) -> bool:
    return "means" in entry["suppressed"] or entry["pre"]["mean"] is None or entry["post"]["mean"] is None


# --- words ---------------------------------------------------------------------------------------

def _count_words(value, n: Numbers, t: dict) -> str:
    if isinstance(value, str) and value.startswith("<"):
        return t["less_than"].format(n=value[1:])
    if isinstance(value, str) and value.startswith("≥"):
        return t["at_least"].format(n=value[1:])
    return n.count(value)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def summary_sentence(entry: ChangeEntry, lang: str, t: dict) -> list[str]:
    """What changed on one scale, in words first and then the numbers."""
    n = numbers(lang)
    title = translate(entry["title"], lang)
    skill = title.lower() if lang == "nl" else title
    if _means_hidden(entry):
        return [t["too_few"].format(skill=skill)]
    high = entry["range"][1] if entry["range"] else None
    scale_max = t["on_max"].format(max=n.number(high, 0 if float(high).is_integer() else 1)) \
        if high is not None else ""
    values = {"skill": skill, "pre": n.number(entry["pre"]["mean"]), "post": n.number(entry["post"]["mean"]),
              "scale_max": scale_max}
    found = verdict(entry)
    if found is None:
        return [t["unsure"].format(**values)]
    ci = entry["change"]["ci95"]
    assert ci is not None  # a verdict needs the interval
    lo, hi = ci
    key = {"improved": "grew", "deteriorated": "declined", "unclear": "unclear"}[found]
    sentences = [t[key].format(**values), t["certainty"].format(lo=n.number(lo), hi=n.number(hi))]
    rci = entry["rci"]
    if all(count is not None for count in _counts(entry)):
        sentences.append(_capital(t["rci_up"].format(improved=_count_words(rci["improved"], n, t),
                                                     n=n.count(entry["n_pairs"]))))
        down = rci["deteriorated"]
        sentences.append(t["rci_none_down"] if down == 0 else
                         _capital(t["rci_down"].format(deteriorated=_count_words(down, n, t))))
    return sentences


# --- tables --------------------------------------------------------------------------------------

def scale_rows(entry: ChangeEntry, lang: str, t: dict, limits: Thresholds,
               retrospective: bool = False) -> list[tuple[str, str]]:
    """(label, value) rows of one scale's table; hidden figures say why in words."""
    n = numbers(lang)
    hide_means = t["hidden_means"].format(n=limits["min_means"])
    hide_tests = t["hidden_tests"].format(n=max(limits["min_tests"], limits["min_means"]))

    def shown(value: str, hidden: bool, hidden_text: str) -> str:
        return hidden_text if hidden else (value or t["not_computable"])

    means_hidden = "means" in entry["suppressed"]
    tests_hidden = "tests" in entry["suppressed"]
    change, effect, test = entry["change"], entry["effect_size"], entry["test"]
    t_text = ""
    if test["t"] is not None and test["df"] is not None:
        t_text = f"t({n.count(test['df'])}) = {n.number(test['t'])}"
    return [
        (t["n_pairs"], n.count(entry["n_pairs"])),
        (t["then_mean"] if retrospective else t["pre_mean"], shown(_mean_sd(entry["pre"], n), means_hidden,
                                                                   hide_means)),
        (t["post_mean"], shown(_mean_sd(entry["post"], n), means_hidden, hide_means)),
        (t["change_mean"], shown(_mean_sd(change, n), means_hidden, hide_means)),
        (t["ci"], shown(n.interval(change["ci95"]), means_hidden, hide_means)),
        (t["d_z"], shown(n.number(effect["d_z"]), tests_hidden, hide_tests)),
        (t["d_av"], shown(n.number(effect["d_av"]), tests_hidden, hide_tests)),
        (t["g_av"], shown(n.number(effect["g_av"]), tests_hidden, hide_tests)),
        (t["t_test"], shown(t_text, tests_hidden, hide_tests)),
        (t["p"], shown(n.p(test["p"]), tests_hidden, hide_tests)),
        (t["wilcoxon"], shown(n.p(test["wilcoxon_p"]), tests_hidden, hide_tests)),
    ]


def _mean_sd(part, n: Numbers) -> str:
    if part["mean"] is None:
        return ""
    sd = f" ({n.number(part['sd'])})" if part["sd"] is not None else ""
    return n.number(part["mean"]) + sd


def _counts(entry: ChangeEntry) -> tuple:
    """The reliable-change counts in ``RCI_CATEGORIES`` order."""
    rci = entry["rci"]
    return rci["improved"], rci["unchanged"], rci["deteriorated"]


def rci_rows(entry: ChangeEntry, lang: str, t: dict) -> tuple[list[tuple[str, str]] | None, str]:
    """The reliable-change counts, or None and the reason in words."""
    if "means" in entry["suppressed"]:
        return None, t["rci_hidden"]
    counts = _counts(entry)
    if any(count is None for count in counts):
        return None, t["rci_unknown"]
    n = numbers(lang)
    return [(t[c], n.count(count)) for c, count in zip(RCI_CATEGORIES, counts)], ""


# --- charts --------------------------------------------------------------------------------------

def _alt(svg_text: str, fallback: str) -> str:
    """A chart's alt text: the words its ``<desc>`` (or ``<title>``) gives, else ``fallback``."""
    for tag in ("desc", "title"):
        match = re.search(rf"<{tag}[^>]*>(.*?)</{tag}>", svg_text, re.S)
        if match and match.group(1).strip():
            return html.unescape(match.group(1).strip())[:1000]
    return fallback


def _charts(images: Images, report: Report, lang: str, t: dict) -> dict[str, dict]:
    """The report's charts by name, drawn by ``documents.charts`` exactly as the dashboard draws them."""
    drawn = charts.report_charts(report, lang)
    fallback = {"funnel": t["funnel_chart"], "change": t["chart_alt"], "rci": t["rci_chart_alt"],
                "thentest": t["retro_chart_alt"], "radar": t["radar_alt"]}
    return {name: {"name": name, "src": images.svg(chart), "alt": _alt(chart, fallback[name])}
            for name, chart in drawn.items()}


def _participation(report: Report, lang: str, t: dict, funnel: dict) -> dict:
    part: Participation = report["participation"]
    n = numbers(lang)
    rows = [(t["invited"], n.count(part["invited"])), (t["pre_done"], n.count(part["pre"])),
            (t["post_done"], n.count(part["post"])), (t["paired"], n.count(part["paired"]))]
    if part["match_rate"] is not None:
        rows.append((t["match_rate"], n.percent(part["match_rate"])))
    return {"rows": rows, "note": t["match_rate_note"], "chart": funnel["src"], "chart_alt": funnel["alt"]}


# --- assembling ----------------------------------------------------------------------------------

def _scale_sections(entries: list, lang: str, t: dict, limits: Thresholds, retro: bool) -> list[dict]:
    sections = []
    for entry in entries:
        reason = rci_rows(entry, lang, t)
        sections.append({"title": translate(entry["title"], lang),
                         "instrument": translate(entry["instrument_title"], lang),
                         "anchor": f"{'retro' if retro else 'scale'}-{entry['instrument']}-{entry['scale']}",
                         "words": summary_sentence(entry, lang, t),
                         "rows": scale_rows(entry, lang, t, limits, retrospective=retro),
                         "rci": reason[0], "rci_reason": reason[1]})
    return sections


def context(data: dict, *, code: str, issued_at: datetime, verify_url: str,
            sections: list[dict]) -> tuple[dict, Images]:
    """The template context and images of one report. ``data``: see services.document_context.report_data."""
    lang = texts.language(data["lang"])
    t = texts.REPORT[lang]
    n = numbers(lang)
    images = Images()
    report: Report = data["report"]
    org = data["organisation"]
    colour = svg.safe_colour(org.get("brand_colour"))
    limits = report["thresholds"]
    summary = [t["paired_line"].format(paired=n.count(report["participation"]["paired"]))]
    for entry in report["scales"]:
        summary.append(" ".join(summary_sentence(entry, lang, t)))
    for retro_entry in report["retrospective"]:
        sentence = " ".join(summary_sentence(retro_entry, lang, t))
        summary.append(t["retro_line"].format(sentence=sentence[:1].lower() + sentence[1:]))
    drawn = _charts(images, report, lang, t)
    return {
        "lang": lang, "t": t, "brand": colour, "created": iso_utc(issued_at),
        "doc_title": f"{t['title']} — {data['project']['name']}",
        "organisation": {"name": org["name"], "logo": images.logo(org.get("logo"), org.get("logo_type"))},
        "project": data["project"], "issued_on": n.date(issued_at), "code": code, "verify_url": verify_url,
        "qr": images.qr(verify_url), "summary": summary,
        "participation": _participation(report, lang, t, drawn["funnel"]),
        "charts": [drawn[name] for name in ("change", "radar")],
        "rci_chart": drawn["rci"],
        "retro_chart": drawn.get("thentest"),  # drawn only when the then-test was used
        "scales": _scale_sections(report["scales"], lang, t, limits, retro=False),
        "retro": _scale_sections(report["retrospective"], lang, t, limits, retro=True),
        "quotes": quotes(report), "sections": sections, "min_cell": limits["min_cell"],
        "method": _method(data, report, limits, lang, t),
    }, images


MAX_QUOTES = 12
MAX_QUOTE_CHARS = 400


def quotes(report: Report) -> list[str]:
    """The quotes residents agreed to share, as the report JSON lists them (capped for print)."""
    shown: list[str] = []
    for quote in report["quotes"]:
        text = " ".join(quote["text"].split())
        if text and text not in shown:
            shown.append(text if len(text) <= MAX_QUOTE_CHARS else text[: MAX_QUOTE_CHARS - 1] + "…")
    return shown[:MAX_QUOTES]


def _method(data: dict, report: Report, limits: Thresholds, lang: str, t: dict) -> dict:
    n = numbers(lang)
    reliability = {(entry["instrument"], entry["scale"]): entry["reliability"] for entry in report["scales"]}
    instruments = []
    for instrument in data["instruments"]:
        scales = []
        for scale in instrument["scales"]:
            waves = reliability.get((instrument["id"], scale["id"]), {})
            alpha = {wave: n.number(waves[wave]["alpha"]) if wave in waves else "" for wave in ("pre", "post")}
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
    part = report["participation"]
    fuzzy = part["fuzzy_pairs"]
    return {
        "design": [t["design_text"]] + ([t["design_retro"]] if data["retrospective"] else []),
        "instruments": instruments,
        "thresholds": t["thresholds_text"].format(**limits),
        "pairing": [t["pairing_text"]] + ([t["pairing_fuzzy"].format(n=n.count(fuzzy))] if fuzzy else []),
        "statistics": [t["statistics_text"], G_AV_NOTE[lang], t["rci_text"]],
        "withdrawn": _withdrawn(part["withdrawn"], n, t),
    }


def _withdrawn(count: int, n: Numbers, t: dict) -> str:
    """The method appendix's line on residents who withdrew and were erased; empty when nobody did."""
    if count <= 0:
        return ""
    return t["withdrawn_one"] if count == 1 else t["withdrawn_text"].format(n=n.count(count))


def render(data: dict, *, code: str, issued_at: datetime, verify_url: str, sections: list[dict]) -> bytes:
    from surveyhub.rendering.verify import identifier

    ctx, images = context(data, code=code, issued_at=issued_at, verify_url=verify_url, sections=sections)
    return get_renderer().pdf(TEMPLATE, ctx, images=images, identifier=identifier(code))
