"""Benchmark: one certificate against a bare one-page WeasyPrint render with the same fonts.

    .venv/bin/python bench/certificate_render.py [--runs 40] [--profile]

Both renders use the same process-wide renderer (the same parsed fonts and
font configuration), the same URL fetcher and the same PDF/UA-1 output, so
the ratio is the cost of the certificate's content. Also timed, for
information: issuing through the service (database read, render, comparison
with the registered document). Target: certificate ≤ 2 × bare page.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _documents_data import BASE_URL, build, cleanup, make_app  # noqa: E402

BARE_HTML = ('<!doctype html><html lang="nl"><head><title>Certificaat</title></head><body>'
             '<h1>Certificaat</h1><p>Je deed mee aan Speeltuin De Vlinder van Buurtwerk Demo.</p></body></html>')


def median_ms(fn, runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of ``fn`` (CPU time is what a busy machine does not distort)."""
    fn()  # warm: imports, caches
    wall, cpu = [], []
    for _ in range(runs):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--profile", action="store_true", help="after the timings, cProfile 20 certificate renders")
    args = parser.parse_args()

    from weasyprint import CSS, HTML

    from surveyhub.rendering.render import FONT_FACES, PDF_OPTIONS, RefusingFetcher, get_renderer
    from surveyhub.services import access
    from surveyhub.services import documents as docs

    app = make_app()
    org_id, slug = build(app, 12)
    renderer = get_renderer()
    bare_css = CSS(string=FONT_FACES + 'html { font-family: "SurveyHub Sans"; } @page { size: A4; }',
                   font_config=renderer.font_config, url_fetcher=RefusingFetcher(fonts=True))

    def bare() -> bytes:
        return HTML(string=BARE_HTML, url_fetcher=RefusingFetcher()).write_pdf(
            stylesheets=[bare_css], font_config=renderer.font_config, pdf_identifier=b"SurveyHub", **PDF_OPTIONS)

    with app.app_context(), app.extensions["surveyhub.db"].session() as session:
        actor = access.Actor(organisation_id=org_id, role="admin")
        code = docs.certificate_candidates(session, actor, slug)[0].code
        prepared = docs.prepare_certificate(session, actor, slug, code, base_url=BASE_URL)
        from surveyhub.services import document_context, participants
        data = document_context.certificate_data(session, access.project(session, actor, slug, "project.rows"),
                                                 participants.get_participant(session, actor, slug, code),
                                                 kind="certificate", lang="nl")
        grown = sum(1 for scale in data["scales"] if scale["grew"])
        issued_at = datetime(2026, 11, 25, 10, tzinfo=timezone.utc)
        docs.issue(session, prepared)
        session.commit()

        def certificate() -> bytes:
            return prepared.build("K7P2-4QX9-MT3R", issued_at)

        def service() -> None:
            docs.issue(session, docs.prepare_certificate(session, actor, slug, code, base_url=BASE_URL))
            session.rollback()

        bare_ms = median_ms(bare, args.runs)
        cert_ms = median_ms(certificate, args.runs)
        service_ms = median_ms(service, max(5, args.runs // 4))
        if args.profile:
            _profile(certificate)

    cleanup(app)
    print("medians                    wall ms   CPU ms")
    print(f"bare one-page render       {bare_ms[0]:7.1f}  {bare_ms[1]:7.1f}")
    ratio = cert_ms[0] / bare_ms[0]
    print(f"certificate render         {cert_ms[0]:7.1f}  {cert_ms[1]:7.1f}   ratio {ratio:4.2f} × bare "
          f"(wall), {cert_ms[1] / bare_ms[1]:4.2f} × (CPU); target ≤ 2")
    print(f"certificate via service    {service_ms[0]:7.1f}  {service_ms[1]:7.1f}   (database read + render + compare)")
    print(f"grown skills on this certificate: {grown}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def _profile(fn) -> None:
    """Where a certificate's time goes: the costliest functions by own and by cumulative time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(20):
        fn()
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
