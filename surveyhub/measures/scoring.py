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
