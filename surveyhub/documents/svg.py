"""Small SVG charts for the documents, drawn from plain numbers.

Each function returns an SVG string; the document embeds it as a ``data:``
image with its own alt text. Text in a chart is escaped; numbers arrive
already formatted, so a chart shows exactly what the tables show. These are
the documents' own charts until the shared ``documents/charts.py`` takes over.
"""

from __future__ import annotations

from markupsafe import escape

FONT = 'font-family="SurveyHub Sans, DejaVu Sans, sans-serif"'
GREY = "#9aa5b1"
INK = "#1d2731"
LINE = "#d5dbe1"


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


def means_chart(rows: list[dict], colour: str, low: float, high: float, labels: tuple[str, str]) -> str:
    """Report chart: per skill the average at the start (grey dot) and the end (coloured dot).

    ``rows``: ``{"title", "pre", "post", "pre_text", "post_text"}``; rows
    without both means are left out by the caller.
    """
    width, label_w, plot_w, row_h = 520, 180, 300, 30
    height = 40 + row_h * len(rows)
    span = (high - low) or 1.0

    def x(value: float) -> float:
        return label_w + 10 + max(0.0, min(1.0, (value - low) / span)) * plot_w

    body = [f'<circle cx="{label_w + 15}" cy="9" r="5" fill="{GREY}"/>', _text(label_w + 24, 13, labels[0], size=10),
            f'<circle cx="{label_w + 175}" cy="9" r="5" fill="{colour}"/>', _text(label_w + 184, 13, labels[1], size=10)]
    for tick in _ticks(low, high):
        body.append(f'<line x1="{x(tick):.1f}" y1="24" x2="{x(tick):.1f}" y2="{height - 14}" stroke="{LINE}"/>')
        body.append(_text(x(tick), height - 2, _tick_text(tick), anchor="middle", size=9))
    for i, row in enumerate(rows):
        y = 36 + i * row_h
        body += [_text(0, y + 4, _short(row["title"]), size=11),
                 f'<line x1="{x(row["pre"]):.1f}" y1="{y}" x2="{x(row["post"]):.1f}" y2="{y}" stroke="{INK}" '
                 'stroke-width="1.5"/>',
                 f'<circle cx="{x(row["pre"]):.1f}" cy="{y}" r="5" fill="{GREY}"/>',
                 f'<circle cx="{x(row["post"]):.1f}" cy="{y}" r="5" fill="{colour}"/>']
    return _svg(width, height, body)


def change_chart(rows: list[dict], colour: str) -> str:
    """Report chart: mean change per skill with its 95% interval, around a zero line.

    ``rows``: ``{"title", "mean", "lo", "hi"}``; ``lo``/``hi`` may be None
    (no interval shown).
    """
    width, label_w, plot_w, row_h = 520, 180, 300, 28
    height = 30 + row_h * len(rows)
    values = [abs(v) for row in rows for v in (row["mean"], row.get("lo"), row.get("hi")) if v is not None]
    reach = max(values + [0.5]) * 1.1

    def x(value: float) -> float:
        return label_w + 10 + (value + reach) / (2 * reach) * plot_w

    body = [f'<line x1="{x(0):.1f}" y1="6" x2="{x(0):.1f}" y2="{height - 16}" stroke="{INK}" stroke-dasharray="3 3"/>',
            _text(x(0), height - 4, "0", anchor="middle", size=9)]
    for i, row in enumerate(rows):
        y = 18 + i * row_h
        body.append(_text(0, y + 4, _short(row["title"]), size=11))
        if row.get("lo") is not None and row.get("hi") is not None:
            body += [f'<line x1="{x(row["lo"]):.1f}" y1="{y}" x2="{x(row["hi"]):.1f}" y2="{y}" stroke="{INK}"/>',
                     f'<line x1="{x(row["lo"]):.1f}" y1="{y - 5}" x2="{x(row["lo"]):.1f}" y2="{y + 5}" stroke="{INK}"/>',
                     f'<line x1="{x(row["hi"]):.1f}" y1="{y - 5}" x2="{x(row["hi"]):.1f}" y2="{y + 5}" stroke="{INK}"/>']
        body.append(f'<rect x="{x(row["mean"]) - 5:.1f}" y="{y - 5}" width="10" height="10" fill="{colour}"/>')
    return _svg(width, height, body)


def funnel(steps: list[tuple[str, int | None, str]], colour: str) -> str:
    """Participation funnel: ``(label, count, count_text)`` per step, bars relative to the first."""
    width, label_w, bar_w, row_h = 520, 200, 260, 30
    top = max([c for _, c, _ in steps if isinstance(c, int)] + [1])
    body = []
    for i, (label, value, text) in enumerate(steps):
        y = 6 + i * row_h
        share = (value / top) if isinstance(value, int) and top else 0.0
        body += [_text(0, y + 15, _short(label, 32), size=11),
                 f'<rect x="{label_w}" y="{y + 2}" width="{max(share * bar_w, 2):.1f}" height="18" fill="{colour}"/>',
                 _text(label_w + max(share * bar_w, 2) + 6, y + 15, text, size=11)]
    return _svg(width, 10 + row_h * len(steps), body)


def _ticks(low: float, high: float) -> list[float]:
    span = high - low
    step = 1.0 if span <= 10 else (5.0 if span <= 50 else 10 ** (len(str(int(span))) - 1))
    first = float(int(low))
    ticks, value = [], first
    while value <= high + 1e-9 and len(ticks) < 12:
        if value >= low - 1e-9:
            ticks.append(value)
        value += step
    return ticks


def _tick_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


DEFAULT_COLOUR = "#1f5f8b"


def safe_colour(value: object) -> str:
    """A ``#rrggbb`` colour as it is; anything else (CSS tricks included) becomes the default."""
    import re

    if isinstance(value, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        return value.lower()
    return DEFAULT_COLOUR
