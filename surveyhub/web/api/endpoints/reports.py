"""Outcomes through the API: a project's report JSON and the organisation's report for a period.

Both are the documents the CLI and the pages give (``services.outcomes.project_report``,
``services.org_report.build``): the same suppression of small numbers under the organisation's
or the installation's thresholds (a token cannot lower them), and a funder token reads what a
funder reads (only projects shared with its funder). The keys are documented in
``docs/report-json.md`` and ``docs/org-report-json.md``; the models below name the top level
and let every key through, so the API never drops one the report adds later.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from spectree import Response

from surveyhub.locale import local_today
from surveyhub.services import audit, org_report, outcomes
from surveyhub.web.api import bp, spec
from surveyhub.web.api.auth import api_route, service_context
from surveyhub.web.api.endpoints.projects import COMMON, ON_PROJECT
from surveyhub.web.api.problems import Problem


class ProjectReport(BaseModel):
    """The report JSON of one project, key for key as `surveyhub report PROJECT --format json` writes it
    (docs/report-json.md). Suppressed figures are null; counts below `min_cell` are the text `"<N"`."""

    model_config = ConfigDict(extra="allow")

    report_version: int = Field(description="1; changes only when a key changes meaning.")
    generated_at: str = Field(description="When the report was computed, UTC, e.g. `2026-11-25T10:00:00Z`.")
    project: dict[str, Any] = Field(description="Which project: slug, name, organisation, instruments, period, story.")
    thresholds: dict[str, Any] = Field(description="The small-number thresholds used and where each came from.")
    design: dict[str, Any] = Field(description="How change was measured.")
    participation: dict[str, Any] = Field(description="Who took part and how responses were paired.")
    scales: list[dict[str, Any]] = Field(description="One change entry per instrument scale: pre to post.")
    retrospective: list[dict[str, Any]] = Field(description="Then to post ('self-perceived change').")
    followup: list[dict[str, Any]] = Field(description="Pre to follow-up.")
    persistence: list[dict[str, Any]] = Field(description="Post to follow-up ('did the change last?').")
    quotes: list[dict[str, Any]] = Field(description="Open answers residents agreed to share.")
    participation_profile: dict[str, Any] | None = Field(description="What residents did (activities, hours).")
    exploratory: dict[str, Any] = Field(description="Change by how much residents did; exploratory, not causal.")


class OrgReportQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: date | None = Field(default=None, alias="from", description="First day (YYYY-MM-DD); default: "
                                                                      "1 January of this year.")
    end: date | None = Field(default=None, alias="to", description="Last day (YYYY-MM-DD); default: "
                                                                  "31 December of this year.")


class OrganisationReport(BaseModel):
    """The organisation's report across its projects for a period, as `surveyhub report --org ORG --from --to`
    writes it (docs/org-report-json.md). A funder token's holds only the projects shared with its funder."""

    model_config = ConfigDict(extra="allow")

    report_version: int = Field(description="1; changes only when a key changes meaning.")
    generated_at: str = Field(description="When the report was computed, UTC.")
    organisation: dict[str, Any] = Field(description="`name` and `slug`.")
    period: dict[str, Any] = Field(description="`start` and `end`, ISO dates.")
    thresholds: dict[str, Any] = Field(description="The small-number thresholds used.")
    projects: list[dict[str, Any]] = Field(description="One row per project with answers in the period.")
    totals: dict[str, Any] = Field(description="Residents, responses and pairs over all projects.")
    scales: list[dict[str, Any]] = Field(description="Change per scale, pooled over the projects.")
    match_rate: float | None = Field(description="Pairs divided by completed post responses; null without any.")


@bp.get("/projects/<slug>/report")
@api_route("project.outcomes", "outcomes:read")
@spec.validate(resp=Response(HTTP_200=ProjectReport, **ON_PROJECT), tags=["outcomes"])
def project_report(slug: str):
    """A project's report JSON.

    Exactly what `surveyhub report PROJECT --format json` and the dashboard's JSON download give:
    per scale the change with its confidence interval, effect sizes, tests and reliable change,
    suppressed below the organisation's thresholds. A funder token may read it for projects shared
    with its funder. The download is recorded in the audit log.
    """
    ctx = service_context()
    project = ctx.project(slug, "project.outcomes")
    report = outcomes.project_report(ctx.session, ctx.registry, ctx.actor, slug, defaults=ctx.thresholds,
                                     project=project)
    audit.download(ctx.session, ctx.actor, "download.report", slug, project_id=project.id, format="json")
    ctx.session.commit()
    return ProjectReport.model_validate(report)


@bp.get("/organisation/report")
@api_route("org.outcomes", "outcomes:read")
@spec.validate(query=OrgReportQuery, resp=Response(HTTP_200=OrganisationReport, HTTP_422=Problem, **COMMON),
               tags=["outcomes"])
def organisation_report(query: OrgReportQuery):
    """The organisation's report across its projects for a period.

    `from` and `to` are the period's first and last day (both included); without them, this
    calendar year on the installation's clock. A funder token's report holds only the projects
    shared with its funder. The download is recorded in the audit log.
    """
    ctx = service_context()
    today = local_today(ctx.timezone)
    start = query.start or date(today.year, 1, 1)
    end = query.end or date(today.year, 12, 31)
    report = org_report.build(ctx, start=start, end=end)
    audit.record(ctx.session, "download.report", actor=ctx.actor, target=f"organisation:{ctx.actor.organisation_id}",
                 details={"kind": "org_report", "format": "json", "start": report["period"]["start"],
                          "end": report["period"]["end"]})
    ctx.session.commit()
    return OrganisationReport.model_validate(report)
