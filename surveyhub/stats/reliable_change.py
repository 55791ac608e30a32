"""Reliable change per resident (Jacobson & Truax 1991).

A resident's change counts as reliable when it is larger than measurement
error alone would plausibly produce: |change| / S_diff > 1.96, where
S_diff = SD_pre · √2 · √(1 − r). The report shows how many residents improved,
stayed the same or deteriorated by that standard.
"""

from __future__ import annotations

import math

from ._numeric import finite_array, is_number
from .descriptive import describe

#: |RC| above this is reliable change (two-sided 5% under the normal curve).
RCI_CRITICAL = 1.96

#: The classes a resident's change falls into, in report order.
RCI_CATEGORIES = ("improved", "unchanged", "deteriorated")


def rci_s_diff(sd_pre: float | None, r: float | None) -> float | None:
    """Standard error of the difference, ``sd_pre · √2 · √(1 − r)``.

    None when sd_pre is missing or not positive, or r is missing or outside
    [−1, 1): with r = 1 there is no measurement error to compare against.
    """
    if not is_number(sd_pre) or not is_number(r):
        return None
    sd_pre, r = float(sd_pre), float(r)  # type: ignore[arg-type]
    if sd_pre <= 0.0 or not -1.0 <= r < 1.0:
        return None
    return sd_pre * math.sqrt(2.0) * math.sqrt(1.0 - r)


def reliable_change_index(change: float, s_diff: float | None) -> float | None:
    """RC = change / S_diff for one resident, or None without a usable S_diff."""
    if not is_number(s_diff) or float(s_diff) <= 0.0:  # type: ignore[arg-type]
        return None
    return float(change) / float(s_diff)  # type: ignore[arg-type]


def reliable_change(
    changes: list[float], s_diff: float | None, higher_is_better: bool = True
) -> dict:
    """Classify each resident's change (post − pre) as reliable or not.

    :param changes: one post − pre change per paired resident.
    :param s_diff: from :func:`rci_s_diff`; None means reliable change cannot
        be judged, and every count and classification is None.
    :param higher_is_better: the scale's direction; when False a reliable
        rise counts as deteriorated.
    :raises ValueError: for None/NaN in ``changes`` or an s_diff that is
        given but not a positive number.
    :returns: ``{"s_diff", "improved", "unchanged", "deteriorated",
        "per_person"}``; counts are ints; per_person holds one class name per change, in input
        order.
    """
    arr = finite_array(changes, "changes")
    if s_diff is None:
        unjudged = [None] * int(arr.size)
        return {"s_diff": None, **dict.fromkeys(RCI_CATEGORIES), "per_person": unjudged}
    if not is_number(s_diff) or float(s_diff) <= 0.0:
        raise ValueError(f"s_diff must be a positive number or None, got {s_diff!r}")
    per_person = [_classify(float(c) / float(s_diff), higher_is_better) for c in arr]
    counts = {category: per_person.count(category) for category in RCI_CATEGORIES}
    return {"s_diff": float(s_diff), **counts, "per_person": per_person}


def _classify(rc: float, higher_is_better: bool) -> str:
    if abs(rc) <= RCI_CRITICAL:
        return "unchanged"
    return "improved" if (rc > 0) == higher_is_better else "deteriorated"


def rci_parameters(
    norms: dict | None, pre_scores: list[float], pre_alpha: float | None
) -> dict:
    """Choose the SD and reliability for reliable change, and say where each came from.

    Each is taken from the scale's norms where given (keys ``sd`` and
    ``reliability``), else from the data: the SD of ``pre_scores`` and the
    pre wave's Cronbach's alpha.

    :raises ValueError: when a norm is present but not a finite number.
    :returns: ``{"sd", "r", "sd_source", "r_source", "s_diff"}``; a source is
        "norms" or "data", or None when no value exists; s_diff is None when
        either value is missing or unusable.
    """
    norms = norms or {}
    sd: float | None
    sd_source: str | None
    r: float | None
    r_source: str | None
    if norms.get("sd") is not None:
        sd, sd_source = _norm_value(norms, "sd"), "norms"
    else:
        sd = describe(pre_scores)["sd"]
        sd_source = "data" if sd is not None else None
    if norms.get("reliability") is not None:
        r, r_source = _norm_value(norms, "reliability"), "norms"
    else:
        r = float(pre_alpha) if is_number(pre_alpha) else None  # type: ignore[arg-type]
        r_source = "data" if r is not None else None
    return {
        "sd": sd,
        "r": r,
        "sd_source": sd_source,
        "r_source": r_source,
        "s_diff": rci_s_diff(sd, r),
    }


def _norm_value(norms: dict, key: str) -> float:
    # Norms come from instrument files; a non-number there is a broken
    # instrument, which must fail loudly rather than silently drop the RCI.
    if not is_number(norms[key]):
        raise ValueError(f"norms {key!r} must be a finite number, got {norms[key]!r}")
    return float(norms[key])
