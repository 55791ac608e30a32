"""``surveyhub invite PROJECT --wave pre|post|followup [--wait]``: invitations by e-mail for a whole wave."""

from __future__ import annotations

import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from surveyhub.cli.common import base_url, session_scope, user_errors
from surveyhub.models import WAVE_KINDS
from surveyhub.queue import get_queue
from surveyhub.services import access, invitations, mail


@click.command("invite")
@click.argument("project")
@click.option("--wave", "wave_kind", required=True, type=click.Choice(WAVE_KINDS),
              help="The wave whose questionnaire the residents are invited to (it must be open).")
@click.option("--wait", is_flag=True, help="Show a progress bar until every invitation is sent or failed.")
@click.option("--timeout", default=0, type=click.IntRange(0),
              help="With --wait: stop waiting after this many seconds (0: never). Sending goes on.")
@with_appcontext
@user_errors
def invite_command(project: str, wave_kind: str, wait: bool, timeout: int):
    """Mail an invitation to every resident of PROJECT with an e-mail address who has had none for this wave.

    Residents without an address are counted, not skipped silently: give them their link another way
    (a link sheet). The messages are sent by the worker, at most SURVEYHUB_MAIL_RATE_LIMIT together.
    """
    settings = current_app.config
    if not mail.configured(settings):
        raise click.ClickException("e-mail is not set up: set SURVEYHUB_SMTP_HOST and SURVEYHUB_MAIL_FROM "
                                   "(and if needed SURVEYHUB_SMTP_PORT, _SECURITY, _USER, _PASSWORD)")
    with session_scope() as session:
        actor = access.cli_actor(session, project)
        result = invitations.invite(session, actor, project, wave_kind, base_url=base_url(), settings=settings)
    click.echo(f"{len(result.queued)} invitation(s) queued; {result.skipped_no_address} resident(s) have no "
               f"e-mail address; {result.already_invited} had an invitation for this wave already.")
    queue = get_queue()
    for message_id in result.queued:
        queue.send(message_id)  # a queue that is away: the periodic tick sends it later from the outbox
    if wait and result.queued:
        counts = follow(result.queued, timeout=timeout or None)
        click.echo(f"{counts.sent} sent, {counts.failed} failed.")
        if counts.failed:
            click.echo("The reasons are on each resident's page (Berichten).", err=True)
            raise SystemExit(1)


def follow(ids: list[int], *, timeout: float | None = None, interval: float = 0.5,
           idle_hint_after: float = 60.0) -> mail.Counts:
    """A progress bar on stderr until every message in ``ids`` is sent or failed; the last counts.

    Ctrl+C or the timeout stops the waiting, not the sending.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    shown = 0
    moved_at, hinted = time.monotonic(), False
    try:
        with click.progressbar(length=len(ids), label="E-mail", file=sys.stderr,
                               show_pos=True) as bar:
            while True:
                with session_scope(commit=False) as session:
                    counts = mail.counts(session, ids)
                finished = counts.sent + counts.failed
                if finished > shown:
                    bar.update(finished - shown)
                    shown = finished
                    moved_at = time.monotonic()
                if not hinted and time.monotonic() - moved_at > idle_hint_after:
                    hinted = True
                    click.echo(f"\nNothing sent for {idle_hint_after:.0f} s: is a worker running? (surveyhub serve "
                               f"starts one; else: surveyhub worker)", err=True)
                if finished >= len(ids):
                    return counts
                if deadline is not None and time.monotonic() > deadline:
                    click.echo(f"\nStopped waiting: {len(ids) - finished} message(s) still to send; the worker "
                               f"goes on.", err=True)
                    raise SystemExit(1)
                time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("\nStopped waiting; the worker goes on sending.", err=True)
        raise SystemExit(130) from None


COMMANDS = [invite_command]
