"""Which logos an organisation may put on its documents: PNG, JPEG, or a small, self-contained SVG.

A logo is drawn on every certificate, report and paper form, so it must be
cheap and harmless to draw. :func:`check_logo` says why one is refused (the
upload shows that reason); :func:`logo_kind` is the same check for a logo
already stored, which is then simply left out of the document.

- PNG and JPEG: the bytes must be that format (magic bytes, and Pillow reads
  the header), at most ``MAX_BYTES`` and ``MAX_SIDE`` pixels a side.
- SVG: at most ``MAX_SVG_BYTES`` and ``MAX_SVG_ELEMENTS`` elements, nested at
  most ``MAX_SVG_DEPTH`` deep; no DOCTYPE or entities, no ``<use>`` (a few
  nested ``<use>`` draw millions of shapes), no scripts, ``foreignObject``,
  images, patterns, filters or animation, no event attributes, and no
  reference to anything outside the file (only ``#id`` references).
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

MAX_BYTES = 512 * 1024
MAX_SIDE = 2000
MAX_SVG_BYTES = 64 * 1024
MAX_SVG_ELEMENTS = 500
MAX_SVG_DEPTH = 30
MEDIA_TYPES = ("image/png", "image/jpeg", "image/svg+xml")

_SVG_NS = "{http://www.w3.org/2000/svg}"
#: Elements a logo never needs and that make drawing expensive or reach outside the file.
_FORBIDDEN = {"use", "script", "foreignobject", "image", "iframe", "embed", "object", "pattern", "filter",
              "feimage", "animate", "animatemotion", "animatetransform", "set", "a", "switch"}
_OUTSIDE = re.compile(r"url\s*\(\s*['\"]?\s*(?!#)|@import|expression\s*\(", re.IGNORECASE)


class LogoError(ValueError):
    """The logo cannot be used; the message says why (in English, for logs and the command line).

    ``kind`` is one of ``type``, ``size``, ``pixels``, ``unreadable``, ``svg``; ``what`` names
    the limit or the part of an SVG that broke a rule (``<use>``, ``onload``, ``64 KB``), so a
    page can say the same in the reader's language.
    """

    def __init__(self, message: str, kind: str = "svg", what: str = ""):
        super().__init__(message)
        self.kind, self.what = kind, what


def check_logo(data: bytes | None, mime: str | None = None) -> str:
    """The logo's media type when it may be used; raises :class:`LogoError` otherwise.

    ``mime``: the type it was stored or sent as; when given, it must agree with the bytes.
    """
    if not data:
        raise LogoError("the file is empty", "type")
    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        found = _check_bitmap(data, "PNG")
    elif head.startswith(b"\xff\xd8\xff"):
        found = _check_bitmap(data, "JPEG")
    elif b"<svg" in data[:2048].lower():
        found = _check_svg(data)
    else:
        raise LogoError("a logo must be a PNG, JPEG or SVG file", "type")
    if mime and mime.split(";")[0].strip().lower() != found:
        raise LogoError(f"the file is {found}, not {mime}", "type")
    return found


def logo_kind(data: bytes | None, mime: str | None) -> str | None:
    """:func:`check_logo` for a stored logo: its media type, or None when it must be left out."""
    try:
        return check_logo(data, mime)
    except LogoError:
        return None


def _check_bitmap(data: bytes, kind: str) -> str:
    if len(data) > MAX_BYTES:
        raise LogoError(f"the file is larger than {MAX_BYTES // 1024} KB", "size", f"{MAX_BYTES // 1024} KB")
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as image:  # reads the header, not the pixels
            width, height = image.size
    except Exception as exc:  # noqa: BLE001 - any failure to read it means: not a usable image
        raise LogoError(f"the file is not a readable {kind} image", "unreadable") from exc
    if width > MAX_SIDE or height > MAX_SIDE:
        raise LogoError(f"the image is {width}×{height} pixels; at most {MAX_SIDE}×{MAX_SIDE} is allowed",
                        "pixels", f"{MAX_SIDE}×{MAX_SIDE}")
    return "image/png" if kind == "PNG" else "image/jpeg"


def _check_svg(data: bytes) -> str:
    if len(data) > MAX_SVG_BYTES:
        raise LogoError(f"an SVG logo may be at most {MAX_SVG_BYTES // 1024} KB", "size", f"{MAX_SVG_BYTES // 1024} KB")
    if re.search(rb"<!DOCTYPE|<!ENTITY|<\?xml-stylesheet", data, re.IGNORECASE):
        raise LogoError("an SVG logo may not contain a DOCTYPE, entities or a stylesheet link", what="DOCTYPE")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise LogoError(f"the SVG file cannot be read ({exc})", "unreadable") from None
    if _local(root.tag) != "svg":
        raise LogoError("an SVG logo must start with an <svg> element", "unreadable")
    count = 0
    for element, depth in _walk(root):
        count += 1
        if count > MAX_SVG_ELEMENTS:
            raise LogoError(f"an SVG logo may have at most {MAX_SVG_ELEMENTS} elements",
                            what=f"> {MAX_SVG_ELEMENTS} elements")
        if depth > MAX_SVG_DEPTH:
            raise LogoError(f"an SVG logo may be nested at most {MAX_SVG_DEPTH} levels deep",
                            what=f"> {MAX_SVG_DEPTH} levels")
        _check_element(element)
    return "image/svg+xml"


def _walk(root):
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        yield element, depth
        stack.extend((child, depth + 1) for child in element)


def _local(tag) -> str:
    tag = tag if isinstance(tag, str) else ""
    return tag.rsplit("}", 1)[-1].lower()


def _check_element(element) -> None:
    name = _local(element.tag)
    if name in _FORBIDDEN:
        raise LogoError(f"an SVG logo may not use <{name}>", what=f"<{name}>")
    if name == "style" and _OUTSIDE.search(element.text or ""):
        raise LogoError("an SVG logo may not load anything from outside the file", what="url(…)")
    for key, value in element.attrib.items():
        attribute = _local(key)
        if attribute.startswith("on"):
            raise LogoError(f"an SVG logo may not have script attributes ({attribute})", what=attribute)
        if attribute == "href" and not value.strip().startswith("#"):
            raise LogoError("an SVG logo may not refer to other files", what=f"href={value.strip()[:40]}")
        if _OUTSIDE.search(value):
            raise LogoError("an SVG logo may not load anything from outside the file", what="url(…)")
