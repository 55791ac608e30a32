"""What a user signs in with: changing a password, one-time reset links, two-factor codes.

A reset link is made by an admin (web or ``surveyhub user reset-link``) and
handed over; only the SHA-256 of its 256-bit token is stored, it works once
and for 24 hours. Setting a password, either way, ends every session of the
user. Two-factor sign-in uses TOTP codes (RFC 6238, any authenticator app),
for admins and community workers.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta

import pyotp
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from surveyhub.models import PasswordReset, User
from surveyhub.models._types import utcnow
from surveyhub.services import accounts, audit, passwords
from surveyhub.services.access import ADMIN, WORKER, Actor, cli_actor
from surveyhub.services.errors import N_, Conflict, Invalid, NotFound

RESET_HOURS = 24
#: Roles that may switch two-factor sign-in on.
TOTP_ROLES = (ADMIN, WORKER)
ISSUER = "SurveyHub"


class WrongPassword(Invalid):
    def __init__(self):
        super().__init__(N_("the current password is not right"))


class WrongCode(Invalid):
    def __init__(self):
        super().__init__(N_("the code is not right (or has expired)"))


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound("no such user")
    return user


def _set_password(user: User, password: str) -> None:
    passwords.check(password, user.email)
    user.password_hash = accounts.hash_password(password)
    user.password_changed_at = utcnow()
    accounts.end_sessions(user)


# --- changing one's own password ----------------------------------------------------------------

def change_password(session: Session, user_id: int, current: str, new: str,
                    source: str | None = None) -> accounts.UserInfo:
    """Set a new password after checking the current one; every session of the user ends.

    :returns: the user with the new session version (log the current browser in again with it).
    """
    user = _user(session, user_id)
    if not accounts.verify_password(user, current):
        raise WrongPassword()
    _set_password(user, new)
    audit.record(session, "auth.password_change", organisation_id=user.organisation_id, user_id=user.id,
                 who=user.email, source=source, target=f"user:{user.email}")
    session.flush()
    return accounts.user_info(session, user.id)


# --- reset links --------------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_reset(session: Session, actor: Actor, user_id: int) -> str:
    """A new one-time reset token for a user of the admin's organisation (earlier ones stop working).

    :returns: the token, to be shown once; only its hash is stored.
    """
    user = accounts.managed_user(session, actor, user_id)
    if not user.active:
        raise Conflict(N_("activate this account before sending a reset link"))
    now = utcnow()
    session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
                    .values(used_at=now))
    token = secrets.token_urlsafe(32)
    session.add(PasswordReset(user_id=user.id, token_hash=_digest(token), created_by_id=actor.user_id,
                              created_at=now, expires_at=now + timedelta(hours=RESET_HOURS)))
    audit.record(session, "auth.password_reset_sent", actor=actor, target=f"user:{user.email}",
                 details={"expires_hours": RESET_HOURS})
    session.flush()
    return token


def create_reset_for_email(session: Session, email: str) -> tuple[str, accounts.UserInfo]:
    """The command line's reset link: acts as an admin of the user's organisation."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no user {email.strip()!r}")
    token = create_reset(session, cli_actor(session, org_id=user.organisation_id), user.id)
    return token, accounts.user_info(session, user.id)


def _open_reset(session: Session, token: str) -> PasswordReset | None:
    if not token or len(token) > 100:
        return None
    reset = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _digest(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        return None
    user = session.get(User, reset.user_id)
    return reset if user is not None and user.active else None


def reset_email(session: Session, token: str) -> str | None:
    """The e-mail address a working reset link is for, else None."""
    reset = _open_reset(session, token)
    return session.get_one(User, reset.user_id).email if reset else None


def use_reset(session: Session, token: str, new: str, source: str | None = None) -> accounts.UserInfo:
    """Set the password through a reset link; the link is used up, every session ends."""
    reset = _open_reset(session, token)
    if reset is None:
        raise NotFound("this reset link does not work (any more)")
    user = session.get_one(User, reset.user_id)
    passwords.check(new, user.email)  # before using the link up: a weak password may be retried
    claimed = session.execute(update(PasswordReset).where(PasswordReset.id == reset.id,
                                                          PasswordReset.used_at.is_(None))
                              .values(used_at=utcnow()))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult  # the same link, used at the same moment elsewhere
        raise NotFound("this reset link does not work (any more)")
    _set_password(user, new)
    audit.record(session, "auth.password_reset_used", organisation_id=user.organisation_id, user_id=user.id,
                 who=user.email, source=source, target=f"user:{user.email}")
    session.flush()
    return accounts.user_info(session, user.id)


# --- two-factor codes ---------------------------------------------------------------------------

def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def code_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step a code belongs to (now, or 30 s either side), else None."""
    code = "".join(code.split())
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int(time.time() if now is None else now) // totp.interval
    for step in (current, current - 1, current + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def totp_secret(session: Session, user_id: int) -> str | None:
    user = session.get(User, user_id)
    return user.totp_secret if user is not None else None


def enable_totp(session: Session, user_id: int, secret: str, code: str, source: str | None = None) -> None:
    """Switch two-factor sign-in on, once a code from the app proves it was set up."""
    user = _user(session, user_id)
    if user.role not in TOTP_ROLES:
        raise Invalid(N_("two-factor sign-in is for admins and community workers"))
    try:
        valid = code_step(secret, code) is not None
    except (ValueError, TypeError):  # a secret that is not base32
        valid = False
    if not valid:
        raise WrongCode()
    user.totp_secret = secret
    audit.record(session, "auth.totp_on", organisation_id=user.organisation_id, user_id=user.id,
                 who=user.email, source=source, target=f"user:{user.email}")


def disable_totp(session: Session, user_id: int, code: str, source: str | None = None) -> None:
    """Switch two-factor sign-in off; needs a current code."""
    user = _user(session, user_id)
    if user.totp_secret is None:
        return
    if code_step(user.totp_secret, code) is None:
        raise WrongCode()
    user.totp_secret = None
    audit.record(session, "auth.totp_off", organisation_id=user.organisation_id, user_id=user.id,
                 who=user.email, source=source, target=f"user:{user.email}")


def admin_disable_totp(session: Session, actor: Actor, user_id: int) -> None:
    """An admin switches a user's two-step login off (a lost phone); that user's sessions end."""
    user = accounts.managed_user(session, actor, user_id)
    if user.totp_secret is None:
        return
    user.totp_secret = None
    accounts.end_sessions(user)
    audit.record(session, "auth.totp_off", actor=actor, target=f"user:{user.email}", details={"by": "admin"})
