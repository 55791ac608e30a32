"""HTML templates to PDF with WeasyPrint, fetching nothing from outside.

Templates are data files beside this module (Jinja, autoescape on) and get a
context of plain values. WeasyPrint's URL fetcher here serves two things only:
the DejaVu fonts shipped in ``fonts/`` (under a private ``surveyhub-font:``
scheme, to the stylesheets) and the ``data:`` images this render produced
itself (QR codes, charts, the organisation's logo). ``file:``, ``http(s):``
and every other URL is refused and recorded, so hostile text can never make a
document read a server file or call the network.

Parsed stylesheets and the font configuration are built once per process and
reused: parsing CSS and loading fonts costs more than laying out a page.
Output is deterministic: the same context, code and date give the same bytes,
which is how a document is recognised when it is issued again.
"""

from __future__ import annotations

import atexit
import base64
import gc
import logging
import os
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from surveyhub.rendering.logo import logo_kind  # noqa: F401 - also imported from here

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")
FONTS = Path(__file__).with_name("fonts")
FONT_SCHEME = "surveyhub-font:"
#: The font files a stylesheet may name, as ``url(surveyhub-font:<file>)``.
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf")
FONT_FACES = f"""
@font-face {{ font-family: "SurveyHub Sans"; src: url({FONT_SCHEME}DejaVuSans.ttf); }}
@font-face {{ font-family: "SurveyHub Sans"; font-weight: bold; src: url({FONT_SCHEME}DejaVuSans-Bold.ttf); }}
@font-face {{ font-family: "SurveyHub Sans"; font-style: italic; src: url({FONT_SCHEME}DejaVuSans-Oblique.ttf); }}
"""
PDF_OPTIONS = {"pdf_variant": "pdf/ua-1"}
#: Layouts a document with a ``fit`` rule may take before it is written as it stands.
FIT_TRIES = 6
#: Organisation texts longer than this are cut: a document must stay one that prints.
ORG_TEXT_LIMIT = 1000
#: Parsed stylesheets kept per process (one per stylesheet and brand colour).
BRANDED_SHEETS = 64


class RefusingFetcher(URLFetcher):
    """Serves the packaged fonts (when allowed) and the data: images registered with it; refuses the rest."""

    def __init__(self, images: dict[str, tuple[str, bytes]] | None = None, fonts: bool = False):
        super().__init__(timeout=1, allowed_protocols=(), allow_redirects=False)
        self.images = images or {}
        self.fonts = fonts
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if self.fonts and url.startswith(FONT_SCHEME) and url[len(FONT_SCHEME):] in FONT_FILES:
            return URLFetcherResponse(url, _font_bytes(url[len(FONT_SCHEME):]), {"Content-Type": "font/ttf"})
        if url in self.images:
            mime, data = self.images[url]
            return URLFetcherResponse(url, data, {"Content-Type": mime})
        self.refused.append(url[:200])
        log.warning("document render refused to fetch %.80s", url)
        raise ValueError("SurveyHub documents fetch nothing from outside")


@lru_cache(maxsize=None)
def _font_bytes(name: str) -> bytes:
    return (FONTS / name).read_bytes()


@dataclass
class Images:
    """The images one document embeds, as data: URIs the fetcher will serve."""

    by_uri: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def add(self, data: bytes, mime: str) -> str:
        uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        self.by_uri[uri] = (mime, data)
        return uri

    def svg(self, markup: str) -> str:
        return self.add(markup.encode("utf-8"), "image/svg+xml")

    def qr(self, url: str) -> str:
        """A QR code of ``url``: a PNG of one pixel per module, scaled up without smoothing.

        The stylesheet gives QR images ``image-rendering: pixelated``, so the
        modules stay sharp at any size. Mask pattern fixed: choosing the
        "best" of eight costs more than the rest of the QR code, and any mask
        scans. A tiny PNG is far cheaper to write, embed and draw than SVG.
        """
        import segno

        return self.add(qr_png(segno.make(url, error="m", mask=0).matrix), "image/png")

    def logo(self, data: bytes | None, mime: str | None) -> str | None:
        """The organisation's logo when it passes ``documents.logo``'s checks; else None (left out)."""
        kind = logo_kind(data, mime)
        if kind is None and data:
            log.warning("an organisation logo that is not a small PNG, JPEG or self-contained SVG is left out")
        return self.add(data, kind) if kind and data else None


#: A QR matrix row (1 = dark module) as grey pixels: dark black, light white.
_QR_PIXELS = bytes.maketrans(b"\x00\x01", b"\xff\x00")


def qr_png(matrix, border: int = 2) -> bytes:
    """A QR code's modules as an 8-bit grey PNG, one pixel per module, with a light border.

    Written directly rather than through segno's PNG writer and a one-bit
    image: WeasyPrint embeds a grey PNG as it is, where it first converts a
    one-bit image to colour and encodes it again.
    """
    size = len(matrix) + 2 * border
    light, pad = b"\x00" + b"\xff" * size, b"\xff" * border
    rows = [light] * border + [b"\x00" + pad + bytes(row).translate(_QR_PIXELS) + pad for row in matrix]
    raw = b"".join(rows + [light] * border)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


# --- organisation-editable text ---------------------------------------------------------------------

_SANDBOX = SandboxedEnvironment(autoescape=False)
#: The only template constructs an organisation text may use: text and ``{{ name }}``.
_ALLOWED_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name)


def org_text(text: str | None, values: dict[str, str], limit: int = ORG_TEXT_LIMIT) -> str:
    """An organisation's text with ``{{ naam }}``-style placeholders filled in, as plain text.

    Rendered in Jinja's sandbox, and only plain placeholders are allowed: a
    loop, a filter, a call or anything else leaves the text as it was typed,
    so an organisation text can neither reach Python objects nor run long.
    The result is escaped again where a template shows it.
    """
    text = (text or "")[: limit * 2]
    try:
        tree = _SANDBOX.parse(text)
        if any(not isinstance(node, _ALLOWED_NODES) for node in tree.find_all(nodes.Node)):
            return _cut(text, limit)
        return _cut(_SANDBOX.from_string(tree).render(values), limit)
    except (TemplateError, RecursionError, ValueError, TypeError):
        return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- rendering --------------------------------------------------------------------------------------

class Renderer:
    """One per process: the Jinja environment, parsed stylesheets and fonts, reused by every render."""

    def __init__(self, templates: Path = TEMPLATES):
        self.env = Environment(loader=FileSystemLoader(str(templates)), autoescape=True,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.templates = templates
        self.font_config = FontConfiguration()
        self._stylesheets: dict[tuple[str, str | None], CSS] = {}
        self._lock = threading.RLock()
        self._warm = False

    def warm_up(self) -> None:
        """Parse every stylesheet and lay out and write one small page, once.

        A render within a budget runs in a forked child (``rendering.budget``), and whatever the
        child parses and loads is lost when it ends. Warmed in the parent, every child starts with
        the stylesheets parsed, the templates compiled, the fonts loaded and WeasyPrint's lazily
        imported parts in memory (``bench/render_child_warm.py`` measures the difference).
        """
        with self._lock:
            if self._warm:
                return
            for css in sorted(self.templates.glob("*.css")):
                self.stylesheet(css.name)
            for template in sorted(self.templates.glob("*.html")):
                self.env.get_template(template.name)
            images = Images()
            drawing = images.svg('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
                                 '<circle cx="4" cy="4" r="3"/></svg>')
            page = (f'<p>SurveyHub <b>1</b> <i>2</i></p><img src="{drawing}" alt="">'
                    f'<img src="{images.qr("https://surveyhub.invalid/")}" alt="">')
            HTML(string=page, url_fetcher=RefusingFetcher(images.by_uri)).render(
                font_config=self.font_config, stylesheets=[self.stylesheet("certificate.css")],
                pdf_identifier=b"SurveyHub", **PDF_OPTIONS).write_pdf(pdf_identifier=b"SurveyHub", **PDF_OPTIONS)
            self._warm = True

    def stylesheet(self, name: str, brand: str | None = None) -> CSS:
        """The parsed stylesheet ``name``, with ``var(--brand)`` written out as ``brand`` when given.

        A colour written into the stylesheet costs nothing per render, where a
        custom property is resolved again for every element. ``brand`` must
        already be a safe ``#rrggbb`` (``svg.safe_colour``). One parsed sheet
        per stylesheet and colour; an installation has a handful of colours,
        and past ``BRANDED_SHEETS`` the oldest are parsed again when needed.
        """
        key = (name, brand)
        with self._lock:
            sheet = self._stylesheets.get(key)
            if sheet is None:
                text = FONT_FACES + (self.templates / name).read_text(encoding="utf-8")
                if brand is not None:
                    text = text.replace("var(--brand)", brand)
                if len(self._stylesheets) >= BRANDED_SHEETS:
                    self._stylesheets.pop(next(iter(self._stylesheets)))
                sheet = self._stylesheets[key] = CSS(string=text, font_config=self.font_config,
                                                     url_fetcher=RefusingFetcher(fonts=True))
            return sheet

    def html(self, template: str, context: dict) -> str:
        return self.env.get_template(template).render(**context)

    def pdf(self, template: str, context: dict, *, images: Images | None = None,
            identifier: str | None = None, brand: str | None = None,
            fit: Callable[[Any, dict], dict | None] | None = None) -> bytes:
        """Render ``template`` (and its ``.css`` twin) to PDF/UA-1 bytes.

        ``brand``: the organisation's colour for a stylesheet that names
        ``var(--brand)`` but whose template does not set it (see ``stylesheet``).
        ``fit``: looks at the laid-out document and returns a tighter context when
        something does not fit (or None); laid out again at most ``FIT_TRIES`` times,
        so a page that fits the first time costs nothing more.
        """
        stylesheet = self.stylesheet(Path(template).with_suffix(".css").name, brand)
        fetcher = RefusingFetcher((images or Images()).by_uri)
        options = {"pdf_identifier": (identifier or "SurveyHub").encode("ascii"), **PDF_OPTIONS}
        with self._lock:  # WeasyPrint's font configuration is shared; one render at a time
            for _ in range(FIT_TRIES):
                document = HTML(string=self.html(template, context), url_fetcher=fetcher).render(
                    font_config=self.font_config, stylesheets=[stylesheet], **options)
                tighter = fit(document, context) if fit else None
                if tighter is None:
                    break
                context = tighter
            return document.write_pdf(**options)


_renderer: Renderer | None = None
_renderer_lock = threading.Lock()
#: Renderers inherited through fork, kept alive on purpose (see ``start_afresh``).
_inherited: list[Renderer] = []


def get_renderer() -> Renderer:
    """The process's renderer (created on first use, so every worker process builds its own)."""
    global _renderer
    with _renderer_lock:
        if _renderer is None:
            _renderer = Renderer()
        return _renderer


def _fresh_locks_in_child() -> None:
    """In a forked child: another thread of the parent may have held a lock at the fork; it never lets go here."""
    global _renderer_lock
    _renderer_lock = threading.Lock()
    for renderer in (_renderer, *_inherited):
        if renderer is not None:
            renderer._lock = threading.RLock()


def _release_at_exit() -> None:
    """Free the renderers while Pango and GLib are still whole.

    The at-fork hook keeps this module alive until the interpreter's very last
    clean-up, when freeing Pango objects crashes the process (exit code 139 after
    a successful ``surveyhub report --format pdf``); atexit runs before that.
    """
    global _renderer
    _renderer = None  # inherited renderers stay referenced (see ``start_afresh``)
    gc.collect()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_locks_in_child)
atexit.register(_release_at_exit)


def start_afresh() -> None:
    """In a forked worker: build a renderer of this process's own on next use.

    The inherited renderer is kept referenced, never collected: its font
    configuration owns a temporary folder of font files that the parent
    process still uses, and collecting it here would delete that folder.
    """
    global _renderer
    with _renderer_lock:
        if _renderer is not None:
            _inherited.append(_renderer)
        _renderer = None
