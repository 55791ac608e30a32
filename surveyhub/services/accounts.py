"""Organisations and user accounts: create, find, authenticate, deactivate."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from surveyhub.models import ROLES, Organisation, User
from surveyhub.models._types import utcnow
from surveyhub.services import audit
from surveyhub.services.access import Actor, require
from surveyhub.services.errors import Conflict, NotFound, ServiceError
from surveyhub.services.slugs import unique_slug

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this keeps unknown e-mails as slow as wrong passwords."""
    return _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class UserInfo:
    id: int
    email: str
    name: str | None
    role: str
    active: bool
    organisation_id: int
    organisation: str


def _info(user: User) -> UserInfo:
    return UserInfo(user.id, user.email, user.name, user.role, user.active,
                    user.organisation_id, user.organisation.name)


def create_organisation(session: Session, name: str) -> Organisation:
    name = " ".join(name.split())
    if not name:
        raise ServiceError("an organisation needs a name")
    if session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower())):
        raise Conflict(f"an organisation called {name!r} already exists")
    slug = unique_slug(name, lambda s: session.scalar(select(Organisation.id).where(Organisation.slug == s)))
    org = Organisation(name=name, slug=slug)
    session.add(org)
    session.flush()
    audit.record(session, "organisation.create", organisation_id=org.id, target=f"organisation:{slug}")
    return org


def find_organisation(session: Session, name_or_slug: str) -> Organisation:
    key = name_or_slug.strip()
    org = session.scalar(select(Organisation).where(
        or_(Organisation.slug == key.lower(), func.lower(Organisation.name) == key.lower())))
    if org is None:
        raise NotFound(f"no organisation {name_or_slug!r}")
    return org


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ServiceError(f"not a valid e-mail address: {email!r}") from exc


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def create_user(session: Session, organisation_id: int, email: str, role: str, password: str,
                name: str | None = None, actor: Actor | None = None) -> UserInfo:
    """Create a user; ``actor`` (when given) must be an admin of that organisation."""
    if actor is not None:
        require(actor, "org.manage")
        if actor.organisation_id != organisation_id:
            raise NotFound("organisation not found")
    if role not in ROLES:
        raise ServiceError(f"unknown role {role!r} (choose admin, worker or funder)")
    email = normalise_email(email)
    check_password(password)
    if session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(f"a user with e-mail {email} already exists")
    user = User(organisation_id=organisation_id, email=email, role=role, name=(name or None),
                password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    audit.record(session, "user.create", organisation_id=organisation_id,
                 user_id=actor.user_id if actor else None, target=f"user:{email}", details={"role": role})
    return _info(user)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def authenticate(session: Session, email: str, password: str) -> UserInfo | None:
    """The active user with this e-mail and password, else None (same time either way)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return _info(user)


def get_user(session: Session, user_id: int) -> UserInfo | None:
    user = session.get(User, user_id)
    return _info(user) if user is not None and user.active else None


def list_users(session: Session, actor: Actor) -> list[UserInfo]:
    require(actor, "org.manage")
    users = session.scalars(select(User).where(User.organisation_id == actor.organisation_id)
                            .order_by(User.email))
    return [_info(u) for u in users]


def set_active(session: Session, actor: Actor, user_id: int, active: bool) -> UserInfo:
    require(actor, "org.manage")
    user = session.get(User, user_id)
    if user is None or user.organisation_id != actor.organisation_id:
        raise NotFound("no such user")
    if user.id == actor.user_id and not active:
        raise ServiceError("you cannot deactivate your own account")
    user.active = active
    audit.record(session, "user.activate" if active else "user.deactivate",
                 organisation_id=actor.organisation_id, user_id=actor.user_id, target=f"user:{user.email}")
    return _info(user)
