"""The per-scale block of the funder report, with small numbers suppressed.

Suppression here means the numbers are *gone* (None), not merely hidden by a
template: whatever renders or exports the block cannot leak them.
"""

from __future__ import annotations

from ._numeric import finite_array
from .disclosure import suppress_counts
from .paired import paired_change
from .reliable_change import RCI_CATEGORIES, rci_parameters, reliable_change

#: What each name in a block's ``suppressed`` list stands for.
SUPPRESSION_NAMES = {
    "means": "fewer pairs than min_means: means, SDs, CI and all reliable-change figures",
    "tests": "fewer pairs than min_tests (or min_means): t, df, p, Wilcoxon p, effect sizes",
    "counts": "at least one reliable-change count shown as '<N' (or '≥N' to protect it)",
}


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
    :returns: the :func:`~surveyhub.stats.paired.paired_change` keys plus
        ``rci: {s_diff, improved, unchanged, deteriorated, sd_source,
        r_source}`` and ``suppressed`` (names from :data:`SUPPRESSION_NAMES`).
    """
    for name, value in (("min_means", min_means), ("min_tests", min_tests), ("min_cell", min_cell)):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a whole number ≥ 0, got {value!r}")
    block = paired_change(pre, post)
    n = block["n_pairs"]
    block["rci"], counts_hidden = _rci_block(
        pre, post, norms, pre_alpha, pre_wave, higher_is_better, min_cell
    )
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


def _rci_block(pre, post, norms, pre_alpha, pre_wave, higher_is_better, min_cell):
    """The rci block, and whether any of its counts had to be hidden."""
    changes = finite_array(post, "post") - finite_array(pre, "pre")
    params = rci_parameters(norms, pre if pre_wave is None else pre_wave, pre_alpha)
    rc = reliable_change(list(changes), params["s_diff"], higher_is_better)
    counts = suppress_counts({c: rc[c] for c in RCI_CATEGORIES}, min_cell)
    hidden = any(isinstance(value, str) for value in counts.values())
    rci = {
        "s_diff": rc["s_diff"],
        **counts,
        "sd_source": params["sd_source"],
        "r_source": params["r_source"],
    }
    return rci, hidden


def _blank_means(block: dict) -> None:
    for part in ("pre", "post", "change"):
        for key in block[part]:
            block[part][key] = None
    for key in ("s_diff", *RCI_CATEGORIES):
        block["rci"][key] = None


def _blank_tests(block: dict) -> None:
    for part in ("test", "effect_size"):
        for key in block[part]:
            block[part][key] = None
