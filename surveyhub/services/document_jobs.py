"""Documents made in the background: all certificates (a ZIP or a book to print), the report, link sheets,
and large exports.

Each kind splits its work into small items (``services.jobs``) that may run
twice — a duplicated task, a worker killed after the work but before the
record — and stay right: an item prepares, renders within the render budget
(``document_batches.render``) and registers ONE document, and registering is
idempotent (an unchanged document is handed out again with its own code,
``services.documents``), so a second run registers nothing new. The finish
step only puts the items' bytes together; it issues nothing.

The job's parameters are plain values (slug, languages, codes, format), never
names or e-mail addresses; the job acts as the user who started it
(``jobs.actor_for``), so the role rules hold when it runs, not only when it
was started.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime

from surveyhub.services import audit, exports, jobs
from surveyhub.services import document_batches as batches
from surveyhub.services import documents as docs
from surveyhub.services.job_kinds import ItemDone, JobRun, Kind, ResultFile

#: Row exports of more rows (responses) than this run as a job; smaller ones stay an instant download. A
#: 2,000-row XLSX, the slowest built-in format, took 2.7 s (median of 3) on a busy two-core server.
EXPORT_ROWS_INSTANT = 2000


def _slug(run: JobRun) -> str:
    return str(run.params["slug"])


def _issue(run: JobRun, prepared: docs.Prepared) -> ItemDone:
    """Render ``prepared`` within the budget and register it (idempotent); its bytes are the item's output."""
    session = run.ctx.session
    session.commit()  # no transaction stays open while WeasyPrint works
    issued = docs.register(session, prepared, batches.render(prepared, batches.budget_from(run.settings)))
    session.commit()
    return ItemDone(result={"code": issued.code, "filename": issued.filename,
                            "issued_at": issued.issued_at.isoformat()}, output=issued.pdf)


# --- certificates ------------------------------------------------------------------------------------------

def _prepare_certificate(run: JobRun, code: str) -> docs.Prepared:
    ctx = run.ctx
    return docs.prepare_certificate(ctx.session, ctx.actor, _slug(run), code, base_url=ctx.base_url,
                                    lang=run.params.get("certificate_lang"), host=ctx.host,
                                    project=ctx.project(_slug(run), "project.rows"), registry=ctx.registry)


def certificate_item(run: JobRun, code: str) -> ItemDone:
    """One resident's certificate (or proof of participation), issued once."""
    return _issue(run, _prepare_certificate(run, code))


def _record_certificates(run: JobRun, count: int, **details) -> None:
    """One "download.certificates" event for the whole batch (committed with the result)."""
    audit.download(run.ctx.session, run.ctx.actor, "download.certificates", _slug(run), count=count,
                   language=run.params.get("certificate_lang"), **details)


def _zip_chunks(run: JobRun) -> Iterator[bytes]:
    """The ZIP of the done items' PDFs, written one PDF at a time (PDFs are compressed already: stored)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as archive:
        for _code, result, output in jobs.outputs(run.ctx.session, run.job_id):
            if output is not None and result is not None:
                archive.writestr(str(result["filename"]), output)
                yield sink.take()
    yield sink.take()


class _Sink(io.RawIOBase):
    """A write-only stream whose bytes are taken as they come (``zipfile`` writes to it without seeking)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def zip_finish(run: JobRun) -> ResultFile:
    _record_certificates(run, len(jobs.item_results(run.ctx.session, run.job_id)))
    return ResultFile(f"certificates-{_slug(run)}.zip", "application/zip", _zip_chunks(run))


def book_finish(run: JobRun) -> ResultFile:
    """The certificates as one PDF to print, in the items' (name) order: each page is the certificate its item
    issued (same code and date), drawn in parts of ``CERTIFICATES_PER_BOOK`` pages and joined."""
    from surveyhub.rendering import certificate

    done = jobs.item_results(run.ctx.session, run.job_id)
    project = run.ctx.project(_slug(run), "project.rows")
    title = f"{certificate.book_title(run.params.get('certificate_lang'))} — {project.name}"
    size = batches.CERTIFICATES_PER_BOOK
    parts = []
    for start in range(0, len(done), size):
        pages = [_prepare_certificate(run, code).page(str(result["code"]),  # type: ignore[misc]
                                                      datetime.fromisoformat(str(result["issued_at"])))
                 for code, result in done[start:start + size] if result is not None]
        run.ctx.session.commit()
        parts.append(batches.book_part(pages, batches.budget_from(run.settings), title))
        run.beat()
    _record_certificates(run, len(done), format="pdf")
    return ResultFile(f"certificates-{_slug(run)}.pdf", "application/pdf", iter([batches.join_pdfs(parts, title)]))


# --- the report ------------------------------------------------------------------------------------------

def report_item(run: JobRun, _key: str) -> ItemDone:
    """The whole impact report: prepared, rendered within the budget and registered, as one step."""
    ctx = run.ctx
    slug = _slug(run)
    prepared = batches.prepare_report(ctx.session, ctx.registry, ctx.actor, slug, base_url=ctx.base_url,
                                      lang=str(run.params.get("lang") or "nl"), host=ctx.host,
                                      defaults=ctx.thresholds, project=ctx.project(slug, "project.outcomes"))
    return _issue(run, prepared)


def _only_output(run: JobRun) -> tuple[dict, bytes]:
    """The result and bytes of a job of one item (its finish runs only once that item is done)."""
    (_key, result, output), = list(jobs.outputs(run.ctx.session, run.job_id))
    return result or {}, output or b""


def _single_pdf(run: JobRun, action: str) -> ResultFile:
    """The job's one document, as its item made it; the download is recorded once."""
    result, output = _only_output(run)
    audit.download(run.ctx.session, run.ctx.actor, action, _slug(run), target=f"document:{result['code']}",
                   kind="report", language=run.params.get("lang"))
    return ResultFile(str(result["filename"]), "application/pdf", iter([output]))


def report_finish(run: JobRun) -> ResultFile:
    return _single_pdf(run, "download.report")


# --- link sheets -------------------------------------------------------------------------------------------

def sheet_keys(total: int) -> list[str]:
    """The items of a link sheet of ``total`` residents: one per part of ``RESIDENTS_PER_SHEET``."""
    return [str(part) for part in range(1, batches.part_count(total, batches.RESIDENTS_PER_SHEET) + 1)]


def sheet_item(run: JobRun, key: str) -> ItemDone:
    """Part ``key`` of the sheet: of the whole project, or of the residents chosen (``params["codes"]``)."""
    ctx = run.ctx
    part, lang, size = int(key or 1), str(run.params.get("lang") or "nl"), batches.RESIDENTS_PER_SHEET
    codes = run.params.get("codes")
    if codes:
        prepared = batches.prepare_chosen_sheet(ctx.session, ctx.actor, _slug(run),
                                                batches.part_slice(list(codes), part, size),
                                                base_url=ctx.base_url, lang=lang)
    else:
        prepared = batches.prepare_sheet_part(ctx.session, ctx.actor, _slug(run), part, base_url=ctx.base_url,
                                              lang=lang)
    return _issue(run, prepared)


def sheet_finish(run: JobRun) -> ResultFile:
    """The parts as one PDF (each part keeps its own code, the one its pages show)."""
    session = run.ctx.session
    done = list(jobs.outputs(session, run.job_id))
    name = str(done[0][1]["filename"]) if done[0][1] else f"links-{_slug(run)}.pdf"
    if len(done) > 1:  # "…-1-250.pdf" or, for chosen residents, "…-250.pdf": the whole file's name
        codes = run.params.get("codes")
        name = re.sub(r"-\d+(-\d+)?\.pdf$", f"-{len(codes)}.pdf" if codes else ".pdf", name)
    audit.download(session, run.ctx.actor, "download.link_sheet", _slug(run), kind="sheet", parts=len(done),
                   language=run.params.get("lang"))
    pdf = batches.join_pdfs([output or b"" for _key, _result, output in done], name.removesuffix(".pdf"))
    return ResultFile(name, "application/pdf", iter([pdf]))


# --- row exports -------------------------------------------------------------------------------------------

def export_rows(session, actor, slug: str) -> int:
    """Rows of the project's row export (one per resident and wave begun), to choose a download or a job."""
    from sqlalchemy import func, select

    from surveyhub.models import Response, Wave
    from surveyhub.services import access

    project = access.project(session, actor, slug, "project.rows")
    return session.scalar(select(func.count()).select_from(Response).join(Wave, Wave.id == Response.wave_id)
                          .where(Wave.project_id == project.id)) or 0


def export_item(run: JobRun, _key: str) -> ItemDone:
    """The whole export file (a workbook or SPSS file is valid only once finished); nothing is issued."""
    ctx = run.ctx
    fmt, dialect = str(run.params["format"]), str(run.params.get("dialect") or "default")
    exporter = exports.exporter_for(fmt, ctx.host, dialect)
    table = exports.response_table(ctx.session, ctx.actor, _slug(run), lang=str(run.params.get("lang") or "nl"))
    ctx.session.commit()
    data = b"".join(exports.chunks(exporter, table))
    suffix = "-excel-nl" if dialect == "excel-nl" else ""
    return ItemDone(result={"filename": f"{_slug(run)}-responses{suffix}.{exporter.extension}",
                            "mime": exporter.mimetype}, output=data)


def export_finish(run: JobRun) -> ResultFile:
    result, output = _only_output(run)
    dialect = run.params.get("dialect")
    audit.download(run.ctx.session, run.ctx.actor, "download.export", _slug(run), format=run.params["format"],
                   dialect=None if dialect in (None, "default") else dialect, table="responses")
    return ResultFile(str(result["filename"]), str(result["mime"]), iter([output]))


KINDS: list[Kind] = [
    Kind("certificates.zip", "project.rows", certificate_item, zip_finish),
    Kind("certificates.pdf", "project.rows", certificate_item, book_finish),
    Kind("report.pdf", "project.outcomes", report_item, report_finish),
    Kind("links.pdf", "project.rows", sheet_item, sheet_finish),
    Kind("export", "project.rows", export_item, export_finish),
]
