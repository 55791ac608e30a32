"""The browsable API reference (Swagger UI, served from this installation) and the problem type pages."""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response, abort, render_template

from surveyhub.web.api import bp as api_bp
from surveyhub.web.api.problems import KINDS
from surveyhub.web.session_user import public

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

#: Swagger UI's files, from the ``offapi`` package (no CDN): name -> media type.
ASSETS = {"swagger_bundle.js": "text/javascript", "swagger_preset.js": "text/javascript",
          "swagger_style.css": "text/css"}


@bp.get("/docs")
@public
def page():
    """Swagger UI over ``/api/v1/openapi.json``."""
    return render_template("api/docs.html")


@bp.get("/docs/assets/<name>")
@public
def asset(name: str):
    if name not in ASSETS:
        abort(404)
    data = resources.files("offapi").joinpath(name).read_bytes()
    response = Response(data, mimetype=ASSETS[name])
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@api_bp.get("/problems/<kind>")
@public
def problem_type(kind: str):
    """What a problem ``type`` means (the URI every problem+json answer names)."""
    if kind not in KINDS:
        abort(404)
    return render_template("api/problem.html", kind=kind, title=KINDS[kind])
