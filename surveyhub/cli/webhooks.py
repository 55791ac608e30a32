"""``surveyhub webhooks``: an organisation's webhook endpoints, and a test event sent now (docs/webhooks.md)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from surveyhub.cli.common import command_context, organisation_of, session_scope, user_errors
from surveyhub.services import accounts, webhook_delivery, webhooks


@click.group("webhooks")
def webhooks_group():
    """Webhook endpoints that receive signed events (docs/webhooks.md)."""


@webhooks_group.command("list")
@click.option("--org", required=True, help="The organisation (name or slug).")
@with_appcontext
@user_errors
def list_(org: str):
    """The organisation's endpoints: id, on/off, events, URL (never the secret)."""
    with session_scope(commit=False) as session:
        org_id = accounts.find_organisation(session, org).id
    with command_context(org_id=org_id) as ctx:
        endpoints = webhooks.list_endpoints(ctx.session, ctx.actor)
    for info in endpoints:
        state = "on" if info.active else "off"
        click.echo(f"{info.id}\t{state}\t{','.join(info.events)}\t{info.url}")


def _text(stored: str | None) -> str:
    parts = webhook_delivery.reason_parts(stored)
    if parts is None:
        return ""
    msgid, params = parts
    try:
        return msgid % params
    except (KeyError, ValueError, TypeError):
        return msgid


@webhooks_group.command("test")
@click.argument("endpoint_id", type=int)
@with_appcontext
@user_errors
def test(endpoint_id: int):
    """Send a webhook.test event to endpoint ENDPOINT_ID now and print the answer (exit 1 if not delivered)."""
    from surveyhub.models import WebhookEndpoint

    with command_context(org_id=organisation_of(WebhookEndpoint, endpoint_id, "webhook endpoint")) as ctx:
        delivery_id = webhooks.queue_test_event(ctx.session, ctx.actor, endpoint_id)
    with session_scope(commit=False) as session:
        sent = webhook_delivery.send_one(session, delivery_id, settings=current_app.config)
    if sent.status == "delivered":
        click.echo(f"delivered: the receiver answered {sent.status_code}")
        return
    raise click.ClickException(f"not delivered: {_text(sent.error)}")


COMMANDS = [webhooks_group]
