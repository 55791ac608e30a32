"""The funder's impact report from the report JSON to PDF.

Every number printed comes from the report JSON (``services.outcomes``),
formatted by ``formatting``; nothing is recomputed here. Where the JSON holds
None because a group is too small, the report says so in words and never
shows a number. The summary leads with what changed in words, then the
number, as WRITING.md asks.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import datetime

from surveyhub.documents import formatting as fmt
from surveyhub.documents import svg, texts
from surveyhub.documents.render import Images, get_renderer

log = logging.getLogger(__name__)

TEMPLATE = "report.html"
RCI_CATEGORIES = ("improved", "unchanged", "deteriorated")

G_AV_NOTE = {
    "nl": "Hedges' g_av = d_av × J, met de correctie voor kleine groepen J = 1 − 3/(4·df − 1) en "
          "df = aantal paren − 1. Onder 3 paren tonen we g_av niet.",
    "en": "Hedges' g_av = d_av × J, with the small-sample correction J = 1 − 3/(4·df − 1) and "
          "df = number of pairs − 1. Below 3 pairs g_av is not shown.",
}


# --- reading the report JSON -----------------------------------------------------------------------

def scale_blocks(report: dict) -> list[dict]:
    return list(report.get("scales") or [])


def retro_blocks(report: dict) -> list[dict]:
    retro = report.get("retrospective")
    if isinstance(retro, dict):
        retro = retro.get("scales")
    return list(retro or [])


def thresholds(report: dict) -> dict:
    found = report.get("thresholds") or {}
    return {"min_means": found.get("min_means", 5), "min_tests": found.get("min_tests", 10),
            "min_cell": found.get("min_cell", 5)}


def _start(block: dict) -> dict:
    """The block's starting point: ``pre``, or ``then`` in a retrospective block."""
    return block.get("then") or block.get("pre") or {}


def _hidden(block: dict, what: str) -> bool:
    suppressed = block.get("suppressed")
    if suppressed is True:
        return True
    return what in (suppressed or ())


def _means_hidden(block: dict) -> bool:
    return _hidden(block, "means") or _start(block).get("mean") is None or (block.get("post") or {}).get("mean") is None


# --- words ---------------------------------------------------------------------------------------

def _count_words(value, lang: str, t: dict) -> str:
    if isinstance(value, str) and value.startswith("<"):
        return t["less_than"].format(n=value[1:])
    if isinstance(value, str) and value.startswith("≥"):
        return t["at_least"].format(n=value[1:])
    return fmt.count(value, lang)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def summary_sentence(block: dict, meta: dict, lang: str, t: dict) -> list[str]:
    """What changed on one scale, in words first and then the numbers."""
    skill = meta["title"].lower() if lang == "nl" else meta["title"]
    if _means_hidden(block):
        return [t["too_few"].format(skill=skill)]
    scale_max = t["on_max"].format(max=fmt.number(meta["high"], 0 if float(meta["high"]).is_integer() else 1, lang)) \
        if meta.get("high") is not None else ""
    values = {"skill": skill, "pre": fmt.number(_start(block)["mean"], 2, lang),
              "post": fmt.number(block["post"]["mean"], 2, lang), "scale_max": scale_max}
    change = block.get("change") or {}
    ci = change.get("ci95")
    if not ci or _hidden(block, "tests"):
        return [t["unsure"].format(**values)]
    lo, hi = ci
    if meta.get("higher_is_better", True):
        key = "grew" if lo > 0 else ("declined" if hi < 0 else "unclear")
    else:
        key = "grew" if hi < 0 else ("declined" if lo > 0 else "unclear")
    sentences = [t[key].format(**values),
                 t["certainty"].format(lo=fmt.number(lo, 2, lang), hi=fmt.number(hi, 2, lang))]
    rci = block.get("rci") or {}
    if all(rci.get(c) is not None for c in RCI_CATEGORIES):
        sentences.append(_capital(t["rci_up"].format(improved=_count_words(rci["improved"], lang, t),
                                                     n=fmt.count(block["n_pairs"], lang))))
        down = rci["deteriorated"]
        sentences.append(t["rci_none_down"] if down == 0 else
                         _capital(t["rci_down"].format(deteriorated=_count_words(down, lang, t))))
    return sentences


# --- tables --------------------------------------------------------------------------------------

def scale_rows(block: dict, lang: str, t: dict, limits: dict, retrospective: bool = False) -> list[tuple[str, str]]:
    """(label, value) rows of one scale's table; hidden figures say why in words."""
    hide_means = t["hidden_means"].format(n=limits["min_means"])
    hide_tests = t["hidden_tests"].format(n=max(limits["min_tests"], limits["min_means"]))

    def shown(value: str, hidden: bool, hidden_text: str) -> str:
        return hidden_text if hidden else (value or t["not_computable"])

    means_hidden = _hidden(block, "means")
    tests_hidden = _hidden(block, "tests")
    start, post, change = _start(block), block.get("post") or {}, block.get("change") or {}
    effect, test = block.get("effect_size") or {}, block.get("test") or {}
    t_text = ""
    if test.get("t") is not None and test.get("df") is not None:
        t_text = f"t({fmt.count(test['df'], lang)}) = {fmt.number(test['t'], 2, lang)}"
    return [
        (t["n_pairs"], fmt.count(block.get("n_pairs"), lang)),
        (t["then_mean"] if retrospective else t["pre_mean"], shown(_mean_sd(start, lang), means_hidden, hide_means)),
        (t["post_mean"], shown(_mean_sd(post, lang), means_hidden, hide_means)),
        (t["change_mean"], shown(_mean_sd(change, lang), means_hidden, hide_means)),
        (t["ci"], shown(fmt.interval(change.get("ci95"), 2, lang), means_hidden, hide_means)),
        (t["d_z"], shown(fmt.number(effect.get("d_z"), 2, lang), tests_hidden, hide_tests)),
        (t["d_av"], shown(fmt.number(effect.get("d_av"), 2, lang), tests_hidden, hide_tests)),
        (t["g_av"], shown(fmt.number(effect.get("g_av"), 2, lang), tests_hidden, hide_tests)),
        (t["t_test"], shown(t_text, tests_hidden, hide_tests)),
        (t["p"], shown(fmt.p_value(test.get("p"), lang), tests_hidden, hide_tests)),
        (t["wilcoxon"], shown(fmt.p_value(test.get("wilcoxon_p"), lang), tests_hidden, hide_tests)),
    ]


def _mean_sd(part: dict, lang: str) -> str:
    if part.get("mean") is None:
        return ""
    sd = f" ({fmt.number(part['sd'], 2, lang)})" if part.get("sd") is not None else ""
    return fmt.number(part["mean"], 2, lang) + sd


def rci_rows(block: dict, lang: str, t: dict) -> tuple[list[tuple[str, str]] | None, str]:
    """The reliable-change counts, or None and the reason in words."""
    rci = block.get("rci") or {}
    if _hidden(block, "means"):
        return None, t["rci_hidden"]
    if any(rci.get(c) is None for c in RCI_CATEGORIES):
        return None, t["rci_unknown"]
    return [(t[c], fmt.count(rci[c], lang)) for c in RCI_CATEGORIES], ""


# --- charts --------------------------------------------------------------------------------------

def _alt(svg_text: str, fallback: str) -> str:
    """A chart's alt text: the words its ``<desc>`` (or ``<title>``) gives, else ``fallback``."""
    for tag in ("desc", "title"):
        match = re.search(rf"<{tag}[^>]*>(.*?)</{tag}>", svg_text, re.S)
        if match and match.group(1).strip():
            return html.unescape(match.group(1).strip())[:1000]
    return fallback


def _charts(images: Images, report: dict, blocks: list[tuple[dict, dict]], colour: str, lang: str,
            t: dict) -> list[dict]:
    """The report's charts: the shared ``documents.charts`` (as on the dashboard), else our own."""
    try:
        from surveyhub.documents import charts as shared
        drawn = shared.report_charts(report, lang)
    except (ImportError, KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        log.info("shared report charts unavailable (%s); drawing the report's own", type(exc).__name__)
        return _own_charts(images, blocks, colour, t)
    order = [("change", t["chart_alt"]), ("rci", t["rci_chart_alt"]), ("thentest", t["retro_chart_alt"]),
             ("radar", t["radar_alt"])]
    return [{"name": name, "src": images.svg(drawn[name]), "alt": _alt(drawn[name], fallback)}
            for name, fallback in order if name in drawn] + (
        [{"name": "funnel", "src": images.svg(drawn["funnel"]), "alt": _alt(drawn["funnel"], t["funnel_chart"])}]
        if "funnel" in drawn else [])


def _own_charts(images: Images, blocks: list[tuple[dict, dict]], colour: str, t: dict) -> list[dict]:
    shown = [(b, m) for b, m in blocks if not _means_hidden(b)]
    if not shown:
        return []
    low = min(m.get("low") or 1 for _, m in shown)
    high = max(m.get("high") or 5 for _, m in shown)
    means = [{"title": m["title"], "pre": _start(b)["mean"], "post": b["post"]["mean"]} for b, m in shown]
    changes = [{"title": m["title"], "mean": b["change"]["mean"],
                "lo": (b["change"].get("ci95") or [None, None])[0], "hi": (b["change"].get("ci95") or [None, None])[1]}
               for b, m in shown if b.get("change", {}).get("mean") is not None]
    drawn = [{"name": "change", "alt": t["chart_alt"], "src": images.svg(svg.means_chart(
        means, colour, low, high, (t["pre_mean"].split(" (")[0], t["post_mean"].split(" (")[0])))}]
    if changes:
        drawn.append({"name": "ci", "alt": t["change_chart_alt"], "src": images.svg(svg.change_chart(changes, colour))})
    return drawn


def _participation(images: Images, report: dict, colour: str, lang: str, t: dict, funnel: dict | None) -> dict:
    part = report.get("participation") or {}
    steps = [("invited", t["invited"]), ("pre", t["pre_done"]), ("post", t["post_done"]), ("paired", t["paired"])]
    rows = [(label, fmt.count(part.get(key), lang)) for key, label in steps if part.get(key) is not None]
    rate = part.get("match_rate")
    if rate is not None:
        rows.append((t["match_rate"], fmt.percent(rate, lang)))
    chart_steps = [(label, part.get(key), fmt.count(part.get(key), lang)) for key, label in steps
                   if part.get(key) is not None]
    if funnel is not None:
        chart, alt = funnel["src"], funnel["alt"]
    else:
        chart = images.svg(svg.funnel(chart_steps, colour)) if chart_steps else None
        alt = t["funnel_alt"].format(**{k: fmt.count(part.get(k), lang) for k in ("invited", "pre", "post", "paired")})
    return {"rows": rows, "note": t["match_rate_note"], "chart": chart, "chart_alt": alt}


# --- assembling ----------------------------------------------------------------------------------

def _scale_sections(blocks: list[dict], metas: dict, lang: str, t: dict, limits: dict, retro: bool) -> list[dict]:
    sections = []
    for block in blocks:
        meta = metas.get((block.get("instrument"), block.get("scale"))) or _fallback_meta(block)
        sections.append({"title": meta["title"], "instrument": meta.get("instrument_title", ""),
                         "anchor": f"{'retro' if retro else 'scale'}-{block.get('instrument')}-{block.get('scale')}",
                         "words": summary_sentence(block, meta, lang, t),
                         "rows": scale_rows(block, lang, t, limits, retrospective=retro),
                         "rci": rci_rows(block, lang, t)[0], "rci_reason": rci_rows(block, lang, t)[1]})
    return sections


def _fallback_meta(block: dict) -> dict:
    return {"title": str(block.get("scale") or block.get("instrument") or "?"), "low": 1, "high": 5,
            "higher_is_better": True}


def context(data: dict, *, code: str, issued_at: datetime, verify_url: str,
            sections: list[dict]) -> tuple[dict, Images]:
    """The template context and images of one report. ``data``: see services.document_context.report_data."""
    lang = texts.language(data["lang"])
    t = texts.REPORT[lang]
    images = Images()
    report, metas, org = data["report"], data["scales"], data["organisation"]
    colour = svg.safe_colour(org.get("brand_colour"))
    limits = thresholds(report)
    blocks = scale_blocks(report)
    retro = retro_blocks(report)
    summary = []
    paired = (report.get("participation") or {}).get("paired")
    if paired is not None:
        summary.append(t["paired_line"].format(paired=fmt.count(paired, lang)))
    for block in blocks:
        meta = metas.get((block.get("instrument"), block.get("scale"))) or _fallback_meta(block)
        summary.append(" ".join(summary_sentence(block, meta, lang, t)))
    for block in retro:
        meta = metas.get((block.get("instrument"), block.get("scale"))) or _fallback_meta(block)
        sentence = " ".join(summary_sentence(block, meta, lang, t))
        summary.append(t["retro_line"].format(sentence=sentence[:1].lower() + sentence[1:]))
    issued_on = fmt.long_date(issued_at, lang)
    pairs = [(b, metas.get((b.get("instrument"), b.get("scale"))) or _fallback_meta(b)) for b in blocks]
    charts = _charts(images, report, pairs, colour, lang, t)
    funnel = next((c for c in charts if c["name"] == "funnel"), None)
    return {
        "lang": lang, "t": t, "brand": colour, "created": fmt.iso_utc(issued_at),
        "doc_title": f"{t['title']} — {data['project']['name']}",
        "organisation": {"name": org["name"], "logo": images.logo(org.get("logo"), org.get("logo_type"))},
        "project": data["project"], "issued_on": issued_on, "code": code, "verify_url": verify_url,
        "qr": images.qr(verify_url), "summary": summary,
        "participation": _participation(images, report, colour, lang, t, funnel),
        "charts": [c for c in charts if c["name"] in ("change", "ci", "radar")],
        "rci_chart": next((c for c in charts if c["name"] == "rci"), None),
        "retro_chart": next((c for c in charts if c["name"] == "thentest"), None),
        "scales": _scale_sections(blocks, metas, lang, t, limits, retro=False),
        "retro": _scale_sections(retro, metas, lang, t, limits, retro=True),
        "quotes": quotes(report), "sections": sections, "min_cell": limits["min_cell"],
        "method": _method(data, report, limits, lang, t),
    }, images


MAX_QUOTES = 12
MAX_QUOTE_CHARS = 400


def quotes(report: dict) -> list[str]:
    """The quotes residents agreed to share, as the report JSON lists them (capped for print)."""
    texts_ = [q.get("text") if isinstance(q, dict) else q for q in report.get("quotes") or []]
    shown = []
    for text in texts_:
        text = " ".join(str(text or "").split())
        if text and text not in shown:
            shown.append(text if len(text) <= MAX_QUOTE_CHARS else text[: MAX_QUOTE_CHARS - 1] + "…")
    return shown[:MAX_QUOTES]


def _method(data: dict, report: dict, limits: dict, lang: str, t: dict) -> dict:
    alphas = data.get("alphas") or {}
    instruments = []
    for instrument in data.get("instruments") or []:
        scales = []
        for scale in instrument["scales"]:
            alpha = alphas.get((instrument["id"], scale["id"])) or {}
            scales.append({
                "title": scale["title"], "questions": scale["items"],
                "alpha": t["alpha"].format(pre=fmt.number(alpha.get("pre"), 2, lang) or t["alpha_unknown"],
                                           post=fmt.number(alpha.get("post"), 2, lang) or t["alpha_unknown"]),
                "norms": t["norms"].format(sd=fmt.number(scale["norms"].get("sd"), 2, lang),
                                           r=fmt.number(scale["norms"].get("reliability"), 2, lang))
                if scale.get("norms", {}).get("sd") is not None and scale["norms"].get("reliability") is not None else "",
            })
        instruments.append({"title": instrument["title"], "id": instrument["id"],
                            "version": t["version"].format(version=instrument["version"]), "scales": scales})
    part = report.get("participation") or {}
    fuzzy = part.get("fuzzy_pairs", part.get("fuzzy")) or 0
    return {
        "design": [t["design_text"]] + ([t["design_retro"]] if data.get("retrospective") else []),
        "instruments": instruments,
        "thresholds": t["thresholds_text"].format(**limits),
        "pairing": [t["pairing_text"]] + ([t["pairing_fuzzy"].format(n=fmt.count(fuzzy, lang))] if fuzzy else []),
        "statistics": [t["statistics_text"], G_AV_NOTE[lang], t["rci_text"]],
        "withdrawn": _withdrawn(part.get("withdrawn"), lang, t),
    }


def _withdrawn(count, lang: str, t: dict) -> str:
    """The method appendix's line on residents who withdrew and were erased; empty when nobody did."""
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        return ""
    return t["withdrawn_one"] if count == 1 else t["withdrawn_text"].format(n=fmt.count(count, lang))


def render(data: dict, *, code: str, issued_at: datetime, verify_url: str, sections: list[dict]) -> bytes:
    from surveyhub.documents.verify import identifier

    ctx, images = context(data, code=code, issued_at=issued_at, verify_url=verify_url, sections=sections)
    return get_renderer().pdf(TEMPLATE, ctx, images=images, identifier=identifier(code))
