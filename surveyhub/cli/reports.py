"""``surveyhub report PROJECT --format json|pdf``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask import current_app

from surveyhub.cli.common import base_url, session_scope, user_errors
from surveyhub.plugins import get_host, get_registry
from surveyhub.services import access, audit, documents, outcomes
from surveyhub.services.errors import UserError


def _threshold_args(min_n, min_tests, min_cell) -> dict:
    """``--min-n N``: at least N pairs for means. Tests and effect sizes keep their own
    threshold (``--min-tests``, else the organisation's, else the default) unless N is
    larger, in which case they also need N. ``--min-cell N``: counts below N show as "<N"."""
    return {"min_means": min_n, "min_tests": min_tests, "min_cell": min_cell,
            "defaults": outcomes.Thresholds.from_settings(current_app.config)}


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
    else SURVEYHUB_MIN_PAIRS_MEANS / _TESTS / SURVEYHUB_MIN_CELL.
    """
    thresholds = _threshold_args(min_n, min_tests, min_cell)
    if fmt == "json":
        with session_scope(commit=False) as session:
            actor = access.cli_actor(session, project_slug=project)
            report = outcomes.project_report(session, get_registry(), actor, project, **thresholds)
            audit.download(session, actor, "download.report", project, format="json")
            session.commit()
        text = json.dumps(report, allow_nan=False, ensure_ascii=False, indent=2) + "\n"
        if output is None:
            sys.stdout.write(text)
        else:
            _write(output, text.encode("utf-8"))
            click.echo(f"Wrote {output}", err=True)
        return
    with session_scope() as session:
        actor = access.cli_actor(session, project_slug=project)
        # Resolved here, so the installation's defaults apply whatever the PDF service does with None.
        chosen = outcomes.resolve_thresholds(access.organisation(session, actor), thresholds.pop("defaults"),
                                             **thresholds)
        issued = documents.issue_report(session, get_registry(), actor, project, lang=lang, base_url=base_url(),
                                        min_means=chosen["min_means"], min_tests=chosen["min_tests"],
                                        min_cell=chosen["min_cell"], host=get_host())
        audit.download(session, actor, "download.report", project, target=f"document:{issued.code}",
                       format="pdf", language=lang)
    target = output or Path(issued.filename)
    _write(target, issued.pdf)
    click.echo(f"Wrote {target} (verification code {issued.code})", err=True)


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None


COMMANDS = [report_command]
