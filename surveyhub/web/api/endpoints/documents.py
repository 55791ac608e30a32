"""Issued documents through the API: list, metadata, the PDF, and the check the public /verify page makes.

Who sees which document mirrors the documents page: impact reports need ``project.outcomes``
(a funder token: only of projects shared with its funder), certificates, questionnaires and link
sheets ``project.rows`` (admins and workers), the organisation's year and network reports
``org.documents``. Anything else, another organisation's document included, is a 404.

The register keeps a document's code, fingerprint and date, not its bytes. The PDF is drawn
again with its own code and date, within the render budget, and handed out only when the result
is byte for byte the registered file (so it verifies as genuine). When what the document was made
from has changed since (new answers, another name typed on a certificate), the registered file
cannot be made again: a 409 says so, and nothing new is issued by a GET.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Literal

from flask import current_app, request, url_for
from pydantic import BaseModel, ConfigDict, Field, model_validator
from spectree import Response

from surveyhub.services import audit, badge_credentials
from surveyhub.services import document_batches as batches
from surveyhub.services import documents as docs
from surveyhub.services.errors import NotFound
from surveyhub.web.api import bp, spec
from surveyhub.web.api.auth import api_route, current_actor, service_context
from surveyhub.web.api.endpoints.exports import download
from surveyhub.web.api.endpoints.projects import COMMON, ON_PROJECT
from surveyhub.web.api.errors import ApiProblem
from surveyhub.web.api.problems import Problem

#: The capability a document of each kind needs (the documents page's rule).
CAPABILITY = {"report": "project.outcomes", "certificate": "project.rows", "participation": "project.rows",
              "questionnaire": "project.rows", "sheet": "project.rows", "org_report": "org.documents",
              "network_report": "org.documents"}
#: Kinds whose file the API can draw again (the others are made on their pages or by the CLI).
REMADE = ("report", "certificate", "participation")
MAX_CODE = 64


class DocumentOut(BaseModel):
    """An issued document as the register holds it."""

    code: str = Field(description="The verification code printed on the document.")
    kind: str = Field(description="report, certificate, participation, questionnaire, sheet, org_report or "
                                  "network_report.")
    title: str
    organisation: str = Field(description="The issuing organisation's name.")
    project: str | None = Field(default=None, description="The project's slug (null for organisation reports).")
    participant: str | None = Field(default=None, description="The resident's pseudonymous code, on a certificate; "
                                                              "never shown to a funder token.")
    language: str
    sha256: str = Field(description="SHA-256 of the issued file, hex.")
    issued_at: datetime
    revoked: bool
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    superseded: bool = Field(description="A newer document of the same kind was issued for the same resident "
                                         "or project.")
    file: str = Field(description="Where the PDF can be downloaded (`GET` with the token), under the "
                                  "installation's address.")


class DocumentList(BaseModel):
    documents: list[DocumentOut] = Field(description="Newest first, a page of at most `limit`.")
    next_offset: int | None = Field(default=None, description="The `offset` of the next page; null on the last.")


class DocumentQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=500, ge=1, le=500, description="Documents per page.")
    offset: int = Field(default=0, ge=0, le=100_000, description="Documents to skip (newest first).")


class VerifyIn(BaseModel):
    """Either a document's code or an Open Badges credential (one of the two)."""

    code: str | None = Field(default=None, max_length=MAX_CODE, description="The verification code on the document.")
    credential: str | None = Field(default=None, max_length=badge_credentials.MAX_JWT_CHARS,
                                   description="An Open Badges 3.0 credential issued here (the VC-JWT text).")

    @model_validator(mode="after")
    def _one_of_the_two(self):
        if (self.code is None) == (self.credential is None):
            raise ValueError("send either code or credential")
        return self


class VerifyUpload(BaseModel):
    """The multipart form: the PDF as the part ``file``."""

    file: Any = Field(description="The PDF to check.", json_schema_extra={"type": "string", "format": "binary"})


class VerifiedDocument(BaseModel):
    """What the public check page shows about a registered document (nothing about the resident)."""

    code: str
    kind: str
    title: str
    organisation: str
    project: str | None = Field(default=None, description="The project's name.")
    issued_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    superseded: bool


class VerifiedCredential(BaseModel):
    """What checking an Open Badges credential found (what the public check page shows)."""

    id: str | None = Field(default=None, description="The credential's id (urn:uuid:...).")
    issuer: str | None = Field(default=None, description="The issuing organisation's name.")
    issuer_id: str | None = Field(default=None, description="The issuer profile's URL.")
    achievement: str | None = Field(default=None, description="The badge's title.")
    narrative: str | None = Field(default=None, description="What earned it, in words.")
    valid_from: datetime | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None


class VerifyOut(BaseModel):
    """The answer of /verify: is this genuine?"""

    kind: Literal["document", "credential"] = Field(
        default="document", description="What was checked: `document` (a PDF or its code) or `credential` (an Open "
                                        "Badges VC-JWT).")
    checked: Literal["file", "code", "signature"] = Field(
        description="`file`: the bytes were compared; `code`: only the code; `signature`: a credential's signature, "
                    "validity dates and status list entry.")
    status: str = Field(description="A document: `genuine`, `altered` (a registered code, other bytes), `revoked`, "
                                    "`withdrawn` (the resident withdrew) or `unknown`. A credential: `valid`, "
                                    "`revoked`, `bad_signature`, `unknown_issuer`, `not_yet_valid`, `expired` or "
                                    "`malformed`.")
    document: VerifiedDocument | None = None
    credential: VerifiedCredential | None = None


def _out(info: docs.DocumentInfo, show_participant: bool) -> DocumentOut:
    return DocumentOut(code=info.code, kind=info.kind, title=info.title, organisation=info.organisation,
                       project=info.project_slug, participant=info.participant_code if show_participant else None,
                       language=info.language, sha256=info.sha256, issued_at=info.issued_at, revoked=info.revoked,
                       revoked_at=info.revoked_at, revoked_reason=info.revoked_reason, superseded=info.superseded,
                       file=current_app.config["BASE_URL"].rstrip("/") + url_for("api.document_file", code=info.code))


def _find(code: str):
    """``(document info, its project or None)`` when the token may see the document, else NotFound."""
    ctx = service_context()
    found = docs.verify_code(ctx.session, code[:MAX_CODE]).document
    if found is None:
        raise NotFound("no such document")
    capability = CAPABILITY.get(found.kind, "project.rows")
    if found.project_slug is not None:
        return found, ctx.project(found.project_slug, capability)
    if not ctx.actor.can(capability):
        raise NotFound("no such document")
    return docs.get_document(ctx.session, ctx.actor, found.code), None  # NotFound for another organisation's


@bp.get("/projects/<slug>/documents")
@api_route("project.outcomes", "documents:read")
@spec.validate(query=DocumentQuery, resp=Response(HTTP_200=DocumentList, HTTP_422=Problem, **ON_PROJECT),
               tags=["documents"])
def list_documents(slug: str, query: DocumentQuery):
    """The project's issued documents, newest first, a page at a time (`next_offset`).

    Admin and worker tokens: every document (certificates, reports, questionnaires, link sheets); a
    funder token: the impact reports of a project shared with its funder.
    """
    ctx = service_context()
    rows = ctx.actor.can("project.rows")
    found = docs.list_documents(ctx.session, ctx.actor, slug, limit=query.offset + query.limit + 1)
    page = found[query.offset:query.offset + query.limit]
    more = len(found) > query.offset + query.limit
    return DocumentList(documents=[_out(info, rows) for info in page],
                        next_offset=query.offset + query.limit if more else None)


@bp.get("/documents/<code>")
@api_route("project.outcomes", "documents:read")
@spec.validate(resp=Response(HTTP_200=DocumentOut, HTTP_404=Problem, **COMMON), tags=["documents"])
def document(code: str):
    """One issued document: kind, title, date, fingerprint, and whether it was revoked or superseded."""
    info, _project = _find(code)
    return _out(info, current_actor().can("project.rows"))


@bp.get("/documents/<code>/file")
@api_route("project.outcomes", "documents:read")
@spec.validate(resp=Response(HTTP_200=(None, "The PDF (application/pdf), byte for byte the issued file."),
                             HTTP_404=Problem, HTTP_409=Problem, HTTP_503=Problem, **COMMON),
               tags=["documents"], skip_validation=True)
def document_file(code: str):
    """The issued PDF.

    Impact reports, certificates and certificates of participation: the file is drawn again with
    its own code and date and handed out only when it is exactly the registered file (it then
    verifies as genuine). 409 when the data it was made from changed since it was issued, or for
    kinds made only on their pages (questionnaires, link sheets, organisation reports): issue a new
    document there. Recorded in the audit log.
    """
    info, project = _find(code)
    if info.kind not in REMADE or project is None:
        raise ApiProblem(409, "conflict", f"A {info.kind} document is handed out where it is made; the API "
                                          "draws again only reports and certificates.")
    pdf = _remake(info, project)
    ctx = service_context()
    details = {"kind": info.kind, "participant": info.participant_code, "language": info.language, "via": "api"}
    audit.record(ctx.session, audit.document_download(info.kind), actor=ctx.actor, target=f"document:{info.code}",
                 project_id=project.id, details={key: value for key, value in details.items() if value is not None})
    ctx.session.commit()
    response = download(iter([pdf]), "application/pdf", f"{info.kind}-{info.code}.pdf")
    response.headers["X-Document-Code"] = info.code
    return response


def _remake(info: docs.DocumentInfo, project) -> bytes:
    """The registered document's bytes, drawn again with its code and date; 409 when they differ now."""
    ctx = service_context()
    if info.kind == "report":
        prepared = docs.prepare_report(ctx.session, ctx.registry, ctx.actor, project.slug, base_url=ctx.base_url,
                                       lang=info.language, defaults=ctx.thresholds, host=ctx.host, project=project)
    elif info.participant_code is None:  # the resident withdrew: the certificate names nobody any more
        raise ApiProblem(409, "conflict", "This certificate's resident is no longer in the project.")
    else:  # drawn as its issuer: a certificate names the worker who issued it
        issuer = replace(ctx.actor, user_id=info.issued_by_id)
        prepared = docs.prepare_certificate(ctx.session, issuer, project.slug, info.participant_code,
                                            base_url=ctx.base_url, lang=info.language, kind=info.kind,
                                            host=ctx.host, project=project, registry=ctx.registry)
    issued_at = info.issued_at.astimezone(timezone.utc)
    draw = prepared.build
    # Draw only with the document's own code: a mismatch must not draw a second file under a new one.
    prepared = replace(prepared, previous=(info.code, issued_at, info.sha256),
                       build=lambda code, when: draw(code, when) if code == info.code else b"")
    ctx.session.commit()  # no transaction stays open while the PDF is drawn
    try:
        rendered = batches.render(prepared, batches.budget_from(current_app.config))
    except batches.RenderStopped:
        raise ApiProblem(503, "unavailable", "Drawing the document took too long; try again later.",
                         {"Retry-After": "60"}) from None
    if not rendered.reused:
        raise ApiProblem(409, "conflict", "What this document was made from changed since it was issued, so the "
                                          "registered file cannot be made again. Issue a new one on the "
                                          "project's documents page.")
    return rendered.pdf


@bp.post("/verify")
@api_route("project.list", "documents:read")
@spec.validate(json=VerifyIn, form=VerifyUpload,
               resp=Response(HTTP_200=VerifyOut, HTTP_413=Problem, HTTP_422=Problem, **COMMON), tags=["documents"])
def verify():
    """Check a document, as the public /verify page does.

    Send the PDF as the multipart part `file` (its bytes are compared with the register: `genuine`,
    `altered`, `revoked`, `withdrawn` or `unknown`), JSON `{"code": "..."}` (the code alone:
    `genuine`, `revoked`, `withdrawn` or `unknown`), or JSON `{"credential": "<VC-JWT>"}` (an Open
    Badges credential issued here: signature, validity and status list). Any organisation's documents
    and credentials can be checked; the answer says only what the public check page says.
    """
    ctx = service_context()
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        limit = current_app.config["MAX_UPLOAD_BYTES"]
        data = upload.read(limit + 1) if upload is not None else b""
        if not data:
            raise ApiProblem(422, "invalid", "Send the PDF as the multipart part 'file', or JSON {\"code\": ...}.")
        if len(data) > limit:
            raise ApiProblem(413, "too-large", f"The file is too large: at most {limit // (1024 * 1024)} MB.")
        result, checked = docs.verify_file(ctx.session, data), "file"
    else:
        body = request.get_json(silent=True) or {}
        if body.get("credential") is not None:
            return _verify_credential(str(body["credential"]))
        result, checked = docs.verify_code(ctx.session, str(body.get("code", ""))[:MAX_CODE]), "code"
    found = result.document
    verified = None if found is None else VerifiedDocument(
        code=found.code, kind=found.kind, title=found.title, organisation=found.organisation, project=found.project,
        issued_at=found.issued_at, revoked_at=found.revoked_at, revoked_reason=found.revoked_reason,
        superseded=found.superseded)
    return VerifyOut(checked=checked, status=result.status, document=verified)


def _verify_credential(text: str) -> VerifyOut:
    """An Open Badges credential, checked as ``surveyhub verify`` and the /verify page check it."""
    ctx = service_context()
    found = badge_credentials.verify(ctx.session, text, ctx.base_url)
    facts = None if found.status in ("malformed", "bad_signature") else VerifiedCredential(
        id=found.credential_id, issuer=found.issuer_name, issuer_id=found.issuer_id, achievement=found.achievement,
        narrative=found.narrative, valid_from=found.valid_from, revoked_at=found.revoked_at,
        revoked_reason=found.revoked_reason)
    return VerifyOut(kind="credential", checked="signature", status=found.status, credential=facts)
