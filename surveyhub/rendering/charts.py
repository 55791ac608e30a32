"""Charts of a project's outcomes as SVG text: the dashboard and the funder report draw the same pictures.

Pure functions on plain values (numbers, labels, a language), no Flask and no
database. Every chart is an ``<svg role="img">`` labelled by its ``<title>``
and ``<desc>`` (the desc says in words what the chart shows, so a screen
reader gets the numbers too); every text is escaped; colour is never the only
cue (start and end differ in shape, bars carry their numbers). Numbers use
the reader's format: "3,6" in Dutch.

A value may be ``None`` (not computable, or hidden because the group is
small) and a count may be a label such as ``"<5"``: a missing value is not
drawn and the text says why; a label is drawn as a hatched, outlined bar up
to its threshold (a small group is never drawn as no bar). Text is at least
12 units high: 8.5 pt when a 640-unit chart is printed 160 mm wide.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, TypeGuard

from surveyhub.locale import Numbers, language, translate

if TYPE_CHECKING:  # the report's shape, typed beside the service that makes it
    from surveyhub.services.report_contract import ChangeEntry, Report

INK, MUTED, GRID = "#1b1f24", "#4a5560", "#cfd6dc"
PRE, POST, THEN = "#4a5560", "#1f5f8b", "#8a4b08"
RCI_COLOURS = {"improved": "#1e6b3a", "unchanged": "#6b7780", "deteriorated": "#b3261e"}
FONT = 'font-family="DejaVu Sans, Verdana, sans-serif"'

WORDS = {
    "nl": {"pre": "Start", "post": "Eind", "then": "Terugblik", "improved": "Duidelijk vooruit",
           "unchanged": "Ongeveer gelijk", "deteriorated": "Duidelijk achteruit",
           "ci": "95%-interval", "hidden": "te weinig paren", "to": "tot", "from": "van",
           "marked": "gearceerd: kleine groep, precies aantal niet getoond"},
    "en": {"pre": "Start", "post": "End", "then": "Looking back", "improved": "Clearly improved",
           "unchanged": "About the same", "deteriorated": "Clearly declined",
           "ci": "95% interval", "hidden": "too few pairs", "to": "to", "from": "from",
           "marked": "hatched: a small group, exact number not shown"},
}


def words(lang: str) -> dict:
    return WORDS[language(lang)]


def number(value, decimals: int = 1, lang: str = "nl") -> str:
    """``3.6`` as "3,6" (nl) or "3.6" (en); whole counts grouped ("1.200"); labels such as "<5" as they are."""
    numbers = Numbers(lang)
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return numbers.count(value)
    return numbers.number(value, decimals)


def _id(kind: str, *content) -> str:
    digest = hashlib.sha1(repr((kind, content)).encode("utf-8")).hexdigest()[:10]
    return f"chart-{kind}-{digest}"


def _svg(kind: str, width: int, height: int, title: str, desc: str, body: list[str], content) -> str:
    chart_id = _id(kind, title, desc, content)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'aria-labelledby="{chart_id}-title {chart_id}-desc" {FONT} font-size="13">'
            f'<title id="{chart_id}-title">{escape(title)}</title>'
            f'<desc id="{chart_id}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", colour: str = INK, size: int | None = None,
          weight: str | None = None) -> str:
    extra = (f' font-size="{size}"' if size else "") + (f' font-weight="{weight}"' if weight else "")
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{colour}"{extra}>'
            f"{escape(str(text))}</text>")


def _finite(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _clip(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


# -- participation funnel ------------------------------------------------------

def participation_funnel(steps: list[tuple[str, int | str | None]], *, title: str, desc: str | None = None,
                         lang: str = "nl") -> str:
    """Horizontal bars, one per step (invited, started, completed, paired ...), each with its count."""
    width, left, bar_h, gap = 640, 230, 26, 12
    height = 20 + len(steps) * (bar_h + gap)
    top = max([v for _l, v in steps if _finite(v)] or [0])
    body: list[str] = []
    for i, (label, value) in enumerate(steps):
        y = 10 + i * (bar_h + gap)
        body.append(_text(left - 10, y + bar_h * 0.68, _clip(label), "end"))
        length = (width - left - 70) * (value / top) if _finite(value) and top else 0
        if length:
            body.append(f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar_h}" fill="{POST}"/>')
        body.append(_text(left + length + 8, y + bar_h * 0.68, number(value, 0, lang), weight="bold"))
    desc = desc or "; ".join(f"{label}: {number(value, 0, lang)}" for label, value in steps)
    return _svg("funnel", width, height, title, desc, body, steps)


# -- per-scale rows on their own axis --------------------------------------------

def _axis(body: list[str], y: float, lo: float, hi: float, x0: float, x1: float, lang: str) -> None:
    body.append(f'<line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" stroke="{GRID}" stroke-width="2"/>')
    for value, anchor in ((lo, "start"), (hi, "end")):
        x = x0 if value == lo else x1
        body.append(f'<line x1="{x}" y1="{y - 5}" x2="{x}" y2="{y + 5}" stroke="{MUTED}"/>')
        body.append(_text(x, y + 19, number(value, 0 if float(value).is_integer() else 1, lang), anchor,
                          MUTED, size=12))


def _scaler(lo: float, hi: float, x0: float, x1: float):
    span = (hi - lo) or 1.0
    return lambda v: x0 + (min(max(v, lo), hi) - lo) / span * (x1 - x0)


def _row_range(row: dict, values: list) -> tuple:
    """The row's own scale range; for a plugin's scoring method without one, the values' span."""
    lo, hi = (row.get("range") or [None, None])[:2]
    if _finite(lo) and _finite(hi) and hi > lo:
        return lo, hi
    shown = [v for v in values if _finite(v)]
    if not shown:
        return None, None
    lo, hi = math.floor(min(shown)), math.ceil(max(shown))
    return (lo, hi) if hi > lo else (lo - 1, hi + 1)


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "pre":  # hollow circle
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="#fff" stroke="{colour}" stroke-width="3"/>'
    if kind == "then":  # diamond
        return (f'<path d="M{x:.1f} {y - 8:.1f} L{x + 8:.1f} {y:.1f} L{x:.1f} {y + 8:.1f} L{x - 8:.1f} {y:.1f} Z" '
                f'fill="{colour}"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{colour}"/>'


def _legend(body: list[str], items: list[tuple[str, str, str]], y: float, x: float = 10) -> None:
    for kind, colour, label in items:
        body.append(_marker(kind, x + 8, y, colour))
        body.append(_text(x + 22, y + 5, label))
        x += 40 + 8 * len(label)


def change_dumbbell(rows: list[dict], *, title: str, desc: str | None = None, lang: str = "nl") -> str:
    """Per scale: start (hollow) and end (filled) mean on the scale's own axis, whiskers at the 95% interval.

    :param rows: dicts with ``label``, ``pre``, ``post``, ``range`` ([lo, hi])
        and ``ci`` — the interval for the end point in scale units (the start
        mean plus the 95% CI of the mean change), or None; ``note`` replaces
        the drawing when the means are hidden.
    """
    w = words(lang)
    width, left, right, row_h = 640, 230, 610, 50
    height = 50 + len(rows) * row_h
    body: list[str] = []
    _legend(body, [("pre", PRE, w["pre"]), ("post", POST, w["post"])], 16)
    body.append(f'<line x1="{left + 250}" y1="16" x2="{left + 280}" y2="16" stroke="{POST}" stroke-width="2"/>')
    body.append(_text(left + 288, 21, w["ci"]))
    lines = []
    for i, row in enumerate(rows):
        y = 60 + i * row_h
        body.append(_text(left - 12, y + 5, _clip(row["label"]), "end"))
        lo, hi = _row_range(row, [row.get("pre"), row.get("post"), *(row.get("ci") or [])])
        if not (_finite(row.get("pre")) and _finite(row.get("post")) and _finite(lo) and _finite(hi)):
            lines.append(_hidden_row(body, row, left, y, w))
            continue
        _axis(body, y, lo, hi, left, right, lang)
        x = _scaler(lo, hi, left, right)
        ci = row.get("ci")
        if ci and _finite(ci[0]) and _finite(ci[1]):
            body.append(f'<line x1="{x(ci[0]):.1f}" y1="{y}" x2="{x(ci[1]):.1f}" y2="{y}" stroke="{POST}" '
                        'stroke-width="2"/>')
            for end in ci:
                body.append(f'<line x1="{x(end):.1f}" y1="{y - 9}" x2="{x(end):.1f}" y2="{y + 9}" '
                            f'stroke="{POST}" stroke-width="2"/>')
        body.append(f'<line x1="{x(row["pre"]):.1f}" y1="{y}" x2="{x(row["post"]):.1f}" y2="{y}" '
                    f'stroke="{MUTED}" stroke-width="4" stroke-opacity="0.5"/>')
        body.append(_marker("pre", x(row["pre"]), y, PRE))
        body.append(_marker("post", x(row["post"]), y, POST))
        text = f"{row['label']}: {w['from']} {number(row['pre'], 1, lang)} {w['to']} {number(row['post'], 1, lang)}"
        if ci and _finite(ci[0]) and _finite(ci[1]):
            text += f" ({w['ci']} {number(ci[0], 1, lang)} {w['to']} {number(ci[1], 1, lang)})"
        lines.append(text)
    return _svg("change", width, height, title, desc or "; ".join(lines), body, rows)


def _hidden_row(body: list[str], row: dict, left: float, y: float, w: dict) -> str:
    """Write a row's note (why its means are not drawn) in place of the drawing; its line of the description."""
    note = row.get("note") or w["hidden"]
    body.append(_text(left, y + 5, note, colour=MUTED))
    return f"{row['label']}: {note}"


def then_test_comparison(rows: list[dict], *, title: str, desc: str | None = None, lang: str = "nl") -> str:
    """Per scale: start (pre, hollow), looking back (then, diamond) and end (post, filled) means.

    :param rows: dicts with ``label``, ``pre`` (None without a pretest),
        ``then``, ``post`` and ``range`` ([lo, hi]); ``note`` when hidden.
    """
    w = words(lang)
    width, left, right, row_h = 640, 230, 610, 50
    height = 50 + len(rows) * row_h
    body: list[str] = []
    _legend(body, [("pre", PRE, w["pre"]), ("then", THEN, w["then"]), ("post", POST, w["post"])], 16)
    lines = []
    for i, row in enumerate(rows):
        y = 60 + i * row_h
        body.append(_text(left - 12, y + 5, _clip(row["label"]), "end"))
        lo, hi = _row_range(row, [row.get(kind) for kind in ("pre", "then", "post")])
        shown = [(kind, row.get(kind)) for kind in ("pre", "then", "post") if _finite(row.get(kind))]
        if not (_finite(lo) and _finite(hi)) or not _finite(row.get("then")) or not _finite(row.get("post")):
            lines.append(_hidden_row(body, row, left, y, w))
            continue
        _axis(body, y, lo, hi, left, right, lang)
        x = _scaler(lo, hi, left, right)
        colours = {"pre": PRE, "then": THEN, "post": POST}
        for kind, value in shown:
            body.append(_marker(kind, x(value), y, colours[kind]))
        lines.append(f"{row['label']}: " + ", ".join(f"{w[kind]} {number(value, 1, lang)}" for kind, value in shown))
    return _svg("thentest", width, height, title, desc or "; ".join(lines), body, rows)


# -- reliable change -------------------------------------------------------------

def reliable_change_bars(rows: list[dict], *, title: str, desc: str | None = None, lang: str = "nl") -> str:
    """Per scale: how many residents reliably improved, did not change reliably, reliably deteriorated.

    :param rows: dicts with ``label`` and the three counts; a count may be a
        label such as ``"<5"`` or ``"≥5"`` (drawn as a hatched bar up to 5,
        with the label) or None (not judged: no bar, the text says so).
    """
    w = words(lang)
    kinds = ("improved", "unchanged", "deteriorated")
    width, left, bar_h = 640, 230, 14
    row_h = 3 * (bar_h + 3) + 14
    counts = [row.get(k) for row in rows for k in kinds]
    marked = [bound for bound in map(_label_bound, counts) if bound is not None]
    height = 44 + len(rows) * row_h + (22 if marked else 0)
    top = max([float(c) for c in counts if _finite(c)] + [float(b) for b in marked] or [0.0])
    body: list[str] = []
    x = 10
    for kind in kinds:
        body.append(f'<rect x="{x}" y="8" width="14" height="14" fill="{RCI_COLOURS[kind]}"/>')
        body.append(_text(x + 20, 20, w[kind], size=12))
        x += 40 + 7 * len(w[kind])
    lines = []
    for i, row in enumerate(rows):
        y0 = 40 + i * row_h
        body.append(_text(left - 12, y0 + 2 * bar_h, _clip(row["label"]), "end"))
        parts = []
        for j, kind in enumerate(kinds):
            y = y0 + j * (bar_h + 3)
            value = row.get(kind)
            scale = (width - left - 80) / top if top else 0
            bound = _label_bound(value)
            if bound is not None:
                length = max(bound * scale, 6.0)
                body.extend(_hatched(left, y, length, bar_h, RCI_COLOURS[kind]))
            else:
                length = value * scale if _finite(value) else 0
                if length:
                    body.append(f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar_h}" '
                                f'fill="{RCI_COLOURS[kind]}"/>')
            body.append(_text(left + length + 6, y + bar_h - 3, number(value, 0, lang), size=12))
            parts.append(f"{w[kind]} {number(value, 0, lang)}")
        lines.append(f"{row['label']}: " + ", ".join(parts))
    if marked:
        body.extend(_hatched(10, height - 20, 24, 14, MUTED))
        body.append(_text(42, height - 8, w["marked"], colour=MUTED, size=12))
    return _svg("rci", width, height, title, desc or "; ".join(lines), body, rows)


def _label_bound(value) -> int | None:
    """The threshold in a suppression label (``"<5"``, ``"≥5"`` → 5); None for numbers and None."""
    if isinstance(value, str) and value[:1] in ("<", "≥") and value[1:].isdigit():
        return int(value[1:])
    return None


def _hatched(x: float, y: float, length: float, height: float, colour: str) -> list[str]:
    """An outlined bar filled with diagonal hatching: a count that is there but not shown exactly."""
    parts = [f'<rect x="{x:.1f}" y="{y:.1f}" width="{length:.1f}" height="{height}" fill="#fff" '
             f'stroke="{colour}" stroke-width="1.5" stroke-dasharray="4 2"/>']
    step = 6.0
    offset = -height
    while offset < length:
        # A line of slope −1 from the bottom edge, clipped to the bar by hand (no clipPath needed).
        x1, y1 = x + offset, y + height
        x2, y2 = x + offset + height, y
        if x1 < x:
            y1, x1 = y1 - (x - x1), x
        if x2 > x + length:
            y2, x2 = y2 + (x2 - x - length), x + length
        if x2 > x1:
            parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
                         'stroke-width="1.2"/>')
        offset += step
    return parts


# -- all charts of one report ------------------------------------------------------

TITLES = {
    "nl": {"funnel": "Deelname", "change": "Verandering per vaardigheid",
           "rci": "Betrouwbare verandering per vaardigheid", "thentest": "Terugblik: ervaren verandering",
           "invited": "Deelnemers", "pre_started": "Nulmeting begonnen", "pre": "Nulmeting klaar",
           "post": "Eindmeting klaar", "paired": "Start en eind gekoppeld", "followup": "Vervolgmeting klaar"},
    "en": {"funnel": "Participation", "change": "Change per competence",
           "rci": "Reliable change per competence", "thentest": "Looking back: self-perceived change",
           "invited": "Participants", "pre_started": "Pre wave started", "pre": "Pre wave completed",
           "post": "Post wave completed", "paired": "Start and end paired", "followup": "Follow-up completed"},
}


def change_rows(entries: Sequence[ChangeEntry], lang: str = "nl") -> list[dict]:
    """Dumbbell rows from report entries: the end point's whisker is the start mean plus the change's CI."""
    rows = []
    for entry in entries:
        pre, post, ci = entry["pre"]["mean"], entry["post"]["mean"], entry["change"]["ci95"]
        rows.append({"label": translate(entry["title"], lang), "pre": pre, "post": post,
                     "range": entry["range"],
                     "ci": [pre + ci[0], pre + ci[1]] if ci and _finite(pre) else None})
    return rows


def report_charts(report: Report, lang: str = "nl") -> dict[str, str]:
    """The charts of a report JSON (``funnel``, ``change``, ``rci``, and ``thentest`` when the then-test was
    used), as SVG strings keyed by name. No radar: with fewer than three skills it collapses into a line, and
    the change chart shows every skill on its own scale at any number of skills."""
    t = TITLES[language(lang)]
    part = report["participation"]
    steps: list[tuple[str, int | str | None]] = [(t["invited"], part["invited"])]
    if report["design"]["pretest"]:  # a look-back design has no start to count or pair with
        steps += [(t["pre_started"], part["waves"]["pre"]["started"]), (t["pre"], part["pre"])]
    steps.append((t["post"], part["post"]))
    if report["design"]["pretest"]:
        steps.append((t["paired"], part["paired"]))
    if report["design"]["followup"]:
        steps.append((t["followup"], part["followup"]))
    scales = report["scales"]
    labels = [translate(entry["title"], lang) for entry in scales]
    charts = {
        "funnel": participation_funnel(steps, title=t["funnel"], lang=lang),
        "change": change_dumbbell(change_rows(scales, lang), title=t["change"], lang=lang),
        "rci": reliable_change_bars(
            [{"label": label, **{k: e["rci"][k] for k in ("improved", "unchanged", "deteriorated")}}
             for label, e in zip(labels, scales)], title=t["rci"], lang=lang),
    }
    if report["design"]["then_test"]:
        rows = []
        for entry in report["retrospective"]:
            # The pretest mean of the same residents (the response-shift pairs), when there is one.
            shift = entry["response_shift"]  # None without a pretest
            rows.append({"label": translate(entry["title"], lang), "range": entry["range"],
                         "pre": shift["pre"]["mean"] if shift is not None else None,
                         "then": entry["pre"]["mean"], "post": entry["post"]["mean"]})
        charts["thentest"] = then_test_comparison(rows, title=t["thentest"], lang=lang)
    return charts


# -- projects side by side: a forest plot ------------------------------------------

def _nice_step(span: float) -> float:
    """A round tick step that cuts ``span`` into about four parts (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5 …)."""
    raw = span / 4 if span > 0 else 0.25
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= raw)


def forest_plot(rows: list[dict], *, title: str, axis: str = "", desc: str | None = None, lang: str = "nl") -> str:
    """Per project the mean change with its 95% interval on one shared axis around zero; pooled rows as diamonds.

    The reader sees at a glance which projects moved and how sure each figure is; a project
    whose figures are hidden (too few pairs) keeps its row, with ``note`` in words and nothing
    drawn, so a small project is visible as small, never as missing or as zero.

    :param rows: dicts with ``label``; ``sub`` (a second, smaller line, e.g. "23 pairs");
        ``change`` (the mean change, or None when hidden); ``ci`` ([lo, hi] or None);
        ``pooled`` (True: drawn as a diamond under a rule); ``note`` (words in place of the
        drawing when ``change`` is None).
    :param axis: the axis caption, e.g. "change (end minus start)".
    """
    w = words(lang)
    width, left, right, row_h, top = 640, 215, 455, 40, 34
    height = top + len(rows) * row_h + 44
    values = [v for row in rows for v in [row.get("change"), *(row.get("ci") or [])] if _finite(v)]
    lo, hi = min([0.0, *values]), max([0.0, *values])
    pad = (hi - lo) * 0.08 or 0.5
    step = _nice_step(hi - lo + 2 * pad)
    lo, hi = math.floor((lo - pad) / step) * step, math.ceil((hi + pad) / step) * step
    x = _scaler(lo, hi, left, right)
    body: list[str] = []
    if axis:
        body.append(_text((left + right) / 2, 16, axis, "middle", MUTED, size=12))
    bottom = top + len(rows) * row_h
    tick, decimals = lo, 0 if step >= 1 else (1 if round(step * 10, 6).is_integer() else 2)
    while tick <= hi + step / 1000:
        colour, dash = (MUTED, ' stroke-dasharray="5 3"') if abs(tick) < step / 1000 else (GRID, "")
        body.append(f'<line x1="{x(tick):.1f}" y1="{top - 6}" x2="{x(tick):.1f}" y2="{bottom}" stroke="{colour}"'
                    f' stroke-width="1.2"{dash}/>')
        body.append(_text(x(tick), bottom + 18, number(tick + 0.0, decimals, lang), "middle", MUTED, size=12))
        tick += step
    lines = []
    for i, row in enumerate(rows):
        y = top + i * row_h + row_h / 2
        weight = "bold" if row.get("pooled") else None
        if row.get("pooled"):
            body.append(f'<line x1="10" y1="{y - row_h / 2:.1f}" x2="{width - 10}" y2="{y - row_h / 2:.1f}" '
                        f'stroke="{INK}" stroke-width="1"/>')
        body.append(_text(left - 12, y + (-2 if row.get("sub") else 5), _clip(row["label"], 28), "end", weight=weight))
        if row.get("sub"):
            body.append(_text(left - 12, y + 13, _clip(str(row["sub"]), 30), "end", MUTED, size=12))
        change, ci = row.get("change"), row.get("ci")
        if not _finite(change):
            note = row.get("note") or w["hidden"]
            # On a white band, so the grid does not run through the words.
            body.append(f'<rect x="{left + 2}" y="{y - 10:.1f}" width="{min(7.2 * len(note) + 8, right - left):.1f}" '
                        'height="20" fill="#fff"/>')
            body.append(_text(left + 6, y + 5, note, colour=MUTED, size=12))
            lines.append(f"{row['label']}: {note}")
            continue
        shown = ci if ci and _finite(ci[0]) and _finite(ci[1]) else None
        if row.get("pooled") and shown:
            body.append(f'<path d="M{x(shown[0]):.1f} {y:.1f} L{x(change):.1f} {y - 9:.1f} L{x(shown[1]):.1f} {y:.1f} '
                        f'L{x(change):.1f} {y + 9:.1f} Z" fill="{POST}"/>')
        else:
            if shown:
                body.append(f'<line x1="{x(shown[0]):.1f}" y1="{y:.1f}" x2="{x(shown[1]):.1f}" y2="{y:.1f}" '
                            f'stroke="{POST}" stroke-width="2"/>')
                for end in shown:
                    body.append(f'<line x1="{x(end):.1f}" y1="{y - 7:.1f}" x2="{x(end):.1f}" y2="{y + 7:.1f}" '
                                f'stroke="{POST}" stroke-width="2"/>')
            body.append(f'<rect x="{x(change) - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" fill="{POST}"/>')
        figure = Numbers(lang).signed(change, 2)
        if shown:
            figure += f" ({number(shown[0], 2, lang)} {w['to']} {number(shown[1], 2, lang)})"
        body.append(_text(right + 10, y + 5, figure, size=12, weight=weight))
        sub = f", {row['sub']}" if row.get("sub") else ""
        lines.append(f"{row['label']}{sub}: {figure.replace('(', '(' + w['ci'] + ' ')}")
    return _svg("forest", width, height, title, desc or "; ".join(lines), body, rows)
