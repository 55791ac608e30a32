"""A resident's certificate (or certificate of participation) from plain data to PDF: a page to frame.

What the page says is chosen here, from plain values (``services.document_context``):

- what the resident can do now: two or three sentences from the *items* where
  they grew or where their answer now is on the good side ("Fatima kan nu een
  buurtactiviteit plannen"), in each item's ``can_do`` wording from the
  instrument; a scale without item wording falls back to its own ``can_do``;
- what they did: the role the worker wrote down and what the project achieved;
- never a decline, never "still", never a level word: a skill that went down or
  an item answered low is simply not mentioned. A resident with nothing to
  name gets a certificate of participation that honours taking part.

``render_book`` draws many certificates as one printable PDF, page for page
the same as each resident's own certificate (same code, same date).
"""

from __future__ import annotations

from datetime import datetime

from surveyhub.locale import direction
from surveyhub.rendering import formatting, svg, texts
from surveyhub.rendering.render import Images, get_renderer, org_text

TEMPLATE = "certificate.html"
#: An item's answer (as a share of its range, 1.0 = best) that says "I can do this": "agree" on 1–5.
CAN_DO_SHARE = 0.75
#: A rise of at least this share of the item's range counts as growth on that item (one step on 1–5).
ITEM_GROWTH_SHARE = 0.25
#: Sentences of what the resident can do now.
MAX_CAN_DO = 3
#: At most this many sentences from one skill, so that the sentences cover more than one.
PER_SCALE = 2
#: A name longer than this is printed smaller, so that two lines of it still leave room for the words.
LONG_NAME = 24


def _grew(item: dict) -> bool:
    return item.get("start") is not None and item["now"] - item["start"] >= ITEM_GROWTH_SHARE - 1e-9


def _candidates(scale: dict, index: int) -> list[dict]:
    """The scale's can-do phrases a resident may be credited with, best first."""
    found = []
    for position, item in enumerate(scale.get("items") or ()):
        if item.get("now") is None or item["now"] < CAN_DO_SHARE - 1e-9 or not item.get("can_do"):
            continue
        grew = _grew(item)
        gain = item["now"] - item["start"] if grew else 0.0
        found.append({"skill": item["can_do"], "grew": grew, "rank": (not grew, -gain, -item["now"], index, position)})
    if not scale.get("items") and scale.get("can_do") and _scale_qualifies(scale):
        found.append({"skill": scale["can_do"], "grew": bool(scale.get("grew")),
                      "rank": (not scale.get("grew"), 0.0, 0.0, index, 0)})
    return sorted(found, key=lambda c: c["rank"])[:PER_SCALE]


def _share(value: float, scale: dict) -> float:
    share = (value - scale["low"]) / ((scale["high"] - scale["low"]) or 1.0)
    return share if scale.get("higher_is_better", True) else 1 - share


def _scale_qualifies(scale: dict) -> bool:
    """A scale without item wording: its own can-do line where its score now says "agree", as for an item."""
    return scale.get("now") is not None and _share(scale["now"], scale) >= CAN_DO_SHARE - 1e-9


def can_do(scales: list[dict], name: str, t: dict) -> list[str]:
    """Up to ``MAX_CAN_DO`` sentences: grown items first (most growth first), then items answered well."""
    chosen = sorted((c for index, scale in enumerate(scales) for c in _candidates(scale, index)),
                    key=lambda c: c["rank"])[:MAX_CAN_DO]
    keys = ("can_first", "can_second", "can_third")
    return [t[key + ("_grew" if c["grew"] else "")].format(name=name, skill=c["skill"])
            for key, c in zip(keys, chosen)]


def personal_line(data: dict, grown: list[dict], t: dict) -> str:
    typed = " ".join((data.get("personal_line") or "").split())[:300]
    if typed:
        return typed
    if data["kind"] != "certificate":
        return ""
    if not grown:
        return t["thanks"]
    return t["top_growth"].format(skill=max(grown, key=_growth)["title"])


def _growth(scale: dict) -> float:
    return _share(scale["now"], scale) - _share(scale["start"], scale)


def short_name(name: str) -> str:
    """The first name for the sentences ("Fatima kan nu ..."), the full name printed large above them.

    Only a first word that looks like a first name (letters, at least two, no
    initial or title such as "J." or "Mw.") is used; otherwise the whole name.
    """
    words = name.split()
    first = words[0] if len(words) > 1 else ""
    plain = first.replace("-", "").replace("'", "")
    return first if len(plain) >= 2 and plain.isalpha() and first[0].isupper() else name


def _did(data: dict, name: str, t: dict, lang: str) -> dict:
    """What the resident did: the worker's words for their role, and what the project achieved together."""
    role = data["participant"].get("role")
    # The worker's words keep their own direction inside an Arabic certificate (<bdi> in the template).
    outputs = [{"text": o["description"], "date": formatting.long_date(o["date"], lang)}
               for o in data.get("outputs") or ()]
    return {"heading": t["did_heading"].format(name=name), "role": role[:1].upper() + role[1:] if role else None,
            "activities": activity_lines(data.get("activities") or {}, name, t, lang),
            "together": outputs, "together_heading": t["together_heading"]}


def activity_lines(did: dict, name: str, t: dict, lang: str) -> list[str]:
    """What the resident did in numbers that celebrate: "Fatima took part in 8 activities (24 hours) and
    organised 3 of them." Nothing recorded says nothing, and neither does a zero (no hours, never chaired)."""
    count, organised, chaired = did.get("count") or 0, did.get("organised") or 0, did.get("chaired") or 0
    if count <= 0:
        return []
    hours = float(did.get("hours") or 0)
    shown = formatting.number(hours, 0 if hours.is_integer() else (1 if round(hours * 10, 6).is_integer() else 2),
                              lang)
    spent = f" ({t['hour' if hours == 1 else 'hours'].format(hours=shown)})" if hours > 0 else ""
    if count == 1:
        lines = [t["organised_the_one" if organised else "did_one"].format(name=name, hours=spent)]
    else:
        key = "did_many_organised" if organised else "did_many"
        lines = [t[key].format(name=name, count=count, hours=spent, organised=organised)]
    if chaired:
        lines.append(t["chaired_one" if chaired == 1 else "chaired_many"].format(name=name, chaired=chaired))
    return lines


def _period(project: dict, t: dict, lang: str) -> str:
    period = project.get("period") or {}
    if not (period.get("start") and period.get("end")):
        return ""
    return t["period"].format(start=formatting.long_date(period["start"], lang),
                              end=formatting.long_date(period["end"], lang))


def _words(data: dict, name: str, t: dict, lang: str) -> dict:
    """The middle of the page: what the resident can do now, or what taking part meant."""
    scales = data["scales"] if data["kind"] == "certificate" else []
    grown = [s for s in scales if s.get("grew") and s.get("start") is not None]
    grown_words = texts.join_words([s["title"] for s in grown], lang)
    sentences = can_do(scales, name, t)
    named = not sentences  # no can-do wording in the instrument (a plugin's): name the skills instead
    if grown and named:
        sentences = [t["grew_sentence"].format(name=name, skills=grown_words)]
    if data["kind"] == "certificate":
        answered = [] if sentences else [t["answered_both"].format(name=name)]
    else:
        skills = texts.join_words([s["title"] for s in data["scales"]], lang)
        answered = [t["answered_start"].format(name=name)] + (
            [t["works_on"].format(name=name, skills=skills)] if skills else []) + [
            t["participation_next"].format(name=name)]
    return {"title": t["certificate"] if data["kind"] == "certificate" and sentences else t["participation"],
            "can_heading": t["can_heading"].format(name=name), "can_do": sentences, "answered": answered,
            "grew_in": t["grew_in"].format(skills=grown_words) if grown and not named else "",
            "personal_line": personal_line(data, grown, t)}


def page(data: dict, *, code: str, issued_at: datetime, verify_url: str, sections: list[dict],
         images: Images) -> dict:
    """The words and images of one certificate page (a book has many)."""
    lang = texts.resident_language(data["lang"])
    t = texts.CERTIFICATE[lang]
    org, project, full_name = data["organisation"], data["project"], data["participant"]["display_name"]
    name = short_name(full_name)
    issued_on = formatting.long_date(issued_at, lang)
    closing = org_text(org.get("closing_text"), {
        "naam": full_name, "name": full_name, "project": project["name"], "organisatie": org["name"],
        "organisation": org["name"], "datum": issued_on, "date": issued_on})
    issuer = data.get("issuer") or {"name": data.get("issuer_name"), "job_title": None}
    return {
        **_words(data, name, t, lang), "lang": lang, "dir": direction(lang), "t": t, "kind": data["kind"],
        "name": full_name,
        "long_name": len(full_name) > LONG_NAME, "dense": False,
        "took_part": t["took_part"].format(project=project["name"], organisation=org["name"]),
        "period": _period(project, t, lang), "did": _did(data, name, t, lang),
        "sections": sections, "closing_text": closing, "issued_on": t["issued_on"].format(date=issued_on),
        "signer": {"name": issuer.get("name"), "job_title": issuer.get("job_title") or t["worker"]},
        "contact": t["contact"].format(contact=org["contact"]) if org.get("contact") else "",
        "qr": images.qr(verify_url), "verify_url": verify_url, "code": t["code"].format(code=code),
    }


def _document(data: dict, issued_at: datetime, images: Images) -> dict:
    """What the whole PDF shares: language, title, organisation, colour and orientation."""
    lang = texts.resident_language(data["lang"])
    t = texts.CERTIFICATE[lang]
    org, name = data["organisation"], data["participant"]["display_name"]
    kind_title = t["certificate"] if data["kind"] == "certificate" else t["participation"]
    return {
        "lang": lang, "dir": direction(lang), "brand": svg.safe_colour(org.get("brand_colour")),
        "orientation": "portrait" if org.get("orientation") == "portrait" else "landscape",
        "doc_title": f"{kind_title} {t['for']} {name} — {data['project']['name']}",
        "created": formatting.iso_utc(issued_at),
        "organisation": {"name": org["name"], "logo": images.logo(org.get("logo"), org.get("logo_type")),
                         "logo_alt": t["logo_alt"].format(organisation=org["name"])},
    }


def context(data: dict, *, code: str, issued_at: datetime, verify_url: str,
            sections: list[dict]) -> tuple[dict, Images]:
    """The template context and images of one certificate."""
    images = Images()
    ctx = _document(data, issued_at, images)
    ctx["pages"] = [page(data, code=code, issued_at=issued_at, verify_url=verify_url, sections=sections,
                         images=images)]
    return ctx, images


def render(data: dict, *, code: str, issued_at: datetime, verify_url: str, sections: list[dict]) -> bytes:
    from surveyhub.rendering.verify import identifier

    ctx, images = context(data, code=code, issued_at=issued_at, verify_url=verify_url, sections=sections)
    return get_renderer().pdf(TEMPLATE, ctx, images=images, identifier=identifier(code), brand=ctx["brand"],
                              fit=fit)


def book_title(lang: str | None) -> str:
    """The title of a book of certificates ("Certificaten")."""
    return texts.CERTIFICATE[texts.resident_language(lang or "nl")]["book_title"]


def render_book(pages: list[dict], *, title: str, issued_at: datetime) -> bytes:
    """Many certificates as one PDF for printing: ``pages`` holds each one's ``render`` arguments
    (``data``, ``code``, ``issued_at``, ``verify_url``, ``sections``), in the order to print.

    Each page carries its own certificate's code and QR code, so every printed
    page can be checked; the book itself is not a registered document.
    """
    if not pages:
        raise ValueError("a book of certificates needs at least one certificate")
    images = Images()
    ctx = _document(pages[0]["data"], issued_at, images)
    ctx["doc_title"] = title
    ctx["pages"] = [page(p["data"], code=p["code"], issued_at=p["issued_at"], verify_url=p["verify_url"],
                         sections=p["sections"], images=images) for p in pages]
    return get_renderer().pdf(TEMPLATE, ctx, images=images, identifier="SurveyHub", brand=ctx["brand"], fit=fit)


def fit(document, ctx: dict) -> dict | None:
    """A tighter context when a certificate's words run past the foot of their box, else None.

    The box has a fixed height so that the signature and the check always sit on the page;
    words past its foot would be cut off unseen. A page that does not fit is first set
    smaller ("dense"), then names fewer of the project's outputs, the oldest first; the
    resident's own lines (what they can do, what they did) are never dropped.
    """
    pages = list(ctx["pages"])
    changed = False
    for index, laid_out in enumerate(document.pages[:len(pages)]):
        if not _runs_over(laid_out):
            continue
        page = pages[index]
        if not page["dense"]:
            pages[index], changed = {**page, "dense": True}, True
        elif page["did"]["together"]:
            did = {**page["did"], "together": page["did"]["together"][1:]}
            pages[index], changed = {**page, "did": did}, True
    return {**ctx, "pages": pages} if changed else None


def _runs_over(laid_out) -> bool:
    """Does any line in the page's middle box reach below the box's foot (half a point of slack)?

    Reads WeasyPrint's laid-out boxes (``Page._page_box``, as the layout tests do).
    """
    from weasyprint.formatting_structure.boxes import TextBox

    for box in laid_out._page_box.descendants():
        element = getattr(box, "element", None)
        if element is None or "middle" not in (element.get("class") or "").split():
            continue
        foot = box.border_box_y() + box.border_height()
        return any(text.position_y + text.margin_height() > foot + 0.5
                   for text in box.descendants() if isinstance(text, TextBox))
    return False
