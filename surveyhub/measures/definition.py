"""Instrument definitions as data: the one shape every part of SurveyHub reads.

A definition is a plain dict in the YAML form of DESIGN.md. This module knows
its shape: how to walk a (possibly invalid) definition, how to fill in the
defaults of a valid one (``normalise``), an item's range, reverse coding, the
digest that pins a version, and how a translated text is read. Loading YAML
lives in ``yaml_loader``, checking in ``validation``; both build on this.
Pure data code: no Flask, no database.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, TypeGuard

#: Digits in a number: more is a typing accident (and Python refuses to read over 4,300 of them).
MAX_DIGITS = 18
BUILTIN_TYPES = frozenset({"choice", "number", "text", "yes_no"})
FALLBACK_LANGUAGE = "nl"

Path_ = tuple[str | int, ...]
Problem = tuple[Path_, str]


class InstrumentError(Exception):
    """An instrument definition cannot be used; ``errors`` lists every reason."""

    def __init__(self, errors: Iterable[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))

    def __str__(self) -> str:
        return "\n".join(self.errors)


class HugeNumber(str):
    """A number with more than ``MAX_DIGITS`` digits, kept as its first digits: validation reports it."""


def path_text(path: Iterable[str | int]) -> str:
    """``("scales", 1, "items")`` -> ``scales[1].items``; the empty path is ``(root)``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{str(part)!r}]"
    return out or "(root)"


# --- walking a (possibly invalid) definition -----------------------------------

def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def is_number(value: Any) -> TypeGuard[float]:
    """A number an author wrote (``True`` is not one); ints count, as in JSON."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def scales_of(data: dict) -> Iterator[tuple[Path_, dict]]:
    for i, scale in enumerate(as_list(data.get("scales"))):
        if isinstance(scale, dict):
            yield ("scales", i), scale


def items_of(data: dict) -> Iterator[tuple[Path_, dict, bool]]:
    """Every item with its path and whether it is scored (in a scale) or not (in questions)."""
    for path, scale in scales_of(data):
        for j, item in enumerate(as_list(scale.get("items"))):
            if isinstance(item, dict):
                yield path + ("items", j), item, True
    for k, item in enumerate(as_list(data.get("questions"))):
        if isinstance(item, dict):
            yield ("questions", k), item, False


def translations_of(data: dict) -> Iterator[tuple[Path_, dict]]:
    """Every translated text in the definition, with its path."""
    places: list[tuple[Path_, Any]] = [(("title",), data.get("title")), (("description",), data.get("description"))]
    for name, options in as_dict(data.get("answer_sets")).items():
        places += [(("answer_sets", name, i, "label"), o.get("label"))
                   for i, o in enumerate(as_list(options)) if isinstance(o, dict)]
    for path, scale in scales_of(data):
        places += [(path + (key,), scale.get(key)) for key in ("title", "description", "retrospective")]
        places += [(path + ("levels", i, "label"), lv.get("label"))
                   for i, lv in enumerate(as_list(scale.get("levels"))) if isinstance(lv, dict)]
    for path, item, _ in items_of(data):
        places += [(path + (key,), item.get(key)) for key in ("text", "help", "retrospective_text")]
    yield from ((path, text) for path, text in places if isinstance(text, dict))


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    names = {list: "a list", str: "a string", int: "a number", float: "a number", dict: "a mapping"}
    return names.get(type(value), type(value).__name__)


# --- using a valid definition ---------------------------------------------------

def normalise(data: dict) -> dict:
    """A copy of a valid definition with every default filled in, so callers never guess."""
    out = copy.deepcopy(data)
    out["version"] = int(out["version"])  # JSON Schema's "integer" also admits 1.0
    out.setdefault("answer_sets", {})
    out.setdefault("questions", [])
    for scale in out["scales"]:
        scale.setdefault("higher_is_better", True)
        scoring = scale.setdefault("scoring", {})
        scoring.setdefault("method", "mean")
        scoring.setdefault("min_answered", 1)
        if not scale.get("norms"):
            scale["norms"] = {}  # null and {} both mean "no norms"
        scale.setdefault("levels", [])
        for item in scale["items"]:
            _normalise_item(item)
    for item in out["questions"]:
        _normalise_item(item)
    return out


def _normalise_item(item: dict) -> None:
    item.setdefault("reverse", False)
    item.setdefault("required", False)


def item_range(item: dict, answer_sets: dict | None) -> tuple[float, float] | None:
    """The lowest and highest value an item can take, or None when it has no numeric range."""
    kind = item.get("type")
    if kind == "text":
        return None
    if kind == "yes_no":
        return (0, 1)
    name = item.get("answer_set")
    if name is not None:  # also serves plugin types that reuse answer sets
        options = (answer_sets or {}).get(name) if isinstance(answer_sets, dict) else None
        values = [v for o in as_list(options) if isinstance(o, dict) and is_number(v := o.get("value"))]
        return (min(values), max(values)) if values else None
    low, high = item.get("min"), item.get("max")
    return (low, high) if is_number(low) and is_number(high) else None


def reverse_code(value: float, lo: float, hi: float) -> float:
    """Mirror a value within its range: lo becomes hi and hi becomes lo."""
    return lo + hi - value


def definition_digest(data: dict) -> str:
    """SHA-256 of the normalised definition as canonical JSON.

    Normalising first means spelling out a default (``reverse: false``) does not
    count as a change; any real change under the same id and version does.
    ``can_do`` (certificate wording) and ``translation_status`` (whether a
    native speaker has checked a translation yet) are left out: they change no
    question, answer or score, so adding them to a version already in use needs
    no new version.
    """
    canonical = json.dumps(_without_wording(normalise(data)), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _without_wording(data: dict) -> dict:
    """``data`` without ``translation_status`` and the ``can_do`` keys of its scales and items (see
    ``definition_digest``)."""
    data.pop("translation_status", None)
    for scale in data["scales"]:
        scale.pop("can_do", None)
        for item in scale["items"]:
            item.pop("can_do", None)
    return data


FORM_LENGTHS = ("full", "short")


def has_short_form(data: dict) -> bool:
    """True when at least one scale names a short form (``short_form``: a list of its item ids)."""
    return any(scale.get("short_form") for scale in data.get("scales") or [])


def short_form(data: dict) -> dict:
    """The instrument as its short form: each scale keeps only the items its ``short_form`` lists.

    A scale without a short form keeps all items. ``min_answered`` shrinks with
    the scale in the same proportion (rounded up, at least 1), so the short
    form asks the same share of answers before it scores. Published norms were
    measured on the full form and are dropped: reliable change then uses the
    project's own start wave, as for any instrument without norms.
    Returns a new dict; ``data`` is not changed.
    """
    result = copy.deepcopy(data)
    for scale in result.get("scales") or []:
        keep = scale.get("short_form")
        if not keep:
            continue
        full = len(scale["items"])
        scale["items"] = [item for item in scale["items"] if item["id"] in keep]
        scoring = scale.get("scoring")
        if isinstance(scoring, dict) and isinstance(scoring.get("min_answered"), int) and full:
            scoring["min_answered"] = max(1, -(-len(scale["items"]) * scoring["min_answered"] // full))
        scale["norms"] = {}
    return result


def in_form(data: dict, form_length: str) -> dict:
    """``data`` as a project with ``form_length`` ("full" or "short") asks it (see ``short_form``)."""
    if form_length == "short" and has_short_form(data):
        return short_form(data)
    return data


def translate(text: dict | str | None, lang: str) -> str:
    """The text in ``lang``, else its base language (nl-BE -> nl), else Dutch, else any language."""
    if isinstance(text, str):
        return text
    if not text:
        return ""
    for code in (lang, lang.split("-")[0], FALLBACK_LANGUAGE):
        if text.get(code):
            return text[code]
    return next(iter(text.values()))



#: Languages the instrument's authors write themselves; a translation into any other stays a draft until
#: a native speaker has checked it (``translation_status``).
AUTHORED_LANGUAGES = ("nl", "en")
TRANSLATION_STATES = ("draft", "confirmed")


def translation_status(data: dict) -> dict[str, str]:
    """Every language the instrument lists -> "draft" or "confirmed".

    Dutch and English are written by the authors and count as confirmed unless
    marked otherwise; any other language counts as a draft until its
    ``translation_status`` entry says "confirmed", so an unmarked translation
    is never presented as checked.
    """
    marked = data.get("translation_status") or {}
    languages = data.get("languages") or [FALLBACK_LANGUAGE]
    return {lang: marked.get(lang, "confirmed" if lang in AUTHORED_LANGUAGES else "draft") for lang in languages}


def item_counts(data: dict) -> tuple[int, int]:
    """(scored items in the full form, scored items in the short form; equal when there is no short form)."""
    full = sum(len(scale.get("items") or []) for scale in data.get("scales") or [])
    short = sum(len(scale.get("items") or []) for scale in (short_form(data) if has_short_form(data) else data)
                .get("scales") or [])
    return full, short
