"""Paper: a printable questionnaire of one wave, and a sheet of residents' personal links.

The questionnaire follows the same pages and the same order as the screens a
worker types paper answers into (``services.questionnaire.build_pages``), so
entering a filled-in form is a matter of going page by page. Statements that
share an answer scale are printed as a grid (``paper_parts``), and the consent
is the start page's own wording (``services.consent``) with a signature line.

The link sheet has a card per resident with a QR code, the short link to type
(``/k/K7P2-9XMC``, ``services.short_codes``), the full link, and whom to ask;
it holds secrets, so it is only for workers.
"""

from __future__ import annotations

import re
from datetime import datetime

from surveyhub.rendering import formatting, svg, texts
from surveyhub.rendering.render import Images, get_renderer
from surveyhub.rendering.verify import identifier


def questionnaire_context(data: dict, *, code: str, issued_at: datetime) -> tuple[dict, Images]:
    lang = texts.language(data["lang"])
    t = texts.PAPER[lang]
    images = Images()
    org = data["organisation"]
    wave = t["waves"].get(data["wave"], data["wave"])
    return {
        "lang": lang, "t": t, "brand": svg.safe_colour(org.get("brand_colour")),
        "doc_title": f"{t['title']} {wave} — {data['project']['name']}",
        "created": formatting.iso_utc(issued_at), "wave": wave,
        "organisation": {"name": org["name"], "logo": images.logo(org.get("logo"), org.get("logo_type"))},
        "project": data["project"], "code": code,
        "parts": paper_parts(data["pages"]),
        "resident_code": data.get("resident_code"), "consent": data["consent"],
        "page_label": t["page_of"].split("{page}")[0].strip(),
    }, images


#: Choice questions with at most this many answers share a grid: one column per answer, labels once on top.
GRID_MAX_OPTIONS = 7


def paper_parts(pages: list[dict]) -> list[dict]:
    """The questionnaire's pages as printed parts: grids, and questions that stand alone.

    Consecutive choice questions with the same answers (2 to ``GRID_MAX_OPTIONS`` of them) form one
    grid: statements as rows, the answers as columns labelled once in the header, which is repeated
    only where a grid runs onto a new sheet. A grid runs on across pages (the page's title becomes a
    row of it) while the answers stay the same, so five competences on one scale make one grid, not
    five. Any other question (text, number, yes/no, a long scale) stands alone. Questions keep their
    number within their page, and pages their number, as on the paper-entry screens.
    """
    parts: list[dict] = []
    for index, page in enumerate(pages, start=1):
        heading: dict | None = {"kind": "heading", "number": index, "title": page["title"], "then": page["then"],
                                "lead_in": page["lead_in"]}
        for number, question in enumerate(page["questions"], start=1):
            question = {**question, "number": number}
            options = question.get("options") or []
            if question["kind"] == "choice" and 2 <= len(options) <= GRID_MAX_OPTIONS:
                last = parts[-1] if parts else None
                if last is None or last["kind"] != "grid" or last["options"] != options:
                    last = {"kind": "grid", "options": options, "rows": []}
                    parts.append(last)
                if heading is not None:
                    last["rows"].append(heading)
                last["rows"].append({**question, "kind": "statement"})
            else:
                if heading is not None:
                    parts.append(heading)
                parts.append({"kind": "single", "item": question})
            heading = None
        if heading is not None:  # a page without questions still shows its title
            parts.append(heading)
    return parts


def sheet_context(data: dict, *, code: str, issued_at: datetime) -> tuple[dict, Images]:
    lang = texts.language(data["lang"])
    t = texts.SHEET[lang]
    images = Images()
    org = data["organisation"]
    residents = [_card(resident, images, t) for resident in data["residents"]]
    return {
        "lang": lang, "t": t, "brand": svg.safe_colour(org.get("brand_colour")),
        "doc_title": f"{t['title']} — {data['project']['name']}",
        "created": formatting.iso_utc(issued_at),
        "organisation": {"name": org["name"]}, "project": data["project"], "residents": residents, "code": code,
        "what": t["what"].format(project=data["project"]["name"]),
        "ask": _whom_to_ask(t, org["name"], data.get("worker"), org.get("contact")),
        "page_label": t["page_of"].split("{page}")[0].strip(),
    }, images


def _card(resident: dict, images: Images, t: dict) -> dict:
    """One resident's card: QR code of the full link, the full link in pieces, and the short link to type."""
    address, secret = _link_parts(resident["link"], "/q/")
    return {**resident, "qr": images.qr(resident["link"]), "qr_alt": t["qr_alt"].format(name=resident["name"]),
            "link_pieces": _pieces(address), "link_secret": secret,
            "short": _short_link(resident["short_link"]) if resident.get("short_link") else None}


def _whom_to_ask(t: dict, organisation: str, worker: str | None, contact: str | None) -> str:
    """"Questions? Ask …": the worker who printed the cards and the organisation's contact, when known."""
    worker, contact = " ".join((worker or "").split()), " ".join((contact or "").split())
    key = "ask" + ("_worker" if worker else "") + ("_contact" if contact else "")
    return t[key].format(worker=worker, organisation=organisation, contact=contact)


#: The short link's site address fills the card's width (points) on one line, in type between these sizes.
CARD_WIDTH_PT = 229
ADDRESS_PT = (7.0, 12.0)
#: Width of an average character of the bold sans serif, in em (generous, so a fitted line never overflows).
CHAR_EM = 0.68


def _short_link(link: str) -> dict:
    """The short link as a resident types it, laid out to be typed without doubt.

    ``https://`` is left out (browsers add it). The site address gets one line
    of its own, in type small enough to fit the card (``ADDRESS_PT``), so it is
    never broken at one of its own hyphens, where a reader cannot tell whether
    to type the hyphen; only an address too long even for the smallest size
    wraps, after a dot or slash. ``/k/`` and the code follow on their own line, large.
    """
    address, _, code = link.removeprefix("https://").rpartition("/k/")
    smallest, largest = ADDRESS_PT
    size = max(smallest, min(largest, CARD_WIDTH_PT / (max(len(address), 1) * CHAR_EM)))
    return {"address": _pieces(address), "size": f"{size:.1f}", "code": f"/k/{code}"}


def _pieces(address: str) -> list[str]:
    """A site address cut after each dot and slash: the only places a printed address may wrap."""
    return [piece for piece in re.split(r"(?<=[./])", address) if piece]


def _link_parts(link: str, route: str) -> tuple[str, str]:
    """The link as (site address, route and secret): a printed link may wrap in the address but never
    inside its last part, so a resident typing it over never meets a token or code broken across two lines."""
    start, _, secret = link.rpartition(route)
    return (start, route + secret) if start else ("", link)


def render_questionnaire(data: dict, *, code: str, issued_at: datetime) -> bytes:
    ctx, images = questionnaire_context(data, code=code, issued_at=issued_at)
    return get_renderer().pdf("questionnaire.html", ctx, images=images, identifier=identifier(code))


def render_sheet(data: dict, *, code: str, issued_at: datetime) -> bytes:
    ctx, images = sheet_context(data, code=code, issued_at=issued_at)
    return get_renderer().pdf("sheet.html", ctx, images=images, identifier=identifier(code))
