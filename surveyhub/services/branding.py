"""An organisation's branding on its documents: the logo (checked by ``documents.logo``).

Admins set it on the admin page "Logo" or with ``surveyhub org logo ORG FILE``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from surveyhub.rendering.logo import LogoError, check_logo
from surveyhub.models import Organisation
from surveyhub.services import access
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Invalid


class LogoRefused(Invalid):
    """The logo breaks a rule; ``kind`` and ``what`` as in ``documents.logo.LogoError``."""

    def __init__(self, error: LogoError):
        super().__init__(N_("this logo cannot be used: %(error)s"), error=str(error))
        self.kind, self.what = error.kind, error.what


def set_logo(session: Session, org: Organisation, data: bytes | None, mime: str | None = None) -> str:
    """Store ``data`` as the organisation's logo (``None`` or empty removes it); returns its media type.

    :raises LogoRefused: when the file is not a small PNG, JPEG or self-contained SVG (the reason is given).
    """
    if not data:
        org.logo, org.logo_type = None, None
        session.flush()
        return ""
    try:
        kind = check_logo(data, mime)
    except LogoError as exc:
        raise LogoRefused(exc) from None
    org.logo, org.logo_type = data, kind
    session.flush()
    return kind


def organisation_logo(session: Session, actor: Actor) -> tuple[bytes | None, str | None]:
    """The actor's organisation's logo and its media type (admins only)."""
    access.require(actor, "org.manage")
    org = access.organisation(session, actor)
    return (bytes(org.logo) if org.logo else None), org.logo_type


def set_own_logo(session: Session, actor: Actor, data: bytes | None) -> str:
    """:func:`set_logo` for the admin's own organisation."""
    access.require(actor, "org.manage")
    return set_logo(session, access.organisation(session, actor), data)
