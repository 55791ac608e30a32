"""``surveyhub project create``, ``wave open|close`` and ``participants add|export-data|erase``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from surveyhub.cli.common import base_url, session_scope, user_errors
from surveyhub.plugins import get_registry
from surveyhub.services import access, accounts, erasure, participants, projects
from surveyhub.services.errors import UserError


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
@click.option("--retention-months", type=click.IntRange(1, 120), default=None,
              help="Keep personal data this many months after the last wave closes (default: the organisation's).")
@click.option("--short", is_flag=True, help="Ask each instrument's short form (3 or 4 items per scale).")
@click.option("--one-per-screen", is_flag=True, help="Show residents one question per screen (for phones).")
@click.option("--language", type=click.Choice(projects.PROJECT_LANGUAGES), default="nl", show_default=True,
              help="The language residents see first; every instrument must have it.")
@click.option("--start", "period_start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The project's first day (YYYY-MM-DD).")
@click.option("--end", "period_end", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The project's last day (YYYY-MM-DD).")
@user_errors
def project_create(name, org_name, instrument_refs, retrospective, description, retention_months, short,
                   one_per_screen, language, period_start, period_end):
    """Create a project with its pre wave open; prints the new project's slug."""
    setup = projects.Setup(form_length="short" if short else "full", question_mode="one" if one_per_screen else "page",
                           language=language, period=(period_start.date() if period_start else None,
                                                      period_end.date() if period_end else None))
    with session_scope() as session:
        org = accounts.find_organisation(session, org_name)
        actor = access.cli_actor(session, org_id=org.id)
        info = projects.create_project(session, get_registry(), actor, name, list(instrument_refs),
                                       retrospective, description, retention_months=retention_months, setup=setup)
    click.echo(info.slug)


@project_group.command("share")
@click.argument("project")
@click.option("--funder", "funder_email", required=True,
              help="E-mail address of a funder of the project's organisation.")
@click.option("--remove", is_flag=True, help="Stop sharing the project with this funder.")
@user_errors
def project_share(project, funder_email, remove):
    """Share PROJECT's dashboard and impact report with a funder (never its residents), or stop sharing."""
    with session_scope() as session:
        actor = access.cli_actor(session, project_slug=project)
        changed = projects.set_share(session, actor, project, funder_email, not remove)
    state = "no longer shared" if remove else "shared"
    click.echo(f"{project}: {state} with {funder_email}" + ("" if changed else " (unchanged)"))


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
            raise UserError(f"cannot read {file_path}: {exc}") from exc
    with session_scope() as session:
        actor = access.cli_actor(session, project_slug=project)
        invitations = participants.add_participants(session, actor, project, count=count, entries=entries)
    for invitation in invitations:
        click.echo(invitation.link(base_url()))


@participants_group.command("export-data")
@click.argument("project")
@click.argument("code")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The JSON file to write (readable by you only).")
@click.option("--lang", default="nl", type=click.Choice(["nl", "en"]), help="Language of question texts.")
@user_errors
def participants_export_data(project, code, output, lang):
    """Write everything stored about resident CODE of PROJECT to a JSON file (a resident's request)."""
    with session_scope() as session:
        actor = access.cli_actor(session, project_slug=project)
        data = erasure.export_for_worker(session, actor, project, code, lang)
        _write_private(output, json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n")
    click.echo(f"{project}: data of resident {code} written to {output}")


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file only its owner can read: it holds a resident's personal data."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from exc


@participants_group.command("erase")
@click.argument("project")
@click.argument("code")
@click.option("--yes", is_flag=True, help="Confirm the erasure; it cannot be undone.")
@user_errors
def participants_erase(project, code, yes):
    """Erase resident CODE of PROJECT and everything stored about them (a resident's request)."""
    if not yes:
        raise UserError(f"nothing erased: add --yes to erase resident {code} of {project} for good")
    with session_scope() as session:
        actor = access.cli_actor(session, project_slug=project)
        result = erasure.erase_for_worker(session, actor, project, code)
    click.echo(f"{project}: resident {code} erased ({result.responses} responses, "
               f"{result.documents} documents withdrawn)")


COMMANDS = [project_group, wave_group, participants_group]
