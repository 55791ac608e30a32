"""N webhook messages (a bulk import's) to a receiver that accepts the connection and never answers:
the worker time their first attempts take (``services.webhook_delivery.send_one`` one after another, as
one queue worker runs them).

Floor, in the same run: one attempt's timeout (``WEBHOOK_TIMEOUT``, here 1 s) times N, what the queue spent
before an endpoint's silence held its other messages back. Also: the same N messages to a receiver that
answers 200 at once (what sending itself costs). Three rounds each; medians printed.

Usage: .venv/bin/python bench/webhook_silent_receiver.py [N]
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete  # noqa: E402

from bench._documents_data import cleanup, make_app  # noqa: E402
from surveyhub.models import WebhookDelivery  # noqa: E402
from surveyhub.services import access, accounts, webhook_delivery, webhooks  # noqa: E402
from tests.fixtures import webhook_receiver  # noqa: E402

ROUNDS = 3
TIMEOUT = 1.0


def run(app, actor, url: str, n: int) -> float:
    db = app.extensions["surveyhub.db"]
    with db.session() as session:
        session.execute(delete(WebhookDelivery))
        endpoint = webhooks.save_endpoint(session, actor, url=url, events=["response.completed"],
                                          allow_private=True)
        session.commit()
        ids = [webhooks.emit(session, actor.organisation_id, "response.completed",
                             {"project": "speeltuin", "participant": f"R-{i:05d}"})[0] for i in range(n)]
        session.commit()
        start = time.perf_counter()
        for delivery_id in ids:
            assert webhook_delivery.send_one(session, delivery_id, settings=app.config).attempted
        seconds = time.perf_counter() - start
        webhooks.delete_endpoint(session, actor, endpoint.id)
        session.commit()
        return seconds


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    app = make_app()
    app.config.update(WEBHOOK_TIMEOUT=TIMEOUT)
    with app.extensions["surveyhub.db"].session() as session:
        org = accounts.create_organisation(session, "Buurtwerk Noord")
        session.commit()
        actor = access.Actor(organisation_id=org.id, role="admin")
    silent, silent_server = webhook_receiver.start()
    silent.hold = threading.Event()
    answering, answering_server = webhook_receiver.start()
    try:
        held = [run(app, actor, silent.url, n) for _ in range(ROUNDS)]
        quick = [run(app, actor, answering.url, n) for _ in range(ROUNDS)]
    finally:
        webhook_receiver.stop(silent, silent_server)
        webhook_receiver.stop(answering, answering_server)
        cleanup(app)
    floor = n * TIMEOUT
    print(f"{n} messages, receiver never answers: median {statistics.median(held):.2f} s of worker time "
          f"(rounds {', '.join(f'{s:.2f}' for s in held)}); one timeout per message would be {floor:.0f} s: "
          f"ratio {statistics.median(held) / floor:.3f}")
    print(f"{n} messages, receiver answers 200 at once: median {statistics.median(quick):.2f} s "
          f"({statistics.median(quick) / n * 1000:.1f} ms a message)")


if __name__ == "__main__":
    main()
