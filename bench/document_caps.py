"""Benchmark: how long the web's document downloads take, to choose their caps.

    .venv/bin/python bench/document_caps.py [--residents 600]

A web request must finish well inside the worker timeout (gunicorn: 30 s).
Measured through the services as a download does it (read, render,
compare with the register), on SQLite: the link sheet for growing numbers
of residents, certificates one after another (as the ZIP makes them), and
the impact report for growing numbers of scale sections. The caps in ``services/documents.py`` allow for a
machine three times slower or three times busier than this one.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _documents_data import BASE_URL, build, cleanup, make_app  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=600)
    args = parser.parse_args()

    import secrets

    from sqlalchemy import insert, select

    from surveyhub.plugins import get_registry
    from surveyhub.models import Participant, Token
    from surveyhub.services import access, outcomes
    from surveyhub.services import documents as docs

    app = make_app()
    _org_id, slug = build(app, args.residents)
    db = app.extensions["surveyhub.db"]
    with db.engine.begin() as conn:  # personal links, as the link sheet prints them
        conn.execute(insert(Token), [{"participant_id": i + 1, "token": secrets.token_urlsafe(24)}
                                     for i in range(args.residents)])
    with app.app_context(), db.session() as session:
        actor = access.cli_actor(session, project_slug=slug)
        codes = list(session.scalars(select(Participant.code).order_by(Participant.id)))

        def sheet(n: int):
            docs.render(docs.prepare_link_sheet(session, actor, slug, base_url=BASE_URL,
                                                participant_codes=codes[:n]))

        def certificates(n: int):
            for code in codes[:n]:
                docs.render(docs.prepare_certificate(session, actor, slug, code, base_url=BASE_URL))

        sheet(10)  # warm: fonts, stylesheets
        for n in (100, 300, args.residents):
            seconds = timed(lambda n=n: sheet(n))
            print(f"link sheet, {n} residents: {seconds:.2f} s ({seconds / n * 1000:.1f} ms per resident)")
        seconds = timed(lambda: certificates(50))
        print(f"certificates one after another, 50: {seconds:.2f} s ({seconds / 50 * 1000:.0f} ms each)")
        seconds = timed(lambda: docs.render(docs.prepare_report(session, get_registry(app), actor, slug,
                                                                base_url=BASE_URL)))
        print(f"impact report, {args.residents} residents, 5 instruments: {seconds:.2f} s (computing included)")
        report = outcomes.project_report(session, get_registry(app), actor, slug)
        for copies in (1, 5, 10, 20):
            bigger = {**report, "scales": report["scales"] * copies,
                      "retrospective": report["retrospective"] * copies}
            n = len(bigger["scales"]) + len(bigger["retrospective"])
            seconds = timed(lambda bigger=bigger: docs.render(docs.prepare_report(
                session, get_registry(app), actor, slug, base_url=BASE_URL, report=bigger)))
            print(f"impact report PDF, {n} scale sections: {seconds:.2f} s ({seconds / n * 1000:.0f} ms each)")
    cleanup(app)


if __name__ == "__main__":
    main()
