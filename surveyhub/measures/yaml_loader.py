"""Safe YAML loading of instrument files: plain data only, refused early and explained.

YAML can do far more than an instrument needs (anchors, tags, merge keys,
dates, the Norway problem). The loader here accepts only text, numbers, lists
and mappings, refuses hostile input while composing (before anything is built
in memory), and turns every parser complaint into one line an author
understands: ``"<source>: line L column C: <what is wrong> (hint)"``.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

from surveyhub.measures.definition import MAX_DIGITS, HugeNumber, InstrumentError, kind_of
from surveyhub.measures.validation import validate_definition
from surveyhub.text import clean

MAX_BYTES = 256 * 1024

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
        if node is None:  # PyYAML's "nothing here"; aliases were refused above
            return node
        if node.tag not in _PLAIN_TAGS:
            raise yaml.composer.ComposerError(problem=_tag_problem(node.tag), problem_mark=node.start_mark)
        if isinstance(node, yaml.MappingNode):
            _refuse_duplicate_keys(node)
        return node


_DataLoader.add_implicit_resolver(
    _TAG + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


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
                               f"(id, version, title, ...), got {kind_of(data)}"])
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
    """Parse and validate YAML text; return the definition as written (see ``normalise``).

    A text that passed once, with the same source and installed names, is not parsed again: each app a
    process makes (the CLI, the tests, a worker beside the web) loads the same instrument files, and
    parsing and validating them is most of an app's start. The caller gets its own copy to change.
    """
    key = (text, source, repr(sorted((name, sorted(value) if isinstance(value, (set, frozenset)) else value)
                                     for name, value in validate_kwargs.items())))
    if key in _PARSED:
        return copy.deepcopy(_PARSED[key])
    data = load_yaml_text(text, source)
    errors = validate_definition(data, source, **validate_kwargs)
    if errors:
        raise InstrumentError(errors)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[key] = copy.deepcopy(data)
    return data


#: Definitions that passed, by text, source and installed names (see ``parse_instrument``); at most
#: ``_PARSED_MAX`` of them, each at most ``MAX_BYTES`` of text.
_PARSED: dict[tuple[str, str, str], dict] = {}
_PARSED_MAX = 64
