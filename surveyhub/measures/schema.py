"""Load, check and normalise instrument definitions (the YAML files in ``instruments/``).

Pure data code: no Flask, no database, so the CLI, the web upload, plugins and
tests all use the same checks. The structure is described by the JSON Schema
beside this module (``instrument.schema.json``); checks that need the whole
document (duplicate ids, answer-set references, item counts) live here.

Every error reads ``"<source>: <path>: <what is wrong>"``. A path looks like
``scales[0].items[2].answer_set``; list positions count from 0, as in JSON
tools, and ``(root)`` stands for the top of the file.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from surveyhub.text import clean

MAX_BYTES = 256 * 1024
#: Items in one instrument (scales and questions together): more never fits a questionnaire or a report.
MAX_ITEMS = 200
#: Digits in a number: more is a typing accident (and Python refuses to read over 4,300 of them).
MAX_DIGITS = 18
SCHEMA_PATH = Path(__file__).with_name("instrument.schema.json")
BUILTIN_TYPES = frozenset({"choice", "number", "text", "yes_no"})
FALLBACK_LANGUAGE = "nl"
#: Languages the JSON Schema itself requires in every translated text.
SCHEMA_LANGUAGES = ("nl",)

Path_ = tuple[str | int, ...]
Problem = tuple[Path_, str]


class InstrumentError(Exception):
    """An instrument definition cannot be used; ``errors`` lists every reason."""

    def __init__(self, errors: Iterable[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))

    def __str__(self) -> str:
        return "\n".join(self.errors)


# --- YAML -------------------------------------------------------------------

_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "bool", "null", "seq", "map"))
# YAML 1.1 resolvers that surprise authors: 'no'/'yes'/'on' as booleans (the
# Norway problem; an English label "Yes" would stop being text), dates that
# cannot go to JSON, and '=' which safe_load cannot construct at all.
_DROPPED_RESOLVERS = frozenset(_TAG + t for t in ("bool", "timestamp", "value"))


class _DataLoader(yaml.SafeLoader):
    """A SafeLoader that only produces plain JSON-like data.

    Everything is refused while composing, before any object is built, so a
    hostile file fails fast instead of expanding in memory.
    """

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED_RESOLVERS]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        # An alias lets a few hundred bytes stand for gigabytes of data once
        # anything walks it ("billion laughs"); plain files never need one.
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                problem="anchors and aliases ('&' and '*') are not allowed; write the text out in full",
                problem_mark=event.start_mark,
            )
        node = super().compose_node(parent, index)
        if node.tag not in _PLAIN_TAGS:
            raise yaml.composer.ComposerError(problem=_tag_problem(node.tag), problem_mark=node.start_mark)
        if isinstance(node, yaml.MappingNode):
            _refuse_duplicate_keys(node)
        return node


_DataLoader.add_implicit_resolver(
    _TAG + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class HugeNumber(str):
    """A number with more than ``MAX_DIGITS`` digits, kept as its first digits: validation reports it."""


def _construct_int(loader: _DataLoader, node: yaml.ScalarNode) -> Any:
    if sum(ch.isdigit() for ch in node.value) > MAX_DIGITS:
        return HugeNumber(node.value[:12])
    return yaml.SafeLoader.construct_yaml_int(loader, node)


def _construct_str(loader: _DataLoader, node: yaml.ScalarNode) -> str:
    # An escape such as "\0" or "\ud800" in a quoted string: the one rule for free text applies.
    return clean(yaml.SafeLoader.construct_yaml_str(loader, node))


_DataLoader.add_constructor(_TAG + "int", _construct_int)
_DataLoader.add_constructor(_TAG + "str", _construct_str)


def _tag_problem(tag: str) -> str:
    if tag == _TAG + "merge":
        return "merge keys ('<<') are not allowed; write the keys out in full"
    shown = "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag
    return f"the tag {shown!r} is not allowed: an instrument holds only text, numbers, lists and mappings"


def _refuse_duplicate_keys(node: yaml.MappingNode) -> None:
    # PyYAML silently keeps the last of two equal keys; an author would never notice.
    seen: set[tuple[str, str]] = set()
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise yaml.composer.ComposerError(
                    problem=f"the key {key_node.value!r} appears twice in the same mapping",
                    problem_mark=key_node.start_mark,
                )
            seen.add(key)


_YAML_HINTS = {
    "found character '\\t' that cannot start any token": "tabs are not allowed; indent with spaces",
    "mapping values are not allowed here": "check the indentation, or put quotes around text with ': '",
    "could not find expected ':'": "check the indentation and that every key ends with ':'",
}


def _yaml_problem(exc: yaml.MarkedYAMLError, source: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if exc.context and problem.startswith("but "):  # PyYAML splits "expected X, but found Y" in two
        problem = f"{exc.context}, {problem}"
    hint = _YAML_HINTS.get(problem)
    where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
    return f"{source}: {where}{problem}" + (f" ({hint})" if hint else "")


def _too_large(source: str, size: int | None = None) -> InstrumentError:
    got = f" ({size / 1024:.0f} KB)" if size else ""
    return InstrumentError([f"{source}: the file is too large{got}; an instrument file may be at most "
                            f"{MAX_BYTES // 1024} KB"])


def load_yaml_text(text: str, source: str) -> dict:
    """Parse YAML text into a mapping, refusing anything that is not plain data."""
    # A character takes at least one byte, so the length alone refuses huge text
    # without encoding (or parsing) any of it.
    size = len(text) if len(text) > MAX_BYTES else len(text.encode("utf-8"))
    if size > MAX_BYTES:
        raise _too_large(source, size)
    try:
        data = yaml.load(text, Loader=_DataLoader)  # noqa: S506 - _DataLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        raise InstrumentError([_yaml_problem(exc, source)]) from None
    except yaml.reader.ReaderError as exc:
        raise InstrumentError([f"{source}: character {exc.position + 1}: control character "
                               f"#x{exc.character:04x} is not allowed in an instrument file"]) from None
    except yaml.YAMLError as exc:  # any other parser complaint, still on one line
        raise InstrumentError([f"{source}: {' '.join(str(exc).split())}"]) from None
    except RecursionError:
        raise InstrumentError([f"{source}: the file is nested too deeply"]) from None
    if data is None:
        raise InstrumentError([f"{source}: the file is empty"])
    if not isinstance(data, dict):
        raise InstrumentError([f"{source}: the file must be a mapping of keys "
                               f"(id, version, title, ...), got {_kind(data)}"])
    return data


def load_instrument_file(path: str | Path, **validate_kwargs: Any) -> dict:
    """Read, parse and validate one instrument file; raise InstrumentError with every problem."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)  # never read more than the limit into memory
    except OSError as exc:
        raise InstrumentError([f"{path}: cannot read the file ({exc.strerror or exc})"]) from None
    if len(raw) > MAX_BYTES:
        raise _too_large(str(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InstrumentError([f"{path}: the file is not UTF-8 text (byte {exc.start})"]) from None
    return parse_instrument(text, str(path), **validate_kwargs)


def parse_instrument(text: str, source: str, **validate_kwargs: Any) -> dict:
    """Parse and validate YAML text; return the definition as written (see ``normalise``)."""
    data = load_yaml_text(text, source)
    errors = validate_definition(data, source, **validate_kwargs)
    if errors:
        raise InstrumentError(errors)
    return data


# --- validation ---------------------------------------------------------------

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
        return [f"{source}: (root): must be a mapping of keys (id, version, title, ...), got {_kind(data)}"]
    huge = _huge_numbers(data)
    if huge:  # nothing else can be checked safely (or usefully) in such a file
        return [f"{source}: {path_text(path)}: {message}" for path, message in huge]
    problems = [*_schema_problems(data), *_non_finite(data), *_count_problems(data)]
    problems += _scale_problems(data, known_methods)
    problems += _item_problems(data, known_types)
    problems += _language_problems(data, require_languages)
    lines = [f"{source}: {path_text(path)}: {message}" for path, message in problems]
    return list(dict.fromkeys(lines))  # one schema rule can fire twice through $ref


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
        return [(path, "lists the same entry twice")]
    return [(path, error.message)]


def _did_you_mean(key: Any, known: list[str]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _walk(data: Any) -> Iterator[tuple[Path_, Any]]:
    stack = [((), data)]
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
    n_items = len(list(_items(data)))
    if n_items > MAX_ITEMS:
        return [((), f"has {n_items} items; an instrument may have at most {MAX_ITEMS} items "
                     "(split it into several instruments)")]
    return []


def _non_finite(data: Any) -> list[Problem]:
    # YAML accepts .nan and .inf; they would poison every mean and every digest.
    problems, stack = [], [((), data)]
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
    scales = list(_scales(data))
    problems = _duplicates(((path + ("id",), scale.get("id")) for path, scale in scales), "scale id")
    for path, scale in scales:
        problems += _scoring_problems(path, scale, known_methods)
        problems += _range_problems(path, scale, data.get("answer_sets"))
        levels = [lv for lv in _as_list(scale.get("levels")) if isinstance(lv, dict)]
        for i in range(1, len(levels)):
            low, high = levels[i - 1].get("min"), levels[i].get("min")
            if _is_number(low) and _is_number(high) and high <= low:
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
    n_items = len(_as_list(scale.get("items")))
    if _is_number(needed) and n_items and needed > n_items:
        problems.append((path + ("scoring", "min_answered"),
                         f"{needed} is more than the {n_items} item(s) in this scale"))
    return problems


def _range_problems(path: Path_, scale: dict, answer_sets: Any) -> list[Problem]:
    # A mean or sum over items on different ranges (1-5 next to 0-10) quietly
    # weighs one item more than the others; funders would get a skewed score.
    scoring = scale.get("scoring") if isinstance(scale.get("scoring"), dict) else {}
    if scoring.get("method", "mean") not in ("mean", "sum"):
        return []
    items = [(i, item) for i, item in enumerate(_as_list(scale.get("items"))) if isinstance(item, dict)]
    ranges = [(i, item_range(item, answer_sets)) for i, item in items]
    ranges = [(i, r) for i, r in ranges if r is not None]
    if not ranges:
        return []
    first = ranges[0][1]
    return [(path + ("items", i), f"this item runs from {r[0]} to {r[1]}, the first item from {first[0]} "
             f"to {first[1]}; a {scoring.get('method', 'mean')} score needs one range, so move it to "
             "'questions' or to a scale of its own") for i, r in ranges if r != first]


def _item_problems(data: dict, known_types: set[str] | None) -> list[Problem]:
    answer_sets = data.get("answer_sets") if isinstance(data.get("answer_sets"), dict) else {}
    items = list(_items(data))
    # Item ids must be unique across scales and questions: they name answer columns.
    problems = _duplicates(((path + ("id",), item.get("id")) for path, item, _ in items), "item id")
    for path, item, scored in items:
        problems += _one_item_problems(path, item, scored, answer_sets, known_types)
    for name, options in answer_sets.items():
        values = ((("answer_sets", name, i, "value"), option.get("value"))
                  for i, option in enumerate(_as_list(options)) if isinstance(option, dict))
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
    if _is_number(low) and _is_number(high) and low >= high:
        return [(path + ("max",), f"max ({high}) must be greater than min ({low})")]
    if scored and not (_is_number(low) and _is_number(high)):
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


def _language_problems(data: dict, require_languages: Iterable[str]) -> list[Problem]:
    extra = [lang for lang in require_languages if lang not in SCHEMA_LANGUAGES]
    return [(path, f"the {lang!r} text is required") for path, text in _translations(data)
            for lang in extra if not text.get(lang)]


def translation_warnings(data: Any, source: str, languages: Iterable[str] = ("nl", "en")) -> list[str]:
    """Every translated text that lacks one of ``languages`` (not an error: screens fall back to Dutch)."""
    if not isinstance(data, dict):
        return []
    warnings = []
    for path, text in _translations(data):
        shown = "the Dutch text" if text.get(FALLBACK_LANGUAGE) else "another language"
        warnings += [f"{source}: {path_text(path)}: missing translation {lang!r} ({shown} is shown instead)"
                     for lang in languages if not text.get(lang)]
    return warnings


# --- walking a (possibly invalid) definition -----------------------------------

def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _scales(data: dict) -> Iterator[tuple[Path_, dict]]:
    for i, scale in enumerate(_as_list(data.get("scales"))):
        if isinstance(scale, dict):
            yield ("scales", i), scale


def _items(data: dict) -> Iterator[tuple[Path_, dict, bool]]:
    """Every item with its path and whether it is scored (in a scale) or not (in questions)."""
    for path, scale in _scales(data):
        for j, item in enumerate(_as_list(scale.get("items"))):
            if isinstance(item, dict):
                yield path + ("items", j), item, True
    for k, item in enumerate(_as_list(data.get("questions"))):
        if isinstance(item, dict):
            yield ("questions", k), item, False


def _translations(data: dict) -> Iterator[tuple[Path_, dict]]:
    """Every translated text in the definition, with its path."""
    places: list[tuple[Path_, Any]] = [(("title",), data.get("title")), (("description",), data.get("description"))]
    sets = data.get("answer_sets") if isinstance(data.get("answer_sets"), dict) else {}
    for name, options in sets.items():
        places += [(("answer_sets", name, i, "label"), o.get("label"))
                   for i, o in enumerate(_as_list(options)) if isinstance(o, dict)]
    for path, scale in _scales(data):
        places += [(path + (key,), scale.get(key)) for key in ("title", "description", "retrospective")]
        places += [(path + ("levels", i, "label"), lv.get("label"))
                   for i, lv in enumerate(_as_list(scale.get("levels"))) if isinstance(lv, dict)]
    for path, item, _ in _items(data):
        places += [(path + (key,), item.get(key)) for key in ("text", "help")]
    yield from ((path, text) for path, text in places if isinstance(text, dict))


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    names = {list: "a list", str: "a string", int: "a number", float: "a number", dict: "a mapping"}
    return names.get(type(value), type(value).__name__)


def _describe(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _kind(value)
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


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
        values = [o.get("value") for o in _as_list(options) if isinstance(o, dict)]
        values = [v for v in values if _is_number(v)]
        return (min(values), max(values)) if values else None
    low, high = item.get("min"), item.get("max")
    return (low, high) if _is_number(low) and _is_number(high) else None


def reverse_code(value: float, lo: float, hi: float) -> float:
    """Mirror a value within its range: lo becomes hi and hi becomes lo."""
    return lo + hi - value


def definition_digest(data: dict) -> str:
    """SHA-256 of the normalised definition as canonical JSON.

    Normalising first means spelling out a default (``reverse: false``) does not
    count as a change; any real change under the same id and version does.
    """
    canonical = json.dumps(normalise(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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

