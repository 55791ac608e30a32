"""The organisation's issued year reports and network reports: the list on the year report page, and revoking.

A registered document (``services.across_documents``) holds its code, title, language, issuer and
date, but not its period: the period is read back from what made it (the job's parameters while
the job is kept, else the audit trail's record of the download, which names the document's code,
else the title when it names a whole calendar year, "... 2026 — Name"). Where none says it, the list
shows the title (which holds the period) and offers no re-make.

Who sees the list (capability ``org.documents``): admins and workers. Funders see none of it: a
report made by a worker holds every project of the organisation, also those not shared with the
funder, and a document does not record which projects it was made from, so no rule could tell
which of them a funder may see. They get the PDF from the organisation, or make their own.
Revoking is ``document_register.revoke`` (admins only, a reason, audited).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from surveyhub.rendering import verify as codes
from surveyhub.models import AuditEvent, Document, Job, JobItem, Network, User
from surveyhub.services import access, document_register
from surveyhub.services.access import ADMIN, Actor
from surveyhub.services.errors import NotFound

KINDS = ("org_report", "network_report")
JOB_KINDS = {"org_report.pdf": "org_report", "network_report.pdf": "network_report"}


@dataclass(frozen=True)
class IssuedReport:
    """One issued year or network report, as the organisation's list shows it."""

    code: str
    kind: str
    title: str
    language: str
    issued_at: datetime
    #: Who made it: their name, else their e-mail address; None when the user is gone or the command line made it.
    issued_by: str | None
    revoked_at: datetime | None
    revoked_reason: str | None
    superseded: bool
    start: date | None
    end: date | None
    #: The network a network report describes: its name, and its slug while the organisation can still open it.
    network_name: str | None = None
    network_slug: str | None = None
    #: The public id of a finished job of the reader's whose file is this document (download it there).
    job: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def can_remake(self) -> bool:
        """The period is known, and a network report's network can still be opened."""
        return self.start is not None and self.end is not None and (
            self.kind == "org_report" or self.network_slug is not None)


def list_reports(session: Session, actor: Actor, limit: int = 200) -> list[IssuedReport]:
    """The organisation's issued year and network reports, newest first."""
    access.require(actor, "org.documents")
    docs = list(session.scalars(select(Document).where(
        Document.organisation_id == actor.organisation_id, Document.kind.in_(KINDS))
        .order_by(Document.issued_at.desc(), Document.id.desc()).limit(limit)))
    if not docs:
        return []
    codes = {doc.code for doc in docs}
    periods, files = _from_jobs(session, actor, codes)
    for code, period in _from_audit(session, actor, codes - set(periods)).items():
        periods.setdefault(code, period)
    users = {user.id: (user.name or user.email) for user in session.scalars(
        select(User).where(User.id.in_({doc.issued_by_id for doc in docs if doc.issued_by_id})))}
    networks = {network.id: network for network in session.scalars(
        select(Network).where(Network.id.in_({doc.network_id for doc in docs if doc.network_id})))}
    reachable = set(session.scalars(access.networks_query(actor).with_only_columns(Network.id)))
    newest: dict[tuple, int] = {}
    for doc in docs:  # one per kind, network, period (the title) and language; docs are newest first
        if doc.revoked_at is None:
            newest.setdefault((doc.kind, doc.network_id, doc.title, doc.language), doc.id)
    found = []
    for doc in docs:
        network = networks.get(doc.network_id) if doc.network_id else None
        start, end = periods.get(doc.code) or _year_in(doc.title) or (None, None)
        found.append(IssuedReport(
            code=doc.code, kind=doc.kind, title=doc.title, language=doc.language, issued_at=doc.issued_at,
            issued_by=users.get(doc.issued_by_id) if doc.issued_by_id else None, revoked_at=doc.revoked_at,
            revoked_reason=doc.revoked_reason,
            superseded=doc.revoked_at is None and newest.get(
                (doc.kind, doc.network_id, doc.title, doc.language), doc.id) != doc.id,
            start=start, end=end, network_name=network.name if network else None,
            network_slug=network.slug if network is not None and network.id in reachable else None,
            job=None if doc.revoked_at is not None else files.get(doc.code)))
    return found


def find(session: Session, actor: Actor, code: str) -> IssuedReport:
    """One of the organisation's issued year or network reports, by code (``NotFound`` otherwise)."""
    wanted = codes.normalise_code(code)
    for report in list_reports(session, actor, limit=10_000):
        if report.code == wanted:
            return report
    raise NotFound(f"no report {code!r}")


def revoke(session: Session, actor: Actor, code: str, reason: str) -> IssuedReport:
    """Revoke one of these reports (admins; a reason; audited): from now on ``/verify`` says so."""
    find(session, actor, code)  # only a year or network report through this page
    document_register.revoke(session, actor, code, reason)
    return find(session, actor, code)


def _from_jobs(session: Session, actor: Actor, codes: set[str]) -> tuple[dict, dict]:
    """Periods by code from the organisation's report jobs, and the reader's ready files by code."""
    rows = session.execute(
        select(Job.public_id, Job.params, Job.status, Job.result_size, Job.created_by_id, JobItem.result)
        .join(JobItem, JobItem.job_id == Job.id)
        .where(Job.organisation_id == actor.organisation_id, Job.kind.in_(tuple(JOB_KINDS)),
               JobItem.status == "done")
        .order_by(Job.id.desc())).all()
    periods: dict[str, tuple[date, date]] = {}
    files: dict[str, str] = {}
    for public_id, params, status, size, creator, result in rows:
        code = (result or {}).get("code")
        if code not in codes:
            continue
        period = _period((params or {}).get("start"), (params or {}).get("end"))
        if period is not None:
            periods.setdefault(code, period)
        # The jobs page shows a job to whoever started it, and to the organisation's admins.
        if status == "done" and size is not None and (actor.role == ADMIN or creator == actor.user_id):
            files.setdefault(code, public_id)
    return periods, files


def _from_audit(session: Session, actor: Actor, codes: set[str]) -> dict[str, tuple[date, date]]:
    """Periods by code from the audit trail's report downloads (the page's job, the command line)."""
    if not codes:
        return {}
    found: dict[str, tuple[date, date]] = {}
    for details in session.scalars(select(AuditEvent.details).where(
            AuditEvent.organisation_id == actor.organisation_id, AuditEvent.action == "download.report",
            or_(AuditEvent.target.like("organisation:%"), AuditEvent.target.like("network:%")))
            .order_by(AuditEvent.id.desc())):
        details = details or {}
        code = details.get("document")
        if code not in codes or code in found:
            continue
        start, end = details.get("start"), details.get("end")
        if start is None and isinstance(details.get("period"), str):  # the command line: "2026-01-01..2026-12-31"
            start, _sep, end = details["period"].partition("..")
        period = _period(start, end)
        if period is not None:
            found[code] = period
    return found


def _year_in(title: str) -> tuple[date, date] | None:
    """A whole calendar year as ``across_documents`` writes it in a title: "<kind> 2026 — <name>"."""
    found = re.fullmatch(r".* (\d{4})", title.split(" — ", 1)[0])
    return (date(int(found.group(1)), 1, 1), date(int(found.group(1)), 12, 31)) if found else None


def _period(start, end) -> tuple[date, date] | None:
    try:
        return date.fromisoformat(str(start)), date.fromisoformat(str(end))
    except ValueError:
        return None
