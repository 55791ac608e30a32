"""``surveyhub report PROJECT --format json|pdf``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from surveyhub.cli.common import command_context, user_errors
from surveyhub.services import audit, documents, outcomes
from surveyhub.services.errors import UserError


@click.command("report")
@click.argument("project")
@click.option("--format", "fmt", type=click.Choice(["json", "pdf"]), default="json", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write; default: standard output for json, the document's own name for pdf.")
@click.option("--min-n", type=click.IntRange(min=0), default=None,
              help="Minimum pairs for means (and for tests, when above their own minimum).")
@click.option("--min-tests", type=click.IntRange(min=0), default=None,
              help="Minimum pairs for tests and effect sizes (never below --min-n).")
@click.option("--min-cell", type=click.IntRange(min=0), default=None,
              help="Counts below this show as '<N'.")
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True, help="pdf only.")
@with_appcontext
@user_errors
def report_command(project, fmt, output, min_n, min_tests, min_cell, lang):
    """The impact report of PROJECT as JSON (see docs/report-json.md) or as a registered PDF.

    Thresholds come from these options, else the organisation's settings,
    else SURVEYHUB_MIN_PAIRS_MEANS / _TESTS / SURVEYHUB_MIN_CELL. ``--min-n N``: at
    least N pairs for means; tests and effect sizes keep their own threshold unless N
    is larger, in which case they also need N. ``--min-cell N``: counts below N show as "<N".
    """
    # Passed on as given: the report service resolves them once, against the organisation and ctx.thresholds.
    given = {"min_means": min_n, "min_tests": min_tests, "min_cell": min_cell}
    if fmt == "json":
        with command_context(project_slug=project, commit=False) as ctx:
            found = ctx.project(project, "project.outcomes")
            report = outcomes.project_report(ctx.session, ctx.registry, ctx.actor, project, defaults=ctx.thresholds,
                                             project=found, **given)
            audit.download(ctx.session, ctx.actor, "download.report", project, project_id=found.id, format="json")
            ctx.session.commit()
        text = json.dumps(report, allow_nan=False, ensure_ascii=False, indent=2) + "\n"
        if output is None:
            sys.stdout.write(text)
        else:
            _write(output, text.encode("utf-8"))
            click.echo(f"Wrote {output}", err=True)
        return
    with command_context(project_slug=project, lang=lang) as ctx:
        found = ctx.project(project, "project.outcomes")
        issued = documents.issue_report(ctx.session, ctx.registry, ctx.actor, project, lang=ctx.lang,
                                        base_url=ctx.base_url, defaults=ctx.thresholds, host=ctx.host,
                                        project=found, **given)
        audit.download(ctx.session, ctx.actor, "download.report", project, project_id=found.id,
                       target=f"document:{issued.code}", format="pdf", language=lang)
    target = output or Path(issued.filename)
    _write(target, issued.pdf)
    click.echo(f"Wrote {target} (verification code {issued.code})", err=True)


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None


COMMANDS = [report_command]
