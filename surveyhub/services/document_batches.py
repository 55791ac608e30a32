"""Documents made in steps: every render within a time and memory budget, large sheets and books in parts.

A document may be registered only when its bytes were really made, and no
single render may run without bound. So:

- every render runs within a :class:`Budget` (a child process that is
  stopped when the time or memory is up, ``rendering.budget``): the instant
  downloads of the documents page and each item of a document job
  (``services.document_jobs``) alike;
- a link sheet is made in parts of at most ``RESIDENTS_PER_SHEET`` residents
  and a printable book of certificates in parts of ``CERTIFICATES_PER_BOOK``
  pages, each part within its budget; :func:`join_pdfs` puts the parts
  together into one file;
- the documents of one render are registered only after the last one was
  made: a render that fails or is stopped registers nothing.

The numbers come from ``bench/document_caps.py`` and are explained in
``docs/documents.md``: each part takes a third or less of the budget on a
busy two-core server.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyhub.rendering import budget as budgets
from surveyhub.models import Document, Participant, Project, Token
from surveyhub.services import access
from surveyhub.services import documents as docs
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Invalid, UserError

log = logging.getLogger(__name__)

#: Pages in one part of a printable book of certificates (about 70–100 ms a page on a two-core server).
CERTIFICATES_PER_BOOK = 50
#: Residents on one part of a link sheet (about 25–30 ms a card).
RESIDENTS_PER_SHEET = 250

Budget = budgets.Budget
OverBudget = budgets.OverBudget


class RenderStopped(UserError):
    """A render went over its budget and was stopped; nothing was registered."""


class RenderFailed(UserError):
    """A render raised; nothing was registered."""


def budget_from(settings) -> Budget:
    """The render budget the settings give (``RENDER_TIMEOUT_SECONDS``, ``RENDER_MEMORY_MB``)."""
    return Budget(float(settings.get("RENDER_TIMEOUT_SECONDS", 20)), int(settings.get("RENDER_MEMORY_MB", 1024)))


@contextmanager
def _children_allowed():
    """Let a daemonic process start the render's child.

    Huey's process workers are daemonic, and ``multiprocessing`` refuses children to a
    daemonic process (so that none outlives it). The render's child cannot outlive its
    budget: it is killed when the time is up, and a result is read before it ends.
    """
    config = multiprocessing.current_process()._config  # type: ignore[attr-defined]
    daemonic = config.get("daemon")
    if daemonic:
        config["daemon"] = False
    try:
        yield
    finally:
        if daemonic:
            config["daemon"] = daemonic


def _within(work: Callable[[], Any], budget: Budget | None) -> Any:
    if budget is not None:
        _warm_up()
    try:
        with _children_allowed():
            return budgets.run(work, budget)
    except budgets.OverBudget as exc:
        raise RenderStopped(N_("making it took too long, so it was stopped (%(why)s)"), why=str(exc)) from exc
    except budgets.RenderFailed as exc:
        raise RenderFailed(N_("the document could not be made: %(error)s"), error=str(exc)) from exc


def _warm_up() -> None:
    """Parse and load what every render needs in this process, so each budgeted child starts with it."""
    from surveyhub.rendering.render import get_renderer  # WeasyPrint is imported only by what renders

    try:
        get_renderer().warm_up()
    except Exception:  # noqa: BLE001 - the render itself, in its child, reports what is wrong
        log.warning("warming up the renderer failed", exc_info=True)


def render(prepared: docs.Prepared, budget: Budget | None) -> docs.Rendered:
    """:func:`services.documents.render` within ``budget``."""
    return render_all([prepared], budget)[0]


def render_all(prepared: list[docs.Prepared], budget: Budget | None) -> list[docs.Rendered]:
    """Render every document (all or none) within one ``budget``; nothing is registered here."""
    return _within(lambda: [docs.render(one) for one in prepared], budget)


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
    return _within(work, budget)


def book_part(pages: list[dict], budget: Budget | None, title: str) -> bytes:
    """Pages of certificates issued already (``Prepared.page`` values) as one part of a book, within ``budget``."""
    from surveyhub.rendering import certificate

    return _within(lambda: certificate.render_book(pages, title=title, issued_at=max(p["issued_at"] for p in pages)),
                   budget)


def join_pdfs(parts: Iterable[bytes], title: str) -> bytes:
    """The parts of a sheet or book as one PDF titled ``title`` (a single part is returned as it is)."""
    from pypdf import PdfWriter

    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    writer = PdfWriter()
    for part in parts:
        writer.append(io.BytesIO(part))
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- link sheets in parts ------------------------------------------------------------------------------

def part_count(total: int, size: int) -> int:
    """How many parts of ``size`` hold ``total`` (at least one: an empty sheet is one part)."""
    return max(1, -(-total // size))


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
    if len(codes) <= size and part == 1:  # one part: the whole sheet (also when it is empty)
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
    """The cards of residents a worker chose on the residents page (one part: ``RESIDENTS_PER_SHEET`` at most).

    Titled with the chosen codes (the first few and the count), so it never stands in for the whole sheet.
    """
    if len(codes) > RESIDENTS_PER_SHEET:
        raise Invalid(N_("at most %(limit)s residents fit one part of a sheet"), limit=RESIDENTS_PER_SHEET)
    prepared = docs.prepare_link_sheet(session, actor, slug, base_url=base_url, lang=lang, participant_codes=codes)
    named = ", ".join(codes[:3]) + (f" … ({len(codes)})" if len(codes) > 3 else "")
    title = f"{prepared.title} ({named})"
    filename = prepared.filename.removesuffix(".pdf") + f"-{len(codes)}.pdf"
    return replace(prepared, title=title, filename=filename,
                   previous=_previous_by_title(session, "sheet", prepared.project_id, prepared.language, title))


def prepare_report(session: Session, registry, actor: Actor, slug: str, *, base_url: str, lang: str = "nl",
                   host=None, defaults=None, project: Project | None = None) -> docs.Prepared:
    """The impact report as the documents page makes it (the scale sections are bounded by the render budget).

    ``project``: the project ``slug`` names, when the caller resolved it already (``ServiceContext.project``).
    """
    return docs.prepare_report(session, registry, actor, slug, base_url=base_url, lang=lang, host=host,
                               defaults=defaults, project=project)


def _previous_by_title(session: Session, kind: str, project_id: int | None, lang: str,
                       title: str) -> tuple[str, datetime, str] | None:
    found = session.scalar(select(Document).where(Document.kind == kind, Document.project_id == project_id,
                                                  Document.language == lang, Document.title == title[:300],
                                                  Document.revoked_at.is_(None))
                           .order_by(Document.issued_at.desc(), Document.id.desc()).limit(1))
    return (found.code, found.issued_at.astimezone(timezone.utc), found.sha256) if found else None
