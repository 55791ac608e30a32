"""Short codes: a personal link a resident can type over from paper (``/k/K7P2-9XMC``).

A personal link's token (192 random bits, ``/q/<token>``) is safe but cannot be
typed: 32 characters mixing ``l I 1 O 0 - _``. Every token therefore also gets a
short code of eight characters, printed as two groups (``K7P2-9XMC``).

The alphabet keeps one character of every group a reader confuses in print and
drops the others: no 0/O/Q, no 1/I/L, and of 2/Z, 5/S, 6/G, 8/B and U/V only the
first. What a resident types is read forgivingly (``normalise``): any case,
spaces, dashes and dots are ignored, and a dropped look-alike is read as the one
kept (S as 5, Z as 2, G as 6, B as 8, U as V), so every mistake a reader can
make in print still lands on the right code. 25 characters, 8 places: about
1.5 × 10¹¹ codes (37 bits). Guessing is held off by the same miss counter as
tokens (``web.limits.count_misses``, ``TOKEN_RATE_LIMIT``).

Codes are unique (a unique column, and checked before use). New tokens get one
when they are made (``services.participants``); older tokens get one the first
time they are listed for printing or shown to a worker (``ensure``), so no
migration is needed. A revoked token's code no longer opens anything.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.models import Token

ALPHABET = "23456789ACDEFHJKMNPRTVWXY"
LENGTH = 8
#: Characters that are not in the alphabet but that a reader may type for one that is.
LOOK_ALIKES = str.maketrans({"S": "5", "Z": "2", "G": "6", "B": "8", "U": "V"})
#: What a person may type between the characters: spaces, dashes (also typographic ones), dots, underscores.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212_.]+")
#: A typed code longer than this is not looked at (a pasted text, an attack).
MAX_TYPED = 40


def new() -> str:
    """Eight random characters of ``ALPHABET`` (stored without the dash)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def display(code: str) -> str:
    """``K7P29XMC`` as printed and typed: ``K7P2-9XMC``."""
    return f"{code[:4]}-{code[4:]}"


def normalise(typed: str | None) -> str | None:
    """What a resident typed, as a stored code (``K7P29XMC``); None when it cannot be one."""
    if not typed or len(typed) > MAX_TYPED:
        return None
    raw = _SEPARATORS.sub("", typed).upper().translate(LOOK_ALIKES)
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return raw


def link(base_url: str, code: str) -> str:
    """The short link printed for typing: ``https://…/k/K7P2-9XMC``."""
    return f"{base_url}/k/{display(code)}"


def ensure(session: Session, tokens: Iterable[Token]) -> list[str]:
    """Give every token in ``tokens`` that has no short code a fresh, unique one (flushed); their codes, in order.

    One query checks a whole batch against the codes in use; a clash (about one
    in 10⁶ at a hundred thousand links) is simply drawn again.
    """
    tokens = list(tokens)
    missing = [token for token in tokens if token.short_code is None]
    while missing:
        drawn: dict[str, Token] = {}
        for token in missing:
            code = new()
            while code in drawn:
                code = new()
            drawn[code] = token
        with session.no_autoflush:  # a new token is written once, with its code (every earlier call flushed)
            taken = set(session.scalars(select(Token.short_code).where(Token.short_code.in_(list(drawn)))))
        for code, token in drawn.items():
            if code not in taken:
                token.short_code = code
        missing = [token for token in missing if token.short_code is None]
    session.flush()
    return [str(token.short_code) for token in tokens]


def token_for(session: Session, typed: str | None) -> str | None:
    """The token of the active personal link whose short code ``typed`` is; None otherwise."""
    code = normalise(typed)
    if code is None:
        return None
    return session.scalar(select(Token.token).where(Token.short_code == code, Token.revoked_at.is_(None)))
