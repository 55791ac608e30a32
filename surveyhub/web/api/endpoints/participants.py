"""Participants of a project: add them, list them with the state of each wave, hand out their links.

Names, e-mail addresses and personal links are personal data and secrets: every route here needs
the capability ``project.residents`` (admins and workers; a funder token gets a 404, as a funder
does on the pages) and the scope ``projects:manage``. The routes call the services the
participants page and ``surveyhub participants add`` call, so the audit trail is the same:
adding residents is recorded, and so is every look at a personal link (``participant.view_link``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from spectree import Response

from surveyhub.db import unit_of_work
from surveyhub.services import participants as participant_service
from surveyhub.web.api import bp, spec
from surveyhub.web.api.auth import api_route, service_context
from surveyhub.web.api.idempotency import once
from surveyhub.web.api.endpoints.projects import ON_PROJECT
from surveyhub.web.api.problems import Problem

State = Literal["not_started", "busy", "done"]
#: Rows per page of the list: the default and the most a client may ask for.
DEFAULT_LIMIT, MAX_LIMIT = 100, 500
#: Residents one call may add: a call must finish well within a request's time (the service allows
#: more at once, for the command line); a script adds more in several calls.
MAX_PER_CALL = 1000
#: Something before and after one @, no spaces or control characters (spelt out: ``\s`` means
#: different characters to Python and to the JSON Schema regex a client checks against).
EMAIL_PATTERN = r"^[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f]+$"


class ParticipantIn(BaseModel):
    """One resident to add; an empty object adds an anonymous resident (a code and a link only)."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=200,
                                     description="The name the worker and the certificate use; optional.")
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN,
                              description="Where invitations may be sent; optional.")


class ParticipantsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"participants": [{"display_name": "Fatima", "email": "fatima@example.org"}, {"display_name": "Henk"}, {}]}]})

    participants: list[ParticipantIn] = Field(
        min_length=1, max_length=MAX_PER_CALL,
        description=f"The residents to add (1 to {MAX_PER_CALL}; more in several calls). Sending the same entry twice "
                    "adds two residents: names need not be unique.")


class Link(BaseModel):
    code: str = Field(description="The resident's pseudonymous code, e.g. `R-7KQ2M`.")
    link: str | None = Field(description="The personal link (a secret: whoever has it answers as this resident); "
                                         "null when the resident has no working link (joined through the project "
                                         "link with their own code).")
    short_link: str | None = Field(default=None, description="The same link with a short code for typing.")


class Added(Link):
    display_name: str | None = None
    email: str | None = None


class AddedList(BaseModel):
    participants: list[Added] = Field(description="In the order sent, each with its new code and personal link.")


class WaveStates(BaseModel):
    """Per wave: not_started, busy (began, not sent) or done (completed), as the participants page shows."""

    pre: State | None = None
    post: State | None = None
    followup: State | None = None


class ParticipantOut(BaseModel):
    code: str = Field(description="The resident's pseudonymous code.")
    display_name: str | None = None
    email: str | None = None
    source: str = Field(description="How the resident came in: `link` (added by a worker), `anonymous` (own "
                                    "code through the project link), `paper` or `import`.")
    status: WaveStates
    next_wave: str | None = Field(description="The first open wave this resident has not finished, else null.")
    has_link: bool = Field(description="Whether the resident has a working personal link (get it at `.../link`).")
    also: list[str] = Field(default_factory=list, description="Codes the report counts as this same resident "
                                                              "(their own code typed again); their waves are merged.")


class ParticipantPage(BaseModel):
    participants: list[ParticipantOut]
    total: int = Field(description="Rows in the whole list.")
    offset: int
    limit: int
    next_offset: int | None = Field(description="The `offset` of the next page; null on the last page.")


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Rows per page.")
    offset: int = Field(default=0, ge=0, le=10_000_000,
                        description="Rows to skip. The order is stable (oldest first); new residents come last.")


def participant_out(row: participant_service.ParticipantRow) -> ParticipantOut:
    return ParticipantOut(code=row.code, display_name=row.display_name, email=row.email, source=row.source,
                          status=WaveStates(**row.status), next_wave=row.next_wave, has_link=row.token is not None,
                          also=list(row.also))


@bp.post("/projects/<slug>/participants")
@api_route("project.residents", "projects:manage")
@spec.validate(json=ParticipantsIn, resp=Response(HTTP_201=AddedList, HTTP_409=Problem, HTTP_422=Problem,
                                                  **ON_PROJECT), tags=["participants"])
def add_participants(slug: str, json: ParticipantsIn):
    """Add residents, each with a new code and personal link.

    As the participants page and `surveyhub participants add` do (recorded in the audit trail).
    An archived project is a 409.

    With an `Idempotency-Key` header a retry of the same request adds nobody again: it answers with
    the residents the first one added (header `Idempotent-Replayed: true`).
    """
    ctx = service_context()
    entries = [(one.display_name, one.email) for one in json.participants]

    def work(remember):
        with unit_of_work(ctx.session):
            added = participant_service.add_participants(ctx.session, ctx.actor, slug, entries=entries)
            remember({"codes": [one.code for one in added]})
        return _added(added), 201

    def replay(result: dict):
        with unit_of_work(ctx.session):
            return _added(participant_service.invitations(ctx.session, ctx.actor, slug, result["codes"])), 201
    return once("participants.add", work, replay)


def _added(invitations: list[participant_service.Invitation]) -> AddedList:
    base_url = service_context().base_url
    return AddedList(participants=[
        Added(code=one.code, display_name=one.display_name, email=one.email, link=one.link(base_url),
              short_link=one.short_link(base_url)) for one in invitations])


@bp.get("/projects/<slug>/participants")
@api_route("project.residents", "projects:manage")
@spec.validate(query=ListQuery, resp=Response(HTTP_200=ParticipantPage, HTTP_422=Problem, **ON_PROJECT),
               tags=["participants"])
def list_participants(slug: str, query: ListQuery):
    """The residents with the state of each wave, a page at a time (oldest first).

    Links are not in the list: get one at `.../participants/{code}/link` (each look is audited).
    """
    ctx = service_context()
    rows = participant_service.overview(ctx.session, ctx.actor, slug)
    page = rows[query.offset:query.offset + query.limit]
    following = query.offset + len(page)
    return ParticipantPage(participants=[participant_out(row) for row in page], total=len(rows), offset=query.offset,
                           limit=query.limit, next_offset=following if following < len(rows) else None)


def _row(slug: str, code: str) -> participant_service.ParticipantRow:
    """The resident's row of the overview; a code paired with another resident's shows on that row."""
    ctx = service_context()
    project = ctx.project(slug, "project.residents")
    participant_service.get_participant(ctx.session, ctx.actor, slug, code, project=project)
    rows = participant_service.overview(ctx.session, ctx.actor, slug)
    found = next((row for row in rows if row.code == code), None) or \
        next((row for row in rows if code in row.also), None)
    assert found is not None  # get_participant found the resident, and every resident is on a row
    return found


@bp.get("/projects/<slug>/participants/<code>")
@api_route("project.residents", "projects:manage")
@spec.validate(resp=Response(HTTP_200=ParticipantOut, **ON_PROJECT), tags=["participants"])
def get_participant(slug: str, code: str):
    """One resident with the state of each wave.

    A code that the report pairs with another resident's (their own code typed again) answers with
    that resident's row.
    """
    return participant_out(_row(slug, code))


@bp.get("/projects/<slug>/participants/<code>/link")
@api_route("project.residents", "projects:manage")
@spec.validate(resp=Response(HTTP_200=Link, **ON_PROJECT), tags=["participants"])
def get_link(slug: str, code: str):
    """The resident's personal link, to hand out.

    A secret: whoever has it answers as this resident. Every call is recorded in the audit trail
    (the resident's code and the token's name, never the link), as a worker viewing it on the page is.
    """
    ctx = service_context()
    with unit_of_work(ctx.session):
        found = participant_service.view_links(ctx.session, ctx.actor, slug, code)
    if found is None:
        return Link(code=code, link=None, short_link=None)
    token, short_code = found
    invitation = participant_service.Invitation(code, None, None, token, short_code)
    return Link(code=code, link=invitation.link(ctx.base_url), short_link=invitation.short_link(ctx.base_url))
