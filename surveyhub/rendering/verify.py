"""Verification codes and fingerprints of issued documents.

A code is 12 characters from an alphabet without look-alikes (no 0/O, 1/I),
shown as ``K7P2-4QX9-MT3R``: 60 random bits, so codes cannot be guessed. The
code is printed on the document, in its QR code, and written into the PDF's
file identifier (``/ID``), where it can be read back even from an altered
copy: that is how a changed file is told apart from an unknown one.

A stranger's upload is never trusted to be cheap: the register is asked for
its SHA-256 first (a genuine file is never parsed), the file identifier is
found with a plain byte search, and only then is the text of its first pages
read, in a child process with a small time and memory budget
(``TEXT_BUDGET``); a file that needs more is simply "unknown".
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import secrets
import warnings

from surveyhub.rendering.budget import Budget, OverBudget, RenderFailed, run

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 12
ID_PREFIX = "SurveyHub "
_GROUP = f"[{CODE_ALPHABET}]{{4}}"
_CODE = f"{_GROUP}-{_GROUP}-{_GROUP}"
_CODE_RE = re.compile(_CODE)
_ID_LITERAL = re.compile(rf"\({re.escape(ID_PREFIX)}({_CODE})\)".encode("ascii"))
_ID_HEX = re.compile(rb"<(" + (ID_PREFIX.encode("ascii").hex()).encode("ascii") + rb"[0-9a-fA-F]{28})>")
_TEXT_CODE = re.compile(rf"/verify/({_CODE})")
MAX_TEXT_PAGES = 3
#: Reading an unregistered upload's text to find its code: at most this much time and memory.
TEXT_BUDGET = Budget(seconds=1.0, memory_mb=256)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_code(text: str | None) -> str | None:
    """What a person typed (any case, spaces, dashes) as a code, or None if it cannot be one."""
    raw = re.sub(r"[\s\-_.]", "", (text or "")[:64]).upper()
    if len(raw) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def identifier(code: str) -> str:
    """The PDF file identifier that carries the code."""
    return ID_PREFIX + code


def find_code(data: bytes) -> str | None:
    """The verification code a (possibly altered) SurveyHub PDF carries, or None.

    Looks in the file identifier first (literal, or hex after an incremental
    update such as a signature), then in the text of the first pages.
    """
    for match in _ID_LITERAL.finditer(data):
        return match.group(1).decode("ascii")
    for match in _ID_HEX.finditer(data):
        try:
            text = bytes.fromhex(match.group(1).decode("ascii")).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            continue
        if text.startswith(ID_PREFIX) and _CODE_RE.fullmatch(text[len(ID_PREFIX):]):
            return text[len(ID_PREFIX):]
    try:
        return run(lambda: _code_from_text(data), TEXT_BUDGET)
    except (OverBudget, RenderFailed):
        return None


def _code_from_text(data: bytes) -> str | None:
    try:
        from pypdf import PdfReader
    except ImportError:  # pypdf is optional: without it only the file identifier is read
        return None
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.CRITICAL)  # a damaged upload is expected here, not news
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf warns about every damaged structure it skips
            reader = PdfReader(io.BytesIO(data), strict=False)
            for page in reader.pages[:MAX_TEXT_PAGES]:
                match = _TEXT_CODE.search(page.extract_text() or "")
                if match:
                    return match.group(1)
    except Exception:  # noqa: BLE001 - any failure to read a stranger's file means "no code found"
        return None
    finally:
        pypdf_log.setLevel(level)
    return None


def looks_like_pdf(data: bytes) -> bool:
    return data[:1024].lstrip().startswith(b"%PDF-")
