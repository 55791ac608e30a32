"""``surveyhub activities add|import|list``: what residents did in a project, from the command line.

The same as the page "Activiteiten" (``services.activities``, ``services.activity_import``).
A bad value stops the command with one line on stderr and exit code 1; nothing is stored then.
A refused file lists every problem on stderr, one per line.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from surveyhub.cli.common import command_context, user_errors
from surveyhub.models import ACTIVITY_KINDS, ACTIVITY_ROLES
from surveyhub.services import activities as service
from surveyhub.services import activity_import
from surveyhub.services.imports import ImportRefused

#: A CSV of activities is read whole; anything larger is not a spreadsheet of activities.
MAX_FILE_BYTES = 20 * 2**20


@click.group("activities")
def activities():
    """Activities of a project and who took part in which role."""


@activities.command("add")
@click.argument("project")
@click.option("--date", "happened_on", required=True, metavar="DATE", help="When it happened, YYYY-MM-DD.")
@click.option("--kind", required=True, metavar="KIND",
              help=f"{', '.join(ACTIVITY_KINDS)} (or the Dutch word: vergadering, werkdag, activiteit, training, "
                   "anders).")
@click.option("--hours", required=True, metavar="H", help="How long it lasted, 0 to 24 (1.5 or 1,5).")
@click.option("--title", default=None, help="A short name, e.g. 'Bouwdag speeltuin'.")
@click.option("--participant", "participants", multiple=True, metavar="CODE[:ROLE]",
              help=f"A resident who took part, by code; ROLE is one of {', '.join(ACTIVITY_ROLES)} "
                   "(default participant). Repeat for every resident.")
@with_appcontext
@user_errors
def add(project, happened_on, kind, hours, title, participants):
    """Record an activity of PROJECT; prints the new activity's id."""
    entries = [_entry(one) for one in participants]
    with command_context(project_slug=project) as ctx:
        recorded = service.record(ctx, project, happened_on=happened_on, kind=kind, hours=hours, title=title,
                                  participants=entries)
    click.echo(recorded["id"])


@activities.command("import")
@click.argument("project")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
@user_errors
def import_(project, file):
    """Import activities of PROJECT from a CSV file (one row per resident at an activity).

    Columns: date,kind,hours,title,participant,role and optionally participant_hours.
    A file with any bad row is refused whole, with every problem listed.
    """
    if file.stat().st_size > MAX_FILE_BYTES:
        raise click.ClickException(f"{file}: the file is larger than {MAX_FILE_BYTES // 2**20} MB")
    data = file.read_bytes()
    try:
        with command_context(project_slug=project) as ctx:
            result = activity_import.import_csv(ctx, project, data)
    except ImportRefused as exc:
        click.echo(f"Error: {file}: {exc}:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    click.echo(f"{result.activities} activities, {result.entries} entries imported")


@activities.command("list")
@click.argument("project")
@with_appcontext
@user_errors
def list_(project):
    """List PROJECT's activities, newest first: id, date, kind, hours, residents, title."""
    with command_context(project_slug=project, commit=False) as ctx:
        rows = service.list_for_project(ctx, project)
    for row in rows:
        roles = ", ".join(f"{count} {role}" for role, count in row["roles"].items())
        click.echo(f"{row['id']}\t{row['date'].isoformat()}\t{row['kind']}\t{row['hours']:g} h\t"
                   f"{row['residents']} residents{f' ({roles})' if roles else ''}\t{row['title'] or ''}")


def _entry(text: str) -> service.Entry:
    code, _sep, role = text.rpartition(":") if ":" in text else (text, "", "")
    if not code.strip():
        raise click.BadParameter(f"{text!r}: give a resident's code, e.g. R-4K7P2 or R-4K7P2:organiser",
                                 param_hint="--participant")
    return (code.strip(), role.strip() or None, None)


COMMANDS = [activities]
