"""Shared pieces of the CLI commands: sessions, error handling."""

from __future__ import annotations

from contextlib import contextmanager
from functools import wraps

import click
from flask import current_app

from surveyhub.config import ConfigError
from surveyhub.db import get_db
from surveyhub.services.errors import ServiceError
from surveyhub.services.schema_state import DatabaseNotReady, ensure_ready


def user_errors(command):
    """Known user errors become ``Error: <one line>`` and exit 1."""
    @wraps(command)
    def wrapped(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (ServiceError, DatabaseNotReady, ConfigError) as exc:
            raise click.ClickException(str(exc)) from None
    return wrapped


@contextmanager
def session_scope(commit: bool = True):
    """A session on a migrated database; commits at the end unless told not to."""
    ensure_ready(get_db())
    with get_db().session() as session:
        yield session
        if commit:
            session.commit()


def base_url() -> str:
    return current_app.config["BASE_URL"]
