"""The funder's impact report from the report JSON to PDF, built like an annual impact report.

Front to back: a cover with the headline figures, what the project did beside
the results in brief, all skills at a glance (one chart for 1 to 10 skills),
one short paragraph per skill, self-perceived change (the look-back) and the
follow-up in their own sections, what residents said, what the figures cannot
tell, the worker's recommendations, and the method appendix with the technical
tables at the back.

Every number printed comes from the report JSON (``services.outcomes``, typed
in ``services.report_contract``), formatted by ``surveyhub.locale``; nothing is
recomputed here, and the JSON is read as the contract says it is. Where the
JSON holds None because a group is too small, the report says so in words.
The sentences live in ``report_words``, the appendix tables in
``report_appendix``, the charts in ``charts`` (the dashboard's own).
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from typing import TYPE_CHECKING

from surveyhub.locale import iso_utc, translate
from surveyhub.rendering import charts, report_appendix, report_exploratory, report_words, svg, texts
from surveyhub.rendering.formatting import numbers
from surveyhub.rendering.render import Images, get_renderer
from surveyhub.rendering.report_words import summary_sentence, verdict  # noqa: F401 (the dashboard's rule)

if TYPE_CHECKING:  # the contract lives with the service that makes the report
    from surveyhub.services.report_contract import Report, ScaleEntry

TEMPLATE = "report.html"
MAX_QUOTES = 12
MAX_QUOTE_CHARS = 400
MAX_OUTPUTS = 12
#: Photos beside the outputs on page 2 (the first one with a photo is also on the cover).
MAX_PHOTOS = 2


# --- charts ----------------------------------------------------------------------------------------

def _alt(svg_text: str, fallback: str) -> str:
    """A chart's alt text: the words its ``<desc>`` (or ``<title>``) gives, else ``fallback``."""
    for tag in ("desc", "title"):
        match = re.search(rf"<{tag}[^>]*>(.*?)</{tag}>", svg_text, re.S)
        if match and match.group(1).strip():
            return html.unescape(match.group(1).strip())[:1000]
    return fallback


def _charts(images: Images, report: Report, lang: str, t: dict) -> dict[str, dict]:
    """The report's charts by name, drawn by ``rendering.charts`` exactly as the dashboard draws them."""
    drawn = charts.report_charts(report, lang)
    fallback = {"funnel": t["funnel_chart"], "change": t["chart_alt"], "rci": t["rci_chart_alt"],
                "thentest": t["retro_chart_alt"]}
    return {name: {"name": name, "src": images.svg(chart), "alt": _alt(chart, fallback[name])}
            for name, chart in drawn.items() if name in fallback}


# --- the cover -------------------------------------------------------------------------------------

def _day(value: str | None, lang: str) -> str:
    return numbers(lang).date(date.fromisoformat(value)) if value else ""


def period_text(period, lang: str, t: dict) -> str:
    """"1 maart 2026 tot 31 oktober 2026", or one end only, or nothing."""
    start, end = _day(period["start"], lang), _day(period["end"], lang)
    if start and end:
        return t["period_both"].format(start=start, end=end)
    if start:
        return t["period_from"].format(start=start)
    return t["period_until"].format(end=end) if end else ""


def strongest(report: Report) -> ScaleEntry | None:
    """The skill with the largest share who clearly improved (the primary outcome first, when it has one)."""
    shown = [e for e in report["scales"] if report_words.improved_share(e) is not None]
    primary = report["project"]["primary_scale"]
    for entry in shown:
        if f"{entry['instrument']}/{entry['scale']}" == primary:
            return entry
    return max(shown, key=lambda e: report_words.improved_share(e) or 0.0, default=None)


def headline(report: Report, lang: str, t: dict) -> list[dict]:
    """Three to five figures in large type: reached, took part at start and end, who clearly improved."""
    n = numbers(lang)
    part, design = report["participation"], report["design"]
    figures = [{"value": n.count(part["invited"]), "label": t["fig_invited"], "note": ""}]
    if design["pretest"]:
        figures.append({"value": n.count(part["pre"]), "label": t["fig_pre"], "note": ""})
    figures.append({"value": n.count(part["post"]), "label": t["fig_post"], "note": ""})
    if design["followup"]:
        figures.append({"value": n.count(part["followup"]), "label": t["fig_followup"], "note": ""})
    best = strongest(report)
    if best is not None:
        ci = report_words.improved_interval(best)
        figures.append({"value": n.percent(report_words.improved_share(best)),
                        "label": t["fig_improved"].format(skill=report_words.skill_name(best, lang)),
                        "note": t["fig_improved_note"].format(lo=n.percent(ci[0]), hi=n.percent(ci[1]),
                                                              n=n.count(best["n_pairs"])) if ci else ""})
    return figures


def _cover(data: dict, report: Report, images: Images, photos: list[dict], lang: str, t: dict) -> dict:
    project = report["project"]
    quoted = quotes(report)
    return {"period": period_text(project["period"], lang, t),
            "funder": t["funder"].format(funder=project["funder"]) if project["funder"] else "",
            "description": data["project"]["description"] or "",
            "figures": headline(report, lang, t),
            "quote": quoted[0] if quoted else "",
            "photo": photos[0] if photos else None}


# --- page 2: what the project did ------------------------------------------------------------------

def _photos(data: dict, report: Report, images: Images, t: dict) -> dict[int, dict]:
    """Output id -> the embedded photo, for the outputs that have one (``project_story.output_photos``)."""
    found: dict[int, dict] = {}
    for output in report["project"]["outputs"]:
        photo = data["photos"].get(output["id"]) if output["photo"] else None
        if photo is not None and len(found) < MAX_PHOTOS + 1:
            found[output["id"]] = {"src": images.add(photo[0], photo[1]),
                                   "alt": t["photo_alt"].format(description=output["description"]),
                                   "caption": output["description"]}
    return found


def _story(report: Report, photos: dict[int, dict], lang: str, t: dict) -> dict:
    n = numbers(lang)
    project = report["project"]
    outputs = [{"date": _day(o["date"], lang), "description": o["description"]}
               for o in project["outputs"][:MAX_OUTPUTS]]
    facts = []
    if project["meetings_held"] is not None:
        facts.append(t["meetings"].format(n=n.count(project["meetings_held"])))
    if project["volunteer_hours"] is not None:
        facts.append(t["volunteer_hours"].format(n=n.count(project["volunteer_hours"])))
    part = report["participation"]
    if report["design"]["pretest"]:
        lead = t["brief_pairs"].format(paired=n.count(part["paired"]))
        brief = [report_words.brief_line(e, lang, t) for e in report["scales"]]
    else:
        lead = t["brief_retro_only"].format(post=n.count(part["post"]))
        brief = [report_words.retro_line(e, lang, t) for e in report["retrospective"]]
    return {"outputs": outputs, "facts": facts, "photos": list(photos.values())[1:MAX_PHOTOS + 1],
            "brief_lead": lead, "brief": brief}


# --- the body --------------------------------------------------------------------------------------

def score_explained(report: Report, lang: str, t: dict) -> str:
    ranges = {tuple(e["range"]) if e["range"] else None for e in report["scales"] + report["retrospective"]}
    if len(ranges) == 1 and None not in ranges:
        lo, hi = next(iter(ranges))  # type: ignore[misc]
        n = numbers(lang)
        return t["score_explained"].format(lo=n.number(lo, 0), hi=n.number(hi, 0))
    return t["score_explained_mixed"]


def _skills(report: Report, lang: str, t: dict) -> list[dict]:
    limits = report["thresholds"]
    return [{"title": translate(e["title"], lang), "anchor": f"scale-{e['instrument']}-{e['scale']}",
             "primary": e["primary"], "words": " ".join(report_words.skill_details(e, lang, t, limits)),
             "reference": report_exploratory.reference_line(e, lang)}
            for e in report["scales"]]


def _any_rci(report: Report) -> bool:
    """Whether any skill has reliable-change counts to draw (none without a known reliability)."""
    return any(entry["rci"][kind] is not None for entry in report["scales"]
               for kind in ("improved", "unchanged", "deteriorated"))


def quotes(report: Report) -> list[str]:
    """The quotes residents agreed to share, as the report JSON lists them (capped for print)."""
    shown: list[str] = []
    for quote in report["quotes"]:
        text = " ".join(quote["text"].split())
        if text and text not in shown:
            shown.append(text if len(text) <= MAX_QUOTE_CHARS else text[: MAX_QUOTE_CHARS - 1] + "…")
    return shown[:MAX_QUOTES]


def _paragraphs(text: str | None) -> list[str]:
    """The worker's text as paragraphs: a blank line or a line break starts a new one."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def context(data: dict, *, code: str, issued_at: datetime, verify_url: str,
            sections: list[dict]) -> tuple[dict, Images]:
    """The template context and images of one report. ``data``: see services.document_context.report_data."""
    lang = texts.language(data["lang"])
    t = texts.REPORT[lang]
    n = numbers(lang)
    images = Images()
    report: Report = data["report"]
    org = data["organisation"]
    drawn = _charts(images, report, lang, t)
    photos = _photos(data, report, images, t)
    design = report["design"]
    return {
        "lang": lang, "t": t, "brand": svg.safe_colour(org.get("brand_colour")), "created": iso_utc(issued_at),
        "doc_title": f"{t['title']} — {data['project']['name']}",
        "organisation": {"name": org["name"], "logo": images.logo(org.get("logo"), org.get("logo_type"))},
        "project": data["project"], "issued_on": n.date(issued_at), "code": code, "verify_url": verify_url,
        "qr": images.qr(verify_url),
        "cover": _cover(data, report, images, list(photos.values()), lang, t),
        "story": _story(report, photos, lang, t),
        "measured": design["pretest"],
        "score_explained": score_explained(report, lang, t),
        "change_chart": drawn["change"] if design["pretest"] else None,
        "rci_chart": drawn["rci"] if design["pretest"] and _any_rci(report) else None,
        "skills": _skills(report, lang, t) if design["pretest"] else [],
        "skills_lead": report_words.common_lead(report["scales"], lang, t) if design["pretest"] else [],
        "retro_chart": drawn.get("thentest"),  # drawn only when the then-test was used
        "retro": [report_words.retro_line(e, lang, t) for e in report["retrospective"]],
        "followup": [report_words.followup_line(e, lang, t) for e in report["followup"]],
        "persistence": [report_words.persistence_line(e, lang, t) for e in report["persistence"]],
        "quotes": quotes(report), "limitations": report_words.limitations(report, lang, t),
        "recommendations": _paragraphs(report["project"]["recommendations"]),
        "sections": sections, "min_cell": report["thresholds"]["min_cell"],
        "method": report_appendix.method(data, report, drawn["funnel"], lang, t),
        "activity": report_exploratory.context(report, lang),
    }, images


def render(data: dict, *, code: str, issued_at: datetime, verify_url: str, sections: list[dict]) -> bytes:
    from surveyhub.rendering.verify import identifier

    ctx, images = context(data, code=code, issued_at=issued_at, verify_url=verify_url, sections=sections)
    return get_renderer().pdf(TEMPLATE, ctx, images=images, identifier=identifier(code))
