"""Pairing pre and post responses of the same resident.

Residents are linked either by participant (a personal link token) or by a
self-generated code: six short answers a resident can reproduce from memory
("first letter of your mother's first name", ...). Codes are typed on phones,
so one slip is common; a fuzzy match is accepted only when it is unambiguous
both ways, and the caller is told how many pairs were fuzzy so the report can
say so. A worker who knows the residents may confirm a pair (then it is no
longer fuzzy) or undo it (then it is never made).
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


def match_codes(
    pre: dict[str, Code],
    post: dict[str, Code],
    *,
    confirmed: Iterable[tuple[str, str]] = (),
    undone: Iterable[tuple[str, str]] = (),
) -> dict:
    """Pair pre and post responses by their self-generated codes.

    :param pre: response id → normalised code, for the pre wave.
    :param post: response id → normalised code, for the post wave.
    :param confirmed: (pre id, post id) pairs a worker confirmed as one resident.
    :param undone: (pre id, post id) pairs a worker said are two residents.
    :raises ValueError: when the codes are not all the same length.
    :returns: ``{"pairs": [(pre_id, post_id, fuzzy)], "confirmed", "unmatched_pre",
        "unmatched_post", "ambiguous", "n_fuzzy"}``, all sorted; ``confirmed``
        lists the confirmed pairs that were made (in ``pairs`` with fuzzy False).

    Rules, in order:

    0. A worker's decision comes first. A confirmed pair is made whatever the
       codes (each response in at most one confirmed pair; the first in sorted
       order wins), and its responses take no further part: they neither pair
       again nor make a code ambiguous. An undone pair is never made, by exact
       or by fuzzy match; each of its two responses may still find another partner
       under the rules below.
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
    chosen = _confirmed_pairs(pre, post, confirmed)
    decided_pre = {pair[0] for pair in chosen}
    decided_post = {pair[1] for pair in chosen}
    pre_index = _index({key: code for key, code in pre.items() if key not in decided_pre})
    post_index = _index({key: code for key, code in post.items() if key not in decided_post})
    ambiguous = {
        code
        for code in set(pre_index) | set(post_index)
        if len(pre_index.get(code, ())) > 1 or len(post_index.get(code, ())) > 1
    }
    # An undone pair of two responses that each hold their code alone: that code pair is no match.
    refused = {(pre[a], post[b]) for a, b in set(undone) if a in pre and b in post
               and pre_index.get(pre[a]) == [a] and post_index.get(post[b]) == [b]}
    paired_codes = {code for code in pre_index
                    if code in post_index and code not in ambiguous and (code, code) not in refused}
    pairs = [(pre_index[code][0], post_index[code][0], False) for code in paired_codes]
    pairs += _fuzzy_pairs(pre_index, post_index, paired_codes, ambiguous, refused)
    pairs += [(a, b, False) for a, b in chosen]
    pairs.sort()
    paired_pre = {pair[0] for pair in pairs}
    paired_post = {pair[1] for pair in pairs}
    return {
        "pairs": pairs,
        "confirmed": sorted(chosen),
        "unmatched_pre": sorted(key for key in pre if key not in paired_pre),
        "unmatched_post": sorted(key for key in post if key not in paired_post),
        "ambiguous": sorted(ambiguous),
        "n_fuzzy": sum(1 for pair in pairs if pair[2]),
    }


def _confirmed_pairs(
    pre: dict[str, Code], post: dict[str, Code], confirmed: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The confirmed pairs whose responses both exist, each response used once (sorted order decides)."""
    chosen, used_pre, used_post = [], set(), set()
    for a, b in sorted(set(confirmed)):
        if a in pre and b in post and a not in used_pre and b not in used_post:
            chosen.append((a, b))
            used_pre.add(a)
            used_post.add(b)
    return chosen


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
    refused: set[tuple[Code, Code]],
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
        candidates = {code for code in _one_apart(post_code, pre_neighbours) if (code, post_code) not in refused}
        if len(candidates) != 1:
            continue
        (pre_code,) = candidates
        if pre_code in ambiguous:
            continue
        partners = {code for code in _one_apart(pre_code, post_neighbours) if (pre_code, code) not in refused}
        if partners == {post_code}:
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
