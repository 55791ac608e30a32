"""``surveyhub responses import`` and ``surveyhub responses export``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from surveyhub.cli.common import base_url, session_scope, user_errors
from surveyhub.plugins import get_host, get_registry
from surveyhub.services import access, audit, exports, imports, responses
from surveyhub.services.errors import UserError

MAX_IMPORT_BYTES = 50 * 1024 * 1024


@click.group("responses")
def responses_group():
    """Import and export residents' answers."""


@responses_group.command("import")
@click.argument("project")
@click.option("--wave", required=True, type=click.Choice(imports.IMPORT_WAVES),
              help="Which answers the file holds; retro = the post wave's look-back ('then') block.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@user_errors
def responses_import(project, wave, file):
    """Import answers from FILE.csv: a 'participant' column plus one column per question id.

    Commas or semicolons (Dutch Excel), decimal points or commas; an empty
    cell is unanswered. A file with any bad row is refused whole and every
    problem is listed.
    """
    try:
        if file.stat().st_size > MAX_IMPORT_BYTES:
            raise UserError(f"{file} is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
        data = file.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {file}: {exc.strerror}") from None
    registry, host = get_registry(), get_host()
    try:
        with force_locale("en"), session_scope() as session:
            actor = access.cli_actor(session, project_slug=project)
            # Short write transactions: the check holds none, then each batch of rows commits on its own.
            # Each completion reaches plugins once its batch is committed (the unit of work's after-commit).
            result = imports.import_responses(session, registry, actor, project, wave, data,
                                              on_score_error=registry.scoring_error_handler(host),
                                              commit=session.commit, on_completed=responses.announcer(host),
                                              badges_base_url=base_url())
    except imports.ImportRefused as exc:
        click.echo(f"Error: {file}: {exc}:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    host.problems.flush()
    done = (f"{result.completed} responses completed" if wave != "retro" else
            f"{result.completed} post responses updated, {result.waiting} waiting for their post answers")
    click.echo(f"Imported {result.rows} rows into the {wave} wave of {project}: "
               f"{result.new_participants} new residents, {done}.")
    batches = result.batch_seconds
    click.echo(f"Stored in {len(batches)} write transaction{'s' if len(batches) != 1 else ''} of at most "
               f"{imports.BATCH_ROWS} rows; the longest took {max(batches, default=0):.2f} s.", err=True)


@responses_group.command("export")
@click.argument("project")
@click.option("--format", "fmt", required=True, help="csv, xlsx, sav, or a format a plugin adds.")
@click.option("--dialect", type=click.Choice(exports.DIALECTS), default="default", show_default=True,
              help="csv only: excel-nl writes semicolons, decimal commas and a byte-order mark.")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write ('-' for standard output).")
@with_appcontext
@user_errors
def responses_export(project, fmt, dialect, output):
    """Export every response of PROJECT: one row per resident and wave, pseudonymous codes only."""
    exporter = exports.exporter_for(fmt, get_host(), dialect)
    with session_scope(commit=False) as session:
        actor = access.cli_actor(session, project_slug=project)
        table = exports.response_table(session, actor, project)
        if str(output) == "-":
            exporter.write(table, sys.stdout.buffer)
            _audit(session, actor, project, fmt, dialect)
            return
        partial = output.with_name(output.name + ".part")
        try:
            with partial.open("wb") as stream:
                exporter.write(table, stream)
            partial.replace(output)  # never leave half a file under the real name
        except OSError as exc:
            raise UserError(f"cannot write {output}: {exc.strerror}") from None
        finally:
            partial.unlink(missing_ok=True)
        _audit(session, actor, project, fmt, dialect)
    click.echo(f"Wrote {output}", err=True)


def _audit(session, actor, project: str, fmt: str, dialect: str) -> None:
    audit.download(session, actor, "download.export", project, format=fmt, table="responses",
                   dialect=None if dialect == "default" else dialect)
    session.commit()


COMMANDS = [responses_group]
