"""``surveyhub retention purge`` and ``surveyhub privacy register``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale, gettext

from surveyhub.cli.common import session_scope, user_errors
from surveyhub.db import get_db
from surveyhub.i18n import LANGUAGES
from surveyhub.plugins import get_registry
from surveyhub.services import accounts, outcomes, privacy_register, retention
from surveyhub.services.errors import UserError
from surveyhub.services.schema_state import ensure_ready


def purge(*, dry_run: bool = False, who: str = "system", source: str = "system"):
    """Run the purge with the current app's settings (shared by the CLI and the daily thread)."""
    ensure_ready(get_db())
    return retention.run_purge(get_db().session, get_registry(), dry_run=dry_run, who=who, source=source,
                               default_months=current_app.config["RETENTION_MONTHS"],
                               thresholds=outcomes.Thresholds.from_settings(current_app.config))


@click.group("retention")
def retention_group():
    """Delete residents' personal data once a project's retention period has passed."""


@retention_group.command("purge")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed, and what is due within 30 days.")
@with_appcontext
@user_errors
def purge_command(dry_run: bool):
    """Remove personal data of every project past its retention period; keep only the anonymous aggregates."""
    done = purge(dry_run=dry_run, who="cli", source="cli")
    if dry_run:
        _print_due(done)
        return
    for item, result in done:
        if result is not None:
            click.echo(f"{item.slug}: removed {result.residents} residents, {result.responses} responses, "
                       f"{result.answers} answers; {result.documents} documents unlinked")
    if not any(result for _item, result in done):
        click.echo("Nothing to purge.")


def _print_due(due) -> None:
    if not due:
        click.echo("Nothing to purge.")
    for item, _result in due:
        click.echo(f"would purge {item.slug}: {item.residents} residents, due {item.due:%Y-%m-%d} "
                   f"({item.months} months)")
    with session_scope(commit=False) as session:
        soon = retention.due_projects(session, default_months=current_app.config["RETENTION_MONTHS"],
                                      within_days=retention.NOTICE_DAYS)
    for item in soon:
        if item.slug not in {d.slug for d, _r in due}:
            click.echo(f"due in {item.days_left()} days: {item.slug}: {item.residents} residents, "
                       f"due {item.due:%Y-%m-%d} ({item.months} months)")


@click.group("privacy")
def privacy_group():
    """Privacy documents (AVG/GDPR)."""


@privacy_group.command("register")
@click.option("--org", "org_name", required=True, help="Organisation name or slug.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the Markdown to FILE instead of standard output.")
@click.option("--lang", type=click.Choice(sorted(LANGUAGES)), default="nl", show_default=True)
@with_appcontext
@user_errors
def register_command(org_name: str, output: Path | None, lang: str):
    """The processing register (GDPR article 30) of an organisation, as Markdown."""
    with session_scope(commit=False) as session, force_locale(lang):
        org = accounts.find_organisation(session, org_name)
        text = privacy_register.to_markdown(privacy_register.build(session, org.id, current_app.config, gettext))
    if output is None:
        click.echo(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror}") from exc
    click.echo(f"Register written to {output}")


COMMANDS = [retention_group, privacy_group]
