"""Projects and their waves."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field
from spectree import Response

from surveyhub.services import projects as project_service
from surveyhub.web.api import bp, spec
from surveyhub.web.api.auth import api_route, service_context
from surveyhub.web.api.problems import Problem

#: The problems every route with a token can answer.
COMMON = {"HTTP_401": Problem, "HTTP_403": Problem, "HTTP_429": Problem}
#: ... and a project route, whose project may be unknown or not the caller's.
ON_PROJECT = {**COMMON, "HTTP_404": Problem}


class Wave(BaseModel):
    kind: str = Field(description="pre, post or followup")
    status: str = Field(description="draft (not opened), open or closed")
    started: int = Field(description="Residents who began this wave.")
    completed: int = Field(description="Residents who completed this wave.")


class ProjectOut(BaseModel):
    slug: str
    name: str
    description: str | None = None
    retrospective: bool = Field(description="One questionnaire after the project, looking back (no pre wave).")
    instruments: list[str] = Field(description="Pinned instrument versions, e.g. `cooperation@1`.")
    waves: list[Wave]
    participants: int = Field(description="Residents in the project.")
    archived: bool
    period_start: date | None = None
    period_end: date | None = None


class ProjectList(BaseModel):
    projects: list[ProjectOut]


def project_out(info: project_service.ProjectInfo) -> ProjectOut:
    return ProjectOut(slug=info.slug, name=info.name, description=info.description, retrospective=info.retrospective,
                      instruments=info.instruments,
                      waves=[Wave(kind=w.kind, status=w.status, started=w.started, completed=w.completed)
                             for w in info.waves],
                      participants=info.participants, archived=info.archived, period_start=info.period_start,
                      period_end=info.period_end)


@bp.get("/projects")
@api_route("project.list", None)
@spec.validate(resp=Response(HTTP_200=ProjectList, **COMMON), tags=["projects"])
def list_projects():
    """The projects the token may see.

    A funder token sees only the projects shared with its funder. Archived projects are left out.
    """
    ctx = service_context()
    return ProjectList(projects=[project_out(info) for info in project_service.list_projects(ctx.session, ctx.actor)])
