"""Shared pieces of the CLI commands: sessions, error handling."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import wraps
from pathlib import Path

import click
from flask import current_app

from surveyhub.config import ConfigError
from surveyhub.db import get_db
from surveyhub.plugins import get_host, get_registry
from surveyhub.services import context
from surveyhub.services.context import ServiceContext
from surveyhub.services.errors import ServiceError, UserError
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


def organisation_of(model, row_id: int, what: str) -> int:
    """The organisation a row (an API token, a webhook endpoint) belongs to: the command acts for it."""
    with session_scope(commit=False) as session:
        row = session.get(model, row_id)
        if row is None:
            raise click.ClickException(f"no {what} {row_id}")
        return row.organisation_id


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
                                  lang=lang, project_slug=project_slug, org_id=org_id,
                                  timezone=current_app.config["TIMEZONE"])


def period(start: str | None, end: str | None, *, needs: str = "") -> tuple[date, date]:
    """``--from`` and ``--to`` as dates, the first not after the last (``needs``: what asks for them)."""
    first, last = (_day(option, value, needs) for option, value in (("--from", start), ("--to", end)))
    if first > last:
        raise UserError(f"--from {first.isoformat()} is after --to {last.isoformat()}")
    return first, last


def _day(option: str, value: str | None, needs: str) -> date:
    if value is None:
        raise UserError(f"{needs} needs {option} DATE (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"{option}: {value!r} is not a date; write it as YYYY-MM-DD") from None


def write_json(data, output: Path | None) -> None:
    """A report's JSON to standard output, or to ``output`` (saying so on standard error)."""
    text = json.dumps(data, allow_nan=False, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    write_file(output, text.encode("utf-8"))
    click.echo(f"Wrote {output}", err=True)


def write_file(path: Path, data: bytes) -> None:
    """``data`` to ``path``; a disk or permission problem is one line, not a traceback."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None
