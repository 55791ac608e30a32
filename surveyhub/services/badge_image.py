"""A badge as an image with the credential baked in (OB 3.0 "Baking": an SVG carrying the VC-JWT).

A resident can put the picture on a website or in a wallet that reads baked badges; the
``<openbadges:credential verify="…">`` element holds the same signed JWT as the ``.jwt`` file,
so the image verifies like the file (``surveyhub verify badge.svg``). Every text drawn on it
is escaped: skill and organisation names come from instrument files and admins.
"""

from __future__ import annotations

import re
import textwrap
from xml.sax.saxutils import escape, quoteattr

#: The namespace OB 3.0 gives the baked credential element.
OB_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_BAKED = re.compile(r"<openbadges:credential\b[^>]*?\sverify=\"([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*)\"")


def svg(jwt: str, title: str, subtitle: str | None, organisation: str, colour: str = "#1f5f8b") -> str:
    """A round badge (title in a few lines, subtitle, organisation) with ``jwt`` baked in."""
    title, organisation = _xml_chars(title), _xml_chars(organisation)
    subtitle = _xml_chars(subtitle) if subtitle else subtitle
    colour = colour if re.fullmatch(r"#[0-9A-Fa-f]{6}", colour or "") else "#1f5f8b"
    lines = textwrap.wrap(title, 18)[:3] or [""]
    top = 120 - 14 * (len(lines) - 1)
    words = "".join(f'<text x="150" y="{top + 30 * i}" font-size="24" font-weight="700">{escape(line)}</text>'
                    for i, line in enumerate(lines))
    if subtitle:
        words += f'<text x="150" y="{top + 30 * len(lines) + 6}" font-size="18">{escape(subtitle[:40])}</text>'
    label = " ".join(f"{title}. {subtitle or ''} {organisation}".split())
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="{OB_NAMESPACE}" viewBox="0 0 300 300" '
        f'width="300" height="300" role="img" aria-label={quoteattr(label)}>'
        f'<openbadges:credential verify={quoteattr(jwt)}></openbadges:credential>'
        f'<circle cx="150" cy="150" r="142" fill="#ffffff" stroke="{colour}" stroke-width="12"/>'
        f'<circle cx="150" cy="150" r="124" fill="none" stroke="{colour}" stroke-width="2"/>'
        f'<g fill="#1a1a1a" text-anchor="middle" font-family="sans-serif">{words}'
        f'<text x="150" y="236" font-size="14">{escape(organisation[:36])}</text></g></svg>'
    )


def _xml_chars(text: str) -> str:
    """Without the characters XML 1.0 cannot hold (control characters but tab and newline): one would make the
    whole image no XML, so nothing draws it."""
    return _NOT_XML.sub("", text)


def baked_jwt(data: bytes) -> str | None:
    """The VC-JWT baked into an SVG badge, or None (read with a pattern: no XML parser meets the file)."""
    head = data[:200].lstrip()
    if not (head.startswith(b"<svg") or head.startswith(b"<?xml")):
        return None
    found = _BAKED.search(data.decode("utf-8", "replace"))
    return found.group(1) if found else None
