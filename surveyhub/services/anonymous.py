"""The anonymous project link: residents make their own code so pre and post match without names.

A self-made code pairs a resident's waves, but it is no key to saved answers:
anyone may know someone's six code facts. Going on with saved answers needs
something only the resident has — this device's cookie (set by the anonymous
start, naming the participant's personal link) or the personal link itself,
which the resident is shown. Without either, the same code makes a new
participant; the report pairs participants by code across waves, so a resident
who lost both still finishes and still counts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveyhub.models import Organisation, Participant, Project, Token
from surveyhub.services import retention, short_codes
from surveyhub.services.participants import new_code, new_token

#: A letter, or "?" for "don't know"; numbers as chosen.
MAX_PART_LENGTH = 2

#: The device cookie: one per project (its path is the project's anonymous link).
DEVICE_COOKIE = "surveyhub_device"
_DEVICE_SALT = "surveyhub.anonymous-device"
_FORM_KEY_SALT = b"surveyhub.anonymous-form"
#: Characters of a personal token made from a form key: 192 bits, as ``new_token``.
_TOKEN_CHARS = 32


def normalise_parts(parts: list[str]) -> list[str]:
    """Trim, case-fold and collapse whitespace, so 'a ' and 'A' are the same answer."""
    return [" ".join(p.split()).casefold() for p in parts]


def self_code(parts: list[str]) -> str:
    normalised = normalise_parts(parts)
    if len(normalised) != 6 or any(not p for p in normalised):
        raise ValueError(_l("Answer all six questions. Don't know? Type a question mark."))
    if any(len(p) > MAX_PART_LENGTH for p in normalised):
        raise ValueError(_l("Use only the first letter."))
    return "|".join(normalised)


def project_by_token(session: Session, token: str) -> Project | None:
    if not token or len(token) > 64:
        return None
    return session.scalar(select(Project).where(Project.anonymous_token == token))


def device_cookie_value(secret_key: str, project: Project, token: str) -> str:
    """The signed device cookie: this device started as the participant with this personal link."""
    return URLSafeSerializer(secret_key, salt=_DEVICE_SALT).dumps({"p": project.id, "t": token})


def device_lifetime(session: Session, project: Project, default_months: int) -> int:
    """Seconds the device cookie lives: the project's retention period, as long as the answers are kept."""
    org = session.get(Organisation, project.organisation_id)
    return retention.months_for(project, org, default_months) * 31 * 24 * 3600


def device_token(secret_key: str, project: Project, value: str | None) -> str | None:
    """The personal link a device cookie names, if it is genuine and for this project."""
    if not value or len(value) > 512:
        return None
    try:
        data = URLSafeSerializer(secret_key, salt=_DEVICE_SALT).loads(value)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("p") != project.id or not isinstance(data.get("t"), str):
        return None
    return data["t"]


def start_by_code(session: Session, project: Project, parts: list[str], *, device: str | None,
                  form_key: str, secret_key: str) -> str:
    """The personal token to go on with, for a resident who made their own code.

    :param device: the personal token this device's cookie names (``device_token``), if any.
        Its participant is resumed only when their code is this code.
    :param form_key: the submitted form's CSRF token: the same form sent twice (a double
        click) gives the same new participant, never two.
    :raises ValueError: the code is incomplete (a message fit for the resident).
    """
    code = self_code(parts)
    resumed = _device_participant(session, project, device, code)
    if resumed is not None:
        return _active_token(session, resumed)
    key = _form_token(secret_key, project, form_key, code) if form_key else new_token()
    return _new_participant(session, project, code, key)


def _device_participant(session: Session, project: Project, token: str | None, code: str) -> Participant | None:
    if not token or len(token) > 64:
        return None
    participant = session.scalar(select(Participant).join(Token).where(
        Token.token == token, Token.revoked_at.is_(None), Participant.project_id == project.id))
    if participant is None or participant.self_code != code:
        return None
    return participant


def _form_token(secret_key: str, project: Project, form_key: str, code: str) -> str:
    """A personal token that only this form, sent with this code, leads to (unguessable without the key)."""
    message = f"{project.id}\x1f{form_key}\x1f{code}".encode()
    digest = hmac.new(_FORM_KEY_SALT + secret_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:_TOKEN_CHARS]


def _new_participant(session: Session, project: Project, code: str, token: str) -> str:
    """A new participant with this code, or the one this very form already made."""
    made = _made_by_form(session, project, code, token)
    if made is not None:
        return made
    participant = Participant(project_id=project.id, code=new_code(session, project.id, prefix="A"),
                              self_code=code, source="anonymous")
    participant.tokens.append(Token(token=token))
    try:
        with session.begin_nested():
            session.add(participant)
            short_codes.ensure(session, participant.tokens)  # flushes: a raced form fails here, as before
    except IntegrityError:  # the same form sent twice at once: the other request made it
        made = _made_by_form(session, project, code, token)
        if made is None:
            raise
        return made
    return token


def _made_by_form(session: Session, project: Project, code: str, token: str) -> str | None:
    found = session.scalar(select(Token).where(Token.token == token))
    if found is None:
        return None
    participant = found.participant
    if participant.project_id != project.id or participant.self_code != code:
        return None  # cannot happen short of a hash collision; never hand over someone else's link
    return _active_token(session, participant)


def _active_token(session: Session, participant: Participant) -> str:
    active = [t for t in participant.tokens if t.revoked_at is None]
    if not active:
        token = Token(token=new_token())
        participant.tokens.append(token)
        short_codes.ensure(session, [token])  # flushes
        active = [token]
    return active[0].token
