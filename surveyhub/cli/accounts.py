"""``surveyhub org create``, ``surveyhub org logo``, ``surveyhub user create`` and ``surveyhub user reset-link``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from surveyhub.cli.common import base_url, session_scope, user_errors
from surveyhub.models import ROLES
from surveyhub.services import accounts


@click.group("org")
def org_group():
    """Organisations."""


@org_group.command("create")
@click.argument("name")
@user_errors
def org_create(name: str):
    """Create an organisation; prints its slug."""
    with session_scope() as session:
        org = accounts.create_organisation(session, name)
    click.echo(org.slug)


@org_group.command("logo")
@click.argument("org_name", metavar="ORG")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option("--remove", is_flag=True, help="Remove the logo.")
@with_appcontext
@user_errors
def org_logo(org_name: str, file: Path | None, remove: bool):
    """Put FILE (PNG, JPEG or a simple SVG) on ORG's documents as its logo."""
    from surveyhub.rendering import logo
    from surveyhub.services import branding

    if not remove and file is None:
        raise click.UsageError("give a FILE, or --remove")
    data = b""
    if file is not None and not remove:
        with file.open("rb") as fh:  # never more than the largest logo allowed, plus one byte
            data = fh.read(max(logo.MAX_BYTES, logo.MAX_SVG_BYTES) + 1)
    with session_scope() as session:
        org = accounts.find_organisation(session, org_name)
        kind = branding.set_logo(session, org, data)
    click.echo(f"{org_name}: logo {'removed' if not kind else f'set ({kind})'}")


@org_group.command("retention")
@click.argument("org_name", metavar="ORG")
@click.argument("months", metavar="MONTHS|default")
@with_appcontext
@user_errors
def org_retention(org_name: str, months: str):
    """Keep ORG's residents' personal data MONTHS months after a project's last wave ("default": the setting)."""
    from surveyhub.services import access, retention

    if months != "default" and not months.isdigit():
        raise click.UsageError("MONTHS must be a whole number of months, or 'default'")
    with session_scope() as session:
        org = accounts.find_organisation(session, org_name)
        actor = access.Actor(organisation_id=org.id, role="admin", source="cli")
        retention.set_organisation_retention(session, actor, None if months == "default" else int(months))
    click.echo(f"{org_name}: retention {'follows the setting' if months == 'default' else f'{int(months)} months'}")


@click.group("user")
def user_group():
    """User accounts."""


def _read_password(password_stdin: bool, generate: bool) -> tuple[str, bool]:
    if generate:
        return accounts.generate_password(), True
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on standard input (or use --generate-password)")
        return password, False
    return click.prompt("Password", hide_input=True, confirmation_prompt=True), False


@user_group.command("create")
@click.argument("email")
@click.option("--org", "org_name", required=True, help="Organisation name or slug.")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", default=None, help="The person's name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--generate-password", is_flag=True, help="Generate a password and print it once.")
@user_errors
def user_create(email, org_name, role, name, password_stdin, generate_password):
    """Create a user. The password comes from a prompt, standard input, or is generated."""
    password, generated = _read_password(password_stdin, generate_password)
    with session_scope() as session:
        org = accounts.find_organisation(session, org_name)
        user = accounts.create_user(session, org.id, email, role, password, name=name)
    click.echo(f"Created {user.role} {user.email} in {user.organisation}.")
    if generated:
        click.echo(f"Password (shown once): {password}")


@user_group.command("reset-link")
@click.argument("email")
@user_errors
def user_reset_link(email):
    """Make a one-time link to set a new password (works once, for 24 hours); hand it over yourself."""
    from surveyhub.services import credentials

    with session_scope() as session:
        token, user = credentials.create_reset_for_email(session, email)
    click.echo(f"Reset link for {user.email} (works once, for {credentials.RESET_HOURS} hours; shown once):")
    click.echo(f"{base_url()}/reset/{token}")


COMMANDS = [org_group, user_group]
