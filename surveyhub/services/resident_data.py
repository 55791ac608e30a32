"""What SurveyHub stores about one resident, as plain values (the AVG right of access).

``personal_data`` gathers every row that belongs to one participant: who they
are in the project (code, name, e-mail, self-made code), their consents, every
response with its answers (question text and answer label in the resident's
language) and scale scores, and the documents issued to them with their
verification codes, and their Open Badges (skill, why, dates and the signed
credential itself). The resident's page, the worker's download and the CLI all
show this one dictionary, so what a resident sees is what is stored.

The personal link itself is not repeated: it is a key, not information about
the resident, and a downloaded file should not open their answers to whoever
finds it. When links were made and whether they still work is listed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.rendering.formatting import iso_utc
from surveyhub.measures.definition import translate
from surveyhub.models import (Answer, BadgeCredential, Consent, Document, Organisation, Participant, Project,
                              Response, ScaleScore, Token, Wave, WAVE_KINDS)
from surveyhub.services import contributions
from surveyhub.services.errors import NotFound
from surveyhub.services.questionnaire import PROJECT_INSTRUMENT
from surveyhub.services.responses import project_definitions

#: Bumped when the shape of the download changes (2: activities and contributions; 3: Open Badges).
FORMAT_VERSION = 3


def _when(moment: datetime | None) -> str | None:
    return iso_utc(moment) if moment is not None else None


def personal_data(session: Session, participant_id: int, lang: str = "nl") -> dict:
    """Everything stored about one participant, as JSON-ready plain values.

    :param lang: the language for question texts and answer labels (the resident's language).
    :raises NotFound: when the participant does not exist (any more).
    """
    participant = session.get(Participant, participant_id)
    if participant is None:
        raise NotFound("no such resident")
    project = session.get_one(Project, participant.project_id)
    organisation = session.get_one(Organisation, project.organisation_id)
    items = _item_index(project)
    return {
        "format": "surveyhub-personal-data",
        "format_version": FORMAT_VERSION,
        "generated_at": iso_utc(datetime.now().astimezone()),
        "language": lang,
        "organisation": organisation.name,
        "project": {"name": project.name, "slug": project.slug},
        "participant": {
            "code": participant.code,
            "name": participant.display_name,
            "email": participant.email,
            "self_made_code": participant.self_code,
            "role": participant.role,  # what the worker wrote they did, for the certificate
            "came_in_through": participant.source,
            "created_at": _when(participant.created_at),
        },
        "links": [{"created_at": _when(t.created_at), "active": t.revoked_at is None,
                   "revoked_at": _when(t.revoked_at)}
                  for t in session.scalars(select(Token).where(Token.participant_id == participant.id)
                                           .order_by(Token.id))],
        "consents": _consents(session, participant.id),
        "responses": _responses(session, participant.id, items, lang),
        "documents": _documents(session, participant.id),
        # What they did: activities a worker recorded, and what they added themselves (waiting or confirmed).
        "activities": contributions.my_entries(session, participant.id),
        "badges": _badges(session, participant.id, lang),
    }


def _consents(session: Session, participant_id: int) -> list[dict]:
    rows = session.execute(select(Consent, Wave.kind).outerjoin(Wave, Consent.wave_id == Wave.id)
                           .where(Consent.participant_id == participant_id).order_by(Consent.id))
    return [{"wave": kind, "wording_version": c.wording_version, "language": c.language,
             "share_quotes": bool(c.share_quotes), "given_at": _when(c.given_at),
             "recorded_from_paper_form": c.recorded_by_id is not None}
            for c, kind in rows]


def _responses(session: Session, participant_id: int, items: dict, lang: str) -> list[dict]:
    rows = list(session.execute(select(Response, Wave.kind).join(Wave, Response.wave_id == Wave.id)
                                .where(Response.participant_id == participant_id)))
    rows.sort(key=lambda row: WAVE_KINDS.index(row[1]))
    result = []
    for response, kind in rows:
        result.append({
            "wave": kind, "status": response.status, "channel": response.channel,
            "entered_by_worker": response.entered_by_id is not None, "language": response.language,
            "started_at": _when(response.started_at), "updated_at": _when(response.updated_at),
            "completed_at": _when(response.completed_at),
            "answers": _answers(session, response.id, items, lang),
            "scores": _scores(session, response.id, items, lang),
        })
    return result


def _answers(session: Session, response_id: int, items: dict, lang: str) -> list[dict]:
    answers = session.scalars(select(Answer).where(Answer.response_id == response_id).order_by(Answer.id))
    ordered = sorted(answers, key=lambda a: (items.get(("order", a.instrument_id, a.item_id), 10**6),
                                             a.block != "now", a.id))
    result = []
    for answer in ordered:
        item, sets = items.get((answer.instrument_id, answer.item_id), ({}, {}))
        value = answer.value_text if answer.value_text is not None else answer.value_num
        result.append({"instrument": answer.instrument_id, "item": answer.item_id,
                       "looking_back": answer.block == "then",
                       "question": translate(item.get("text"), lang) or answer.item_id,
                       "answer": answer_label(item, sets, value, lang), "value": value,
                       "saved_at": _when(answer.updated_at)})
    return result


def _scores(session: Session, response_id: int, items: dict, lang: str) -> list[dict]:
    rows = session.scalars(select(ScaleScore).where(ScaleScore.response_id == response_id)
                           .order_by(ScaleScore.id))
    return [{"instrument": s.instrument_id, "instrument_version": s.instrument_version, "scale": s.scale_id,
             "title": translate(items.get(("scale", s.instrument_id, s.scale_id)), lang) or s.scale_id,
             "looking_back": s.block == "then", "score": s.score, "questions_answered": s.n_answered}
            for s in rows]


def _documents(session: Session, participant_id: int) -> list[dict]:
    rows = session.scalars(select(Document).where(Document.participant_id == participant_id)
                           .order_by(Document.id))
    return [{"kind": d.kind, "title": d.title, "verification_code": d.code, "language": d.language,
             "issued_at": _when(d.issued_at), "revoked_at": _when(d.revoked_at),
             "revoked_reason": d.revoked_reason} for d in rows]


def _badges(session: Session, participant_id: int, lang: str) -> list[dict]:
    """The Open Badges issued to the resident: what each says, and the signed credential they can download."""
    rows = session.scalars(select(BadgeCredential).where(BadgeCredential.participant_id == participant_id)
                           .order_by(BadgeCredential.id))
    return [{"id": f"urn:uuid:{b.public_id}", "skill": b.skill,
             "title": translate((b.facts or {}).get("scale_title"), lang) or b.skill,
             "instrument": b.instrument_id,
             "instrument_version": b.instrument_version, "kind": b.kind, "level": b.level, "facts": b.facts,
             "valid_from": _when(b.valid_from), "issued_at": _when(b.issued_at), "revoked_at": _when(b.revoked_at),
             "revoked_reason": b.revoked_reason, "credential_jwt": b.jwt} for b in rows]


def answer_label(item: dict, answer_sets: dict, value, lang: str) -> str | None:
    """The answer as the resident saw it: the option's label, yes/no, the number or the text."""
    if value is None or isinstance(value, str):
        return value
    options = answer_sets.get(item.get("answer_set") or "") or []
    for option in options:
        if float(option["value"]) == value:
            return translate(option["label"], lang)
    if item.get("type") == "yes_no" and value in (0.0, 1.0):
        return {"nl": ("Nee", "Ja"), "en": ("No", "Yes")}.get(lang.split("-")[0], ("Nee", "Ja"))[int(value)]
    return str(int(value)) if float(value).is_integer() else str(value)


def _item_index(project: Project) -> dict:
    """(instrument, item) -> (item, answer sets); ("scale", instrument, scale) -> title; ("order", …) -> position."""
    index: dict = {}
    position = 0
    for definition in project_definitions(project):
        sets = definition.get("answer_sets") or {}
        for scale in definition["scales"]:
            index[("scale", definition["id"], scale["id"])] = scale["title"]
            for item in scale["items"]:
                index[(definition["id"], item["id"])] = (item, sets)
                index[("order", definition["id"], item["id"])] = position = position + 1
        for item in definition.get("questions") or []:
            index[(definition["id"], item["id"])] = (item, sets)
            index[("order", definition["id"], item["id"])] = position = position + 1
    for question in project.questions:
        item = question.definition
        index[(PROJECT_INSTRUMENT, item["id"])] = (item, item.get("answer_sets") or {})
        index[("order", PROJECT_INSTRUMENT, item["id"])] = position = position + 1
    return index
