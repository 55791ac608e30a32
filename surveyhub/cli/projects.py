"""``surveyhub project create``, ``wave open|close`` and ``participants add``."""

from __future__ import annotations

from pathlib import Path

import click

from surveyhub.cli.common import base_url, session_scope, user_errors
from surveyhub.measures.registry import get_registry
from surveyhub.services import access, accounts, participants, projects
from surveyhub.services.errors import ServiceError


@click.group("project")
def project_group():
    """Projects."""


@project_group.command("create")
@click.argument("name")
@click.option("--org", "org_name", required=True, help="Organisation name or slug.")
@click.option("--instrument", "instrument_refs", multiple=True, required=True,
              help="Instrument id, optionally @version; repeat for more.")
@click.option("--retrospective", is_flag=True, help="Ask the post wave's 'then' block.")
@click.option("--description", default=None)
@user_errors
def project_create(name, org_name, instrument_refs, retrospective, description):
    """Create a project with its pre wave open; prints the new project's slug."""
    with session_scope() as session:
        org = accounts.find_organisation(session, org_name)
        actor = access.cli_actor(session, org_id=org.id)
        info = projects.create_project(session, get_registry(), actor, name, list(instrument_refs),
                                       retrospective, description)
    click.echo(info.slug)


@click.group("wave")
def wave_group():
    """Open or close a project's waves."""


def _wave_command(status: str):
    @click.argument("project")
    @click.argument("kind", type=click.Choice(["pre", "post", "followup"]))
    @user_errors
    def command(project, kind):
        with session_scope() as session:
            actor = access.cli_actor(session, project_slug=project)
            projects.set_wave_status(session, actor, project, kind, status)
        click.echo(f"{project}: {kind} wave {status}")
    command.__doc__ = f"{status.capitalize()} a wave of PROJECT."
    return command


wave_group.command("open")(_wave_command("open"))
wave_group.command("close")(_wave_command("closed"))


@click.group("participants")
def participants_group():
    """Residents taking part."""


@participants_group.command("add")
@click.argument("project")
@click.option("--count", type=int, default=None, help="Add this many anonymous residents.")
@click.option("--file", "file_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="One resident per line: name, optionally followed by a comma and an e-mail address.")
@user_errors
def participants_add(project, count, file_path):
    """Add residents; prints one personal link per line."""
    if (count is None) == (file_path is None):
        raise click.UsageError("give either --count N or --file FILE")
    entries = None
    if file_path is not None:
        try:
            entries = participants.parse_lines(file_path.read_text(encoding="utf-8-sig").splitlines())
        except (OSError, UnicodeDecodeError) as exc:
            raise ServiceError(f"cannot read {file_path}: {exc}") from exc
    with session_scope() as session:
        actor = access.cli_actor(session, project_slug=project)
        invitations = participants.add_participants(session, actor, project, count=count, entries=entries)
    for invitation in invitations:
        click.echo(invitation.link(base_url()))


COMMANDS = [project_group, wave_group, participants_group]
