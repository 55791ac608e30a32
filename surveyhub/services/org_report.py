"""The organisation's report for a period: its projects together, for the funder.

:func:`build` returns the JSON documented in ``docs/org-report-json.md`` (typed in
``org_report_contract.OrgReport``): the engine's figures across the projects the actor may see
(``across.summarise``; a funder's report holds only the projects shared with them), quotes residents
agreed to share, the limitations to state and the method. The PDF is rendered from the same value.
"""

from __future__ import annotations

from datetime import date, timezone
from typing import cast

from sqlalchemy import distinct, func, select

from surveyhub.models import InstrumentVersion, Organisation, Project, ProjectInstrument
from surveyhub.models._types import utcnow
from surveyhub.services import access, across, across_period, outcome_data, reference, responses
from surveyhub.services.context import ServiceContext
from surveyhub.services.errors import N_, Invalid
from surveyhub.services.outcome_data import ProjectData
from surveyhub.services.org_report_contract import (InstrumentUse, Limitation, OrgMethod, OrgQuote, OrgReport,
                                                    Summary)
from surveyhub.services.outcomes import METHOD, _finite, _quotes, resolve_thresholds
from surveyhub.services.report_contract import Reference

#: Raised when a key changes meaning; added keys do not raise it.
REPORT_VERSION = 1

#: At most this many quotes, taken in turn from each project (the worker's chosen ones where they chose).
MAX_QUOTES = 8
#: ... and at most this many from one project.
MAX_QUOTES_PER_PROJECT = 2

#: Below this share of post responses paired with a pre response, the report names the match rate as a limit.
LOW_MATCH_RATE = 0.8

#: What the method section says; plain text a renderer may translate (``instruments`` is added per report).
ORG_METHOD = {
    "period": "Both ends of the period count (days in the installation's time zone). A pre → post pair counts in "
              "the period when its post response was completed in it; pairs are made as in each project's own "
              "report. The change takes a project's pairs in blocks: in the order their post questionnaires came "
              "in, every N pairs form a block (N: the installation's own min_tests, whatever the report's; a last, "
              "smaller block joins the one before), and a block counts when its last post questionnaire was "
              "completed in the period. So reports of two periods differ by whole blocks, never by one resident; "
              "the pairs behind a change can therefore differ a little from the pairs counted in the period.",
    "residents": "A resident took part in the period when they completed a questionnaire or took part in a "
                 "confirmed activity held in it. Residents reached are counted once: residents who made their "
                 "own code are one person wherever the same code appears, in any project or organisation; others "
                 "count once per project.",
    "pooling": "A scale is pooled over all pairs of the projects that used the same instrument and the same "
               "version; different versions are never pooled together. A project with fewer pairs on a scale "
               "than min_means is left out of the pool, so its figures cannot be worked out from the pooled "
               "result and the other projects. Holm's correction runs over the pooled scales.",
    "forest": "Per project the mean change with its 95% interval, under the same small-number rules as the "
              "project's own report, and the pooled result.",
    "reliable_change": "Per pooled scale as in the project report. The overall counts add up the resident × scale "
                       "outcomes of the scales whose three counts are all shown as numbers (one resident counts "
                       "once per scale).",
    "suppression": "No means below min_means pairs, no tests or effect sizes below min_tests, counts below "
                   "min_cell shown as '<N'; as in the project report.",
    "change": METHOD["change"] + " " + METHOD["ci95"] + " " + METHOD["effect_sizes"],
    "scope": "Pre → post change only: the look-back (then-test) and the follow-up are in each project's own report.",
}


def build(ctx: ServiceContext, *, start: date, end: date, min_means: int | None = None,
          min_tests: int | None = None, min_cell: int | None = None) -> OrgReport:
    """The report of the actor's organisation for ``start`` … ``end`` (both inclusive).

    :raises Invalid: when ``start`` is after ``end``.
    :raises Forbidden: for a role without ``org.outcomes``.
    """
    access.require(ctx.actor, "org.outcomes")
    if start > end:
        raise Invalid(N_("the period starts (%(start)s) after it ends (%(end)s)"),
                      start=start.isoformat(), end=end.isoformat())
    session = ctx.session
    org = access.organisation(session, ctx.actor)
    thresholds = resolve_thresholds(org, ctx.thresholds, min_means=min_means, min_tests=min_tests,
                                    min_cell=min_cell)
    projects = list(session.scalars(access.projects_query(ctx.actor).order_by(Project.name, Project.id)))
    loaded: dict[int, ProjectData] = {}
    summary = across.summarise(session, ctx.registry, projects, start=start, end=end, thresholds=thresholds,
                               keep=loaded, block=across_period.block_size(ctx.thresholds), zone=ctx.timezone)
    by_slug = {project.slug: project for project in projects}
    posts = sum(row["post"] for row in summary["projects"])
    match_rate = summary["totals"]["pairs"] / posts if posts else None
    report = {
        "report_version": REPORT_VERSION,
        "generated_at": utcnow().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "organisation": {"name": org.name, "slug": org.slug},
        **summary,
        "match_rate": match_rate,
        "quotes": quotes(ctx, [by_slug[row["slug"]] for row in summary["projects"]], loaded),
        "limitations": limitations(summary, match_rate),
        "method": method(summary),
        "reference": reference_values(ctx, summary, org.id),
    }
    return cast(OrgReport, _finite(report))


def quotes(ctx: ServiceContext, projects: list[Project], loaded: dict[int, ProjectData] | None = None) \
        -> list[OrgQuote]:
    """Quotes residents agreed to share, by the project report's rules, taken in turn from each project."""
    per_project: list[list[OrgQuote]] = []
    for project in projects:
        data = (loaded or {}).get(project.id) or outcome_data.load(ctx.session, project, with_scores=False)
        found = _quotes(ctx.session, project, data, responses.project_definitions(project))
        per_project.append([cast(OrgQuote, {**quote, "project": project.name})
                            for quote in found[:MAX_QUOTES_PER_PROJECT]])
    chosen: list[OrgQuote] = []
    for turn in range(MAX_QUOTES_PER_PROJECT):
        chosen.extend(found[turn] for found in per_project if len(found) > turn)
    return chosen[:MAX_QUOTES]


def method(summary: Summary) -> OrgMethod:
    """The method texts, and the instrument versions the report's projects ask (with how many projects)."""
    used: dict[tuple[str, int], InstrumentUse] = {}
    for row in summary["projects"]:
        for instrument in row["instruments"]:
            key = (instrument["id"], instrument["version"])
            if key not in used:
                used[key] = {"id": instrument["id"], "version": instrument["version"], "title": instrument["title"],
                             "projects": 0}
            used[key]["projects"] += 1
    return cast(OrgMethod, {**ORG_METHOD, "instruments": [used[key] for key in sorted(used)]})


def limitations(summary: Summary, match_rate: float | None) -> list[Limitation]:
    """The limits a reader must know, as keys (the PDF words them)."""
    found: list[Limitation] = ["no_control_group", "self_report"]
    if match_rate is not None and match_rate < LOW_MATCH_RATE:
        found.append("match_rate")
    if summary["version_notes"]:
        found.append("versions_differ")
    if any(entry["projects_too_small"] for entry in summary["scales"]):
        found.append("projects_too_small")
    if summary["totals"]["residents"] < summary["totals"]["residents_in_projects"]:
        found.append("same_residents_in_several_projects")
    if not summary["totals"]["pairs"]:
        found.append("no_pairs")
    if any(entry["blocks_differ"] for entry in summary["scales"]):
        found.append("change_in_blocks")
    return found


def reference_values(ctx: ServiceContext, summary: Summary, organisation_id: int) -> dict[str, Reference]:
    """Compared with similar projects, per pooled scale ("instrument@version/scale"), from ``services.reference``.

    Set on each pooled entry (``reference``) too. Other organisations' projects only, under the
    installation's thresholds (never the report's own), as in the project report.
    """
    book = reference.ReferenceBook(ctx.session, max(ctx.thresholds.min_means, ctx.thresholds.min_tests))
    enough = _enough_others(ctx, organisation_id)
    found: dict[str, Reference] = {}
    for entry in summary["scales"]:
        value = (book.lookup(entry["instrument"], entry["instrument_version"], entry["scale"],
                             organisation_id=organisation_id)
                 if (entry["instrument"], entry["instrument_version"]) in enough
                 else reference.not_shown("too_few_projects"))
        entry["reference"] = value
        found[f"{entry['instrument']}@{entry['instrument_version']}/{entry['scale']}"] = value
    return found


def _enough_others(ctx: ServiceContext, organisation_id: int) -> set[tuple[str, int]]:
    """Instrument versions that enough other organisations' sharing projects use for a reference value.

    One query that spares reading the projects of every instrument version that could never reach
    ``reference.MIN_PROJECTS`` projects of ``MIN_ORGANISATIONS`` organisations (the reference reads
    only installed versions, ``scope "*"``).
    """
    rows = ctx.session.execute(
        select(InstrumentVersion.instrument_id, InstrumentVersion.version, func.count(distinct(Project.id)),
               func.count(distinct(Project.organisation_id)))
        .join(ProjectInstrument, ProjectInstrument.instrument_version_id == InstrumentVersion.id)
        .join(Project, Project.id == ProjectInstrument.project_id)
        .join(Organisation, Organisation.id == Project.organisation_id)
        .where(Project.organisation_id != organisation_id, Organisation.shares_reference.is_(True),
               Project.purged_at.is_(None), InstrumentVersion.scope == "*")
        .group_by(InstrumentVersion.instrument_id, InstrumentVersion.version))
    return {(instrument_id, version) for instrument_id, version, projects, organisations in rows
            if projects >= reference.MIN_PROJECTS and organisations >= reference.MIN_ORGANISATIONS}
