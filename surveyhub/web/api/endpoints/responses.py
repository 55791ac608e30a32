"""Importing answers through the API: the CSV file the import page and ``surveyhub responses import`` take.

The same service (``services.imports``), the same columns (``participant`` plus one column per
question id), the same rule: a file with any bad row is refused whole, nothing stored, every
problem listed — here as a 422 problem whose ``errors`` name the row and the column. Rows are
stored in short write transactions as the command line stores them, so residents saving pages
meanwhile are not held up.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from flask import current_app, request
from pydantic import BaseModel, Field
from spectree import Response

from surveyhub.services import imports, responses
from surveyhub.web.api import bp, spec
from surveyhub.web.api.auth import api_route, service_context
from surveyhub.web.api.errors import ApiProblem
from surveyhub.web.api.problems import FieldError, Problem, problem
from surveyhub.web.api.endpoints.projects import ON_PROJECT

#: "row 3: column 'org_1': ..." / "row 3: ..." / "header: ..." (the service's problem lines).
_ROW = re.compile(r"^row (?P<row>\d+): (?:column (?P<quote>['\"])(?P<column>.*?)(?P=quote): )?(?P<message>.*)$",
                  re.DOTALL)


class ImportQuery(BaseModel):
    wave: Literal["pre", "post", "retro", "followup"] = Field(
        description="Which answers the file holds; `retro` = the post wave's look-back ('then') block.")


class ImportUpload(BaseModel):
    """The multipart form: the CSV file as the part ``file`` (a ``text/csv`` body is taken as well)."""

    file: Any = Field(description="The CSV file.", json_schema_extra={"type": "string", "format": "binary"})


class ImportOut(BaseModel):
    """What an import stored (the whole file: an import is all or nothing)."""

    wave: str = Field(description="The wave the answers went into.")
    rows: int = Field(description="Rows stored (one resident each).")
    new_participants: int = Field(description="Residents made for participant codes the project did not know.")
    completed: int = Field(description="Responses completed by this import (for `retro`: post responses updated).")
    waiting: int = Field(description="`retro` only: rows whose post response is not completed yet.")


class RowError(FieldError):
    """One problem of a refused file."""

    row: int | None = Field(default=None, description="The file's line number (the header is line 1); "
                                                      "null for a problem of the header or the whole file.")
    column: str | None = Field(default=None, description="The column's name, when the problem is one cell.")


class ImportProblem(Problem):
    """A refused file: nothing was stored; ``errors`` lists every problem."""

    errors: list[RowError] | None = Field(  # type: ignore[assignment]  # a narrower entry than Problem's
        default=None, description="Every problem: row, column and what is wrong.")


def row_error(line: str) -> dict:
    """One of the service's problem lines as ``{location, message, row, column}``."""
    found = _ROW.match(line)
    if found is None:
        where, _sep, message = line.partition(": ")
        header = where == "header" and bool(message)
        return {"location": "header" if header else "file", "message": message if header else line,
                "row": None, "column": None}
    row, column = int(found["row"]), found["column"]
    location = f"row {row}" + (f", column {column}" if column is not None else "")
    return {"location": location, "message": found["message"], "row": row, "column": column}


def _file_bytes(limit: int) -> bytes:
    """The CSV: a multipart part named ``file``, else the request body (``text/csv``); at most ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        raise ApiProblem(413, "too-large", f"The file is too large: at most {limit // (1024 * 1024)} MB.")
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        data = upload.read(limit + 1) if upload is not None else b""
    else:
        data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise ApiProblem(413, "too-large", f"The file is too large: at most {limit // (1024 * 1024)} MB.")
    if not data:
        raise ApiProblem(422, "invalid", "Send the CSV file as the request body (text/csv) or as the "
                                         "multipart part 'file'.")
    return data


@bp.post("/projects/<slug>/responses/import")
@api_route("project.residents", "responses:import")
@spec.validate(query=ImportQuery, form=ImportUpload, tags=["responses"],
               resp=Response(HTTP_200=ImportOut, HTTP_413=Problem, HTTP_422=ImportProblem, **ON_PROJECT))
def import_responses(slug: str, query: ImportQuery):
    """Import answers from a CSV file.

    Send the file as the body (`Content-Type: text/csv`) or as the multipart part `file`. Columns:
    `participant` (the resident's code; an unknown code makes a new pseudonymous resident) and one
    column per question id (`org_1`, or `organising.org_1` where two instruments share an id; for
    `wave=retro` also `then_org_1`). An empty cell is unanswered; commas or semicolons, decimal
    points or commas and Excel's encodings are read as the import page reads them. A file with any
    bad row is refused whole (422, nothing stored) and `errors` lists every problem with its row
    and column. Running the same file again stores the same result. At most 20,000 rows and
    `MAX_UPLOAD_BYTES` (default 2 MB) per request.
    """
    ctx = service_context()
    data = _file_bytes(current_app.config["MAX_UPLOAD_BYTES"])
    host = ctx.host
    try:
        result = imports.import_responses(
            ctx.session, ctx.registry, ctx.actor, slug, query.wave, data, commit=ctx.session.commit,
            on_score_error=ctx.registry.scoring_error_handler(host) if host is not None else None,
            on_completed=responses.announcer(host) if host is not None else None, badges_base_url=ctx.base_url)
    except imports.ImportRefused as exc:
        ctx.session.rollback()
        return problem(422, "invalid", f"{exc}; every problem is listed in errors",
                       errors=[row_error(line) for line in exc.problems])
    if host is not None:
        host.problems.flush()
    return ImportOut(wave=result.wave, rows=result.rows, new_participants=result.new_participants,
                     completed=result.completed, waiting=result.waiting)
