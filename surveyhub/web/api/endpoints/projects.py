"""Projects and their waves: list, read, create, open and close a wave.

The routes call the services the project pages and ``surveyhub project create`` / ``wave open``
call, so the same rules, audit trail and events hold. No route here returns a resident's name,
e-mail address or link: those are on the participant routes (scope ``projects:manage``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from flask import url_for
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response

from surveyhub.db import unit_of_work
from surveyhub.plugins import get_registry
from surveyhub.services import projects as project_service
from surveyhub.services.errors import NotFound
from surveyhub.web.api import bp, spec
from surveyhub.web.api.auth import api_route, service_context
from surveyhub.web.api.idempotency import once
from surveyhub.web.api.errors import RequestInvalid
from surveyhub.web.api.problems import Problem

#: The problems every route with a token can answer.
COMMON = {"HTTP_401": Problem, "HTTP_403": Problem, "HTTP_429": Problem}
#: ... and a project route, whose project may be unknown or not the caller's.
ON_PROJECT = {**COMMON, "HTTP_404": Problem}
#: The wave kinds a URL may name; any other is a 404 (no such wave), as an unknown project is.
WAVE_PATH = "<any(pre,post,followup):kind>"


class Wave(BaseModel):
    kind: str = Field(description="pre, post or followup")
    status: str = Field(description="draft (not opened), open or closed")
    started: int = Field(description="Residents who began this wave.")
    completed: int = Field(description="Residents who completed this wave.")


class ProjectOut(BaseModel):
    slug: str = Field(description="The project's identifier in every URL, e.g. `speeltuin-de-vlinder`.")
    name: str
    description: str | None = None
    retrospective: bool = Field(description="One questionnaire after the project, looking back (no pre wave).")
    instruments: list[str] = Field(description="Pinned instrument versions, e.g. `cooperation@1`.")
    waves: list[Wave]
    participants: int = Field(description="Residents in the project.")
    archived: bool
    period_start: date | None = None
    period_end: date | None = None
    form_length: str = Field(default="full", description="`full`, or `short`: each scale's short form.")
    question_mode: str = Field(default="page", description="`page` (a page of questions) or `one` per screen.")
    language: str = Field(default="nl", description="The language residents see first.")
    retention_months: int | None = Field(
        default=None, description="Months personal data is kept after the last wave; null: the organisation's.")


class ProjectList(BaseModel):
    projects: list[ProjectOut]


class ProjectIn(BaseModel):
    """A new project, as the project form and ``surveyhub project create`` take it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Speeltuin De Vlinder", "instruments": ["organising", "cooperation"],
         "description": "Residents build and run a playground."}]})

    name: str = Field(min_length=1, max_length=200, description="The project's name; its slug is made from it.")
    instruments: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(
        min_length=1, max_length=20,
        description="Instrument ids, each optionally pinned to a version (`organising@1`); the latest version "
                    "otherwise. See `surveyhub instruments list`.")
    retrospective: bool = Field(default=False, strict=True, description="Ask the post wave's 'then' block (then-test).")
    description: str | None = Field(default=None, max_length=2000)
    retention_months: int | None = Field(
        default=None, ge=1, le=project_service.MAX_RETENTION_MONTHS, strict=True,
        description="Keep personal data this many months after the last wave closes (default: the organisation's).")
    form_length: Literal[project_service.FORM_LENGTHS] = Field(  # type: ignore[valid-type]
        default="full", description="`short`: 3 or 4 items per scale.")
    question_mode: Literal[project_service.QUESTION_MODES] = Field(  # type: ignore[valid-type]
        default="page", description="`one`: one question per screen.")
    language: Literal[project_service.PROJECT_LANGUAGES] = Field(  # type: ignore[valid-type]
        default="nl", description="The language residents see first; every instrument must have it.")
    period_start: date | None = Field(default=None, description="The project's first day.")
    period_end: date | None = Field(default=None, description="The project's last day.")


class _FieldError:
    """One request field the services refused, in the shape of a validation error (``errors.field_errors``)."""

    def __init__(self, location: tuple[str, ...], message: str):
        self.location, self.message = location, message

    def errors(self) -> list[dict]:
        return [{"loc": self.location, "msg": self.message}]


def project_out(info: project_service.ProjectInfo) -> ProjectOut:
    return ProjectOut(slug=info.slug, name=info.name, description=info.description, retrospective=info.retrospective,
                      instruments=info.instruments,
                      waves=[wave_out(w) for w in info.waves],
                      participants=info.participants, archived=info.archived, period_start=info.period_start,
                      period_end=info.period_end, form_length=info.form_length, question_mode=info.question_mode,
                      language=info.language, retention_months=info.retention_months)


def wave_out(wave: project_service.WaveInfo) -> Wave:
    return Wave(kind=wave.kind, status=wave.status, started=wave.started, completed=wave.completed)


@bp.get("/projects")
@api_route("project.list", None)
@spec.validate(resp=Response(HTTP_200=ProjectList, **COMMON), tags=["projects"])
def list_projects():
    """The projects the token may see.

    A funder token sees only the projects shared with its funder. Archived projects are left out.
    """
    ctx = service_context()
    return ProjectList(projects=[project_out(info) for info in project_service.list_projects(ctx.session, ctx.actor)])


@bp.get("/projects/<slug>")
@api_route("project.list", None)
@spec.validate(resp=Response(HTTP_200=ProjectOut, **ON_PROJECT), tags=["projects"])
def get_project(slug: str):
    """One project: its instruments, waves and how many residents began and completed each.

    A funder token reads only projects shared with its funder; any other is a 404.
    """
    ctx = service_context()
    return project_out(project_service.get_project(ctx.session, ctx.actor, slug))


@bp.post("/projects")
@api_route("project.setup", "projects:manage")
@spec.validate(json=ProjectIn, resp=Response(HTTP_201=ProjectOut, HTTP_422=Problem, **ON_PROJECT),  # a funder: 404
               tags=["projects"])
def create_project(json: ProjectIn):
    """Create a project, with its pre wave open.

    As the new-project page and `surveyhub project create` do. An unknown instrument is a 422
    naming the field `instruments`. The answer's `Location` header is the project's URL.

    With an `Idempotency-Key` header a retry of the same request makes no second project: it answers
    with the first one (header `Idempotent-Replayed: true`).
    """
    ctx = service_context()
    setup = project_service.Setup(form_length=json.form_length, question_mode=json.question_mode,
                                  language=json.language, period=(json.period_start, json.period_end))

    def work(remember):
        try:
            with unit_of_work(ctx.session):
                info = project_service.create_project(
                    ctx.session, get_registry(), ctx.actor, json.name, list(json.instruments), json.retrospective,
                    json.description, retention_months=json.retention_months, setup=setup)
                remember({"slug": info.slug})
        except NotFound as exc:  # the only thing create_project looks up is an instrument
            raise RequestInvalid(_FieldError(("instruments",), str(exc)), "body") from exc
        return _created(info)

    return once("projects.create", work,
                lambda result: _created(project_service.get_project(ctx.session, ctx.actor, result["slug"])))


def _created(info: project_service.ProjectInfo):
    return project_out(info), 201, {"Location": url_for("api.get_project", slug=info.slug, _external=False)}


def _set_wave(slug: str, kind: str, status: str) -> Wave:
    ctx = service_context()
    with unit_of_work(ctx.session):
        project_service.set_wave_status(ctx.session, ctx.actor, slug, kind, status)
    info = project_service.get_project(ctx.session, ctx.actor, slug)
    return wave_out(next(w for w in info.waves if w.kind == kind))


@bp.post(f"/projects/<slug>/waves/{WAVE_PATH}/open")
@api_route("project.setup", "projects:manage")
@spec.validate(resp=Response(HTTP_200=Wave, HTTP_409=Problem, **ON_PROJECT), tags=["waves"])
def open_wave(slug: str, kind: str):
    """Open a wave: residents can answer it through their links.

    Opening an open wave changes nothing and answers the same. An archived project is a 409.
    A wave kind other than pre, post or followup is a 404: the URL names no wave.
    """
    return _set_wave(slug, kind, "open")


@bp.post(f"/projects/<slug>/waves/{WAVE_PATH}/close")
@api_route("project.setup", "projects:manage")
@spec.validate(resp=Response(HTTP_200=Wave, HTTP_409=Problem, **ON_PROJECT), tags=["waves"])
def close_wave(slug: str, kind: str):
    """Close a wave: residents can no longer answer it; answers already saved are kept.

    Closing a closed wave changes nothing and answers the same. An archived project is a 409.
    """
    return _set_wave(slug, kind, "closed")
