"""Errors of the JSON API as RFC 9457 problem details (``application/problem+json``).

Every error the API answers has ``type``, ``title``, ``status`` and ``detail``; a validation
error adds ``errors`` (one entry per field: where, and what is wrong). The ``type`` is a URI
under ``/api/v1/problems/`` naming the kind of problem; the page it names explains it.
"""

from __future__ import annotations

from flask import Response, current_app, json, request, url_for
from pydantic import BaseModel, Field
from werkzeug.http import HTTP_STATUS_CODES

#: The kinds of problem and their titles (the last part of the ``type`` URI).
KINDS: dict[str, str] = {
    "unauthorized": "A valid API token is needed",
    "insufficient-scope": "The token lacks the scope this needs",
    "forbidden": "Not allowed for this role",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "validation-error": "The request is not valid",
    "invalid": "The request cannot be carried out",
    "conflict": "Conflicts with what is stored",
    "bad-idempotency-key": "The Idempotency-Key header is not usable",
    "idempotency-key-reused": "This Idempotency-Key was used for another request",
    "too-many-requests": "Too many requests",
    "too-large": "The request is too large",
    "unavailable": "Not available right now",
    "server-error": "Something went wrong on our side",
}
#: The kind an HTTP status stands for when nothing more specific is known.
BY_STATUS = {401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed", 409: "conflict",
             413: "too-large", 422: "validation-error", 429: "too-many-requests", 503: "unavailable",
             500: "server-error"}
MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One field of a request that is not valid."""

    location: str = Field(description="Where: the field's path, starting with where it was sent, e.g. `body.name` "
                                      "or `query.limit` (`body` alone: the body as a whole); for an answers "
                                      "import the file's place, e.g. `row 3, column org_1` or `header`.")
    message: str = Field(description="What is wrong, in words.")


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="The kind of problem, in words.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(default=None, description="What went wrong this time.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[FieldError] | None = Field(default=None, description="For validation errors: one entry per field.")


def type_uri(kind: str) -> str:
    """The kind's page under the installation's address (``BASE_URL``), as clients reach it."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for("api.problem_type", kind=kind)


def problem(status: int, kind: str | None = None, detail: str | None = None, *, errors: list[dict] | None = None,
            headers: dict | None = None) -> Response:
    """A problem+json response."""
    kind = kind or BY_STATUS.get(status) or "invalid"
    body: dict = {"type": type_uri(kind), "title": KINDS.get(kind) or HTTP_STATUS_CODES.get(status, "Error"),
                  "status": status, "detail": detail, "instance": request.path}
    if errors is not None:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def is_api_request() -> bool:
    """Is this request for the JSON API (where errors are problem+json, never an HTML page)?"""
    return request.path == "/api/v1" or request.path.startswith("/api/v1/")
