"""``surveyhub report PROJECT --format json|pdf`` and ``surveyhub report --org ORG --from DATE --to DATE``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from surveyhub.cli.common import command_context, period, session_scope, user_errors, write_file, write_json
from surveyhub.services import accounts, across_documents, audit, documents, org_report, outcomes
from surveyhub.services.errors import UserError


@click.command("report")
@click.argument("project", required=False)
@click.option("--org", default=None, help="The organisation's report across its projects (name or slug), "
                                          "instead of one PROJECT's.")
@click.option("--from", "start", default=None, metavar="DATE", help="With --org: first day of the period "
                                                                    "(YYYY-MM-DD).")
@click.option("--to", "end", default=None, metavar="DATE", help="With --org: last day of the period (YYYY-MM-DD).")
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
def report_command(project, org, start, end, fmt, output, min_n, min_tests, min_cell, lang):
    """The impact report of PROJECT as JSON (see docs/report-json.md) or as a registered PDF;
    with --org ORG --from DATE --to DATE, the organisation's report across its projects in that
    period (docs/org-report-json.md).

    Thresholds come from these options, else the organisation's settings,
    else SURVEYHUB_MIN_PAIRS_MEANS / _TESTS / SURVEYHUB_MIN_CELL. ``--min-n N``: at
    least N pairs for means; tests and effect sizes keep their own threshold unless N
    is larger, in which case they also need N. ``--min-cell N``: counts below N show as "<N".
    """
    # Passed on as given: the report service resolves them once, against the organisation and ctx.thresholds.
    given = {"min_means": min_n, "min_tests": min_tests, "min_cell": min_cell}
    if org is not None or start is not None or end is not None:
        if project is not None:
            raise UserError("give either PROJECT or --org, not both")
        _org_report(org, *period(start, end, needs="--org"), fmt, output, lang, given)
        return
    if project is None:
        raise UserError("give a PROJECT, or --org ORG --from DATE --to DATE")
    if fmt == "json":
        with command_context(project_slug=project, commit=False) as ctx:
            found = ctx.project(project, "project.outcomes")
            report = outcomes.project_report(ctx.session, ctx.registry, ctx.actor, project, defaults=ctx.thresholds,
                                             project=found, **given)
            audit.download(ctx.session, ctx.actor, "download.report", project, project_id=found.id, format="json")
            ctx.session.commit()
        write_json(report, output)
        return
    with command_context(project_slug=project, lang=lang) as ctx:
        found = ctx.project(project, "project.outcomes")
        issued = documents.issue_report(ctx.session, ctx.registry, ctx.actor, project, lang=ctx.lang,
                                        base_url=ctx.base_url, defaults=ctx.thresholds, host=ctx.host,
                                        project=found, **given)
        audit.download(ctx.session, ctx.actor, "download.report", project, project_id=found.id,
                       target=f"document:{issued.code}", format="pdf", language=lang)
    target = output or Path(issued.filename)
    write_file(target, issued.pdf)
    click.echo(f"Wrote {target} (verification code {issued.code})", err=True)


def _org_report(org: str | None, start: date, end: date, fmt: str, output: Path | None, lang: str,
                given: dict) -> None:
    """The organisation's report for ``start`` … ``end``: JSON to standard output or a file, or a registered PDF
    (the same figures, under the same thresholds)."""
    if org is None:
        raise UserError("--from and --to go with --org ORG")
    with session_scope(commit=False) as session:
        org_id = accounts.find_organisation(session, org).id
    period = f"{start.isoformat()}..{end.isoformat()}"
    if fmt == "json":
        with command_context(org_id=org_id, commit=False) as ctx:
            report = org_report.build(ctx, start=start, end=end, **given)
            audit.record(ctx.session, "download.report", actor=ctx.actor,
                         target=f"organisation:{report['organisation']['slug']}",
                         details={"format": "json", "period": period})
            ctx.session.commit()
        write_json(report, output)
        return
    with command_context(org_id=org_id, lang=lang) as ctx:
        report = org_report.build(ctx, start=start, end=end, **given)
        issued = across_documents.issue(ctx, across_documents.prepare_org_report(
            ctx, start=start, end=end, lang=ctx.lang, report=dict(report)))
        audit.record(ctx.session, "download.report", actor=ctx.actor,
                     target=f"organisation:{report['organisation']['slug']}",
                     details={"format": "pdf", "period": period, "document": issued.code, "language": lang})
    target = output or Path(issued.filename)
    write_file(target, issued.pdf)
    click.echo(f"Wrote {target} (verification code {issued.code})", err=True)


COMMANDS = [report_command]
