"""gunicorn settings for ``surveyhub serve`` (loaded with ``-c python:surveyhub.gunicorn_conf``)."""

from __future__ import annotations

import os

from gunicorn.glogging import Logger

from surveyhub.log_masking import MaskingFilter, mask


class MaskingLogger(Logger):
    """gunicorn's logger, with personal, anonymous and reset links masked (``surveyhub.log_masking``).

    Every access-log atom (request line, path, query string, Referer, headers) is
    masked, and the error log ("Error handling request /q/...") gets the same filter.
    """

    def atoms(self, resp, req, environ, request_time):
        return {key: mask(value) for key, value in super().atoms(resp, req, environ, request_time).items()}

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, MaskingFilter) for f in log.filters):
                log.addFilter(MaskingFilter())


#: Tokens in request paths never reach gunicorn's logs.
logger_class = MaskingLogger


def when_ready(server) -> None:
    """In the master, once it listens: start the daily retention purge (``surveyhub.schedule``)."""
    if os.environ.get("SURVEYHUB_RETENTION_PURGE_DAILY", "").strip() == "0":
        return  # switched off: no thread in the master at all (the thread also reads config.toml)
    try:
        from surveyhub.schedule import start_retention_thread
        start_retention_thread()
    except Exception:  # noqa: BLE001 - the server must run even if the purge thread cannot start
        server.log.exception("the daily retention purge did not start")
