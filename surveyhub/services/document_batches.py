"""Documents made for a web download: within a time and memory budget, and in parts that fit.

A web request must end well inside the worker timeout (gunicorn: 30 s), and
a document may be registered only when its bytes were really made. So:

- every render for the web runs within a :class:`Budget` (a child process
  that is stopped when the time or memory is up, ``documents.budget``);
- certificates for a ZIP, for a printable book (one PDF, in name order) and
  cards for a link sheet come in parts of at most ``CERTIFICATES_PER_ZIP``,
  ``CERTIFICATES_PER_BOOK`` and ``RESIDENTS_PER_SHEET``; the documents page
  offers one download per part; ``surveyhub certificates`` makes them all;
- a report with more than ``REPORT_SECTIONS`` scale sections is refused on
  the web (``surveyhub report PROJECT --format pdf`` makes it);
- all documents of a ZIP are rendered first and registered together after
  the last one was made: a render that fails or is stopped registers nothing.

The numbers come from ``bench/document_caps.py`` and are explained in
``docs/documents.md``: each part takes a third or less of the timeout on a
busy two-core server.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyhub.rendering import budget as budgets
from surveyhub.models import Document, Participant, Project, Token
from surveyhub.services import access
from surveyhub.services import documents as docs
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Invalid, UserError

#: Certificates in one web ZIP (about 70–100 ms each on a two-core server).
CERTIFICATES_PER_ZIP = 100
#: Certificates in one printable PDF made on the web: each is drawn twice (its own PDF, which is
#: registered, and its page in the book), so a book holds half a ZIP.
CERTIFICATES_PER_BOOK = 50
#: Residents on one web link sheet (about 25–30 ms a card).
RESIDENTS_PER_SHEET = 250
#: Scale sections (now and retrospective) in a report made on the web (about 200 ms each).
REPORT_SECTIONS = 40

Budget = budgets.Budget
OverBudget = budgets.OverBudget


class TooLarge(Invalid):
    """More than one web download may hold; ``what`` is "certificates", "sheet" or "report"."""

    def __init__(self, what: str, count: int, limit: int):
        self.what, self.count, self.limit = what, count, limit
        super().__init__(N_("%(count)s %(what)s entries is more than the %(limit)s one download may hold"),
                         count=count, what=what, limit=limit)


class RenderStopped(UserError):
    """A render went over its budget and was stopped; nothing was registered."""


class RenderFailed(UserError):
    """A render raised; nothing was registered."""


def render(prepared: docs.Prepared, budget: Budget | None) -> docs.Rendered:
    """:func:`services.documents.render` within ``budget``."""
    return render_all([prepared], budget)[0]


def render_all(prepared: list[docs.Prepared], budget: Budget | None) -> list[docs.Rendered]:
    """Render every document (all or none) within one ``budget``; nothing is registered here."""
    try:
        return budgets.run(lambda: [docs.render(one) for one in prepared], budget)
    except budgets.OverBudget as exc:
        raise RenderStopped(str(exc)) from exc
    except budgets.RenderFailed as exc:
        raise RenderFailed(N_("the document could not be made: %(error)s"), error=str(exc)) from exc


def register_all(session: Session, prepared: list[docs.Prepared],
                 rendered: list[docs.Rendered]) -> list[docs.IssuedDocument]:
    """Register the documents just made, in the caller's (short) transaction."""
    return [docs.register(session, one, drawn) for one, drawn in zip(prepared, rendered)]


def render_book(prepared: list[docs.Prepared], budget: Budget | None, title: str) -> tuple[list[docs.Rendered], bytes]:
    """Every certificate of ``prepared`` (to register, as for a ZIP) and the book of all their pages,
    in the order given, within one ``budget``; nothing is registered here."""
    from surveyhub.rendering import certificate

    def work():
        rendered = [docs.render(one) for one in prepared]
        pages = [one.page(drawn.code, drawn.issued_at) for one, drawn in zip(prepared, rendered) if one.page]
        return rendered, certificate.render_book(pages, title=title, issued_at=max(r.issued_at for r in rendered))
    try:
        return budgets.run(work, budget)
    except budgets.OverBudget as exc:
        raise RenderStopped(str(exc)) from exc
    except budgets.RenderFailed as exc:
        raise RenderFailed(N_("the document could not be made: %(error)s"), error=str(exc)) from exc


# --- parts -------------------------------------------------------------------------------------------

def parts(total: int, size: int) -> list[tuple[int, int]]:
    """``(first, last)`` positions (from 1) of each part of ``size`` in ``total``."""
    return [(start + 1, min(start + size, total)) for start in range(0, total, size)]


def part_slice(items: list, part: int, size: int) -> list:
    """Part ``part`` (from 1) of ``items``; a part that does not exist is a user error."""
    if part < 1 or (part - 1) * size >= len(items):
        raise Invalid(N_("there is no part %(part)s"), part=part)
    return items[(part - 1) * size: part * size]


def linked_codes(session: Session, actor: Actor, slug: str) -> list[str]:
    """Codes of the residents with an active personal link, in the link sheet's order."""
    project = access.project(session, actor, slug, "project.rows")
    query = (select(Participant.code).join(Token, Token.participant_id == Participant.id)
             .where(Participant.project_id == project.id, Token.revoked_at.is_(None))
             .group_by(Participant.id, Participant.code).order_by(Participant.id))
    return list(session.scalars(query))


def sheet_size(session: Session, actor: Actor, slug: str) -> int:
    project = access.project(session, actor, slug, "project.rows")
    return session.scalar(select(func.count(func.distinct(Token.participant_id)))
                          .join(Participant, Participant.id == Token.participant_id)
                          .where(Participant.project_id == project.id, Token.revoked_at.is_(None))) or 0


def prepare_sheet_part(session: Session, actor: Actor, slug: str, part: int, *, base_url: str, lang: str = "nl",
                       size: int | None = None) -> docs.Prepared:
    """The link sheet of residents ``(part - 1) * size + 1`` to ``part * size`` (``RESIDENTS_PER_SHEET``)."""
    size = size or RESIDENTS_PER_SHEET
    codes = linked_codes(session, actor, slug)
    if len(codes) <= size and part == 1:  # one part: the whole sheet, as before (also when it is empty)
        return docs.prepare_link_sheet(session, actor, slug, base_url=base_url, lang=lang)
    chosen = part_slice(codes, part, size)
    prepared = docs.prepare_link_sheet(session, actor, slug, base_url=base_url, lang=lang, participant_codes=chosen)
    first, last = (part - 1) * size + 1, (part - 1) * size + len(chosen)
    title = f"{prepared.title} ({first}–{last})"
    filename = prepared.filename.removesuffix(".pdf") + f"-{first}-{last}.pdf"
    return replace(prepared, title=title, filename=filename,
                   previous=_previous_by_title(session, "sheet", prepared.project_id, prepared.language, title))


def prepare_chosen_sheet(session: Session, actor: Actor, slug: str, codes: list[str], *, base_url: str,
                         lang: str = "nl") -> docs.Prepared:
    """The cards of the residents a worker chose on the residents page (at most ``RESIDENTS_PER_SHEET``).

    Titled with the chosen codes (the first few and the count), so it never stands in for the whole sheet.
    """
    if len(codes) > RESIDENTS_PER_SHEET:
        raise TooLarge("sheet", len(codes), RESIDENTS_PER_SHEET)
    prepared = docs.prepare_link_sheet(session, actor, slug, base_url=base_url, lang=lang, participant_codes=codes)
    named = ", ".join(codes[:3]) + (f" … ({len(codes)})" if len(codes) > 3 else "")
    title = f"{prepared.title} ({named})"
    filename = prepared.filename.removesuffix(".pdf") + f"-{len(codes)}.pdf"
    return replace(prepared, title=title, filename=filename,
                   previous=_previous_by_title(session, "sheet", prepared.project_id, prepared.language, title))


def prepare_report(session: Session, registry, actor: Actor, slug: str, *, base_url: str, lang: str = "nl",
                   host=None, defaults=None, limit: int | None = None, project: Project | None = None) -> docs.Prepared:
    """The impact report, refused (:class:`TooLarge`) with more than ``limit`` (``REPORT_SECTIONS``) scale sections.

    ``project``: the project ``slug`` names, when the caller resolved it already (``ServiceContext.project``).
    """
    limit = limit or REPORT_SECTIONS
    from surveyhub.services import outcomes

    report = outcomes.project_report(session, registry, actor, slug, defaults=defaults, project=project)
    sections = len(report.get("scales") or []) + len(report.get("retrospective") or [])
    if sections > limit:
        raise TooLarge("report", sections, limit)
    return docs.prepare_report(session, registry, actor, slug, base_url=base_url, lang=lang, report=report,
                               host=host, defaults=defaults, project=project)


def _previous_by_title(session: Session, kind: str, project_id: int | None, lang: str,
                       title: str) -> tuple[str, datetime, str] | None:
    found = session.scalar(select(Document).where(Document.kind == kind, Document.project_id == project_id,
                                                  Document.language == lang, Document.title == title[:300],
                                                  Document.revoked_at.is_(None))
                           .order_by(Document.issued_at.desc(), Document.id.desc()).limit(1))
    return (found.code, found.issued_at.astimezone(timezone.utc), found.sha256) if found else None
