"""The ``surveyhub`` command line: a Flask CLI group.

Every command turns user errors into one line on stderr and a non-zero exit,
never a traceback.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo


def _create_app(*_args) -> Flask:
    from surveyhub import create_app
    return create_app()


class SurveyHubGroup(FlaskGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        # Flask prints any error raised while loading the app (for the command list in
        # ``--help``) as a traceback; load it first so a settings error reaches ``main``.
        ctx.ensure_object(ScriptInfo).load_app()
        return super().list_commands(ctx)


@click.group(cls=SurveyHubGroup, create_app=_create_app, add_default_commands=True,
             add_version_option=False, load_dotenv=False)
def cli():
    """SurveyHub: pre/post questionnaires and impact evidence for community work."""


def register_commands(app: Flask) -> None:
    """Attach the command modules to the app (so ``flask --app wsgi`` has them too)."""
    from surveyhub.cli import (accounts, activities, audit, badges, database, documents, instruments, jobs, mail,
                               networks, projects, reports, responses, retention, story, tokens, webhooks)

    for module in (database, jobs, accounts, projects, instruments, retention, responses, reports, documents, audit,
                   story, mail, activities, networks, tokens, webhooks, badges):
        for command in module.COMMANDS:
            app.cli.add_command(command)


def main() -> None:
    from surveyhub.config import ConfigError
    from surveyhub.measures.registry import RegistryConflict

    try:
        cli.main(prog_name="surveyhub")
    except (ConfigError, RegistryConflict) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
