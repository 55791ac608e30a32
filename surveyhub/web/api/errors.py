"""Every error inside the API as a problem: service errors, HTTP errors, failed validation."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app
from werkzeug.exceptions import HTTPException

from surveyhub.services.errors import Conflict, Forbidden, NotFound, UserError
from surveyhub.web.api.problems import problem

log = logging.getLogger(__name__)


class RequestInvalid(Exception):
    """A request did not match its model (SpecTree's validation, turned into a 422 problem)."""

    def __init__(self, error, where: str = "body"):
        super().__init__("request invalid")
        self.error, self.where = error, where


class BodyRefused:
    """A body that could not be read as JSON, in the shape of pydantic's errors (``field_errors``)."""

    def __init__(self, message: str):
        self.message = message

    def errors(self) -> list[dict]:
        return [{"loc": (), "msg": self.message}]


class ApiProblem(Exception):
    """Raised by API code to answer with a problem right away (401, 403 insufficient scope, 429)."""

    def __init__(self, status: int, kind: str | None = None, detail: str | None = None, headers: dict | None = None):
        super().__init__(detail or kind or str(status))
        self.status, self.kind, self.detail, self.headers = status, kind, detail, headers or {}


def field_errors(error, where: str = "body") -> list[dict]:
    """Pydantic's errors as ``{location, message}`` entries; ``location`` starts with where the field was
    sent (``body``, ``query``), as ``FieldError`` documents: ``body.name``, ``query.limit``."""
    entries = []
    for one in getattr(error, "errors", lambda: [])():
        location = ".".join([where, *(str(part) for part in one.get("loc", ()))])
        entries.append({"location": location, "message": str(one.get("msg", "not valid"))})
    return entries


#: Errors the services raise on purpose, as problems (the most specific class wins).
SERVICE_ERRORS: dict[type[Exception], tuple[int, str]] = {
    NotFound: (404, "not-found"), Forbidden: (403, "forbidden"), Conflict: (409, "conflict"),
    UserError: (422, "invalid")}


def register(bp: Blueprint) -> None:
    @bp.errorhandler(ApiProblem)
    def _api_problem(exc: ApiProblem):
        return problem(exc.status, exc.kind, exc.detail, headers=exc.headers)

    @bp.errorhandler(RequestInvalid)
    def _invalid_request(exc: RequestInvalid):
        return problem(422, "validation-error", "Some fields are missing or not valid; see errors.",
                       errors=field_errors(exc.error, exc.where))

    for error, (status, kind) in SERVICE_ERRORS.items():
        bp.register_error_handler(error, lambda exc, status=status, kind=kind: problem(status, kind, str(exc)))

    @bp.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return problem(exc.code or 500, None, exc.description)

    @bp.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if current_app.testing and current_app.config.get("PROPAGATE_EXCEPTIONS"):
            raise exc
        log.exception("API error")
        return problem(500, "server-error", "The error was logged; please try again later.")
