"""Multiple testing: a project tests several skills at once.

With five skills at p < .05 each, the chance that at least one looks
"significant" by luck alone is far above 5%. Holm's step-down method keeps
that family-wise error at 5% and is never less powerful than Bonferroni.
A primary outcome named before the data came in is tested on its own (its p
is not adjusted); the other skills form the family.
"""

from __future__ import annotations

from ._numeric import is_number

#: What the method appendix says about multiple testing.
MULTIPLE_TESTING = (
    "Holm's step-down adjustment (Holm 1979) across the skills of one comparison list "
    "(scales, retrospective, followup and persistence each on their own): sort the m available p-values, "
    "multiply the i-th smallest by m − i + 1, carry the running maximum, cap at 1 "
    "(R: p.adjust(p, method = \"holm\")). Skills whose p is not shown (too few pairs, no variation) "
    "are left out of m. When the project names a primary outcome, that skill keeps its own p "
    "(p_holm = p) and the other skills are adjusted among themselves."
)


def holm(pvalues: list[float | None], primary: int | None = None) -> list[float | None]:
    """Holm-adjusted p-values, in input order; None stays None.

    :param pvalues: one p per test; None means not tested, and is left out of
        the family (it does not raise m).
    :param primary: index of the primary outcome: its p is returned as it is
        and it is left out of the family of the others.
    :raises ValueError: for a p outside [0, 1] or a primary index out of range.
    """
    if primary is not None and not 0 <= primary < len(pvalues):
        raise ValueError(f"primary index {primary} is out of range for {len(pvalues)} p-values")
    for p in pvalues:
        if p is not None and (not is_number(p) or not 0.0 <= float(p) <= 1.0):
            raise ValueError(f"a p-value must lie in [0, 1], got {p!r}")
    adjusted: list[float | None] = [None] * len(pvalues)
    family = sorted((float(p), i) for i, p in enumerate(pvalues) if p is not None and i != primary)
    m = len(family)
    running = 0.0
    for rank, (p, i) in enumerate(family):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    if primary is not None and pvalues[primary] is not None:
        adjusted[primary] = float(pvalues[primary])  # type: ignore[arg-type]
    return adjusted
