"""E-mail sent by the workers of two machines: a message the mail server turned away once is sent
again, and every resident gets exactly one invitation (issue 13, point 3)."""

from __future__ import annotations

import time
from email.utils import parseaddr

import pytest
from sqlalchemy import create_engine, select

from tests.multinode.cluster import wait_for
from tests.multinode.conftest import MAILED, World

pytestmark = pytest.mark.multinode

#: The first retry comes a minute after "try later" (services.mail.RETRY_SECONDS), then one more tick.
MAIL_TIMEOUT = 600


def ticks(world: World) -> int:
    """How often the workers ran the periodic tick so far (each writes it to its log)."""
    return sum(process.log.read_text(errors="replace").count("Executing surveyhub.queue.surveyhub.tick")
               for node in (world.a, world.b) for process in node.workers)


def test_an_invitation_retried_after_the_server_said_try_later_arrives_exactly_once(world: World):
    from surveyhub.models import OutboxMessage, Project

    deadline = time.monotonic() + MAIL_TIMEOUT
    world.smtp.answers.append("451 4.3.0 Try again later")  # the first message to arrive is turned away once
    before = len(world.smtp.messages)
    invited = world.a.cli("invite", world.mail_slug, "--wave", "pre", "--wait", "--timeout", str(MAIL_TIMEOUT),
                          timeout=MAIL_TIMEOUT + 60)
    assert invited.returncode == 0, invited.stdout + invited.stderr + world.cluster.logs()
    assert f"{len(MAILED)} invitation(s) queued" in invited.stdout
    assert f"{len(MAILED)} sent, 0 failed" in invited.stdout
    assert not world.smtp.answers, "the mail server was never asked"

    # Whatever the queue or the periodic tick still holds for these messages must send nothing more.
    seen = ticks(world)
    wait_for(lambda: ticks(world) > seen, "the next periodic tick", deadline, interval=1)
    arrived = [parseaddr(str(message["To"]))[1] for message in world.smtp.messages[before:]]
    assert sorted(arrived) == sorted(address for _name, address in MAILED)

    engine = create_engine(world.cluster.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(OutboxMessage.to_address, OutboxMessage.status, OutboxMessage.attempts)
                                .join(Project, Project.id == OutboxMessage.project_id)
                                .where(Project.slug == world.mail_slug)).all()
    finally:
        engine.dispose()
    assert sorted(row.status for row in rows) == ["sent"] * len(MAILED)
    assert sorted(row.attempts for row in rows) == [1] * (len(MAILED) - 1) + [2]
