"""A resident's certificate (or proof of participation) from plain data to PDF.

The certificate celebrates: skills the resident grew in show where they
started and where they stand now; every other skill is named under "Hier
blijf je sterk in" without any level, so a decline is never shown, not even
by comparing two words.
"""

from __future__ import annotations

from datetime import datetime

from surveyhub.rendering import formatting, svg, texts
from surveyhub.rendering.render import Images, get_renderer, org_text

TEMPLATE = "certificate.html"


def split_scales(scales: list[dict]) -> tuple[list[dict], list[dict]]:
    """``(grown, strong)``: skills the resident grew in, and the rest (shown without levels)."""
    grown = [s for s in scales if s.get("grew") and s.get("start") is not None]
    strong = [s for s in scales if s not in grown]
    return grown, strong


def _fraction(value: float, low: float, high: float) -> float:
    return (value - low) / ((high - low) or 1.0)


def _growth(scale: dict) -> float:
    """Growth as a share of the scale's range, in the scale's good direction."""
    change = (_fraction(scale["now"], scale["low"], scale["high"])
              - _fraction(scale["start"], scale["low"], scale["high"]))
    return change if scale.get("higher_is_better", True) else -change


def personal_line(data: dict, grown: list[dict], t: dict) -> str:
    typed = " ".join((data.get("personal_line") or "").split())[:300]
    if typed:
        return typed
    if data["kind"] != "certificate":
        return ""
    if not grown:
        return t["no_growth"]
    return t["top_growth"].format(skill=max(grown, key=_growth)["title"])


def _chart(images: Images, grown: list[dict], colour: str, t: dict) -> str | None:
    """One small SVG chart of the skills the resident grew in."""
    if not grown:
        return None
    rows = []
    for scale in grown:
        start, now = (_fraction(scale[k], scale["low"], scale["high"]) for k in ("start", "now"))
        if not scale.get("higher_is_better", True):  # draw "better" to the right
            start, now = 1 - start, 1 - now
        rows.append({"title": scale["title"], "start": start, "now": now})
    return images.svg(svg.growth_chart(rows, colour, (t["col_start"], t["col_now"])))


def _growth_line(scale: dict, t: dict) -> str:
    """``van Op weg naar Goed bezig``; a resident who grew within one level is told so."""
    start, now = scale.get("level_start"), scale.get("level_now")
    if not start or not now:
        return t["grown"]
    if start == now:
        return t["grew_within"].format(now=now)
    return t["from_to"].format(start=start, now=now)


def context(data: dict, *, code: str, issued_at: datetime, verify_url: str,
            sections: list[dict]) -> tuple[dict, Images]:
    """The template context and images of one certificate."""
    lang = texts.language(data["lang"])
    t = texts.CERTIFICATE[lang]
    images = Images()
    org, project, name = data["organisation"], data["project"], data["participant"]["display_name"]
    colour = svg.safe_colour(org.get("brand_colour"))
    grown, strong = split_scales(data["scales"]) if data["kind"] == "certificate" else ([], [])
    issued_on = formatting.long_date(issued_at, lang)
    closing = org_text(org.get("closing_text"), {
        "naam": name, "name": name, "project": project["name"], "organisatie": org["name"],
        "organisation": org["name"], "datum": issued_on, "date": issued_on})
    kind_title = t["certificate"] if data["kind"] == "certificate" else t["participation"]
    return {
        "lang": lang, "kind": data["kind"], "t": t, "brand": colour,
        "doc_title": f"{kind_title} {t['for']} {name} — {project['name']}",
        "created": formatting.iso_utc(issued_at),
        "organisation": {"name": org["name"], "logo": images.logo(org.get("logo"), org.get("logo_type"))},
        "participant": {"display_name": name}, "project": {"name": project["name"]},
        "grown": [{"title": s["title"], "line": _growth_line(s, t)} for s in grown], "strong": strong,
        "strong_words": texts.join_words([s["title"] for s in strong], lang),
        "skills": [s["title"] for s in data["scales"]],
        "chart": _chart(images, grown, colour, t),
        "chart_alt": t["chart_alt"].format(skills=texts.join_words([s["title"] for s in grown], lang)),
        "personal_line": personal_line(data, grown, t), "sections": sections, "closing_text": closing,
        "issued_on": issued_on, "issuer_name": data.get("issuer_name"),
        "qr": images.qr(verify_url), "verify_url": verify_url, "code": code,
    }, images


def render(data: dict, *, code: str, issued_at: datetime, verify_url: str, sections: list[dict]) -> bytes:
    from surveyhub.rendering.verify import identifier

    ctx, images = context(data, code=code, issued_at=issued_at, verify_url=verify_url, sections=sections)
    return get_renderer().pdf(TEMPLATE, ctx, images=images, identifier=identifier(code), brand=ctx["brand"])
