"""Row-level exports through the API: the files the export page gives, and the same rows as JSON.

One row per resident and wave begun, pseudonymous codes only (``services.exports.response_table``).
CSV and JSON are streamed while the rows are read in batches, each in a short read transaction,
so any size goes straight to the client. A workbook or SPSS file is only valid once finished and
is written whole first; above ``EXPORT_ROWS_INSTANT`` rows (the size at which the page hands the
work to a job) the API refuses those formats and points to CSV or JSON. Every download is
recorded in the audit log, as the page records it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Literal, TypeVar

from flask import request, stream_with_context
from pydantic import BaseModel, Field, ValidationError
from spectree import Response
from werkzeug.wrappers import Response as RawResponse

from surveyhub.services import audit, document_jobs, exports
from surveyhub.web.api import bp, spec
from surveyhub.web.api.auth import api_route, service_context
from surveyhub.web.api.endpoints.projects import ON_PROJECT
from surveyhub.web.api.errors import ApiProblem, RequestInvalid
from surveyhub.web.api.problems import Problem

JSON_MEDIA_TYPE = "application/json"
Q = TypeVar("Q", bound=BaseModel)


class ExportQuery(BaseModel):
    format: str = Field(default="csv", max_length=40, description="`csv`, `xlsx`, `sav`, `json`, or a format a "
                                                                   "plugin adds.")
    dialect: Literal["default", "excel-nl"] = Field(default="default", description="csv only: `excel-nl` writes "
                                                    "semicolons, decimal commas and a byte-order mark.")


def download(body: Iterator[bytes], mimetype: str, filename: str) -> RawResponse:
    """A streamed file download.

    A plain Werkzeug response, not Flask's: SpecTree reads a Flask response whole to validate it,
    which would hold a large export in memory; this one it passes through untouched.
    """
    if mimetype.startswith("text/") or mimetype == JSON_MEDIA_TYPE:
        mimetype += "; charset=utf-8"
    return RawResponse(stream_with_context(body), content_type=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store"})


def parse_query(model: type[Q], args) -> Q:
    """Validate query parameters by hand, for routes whose SpecTree validation is off (streamed files)."""
    try:
        return model.model_validate(args.to_dict())
    except ValidationError as exc:
        raise RequestInvalid(exc, "query") from None


def json_rows(table: exports.ExportTable) -> Iterator[bytes]:
    """The table as one JSON object, written row by row: ``columns``, ``labels``, ``value_labels``, ``rows``."""
    head = {"columns": table.columns, "labels": table.labels,
            "value_labels": {column: {_number_key(value): label for value, label in labels.items()}
                             for column, labels in table.value_labels.items()}}
    yield json.dumps(head, ensure_ascii=False)[:-1].encode("utf-8") + b', "rows": ['
    for n, row in enumerate(table.rows()):
        cells = [None if isinstance(value, float) and not math.isfinite(value) else value for value in row]
        yield (b"," if n else b"") + b"\n" + json.dumps(cells, ensure_ascii=False).encode("utf-8")
    yield b"\n]}\n"


def _number_key(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@bp.get("/projects/<slug>/export")
@api_route("project.rows", "rows:export")
@spec.validate(query=ExportQuery, resp=Response(HTTP_200=(None, "The file: text/csv, application/json, "
                                                "an XLSX workbook or an SPSS .sav file."), HTTP_422=Problem,
                                                **ON_PROJECT),
               tags=["exports"], skip_validation=True)
def export(slug: str):
    """Every response of the project, one row per resident and wave.

    `format=csv` (default; `dialect=excel-nl` for Dutch Excel), `xlsx`, `sav`, a plugin's format, or
    `json`: `{"columns": [...], "labels": {...}, "value_labels": {...}, "rows": [[...], ...]}`,
    rows in column order. Personal data (pseudonymous codes, answers and scores): admin and worker
    tokens with the scope `rows:export` only. CSV and JSON stream any size; `xlsx`, `sav` and
    plugin formats are refused above 2,000 rows (use CSV or JSON, or the export page, which makes
    a large file in the background). Recorded in the audit log.
    """
    query = parse_query(ExportQuery, request.args)
    ctx = service_context()
    project = ctx.project(slug, "project.rows")
    fmt, dialect = query.format, query.dialect
    exporter = None if fmt == "json" else exports.exporter_for(fmt, ctx.host, dialect)
    if fmt == "json" and dialect != "default":
        raise ApiProblem(422, "invalid", "dialect applies to the csv format only")
    streamed = fmt == "json" or isinstance(exporter, exports.CsvFormat)
    if not streamed:
        rows = document_jobs.export_rows(ctx.session, ctx.actor, slug)
        if rows > document_jobs.EXPORT_ROWS_INSTANT:
            raise ApiProblem(422, "invalid", f"This export has {rows} rows; {fmt} is made through the API up to "
                             f"{document_jobs.EXPORT_ROWS_INSTANT} rows. Ask for format=csv or format=json "
                             "(streamed at any size).")
    table = exports.response_table(ctx.session, ctx.actor, slug, lang=ctx.lang)
    # End this request's read transaction: the rows are read in short ones while streaming.
    ctx.session.commit()
    suffix = "-excel-nl" if dialect == "excel-nl" else ""
    if exporter is None:
        body, mimetype, extension = json_rows(table), JSON_MEDIA_TYPE, "json"
    else:
        body, mimetype, extension = exports.chunks(exporter, table), exporter.mimetype, exporter.extension
    audit.download(ctx.session, ctx.actor, "download.export", slug, project_id=project.id, format=fmt,
                   dialect=None if dialect == "default" else dialect, table="responses")
    ctx.session.commit()
    return download(body, mimetype, f"{slug}-responses{suffix}.{extension}")
