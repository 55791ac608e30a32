"""The per-scale block of the funder report, with small numbers suppressed.

Suppression here means the numbers are *gone* (None), not merely hidden by a
template: whatever renders or exports the block cannot leak them.
"""

from __future__ import annotations

import numpy as np

from ._numeric import finite_array, is_number
from .disclosure import suppress_count, suppress_counts
from .intervals import d_z_interval, wilson_interval
from .paired import paired_change
from .reliable_change import RCI_CATEGORIES, rci_parameters, reliable_change

#: What each name in a block's ``suppressed`` list stands for.
SUPPRESSION_NAMES = {
    "means": "fewer pairs than min_means: means, SDs, CI, all reliable-change figures and the ceiling count",
    "tests": "fewer pairs than min_tests (or min_means): t, df, p, Wilcoxon p, effect sizes and their "
             "intervals, and also the SD and 95% CI of the change (mean, SD and n together give t back)",
    "counts": "at least one count of residents (reliable change, at the ceiling) shown as '<N' (or '≥N' to "
              "protect it); a share of residents is shown only beside a plain count",
}

#: How close to the scale's highest score a baseline counts as "at the ceiling":
#: far below any real step on a questionnaire, far above rounding noise.
CEILING_TOL = 1e-9


def build_scale_block(
    pre: list[float],
    post: list[float],
    *,
    min_means: int = 5,
    min_tests: int = 10,
    min_cell: int = 5,
    norms: dict | None = None,
    pre_alpha: float | None = None,
    pre_wave: list[float] | None = None,
    higher_is_better: bool = True,
    ceiling: float | None = None,
) -> dict:
    """Change on one scale, as the report shows it.

    :param pre: paired pre scores; ``post[i]`` is the same resident's post score.
    :param min_means: fewer pairs than this: no means, SDs, CI or RCI figures.
    :param min_tests: fewer pairs than this (or than min_means): no tests,
        no effect sizes.
    :param min_cell: reliable-change counts below this are shown as "<N".
    :param norms: the scale's norms (``sd``, ``reliability``), if any.
    :param pre_alpha: Cronbach's alpha of the pre wave, the fallback reliability.
    :param pre_wave: every pre-wave score, paired or not, for the fallback SD
        of reliable change; defaults to ``pre``.
    :param higher_is_better: the scale's direction.
    :param ceiling: the highest score the scale can give (None: unknown).
    :returns: the :func:`~surveyhub.stats.paired.paired_change` keys plus
        ``effect_size.d_z_ci95`` (noncentral t), ``rci: {s_diff, improved,
        unchanged, deteriorated, improved_share, improved_ci95, sd_source,
        r_source}``, ``baseline_ceiling: {count, share}`` (pairs whose
        baseline is the highest score) and ``suppressed`` (names from
        :data:`SUPPRESSION_NAMES`).
    """
    for name, value in (("min_means", min_means), ("min_tests", min_tests), ("min_cell", min_cell)):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a whole number ≥ 0, got {value!r}")
    block = paired_change(pre, post)
    n = block["n_pairs"]
    block["effect_size"]["d_z_ci95"] = d_z_interval(block["test"]["t"], n)
    block["rci"], counts_hidden = _rci_block(
        pre, post, norms, pre_alpha, pre_wave, higher_is_better, min_cell
    )
    block["baseline_ceiling"] = _ceiling_block(pre, n, ceiling, min_cell)
    counts_hidden = counts_hidden or isinstance(block["baseline_ceiling"]["count"], str)
    suppressed = []
    if n < min_means:
        _blank_means(block)
        suppressed.append("means")
    if n < max(min_means, min_tests):
        _blank_tests(block)
        suppressed.append("tests")
    if counts_hidden and "means" not in suppressed:
        suppressed.append("counts")
    block["suppressed"] = suppressed
    return block


def share_of(count: int | str | None, n: int) -> float | None:
    """``count / n`` when the count is shown as a plain number; a share never reveals a hidden count."""
    if isinstance(count, bool) or not isinstance(count, int) or n <= 0:
        return None
    return count / n


def _ceiling_block(pre, n: int, ceiling, min_cell) -> dict:
    """Residents whose baseline is the scale's highest score: they had no room to improve.

    ``pre`` was checked by paired_change already (finite numbers, ``n`` of them).
    """
    if not is_number(ceiling):
        return {"count": None, "share": None}
    at_top = int((np.asarray(pre, dtype=float) >= float(ceiling) - CEILING_TOL).sum())
    count = suppress_count(at_top, min_cell)
    return {"count": count, "share": share_of(count, n)}


def _rci_block(pre, post, norms, pre_alpha, pre_wave, higher_is_better, min_cell):
    """The rci block, and whether any of its counts had to be hidden."""
    changes = finite_array(post, "post") - finite_array(pre, "pre")
    params = rci_parameters(norms, pre if pre_wave is None else pre_wave, pre_alpha)
    rc = reliable_change(list(changes), params["s_diff"], higher_is_better)
    counts = suppress_counts({c: rc[c] for c in RCI_CATEGORIES}, min_cell)
    hidden = any(isinstance(value, str) for value in counts.values())
    n = int(changes.size)
    improved = counts["improved"]
    shown = isinstance(improved, int) and not isinstance(improved, bool)
    rci = {
        "s_diff": rc["s_diff"],
        **counts,
        "improved_share": share_of(improved, n),
        "improved_ci95": wilson_interval(improved, n) if shown and n else None,  # type: ignore[arg-type]
        "sd_source": params["sd_source"],
        "r_source": params["r_source"],
    }
    return rci, hidden


def _blank_means(block: dict) -> None:
    for part in ("pre", "post", "change"):
        for key in block[part]:
            block[part][key] = None
    for key in ("s_diff", *RCI_CATEGORIES, "improved_share", "improved_ci95"):
        block["rci"][key] = None
    block["baseline_ceiling"] = {"count": None, "share": None}


def _blank_tests(block: dict) -> None:
    for part in ("test", "effect_size"):
        for key in block[part]:
            block[part][key] = None
    # With the mean shown, its SD (or CI) and n would give t, and so p, back.
    block["change"]["sd"] = block["change"]["ci95"] = None
