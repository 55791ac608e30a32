"""``surveyhub story show|set`` and ``surveyhub outputs add|list|remove``: the project's story for the report.

The same as the page "Verhaal voor het rapport" (``services.project_story``).
A bad value stops the command with one line on stderr and exit code 1; nothing
is stored then.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from surveyhub.cli.common import session_scope, user_errors
from surveyhub.services import access, project_story
from surveyhub.services.errors import Invalid
from surveyhub.services.story_photos import MAX_UPLOAD

#: Option name -> story field.
OPTIONS = {"funder": "funder_name", "start": "period_start", "end": "period_end", "meetings": "meetings_held",
           "volunteer_hours": "volunteer_hours", "primary": "primary_scale"}


@click.group("story")
def story_group():
    """The project's story for the impact report: funder, period, counts, main skill, recommendations."""


@story_group.command("show")
@click.argument("project")
@with_appcontext
@user_errors
def story_show(project):
    """Print PROJECT's story and its outputs."""
    with session_scope(commit=False) as session:
        story = project_story.story(session, access.cli_actor(session, project_slug=project), project)
    for label, name in (("Funder", "funder_name"), ("Start", "period_start"), ("End", "period_end"),
                        ("Meetings held", "meetings_held"), ("Volunteer hours", "volunteer_hours"),
                        ("Main skill", "primary_scale")):
        value = dict(story)[name]
        click.echo(f"{label + ':':17}{'-' if value is None else value}")
    click.echo("Recommendations:" + ("" if story["recommendations"] else " -"))
    for line in (story["recommendations"] or "").splitlines():
        click.echo(f"  {line}")
    click.echo(f"Outputs: {len(story['outputs'])}")
    for output in story["outputs"]:
        click.echo(_output_line(output))


@story_group.command("set")
@click.argument("project")
@click.option("--funder", default=None, help='Who funds the project ("" clears it).')
@click.option("--start", default=None, metavar="DATE", help="First day of the project, YYYY-MM-DD.")
@click.option("--end", default=None, metavar="DATE", help="Last day of the project, YYYY-MM-DD.")
@click.option("--meetings", default=None, help="Meetings held with residents (a whole number).")
@click.option("--volunteer-hours", "volunteer_hours", default=None, help="Hours of volunteer work by residents.")
@click.option("--primary", default=None, metavar="INSTRUMENT/SCALE",
              help='The main skill, e.g. organising/organising ("" clears it: all skills alike).')
@click.option("--recommendations-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A UTF-8 text file with the recommendations (an empty file clears them).")
@with_appcontext
@user_errors
def story_set(project, recommendations_file, **options):
    """Set the story fields given; the others stay as they are."""
    fields = {OPTIONS[name]: value for name, value in options.items() if value is not None}
    if recommendations_file is not None:
        fields["recommendations"] = _read_text(recommendations_file)
    if not fields:
        raise click.UsageError("give at least one of --funder, --start, --end, --meetings, --volunteer-hours, "
                               "--primary, --recommendations-file")
    with session_scope() as session:
        project_story.update_story(session, access.cli_actor(session, project_slug=project), project, **fields)
    click.echo(f"{project}: story saved ({', '.join(sorted(fields))})")


@click.group("outputs")
def outputs_group():
    """What a project did or reached, with a date and an optional photo."""


@outputs_group.command("add")
@click.argument("project")
@click.option("--date", "day", required=True, metavar="DATE", help="When it happened, YYYY-MM-DD.")
@click.option("--description", required=True, help="One line, at most 300 characters.")
@click.option("--photo", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A JPEG or PNG of at most 8 MB (metadata removed, scaled to 1600 px).")
@with_appcontext
@user_errors
def outputs_add(project, day, description, photo):
    """Add an output to PROJECT; prints its id."""
    data = None
    if photo is not None:
        with photo.open("rb") as fh:
            data = fh.read(MAX_UPLOAD + 1)
    with session_scope() as session:
        row = project_story.add_output(session, access.cli_actor(session, project_slug=project), project, day,
                                       description, photo=data)
    click.echo(row["id"])


@outputs_group.command("list")
@click.argument("project")
@with_appcontext
@user_errors
def outputs_list(project):
    """PROJECT's outputs, oldest first: id, date, description."""
    with session_scope(commit=False) as session:
        rows = project_story.outputs(session, access.cli_actor(session, project_slug=project), project)
    for row in rows:
        click.echo(_output_line(row))


@outputs_group.command("remove")
@click.argument("output_id", type=int)
@with_appcontext
@user_errors
def outputs_remove(output_id):
    """Remove the output with this id."""
    with session_scope() as session:
        slug = project_story.output_project(session, output_id)
        project_story.remove_output(session, access.cli_actor(session, project_slug=slug), slug, output_id)
    click.echo(f"{slug}: output {output_id} removed")


def _output_line(row: project_story.OutputRow) -> str:
    return f"{row['id']:>5}  {row['date'].isoformat()}  {row['description']}" + ("  [photo]" if row["photo"] else "")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the recommendations file is not UTF-8 text") from None
    except OSError as exc:
        raise Invalid("the recommendations file cannot be read: %(reason)s", reason=exc.strerror) from None


COMMANDS = [story_group, outputs_group]
