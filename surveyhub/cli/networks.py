"""``surveyhub network``: start a neighbourhood network, add organisations and projects, let a funder read, report.

The command line is trusted (it acts as an admin of the organisation concerned), so
``network join`` needs no code. Each command acts for one organisation: the one named with
``--org``, the project's own, or (for viewers and the report) the network's coordinator.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from surveyhub.cli.common import command_context, period, session_scope, user_errors, write_file, write_json
from surveyhub.services import accounts, audit, network_report, networks


@click.group("network")
def network():
    """Neighbourhood networks of organisations (docs/networks.md)."""


def _org_id(name: str) -> int:
    with session_scope(commit=False) as session:
        return accounts.find_organisation(session, name).id


def _coordinator_id(slug: str) -> int:
    with session_scope(commit=False) as session:
        return networks.coordinator_of(session, slug)


@network.command("create")
@click.argument("name")
@click.option("--org", required=True, help="The organisation that starts and coordinates it (name or slug).")
@click.option("--area", required=True, help="The neighbourhood or village, e.g. 'Kanaleneiland, Utrecht'.")
@click.option("--description", default=None, help="What the network is for.")
@with_appcontext
@user_errors
def create(name: str, org: str, area: str, description: str | None):
    """Start network NAME; prints its slug and (once) the join code for the other organisations."""
    with command_context(org_id=_org_id(org)) as ctx:
        info, code = networks.create(ctx, name=name, area=area, description=description)
    click.echo(info.slug)
    click.echo(f"join code: {code}")


@network.command("join")
@click.argument("network_slug", metavar="NETWORK")
@click.option("--org", required=True, help="The organisation that joins (name or slug).")
@with_appcontext
@user_errors
def join(network_slug: str, org: str):
    """Add ORG to NETWORK as a member (no join code needed here)."""
    with command_context(org_id=_org_id(org)) as ctx:
        info = networks.admit(ctx, network_slug)
    click.echo(f"{org} joined {info.slug} ({info.organisations} organisations)")


@network.command("add-project")
@click.argument("network_slug", metavar="NETWORK")
@click.argument("project")
@with_appcontext
@user_errors
def add_project(network_slug: str, project: str):
    """Let PROJECT count in NETWORK (its organisation must be a member)."""
    with command_context(project_slug=project) as ctx:
        added = networks.opt_in(ctx, network_slug, project)
    click.echo(f"{project} {'now counts' if added else 'already counted'} in {network_slug}")


@network.command("remove-project")
@click.argument("network_slug", metavar="NETWORK")
@click.argument("project")
@with_appcontext
@user_errors
def remove_project(network_slug: str, project: str):
    """PROJECT no longer counts in NETWORK."""
    with command_context(project_slug=project) as ctx:
        removed = networks.opt_out(ctx, network_slug, project)
    click.echo(f"{project} {'no longer counts' if removed else 'did not count'} in {network_slug}")


@network.command("viewer-add")
@click.argument("network_slug", metavar="NETWORK")
@click.argument("email")
@with_appcontext
@user_errors
def viewer_add(network_slug: str, email: str):
    """Let EMAIL, a funder user of a member organisation, read NETWORK's report."""
    with command_context(org_id=_coordinator_id(network_slug)) as ctx:
        row = networks.add_viewer(ctx, network_slug, email)
    click.echo(f"{row.email} ({row.organisation}) can read the report of {network_slug}")


@network.command("report")
@click.argument("network_slug", metavar="NETWORK")
@click.option("--from", "start", required=True, metavar="DATE", help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "end", required=True, metavar="DATE", help="Last day of the period (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["json", "pdf"]), default="json", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write; default: standard output for json, the document's own name for pdf.")
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True, help="pdf only.")
@with_appcontext
@user_errors
def report(network_slug: str, start: str, end: str, fmt: str, output: Path | None, lang: str):
    """NETWORK's report for a period: JSON (docs/networks.md) or a registered PDF, issued by the coordinator."""
    first, last = period(start, end, needs="network report")
    coordinator = _coordinator_id(network_slug)
    if fmt == "json":
        with command_context(org_id=coordinator) as ctx:
            found = network_report.report(ctx, network_slug, start=first, end=last)
            audit.record(ctx.session, "download.report", actor=ctx.actor, target=f"network:{network_slug}",
                         details={"kind": "network_report", "format": "json", "start": first.isoformat(),
                                  "end": last.isoformat()})
        write_json(found, output)
        return
    from surveyhub.services import across_documents

    with command_context(org_id=coordinator, lang=lang) as ctx:
        pdf, code = across_documents.issue_network_report(ctx, network_slug, start=first, end=last, lang=ctx.lang)
    target = output or Path(f"network-report-{code}.pdf")
    write_file(target, pdf)
    click.echo(f"Wrote {target} (verification code {code})", err=True)


COMMANDS = [network]
