"""``surveyhub init``, ``demo`` and ``serve``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import current_app

from surveyhub.cli.common import base_url, session_scope, user_errors
from surveyhub.db import get_db
from surveyhub.services import schema_state


@click.command("init")
@user_errors
def init_command():
    """Create or upgrade the database."""
    before, after = schema_state.upgrade(get_db())
    if before == after:
        click.echo(f"Database is up to date (schema {after}).")
    elif before is None:
        click.echo(f"Database created (schema {after}).")
    else:
        click.echo(f"Database upgraded from {before} to {after}.")


@click.command("demo")
@user_errors
def demo_command():
    """Create (once) a demo organisation, users, project and answers; print how to log in."""
    from surveyhub.services import demo
    from surveyhub.plugins import get_registry

    with session_scope() as session:
        result = demo.load(session, get_registry(), base_url(), Path(current_app.instance_path))
    click.echo(("Demo data created." if result.created else "Demo data already present.")
               + f" Project: {result.project_name}")
    for role, email, password in result.logins:
        click.echo(f"  {role:7} {email}  password: {password}")
    click.echo(f"  Resident link: {result.resident_link}")
    for organisation, email, password in result.other_logins:  # the network's other members
        click.echo(f"  {organisation}: {email}  password: {password}")
    click.echo(f"  API reference: {base_url().rstrip('/')}/api/v1/docs  (a token: Beheer > API-tokens, "
               f"or surveyhub token create)")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@user_errors
def serve_command(host: str, port: int, workers: int):
    """Run the production server (gunicorn)."""
    schema_state.ensure_ready(get_db())
    click.echo(f"SurveyHub runs at http://{host}:{port}/  (stop with Ctrl+C)")
    sys.stdout.flush()
    env = dict(os.environ, SURVEYHUB_INSTANCE_PATH=current_app.instance_path)
    args = [sys.executable, "-m", "gunicorn", "-c", "python:surveyhub.gunicorn_conf",
            "--bind", f"{host}:{port}", "--workers", str(workers),
            "--access-logfile", "-", "--graceful-timeout", "10", "surveyhub:create_app()"]
    os.execve(sys.executable, args, env)


COMMANDS = [init_command, demo_command, serve_command]
