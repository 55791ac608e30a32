"""An organisation's Ed25519 key for Open Badges: made on first use, published as a JWK.

The key id (``kid``) is the RFC 7638 thumbprint of the public key, so anyone holding the
JWK can recompute it. The private half (PKCS#8 PEM) never leaves the server; a retired
key signs nothing new but stays published, so credentials signed with it still verify.
"""

from __future__ import annotations

from joserfc.jwk import OKPKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.models import SigningKey

#: The JOSE algorithm of every badge signature (RFC 8037: Ed25519 as ``EdDSA``).
ALGORITHM = "EdDSA"


def active_key(session: Session, organisation_id: int) -> SigningKey:
    """The key the organisation signs new credentials with; made (and flushed) when it has none."""
    found = session.scalar(select(SigningKey).where(SigningKey.organisation_id == organisation_id,
                                                    SigningKey.retired_at.is_(None))
                           .order_by(SigningKey.id).limit(1))
    if found is not None:
        return found
    private = OKPKey.generate_key("Ed25519")
    public = public_jwk(private)
    key = SigningKey(organisation_id=organisation_id, kid=public["kid"], public_jwk=public,
                     private_pem=private.as_pem(private=True))
    session.add(key)
    session.flush()
    return key


def newest(session: Session, organisation_id: int) -> SigningKey | None:
    """The organisation's latest key, without making one (for what a GET signs: the status list)."""
    return session.scalar(select(SigningKey).where(SigningKey.organisation_id == organisation_id)
                          .order_by(SigningKey.id.desc()).limit(1))


def public_jwk(key: OKPKey) -> dict:
    """The public half as a JWK with its thumbprint ``kid`` (never ``d``)."""
    jwk = {name: value for name, value in key.as_dict(private=False).items() if name != "d"}
    return {**jwk, "kid": key.thumbprint(), "alg": ALGORITHM, "use": "sig"}


def private_key(key: SigningKey) -> OKPKey:
    return OKPKey.import_key(bytes(key.private_pem))


def verifying_key(key: SigningKey) -> OKPKey:
    """The public key only: what a verifier outside would hold."""
    return OKPKey.import_key({k: v for k, v in key.public_jwk.items() if k in ("kty", "crv", "x")})


def published(session: Session, organisation_id: int) -> list[dict]:
    """Every key of the organisation as a public JWK (retired ones too), oldest first: the JWKS ``keys``."""
    rows = session.scalars(select(SigningKey).where(SigningKey.organisation_id == organisation_id)
                           .order_by(SigningKey.id))
    return [dict(row.public_jwk) for row in rows]


def by_kid(session: Session, kid: str) -> SigningKey | None:
    return session.scalar(select(SigningKey).where(SigningKey.kid == kid))


def rotate(session: Session, organisation_id: int) -> SigningKey:
    """Retire the organisation's signing key and make a new one; credentials signed before still verify."""
    from surveyhub.models._types import utcnow

    for key in session.scalars(select(SigningKey).where(SigningKey.organisation_id == organisation_id,
                                                        SigningKey.retired_at.is_(None))):
        key.retired_at = utcnow()
    session.flush()
    return active_key(session, organisation_id)
