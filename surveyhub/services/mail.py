"""E-mail to residents: the outbox, and sending one queued message once.

A message is an ``OutboxMessage`` row, composed when it is queued
(``services.invitations``) and sent by the queue's ``send_mail`` task through
:func:`send_one`. Its status goes queued → sending → sent, or → failed with a
reason in words. :func:`send_one` claims the row with a conditional UPDATE
(queued → sending) and commits that before it talks to the mail server, so a
duplicated or retried task sends nothing twice.

The one place a duplicate can happen: a worker killed after the server took
the message but before "sent" was stored. :func:`tick` puts a message that has
been "sending" for longer than ``JOB_STALE_SECONDS`` back in the queue, and it
is sent again. It goes out with the same Message-ID, fixed when it was queued,
so mail servers and mail programs that drop duplicates drop it.

Sending respects ``MAIL_RATE_LIMIT`` for all workers together (the shared
store of ``services.throttle``): over the limit, :func:`send_one` returns the
seconds to wait and the queue tries again then. The SMTP password is never
logged.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from surveyhub.models import OutboxMessage, Participant, Token
from surveyhub.models._types import utcnow
from surveyhub.services import mail_compose, throttle
from surveyhub.services.errors import N_
from surveyhub.services.mail_compose import (  # noqa: F401 (part of this module's interface)
    FAILED_NOT_SET_UP, FAILED_OPTED_OUT, configured, opt_out_link,
)
from surveyhub.services.job_kinds import Kind

log = logging.getLogger(__name__)

KINDS: list[Kind] = []

SECURITIES = ("none", "starttls", "ssl")
#: Tries before a message fails for good when the server keeps answering "try later".
MAX_ATTEMPTS = 5
#: Seconds to wait after the first temporary failure; doubled after each next one.
RETRY_SECONDS = 60
#: A queued message whose task got lost (a queue restarted) is handed to the queue again after this.
LOST_AFTER = timedelta(minutes=5)
#: Seconds to wait for the mail server.
SMTP_TIMEOUT = 30

FAILED_REFUSED = N_("The mail server refused this e-mail address.")
FAILED_TRIES = N_("The mail server could not be reached after several tries.")
FAILED_ADDRESS = N_("This is not a valid e-mail address.")
FAILED_NO_LINK = N_("The resident has no working personal link any more.")


def check_settings(settings: Mapping) -> None:
    """Refuse SMTP settings that cannot work, at start (one line, ``ValueError``)."""
    security = str(settings.get("SMTP_SECURITY") or "none").strip().lower()
    if security not in SECURITIES:
        raise ValueError(f"SURVEYHUB_SMTP_SECURITY must be none, starttls or ssl, not {security[:20]!r}")
    mail_from = str(settings.get("MAIL_FROM") or "").strip()
    if mail_from and mail_compose.plain_address(mail_from) is None:
        raise ValueError(f"SURVEYHUB_MAIL_FROM is not an e-mail address: {mail_from[:60]!r}")
    if str(settings.get("SMTP_HOST") or "").strip() and not mail_from:
        raise ValueError("SURVEYHUB_MAIL_FROM is empty: set the From address of invitations (e.g. "
                         "buurtwerk@example.org)")
    throttle.parse(str(settings.get("MAIL_RATE_LIMIT") or "300 per minute"))


# --- sending -----------------------------------------------------------------------------------------

_STORES: dict[tuple[str, int], throttle.Store] = {}


def _throttle(session: Session, settings: Mapping) -> throttle.Throttle:
    engine = session.get_bind()
    uri = str(settings.get("RATELIMIT_STORAGE_URI") or "")
    key = (uri, id(engine))
    store = _STORES.get(key)
    if store is None:
        store = _STORES[key] = throttle.make_store(uri, engine)  # type: ignore[arg-type]
    return throttle.Throttle(store, str(settings.get("SECRET_KEY") or ""))


def _over_limit(session: Session, settings: Mapping) -> float | None:
    """Count this message under MAIL_RATE_LIMIT; the seconds until the window ends when over it."""
    rates = throttle.parse(str(settings.get("MAIL_RATE_LIMIT") or "300 per minute"))
    if _throttle(session, settings).hit("mail", rates, "all"):
        return None
    now = time.time()
    return max(rate.seconds - int(now) % rate.seconds for rate in rates) + 1.0


def _claim(session: Session, message_id: int) -> bool:
    """queued → sending, for exactly one caller; committed before anything is sent."""
    taken = session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == "queued")
        .values(status="sending", claimed_at=utcnow(), attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False))
    session.commit()
    return bool(getattr(taken, "rowcount", 0) == 1)


def _finish(session: Session, message_id: int, **values) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == "sending")
                    .values(**values).execution_options(synchronize_session=False))
    session.commit()


def send_one(session: Session, message_id: int, *, settings: Mapping) -> float | None:
    """Send one queued message once; seconds to wait before trying again, or None when finished.

    None also when the message is not (or no longer) queued: a duplicated task does nothing.
    """
    status = session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message_id))
    session.rollback()
    if status != "queued":
        return None
    if not configured(settings):
        return None  # stays queued: sent once an admin sets up e-mail
    wait = _over_limit(session, settings)
    if wait is not None:
        return wait
    if not _claim(session, message_id):
        return None
    row = session.get_one(OutboxMessage, message_id, populate_existing=True)
    try:
        message = _wire(session, row, settings)
    except _Refused as refused:
        _finish(session, message_id, status="failed", error=refused.reason)
        return None
    try:
        _deliver(message, row.to_address, settings)
    except smtplib.SMTPResponseException as exc:
        return _failed(session, row, permanent=500 <= exc.smtp_code < 600, code=exc.smtp_code)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        return _failed(session, row, permanent=all(500 <= code < 600 for code in codes), code=max(codes))
    except (smtplib.SMTPException, OSError) as exc:
        return _failed(session, row, permanent=False, code=type(exc).__name__)
    _finish(session, message_id, status="sent", sent_at=utcnow(), error=None)
    return None


class _Refused(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _failed(session: Session, row: OutboxMessage, *, permanent: bool, code) -> float | None:
    """A refusal fails the message now; a temporary error queues it again, until it has been tried 5 times."""
    log.warning("outbox %s: the mail server answered %s (attempt %s)", row.id, code, row.attempts)
    if permanent:
        _finish(session, row.id, status="failed", error=FAILED_REFUSED)
        return None
    if row.attempts >= MAX_ATTEMPTS:
        _finish(session, row.id, status="failed", error=FAILED_TRIES)
        return None
    _finish(session, row.id, status="queued")
    return float(RETRY_SECONDS * 2 ** (row.attempts - 1))


def _wire(session: Session, row: OutboxMessage, settings: Mapping):
    from surveyhub.models import Organisation

    participant = session.get(Participant, row.participant_id)
    if participant is None:
        raise _Refused(FAILED_ADDRESS)
    opt_out_url = None
    if row.kind == "reminder":
        if participant.reminders_opt_out_at is not None:
            raise _Refused(FAILED_OPTED_OUT)
        token = active_token(session, participant.id)
        if token is None:
            raise _Refused(FAILED_NO_LINK)
        opt_out_url = opt_out_link(str(settings.get("BASE_URL") or ""), token)
    org = session.get_one(Organisation, row.organisation_id)
    try:
        return mail_compose.mime(subject=row.subject, text=row.body_text, html_body=row.body_html,
                                 to_name=participant.display_name, to_address=row.to_address,
                                 organisation=org.name, mail_from=str(settings.get("MAIL_FROM") or ""),
                                 reply_to=org.contact, message_id=row.message_id, opt_out_url=opt_out_url,
                                 lang=row.language)
    except ValueError as exc:
        log.warning("outbox %s: cannot be written as an e-mail (%s)", row.id, exc)
        raise _Refused(FAILED_ADDRESS) from exc


def active_token(session: Session, participant_id: int) -> str | None:
    """The resident's working personal link token (the newest)."""
    return session.scalar(select(Token.token).where(Token.participant_id == participant_id,
                                                    Token.revoked_at.is_(None)).order_by(Token.id.desc()).limit(1))


def _deliver(message, to_address: str, settings: Mapping) -> None:
    """Hand one message to the SMTP server (a new connection each time; the password is never logged)."""
    host = str(settings.get("SMTP_HOST") or "").strip()
    port = int(settings.get("SMTP_PORT") or 25)
    security = str(settings.get("SMTP_SECURITY") or "none").strip().lower()
    # Only for TLS: loading the system's certificates takes longer than sending a message.
    context = ssl.create_default_context() if security in ("ssl", "starttls") else None
    smtp: smtplib.SMTP
    if security == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
    try:
        if security == "starttls":
            smtp.starttls(context=context)
        user = str(settings.get("SMTP_USER") or "")
        if user:
            smtp.login(user, str(settings.get("SMTP_PASSWORD") or ""))
        smtp.send_message(message, to_addrs=[to_address])
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError, socket.timeout):
            smtp.close()


# --- every minute ------------------------------------------------------------------------------------

def tick(session: Session, *, settings: Mapping) -> list[int]:
    """Every minute: open and close dated waves, queue due reminders, and the ids of outbox messages to
    hand to the queue now (new reminders, and queued messages whose send task was lost). Commits."""
    from surveyhub.services import invitations

    now = utcnow()
    zone = ZoneInfo(str(settings.get("TIMEZONE") or "Europe/Amsterdam"))
    release_stuck(session, now=now, stale_seconds=float(settings.get("JOB_STALE_SECONDS") or 120))
    invitations.apply_wave_dates(session, now.astimezone(zone).date(), settings=settings)
    session.commit()
    invitations.due_reminders(session, now, str(settings.get("BASE_URL") or ""), settings)
    session.commit()
    if not configured(settings):
        return []
    # New this tick (invitations of waves that opened on their date, reminders), then lost ones.
    new = list(session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.status == "queued", OutboxMessage.claimed_at.is_(None), OutboxMessage.created_at >= now)
        .order_by(OutboxMessage.id)))
    session.rollback()
    return list(dict.fromkeys(new + lost_messages(session, now=now)))


def release_stuck(session: Session, *, now: datetime, stale_seconds: float) -> int:
    """Messages "sending" for longer than the stale age (their worker was killed) go back to the queue.

    This is where a message may go out twice (sent, but "sent" never stored); its fixed Message-ID lets
    mail servers drop the copy. Commits.
    """
    released = session.execute(
        update(OutboxMessage).where(OutboxMessage.status == "sending",
                                    OutboxMessage.claimed_at < now - timedelta(seconds=stale_seconds))
        .values(status="queued").execution_options(synchronize_session=False))
    session.commit()
    count = int(getattr(released, "rowcount", 0) or 0)
    if count:
        log.warning("%d e-mail(s) were being sent by a worker that stopped; queued again", count)
    return count


def lost_messages(session: Session, *, now: datetime, limit: int = 1000) -> list[int]:
    """Queued messages untouched for a while: their task was lost (or is waiting out the rate limit)."""
    touched = func.coalesce(OutboxMessage.claimed_at, OutboxMessage.created_at)
    return list(session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.status == "queued", touched < now - LOST_AFTER).order_by(OutboxMessage.id).limit(limit)))


@dataclass(frozen=True)
class Counts:
    queued: int
    sending: int
    sent: int
    failed: int


def counts(session: Session, ids: list[int]) -> Counts:
    """How many of ``ids`` are in each status (for ``surveyhub invite --wait``)."""
    found = {status: 0 for status in ("queued", "sending", "sent", "failed")}
    for start in range(0, len(ids), 500):
        rows = session.execute(select(OutboxMessage.status, func.count()).where(
            OutboxMessage.id.in_(ids[start:start + 500])).group_by(OutboxMessage.status))
        for status, number in rows:
            found[status] += number
    return Counts(**found)

