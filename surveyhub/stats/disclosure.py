"""Small-number suppression for anything a funder sees.

Community projects are small and residents know each other: "2 residents
deteriorated" can point at a person. Counts below a threshold are shown as
"<N" (N the threshold), and a lone hidden count is protected from being
worked out by subtraction.
"""

from __future__ import annotations


def suppress_count(n: int | None, min_cell: int = 5) -> int | str | None:
    """``n`` as it may be shown: itself, or ``"<{min_cell}"`` when 0 < n < min_cell.

    Zero is shown as 0: "nobody deteriorated" describes no one and is the
    answer funders most often look for. None stays None.
    """
    if n is None:
        return None
    if n < 0:
        raise ValueError(f"a count cannot be negative, got {n}")
    if 0 < n < min_cell:
        return f"<{min_cell}"
    return n


def suppress_counts(
    counts: dict[str, int | None], min_cell: int = 5, complementary: bool = True
) -> dict[str, int | str | None]:
    """Apply :func:`suppress_count` to counts that add up to a shown total.

    When exactly one count is hidden, anyone can recover it by subtracting
    the others from the total (e.g. n_pairs). With ``complementary`` the
    smallest other count is hidden too, as ``"<{min_cell}"`` if it is below
    the threshold (0 included) or ``"≥{min_cell}"`` if not, so every shown
    value stays true while neither hidden one can be worked out.
    """
    shown = {name: suppress_count(count, min_cell) for name, count in counts.items()}
    hidden = [name for name, value in shown.items() if isinstance(value, str)]
    if not complementary or len(hidden) != 1:
        return shown
    others = sorted(
        (count, name)
        for name, count in counts.items()
        if count is not None and name not in hidden
    )
    if others:
        count, name = others[0]
        shown[name] = f"<{min_cell}" if count < min_cell else f"≥{min_cell}"
    return shown
