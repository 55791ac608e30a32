"""The organisation report JSON and the engine's summary across projects, as types.

``docs/org-report-json.md`` documents these key by key. :func:`surveyhub.services.across.summarise`
returns a :class:`Summary` (the organisation report and the network report both build on it);
:func:`surveyhub.services.org_report.build` adds the organisation, quotes, limitations and method
(:class:`OrgReport`). A pooled scale entry has the project report's scale-entry keys
(``report_contract.ScaleEntry``) plus the forest and the projects behind it.

Numbers the small-number rules hide are ``None``; a count below ``min_cell`` is a label such as ``"<5"``.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from surveyhub.services.report_contract import (Count, InstrumentInfo, Interval, Output, Quote, Reference,
                                               ScaleEntry, Thresholds, Translated)


class PeriodDates(TypedDict):
    """The report's period: both ends inclusive, ISO dates."""

    start: str
    end: str


class ProjectPeriod(TypedDict):
    """When the project itself ran, as the worker recorded it; either end may be unknown."""

    start: str | None
    end: str | None


class ProjectRow(TypedDict):
    """One project in the period: who took part, what was done and made."""

    slug: str
    name: str
    organisation: str
    period: ProjectPeriod
    instruments: list[InstrumentInfo]
    #: Residents who completed a questionnaire or took part in a confirmed activity in the period.
    residents: int
    #: ... of whom completed a questionnaire in the period.
    answered: int
    #: ... of whom took part in a confirmed activity in the period.
    in_activities: int
    #: Post responses completed in the period.
    post: int
    #: Pre → post pairs whose post response was completed in the period.
    pairs: int
    #: Confirmed activities held in the period.
    activities: int
    #: Their hours added up (each activity once).
    activity_hours: float
    #: Residents' hours in them (each resident's own hours, else the activity's).
    resident_hours: float
    #: Outputs and milestones dated in the period.
    outputs: list[Output]


class Totals(TypedDict):
    projects: int
    organisations: int
    #: Unique residents: one self-made code is one person across projects and organisations.
    residents: int
    #: The projects' resident counts added up (a resident in two projects counts twice here).
    residents_in_projects: int
    pairs: int
    activities: int
    activity_hours: float
    resident_hours: float
    outputs: int


class ForestRow(TypedDict):
    """One row of a pooled scale's forest plot: a project, or the pooled result (``kind`` "pooled")."""

    kind: Literal["project", "pooled"]
    slug: str | None
    name: str | None
    organisation: str | None
    n_pairs: int
    mean: float | None
    ci95: Interval
    #: Counted in the pooled row (a project with fewer than min_means pairs is not).
    pooled: bool
    suppressed: list[str]


class PooledScale(ScaleEntry):
    """A scale pooled over every project that used the same instrument id AND version.

    The project report's scale entry over all pooled pairs, plus who is behind it. Only the
    pre wave's reliability (``reliability.pre``, pooled) is given. ``reference`` is the caller's: the
    organisation report fills it in; the engine leaves ``reason: "not_computed"``.
    """

    #: Projects whose pairs are pooled (each with at least min_means pairs on this scale).
    projects: int
    #: Projects with pairs on this scale, but fewer than min_means: left out of the pool.
    projects_too_small: int
    forest: list[ForestRow]
    #: The pairs behind the change are not exactly the period's pairs on this scale: change counts a
    #: project's pairs in blocks (``across_period``), so a block begun before the period counts whole and one
    #: that ends after it not yet.
    blocks_differ: bool


class VersionUse(TypedDict):
    version: int
    projects: list[str]


class VersionNote(TypedDict):
    """Projects used different versions of one instrument: each version is pooled on its own."""

    instrument: str
    title: Translated
    versions: list[VersionUse]


class ReliableChangeOverall(TypedDict):
    """Reliable change summed over the pooled scales (resident × scale outcomes, not residents).

    Only scales whose three counts are all shown as numbers are added, so no hidden count can be
    worked out by subtraction.
    """

    scales: int
    scales_left_out: int
    n: int
    improved: Count
    unchanged: Count
    deteriorated: Count
    suppressed: list[str]


class Summary(TypedDict):
    """What :func:`surveyhub.services.across.summarise` returns."""

    period: PeriodDates
    thresholds: Thresholds
    projects: list[ProjectRow]
    totals: Totals
    scales: list[PooledScale]
    version_notes: list[VersionNote]
    reliable_change: ReliableChangeOverall


class OrganisationInfo(TypedDict):
    name: str
    slug: str


class OrgQuote(Quote):
    """A quote a resident agreed to share, and the project it comes from."""

    project: str


class InstrumentUse(TypedDict):
    """An instrument version the report's projects ask, and how many projects ask it."""

    id: str
    version: int
    title: Translated
    projects: int


class OrgMethod(TypedDict):
    period: str
    residents: str
    pooling: str
    forest: str
    reliable_change: str
    suppression: str
    change: str
    scope: str
    instruments: list[InstrumentUse]


#: Why the figures are limited, as keys a renderer puts into words.
Limitation = Literal["no_control_group", "self_report", "match_rate", "versions_differ", "projects_too_small",
                     "same_residents_in_several_projects", "no_pairs", "change_in_blocks"]


class OrgReport(Summary):
    """The organisation's report for a period (``org_report.build``)."""

    report_version: int
    generated_at: str
    organisation: OrganisationInfo
    #: Pairs ÷ post responses completed in the period (None without any).
    match_rate: float | None
    quotes: list[OrgQuote]
    limitations: list[Limitation]
    method: OrgMethod
    #: "instrument@version/scale" -> compared with similar projects (``services.reference``); the same
    #: value as each pooled entry's ``reference``.
    reference: dict[str, Reference]
