"""gunicorn settings for ``surveyhub serve`` (loaded with ``-c python:surveyhub.gunicorn_conf``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

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


#: The job consumer ``surveyhub serve`` starts beside gunicorn (``surveyhub worker --if-embedded``).
_embedded: subprocess.Popen | None = None


def when_ready(server) -> None:
    """In the master, once it listens: start one job consumer beside gunicorn, unless
    ``SURVEYHUB_EMBEDDED_WORKER`` is 0 (the consumer reads ``config.toml`` too and stops at once then).

    The consumer is a child process that gets SIGTERM when the master ends, however it ends.
    """
    global _embedded
    if os.environ.get("SURVEYHUB_EMBEDDED_WORKER", "").strip() == "0":
        return
    try:
        _embedded = subprocess.Popen([sys.executable, "-c", "from surveyhub.cli import main; main()", "worker",
                                      "--if-embedded"], preexec_fn=_die_with_parent)
    except Exception:  # noqa: BLE001 - the server must run even if the consumer cannot start
        server.log.exception("the job consumer did not start; run `surveyhub worker` yourself")


def on_exit(server) -> None:
    """The master stops: stop the consumer it started (it finishes the task at hand first)."""
    if _embedded is not None and _embedded.poll() is None:
        _embedded.terminate()
        try:
            _embedded.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _embedded.kill()


def _die_with_parent() -> None:
    """In the child before it runs: SIGTERM when the master dies (Linux), so no consumer is left behind."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass
