"""The favicon, as an SVG every page links and as /favicon.ico for tabs that have no page (a PDF, JSON).

Served from memory, not as a file: a browser often drops the icon request
when it moves on to the next page, and a dropped file response would leave
its file open until the garbage collector finds it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import Blueprint, Response

from surveyhub.web.session_user import public

bp = Blueprint("icons", __name__)

_STATIC = Path(__file__).parent / "static"


@cache
def _read(name: str) -> bytes:
    return (_STATIC / name).read_bytes()


def _icon(name: str, mimetype: str) -> Response:
    return Response(_read(name), mimetype=mimetype)


@bp.route("/favicon.svg")
@public
def svg():
    return _icon("favicon.svg", "image/svg+xml")


@bp.route("/favicon.ico")
@public
def ico():
    return _icon("favicon.ico", "image/vnd.microsoft.icon")
