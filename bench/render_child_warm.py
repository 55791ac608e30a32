"""A certificate rendered within its budget (in a forked child): from a cold parent against a warm one.

Every render a worker or a page makes within the render budget runs in a forked child
(``rendering.budget``), and what a child parses and loads is lost when it ends. The parent now
warms its renderer once (``Renderer.warm_up``: stylesheets, templates, fonts, one small page) so
each child starts with it. Printed: medians over the demo's certificates, a child of a cold parent
(what every render paid before), a child of a warm parent, and the floor measured in the same run:
the same certificate rendered in this process with a warm renderer (no fork, no budget).

Usage: .venv/bin/python bench/render_child_warm.py [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from surveyhub import create_app  # noqa: E402
from surveyhub.models import Project  # noqa: E402
from surveyhub.plugins import get_host, get_registry  # noqa: E402
from surveyhub.rendering import budget as budgets  # noqa: E402
from surveyhub.services import access, demo, schema_state  # noqa: E402
from surveyhub.services import document_batches as batches  # noqa: E402
from surveyhub.services import documents as docs  # noqa: E402

BASE_URL = "http://surveyhub.bench"


def timed(work, *args) -> float:
    start = time.perf_counter()
    work(*args)
    return time.perf_counter() - start


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    folder = Path(tempfile.mkdtemp(prefix="surveyhub-bench-"))
    app = create_app({"INSTANCE_PATH": str(folder), "SECRET_KEY": "bench", "PLUGINS_DIR": "",
                      "QUEUE_URL": "immediate", "BASE_URL": BASE_URL})
    schema_state.upgrade(app.extensions["surveyhub.db"])
    with app.extensions["surveyhub.db"].session() as session:
        demo.load(session, get_registry(app), BASE_URL, folder)
        session.commit()
    with app.app_context(), app.extensions["surveyhub.db"].session() as session:
        slug = session.scalars(select(Project.slug).where(Project.name == demo.DEMO_PROJECT)).one()
        actor = access.cli_actor(session, project_slug=slug)
        prepared = [docs.prepare_certificate(session, actor, slug, candidate.code, base_url=BASE_URL,
                                             registry=get_registry(app), host=get_host(app))
                    for candidate in docs.certificate_candidates(session, actor, slug)]
    budget = budgets.Budget()
    # Cold first: nothing has rendered in this process yet, and what a child loads dies with it.
    cold = [timed(budgets.run, partial(docs.render, one), budget) for _ in range(rounds) for one in prepared]
    warm = [timed(batches.render, one, budget) for _ in range(rounds) for one in prepared]
    floor = [timed(docs.render, one) for _ in range(rounds) for one in prepared]
    cold_ms, warm_ms, floor_ms = (statistics.median(x) * 1000 for x in (cold, warm, floor))
    print(f"{len(prepared)} demo certificates x {rounds} rounds, medians:")
    print(f"  child of a cold parent  {cold_ms:7.1f} ms   ({cold_ms / floor_ms:.2f}x the floor)")
    print(f"  child of a warm parent  {warm_ms:7.1f} ms   ({warm_ms / floor_ms:.2f}x the floor)")
    print(f"  floor: in this process  {floor_ms:7.1f} ms")


if __name__ == "__main__":
    main()
