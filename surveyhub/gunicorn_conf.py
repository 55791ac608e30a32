"""gunicorn settings for ``surveyhub serve`` (loaded with ``-c python:surveyhub.gunicorn_conf``)."""

from __future__ import annotations


def when_ready(server) -> None:
    """In the master, once it listens: start the daily retention purge (``surveyhub.schedule``)."""
    try:
        from surveyhub.schedule import start_retention_thread
        start_retention_thread()
    except Exception:  # noqa: BLE001 - the server must run even if the purge thread cannot start
        server.log.exception("the daily retention purge did not start")
