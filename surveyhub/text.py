"""The one rule for free text entering SurveyHub, wherever it comes from (pure: no Flask, no database).

Every text a person types or a file brings in (questionnaire answers, names,
e-mail addresses, project and organisation texts, CSV cells, instrument
YAML) passes :func:`clean` before it is stored, so every store (SQLite and
PostgreSQL) and every export (CSV, XLSX, SAV, PDF) can take it:

- NFC normalisation: "é" typed as e + combining accent equals "é";
- CR LF and a lone CR become LF;
- NUL and the other control characters are removed, except tab and newline
  (PostgreSQL refuses NUL, XLSX refuses most C0 controls, SPSS ends a text at NUL);
- a lone surrogate (possible from a JSON escape or a file name, never valid
  UTF-8) becomes U+FFFD, the replacement character.

Right-to-left overrides and other format characters are letters' business,
not control characters: they are kept, and escaped where shown.
"""

from __future__ import annotations

import re
import unicodedata

#: C0 controls except tab (09) and newline (0A), DEL, and C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """``text`` as SurveyHub stores it (see the module docstring)."""
    if not text:
        return text
    text = _SURROGATE.sub("\ufffd", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _CONTROL.sub("", text))


def clean_optional(text: str | None) -> str | None:
    """:func:`clean` that lets ``None`` through."""
    return None if text is None else clean(text)


def clean_value(value):
    """A text cleaned, anything else (numbers, None) unchanged."""
    return clean(value) if isinstance(value, str) else value


def is_clean(text: str) -> bool:
    return clean(text) == text
