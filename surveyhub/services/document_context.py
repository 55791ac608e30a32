"""What goes on a document: database rows turned into plain values for ``surveyhub.rendering``.

Nothing here renders; nothing in ``surveyhub.rendering`` reads the database.
Plugin sections are collected here (``PluginHost.call_isolated``): a plugin
that raises or returns something unusable is logged and left out, and the
document is still produced.
"""

from __future__ import annotations

import copy
import logging
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub import locale
from surveyhub.measures.definition import item_range, translate
from surveyhub.measures.scoring import grew as grew_on, level_for, score_range
from surveyhub.models import Organisation, Participant, Project, Response, User
from surveyhub.services import participation, resident, responses
from surveyhub.services.report_contract import Report

log = logging.getLogger(__name__)

MAX_SECTIONS = 5
MAX_SECTION_CHARS = 2000
MAX_NAME_CHARS = 200


def organisation_data(org: Organisation) -> dict:
    return {"name": org.name, "brand_colour": org.brand_colour, "closing_text": org.closing_text,
            "logo": org.logo, "logo_type": org.logo_type}


def display_name(participant: Participant, typed: str | None = None) -> str:
    name = " ".join((typed or participant.display_name or "").split())[:MAX_NAME_CHARS]
    return name or participant.code


# --- certificates ----------------------------------------------------------------------------------

def certificate_kind(session: Session, project: Project, participant: Participant) -> str | None:
    """``certificate`` after a completed post wave, ``participation`` after only the pre wave, else None."""
    waves = {w.kind: w for w in project.waves}
    post = resident.response_for(session, participant, waves["post"])
    if post is not None and post.status == "completed":
        return "certificate"
    pre = resident.response_for(session, participant, waves["pre"])
    if pre is not None and pre.status == "completed":
        return "participation"
    return None


def certificate_data(session: Session, project: Project, participant: Participant, *, kind: str, lang: str,
                     name: str | None = None, personal_line: str | None = None,
                     issued_by: int | None = None, registry=None) -> dict:
    """Plain values for ``rendering.certificate``: who, which project, what they did, each skill and its items.

    The people behind it (signer, contact, the resident's role, the project's outputs) come from
    ``story_facts.certificate_facts``; the signer is the issuing worker, else the one who set up the
    project (the command line issues as nobody), and only when they wrote down their name.
    ``registry``: the installed instruments, for can-do wording a stored snapshot predates (``_worded``).
    """
    from surveyhub.services import story_facts

    org = session.get_one(Organisation, project.organisation_id)
    facts = story_facts.certificate_facts(session, project.id, participant.id, issued_by)
    if not facts["worker_name"] and project.created_by_id:
        creator = story_facts.certificate_facts(session, project.id, participant.id, project.created_by_id)
        facts = {**facts, "worker_name": creator["worker_name"], "job_title": creator["job_title"]}
    named = _line(facts["worker_name"])
    signer = {"name": named, "job_title": _line(facts["job_title"]) if named else None}
    return {
        "kind": kind, "lang": lang,
        "participant": {"display_name": display_name(participant, name), "code": participant.code,
                        "role": _line(facts["resident_role"])},
        "project": {"name": project.name, "slug": project.slug,
                    "period": {"start": project.period_start, "end": project.period_end}},
        "organisation": {**organisation_data(org), "contact": _line(facts["organisation_contact"]),
                         "orientation": facts["orientation"]},
        "outputs": [{"date": date.fromisoformat(output["date"]), "description": output["description"]}
                    for output in facts["outputs"]][-MAX_CERTIFICATE_OUTPUTS:],
        "scales": _certificate_scales(session, project, participant, kind, lang, registry),
        "issuer_name": signer["name"], "issuer": signer,
        "personal_line": personal_line,
        "activities": _activities(session, project.id, participant.id),
    }


def _activities(session: Session, project_id: int, participant_id: int) -> dict:
    """What the resident did, as counts for the certificate: the one reading of confirmed records
    (``participation.of``); nothing recorded is all zeros, which the certificate leaves unsaid."""
    did = participation.of(session, project_id, participant_id)
    return {"count": did.activities, "hours": did.hours, "organised": did.by_role.get("organiser", 0),
            "chaired": did.by_role.get("chair", 0)}


#: A certificate names the project's latest few outputs, so that it stays one page.
MAX_CERTIFICATE_OUTPUTS = 3


def _line(text: str | None) -> str | None:
    return " ".join((text or "").split()) or None


def resident_language(session: Session, project: Project, participant: Participant) -> str:
    """The language the resident answered in (the latest wave they answered), else Dutch."""
    found = session.scalars(select(Response.language).where(Response.participant_id == participant.id)
                            .order_by(Response.wave_id.desc())).first()
    return locale.resident_language(found or "nl")


def bulk_certificate_language(session: Session, project: Project) -> str | None:
    """The language of certificates made in bulk (a ZIP, a book, the command line): the organisation's
    choice (``Organisation.certificate_language``), else None, each resident's own."""
    chosen = session.scalar(select(Organisation.certificate_language)
                            .where(Organisation.id == project.organisation_id))
    return locale.resident_language(chosen) if chosen else None


def _scores(response: Response | None, block: str) -> dict[tuple[str, str], float | None]:
    if response is None or response.status != "completed":
        return {}
    return {(s.instrument_id, s.scale_id): s.score for s in response.scores if s.block == block}


def _answers(response: Response | None, block: str) -> dict[tuple[str, str], float]:
    if response is None or response.status != "completed":
        return {}
    return {(a.instrument_id, a.item_id): a.value_num for a in response.answers
            if a.block == block and a.value_num is not None}


def _certificate_scales(session, project, participant, kind, lang, registry=None) -> list[dict]:
    waves = {w.kind: w for w in project.waves}
    pre = resident.response_for(session, participant, waves["pre"])
    post = resident.response_for(session, participant, waves["post"])
    start, start_items = _scores(pre, "now"), _answers(pre, "now")
    now = _scores(post, "now") if kind == "certificate" else {}
    now_items = _answers(post, "now") if kind == "certificate" else {}
    if kind == "certificate" and not any(v is not None for v in start.values()):
        start, start_items = _scores(post, "then"), _answers(post, "then")  # no pre wave: the look-back
    rows = []
    for pinned in project.instruments:
        definition = _worded(pinned.snapshot, registry)
        answer_sets = definition.get("answer_sets")
        for scale in definition["scales"]:
            key = (definition["id"], scale["id"])
            if kind == "certificate" and now.get(key) is None:
                continue
            known = score_range(scale, answer_sets)
            row = _scale_row(scale, start.get(key), now.get(key), known, lang)
            row["can_do"] = translate(scale["can_do"], lang) if scale.get("can_do") else None
            row["items"] = [_item_row(item, answer_sets, start_items.get((definition["id"], item["id"])),
                                      now_items.get((definition["id"], item["id"])),
                                      scale.get("higher_is_better", True), lang)
                            for item in scale["items"] if item.get("can_do")]
            rows.append(row)
    return rows


def _worded(snapshot, registry) -> dict:
    """The snapshot's definition, or the installed one of the same id and version when their digests match.

    Can-do wording is left out of the digest (``definition_digest``), so a snapshot
    stored before its instrument had wording still matches the installed file, and
    the installed file then differs from it in wording only: its certificates get the
    words without a new version.
    """
    if registry is None or snapshot.scope != "*":
        return snapshot.definition
    loaded = registry.get(snapshot.instrument_id, snapshot.version)
    return loaded.definition if loaded is not None and loaded.digest == snapshot.digest else snapshot.definition


def _item_row(item: dict, answer_sets: dict | None, start: float | None, now: float | None, higher: bool,
              lang: str) -> dict:
    """An item with certificate wording: its answers at the start and now as a share of the item's range
    in the good direction (1.0 = the best answer), so the rendering needs no scoring rules."""
    bounds = item_range(item, answer_sets or {})

    def share(value: float | None) -> float | None:
        if value is None or bounds is None or bounds[1] == bounds[0]:
            return None
        fraction = (value - bounds[0]) / (bounds[1] - bounds[0])
        good = 1 - fraction if bool(item.get("reverse")) != (not higher) else fraction
        return min(1.0, max(0.0, good))
    return {"can_do": translate(item["can_do"], lang), "start": share(start), "now": share(now)}


def _observed_range(*values) -> tuple[float, float]:
    """Bars for a scale without a known range (a plugin's scoring method): from 0 to a bit above the score."""
    known = [v for v in values if v is not None] or [1.0]
    return min(known + [0.0]), max(known) * 1.25 or 1.0


def _scale_row(scale: dict, start: float | None, now: float | None, known: tuple[float, float] | None,
               lang: str) -> dict:
    higher = scale.get("higher_is_better", True)
    bounds = known or _observed_range(start, now)
    level_start, level_now = level_for(start, scale), level_for(now, scale)
    return {"title": translate(scale["title"], lang), "start": start, "now": now,
            "grew": grew_on(start, now, higher, known),
            "low": bounds[0], "high": bounds[1], "higher_is_better": higher,
            "level_start": translate(level_start["label"], lang) if level_start else None,
            "level_now": translate(level_now["label"], lang) if level_now else None,
            "at_bottom": bool(level_now) and level_now is (scale.get("levels") or [None])[0]}


def certificate_hook_context(data: dict) -> dict:
    """The plugin hook's view of a certificate (hookspecs: surveyhub_certificate_sections).

    ``level_start`` is None where the resident did not grow: the certificate
    never shows a decline, and neither should a plugin be handed one to show.
    ``level_now`` is None where the resident is in the scale's lowest level: a
    certificate never gives a resident at the bottom a level word.
    """
    return copy.deepcopy({
        "lang": data["lang"], "participant": dict(data["participant"]),
        "project": dict(data["project"]), "organisation": {"name": data["organisation"]["name"]},
        "scales": [{"title": s["title"], "level_now": None if s.get("at_bottom") else s["level_now"], "grew": s["grew"],
                    "level_start": s["level_start"] if s["grew"] else None} for s in data["scales"]],
    })


# --- the report ------------------------------------------------------------------------------------

def report_data(session: Session, project: Project, report: Report, lang: str,
                photos: dict[int, tuple[bytes, str]] | None = None) -> dict:
    """Plain values for ``rendering.report``: the report JSON (titles, ranges and alphas are in it)
    plus what only the PDF needs — the organisation, every item's text for the appendix, and the
    outputs' photos (``project_story.output_photos``: output id -> bytes and media type)."""
    definitions = responses.project_definitions(project)
    org = session.get_one(Organisation, project.organisation_id)
    return {
        "lang": lang, "report": report, "retrospective": project.retrospective,
        "project": {"name": project.name, "slug": project.slug, "description": project.description},
        "organisation": organisation_data(org),
        "instruments": [_instrument_appendix(d, lang) for d in definitions],
        "photos": dict(photos or {}),
    }


def _instrument_appendix(definition: dict, lang: str) -> dict:
    return {"id": definition["id"], "version": definition["version"], "title": translate(definition["title"], lang),
            "scales": [{"id": s["id"], "title": translate(s["title"], lang), "norms": s.get("norms") or {},
                        "items": [{"text": translate(i["text"], lang), "reverse": bool(i.get("reverse"))}
                                  for i in s["items"]]}
                       for s in definition["scales"]]}


def report_hook_context(data: dict) -> dict:
    return copy.deepcopy({"lang": data["lang"], "project": {"name": data["project"]["name"],
                                                             "slug": data["project"]["slug"]},
                          "organisation": {"name": data["organisation"]["name"]}, "report": data["report"]})


# --- paper: questionnaires and link sheets ---------------------------------------------------------

def questionnaire_data(session: Session, project: Project, wave_kind: str, lang: str, *,
                       resident_code: str | None = None, retention_months: int | None = None) -> dict:
    """The pages of a wave as the resident would see them, for printing, with what the consent promises.

    ``resident_code``: printed in the code field when the questionnaire is printed for one resident;
    ``retention_months``: the installation's default retention period (``RETENTION_MONTHS``).
    """
    from surveyhub.locale import catalog
    from surveyhub.services import retention
    from surveyhub.services.consent import consent_text
    from surveyhub.services.responses import pages_for

    org = session.get_one(Organisation, project.organisation_id)
    promise = retention.promise(session, project, retention_months or retention.DEFAULT_MONTHS)
    agreement = consent_text(catalog(lang).gettext, organisation=org.name, months=promise.months,
                             until=promise.until, month_name=lambda moment: _month_name(moment, lang))
    pages = []
    for page in pages_for(project, wave_kind, question_mode="page"):  # a printed page, even for one-per-screen
        pages.append({"title": translate(page.title, lang), "then": page.block == "then",
                      "lead_in": translate(page.lead_in, lang) if page.lead_in else "",
                      "questions": [_paper_item(slot.item, slot.answer_sets, lang) for slot in page.slots]})
    return {"lang": lang, "wave": wave_kind, "project": {"name": project.name, "slug": project.slug},
            "organisation": organisation_data(org), "pages": pages, "resident_code": resident_code,
            "consent": {"facts": list(agreement.facts), "agree": agreement.agree,
                        "share_quotes": agreement.share_quotes}}


def _month_name(moment, lang: str) -> str:
    """"november 2027", as the start page writes the retention month (Flask-Babel's format, in UTC)."""
    from datetime import timezone

    from babel.dates import format_date

    return format_date(moment.astimezone(timezone.utc).date(), "MMMM y", locale=lang)


def _paper_item(item: dict, answer_sets: dict, lang: str) -> dict:
    kind = item.get("type")
    paper = {"text": translate(item.get("text"), lang),
             "help": translate(item.get("help"), lang) if item.get("help") else ""}
    options = (answer_sets or {}).get(item.get("answer_set")) if item.get("answer_set") else None
    if options:
        return {**paper, "kind": "choice", "options": [translate(o["label"], lang) for o in options]}
    if kind == "yes_no":
        return {**paper, "kind": "yes_no"}
    if kind == "number":
        if item.get("step") == 1 and item["max"] - item["min"] <= 10:
            options = [str(v) for v in range(int(item["min"]), int(item["max"]) + 1)]
            return {**paper, "kind": "choice", "options": options}
        return {**paper, "kind": "number", "lo": _plain_number(item["min"]), "hi": _plain_number(item["max"])}
    return {**paper, "kind": "text"}  # text, and plugin types: a resident can always write an answer


def _plain_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def sheet_data(session: Session, project: Project, base_url: str, lang: str,
               codes: list[str] | None = None, issued_by: int | None = None) -> dict:
    """Every resident with an active personal link (or just ``codes``): name, code, link and short link.

    A link made before short codes existed gets its code here (``short_codes.ensure``, one query for
    the sheet), so every printed card can be typed over. ``issued_by``: the worker printing the sheet,
    named on each card as the one to ask, with the organisation's contact.
    """
    from surveyhub.models import Token
    from surveyhub.services import short_codes

    org = session.get_one(Organisation, project.organisation_id)
    query = (select(Participant, Token).join(Token, Token.participant_id == Participant.id)
             .where(Participant.project_id == project.id, Token.revoked_at.is_(None))
             .order_by(Participant.id, Token.id))
    if codes:
        query = query.where(Participant.code.in_(codes))
    chosen, seen = [], set()
    for participant, token in session.execute(query):
        if participant.id not in seen:
            seen.add(participant.id)
            chosen.append((participant, token))
    shorts = short_codes.ensure(session, [token for _participant, token in chosen])
    residents = [{"name": display_name(participant), "code": participant.code,
                  "link": f"{base_url}/q/{token.token}", "short_link": short_codes.link(base_url, short)}
                 for (participant, token), short in zip(chosen, shorts)]
    return {"lang": lang, "project": {"name": project.name, "slug": project.slug},
            "organisation": {**organisation_data(org), "contact": org.contact},
            "worker": _worker_name(session, issued_by), "residents": residents}


def _worker_name(session: Session, user_id: int | None) -> str | None:
    """The printing worker's real name for "whom to ask" (never the account's e-mail address)."""
    user = session.get(User, user_id) if user_id else None
    return " ".join((user.name or "").split()) or None if user is not None else None


# --- plugin sections -----------------------------------------------------------------------------

def plugin_sections(host, hook_name: str, context: dict) -> list[dict]:
    """Sections from plugins; anything that raises or is not ``{"title": str, "body": str}`` is left out."""
    if host is None:
        return []
    sections = []
    for plugin_name, result in host.call_isolated(hook_name, context=context):
        if result is None:
            continue
        if not isinstance(result, (list, tuple)):
            host.fail(plugin_name, f"{hook_name} returned {type(result).__name__}, not a list of sections; "
                                   "it was left out", state="error")
            continue
        for section in result:
            if section is None:
                continue
            if not (isinstance(section, dict) and isinstance(section.get("title"), str)
                    and isinstance(section.get("body"), str)):
                host.fail(plugin_name, f"{hook_name} returned {type(section).__name__}, not a "
                                       "{'title': str, 'body': str} section; it was left out", state="error")
                continue
            sections.append({"title": section["title"][:200], "body": section["body"][:MAX_SECTION_CHARS],
                             "plugin": plugin_name})
    if len(sections) > MAX_SECTIONS:
        log.warning("%s: %d plugin sections, only the first %d are shown", hook_name, len(sections), MAX_SECTIONS)
    return sections[:MAX_SECTIONS]
