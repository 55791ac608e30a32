"""Organisations and user accounts: create, find, sign in and out, roles, deactivation.

Every change that should end a user's sessions (logout, password change,
deactivation, role change) raises ``User.session_version``; the web's user
loader refuses a session cookie made with an older version. Password rules
live in ``passwords``; password changes, reset links and two-factor codes in
``credentials``.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from typing import TypeGuard

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from surveyhub.models import ROLES, Organisation, User
from surveyhub.models._types import utcnow
from surveyhub.services import audit, passwords
from surveyhub.services.access import ADMIN, Actor, require
from surveyhub.services.errors import N_, Conflict, Invalid, NotFound, UserError
from surveyhub.services.slugs import unique_slug
from surveyhub.text import clean

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
#: Production strength: argon2-cffi's defaults (argon2id, RFC 9106's low-memory profile: 3 passes over 64 MiB).
STRONG_HASHER = PasswordHasher()
#: Only for an app built with TESTING on: one pass over 1 MiB, about 500 times cheaper, so a test run
#: is not spent hashing. Every argon2 hash carries its own parameters, so either hasher verifies the
#: other's hashes, and a strong hasher upgrades a cheap hash at the next sign-in (``authenticate``).
TESTING_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_hasher = STRONG_HASHER


def configure_hashing(testing: bool) -> None:
    """Called by ``create_app``: cheap hashing only when the app runs with TESTING on."""
    global _hasher
    _hasher = TESTING_HASHER if testing else STRONG_HASHER


class AddressUnavailable(Conflict):
    """The e-mail address cannot be used for a new account here.

    Said the same way whether the address belongs to another organisation or is
    unusable otherwise, so an admin cannot learn who has an account elsewhere.
    """

    def __init__(self):
        super().__init__(N_("this e-mail address cannot be used for a new account"))


class OwnAccount(UserError):
    """An admin may not deactivate themselves or change their own role."""


class LastAdmin(Conflict):
    """The change would leave the organisation without an active admin."""

    def __init__(self):
        super().__init__(N_("an organisation needs at least one active admin"))


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verifying against this keeps unknown e-mails as slow as wrong passwords (made by the hasher in use)."""
    return hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class UserInfo:
    id: int
    email: str
    name: str | None
    role: str
    active: bool
    organisation_id: int
    organisation: str
    #: The session version a login made now carries (see the module docstring).
    session_version: int = 0
    #: Two-factor sign-in is on.
    totp: bool = False


def _info(user: User) -> UserInfo:
    return UserInfo(user.id, user.email, user.name, user.role, user.active,
                    user.organisation_id, user.organisation.name, user.session_version or 0,
                    user.totp_secret is not None)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> TypeGuard[User]:
    """Does ``password`` match? As slow for an unknown user as for a known one."""
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(_hasher), password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None


def end_sessions(user: User) -> None:
    """Every session cookie of ``user`` stops working."""
    user.session_version = (user.session_version or 0) + 1


def create_organisation(session: Session, name: str) -> Organisation:
    name = " ".join(clean(name).split())
    if not name:
        raise Invalid(N_("an organisation needs a name"))
    if session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower())):
        raise Conflict(N_("an organisation called %(name)r already exists"), name=name)
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
        raise Invalid(N_("not a valid e-mail address: %(email)r"), email=email) from exc


def check_password(password: str, email: str | None = None) -> None:
    """Raise ``passwords.WeakPassword`` unless the password keeps the rules."""
    passwords.check(password, email)


def create_user(session: Session, organisation_id: int, email: str, role: str, password: str,
                name: str | None = None, actor: Actor | None = None) -> UserInfo:
    """Create a user; ``actor`` (when given) must be an admin of that organisation.

    An address already used in another organisation gives ``AddressUnavailable``, which
    does not say that, or where, an account exists; the command line (no actor) is told.
    """
    if actor is not None:
        require(actor, "org.manage")
        if actor.organisation_id != organisation_id:
            raise NotFound("organisation not found")
    if role not in ROLES:
        raise Invalid(N_("unknown role %(role)r (choose admin, worker or funder)"), role=role)
    email = normalise_email(email)
    check_password(password, email)  # first, so a weak password says nothing about the address
    taken = session.scalar(select(User.organisation_id).where(User.email == email))
    if taken is not None:
        if actor is not None and taken != actor.organisation_id:
            raise AddressUnavailable()
        raise Conflict(N_("a user with e-mail %(email)s already exists"), email=email)
    user = User(organisation_id=organisation_id, email=email, role=role, name=(clean(name or "").strip() or None),
                password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    audit.record(session, "user.create", actor=actor, organisation_id=organisation_id,
                 target=f"user:{email}", details={"role": role})
    return _info(user)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def authenticate(session: Session, email: str, password: str) -> UserInfo | None:
    """The active user with this e-mail and password, else None (same time either way)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if not verify_password(user, password) or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return _info(user)


def record_login(session: Session, user_id: int, source: str | None) -> UserInfo:
    """The user is in (after the second step, when two-factor sign-in is on)."""
    user = session.get_one(User, user_id)
    user.last_login_at = utcnow()
    audit.record(session, "auth.login", organisation_id=user.organisation_id, user_id=user.id,
                 who=user.email, source=source, target=f"user:{user.email}")
    return _info(user)


def record_failed_login(session: Session, email: str, source: str | None, step: str = "password") -> None:
    """A failed attempt, in the trail of the account it was aimed at.

    An address without an account is not stored: people type their password into
    the e-mail field more often than one would think.
    """
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        audit.record(session, "auth.login_failed", who="unknown", source=source, details={"step": step})
        return
    audit.record(session, "auth.login_failed", organisation_id=user.organisation_id, user_id=user.id,
                 who=user.email, source=source, target=f"user:{user.email}", details={"step": step})


def logout(session: Session, user_id: int, source: str | None) -> None:
    """End every session of the user (a copied cookie stops working too)."""
    user = session.get(User, user_id)
    if user is None:
        return
    end_sessions(user)
    audit.record(session, "auth.logout", organisation_id=user.organisation_id, user_id=user.id,
                 who=user.email, source=source, target=f"user:{user.email}")


def get_user(session: Session, user_id: int) -> UserInfo | None:
    user = session.get(User, user_id)
    return _info(user) if user is not None and user.active else None


def user_info(session: Session, user_id: int) -> UserInfo:
    """A user this transaction just changed (and so knows exists), active or not."""
    return _info(session.get_one(User, user_id))


def list_users(session: Session, actor: Actor) -> list[UserInfo]:
    require(actor, "org.manage")
    users = session.scalars(select(User).where(User.organisation_id == actor.organisation_id)
                            .order_by(User.email))
    return [_info(u) for u in users]


def managed_user(session: Session, actor: Actor, user_id: int) -> User:
    """A user of the admin's own organisation, not the admin themselves."""
    require(actor, "org.manage")
    user = session.get(User, user_id)
    if user is None or user.organisation_id != actor.organisation_id:
        raise NotFound("no such user")
    return user


def _keep_an_admin(session: Session, organisation_id: int) -> None:
    admins = session.scalar(select(func.count()).select_from(User).where(
        User.organisation_id == organisation_id, User.role == ADMIN, User.active.is_(True)))
    if not admins:
        raise LastAdmin()


def set_active(session: Session, actor: Actor, user_id: int, active: bool) -> UserInfo:
    user = managed_user(session, actor, user_id)
    if user.id == actor.user_id and not active:
        raise OwnAccount(N_("you cannot deactivate your own account"))
    if user.active == active:
        return _info(user)
    user.active = active
    end_sessions(user)
    session.flush()
    _keep_an_admin(session, actor.organisation_id)
    audit.record(session, "user.activate" if active else "user.deactivate", actor=actor,
                 target=f"user:{user.email}")
    return _info(user)


def set_role(session: Session, actor: Actor, user_id: int, role: str) -> UserInfo:
    """Give a user another role; their sessions end, so the new role holds at once."""
    user = managed_user(session, actor, user_id)
    if role not in ROLES:
        raise Invalid(N_("unknown role %(role)r (choose admin, worker or funder)"), role=role)
    if user.id == actor.user_id:
        raise OwnAccount(N_("you cannot change your own role"))
    if user.role == role:
        return _info(user)
    before, user.role = user.role, role
    end_sessions(user)
    session.flush()
    _keep_an_admin(session, actor.organisation_id)
    audit.record(session, "user.role_change", actor=actor, target=f"user:{user.email}",
                 details={"from": before, "to": role})
    return _info(user)
