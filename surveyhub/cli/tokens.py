"""``surveyhub token``: create, list and revoke an organisation's API tokens (docs/api.md)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from surveyhub.cli.common import command_context, organisation_of, session_scope, user_errors
from surveyhub.services import access, accounts, api_tokens


@click.group("token")
def token():
    """API tokens for other systems (docs/api.md)."""


def _org_id(name: str) -> int:
    with session_scope(commit=False) as session:
        return accounts.find_organisation(session, name).id


@token.command("create")
@click.option("--org", required=True, help="The organisation (name or slug).")
@click.option("--scope", "scopes", multiple=True, required=True,  # checked by the service: an unknown one exits 1
              help=f"What the token may do ({', '.join(access.SCOPES)}); repeat for more than one.")
@click.option("--role", type=click.Choice(["worker", "admin", "funder"]), default="worker", show_default=True,
              help="The role it acts as: a funder token reads only what its funder may read.")
@click.option("--funder", "funder_email", default=None, help="With --role funder: the funder's e-mail address.")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=None, help="Expire after this many days.")
@with_appcontext
@user_errors
def create(org: str, scopes: tuple[str, ...], role: str, funder_email: str | None, name: str,
           expires_days: int | None):
    """Create a token and print it once on stdout (it cannot be shown again); its id goes to stderr."""
    with command_context(org_id=_org_id(org)) as ctx:
        created = api_tokens.create(ctx.session, ctx.actor, name=name, scopes=scopes, role=role,
                                    funder_email=funder_email, expires_days=expires_days)
    click.echo(f"token {created.id} created ({', '.join(scopes)}); it is shown only this once", err=True)
    click.echo(created.token)


@token.command("list")
@click.option("--org", required=True, help="The organisation (name or slug).")
@with_appcontext
@user_errors
def list_(org: str):
    """The organisation's tokens: id, name, role, scopes, last use (never the token itself)."""
    with command_context(org_id=_org_id(org)) as ctx:
        tokens = api_tokens.list_tokens(ctx.session, ctx.actor)
    for info in tokens:
        state = "active" if info.active else ("revoked" if info.revoked_at else "expired")
        used = info.last_used_at.strftime("%Y-%m-%d %H:%M") if info.last_used_at else "never used"
        click.echo(f"{info.id}\t{info.prefix}…\t{info.name}\t{info.role}\t{' '.join(info.scopes)}\t{state}\t{used}")


@token.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
@user_errors
def revoke(token_id: int):
    """Revoke token TOKEN_ID; it stops working at once."""
    from surveyhub.models import ApiToken

    with command_context(org_id=organisation_of(ApiToken, token_id, "token")) as ctx:
        api_tokens.revoke(ctx.session, ctx.actor, token_id)
    click.echo(f"token {token_id} revoked")


COMMANDS = [token]
