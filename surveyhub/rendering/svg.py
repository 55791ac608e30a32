"""The brand colour every document may use, checked before it reaches a stylesheet.

The report's charts (and the dashboard's) are ``rendering.charts``, the only
chart code for outcomes. The certificate draws no chart: a bar shows a proud
resident how low it still is, so the certificate says in words what they can
do now (``rendering.certificate``).
"""

from __future__ import annotations

import re

DEFAULT_COLOUR = "#1f5f8b"


def safe_colour(value: object) -> str:
    """A ``#rrggbb`` colour as it is; anything else (CSS tricks included) becomes the default."""
    if isinstance(value, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        return value.lower()
    return DEFAULT_COLOUR
