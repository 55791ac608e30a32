"""The report JSON as types: the one shape the dashboard, the PDF and the exports read.

``docs/report-json.md`` documents the report key by key; these TypedDicts say
the same in code, and ``tests/test_report_contract.py`` keeps the two in step
(every documented key is here, every key here is documented, and a report
built through the services has exactly these keys). A reader that needs a key
the contract does not have must add it here and in the document first, so no
reader can grow a tolerant ``.get(...)`` for a shape the service never makes.

Numbers that cannot be computed, or that the small-number rules hide, are
``None``; a reliable-change count below ``min_cell`` is a label such as
``"<5"`` (``Count``).
"""

from __future__ import annotations

from typing import Literal, TypedDict

#: A text in several languages: ``{"nl": "...", "en": "..."}``.
Translated = dict[str, str]
#: A reliable-change count: a number, a label such as ``"<5"`` or ``"≥5"``, or None.
Count = int | str | None
#: A 95% interval ``[low, high]``, or None.
Interval = list[float] | None
#: Where a threshold came from.
Source = Literal["call", "organisation", "default"]


class InstrumentInfo(TypedDict):
    id: str
    version: int
    title: Translated


class Period(TypedDict):
    """When the project ran; either end may be unknown."""

    start: str | None
    end: str | None


class Output(TypedDict):
    """What the project made or reached, as the worker recorded it (``project_story``)."""

    id: int
    date: str
    description: str
    photo: bool


class ProjectInfo(TypedDict):
    slug: str
    name: str
    description: str | None
    organisation: str
    retrospective: bool
    instruments: list[InstrumentInfo]
    funder: str | None
    period: Period
    outputs: list[Output]
    meetings_held: int | None
    volunteer_hours: int | None
    recommendations: str | None
    primary_scale: str | None


class ThresholdSources(TypedDict):
    min_means: Source
    min_tests: Source
    min_cell: Source


class Thresholds(TypedDict):
    min_means: int
    min_tests: int
    min_cell: int
    sources: ThresholdSources


class Method(TypedDict):
    change: str
    ci95: str
    tests: str
    effect_sizes: str
    g_av_correction: str
    reliable_change: str
    reliability: str
    pairing: str
    retrospective: str
    suppression: dict[str, str]
    wilcoxon: str
    multiple_testing: str
    ceiling: str
    dropout_check: str
    sensitivity: str
    exploratory: str
    reference: str


#: How change was measured (``design.kind``).
DesignKind = Literal["pre-post", "pre-post with retrospective then-test", "retrospective then-test without pretest",
                     "no comparison yet"]


class Design(TypedDict):
    kind: DesignKind
    pretest: bool
    retrospective: bool
    then_test: bool
    followup: bool
    method: Method


class WaveCounts(TypedDict):
    status: str | None
    started: int
    completed: int


class Waves(TypedDict):
    pre: WaveCounts
    post: WaveCounts
    followup: WaveCounts


class GroupBaseline(TypedDict):
    n: int
    mean: float | None
    sd: float | None


class DropoutCheck(TypedDict):
    """Completers and drop-outs of one pre → post scale compared at the start."""

    instrument: str
    scale: str
    completers: GroupBaseline
    dropouts: GroupBaseline
    difference: float | None
    p: float | None


class Participation(TypedDict):
    invited: int
    withdrawn: int
    pre: int
    post: int
    followup: int
    paired: int
    paired_by_participant: int
    paired_by_code: int
    fuzzy_pairs: int
    ambiguous_codes: int
    match_rate: float | None
    attrition: int
    attrition_rate: float | None
    followup_paired: int
    persistence_paired: int
    waves: Waves
    dropout_check: list[DropoutCheck]


class MeanSd(TypedDict):
    mean: float | None
    sd: float | None


class Change(TypedDict):
    mean: float | None
    sd: float | None
    ci95: Interval


class EffectSize(TypedDict):
    d_z: float | None
    d_av: float | None
    g_av: float | None
    d_z_ci95: Interval


class Test(TypedDict):
    t: float | None
    df: int | None
    p: float | None
    wilcoxon_p: float | None
    p_holm: float | None


class ReliableChange(TypedDict):
    s_diff: float | None
    improved: Count
    unchanged: Count
    deteriorated: Count
    improved_share: float | None
    improved_ci95: Interval
    sd: float | None
    sd_source: str | None
    r: float | None
    r_source: str | None


class Reliability(TypedDict):
    alpha: float | None
    ci95: Interval
    n: int
    k: int
    suppressed: bool


class ResponseShift(TypedDict):
    comparison: Literal["pre→then"]
    n_pairs: int
    pre: MeanSd
    then: MeanSd
    change: Change
    effect_size: EffectSize
    test: Test
    suppressed: list[str]


class Ceiling(TypedDict):
    count: Count
    share: float | None


class Sensitivity(TypedDict):
    n_pairs: int
    change_mean: float | None
    d_z: float | None
    p: float | None


class ChangeEntry(TypedDict):
    """The keys every element of ``scales``, ``retrospective``, ``followup`` and ``persistence`` has."""

    instrument: str
    instrument_version: int
    scale: str
    title: Translated
    instrument_title: Translated
    higher_is_better: bool
    scoring: str
    range: list[float] | None
    comparison: Literal["pre→post", "then→post", "pre→followup", "post→followup"]
    baseline: Literal["pre", "then", "post"]
    label: Literal["change", "self-perceived change", "change at follow-up", "change since the end"]
    primary: bool
    n_pairs: int
    n_fuzzy: int
    pre: MeanSd
    post: MeanSd
    change: Change
    effect_size: EffectSize
    test: Test
    rci: ReliableChange
    baseline_ceiling: Ceiling
    sensitivity: Sensitivity | None
    suppressed: list[str]


class Reference(TypedDict):
    """Compared with similar projects (``services.reference``): other organisations' projects, rounded."""

    mean_change: float | None
    improved_share: float | None
    projects: int | None
    organisations: int | None
    reason: Literal["too_few_projects", "not_computed"] | None


class ScaleEntry(ChangeEntry):
    """A pre → post entry (``scales``): adds Cronbach's alpha per wave (``pre``, ``post``, ``followup``, ``then``)
    and the reference value of similar projects."""

    reliability: dict[str, Reliability]
    reference: Reference


class RetrospectiveEntry(ChangeEntry):
    """A then → post entry (``retrospective``): adds the response shift (None without a pretest)."""

    response_shift: ResponseShift | None


#: A pre → follow-up entry (``followup``) has the common keys only.
FollowupEntry = ChangeEntry
#: A post → follow-up entry (``persistence``: did the change last?) has the common keys only.
PersistenceEntry = ChangeEntry


#: A wave of the project.
WaveKind = Literal["pre", "post", "followup"]


class Quote(TypedDict):
    text: str
    wave: WaveKind
    instrument: str
    question: str
    question_text: Translated | None
    chosen: bool


class BandCount(TypedDict):
    band: Literal["1", "2-4", "5+"]
    residents: Count


class RoleCount(TypedDict):
    role: Literal["participant", "volunteer", "organiser", "chair"]
    residents: Count


class KindCount(TypedDict):
    kind: Literal["meeting", "workday", "event", "training", "other"]
    activities: int
    hours: float
    residents: Count


class ParticipationProfile(TypedDict):
    """What residents did (``services.participation_profile``), from confirmed activity records."""

    activities: int
    hours: float
    resident_hours: float
    residents: int
    by_activities: list[BandCount]
    by_role: list[RoleCount]
    by_kind: list[KindCount]


class SubgroupChange(TypedDict):
    mean: float | None
    ci95: Interval


class SubgroupGroup(TypedDict):
    key: Literal["lower", "middle", "upper", "led", "not_led"]
    n: Count
    above: float | None
    up_to: float | None
    baseline: MeanSd
    change: SubgroupChange


class GroupDifference(TypedDict):
    between: list[str]
    mean: float | None
    ci95: Interval
    p: float | None


class SubgroupComparison(TypedDict):
    groups: list[SubgroupGroup]
    difference: GroupDifference | None
    suppressed: list[str]


class ExploratoryScale(TypedDict):
    instrument: str
    scale: str
    title: Translated
    n_pairs: int
    by_intensity: SubgroupComparison | None
    by_role: SubgroupComparison | None


class Exploratory(TypedDict):
    """Which elements seem to work (``services.exploratory``): exploratory, never causal."""

    exploratory: Literal[True]
    causal: Literal[False]
    measure: Literal["hours", "activities"] | None
    reason: Literal["no_pairs", "no_activities", "not_computed"] | None
    scales: list[ExploratoryScale]


class Report(TypedDict):
    report_version: int
    generated_at: str
    project: ProjectInfo
    thresholds: Thresholds
    design: Design
    participation: Participation
    scales: list[ScaleEntry]
    retrospective: list[RetrospectiveEntry]
    followup: list[FollowupEntry]
    persistence: list[PersistenceEntry]
    quotes: list[Quote]
    participation_profile: ParticipationProfile | None
    exploratory: Exploratory
