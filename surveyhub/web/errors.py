"""Service errors in the reader's language.

Services raise English msgids with named parameters (``surveyhub.services.errors``) and never
translate; this is the one place where the web turns such an error into the words a person reads.
"""

from __future__ import annotations

from flask_babel import gettext

from surveyhub.services.errors import ServiceError


def user_message(exc: ServiceError) -> str:
    """The error's message in the request's language (English where the catalog has no entry)."""
    return exc.translated(gettext)
