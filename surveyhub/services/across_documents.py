"""The organisation's year report and the network report as registered PDFs.

Issued like the project's impact report (``services.documents``): *prepare* reads
(the report JSON through ``org_report.build`` or the network report, the
organisation's branding and signing key), *render* draws without a session, and
*register* records the document (kind ``org_report`` or ``network_report``; a
network report also names its network in ``Document.network_id``) with its
verification code, so ``/verify`` and ``surveyhub verify FILE`` recognise it. The
same report asked for again, unchanged, is handed out again under its own code
(``documents.render`` compares the bytes); a changed one gets a new code.

The report is the actor's: a funder's organisation report holds only the projects
shared with them, so two readers may get two different documents for one period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import select

from surveyhub.models import Document
from surveyhub.rendering import texts
from surveyhub.services import access
from surveyhub.services import document_context as dc
from surveyhub.services import documents as docs
from surveyhub.services.context import ServiceContext

ORG_KIND, NETWORK_KIND = "org_report", "network_report"


@dataclass(frozen=True)
class Prepared(docs.Prepared):
    """``documents.Prepared`` and the network a network report describes."""

    network_id: int | None = None


def prepare_org_report(ctx: ServiceContext, *, start: date, end: date, lang: str | None = None,
                       report: dict | None = None) -> Prepared:
    """The organisation report of ``start`` … ``end`` (both inclusive), ready to render and register.

    ``report``: the report JSON when the caller built it already, else ``org_report.build`` makes it.
    """
    from surveyhub.services import org_report

    access.require(ctx.actor, "org.outcomes")
    if report is None:
        report = dict(org_report.build(ctx, start=start, end=end))
    org = access.organisation(ctx.session, ctx.actor)
    return _prepare(ctx, ORG_KIND, report, lang, name=org.name, stem=org.slug, network_id=None)


def prepare_network_report(ctx: ServiceContext, network_slug: str, *, start: date, end: date,
                           lang: str | None = None, report: dict | None = None) -> Prepared:
    """The network report of ``start`` … ``end``, issued by (and registered to) the actor's organisation."""
    network = access.network(ctx.session, ctx.actor, network_slug, "network.outcomes")
    if report is None:
        report = dict(_network_report(ctx, network_slug, start, end))
    report.setdefault("network", {"name": network.name, "area": network.area, "description": network.description})
    return _prepare(ctx, NETWORK_KIND, report, lang, name=network.name, stem=network.slug, network_id=network.id)


def _network_report(ctx: ServiceContext, slug: str, start: date, end: date) -> Any:
    """The network report JSON (``services.networks``; in ``services.network_report`` once it grows)."""
    import importlib

    try:
        source = importlib.import_module("surveyhub.services.network_report")
    except ImportError:
        source = importlib.import_module("surveyhub.services.networks")
    return source.report(ctx, slug, start=start, end=end)


def issue_org_report(ctx: ServiceContext, *, start: date, end: date, lang: str | None = None) -> tuple[bytes, str]:
    """The organisation report's PDF, registered: its bytes and verification code (``surveyhub report --org``)."""
    issued = issue(ctx, prepare_org_report(ctx, start=start, end=end, lang=lang))
    return issued.pdf, issued.code


def issue_network_report(ctx: ServiceContext, network_slug: str, *, start: date, end: date,
                         lang: str | None = None) -> tuple[bytes, str]:
    """The network report's PDF, registered: its bytes and verification code (``surveyhub network report``)."""
    issued = issue(ctx, prepare_network_report(ctx, network_slug, start=start, end=end, lang=lang))
    return issued.pdf, issued.code


def issue(ctx: ServiceContext, prepared: Prepared) -> docs.IssuedDocument:
    return register(ctx.session, prepared, docs.render(prepared))


def register(session, prepared: Prepared, rendered: docs.Rendered) -> docs.IssuedDocument:
    """``documents.register``, and the network on a newly registered network report."""
    issued = docs.register(session, prepared, rendered)
    if prepared.network_id is not None and not rendered.reused:
        session.scalar(select(Document).where(Document.code == rendered.code)).network_id = prepared.network_id
        session.flush()
    return issued


# --- the common steps --------------------------------------------------------------------------------------

def _prepare(ctx: ServiceContext, kind: str, report: dict, lang: str | None, *, name: str, stem: str,
             network_id: int | None) -> Prepared:
    from surveyhub.rendering import across_report
    from surveyhub.rendering.across_texts import ACROSS

    lang = texts.language(lang or ctx.lang)
    org = access.organisation(ctx.session, ctx.actor)
    t = ACROSS[lang]
    kicker = t["kicker_network"] if network_id is not None else t["kicker_org"]
    title = f"{kicker} {across_report.short_period(report['period'], lang)} — {name}"
    file_kind = t["file_network"] if network_id is not None else t["file_org"]
    filename = "-".join(_safe(part) for part in (file_kind, stem, report["period"]["start"],
                                                 report["period"]["end"])) + ".pdf"
    data = {"lang": lang, "report": report, "organisation": dc.organisation_data(org)}
    base_url = ctx.base_url

    def build(code: str, issued_at: datetime) -> bytes:
        return across_report.render(data, code=code, issued_at=issued_at, verify_url=f"{base_url}/verify/{code}")

    base = docs.Prepared(kind, org.id, None, None, None, lang, title, filename, ctx.actor.user_id,
                         _previous(ctx, kind, org.id, network_id, lang, title),
                         docs._signed(build, org, title))
    return Prepared(**{field: getattr(base, field) for field in docs.Prepared.__dataclass_fields__},
                    network_id=network_id)


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", part).strip("-")[:80] or "x"


def _previous(ctx: ServiceContext, kind: str, org_id: int, network_id: int | None, lang: str,
              title: str) -> tuple[str, datetime, str] | None:
    """The latest unrevoked report of this kind, organisation (network), period and language.

    A funder's report holds only the projects shared with them: theirs are compared with their own.
    """
    query = select(Document).where(Document.kind == kind, Document.organisation_id == org_id,
                                   Document.language == lang, Document.title == title[:300],
                                   Document.revoked_at.is_(None))
    query = query.where(Document.network_id == network_id if network_id is not None
                        else Document.network_id.is_(None))
    if ctx.actor.role == access.FUNDER:
        query = query.where(Document.issued_by_id == ctx.actor.user_id)
    found = ctx.session.scalar(query.order_by(Document.issued_at.desc(), Document.id.desc()).limit(1))
    return (found.code, found.issued_at.astimezone(timezone.utc), found.sha256) if found else None
