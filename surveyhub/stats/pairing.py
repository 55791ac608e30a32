"""Pairing pre and post responses of the same resident.

Residents are linked either by participant (a personal link token) or by a
self-generated code: six short answers a resident can reproduce from memory
("first letter of your mother's first name", ...). Codes are typed on phones,
so one slip is common; a fuzzy match is accepted only when it is unambiguous
both ways, and the caller is told how many pairs were fuzzy so the report can
say so.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Hashable, Iterable

from ._numeric import is_number

Code = tuple[str, ...]


def normalise_code(parts: Iterable[str | None]) -> Code:
    """Code parts as compared: NFKC, trimmed, inner whitespace collapsed, case-folded.

    NFKC because the same letter can arrive precomposed from one phone and
    as letter + accent from another. None counts as an empty part.
    """
    return tuple(
        " ".join(unicodedata.normalize("NFKC", str(part)).split()).casefold()
        if part is not None
        else ""
        for part in parts
    )


def match_codes(pre: dict[str, Code], post: dict[str, Code]) -> dict:
    """Pair pre and post responses by their self-generated codes.

    :param pre: response id → normalised code, for the pre wave.
    :param post: response id → normalised code, for the post wave.
    :raises ValueError: when the codes are not all the same length.
    :returns: ``{"pairs": [(pre_id, post_id, fuzzy)], "unmatched_pre",
        "unmatched_post", "ambiguous", "n_fuzzy"}``, all sorted.

    Rules, in order:

    1. A code held by more than one response on either side is *ambiguous*:
       none of its responses is paired. ``ambiguous`` lists these codes.
    2. A code held by exactly one pre and one post response pairs them.
    3. A left-over post code is paired with a left-over pre code that differs
       in exactly one part, only when each is the other's only such
       candidate. Ambiguous codes count as candidates here (they could be
       the right partner), so they block a fuzzy match rather than make one.

    A code whose parts are all empty identifies nobody and is never paired.
    Unpaired responses, including those with ambiguous codes, are listed in
    ``unmatched_pre`` / ``unmatched_post``.
    """
    _check_lengths(pre, post)
    pre_index, post_index = _index(pre), _index(post)
    ambiguous = {
        code
        for code in set(pre_index) | set(post_index)
        if len(pre_index.get(code, ())) > 1 or len(post_index.get(code, ())) > 1
    }
    paired_codes = {code for code in pre_index if code in post_index and code not in ambiguous}
    pairs = [(pre_index[code][0], post_index[code][0], False) for code in paired_codes]
    pairs += _fuzzy_pairs(pre_index, post_index, paired_codes, ambiguous)
    pairs.sort()
    paired_pre = {pair[0] for pair in pairs}
    paired_post = {pair[1] for pair in pairs}
    return {
        "pairs": pairs,
        "unmatched_pre": sorted(key for key in pre if key not in paired_pre),
        "unmatched_post": sorted(key for key in post if key not in paired_post),
        "ambiguous": sorted(ambiguous),
        "n_fuzzy": sum(1 for pair in pairs if pair[2]),
    }


def _check_lengths(pre: dict[str, Code], post: dict[str, Code]) -> None:
    lengths = {len(code) for code in (*pre.values(), *post.values())}
    if len(lengths) > 1:
        raise ValueError(f"codes must all have the same number of parts, found {sorted(lengths)}")


def _index(responses: dict[str, Code]) -> dict[Code, list[str]]:
    """Code → sorted response ids holding it; blank codes are left out."""
    index: dict[Code, list[str]] = defaultdict(list)
    for key, code in responses.items():
        if any(code):
            index[tuple(code)].append(key)
    return {code: sorted(keys) for code, keys in index.items()}


def _fuzzy_pairs(
    pre_index: dict[Code, list[str]],
    post_index: dict[Code, list[str]],
    paired_codes: set[Code],
    ambiguous: set[Code],
) -> list[tuple[str, str, bool]]:
    # Codes already paired exactly have their partner; every other code,
    # ambiguous or not, stays in play as a candidate.
    pre_open = {code for code in pre_index if code not in paired_codes}
    post_open = {code for code in post_index if code not in paired_codes}
    pre_neighbours, post_neighbours = _masks(pre_open), _masks(post_open)
    pairs = []
    for post_code in sorted(post_open):
        if post_code in ambiguous:
            continue
        candidates = _one_apart(post_code, pre_neighbours)
        if len(candidates) != 1:
            continue
        (pre_code,) = candidates
        if pre_code in ambiguous:
            continue
        if _one_apart(pre_code, post_neighbours) == {post_code}:
            pairs.append((pre_index[pre_code][0], post_index[post_code][0], True))
    return pairs


def _masks(codes: Iterable[Code]) -> dict[tuple, set[Code]]:
    """For each code and position, the code with that position blanked out.

    Two different codes share a masked form exactly when they differ in that
    one position, which finds all one-part neighbours without comparing every
    pre code with every post code.
    """
    index: dict[tuple, set[Code]] = defaultdict(set)
    for code in codes:
        for i in range(len(code)):
            index[(i, code[:i] + code[i + 1 :])].add(code)
    return index


def _one_apart(code: Code, masks: dict[tuple, set[Code]]) -> set[Code]:
    found: set[Code] = set()
    for i in range(len(code)):
        found |= masks.get((i, code[:i] + code[i + 1 :]), set())
    found.discard(code)
    return found


def pair_by_participant(
    pre: dict[Hashable, float | None], post: dict[Hashable, float | None]
) -> list[tuple[Hashable, float, float]]:
    """(participant, pre score, post score) for everyone scored in both waves.

    A None score (not enough items answered) leaves that participant out.
    :raises ValueError: for a score that is not a finite number.
    """
    pairs = []
    for key in sorted(set(pre) & set(post)):  # type: ignore[type-var]  # keys are all ids or all codes: orderable
        before, after = pre[key], post[key]
        if before is None or after is None:
            continue
        if not (is_number(before) and is_number(after)):
            raise ValueError(f"participant {key!r} has a score that is not a number")
        pairs.append((key, float(before), float(after)))
    return pairs
