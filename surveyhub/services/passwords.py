"""Password rules: long enough, not a common or breached password, not the e-mail address.

``problems`` returns stable codes (``too_short``, ``common``, ``email``,
``one_character``) so each face words them itself: the web pages in Dutch
beside the field, the command line in English. The list of common passwords
ships with the package (``common-passwords.txt``, its origin in its header);
nothing is fetched at run time.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from surveyhub.services.errors import Invalid

MIN_LENGTH = 10
MAX_LENGTH = 200
LIST_FILE = Path(__file__).with_name("common-passwords.txt")

#: What each problem means, in English (the CLI's words; the web translates the codes).
MESSAGES = {
    "too_short": f"a password needs at least {MIN_LENGTH} characters",
    "too_long": f"a password may have at most {MAX_LENGTH} characters",
    "common": "this password is too common: it is on a list of passwords that are often guessed",
    "email": "a password may not contain the e-mail address or its name part",
    "one_character": "a password may not be one character repeated",
}

#: Digits and punctuation around a common word ("Welkom2026!") do not make it strong.
_DECORATION = re.compile(r"^[\W\d_]*(?P<core>.*?)[\W\d_]*$", re.UNICODE)
#: Only a short decoration counts as decoration: "welkom" plus twelve random digits is fine.
_MAX_DECORATION = 6


class WeakPassword(Invalid):
    """The password breaks one or more rules; ``codes`` says which (the web words each code itself)."""

    def __init__(self, codes: list[str]):
        self.codes = codes
        super().__init__("; ".join(MESSAGES[code] for code in codes))


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list, lower-cased (comment lines skipped)."""
    with LIST_FILE.open(encoding="utf-8") as fh:
        return frozenset(line.rstrip("\n") for line in fh if line.strip() and not line.startswith("#"))


def _is_common(lowered: str) -> bool:
    common = common_passwords()
    if lowered in common:
        return True
    match = _DECORATION.match(lowered)
    core = match.group("core") if match else lowered
    return len(core) >= 4 and len(lowered) - len(core) <= _MAX_DECORATION and core in common


def _contains_email(lowered: str, email: str | None) -> bool:
    if not email:
        return False
    local = email.split("@", 1)[0].lower()
    if len(local) >= 3 and local in lowered:
        return True
    # "fatima.yilmaz@…": the parts of the name count on their own as well.
    return any(len(part) >= 4 and part in lowered for part in re.split(r"[._+\-]+", local))


def problems(password: str, email: str | None = None) -> list[str]:
    """What is wrong with ``password`` for the account ``email`` (empty: nothing)."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append("too_short")
    if len(password) > MAX_LENGTH:
        found.append("too_long")
    lowered = password.lower()
    if password and len(set(password)) == 1:
        found.append("one_character")
    elif _is_common(lowered) or _is_common(lowered.replace(" ", "")):
        found.append("common")
    if _contains_email(lowered, email):
        found.append("email")
    return found


def check(password: str, email: str | None = None) -> None:
    """Raise ``WeakPassword`` unless ``password`` keeps every rule."""
    found = problems(password, email)
    if found:
        raise WeakPassword(found)
