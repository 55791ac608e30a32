"""Organisation API tokens: created and revoked by admins, shown once, kept as a SHA-256 digest.

A token acts as a role of its organisation (``access.MATRIX``) narrowed by scopes
(``access.SCOPES``). A funder token reads as one funder user, so it sees exactly the
projects shared with that person, and stops working when they are deactivated.
The token is 256 random bits; its digest cannot be turned back into it, so a plain
SHA-256 suffices (a slow password hash would cost every API call and protect nothing more).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.models import API_TOKEN_ROLES, ApiToken, User
from surveyhub.models._types import utcnow
from surveyhub.services import access, audit
from surveyhub.services.access import Actor
from surveyhub.services.errors import Invalid, N_, NotFound

#: Every token starts so; secret scanners and people can tell it is a SurveyHub token.
TOKEN_PREFIX = "shk_"
#: How many characters of the token a list shows ("shk_3fA9…").
SHOWN = 10
#: A token's last use is written at most this often (a busy script must not write on every call).
LAST_USE_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenInfo:
    """A token as an admin's list shows it (never the token itself)."""

    id: int
    name: str
    role: str
    scopes: tuple[str, ...]
    prefix: str
    funder_email: str | None
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None
    last_used_at: datetime | None
    last_used_from: str | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > utcnow())


@dataclass(frozen=True)
class Created:
    """A new token: ``token`` is shown once and never again."""

    id: int
    token: str
    prefix: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_scopes(values) -> tuple[str, ...]:
    """Known scopes in a fixed order; an unknown one is refused by name."""
    wanted = {str(value).strip() for value in values if str(value).strip()}
    unknown = sorted(wanted - set(access.SCOPES))
    if unknown:
        raise Invalid(N_("Unknown scope %(scope)s. Choose from: %(known)s."), scope=", ".join(unknown),
                      known=", ".join(access.SCOPES))
    if not wanted:
        raise Invalid(N_("Choose at least one scope."))
    return tuple(scope for scope in access.SCOPES if scope in wanted)


def create(session: Session, actor: Actor, *, name: str, scopes, role: str = "worker",
           funder_email: str | None = None, expires_days: int | None = None) -> Created:
    """A new token for the actor's organisation (admins only). A funder token names the funder it reads as."""
    access.require(actor, "org.manage")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid(N_("Give the token a name of 1 to 100 characters, e.g. what it is for."))
    if role not in API_TOKEN_ROLES:
        raise Invalid(N_("Unknown role %(role)s. Choose admin, worker or funder."), role=role)
    chosen = parse_scopes(scopes)
    user_id = None
    if role == "funder":
        email = (funder_email or "").strip().lower()
        if not email:
            raise Invalid(N_("A funder token reads as one funder: give their e-mail address."))
        funder = session.scalar(select(User).where(User.email == email, User.organisation_id == actor.organisation_id,
                                                   User.role == "funder", User.active.is_(True)))
        if funder is None:
            raise Invalid(N_("No active funder account %(email)s in this organisation."), email=email)
        user_id = funder.id
    elif funder_email:
        raise Invalid(N_("Only a funder token names a funder."))
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise Invalid(N_("A token expires after 1 to 3650 days, or never."))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(organisation_id=actor.organisation_id, name=name, role=role, user_id=user_id,
                   scopes=" ".join(chosen), prefix=token[:SHOWN], token_hash=digest(token),
                   created_by_id=actor.user_id,
                   expires_at=utcnow() + timedelta(days=expires_days) if expires_days else None)
    session.add(row)
    session.flush()
    audit.record(session, "api_token.create", actor=actor, target=f"api_token:{row.id}",
                 details={"name": name, "role": role, "scopes": list(chosen)})
    return Created(id=row.id, token=token, prefix=row.prefix)


def revoke(session: Session, actor: Actor, token_id: int) -> None:
    """Revoke one of the organisation's tokens (admins only); it stops working at once."""
    access.require(actor, "org.manage")
    row = session.scalar(select(ApiToken).where(ApiToken.id == token_id,
                                                ApiToken.organisation_id == actor.organisation_id))
    if row is None:
        raise NotFound(N_("No such token."))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        row.revoked_by_id = actor.user_id
        audit.record(session, "api_token.revoke", actor=actor, target=f"api_token:{row.id}",
                     details={"name": row.name})


def list_tokens(session: Session, actor: Actor) -> list[TokenInfo]:
    """The organisation's tokens, newest first, revoked ones too (admins only)."""
    access.require(actor, "org.manage")
    creator = User.__table__.alias("creator")
    funder = User.__table__.alias("funder")
    rows = session.execute(
        select(ApiToken, creator.c.email, funder.c.email)
        .outerjoin(creator, creator.c.id == ApiToken.created_by_id)
        .outerjoin(funder, funder.c.id == ApiToken.user_id)
        .where(ApiToken.organisation_id == actor.organisation_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()
    return [TokenInfo(id=row.id, name=row.name, role=row.role, scopes=tuple(row.scopes.split()), prefix=row.prefix,
                      funder_email=funder_email, created_at=row.created_at, created_by=created_by,
                      expires_at=row.expires_at, last_used_at=row.last_used_at, last_used_from=row.last_used_from,
                      revoked_at=row.revoked_at)
            for row, created_by, funder_email in rows]


def authenticate(session: Session, token: str, *, source: str | None = None) -> Actor | None:
    """The actor a presented token acts as, or None (unknown, revoked, expired, or its funder deactivated).

    Records the last use (at most once a minute per token).
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    email = None
    if row.role == "funder":
        funder = session.get(User, row.user_id) if row.user_id is not None else None
        if funder is None or not funder.active or funder.organisation_id != row.organisation_id:
            return None
        email = funder.email
    # Time alone decides (not a change of address: a script behind two addresses would write on every call).
    if row.last_used_at is None or now - row.last_used_at >= LAST_USE_EVERY:
        row.last_used_at, row.last_used_from = now, (source or "")[:64] or None
    return Actor(organisation_id=row.organisation_id, role=row.role, user_id=row.user_id, email=email,
                 source=f"api:{row.prefix}", scopes=frozenset(row.scopes.split()), token_id=row.id)


def token_id_of(actor: Actor) -> str | None:
    """The prefix of the token an actor acts through (for rate limits and logs), None for people."""
    return actor.source[4:] if actor.source and actor.source.startswith("api:") else None
