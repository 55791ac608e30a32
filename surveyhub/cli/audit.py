"""``surveyhub audit list``: an organisation's audit trail on the command line, as lines or as CSV."""

from __future__ import annotations

import sys
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from surveyhub.cli.common import session_scope, user_errors
from surveyhub.services import access, accounts, audit


@click.group("audit")
def audit_group():
    """Read the audit trail: who did what, when and from where."""


@audit_group.command("list")
@click.option("--org", "org_name", required=True, help="Organisation name or slug.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="From this local day (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Up to and including this local day (YYYY-MM-DD).")
@click.option("--event", default=None, help="Only this event code, e.g. download.export.")
@click.option("--project", default=None, help="Only events of this project (slug).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV on standard output (the admin page's export).")
@click.option("--limit", type=click.IntRange(min=0), default=200, show_default=True,
              help="At most this many lines, newest first (0: all); CSV always has all.")
@with_appcontext
@user_errors
def audit_list(org_name, since, until, event, project, as_csv, limit):
    """List ORG's events, newest first, in the installation's time zone (SURVEYHUB_TIMEZONE)."""
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    # Labels and detail names as on the admin page, in the installation's language.
    with force_locale(current_app.config.get("DEFAULT_LANGUAGE") or "nl"), session_scope(commit=False) as session:
        org = accounts.find_organisation(session, org_name)
        actor = access.cli_actor(session, org_id=org.id)
        project_id = access.project(session, actor, project, "org.manage").id if project else None
        start, end = audit.period(since.date() if since else None, until.date() if until else None, tz)
        filters = audit.Filters(action=event or None, project_id=project_id, since=start, until=end)
        if as_csv:
            _write_csv(session, actor, filters, tz, {"event": event, "project": project,
                                                     "since": since and since.date().isoformat(),
                                                     "until": until and until.date().isoformat()})
            return
        shown = audit.all_events(session, actor, filters)
        for n, found in enumerate(shown, 1):
            click.echo(_line(found, tz))
            if n == limit:
                break


def _write_csv(session, actor, filters, tz, asked: dict) -> None:
    from surveyhub.web.audit_labels import csv_chunks

    audit.record(session, "download.export", actor=actor, target="audit",
                 details={"format": "csv", **{k: v for k, v in asked.items() if v}})
    session.commit()
    for chunk in csv_chunks(audit.all_events(session, actor, filters), tz):
        sys.stdout.buffer.write(chunk)
    sys.stdout.flush()


def _line(event: audit.Event, tz) -> str:
    from surveyhub.web.audit_labels import summary

    when = event.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    parts = [when, event.who or "-", event.action, event.target or "-", event.source or "-"]
    text = summary(event.details)
    return "  ".join(parts + ([text] if text else []))


COMMANDS = [audit_group]
