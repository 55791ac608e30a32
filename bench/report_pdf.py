"""Benchmark: the impact report PDF of a 1,000-resident project against a bare one-page render.

    .venv/bin/python bench/report_pdf.py [--residents 1000] [--runs 5] [--database-url URL]

Times in the same run (medians):

- ``bare``: a bare one-page WeasyPrint render with the same fonts and options;
- ``report JSON``: ``services.outcomes.project_report`` (the statistics);
- ``report PDF``: rendering that JSON to the PDF (``documents.report``), no database;
- ``issue``: ``services.documents.issue_report`` end to end (JSON, render, register).

Prints the ratios to the bare page, and peak memory: the tracemalloc peak of
one PDF render (Python allocations) and the process's maximum resident size.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _documents_data import BASE_URL, build, cleanup, make_app  # noqa: E402


def timed(fn, runs: int) -> tuple[tuple[float, float], object]:
    """Median wall-clock and CPU milliseconds, and the last result."""
    result = fn()
    wall, cpu = [], []
    for _ in range(runs):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return (statistics.median(wall) * 1000, statistics.median(cpu) * 1000), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from weasyprint import CSS, HTML

    from surveyhub.rendering import report as report_pdf
    from surveyhub.rendering.render import FONT_FACES, PDF_OPTIONS, RefusingFetcher, get_renderer
    from surveyhub.plugins import get_registry
    from surveyhub.services import access, document_context, outcomes
    from surveyhub.services import documents as docs

    app = make_app(args.database_url)
    org_id, slug = build(app, args.residents)
    renderer = get_renderer()
    bare_css = CSS(string=FONT_FACES + 'html { font-family: "SurveyHub Sans"; } @page { size: A4; }',
                   font_config=renderer.font_config, url_fetcher=RefusingFetcher(fonts=True))
    bare_html = ('<!doctype html><html lang="nl"><head><title>Impactrapportage</title></head><body>'
                 '<h1>Impactrapportage</h1><p>Wat Speeltuin Bench bewoners heeft opgeleverd.</p></body></html>')

    def bare():
        return HTML(string=bare_html, url_fetcher=RefusingFetcher()).write_pdf(
            stylesheets=[bare_css], font_config=renderer.font_config, pdf_identifier=b"SurveyHub", **PDF_OPTIONS)

    issued_at = datetime(2026, 11, 25, 10, tzinfo=timezone.utc)
    with app.app_context(), app.extensions["surveyhub.db"].session() as session:
        actor = access.Actor(organisation_id=org_id, role="worker")  # a funder would need the project shared first
        registry = get_registry(app)
        json_ms, report = timed(lambda: outcomes.project_report(session, registry, actor, slug), args.runs)
        project = access.project(session, actor, slug, "project.outcomes")
        data = document_context.report_data(session, project, report, "nl")
        session.rollback()

        def render():
            return report_pdf.render(data, code="K7P2-4QX9-MT3R", issued_at=issued_at,
                                     verify_url=f"{BASE_URL}/verify/K7P2-4QX9-MT3R", sections=[])

        def issue():
            issued = docs.issue_report(session, registry, actor, slug, base_url=BASE_URL)
            session.rollback()
            return issued

        bare_ms, _ = timed(bare, max(20, args.runs))
        pdf_ms, pdf = timed(render, args.runs)
        issue_ms, _ = timed(issue, args.runs)
        tracemalloc.start()
        render()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    import io

    from pypdf import PdfReader

    cleanup(app)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.residents} residents, 5 scales, pre + post + retrospective block; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("medians                    wall ms     CPU ms")
    print(f"bare one-page render     {bare_ms[0]:9.1f}  {bare_ms[1]:9.1f}")
    print(f"report JSON (outcomes)   {json_ms[0]:9.1f}  {json_ms[1]:9.1f}")
    print(f"report PDF render        {pdf_ms[0]:9.1f}  {pdf_ms[1]:9.1f}   {pdf_ms[1] / bare_ms[1]:5.1f} × bare (CPU)   "
          f"({pages} pages, {len(pdf) / 1024:.0f} KiB)")
    ratio = issue_ms[1] / bare_ms[1]
    print(f"issue_report end to end  {issue_ms[0]:9.1f}  {issue_ms[1]:9.1f}   {ratio:5.1f} × bare (CPU)")
    print(f"peak memory: {peak / 2**20:.1f} MiB Python allocations during one PDF render (tracemalloc); "
          f"process maximum resident size {rss_mb:.0f} MiB")


if __name__ == "__main__":
    main()
