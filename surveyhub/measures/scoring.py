"""Scale scores from answers: reverse coding and the built-in scoring methods.

Pure functions on plain values (no Flask, no database). A scoring method has
the plugin contract signature ``(values, scale) -> float | None``: ``values``
maps item id to the value after reverse coding (None = unanswered), ``scale``
is the scale's definition (normalised, see ``definition.normalise``). None means
"not enough answers to score" and is never replaced by a guess.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from surveyhub.measures.definition import item_range, reverse_code

Values = Mapping[str, float | None]
ScoringMethod = Callable[[Values, dict], float | None]


def _answered(values: Values) -> list[float]:
    # NaN is how pandas and spreadsheets spell an empty cell; it means unanswered.
    return [float(v) for v in values.values() if v is not None and not math.isnan(v)]


def _min_answered(scale: dict) -> int:
    scoring = scale.get("scoring") or {}
    return max(1, int(scoring.get("min_answered", 1)))


def score_mean(values: Values, scale: dict) -> float | None:
    """Mean of the answered items; None when fewer than ``min_answered`` are answered."""
    answered = _answered(values)
    if len(answered) < _min_answered(scale):
        return None
    return math.fsum(answered) / len(answered)


def score_sum(values: Values, scale: dict) -> float | None:
    """Prorated sum: the mean of the answered items times the number of items in the scale.

    A plain sum over answered items would make a resident who skipped one item
    look worse than one who answered everything, whenever ``min_answered`` is
    below the item count. Prorating keeps scores comparable; with every item
    answered it equals the plain sum. None below ``min_answered``.
    """
    mean = score_mean(values, scale)
    if mean is None:
        return None
    n_items = len(scale.get("items") or ()) or len(values)
    return mean * n_items


BUILTIN_METHODS: dict[str, ScoringMethod] = {"mean": score_mean, "sum": score_sum}


def coded_values(scale: dict, answers: Mapping[str, Any], answer_sets: dict | None) -> dict[str, float | None]:
    """The scale's item values ready for a scoring method: numeric, reverse coded where marked.

    Only the scale's own items are returned (others in ``answers`` are ignored);
    a missing, None or NaN answer, or a text, stays None. Values are assumed to be within
    the item's range: answers are checked where they come in (form, import).
    """
    coded: dict[str, float | None] = {}
    for item in scale.get("items", ()):
        value = answers.get(item["id"])
        # A text in a scored item is an answer a broken question type could not code
        # (kept as the resident sent it): unanswered for scoring, never a made-up number.
        if value is None or isinstance(value, str) or (isinstance(value, float) and math.isnan(value)):
            coded[item["id"]] = None
            continue
        value = float(value)
        if item.get("reverse"):
            bounds = item_range(item, answer_sets)
            if bounds is None:  # validation refuses this, so reaching it is a bug
                raise ValueError(f"item {item['id']!r} is marked reverse but has no range")
            value = reverse_code(value, *bounds)
        coded[item["id"]] = value
    return coded


def score_scale(
    scale: dict,
    answers: Mapping[str, Any],
    answer_sets: dict | None,
    methods: Mapping[str, ScoringMethod] = BUILTIN_METHODS,
) -> float | None:
    """Reverse code the answers and apply the scale's scoring method.

    ``methods`` is the installed set (built-ins plus plugins); an unknown
    method raises KeyError because validation should have refused it.
    """
    method = (scale.get("scoring") or {}).get("method", "mean")
    return methods[method](coded_values(scale, answers, answer_sets), scale)


def level_for(score: float | None, scale: dict) -> dict | None:
    """The highest level whose ``min`` the score reaches (levels are sorted), or None."""
    if score is None:
        return None
    reached = [level for level in scale.get("levels") or () if score >= level["min"]]
    return reached[-1] if reached else None


# --- the scale's range and "did the resident grow?" -------------------------------------------------

#: Growth a certificate or thank-you page calls "grown": this share of the scale's range
#: (a sixteenth: 0.25 on a 1–5 scale, 2.5 on a 0–40 sum).
GROWTH_SHARE = 0.0625
#: For a scale whose range is unknown (a plugin's scoring method): the 1–5 scale's step.
GROWTH_WITHOUT_RANGE = 0.25

#: A fallback for items ``item_range`` does not know (plugin question types): item -> (low, high) or None.
ItemRange = Callable[[dict], "tuple[float, float] | None"]


def score_range(scale: dict, answer_sets: dict | None, other: ItemRange | None = None) -> tuple[float, float] | None:
    """The lowest and highest score the scale can give: for ``mean`` and ``sum`` scoring, else None.

    The one computation of a scale's range, for the report's ``range``, the charts'
    axes and the growth rule. A mean spans the widest item range; a (prorated)
    sum spans it times the number of items. None when any item's range is unknown.
    """
    method = (scale.get("scoring") or {}).get("method", "mean")
    if method not in ("mean", "sum") or not scale.get("items"):
        return None
    bounds = []
    for item in scale["items"]:
        found = item_range(item, answer_sets or {})
        if found is None and other is not None:
            found = other(item)
        if found is None:
            return None
        bounds.append((float(found[0]), float(found[1])))
    low, high = min(b[0] for b in bounds), max(b[1] for b in bounds)
    factor = len(bounds) if method == "sum" else 1
    return low * factor, high * factor


def growth_threshold(bounds: tuple[float, float] | None) -> float:
    """The smallest change that counts as growth on a scale with these bounds.

    Scaled by the range, not a fixed 0.25: the same answers scored as a mean
    (1–5) or as a sum of eight items (8–40) must give the same verdict, and a
    0–10 rating should need as large a share of its range as a 1–5 agreement
    scale. A fixed 0.25 would call a 40-point sum "grown" after a fraction of
    one answer, and a 0–1 scale only after a quarter of its whole range.
    """
    if bounds is None or not bounds[1] > bounds[0]:
        return GROWTH_WITHOUT_RANGE
    return GROWTH_SHARE * (bounds[1] - bounds[0])


def grew(start: float | None, now: float | None, higher_is_better: bool,
         bounds: tuple[float, float] | None) -> bool:
    """Whether a resident grew from ``start`` to ``now``: in the scale's good direction, by at least
    :func:`growth_threshold`. Unknown scores never count as growth."""
    if start is None or now is None:
        return False
    change = (now - start) if higher_is_better else (start - now)
    return change >= growth_threshold(bounds)
