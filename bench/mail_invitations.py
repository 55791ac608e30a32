"""1,000 invitations to a local SMTP server through the outbox (``services.mail.send_one``): messages per
second, and duplicates (counted by Message-ID at the server: must be 0).

Floor, in the same run: the same 1,000 messages (the outbox's own MIME) sent by a bare ``smtplib`` loop,
one connection per message as ``send_one`` opens. The ratio says what the outbox costs on top of SMTP
itself: the claim (a conditional UPDATE and its commit), the shared rate-limit counter, reading the row,
and storing "sent". Three rounds of each, alternating; medians printed. A bare loop that keeps one
connection open for all messages is printed for comparison (a mail server's own speed).

Usage: .venv/bin/python bench/mail_invitations.py [N]
"""

from __future__ import annotations

import smtplib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, update  # noqa: E402

from bench._documents_data import cleanup, make_app  # noqa: E402
from surveyhub.models import OutboxMessage, Organisation, Participant  # noqa: E402
from surveyhub.services import access, accounts, invitations, mail, participants, projects  # noqa: E402
from tests.fixtures.smtp import SmtpServer  # noqa: E402

ROUNDS = 3


def setup(app, n: int) -> tuple[list[int], float]:
    """N residents with an address, the pre wave open, and their invitations queued (and how long that took)."""
    db = app.extensions["surveyhub.db"]
    with db.session() as session:
        org = accounts.create_organisation(session, "Buurtwerk Noord")
        actor = access.Actor(organisation_id=org.id, role="admin")
        from surveyhub.plugins import get_registry

        info = projects.create_project(session, get_registry(app), actor, "Speeltuin De Vlinder", ["organising"],
                                       False)
        participants.add_participants(session, actor, info.slug,
                                      entries=[(f"Bewoner {i}", f"bewoner{i}@example.org") for i in range(n)])
        for kind in ("pre",):
            projects.set_wave_status(session, actor, info.slug, kind, "open")
        session.commit()
        start = time.perf_counter()
        result = invitations.invite(session, actor, info.slug, "pre", base_url=app.config["BASE_URL"],
                                    settings=app.config)
        session.commit()
        seconds = time.perf_counter() - start
        assert len(result.queued) == n, result
        return result.queued, seconds


def requeue(app) -> None:
    with app.extensions["surveyhub.db"].session() as session:
        session.execute(update(OutboxMessage).values(status="queued", attempts=0, sent_at=None, claimed_at=None))
        session.commit()


def through_outbox(app, ids: list[int]) -> float:
    requeue(app)
    with app.extensions["surveyhub.db"].session() as session:
        start = time.perf_counter()
        for message_id in ids:
            assert mail.send_one(session, message_id, settings=app.config) is None
        return time.perf_counter() - start


def wire_messages(app) -> list[tuple[object, str]]:
    """The outbox's messages as MIME, made once (the bare loop only sends)."""
    with app.extensions["surveyhub.db"].session() as session:
        org = session.scalar(select(Organisation))
        rows = session.execute(select(OutboxMessage, Participant.display_name)
                               .join(Participant, Participant.id == OutboxMessage.participant_id)
                               .order_by(OutboxMessage.id)).all()
        from surveyhub.services import mail_compose

        return [(mail_compose.mime(subject=row.subject, text=row.body_text, html_body=row.body_html, to_name=name,
                                   to_address=row.to_address, organisation=org.name,
                                   mail_from=app.config["MAIL_FROM"], reply_to=None, message_id=row.message_id,
                                   opt_out_url=None, lang=row.language), row.to_address) for row, name in rows]


def bare(port: int, messages, *, reuse: bool) -> float:
    start = time.perf_counter()
    if reuse:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            for message, to in messages:
                smtp.send_message(message, to_addrs=[to])
    else:
        for message, to in messages:
            smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
            smtp.send_message(message, to_addrs=[to])
            smtp.quit()
    return time.perf_counter() - start


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    server = SmtpServer().start()
    app = make_app()
    app.config.update(server.settings(MAIL_RATE_LIMIT="1000000 per minute"))
    try:
        ids, queueing = setup(app, n)
        messages = wire_messages(app)
        outbox_times, bare_times, reuse_times, duplicates = [], [], [], []
        for _ in range(ROUNDS):
            server.messages.clear()
            outbox_times.append(through_outbox(app, ids))
            received = server.message_ids()
            duplicates.append(len(received) - len(set(received)))
            assert len(set(received)) == n, f"{len(set(received))} distinct messages arrived, not {n}"
            server.messages.clear()
            bare_times.append(bare(server.port, messages, reuse=False))
            reuse_times.append(bare(server.port, messages, reuse=True))
        outbox, floor, reuse = (statistics.median(t) for t in (outbox_times, bare_times, reuse_times))
        print(f"{n} invitations, {ROUNDS} rounds (medians); SQLite, SMTP server in this process")
        print(f"  queueing them (invitations.invite, one request): {queueing:.2f} s")
        print(f"  through the outbox (send_one):        {n / outbox:8.0f} messages/s  ({outbox:.2f} s)")
        print(f"  bare smtplib, a connection each:      {n / floor:8.0f} messages/s  ({floor:.2f} s)  <- floor")
        print(f"  bare smtplib, one connection for all: {n / reuse:8.0f} messages/s  ({reuse:.2f} s)")
        print(f"  duplicates at the server (by Message-ID): {max(duplicates)}")
        print(f"  ratio outbox / floor: {floor / outbox:.2f} (1.00 = no cost on top of SMTP)")
    finally:
        server.stop()
        cleanup(app)


if __name__ == "__main__":
    main()
