"""Issued documents: certificates, reports, paper questionnaires and link sheets; their register; checking them.

Every PDF SurveyHub hands out is registered (``Document``: code, SHA-256,
kind, project, participant, issuer, date) before anyone sees it, so ``/verify``
and ``surveyhub verify FILE`` can say whether a file is genuine, altered,
revoked or unknown.

No duplicates. Documents render deterministically: the same data, code and
issue date give the same bytes (signatures included, see
``documents.signing``). So when a resident's certificate (or a project's
report, questionnaire or link sheet) is asked for again, the latest
unrevoked document of that kind and language is rendered again *with its own
code and date*: identical bytes mean nothing changed, and that document is
handed out again (``reused``), unregistered twice. Different bytes mean the
data behind it changed (answers, scores, a typed name, branding, the signing
key, a plugin section): a new document with a new code is issued. The older
one stays genuine, since it was true when issued; the check page says a
newer version exists. A revoked document is never handed out again.

Issuing has three steps so that no database transaction stays open while
WeasyPrint works (SQLite takes its write lock at the start of every
transaction): ``prepare_*`` reads (session), ``render`` draws (no session),
``register`` writes (session). ``issue`` does all three in one go.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.rendering import texts
from surveyhub.rendering import verify as codes
from surveyhub.models import Document, Organisation, Participant, Project, WAVE_KINDS
from surveyhub.models._types import utcnow
from surveyhub.services import access, audit, pair_review, webhooks
from surveyhub.services import document_context as dc
from surveyhub.services.access import Actor
# The register's functions, re-exported: callers issue and check documents through one module.
from surveyhub.services.document_register import (DocumentInfo, Verification, get_document,  # noqa: F401
                                                   list_documents, revoke, verify_code, verify_file)
from surveyhub.services.errors import N_, Invalid, UserError
from surveyhub.services.report_contract import Report



@dataclass(frozen=True)
class IssuedDocument:
    """A document as handed out: its code, fingerprint, file name and bytes."""

    code: str
    sha256: str
    kind: str
    title: str
    filename: str
    language: str
    issued_at: datetime
    pdf: bytes = field(repr=False)
    reused: bool = False
    participant_code: str | None = None


@dataclass(frozen=True)
class Prepared:
    """Everything needed to render and register one document; plain values, no database objects."""

    kind: str
    organisation_id: int
    project_id: int | None
    participant_id: int | None
    participant_code: str | None
    language: str
    title: str
    filename: str
    issued_by_id: int | None
    #: (code, issued_at, sha256) of the latest unrevoked document of this kind, if any.
    previous: tuple[str, datetime, str] | None
    build: Callable[[str, datetime], bytes] = field(repr=False)
    #: A certificate's page for a printable book of certificates (``rendering.certificate.render_book``):
    #: ``page(code, issued_at)`` gives the arguments its own ``build`` draws with.
    page: Callable[[str, datetime], dict] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Rendered:
    code: str
    issued_at: datetime
    pdf: bytes = field(repr=False)
    sha256: str = ""
    reused: bool = False


# --- the three steps -----------------------------------------------------------------------------

def render(prepared: Prepared) -> Rendered:
    """Draw the document; reuse the previous one when its bytes come out the same. No database."""
    if prepared.previous is not None:
        code, issued_at, digest = prepared.previous
        pdf = prepared.build(code, issued_at)
        if codes.sha256(pdf) == digest:
            return Rendered(code, issued_at, pdf, digest, reused=True)
    code, issued_at = codes.new_code(), _now()
    pdf = prepared.build(code, issued_at)
    return Rendered(code, issued_at, pdf, codes.sha256(pdf))


def register(session: Session, prepared: Prepared, rendered: Rendered) -> IssuedDocument:
    """Record a newly drawn document (a reused one is already on record)."""
    if not rendered.reused:
        session.add(Document(code=rendered.code, sha256=rendered.sha256, kind=prepared.kind,
                             organisation_id=prepared.organisation_id, project_id=prepared.project_id,
                             participant_id=prepared.participant_id, title=prepared.title[:300],
                             language=prepared.language, issued_by_id=prepared.issued_by_id,
                             issued_at=rendered.issued_at))
        session.flush()
        audit.record(session, "document.issue", organisation_id=prepared.organisation_id,
                     user_id=prepared.issued_by_id, target=f"document:{rendered.code}", project_id=prepared.project_id,
                     details={"kind": prepared.kind, "participant": prepared.participant_code})
        webhooks.document_issued(session, prepared.organisation_id, prepared.project_id, code=rendered.code,
                                 kind=prepared.kind, participant_code=prepared.participant_code)
    return IssuedDocument(rendered.code, rendered.sha256, prepared.kind, prepared.title, prepared.filename,
                          prepared.language, rendered.issued_at, rendered.pdf, rendered.reused,
                          prepared.participant_code)


def issue(session: Session, prepared: Prepared) -> IssuedDocument:
    return register(session, prepared, render(prepared))


def _now() -> datetime:
    # Whole seconds: the issue time goes into the PDF and must read back from the database unchanged.
    return utcnow().replace(microsecond=0)


def _prepare(session: Session, actor: Actor, *, kind: str, project: Project, lang: str,
             build: Callable[[str, datetime], bytes], participant: Participant | None = None,
             title_extra: str = "", name_extra: str = "") -> Prepared:
    org = session.get_one(Organisation, project.organisation_id)
    title = f"{texts.TITLES[lang][kind]}{title_extra} — {project.name}"
    filename = "-".join(_safe(part) for part in (texts.FILE_NAMES[lang][kind], name_extra or project.slug)) + ".pdf"
    return Prepared(kind, project.organisation_id, project.id, participant.id if participant else None,
                    participant.code if participant else None, lang, title, filename, actor.user_id,
                    _previous(session, kind, project.id, participant.id if participant else None, lang),
                    _signed(build, org, title))


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", part).strip("-")[:80] or "x"


def _previous(session: Session, kind: str, project_id: int, participant_id: int | None,
              lang: str) -> tuple[str, datetime, str] | None:
    query = (select(Document).where(Document.kind == kind, Document.project_id == project_id,
                                    Document.language == lang, Document.revoked_at.is_(None))
             .order_by(Document.issued_at.desc(), Document.id.desc()).limit(1))
    query = query.where(Document.participant_id == participant_id if participant_id is not None
                        else Document.participant_id.is_(None))
    found = session.scalar(query)
    return (found.code, found.issued_at.astimezone(timezone.utc), found.sha256) if found else None


def _signed(build: Callable[[str, datetime], bytes], org: Organisation, title: str):
    """``build`` followed by the organisation's PAdES signature, when it has a signing key."""
    if not (org.signing_key_pem and org.signing_cert_pem):
        return build
    key, cert, reason = bytes(org.signing_key_pem), bytes(org.signing_cert_pem), f"{org.name}: {title}"

    def build_signed(code: str, issued_at: datetime) -> bytes:
        from surveyhub.rendering.signing import SigningError, sign_pdf
        try:
            return sign_pdf(build(code, issued_at), key, cert, issued_at, reason)
        except SigningError as exc:
            raise UserError(N_("%(error)s; make a new one with: surveyhub signing-key create --org %(org)s "
                               "--replace"), error=str(exc), org=org.slug) from exc
    return build_signed


# --- certificates ----------------------------------------------------------------------------------

def prepare_certificate(session: Session, actor: Actor, slug: str, participant_code: str, *, base_url: str,
                        lang: str | None = None, kind: str | None = None, name: str | None = None,
                        personal_line: str | None = None, host=None, project: Project | None = None,
                        registry=None) -> Prepared:
    """A resident's certificate (after the post wave) or certificate of participation (only the pre wave).

    ``kind`` None picks whichever the resident's answers allow; ``name`` is a
    name typed for the certificate instead of the display name; ``lang`` None:
    the language the resident answered in; ``project``: the project ``slug``
    names, when the caller read it already (a ZIP of fifty reads it once); ``registry``: the installed
    instruments, whose can-do wording a certificate uses where the project's snapshot predates it.
    """
    from surveyhub.rendering import certificate
    from surveyhub.services.participants import get_participant

    if project is None:
        project = access.project(session, actor, slug, "project.rows")
    else:
        access.check(actor, slug, "project.rows")
    participant = get_participant(session, actor, slug, participant_code, project=project)
    lang = texts.resident_language(lang or dc.resident_language(session, project, participant))
    possible = dc.certificate_kind(session, project, participant)
    if possible is None:
        raise Invalid(N_("%(code)s has not finished a questionnaire yet"), code=participant.code)
    if kind == "certificate" and possible != "certificate":
        raise Invalid(N_("%(code)s has not finished the post wave; a participation certificate is possible"),
                      code=participant.code)
    kind = kind or possible
    data = dc.certificate_data(session, project, participant, kind=kind, lang=lang, name=name,
                               personal_line=personal_line, issued_by=actor.user_id, registry=registry)
    sections = dc.plugin_sections(host, "surveyhub_certificate_sections", dc.certificate_hook_context(data))

    def page(code: str, issued_at: datetime) -> dict:
        return {"data": data, "code": code, "issued_at": issued_at, "verify_url": f"{base_url}/verify/{code}",
                "sections": sections}

    def build(code: str, issued_at: datetime) -> bytes:
        return certificate.render(**page(code, issued_at))
    prepared = _prepare(session, actor, kind=kind, project=project, lang=lang, build=build, participant=participant,
                        name_extra=participant.code)
    return replace(prepared, page=page)


def issue_certificate(session: Session, actor: Actor, slug: str, participant_code: str, *, base_url: str,
                      lang: str | None = None, name: str | None = None, personal_line: str | None = None,
                      host=None, registry=None) -> IssuedDocument:
    return issue(session, prepare_certificate(session, actor, slug, participant_code, base_url=base_url, lang=lang,
                                              kind="certificate", name=name, personal_line=personal_line,
                                              host=host, registry=registry))


def issue_resident_document(session: Session, actor: Actor, slug: str, participant_code: str, *, base_url: str,
                            lang: str | None = None, name: str | None = None, personal_line: str | None = None,
                            host=None, registry=None) -> IssuedDocument:
    """The certificate, or the certificate of participation when only the pre wave was done."""
    return issue(session, prepare_certificate(session, actor, slug, participant_code, base_url=base_url, lang=lang,
                                              name=name, personal_line=personal_line, host=host, registry=registry))


@dataclass(frozen=True)
class Candidate:
    """A resident who can get a certificate (``kind`` certificate) or a certificate of participation."""

    code: str
    display_name: str | None
    kind: str


def certificate_candidates(session: Session, actor: Actor, slug: str, *, by_name: bool = False) -> list[Candidate]:
    """Every resident who finished the post wave (certificate) or only the pre wave (participation).

    In the order residents were added, or with ``by_name`` in name order (residents without a name by code
    after them), the order a printed book of certificates is handed out in.
    """
    project = access.project(session, actor, slug, "project.rows")
    earlier = pair_review.earlier_selves(session, project)  # a resident paired by code: one document
    found = []
    for participant in session.scalars(select(Participant).where(Participant.project_id == project.id)
                                       .order_by(Participant.id)):
        if participant.id in earlier:
            continue
        kind = dc.certificate_kind(session, project, participant)
        if kind:
            found.append(Candidate(participant.code, participant.display_name, kind))
    return sorted(found, key=name_order) if by_name else found


def name_order(candidate: Candidate) -> tuple:
    """Sort key: by name as people read it (case and accents aside), residents without a name last."""
    import unicodedata

    name = " ".join((candidate.display_name or "").split())
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()
    return (not plain, plain, candidate.code)


# --- the report ------------------------------------------------------------------------------------

def prepare_report(session: Session, registry, actor: Actor, slug: str, *, base_url: str, lang: str = "nl",
                   min_means: int | None = None, min_tests: int | None = None, min_cell: int | None = None,
                   defaults=None, report: Report | None = None, host=None, project: Project | None = None) -> Prepared:
    """The funder's impact report. ``report``: the report JSON, else ``services.outcomes`` computes it.

    ``defaults``: the installation's thresholds (``outcomes.Thresholds``), else 5/10/5;
    ``host``: the plugin host whose ``surveyhub_report_sections`` add sections (None: none);
    ``project``: the project ``slug`` names, when the caller resolved it already (``ServiceContext.project``).
    """
    from surveyhub.rendering import report as report_pdf
    from surveyhub.services import project_story

    lang = texts.language(lang)
    project = project or access.project(session, actor, slug, "project.outcomes")
    if report is None:
        report = _project_report(session, registry, actor, slug, min_means, min_tests, min_cell, defaults, project)
    photos = project_story.output_photos(session, actor, slug) if any(
        output["photo"] for output in report["project"]["outputs"]) else {}
    data = dc.report_data(session, project, report, lang, photos)
    sections = dc.plugin_sections(host, "surveyhub_report_sections", dc.report_hook_context(data))

    def build(code: str, issued_at: datetime) -> bytes:
        return report_pdf.render(data, code=code, issued_at=issued_at, verify_url=f"{base_url}/verify/{code}",
                                 sections=sections)
    return _prepare(session, actor, kind="report", project=project, lang=lang, build=build)


def _project_report(session, registry, actor, slug, min_means, min_tests, min_cell, defaults, project) -> Report:
    from surveyhub.services import outcomes

    return outcomes.project_report(session, registry, actor, slug, min_means=min_means, min_tests=min_tests,
                                   min_cell=min_cell, defaults=defaults, project=project)


def issue_report(session: Session, registry, actor: Actor, slug: str, *, lang: str = "nl", base_url: str,
                 min_means: int | None = None, min_tests: int | None = None, min_cell: int | None = None,
                 defaults=None, report: Report | None = None, host=None,
                 project: Project | None = None) -> IssuedDocument:
    """The report PDF (``surveyhub report PROJECT --format pdf`` calls this)."""
    return issue(session, prepare_report(session, registry, actor, slug, base_url=base_url, lang=lang,
                                         min_means=min_means, min_tests=min_tests, min_cell=min_cell,
                                         defaults=defaults, report=report, host=host, project=project))


# --- paper -----------------------------------------------------------------------------------------

def prepare_questionnaire(session: Session, actor: Actor, slug: str, wave_kind: str, *, lang: str = "nl",
                          participant_code: str | None = None, retention_months: int | None = None) -> Prepared:
    """A printable questionnaire of one wave, page for page as the paper-entry screens.

    ``participant_code``: printed for that resident, with their code filled in (and registered as theirs);
    ``retention_months``: the installation's default retention period, for the consent's promise.
    """
    from surveyhub.rendering import paper
    from surveyhub.services.participants import get_participant

    if wave_kind not in WAVE_KINDS:
        raise Invalid(N_("unknown wave %(wave)r (choose pre, post or followup)"), wave=wave_kind)
    lang = texts.language(lang)
    project = access.project(session, actor, slug, "project.rows")
    participant = get_participant(session, actor, slug, participant_code, project=project) if participant_code \
        else None
    data = dc.questionnaire_data(session, project, wave_kind, lang, retention_months=retention_months,
                                 resident_code=participant.code if participant else None)
    wave = texts.PAPER[lang]["waves"][wave_kind]
    for_whom = f" {participant.code}" if participant else ""
    prepared = _prepare(session, actor, kind="questionnaire", project=project, lang=lang,
                        build=lambda code, at: paper.render_questionnaire(data, code=code, issued_at=at),
                        participant=participant, title_extra=f" {wave}{for_whom}",
                        name_extra=f"{project.slug}-{wave_kind}" + (f"-{participant.code}" if participant else ""))
    # One questionnaire per wave (and resident): the wave and code (in the title) make it "the same document".
    return replace(prepared, previous=_previous_questionnaire(session, project.id, lang, prepared.title))


def questionnaire_pdf(session: Session, actor: Actor, slug: str, wave_kind: str, *, lang: str = "nl",
                      participant_code: str | None = None, retention_months: int | None = None) -> IssuedDocument:
    return issue(session, prepare_questionnaire(session, actor, slug, wave_kind, lang=lang,
                                                participant_code=participant_code,
                                                retention_months=retention_months))


def _previous_questionnaire(session, project_id, lang, title) -> tuple[str, datetime, str] | None:
    return _previous_titled(session, "questionnaire", project_id, lang, title)


def _previous_titled(session, kind, project_id, lang, title) -> tuple[str, datetime, str] | None:
    """The latest unrevoked document of ``kind`` with exactly this title (one per wave, per resident)."""
    found = session.scalar(select(Document).where(Document.kind == kind, Document.project_id == project_id,
                                                  Document.language == lang, Document.title == title[:300],
                                                  Document.revoked_at.is_(None))
                           .order_by(Document.issued_at.desc(), Document.id.desc()).limit(1))
    return (found.code, found.issued_at.astimezone(timezone.utc), found.sha256) if found else None


def prepare_link_sheet(session: Session, actor: Actor, slug: str, *, base_url: str, lang: str = "nl",
                       participant_codes: list[str] | None = None) -> Prepared:
    """A sheet of cards with each resident's QR code and personal link (workers only: links are secrets)."""
    from surveyhub.rendering import paper

    lang = texts.language(lang)
    project = access.project(session, actor, slug, "project.rows")
    data = dc.sheet_data(session, project, base_url, lang, participant_codes, issued_by=actor.user_id)
    return _prepare(session, actor, kind="sheet", project=project, lang=lang,
                    build=lambda code, at: paper.render_sheet(data, code=code, issued_at=at))


def prepare_link_card(session: Session, actor: Actor, slug: str, participant_code: str, *, base_url: str,
                      lang: str = "nl") -> Prepared:
    """One resident's card, e.g. after a new link or a lost card: the link sheet with only them on it.

    Registered as theirs (withdrawn with their data), under a title of its own, so it never
    stands in for the project's whole sheet.
    """
    from surveyhub.services.participants import get_participant

    project = access.project(session, actor, slug, "project.rows")
    participant = get_participant(session, actor, slug, participant_code, project=project)
    if not any(token.revoked_at is None for token in participant.tokens):
        raise Invalid(N_("%(code)s has no personal link"), code=participant.code)
    prepared = prepare_link_sheet(session, actor, slug, base_url=base_url, lang=lang,
                                  participant_codes=[participant.code])
    title = f"{prepared.title} ({participant.code})"
    return replace(prepared, title=title, participant_id=participant.id, participant_code=participant.code,
                   filename=prepared.filename.removesuffix(".pdf") + f"-{_safe(participant.code)}.pdf",
                   previous=_previous_titled(session, "sheet", project.id, prepared.language, title))


def link_sheet_pdf(session: Session, actor: Actor, slug: str, *, base_url: str, lang: str = "nl",
                   participant_codes: list[str] | None = None) -> IssuedDocument:
    return issue(session, prepare_link_sheet(session, actor, slug, base_url=base_url, lang=lang,
                                             participant_codes=participant_codes))
