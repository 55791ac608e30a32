"""The web boundary: every form field and query parameter is cleaned as it is parsed.

Flask builds ``request.form`` and ``request.args`` with the request class's
``parameter_storage_class``; here that class applies
:func:`surveyhub.text.clean` to every key and value, so each page,
WTForm and service sees text that every store and export can take (no NUL
that PostgreSQL refuses, no control character that XLSX refuses). Passwords
are left exactly as typed: they are never stored, only hashed.

A JSON body (the API's) is cleaned the same way when it is read.

A request with more fields than ``MAX_FORM_PARTS`` is refused (413) before
any page looks at it; Werkzeug counts only multipart parts, this counts
urlencoded fields too. URL path parts with a control character answer 404.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, has_app_context
from flask.wrappers import Request
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from surveyhub.text import clean

#: Fields whose value is kept as typed.
_VERBATIM = ("password",)
DEFAULT_MAX_FIELDS = 1000


def _max_fields() -> int:
    if has_app_context():
        return current_app.config.get("MAX_FORM_PARTS") or DEFAULT_MAX_FIELDS
    return DEFAULT_MAX_FIELDS


class CleanMultiDict(ImmutableMultiDict):
    """An immutable multi-dict whose text keys and values passed :func:`clean`."""

    def __init__(self, mapping=None):
        pairs = list(MultiDict(mapping).items(multi=True)) if mapping is not None else []
        if len(pairs) > _max_fields():
            raise RequestEntityTooLarge()
        super().__init__([(_clean_key(k), _clean_value(k, v)) for k, v in pairs])


def _clean_key(key):
    return clean(key) if isinstance(key, str) else key


def _clean_value(key, value):
    if isinstance(value, FileStorage) or not isinstance(value, str):
        return value
    if isinstance(key, str) and any(word in key for word in _VERBATIM):
        return value
    return clean(value)


def _clean_json(value, key=None):
    """A JSON body's texts cleaned as form fields are (keys and values, at any depth)."""
    if isinstance(value, dict):
        return {_clean_key(k): _clean_json(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(item, key) for item in value]
    return _clean_value(key, value)


class CleanRequest(Request):
    parameter_storage_class = CleanMultiDict

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        """The JSON body (the API's requests) with its texts cleaned: a NUL or a lone surrogate in a JSON
        string would otherwise reach PostgreSQL, which refuses both."""
        return _clean_json(super().get_json(force=force, silent=silent, cache=cache))


def _refuse_control_characters_in_paths(_endpoint, values) -> None:
    if values and any(isinstance(v, str) and clean(v) != v for v in values.values()):
        abort(404)


def init_app(app: Flask) -> None:
    app.request_class = CleanRequest
    app.url_value_preprocessor(_refuse_control_characters_in_paths)
