"""An organisation's branding on its documents: the logo (checked by ``documents.logo``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from surveyhub.documents.logo import LogoError, check_logo
from surveyhub.models import Organisation
from surveyhub.services.errors import ServiceError


def set_logo(session: Session, org: Organisation, data: bytes | None, mime: str | None = None) -> str:
    """Store ``data`` as the organisation's logo (``None`` or empty removes it); returns its media type.

    :raises ServiceError: when the file is not a small PNG, JPEG or self-contained SVG (the reason is given).
    """
    if not data:
        org.logo, org.logo_type = None, None
        session.flush()
        return ""
    try:
        kind = check_logo(data, mime)
    except LogoError as exc:
        raise ServiceError(f"this logo cannot be used: {exc}") from None
    org.logo, org.logo_type = data, kind
    session.flush()
    return kind
