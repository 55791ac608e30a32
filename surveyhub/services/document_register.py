"""The register of issued documents: check a file or a code, list, revoke.

Checking is public (no actor): it answers only what the holder of a file or
code may know — whether it is genuine, from which organisation and project,
when it was issued, whether it was revoked. Listing and revoking are scoped
to the actor's organisation; only admins revoke.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.rendering import verify as codes
from surveyhub.models import Document, Organisation, Participant, Project
from surveyhub.models._types import utcnow
from surveyhub.services import access, audit
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Invalid, NotFound


@dataclass(frozen=True)
class DocumentInfo:
    """A registered document as the check page and the worker's list show it."""

    code: str
    kind: str
    title: str
    organisation: str
    project: str | None
    project_slug: str | None
    participant_code: str | None
    language: str
    sha256: str
    issued_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None
    superseded: bool = False
    #: Who issued it (a certificate names its issuer; the API draws a file again as issued).
    issued_by_id: int | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class Verification:
    """``genuine``, ``altered``, ``revoked`` or ``unknown``, and the registered document if any."""

    status: str
    document: DocumentInfo | None = None


MAX_REASON = 500
#: The revocation reason of a document whose resident withdrew and was erased (``services.erasure``).
WITHDRAWN = "withdrawn"


def _info(session: Session, doc: Document, superseded: bool | None = None,
          participant_code: str | None = None) -> DocumentInfo:
    org = session.get(Organisation, doc.organisation_id)
    project = session.get(Project, doc.project_id) if doc.project_id else None
    if participant_code is None and doc.participant_id:
        participant_code = session.scalar(select(Participant.code).where(Participant.id == doc.participant_id))
    return DocumentInfo(doc.code, doc.kind, doc.title, org.name if org else "", project.name if project else None,
                        project.slug if project else None, participant_code, doc.language, doc.sha256,
                        doc.issued_at, doc.revoked_at, doc.revoked_reason,
                        _superseded(session, doc) if superseded is None else superseded, doc.issued_by_id)


def _superseded(session: Session, doc: Document) -> bool:
    """Was a newer document of the same kind issued for the same resident (or project)?"""
    if doc.kind in ("questionnaire", "sheet"):
        return False
    query = select(Document.id).where(Document.kind == doc.kind, Document.project_id == doc.project_id,
                                      Document.language == doc.language, Document.id > doc.id,
                                      Document.revoked_at.is_(None))
    query = query.where(Document.participant_id == doc.participant_id if doc.participant_id is not None
                        else Document.participant_id.is_(None))
    if doc.kind in ("org_report", "network_report"):  # one per organisation, network, period (in the title)
        query = query.where(Document.organisation_id == doc.organisation_id, Document.title == doc.title,
                            Document.network_id.is_(None) if doc.network_id is None
                            else Document.network_id == doc.network_id)
    return session.scalar(query.limit(1)) is not None


def verify_file(session: Session, data: bytes) -> Verification:
    """Is this file a document SurveyHub issued, unchanged?

    ``genuine``: its SHA-256 is registered and not revoked; ``revoked``:
    registered but revoked; ``withdrawn``: revoked because the resident
    withdrew; ``altered``: it carries a registered code but its bytes differ
    from what was issued; ``unknown``: anything else.
    """
    digest = codes.sha256(data)
    doc = session.scalar(select(Document).where(Document.sha256 == digest).order_by(Document.id.desc()).limit(1))
    if doc is not None:
        return Verification(_status(doc), _info(session, doc))
    code = codes.find_code(data) if codes.looks_like_pdf(data) else None
    doc = _by_code(session, code) if code else None
    if doc is not None:
        return Verification("altered", _info(session, doc))
    return Verification("unknown")


def verify_code(session: Session, code: str | None) -> Verification:
    """What the register says about a code: ``genuine``, ``revoked``, ``withdrawn`` or ``unknown``."""
    doc = _by_code(session, codes.normalise_code(code))
    if doc is None:
        return Verification("unknown")
    return Verification(_status(doc), _info(session, doc))


def _status(doc: Document) -> str:
    """``withdrawn`` when the resident withdrew (the document no longer names anyone), else revoked or genuine."""
    if doc.revoked_at is None:
        return "genuine"
    return "withdrawn" if doc.revoked_reason == WITHDRAWN and doc.participant_id is None else "revoked"


def _by_code(session: Session, code: str | None) -> Document | None:
    if not code:
        return None
    return session.scalar(select(Document).where(Document.code == code))


def _own(session: Session, actor: Actor, code: str) -> Document:
    doc = _by_code(session, codes.normalise_code(code))
    if doc is None or doc.organisation_id != actor.organisation_id:
        raise NotFound(f"no document {code!r}")
    return doc


def get_document(session: Session, actor: Actor, code: str):
    access.require(actor, "project.rows")
    return _info(session, _own(session, actor, code))


def revoke(session: Session, actor: Actor, code: str, reason: str):
    """Withdraw a document: from now on it checks as revoked. Admins only; the reason is kept."""
    access.require(actor, "org.manage")
    doc = _own(session, actor, code)
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid(N_("give a reason for revoking the document"))
    if doc.revoked_at is None:
        doc.revoked_at, doc.revoked_reason = utcnow(), reason[:MAX_REASON]
        session.flush()
        audit.record(session, "document.revoke", actor=actor, project_id=doc.project_id,
                     target=f"document:{doc.code}", details={"reason": doc.revoked_reason})
    return _info(session, doc)


def list_documents(session: Session, actor: Actor, slug: str | None = None, limit: int = 500) -> list:
    """The organisation's issued documents, newest first (of one project when ``slug`` is given).

    Funders see the reports only: certificates and link sheets are about residents.
    """
    access.require(actor, "project.outcomes")
    query = select(Document).where(Document.organisation_id == actor.organisation_id)
    if not actor.can("project.rows"):
        query = query.where(Document.kind == "report",
                            Document.project_id.in_(access.visible(actor, select(Project.id))))
    if slug is not None:
        query = query.where(Document.project_id == access.project(session, actor, slug, "project.outcomes").id)
    docs = list(session.scalars(query.order_by(Document.issued_at.desc(), Document.id.desc()).limit(limit)))
    participant_codes = dict(session.execute(select(Participant.id, Participant.code).where(
        Participant.id.in_({d.participant_id for d in docs if d.participant_id}))).all())
    latest: dict[tuple, int] = {}
    for doc in session.scalars(select(Document).where(Document.organisation_id == actor.organisation_id,
                                                      Document.revoked_at.is_(None))):
        key = (doc.kind, doc.project_id, doc.participant_id, doc.language)
        latest[key] = max(latest.get(key, 0), doc.id)
    return [_info(session, doc, participant_code=participant_codes.get(doc.participant_id or 0),
                  superseded=doc.kind not in ("questionnaire", "sheet")
                  and latest.get((doc.kind, doc.project_id, doc.participant_id, doc.language), 0) > doc.id)
            for doc in docs]
