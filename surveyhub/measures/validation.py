"""Check an instrument definition and say every problem at once, in an author's words.

The structure is described by the JSON Schema beside this module
(``instrument.schema.json``); checks that need the whole document (duplicate
ids, answer-set references, item counts, one range per scale) live here.

Every error reads ``"<source>: <path>: <what is wrong>"``. A path looks like
``scales[0].items[2].answer_set``; list positions count from 0, as in JSON
tools, and ``(root)`` stands for the top of the file.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from surveyhub.measures.definition import (
    FALLBACK_LANGUAGE,
    MAX_DIGITS,
    HugeNumber,
    Path_,
    Problem,
    as_dict,
    as_list,
    is_number,
    item_range,
    items_of,
    kind_of,
    path_text,
    scales_of,
    translations_of,
)

#: Items in one instrument (scales and questions together): more never fits a questionnaire or a report.
MAX_ITEMS = 200
SCHEMA_PATH = Path(__file__).with_name("instrument.schema.json")
#: Languages the JSON Schema itself requires in every translated text.
SCHEMA_LANGUAGES = ("nl",)


@lru_cache(maxsize=1)
def instrument_schema() -> dict:
    """The JSON Schema shipped with the package (also handy for editors and docs)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(instrument_schema())


def validate_definition(
    data: Any,
    source: str,
    *,
    known_types: set[str] | None = None,
    known_methods: set[str] | None = None,
    require_languages: Iterable[str] = ("nl",),
) -> list[str]:
    """Return every problem in a definition at once (empty list: valid).

    ``known_types``/``known_methods``: the installed question types and scoring
    methods; ``None`` skips that check. ``require_languages``: languages every
    text must have (Dutch is always required).
    """
    if not isinstance(data, dict):
        return [f"{source}: (root): must be a mapping of keys (id, version, title, ...), got {kind_of(data)}"]
    huge = _huge_numbers(data)
    if huge:  # nothing else can be checked safely (or usefully) in such a file
        return [f"{source}: {path_text(path)}: {message}" for path, message in huge]
    problems = [*_schema_problems(data), *_non_finite(data), *_count_problems(data)]
    problems += _scale_problems(data, known_methods)
    problems += _item_problems(data, known_types)
    problems += _look_back_problems(data)
    problems += _translation_status_problems(data)
    problems += _language_problems(data, require_languages)
    lines = [f"{source}: {path_text(path)}: {message}" for path, message in problems]
    return list(dict.fromkeys(lines))  # one schema rule can fire twice through $ref



_LANGUAGE = re.compile(instrument_schema()["$defs"]["language"]["pattern"])
_TYPE_NAMES = {"integer": "an integer", "number": "a number", "string": "text", "boolean": "true or false",
               "array": "a list", "object": "a mapping of keys", "null": "empty"}
_PATTERN_HELP = {
    "Slug": "is not a valid id: use 2 to 63 lowercase letters, digits, '_' or '-', starting with a letter",
    "Plugin name": "is not a valid name: use lowercase letters, digits, '_', '-' or '.', starting with a letter",
    "Language code": "is not a language code such as 'nl' or 'en'",
}
_LIMITS = {"minimum": "at least", "exclusiveMinimum": "more than", "maximum": "at most",
           "exclusiveMaximum": "less than"}


def _schema_problems(data: dict) -> list[Problem]:
    errors = _validator().iter_errors(data)
    ordered = sorted(errors, key=lambda e: [(0, p, "") if isinstance(p, int) else (1, 0, str(p))
                                            for p in e.absolute_path])
    return [problem for error in ordered for problem in _humanise(error)]


def _humanise(error: Any) -> list[Problem]:
    """Turn one jsonschema error into messages an instrument author understands."""
    path, rule, wanted, got = tuple(error.absolute_path), error.validator, error.validator_value, error.instance
    if rule == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        return [(path, f"unknown key {key!r}" + _did_you_mean(key, known)) for key in got if key not in known]
    if rule == "required":
        missing = [key for key in wanted if key not in got]
        if error.schema.get("title") == "Translated text":
            return [(path, f"the Dutch text ({key!r}) is required") for key in missing]
        return [(path, f"{key!r} is required") for key in missing]
    if rule == "type":
        names = [_TYPE_NAMES.get(name, name) for name in ([wanted] if isinstance(wanted, str) else wanted)]
        return [(path, f"must be {' or '.join(names)}, got {_describe(got)}")]
    if rule in _LIMITS:
        return [(path, f"must be {_LIMITS[rule]} {wanted}, got {_describe(got)}")]
    if rule == "pattern":
        return [(path, f"{got!r} {_PATTERN_HELP.get(error.schema.get('title'), 'is not allowed here')}")]
    if rule == "minItems":
        return [(path, "needs at least one entry" if wanted == 1 else f"needs at least {wanted} entries")]
    if rule == "minLength":
        return [(path, "must not be empty")]
    if rule in ("maxItems", "maxProperties"):
        return [(path, f"has {len(got)} entries; at most {wanted} are allowed")]
    if rule == "maxLength":
        return [(path, f"is too long (at most {wanted} characters)")]
    if rule == "uniqueItems":
        twice = [entry for i, entry in enumerate(got) if entry in got[:i]]
        return [(path, f"lists {twice[0]!r} twice" if twice and isinstance(twice[0], str)
                 else "lists the same entry twice")]
    if rule == "enum":
        return [(path, f"must be one of {', '.join(map(repr, wanted))}, got {_describe(got)}")]
    return [(path, error.message)]


def _did_you_mean(key: Any, known: list[str]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _walk(data: Any) -> Iterator[tuple[Path_, Any]]:
    stack: list[tuple[Path_, Any]] = [((), data)]
    while stack:  # iterative: plugin dicts may be deeper than the recursion limit
        path, value = stack.pop()
        yield path, value
        if isinstance(value, dict):
            stack.extend((path + (key,), child) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((path + (i,), child) for i, child in enumerate(value))


def _huge_numbers(data: Any) -> list[Problem]:
    limit = 10 ** MAX_DIGITS
    found = [(path, f"the number starting {value}... has too many digits (at most {MAX_DIGITS})")
             if isinstance(value, HugeNumber) else (path, f"the number has too many digits (at most {MAX_DIGITS})")
             for path, value in _walk(data)
             if isinstance(value, HugeNumber) or (isinstance(value, int) and not -limit < value < limit)]
    return sorted(found, key=lambda p: path_text(p[0]))


def _count_problems(data: dict) -> list[Problem]:
    n_items = len(list(items_of(data)))
    if n_items > MAX_ITEMS:
        return [((), f"has {n_items} items; an instrument may have at most {MAX_ITEMS} items "
                     "(split it into several instruments)")]
    return []


def _non_finite(data: Any) -> list[Problem]:
    # YAML accepts .nan and .inf; they would poison every mean and every digest.
    problems: list[Problem] = []
    stack: list[tuple[Path_, Any]] = [((), data)]
    while stack:  # iterative: plugin dicts may be deeper than the recursion limit
        path, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            problems.append((path, "must be a finite number"))
        elif isinstance(value, dict):
            stack.extend((path + (key,), child) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((path + (i,), child) for i, child in enumerate(value))
    return sorted(problems, key=lambda p: path_text(p[0]))


def _scale_problems(data: dict, known_methods: set[str] | None) -> list[Problem]:
    scales = list(scales_of(data))
    problems = _duplicates(((path + ("id",), scale.get("id")) for path, scale in scales), "scale id")
    for path, scale in scales:
        problems += _scoring_problems(path, scale, known_methods)
        problems += _range_problems(path, scale, data.get("answer_sets"))
        problems += _short_form_problems(path, scale)
        levels = [lv for lv in as_list(scale.get("levels")) if isinstance(lv, dict)]
        for i in range(1, len(levels)):
            low, high = levels[i - 1].get("min"), levels[i].get("min")
            if is_number(low) and is_number(high) and high <= low:
                problems.append((path + ("levels", i, "min"),
                                 f"levels must go up: {high} is not above the level before ({low})"))
    return problems


def _duplicates(entries: Iterable[tuple[Path_, Any]], what: str) -> list[Problem]:
    """A problem for every key that an earlier entry already uses (paths end in the key's field)."""
    seen: dict[Any, Path_] = {}
    problems: list[Problem] = []
    for path, key in entries:
        if isinstance(key, (str, int, float)) and not isinstance(key, bool):
            if key in seen:
                problems.append((path, f"{what} {key!r} is already used at {path_text(seen[key][:-1])}"))
            else:
                seen[key] = path
    return problems


def _scoring_problems(path: Path_, scale: dict, known_methods: set[str] | None) -> list[Problem]:
    scoring = scale.get("scoring")
    if not isinstance(scoring, dict):
        return []
    problems: list[Problem] = []
    method, needed = scoring.get("method"), scoring.get("min_answered")
    if known_methods is not None and isinstance(method, str) and method not in known_methods:
        problems.append((path + ("scoring", "method"),
                         f"unknown scoring method {method!r} (installed: {', '.join(sorted(known_methods))})"))
    n_items = len(as_list(scale.get("items")))
    if is_number(needed) and n_items and needed > n_items:
        problems.append((path + ("scoring", "min_answered"),
                         f"{needed} is more than the {n_items} item(s) in this scale"))
    return problems


def _range_problems(path: Path_, scale: dict, answer_sets: Any) -> list[Problem]:
    # A mean or sum over items on different ranges (1-5 next to 0-10) quietly
    # weighs one item more than the others; funders would get a skewed score.
    scoring = as_dict(scale.get("scoring"))
    if scoring.get("method", "mean") not in ("mean", "sum"):
        return []
    items = [(i, item) for i, item in enumerate(as_list(scale.get("items"))) if isinstance(item, dict)]
    ranges = [(i, r) for i, item in items if (r := item_range(item, answer_sets)) is not None]
    if not ranges:
        return []
    first = ranges[0][1]
    return [(path + ("items", i), f"this item runs from {r[0]} to {r[1]}, the first item from {first[0]} "
             f"to {first[1]}; a {scoring.get('method', 'mean')} score needs one range, so move it to "
             "'questions' or to a scale of its own") for i, r in ranges if r != first]


def _item_problems(data: dict, known_types: set[str] | None) -> list[Problem]:
    answer_sets = as_dict(data.get("answer_sets"))
    items = list(items_of(data))
    # Item ids must be unique across scales and questions: they name answer columns.
    problems = _duplicates(((path + ("id",), item.get("id")) for path, item, _ in items), "item id")
    for path, item, scored in items:
        problems += _one_item_problems(path, item, scored, answer_sets, known_types)
    for name, options in answer_sets.items():
        values = ((("answer_sets", name, i, "value"), option.get("value"))
                  for i, option in enumerate(as_list(options)) if isinstance(option, dict))
        problems += _duplicates(values, "value")
    return problems


def _one_item_problems(path: Path_, item: dict, scored: bool, answer_sets: dict,
                       known_types: set[str] | None) -> list[Problem]:
    kind, set_name, problems = item.get("type"), item.get("answer_set"), []
    if known_types is not None and isinstance(kind, str) and kind not in known_types:
        installed = ", ".join(sorted(known_types))
        problems.append((path + ("type",), f"unknown question type {kind!r} (installed: {installed})"))
    if isinstance(set_name, str) and set_name not in answer_sets:
        known = ", ".join(sorted(answer_sets)) or "none defined"
        problems.append((path + ("answer_set",), f"unknown answer set {set_name!r} (known: {known})"))
    if kind == "choice" and set_name is None:
        problems.append((path, "a choice item needs an 'answer_set'"))
    if kind in ("number", "text", "yes_no") and set_name is not None:
        problems.append((path + ("answer_set",), f"a {kind} item does not use an answer set"))
    if kind in ("choice", "text", "yes_no"):
        problems += [(path + (key,), f"only number items use {key!r}") for key in ("min", "max", "step") if key in item]
    if kind == "number":
        problems += _number_problems(path, item, scored)
    if kind == "text" and scored:
        problems.append((path, "a text item cannot be scored; move it to 'questions'"))
    if item.get("reverse") is True:
        problems += _reverse_problems(path, item, scored, answer_sets)
    return problems


def _number_problems(path: Path_, item: dict, scored: bool) -> list[Problem]:
    low, high = item.get("min"), item.get("max")
    if is_number(low) and is_number(high) and low >= high:
        return [(path + ("max",), f"max ({high}) must be greater than min ({low})")]
    if scored and not (is_number(low) and is_number(high)):
        return [(path, "a number item in a scale needs 'min' and 'max'")]
    return []


def _reverse_problems(path: Path_, item: dict, scored: bool, answer_sets: dict) -> list[Problem]:
    where = path + ("reverse",)
    if item.get("type") == "text":
        return [(where, "a text item cannot be reverse coded")]
    if not scored:
        return [(where, "only items in a scale are reverse coded; remove 'reverse' here")]
    if item_range(item, answer_sets) is None and item.get("type") != "number":
        return [(where, "reverse coding needs the item's range: give an 'answer_set' or 'min' and 'max'")]
    return []


def _short_form_problems(path: Path_, scale: dict) -> list[Problem]:
    """A short form names this scale's own items, and leaves at least one out (else it is the full form).

    At least two items and no repeats are the schema's rules; this checks what
    needs the scale itself.
    """
    listed = scale.get("short_form")
    if not isinstance(listed, list):
        return []
    ids = [item.get("id") for item in as_list(scale.get("items")) if isinstance(item, dict)]
    problems: list[Problem] = [
        (path + ("short_form", i), f"{entry!r} is not an item of this scale (its items: {', '.join(map(str, ids))})")
        for i, entry in enumerate(listed) if isinstance(entry, str) and entry not in ids]
    if ids and len(set(listed)) >= len(ids) and not problems:
        problems.append((path + ("short_form",), f"lists all {len(ids)} items of this scale; a short form leaves "
                         "at least one out (or remove 'short_form')"))
    return problems


def _look_back_problems(data: dict) -> list[Problem]:
    """Look-back wording where the look-back asks it, and nowhere else.

    A scale with a ``retrospective`` lead-in is asked again about "before the
    project"; the present-tense statement under a past-tense lead-in confuses
    residents, so every item there needs its own past-tense ``retrospective_text``.
    Unscored questions are never asked in the look-back.
    """
    problems: list[Problem] = []
    for path, scale in scales_of(data):
        if scale.get("retrospective") is None:
            continue
        for j, item in enumerate(as_list(scale.get("items"))):
            if isinstance(item, dict) and item.get("retrospective_text") is None:
                name = item.get("id") if isinstance(item.get("id"), str) else f"number {j + 1}"
                problems.append((path + ("items", j), f"item {name!r} needs a 'retrospective_text': this scale has "
                                 "a 'retrospective' lead-in, so the item is asked again about before the project; "
                                 "write it in the past tense (\"Vóór het project kon ik ...\")"))
    for k, item in enumerate(as_list(data.get("questions"))):
        if isinstance(item, dict) and "retrospective_text" in item:
            problems.append((("questions", k, "retrospective_text"), "only items in a scale are asked in the "
                             "look-back; remove 'retrospective_text' here"))
    return problems


def _translation_status_problems(data: dict) -> list[Problem]:
    status = data.get("translation_status")
    if not isinstance(status, dict):
        return []
    languages = [lang for lang in as_list(data.get("languages")) if isinstance(lang, str)]
    listed = f"'languages' lists {', '.join(languages)}" if languages else "there is no 'languages' list"
    return [(("translation_status", lang), f"{lang!r} is not one of the instrument's languages ({listed}); "
             "add it to 'languages' or remove this entry")
            for lang in status if isinstance(lang, str) and lang not in languages and _LANGUAGE.fullmatch(lang)]


def _language_problems(data: dict, require_languages: Iterable[str]) -> list[Problem]:
    extra = [lang for lang in require_languages if lang not in SCHEMA_LANGUAGES]
    return [(path, f"the {lang!r} text is required") for path, text in translations_of(data)
            for lang in extra if not text.get(lang)]


def translation_warnings(data: Any, source: str, languages: Iterable[str] = ("nl", "en")) -> list[str]:
    """Every translated text that lacks one of ``languages`` (not an error: screens fall back to Dutch)."""
    if not isinstance(data, dict):
        return []
    warnings = []
    for path, text in translations_of(data):
        shown = "the Dutch text" if text.get(FALLBACK_LANGUAGE) else "another language"
        warnings += [f"{source}: {path_text(path)}: missing translation {lang!r} ({shown} is shown instead)"
                     for lang in languages if not text.get(lang)]
    return warnings


def _describe(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return kind_of(value)
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."

