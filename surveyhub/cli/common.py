"""Shared pieces of the CLI commands: sessions, error handling."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps

import click
from flask import current_app

from surveyhub.config import ConfigError
from surveyhub.db import get_db
from surveyhub.plugins import get_host, get_registry
from surveyhub.services import context
from surveyhub.services.context import ServiceContext
from surveyhub.services.errors import ServiceError
from surveyhub.services.schema_state import DatabaseNotReady, ensure_ready


def user_errors(command):
    """Known errors become ``Error: <one line>`` (in English) and exit 1: a service's user errors,
    NotFound and Forbidden alike (``ServiceError``), a database that is not ready, a bad setting."""
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


@contextmanager
def command_context(*, project_slug: str | None = None, org_id: int | None = None, lang: str = "nl",
                    commit: bool = True) -> Iterator[ServiceContext]:
    """The command's one ServiceContext, acting as an admin of the organisation that owns
    ``project_slug`` (or ``org_id``), in a ``session_scope``; the project is read once."""
    from surveyhub.services.outcomes import Thresholds  # the statistics code: loaded by commands that need it

    with session_scope(commit=commit) as session:
        yield context.for_command(session, registry=get_registry(), host=get_host(),
                                  thresholds=Thresholds.from_settings(current_app.config), base_url=base_url(),
                                  lang=lang, project_slug=project_slug, org_id=org_id)
