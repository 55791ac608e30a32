"""The brand colour every document may use, and the certificate's growth bars.

The report's charts (and the dashboard's) are ``documents.charts``, the only
chart code for outcomes; this module keeps the checked brand colour and the
certificate's small bar image until the certificate draws its own.
"""

from __future__ import annotations

from markupsafe import escape

FONT = 'font-family="SurveyHub Sans, DejaVu Sans, sans-serif"'
GREY = "#9aa5b1"
INK = "#1d2731"


def _svg(width: int, height: int, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" {FONT} font-size="11">' + "".join(body) + "</svg>")



def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 11, colour: str = INK,
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{colour}" '
            f'font-weight="{weight}">{escape(text)}</text>')


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def growth_chart(rows: list[dict], colour: str, labels: tuple[str, str]) -> str:
    """Certificate chart: per skill a grey bar for the start above a coloured bar for now.

    ``rows``: ``{"title", "start", "now"}`` with ``start`` and ``now`` as shares
    (0–1) of the skill's range, "better" to the right. The certificate only
    draws skills the resident grew in, so a bar never shrinks. ``labels``: the
    legend's words for start and now. One image for all skills: every image
    costs WeasyPrint more than the bars in it.
    """
    width, label_w, bar_w, row_h = 480, 170, 300, 30
    height = 24 + row_h * len(rows)
    body = [f'<rect x="{label_w}" y="2" width="10" height="10" fill="{GREY}"/>',
            _text(label_w + 14, 11, labels[0], size=10),
            f'<rect x="{label_w + 130}" y="2" width="10" height="10" fill="{colour}"/>',
            _text(label_w + 144, 11, labels[1], size=10)]
    for i, row in enumerate(rows):
        y = 20 + i * row_h
        start, now = (max(0.0, min(1.0, row[key])) * bar_w for key in ("start", "now"))
        body += [_text(0, y + 16, _short(row["title"]), size=11),
                 f'<rect x="{label_w}" y="{y + 2}" width="{max(start, 2):.1f}" height="11" fill="{GREY}"/>',
                 f'<rect x="{label_w}" y="{y + 14}" width="{max(now, 2):.1f}" height="11" fill="{colour}"/>']
    return _svg(width, height, body)


DEFAULT_COLOUR = "#1f5f8b"


def safe_colour(value: object) -> str:
    """A ``#rrggbb`` colour as it is; anything else (CSS tricks included) becomes the default."""
    import re

    if isinstance(value, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        return value.lower()
    return DEFAULT_COLOUR
