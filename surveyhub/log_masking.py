"""Personal links never reach a log.

A resident's link (``/q/<token>``) and its short code (``/k/<code>``), the
anonymous project link (``/a/<token>``) and a password-reset link
(``/reset/<token>``) are passwords. gunicorn's access log
(``gunicorn_conf.MaskingLogger``), its error log, Flask's "Exception on
/q/<token> [POST]" and werkzeug's request lines all pass through ``mask``,
which keeps the route and hides the secret: ``/q/***/p/2``, ``/k/***``.
"""

from __future__ import annotations

import logging
import re

HIDDEN = "***"
#: A secret path segment, also inside a query string or a Referer, also percent-encoded.
_PATH = re.compile(r"((?:/|%2F)(?:q|a|k|reset)(?:/|%2F))[^/?#&\s\"'%]+(?:%(?!2F)[0-9A-F]{2}[^/?#&\s\"'%]*)*", re.I)
#: Query parameters that could carry a secret.
_QUERY = re.compile(r"((?:^|[?&;])(?:token|reset|key)=)[^&;#\s\"']*", re.I)
#: A bare run of 32 URL-safe characters, as ``secrets.token_urlsafe(24)`` makes a link's token, e.g. among
#: the parameters of a database error in a traceback. Which ones are tokens: see ``_bare``.
_BARE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32}(?![A-Za-z0-9_-])")
_CLASSES = (re.compile(r"[A-Z]"), re.compile(r"[a-z]"), re.compile(r"[0-9]"))
#: An API token (``shk_`` and 43 characters), e.g. an ``Authorization`` header in a custom access-log format.
_API_TOKEN = re.compile(r"shk_[A-Za-z0-9_-]+")


def mask(text):
    """``text`` with every personal, anonymous or reset token replaced by ``***``."""
    if not isinstance(text, str) or not text:
        return text
    text = _API_TOKEN.sub("shk_" + HIDDEN, text)
    return _BARE.sub(_bare, _QUERY.sub(r"\1" + HIDDEN, _PATH.sub(r"\1" + HIDDEN, text)))


def _bare(match: re.Match[str]) -> str:
    """Hide a run with at least two of upper case, lower case and digits.

    A random token lacks one of the three now and then (no digit in 1 of 230), but two of them only about
    once in 10^11; a word or snake_case name of exactly 32 characters has one. A hex digest is hidden too.
    """
    run = match.group(0)
    return HIDDEN if sum(1 for kind in _CLASSES if kind.search(run)) >= 2 else run


class MaskingFilter(logging.Filter):
    """Rewrite a record's message, traceback and stack with ``mask`` before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = mask(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = mask(record.exc_text)
        record.stack_info = mask(record.stack_info)
        return True


#: Loggers that name request paths: Flask's (the app's), werkzeug's request lines, gunicorn's.
LOGGERS = ("werkzeug", "gunicorn.error", "gunicorn.access")


def install(*loggers: logging.Logger | str) -> None:
    """Put the filter on these loggers (names or objects) and on ``LOGGERS``, once each."""
    for logger in (*loggers, *LOGGERS):
        logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        if not any(isinstance(f, MaskingFilter) for f in logger.filters):
            logger.addFilter(MaskingFilter())
