"""What Open Badges add to a resident finishing the post wave, in a project of N residents (5 instruments).

Per finished post response, ``badges.on_completion`` checks the resident's valid badges against their
stored scores (``_withdraw_outdated``: corrected answers withdraw a badge) and judges the project's rule
for them (``badge_rules.awards``); here every resident's badges are issued already, the usual case of a
finished form saved again, so nothing new is signed.

Floor, in the same run: scoring that response (``responses.score_response``), the work every completion
does anyway. Three rounds over the same residents; medians per resident printed, and the ratio.

Usage: .venv/bin/python bench/badge_completion.py [N] [RESIDENTS_TIMED]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from bench._documents_data import build, cleanup, make_app  # noqa: E402
from surveyhub.models import BadgeCredential, Project, Response, Wave  # noqa: E402
from surveyhub.plugins import get_registry  # noqa: E402
from surveyhub.services import access, badges, responses  # noqa: E402
from surveyhub.services.context import ServiceContext  # noqa: E402
from surveyhub.services.outcomes import Thresholds  # noqa: E402

ROUNDS = 3
BASE_URL = "http://surveyhub.bench"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    timed = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    app = make_app()
    org_id, slug = build(app, n)
    db = app.extensions["surveyhub.db"]
    methods = get_registry(app).scoring_methods
    with db.session() as session:
        ctx = ServiceContext(session=session, actor=access.Actor(organisation_id=org_id, role="admin"),
                             registry=get_registry(app), host=None, thresholds=Thresholds(), base_url=BASE_URL)
        badges.set_rule(ctx, slug, "either")
        started = time.perf_counter()
        issued = badges.issue_for_project(ctx, slug)
        session.commit()
        issuing = time.perf_counter() - started
        project = session.scalar(select(Project).where(Project.slug == slug))
        posts = list(session.scalars(select(Response).join(Wave).where(Wave.project_id == project.id,
                                                                       Wave.kind == "post").limit(timed)))
        hook = badges.on_completion(BASE_URL)
        hook_ms, floor_ms = [], []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            for response in posts:
                responses.score_response(session, project, response, methods)
            floor_ms.append((time.perf_counter() - started) * 1000 / len(posts))
            session.rollback()
            started = time.perf_counter()
            for response in posts:
                hook(project, response)
            hook_ms.append((time.perf_counter() - started) * 1000 / len(posts))
            session.rollback()
        still = session.scalar(select(BadgeCredential.id).where(BadgeCredential.revoked_at.is_not(None)))
    cleanup(app)
    assert still is None, "nothing was corrected, so nothing may be withdrawn"
    hook_median, floor_median = statistics.median(hook_ms), statistics.median(floor_ms)
    print(f"{n} residents, {len(issued)} badges issued in {issuing:.2f} s")
    print(f"per finished post response ({len(posts)} residents x {ROUNDS} rounds, medians):")
    print(f"  badges (withdraw check + rule): {hook_median:.1f} ms")
    print(f"  floor (scoring the response):   {floor_median:.1f} ms")
    print(f"  ratio badges / floor: {hook_median / floor_median:.2f}")


if __name__ == "__main__":
    main()
