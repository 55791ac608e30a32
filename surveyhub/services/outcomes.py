"""The outcome report of a project: what changed for residents, how sure we are, how it was measured.

:func:`project_report` returns the report JSON documented key by key in
``docs/report-json.md``: participation and pairing, per-scale change from pre
to post (and to follow-up), the retrospective then-test ("self-perceived
change") with the response shift, reliability per wave, reliable change, and
the quotes residents agreed to share. Every statistic comes from
:mod:`surveyhub.stats`; this module only gathers the scores (set-based, see
``outcome_data``), pairs the waves and applies the small-number thresholds.

The thresholds come from the call, else the organisation's settings, else the
defaults the caller passes in (``Thresholds.from_settings(app.config)``):
services never read the Flask config themselves.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import timezone
from collections.abc import Hashable
from typing import Mapping, cast

from sqlalchemy.orm import Session

from surveyhub.measures.registry import InstrumentRegistry
from surveyhub.measures.scoring import score_range
from surveyhub.models import Project
from surveyhub.models._types import utcnow
from surveyhub.services import (access, exploratory, outcome_data, participation_profile, project_story, reference,
                                report_upgrade, responses)
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Invalid
from surveyhub.services.outcome_data import ItemValues, Pairing, ProjectData
from surveyhub.services.report_contract import (ChangeEntry, Design, DesignKind, DropoutCheck, Method,
                                               Participation, ProjectInfo, Quote, Report, ResponseShift,
                                               RetrospectiveEntry, ScaleEntry, Sensitivity, ThresholdSources,
                                               WaveCounts, WaveKind, Waves)
from surveyhub.services.report_contract import Thresholds as ThresholdsUsed
from surveyhub.services.questionnaire import PROJECT_INSTRUMENT
from surveyhub.stats import (G_AV_CORRECTION, MULTIPLE_TESTING, RCI_CRITICAL, SUPPRESSION_NAMES, build_scale_block,
                             SIGNIFICANT_DIGITS, compare_groups, cronbach_alpha, holm, pair_by_participant,
                             rci_parameters)

log = logging.getLogger(__name__)

#: Raised when a key changes meaning; added keys do not raise it.
REPORT_VERSION = 1

#: The label every then→post result carries (DESIGN.md: "self-perceived change").
SELF_PERCEIVED = "self-perceived change"

#: What the method appendix says; plain text a renderer may translate.
METHOD: Method = {
    "change": "Change is the later score minus the baseline score of the same resident (post − pre).",
    "ci95": "95% confidence interval of the mean change from the t distribution with n_pairs − 1 df.",
    "tests": "Paired t-test (scipy.stats.ttest_rel; R: t.test(post, pre, paired = TRUE)) and Wilcoxon "
             "signed-rank test as the check for ordinal answers (see wilcoxon).",
    "wilcoxon": f"scipy.stats.wilcoxon(post − pre) with scipy's defaults: zero_method='wilcox' (zero differences "
                f"dropped before ranking), correction=False (no continuity correction), method='auto', two-sided. "
                f"The differences post − pre are rounded to {SIGNIFICANT_DIGITS} significant digits of the largest "
                f"score before ranking, so that float noise from adding item answers in another order neither "
                f"makes a zero non-zero nor splits a tie. method='auto' chooses: without ties and zeros and with "
                f"at most 50 pairs the exact distribution (R: wilcox.test(post, pre, paired = TRUE, exact = TRUE)); "
                f"with ties or zeros and at most 13 pairs (zeros counted) an exact permutation test over all 2^n "
                f"sign flips (R: coin::wilcoxsign_test(post ~ pre, distribution = \"exact\", zero.method = "
                f"\"Wilcoxon\")); otherwise the normal approximation with the tie-corrected variance and no "
                f"continuity correction (R: wilcox.test(post, pre, paired = TRUE, exact = FALSE, correct = FALSE)). "
                f"R's defaults (exact only below 50 pairs, correct = TRUE) can give other p-values.",
    "effect_sizes": "Lakens (2013): d_z = mean change / SD of the changes; d_av = mean change / "
                    "((SD pre + SD post) / 2); g_av = d_av with Hedges' small-sample correction. The 95% "
                    "interval of d_z is exact: the noncentrality of the noncentral t distribution (df = n_pairs "
                    "− 1) at which the observed t is the 97.5th and the 2.5th percentile, divided by √n_pairs "
                    "(scipy.stats.nct; R: MBESS::ci.sm(ncp = t, N = n_pairs)).",
    "multiple_testing": MULTIPLE_TESTING,
    "g_av_correction": G_AV_CORRECTION,
    "reliable_change": f"Jacobson & Truax (1991): S_diff = SD_pre · √2 · √(1 − r); a change larger than "
                       f"{RCI_CRITICAL} · S_diff is reliable. SD and r from the scale's norms where given, "
                       "else the pre-wave SD and the pre wave's Cronbach's alpha. The share reliably improved "
                       "(improved / n_pairs) carries Wilson's 95% score interval (R: prop.test(improved, n_pairs, "
                       "correct = FALSE)).",
    "reliability": "Cronbach's alpha per scale and wave (complete answers only) with Feldt's 95% interval.",
    "pairing": "Same participant (personal link or import), else the same self-made code; a code one answer "
               "apart pairs only when it is the only candidate both ways (counted as fuzzy). A worker may "
               "confirm such a pair (then it counts as a code pair) or undo it (then it is not made).",
    "retrospective": "The post wave's 'then' block asks residents to rate how they were before the project; "
                     "then → post is self-perceived change, then − pre the response shift.",
    "suppression": {**SUPPRESSION_NAMES,
                    "sensitivity": "fewer fuzzy pairs than min_means: the sensitivity figures without them "
                                   "(the difference from the full result would be the change of those few)",
                    "wave_sd": "the SD for reliable change comes from the whole baseline wave, and fewer than "
                               "min_means of its residents are not among the pairs: rci.sd and rci.s_diff (beside "
                               "the pairs' own mean and SD they would give those few residents' scores)"},
    "ceiling": "Residents whose baseline score is the highest the scale can give (range[1]): they could not "
               "score higher. Counted like reliable change (below min_cell shown as '<N').",
    "dropout_check": "Completers (a paired later score on the scale) and drop-outs (a completed pre response "
                     "without one) compared at the start: means, SDs, and Welch's t-test (scipy.stats.ttest_ind "
                     "with equal_var=False; R: t.test(dropouts, completers)). Hidden when either group is "
                     "smaller than min_means (p: min_tests).",
    "sensitivity": "The change computed again without the fuzzy code pairs, under the same small-number rules.",
    "exploratory": exploratory.METHOD_TEXT,
    "reference": reference.METHOD_TEXT,
}


@dataclass(frozen=True)
class Thresholds:
    """Small-number thresholds (DESIGN.md "Small numbers")."""

    min_means: int = 5
    min_tests: int = 10
    min_cell: int = 5

    @classmethod
    def from_settings(cls, settings: Mapping) -> Thresholds:
        """From app settings (``MIN_PAIRS_MEANS``, ``MIN_PAIRS_TESTS``, ``MIN_CELL``)."""
        return cls(int(settings.get("MIN_PAIRS_MEANS", cls.min_means)),
                   int(settings.get("MIN_PAIRS_TESTS", cls.min_tests)),
                   int(settings.get("MIN_CELL", cls.min_cell)))


def resolve_thresholds(org, defaults: Thresholds, *, min_means=None, min_tests=None,
                       min_cell=None) -> ThresholdsUsed:
    """The thresholds a report uses and where each came from.

    Each comes from the call, else the organisation, else ``defaults``. The
    tests threshold is never below the means threshold (no test is shown
    without its means), so the reported ``min_tests`` is ``max(min_tests,
    min_means)``: ``--min-n 12`` also hides tests below 12 pairs.
    """
    chosen, sources = {}, {}
    for name, given, own, default in (
            ("min_means", min_means, org.min_pairs_means, defaults.min_means),
            ("min_tests", min_tests, org.min_pairs_tests, defaults.min_tests),
            ("min_cell", min_cell, org.min_cell, defaults.min_cell)):
        value, source = ((given, "call") if given is not None
                         else (own, "organisation") if own is not None else (default, "default"))
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Invalid(N_("%(name)s must be a whole number of 0 or more, got %(value)r"), name=name, value=value)
        chosen[name], sources[name] = value, source
    if chosen["min_means"] > chosen["min_tests"]:  # the tests threshold is the means threshold: say whence
        chosen["min_tests"], sources["min_tests"] = chosen["min_means"], sources["min_means"]
    return {"min_means": chosen["min_means"], "min_tests": chosen["min_tests"],
            "min_cell": chosen["min_cell"], "sources": cast(ThresholdSources, sources)}


def project_report(session: Session, registry: InstrumentRegistry, actor: Actor, slug: str, *,
                   min_means: int | None = None, min_tests: int | None = None, min_cell: int | None = None,
                   defaults: Thresholds | None = None, project: Project | None = None) -> Report:
    """The report JSON of a project the actor may read (see ``docs/report-json.md``, typed in
    ``report_contract``).

    :param min_means: fewer pairs: no means, SDs, CI or reliable-change figures.
    :param min_tests: fewer pairs: no tests or effect sizes.
    :param min_cell: reliable-change counts below this show as ``"<N"``.
    :param defaults: the installation's thresholds, used where neither the
        call nor the organisation sets one (default 5, 10, 5).
    :param project: the project ``slug`` names, when the caller resolved it already
        (``ServiceContext.project``); else it is looked up here.
    :raises NotFound: for another organisation's project.
    :returns: plain values only; ``json.dumps(report, allow_nan=False)`` works.
    """
    project = project or access.project(session, actor, slug, "project.outcomes")
    if project.purged_summary is not None:  # after the retention purge only the stored aggregates remain
        # The report made before the purge, read as today's contract (keys added since: not computed).
        return report_upgrade.upgrade(project.purged_summary, METHOD)
    org = access.organisation(session, actor)
    thresholds = resolve_thresholds(org, defaults or Thresholds(), min_means=min_means,
                                    min_tests=min_tests, min_cell=min_cell)
    data = outcome_data.load(session, project)
    definitions = responses.project_definitions(project)
    items = ItemValues(session, data, definitions)
    pairings = {"post": outcome_data.pair_waves(data, "pre", "post"),
                "followup": outcome_data.pair_waves(data, "pre", "followup"),
                "persistence": outcome_data.pair_waves(data, "post", "followup")}
    context = ScaleContext(data, items, thresholds, registry)
    scales: list[ScaleEntry] = []
    retrospective: list[RetrospectiveEntry] = []
    followup: list[ChangeEntry] = []
    persistence: list[ChangeEntry] = []
    dropout_check: list[DropoutCheck] = []
    for definition in definitions:
        for scale in definition["scales"]:
            scales.append(context.scale_entry(definition, scale, pairings["post"]))
            dropout_check.append(context.dropout_check(definition, scale, pairings["post"]))
            if project.retrospective or context.has_then(definition, scale):
                retrospective.append(context.retrospective_entry(definition, scale, pairings["post"]))
            if data.completed("followup"):
                followup.append(context.followup_entry(definition, scale, pairings["followup"]))
            if pairings["persistence"].pairs:
                persistence.append(context.persistence_entry(definition, scale, pairings["persistence"]))
    for entries in (scales, retrospective, followup, persistence):
        _adjust_for_multiple_testing(entries, project.primary_scale)
    reference.attach(session, project, scales, defaults or Thresholds())
    _adjust_for_multiple_testing([entry["response_shift"] for entry in retrospective if entry["response_shift"]],
                                 project.primary_scale, [f"{entry['instrument']}/{entry['scale']}"
                                                         for entry in retrospective if entry["response_shift"]])
    report: Report = {
        "report_version": REPORT_VERSION,
        "generated_at": utcnow().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "project": _project_info(project, org, definitions),
        "thresholds": thresholds,
        "design": _design(project, data, retrospective),
        "participation": _participation(project, data, pairings, dropout_check),
        "scales": scales,
        "retrospective": retrospective,
        "followup": followup,
        "persistence": persistence,
        "quotes": _quotes(session, project, data, definitions),
        "participation_profile": participation_profile.profile(session, project.id, thresholds),
        "exploratory": exploratory.analyse(session, project, data, pairings["post"], scales, thresholds),
    }
    return cast(Report, _finite(report))


class ScaleContext:
    """What every scale entry of one report shares."""

    def __init__(self, data: ProjectData, items: ItemValues, thresholds: ThresholdsUsed,
                 registry: InstrumentRegistry):
        self.data, self.items, self.thresholds, self.registry = data, items, thresholds, registry
        self._paired: dict[tuple[int, int, int], tuple] = {}

    def scores(self, block: str, definition: dict, scale: dict) -> dict[int, float]:
        return self.data.scores.get((block, definition["id"], scale["id"]), {})

    def has_then(self, definition: dict, scale: dict) -> bool:
        return any(v is not None for v in self.scores("then", definition, scale).values())

    def wave_scores(self, kind: str, block: str, definition: dict, scale: dict) -> list[float]:
        """Every completed response's score in a wave, paired or not (the RCI's fallback SD)."""
        scores = self.scores(block, definition, scale)
        return [scores[rid] for rid in sorted(self.data.completed(kind).values())
                if scores.get(rid) is not None]

    def alpha(self, kind: str, block: str, definition: dict, scale: dict) -> dict:
        response_ids = list(self.data.completed(kind).values())
        if not response_ids:
            return {"alpha": None, "n": 0, "k": len(scale["items"]), "ci95": None}
        return cronbach_alpha(self.items.table(block, definition, scale, response_ids))

    def shown_alpha(self, raw: dict) -> dict:
        """Alpha as the report shows it: hidden below the means threshold, like every estimate."""
        shown = dict(raw, suppressed=raw["n"] < self.thresholds["min_means"])
        if shown["suppressed"]:
            shown["alpha"] = shown["ci95"] = None
        return shown

    def paired_scores(self, pairs, first, second) -> list[tuple[Hashable, float, float]]:
        """(index into ``pairs``, first score, second score) where both scores exist.

        Kept per (pairs, first, second): the drop-out check reads the pairs the
        scale entry made (10,000 residents: 30 ms a scale saved).
        """
        key = (id(pairs), id(first), id(second))
        if key not in self._paired:
            first_scores: dict[Hashable, float | None] = {i: first.get(pair.first) for i, pair in enumerate(pairs)}
            second_scores: dict[Hashable, float | None] = {i: second.get(pair.second)
                                                           for i, pair in enumerate(pairs)}
            # The objects are kept with the result, so their ids cannot be reused while cached.
            self._paired[key] = (pairs, first, second, pair_by_participant(first_scores, second_scores))
        return self._paired[key][3]

    def block(self, paired, *, scale, norms, alpha, baseline_wave, ceiling) -> dict:
        return build_scale_block(
            [before for _i, before, _after in paired], [after for _i, _before, after in paired],
            min_means=self.thresholds["min_means"], min_tests=self.thresholds["min_tests"],
            min_cell=self.thresholds["min_cell"], norms=norms, pre_alpha=alpha, pre_wave=baseline_wave,
            higher_is_better=bool(scale.get("higher_is_better", True)), ceiling=ceiling)

    def change(self, pairs, first, second, *, scale, norms, alpha, baseline_wave, keep_rci=True,
               ceiling=None) -> dict:
        """build_scale_block over the pairs where both scores exist, and the same without fuzzy pairs."""
        paired = self.paired_scores(pairs, first, second)
        options = {"scale": scale, "norms": norms, "alpha": alpha, "baseline_wave": baseline_wave,
                   "ceiling": ceiling}
        block = self.block(paired, **options)
        fuzzy = {i for i, pair in enumerate(pairs) if pair.by == "fuzzy"}
        block["n_fuzzy"] = len([i for i, _b, _a in paired if i in fuzzy])
        block["primary"] = False  # set for the whole list by _adjust_for_multiple_testing
        block["test"]["p_holm"] = None
        block["sensitivity"] = None
        if block["n_fuzzy"] and keep_rci:
            block["sensitivity"] = self.sensitivity(block, [pair for pair in paired if pair[0] not in fuzzy],
                                                    options)
        if keep_rci:
            params = rci_parameters(norms, baseline_wave, alpha)
            hidden = "means" in block["suppressed"]
            block["rci"]["sd"] = None if hidden else params["sd"]
            block["rci"]["r"] = None if hidden else params["r"]
            outside = len(baseline_wave) - block["n_pairs"]  # baseline scores of residents not in the pairs
            if not hidden and params["sd_source"] == "data" and 0 < outside < self.thresholds["min_means"]:
                block["rci"]["sd"] = block["rci"]["s_diff"] = None
                block["suppressed"].append("wave_sd")
        else:
            del block["rci"]
            block["suppressed"] = [name for name in block["suppressed"] if name != "counts"]
        return block

    def sensitivity(self, block: dict, kept, options: dict) -> Sensitivity:
        """The change without the fuzzy code pairs.

        Its figures are hidden when fewer than ``min_means`` fuzzy pairs were
        left out: the difference from the full result would give the mean
        change of those few residents.
        """
        without = self.block(kept, **options)
        shown: Sensitivity = {"n_pairs": without["n_pairs"], "change_mean": without["change"]["mean"],
                              "d_z": without["effect_size"]["d_z"], "p": without["test"]["p"]}
        if block["n_fuzzy"] < self.thresholds["min_means"]:
            shown["change_mean"] = shown["d_z"] = shown["p"] = None
            block["suppressed"].append("sensitivity")
        return shown

    def scale_range(self, definition: dict, scale: dict) -> list[float] | None:
        return _score_range(definition, scale, self.registry)

    def ceiling(self, definition: dict, scale: dict) -> float | None:
        found = self.scale_range(definition, scale)
        return found[1] if found is not None else None

    def dropout_check(self, definition: dict, scale: dict, pairing: Pairing) -> DropoutCheck:
        """Baseline of residents with a paired post score on this scale, against those without one."""
        now = self.scores("now", definition, scale)
        paired = self.paired_scores(pairing.pairs, now, now)
        completed = {pairing.pairs[cast(int, i)].first for i, _before, _after in paired}
        completers = [before for _i, before, _after in paired]
        dropouts = [now[rid] for rid in sorted(self.data.completed("pre").values())
                    if rid not in completed and now.get(rid) is not None]
        compared = compare_groups(completers, dropouts, min_means=self.thresholds["min_means"],
                                  min_tests=self.thresholds["min_tests"])
        return cast(DropoutCheck, {"instrument": definition["id"], "scale": scale["id"], **compared})

    def header(self, definition: dict, scale: dict, comparison: str, baseline: str, label: str) -> dict:
        return {
            "instrument": definition["id"],
            "instrument_version": definition["version"],
            "scale": scale["id"],
            "title": scale["title"],
            "instrument_title": definition["title"],
            "higher_is_better": bool(scale.get("higher_is_better", True)),
            "scoring": scale["scoring"]["method"],
            "range": self.scale_range(definition, scale),
            "comparison": comparison,
            "baseline": baseline,
            "label": label,
        }

    def scale_entry(self, definition: dict, scale: dict, pairing: Pairing) -> ScaleEntry:
        reliability_raw = {kind: self.alpha(kind, "now", definition, scale) for kind in ("pre", "post")}
        if self.data.completed("followup"):
            reliability_raw["followup"] = self.alpha("followup", "now", definition, scale)
        if self.has_then(definition, scale):
            reliability_raw["then"] = self.alpha("post", "then", definition, scale)
        now = self.scores("now", definition, scale)
        block = self.change(pairing.pairs, now, now, scale=scale, norms=scale.get("norms"),
                            alpha=reliability_raw["pre"]["alpha"],
                            baseline_wave=self.wave_scores("pre", "now", definition, scale),
                            ceiling=self.ceiling(definition, scale))
        entry = self.header(definition, scale, "pre→post", "pre", "change")
        entry.update(block)
        entry["reliability"] = {kind: self.shown_alpha(raw) for kind, raw in reliability_raw.items()}
        return cast(ScaleEntry, entry)  # the contract test checks every key

    def retrospective_entry(self, definition: dict, scale: dict, pairing: Pairing) -> RetrospectiveEntry:
        then, now = self.scores("then", definition, scale), self.scores("now", definition, scale)
        post_ids = sorted(self.data.completed("post").values())
        # Within one post response the "then" and "now" blocks are the same resident.
        own = [outcome_data.Pair(rid, rid, "participant") for rid in post_ids]
        then_alpha = self.alpha("post", "then", definition, scale)["alpha"]
        block = self.change(own, then, now, scale=scale, norms=scale.get("norms"), alpha=then_alpha,
                            baseline_wave=self.wave_scores("post", "then", definition, scale),
                            ceiling=self.ceiling(definition, scale))
        entry = self.header(definition, scale, "then→post", "then", SELF_PERCEIVED)
        entry.update(block)
        entry["response_shift"] = self.response_shift(definition, scale, pairing, then)
        return cast(RetrospectiveEntry, entry)

    def response_shift(self, definition: dict, scale: dict, pairing: Pairing, then: dict) -> ResponseShift | None:
        """then − pre for residents with a real pretest; None when the project has no pretest."""
        if not self.data.completed("pre"):
            return None
        block = self.change(pairing.pairs, self.scores("now", definition, scale), then, scale=scale,
                            norms=None, alpha=None, baseline_wave=[], keep_rci=False)
        block["then"] = block.pop("post")
        order = ("n_pairs", "pre", "then", "change", "effect_size", "test", "suppressed")
        return cast(ResponseShift, {"comparison": "pre→then", **{key: block[key] for key in order}})

    def followup_entry(self, definition: dict, scale: dict, pairing: Pairing) -> ChangeEntry:
        """Pre → follow-up: the change some time after the end."""
        return self.later_entry(definition, scale, pairing, "pre", "pre→followup", "change at follow-up")

    def persistence_entry(self, definition: dict, scale: dict, pairing: Pairing) -> ChangeEntry:
        """Post → follow-up: did the change last? The end of the project is the baseline."""
        return self.later_entry(definition, scale, pairing, "post", "post→followup", "change since the end")

    def later_entry(self, definition: dict, scale: dict, pairing: Pairing, baseline: str, comparison: str,
                    label: str) -> ChangeEntry:
        """A change entry between two waves' "now" blocks, with ``baseline``'s wave for alpha and the RCI SD."""
        now = self.scores("now", definition, scale)
        block = self.change(pairing.pairs, now, now, scale=scale, norms=scale.get("norms"),
                            alpha=self.alpha(baseline, "now", definition, scale)["alpha"],
                            baseline_wave=self.wave_scores(baseline, "now", definition, scale),
                            ceiling=self.ceiling(definition, scale))
        entry = self.header(definition, scale, comparison, baseline, label)
        entry.update(block)
        return cast(ChangeEntry, entry)


#: The comparisons :func:`change_thresholds` judges: (name, baseline wave, baseline block).
#: "post" and "followup" start from the pre wave; "then" is the look-back in the post wave.
CHANGE_BASELINES = (("post", "pre", "now"), ("followup", "pre", "now"), ("then", "post", "then"))


def change_thresholds(session: Session, project: Project) -> dict[tuple[str, str, str], float | None]:
    """S_diff per (comparison, instrument, scale): what the report judges one resident's change by.

    The same SD and reliability as the report's reliable change (``rci_parameters`` over the
    baseline wave: norms where given, else the wave's SD and Cronbach's alpha), for the worker's
    page on one resident. Never suppressed: the report hides an S_diff that would tell a funder
    something about a few residents, while a worker sees every resident's scores anyway.
    None where no S_diff exists (too few answers for an SD or an alpha).
    """
    definitions = responses.project_definitions(project)
    contexts: list[ScaleContext] = []

    def context() -> ScaleContext:  # the project's answers, read only when a scale lacks a norm
        if not contexts:
            data = outcome_data.load(session, project)
            contexts.append(ScaleContext(data, ItemValues(session, data, definitions),
                                         cast(ThresholdsUsed, {}), None))  # type: ignore[arg-type]
        return contexts[0]

    found: dict[tuple[str, str, str], float | None] = {}
    for definition in definitions:
        for scale in definition["scales"]:
            norms = scale.get("norms") or {}
            normed = norms.get("sd") is not None and norms.get("reliability") is not None
            for comparison, wave, block in CHANGE_BASELINES:
                scores = [] if normed else context().wave_scores(wave, block, definition, scale)
                alpha = None if normed else context().alpha(wave, block, definition, scale)["alpha"]
                found[(comparison, definition["id"], scale["id"])] = rci_parameters(norms, scores, alpha)["s_diff"]
    return found


def _adjust_for_multiple_testing(entries: list, primary_scale: str | None, names: list[str] | None = None) -> None:
    """Set ``test.p_holm`` (Holm across ``entries``) and ``primary`` on each entry, in place.

    ``names`` are the entries' "instrument/scale" (default: read from the entries).
    """
    names = names or [f"{entry['instrument']}/{entry['scale']}" for entry in entries]
    primary = names.index(primary_scale) if primary_scale in names else None
    adjusted = holm([entry["test"]["p"] for entry in entries], primary)
    for index, (entry, p_holm) in enumerate(zip(entries, adjusted)):
        entry["test"]["p_holm"] = p_holm
        if "primary" in entry:  # change entries; a response shift has no such key
            entry["primary"] = index == primary



def _score_range(definition: dict, scale: dict, registry: InstrumentRegistry) -> list[float] | None:
    """The scale's range (``measures.scoring.score_range``); plugin question types give their items' range."""
    answer_sets = definition.get("answer_sets") or {}

    def plugin_range(item: dict):
        qtype = registry.question_types.get(item["type"]) if registry else None
        if qtype is None:
            return None
        # A plugin's type is guarded: when it fails, it reports itself and the chart loses only this scale.
        return qtype.value_range(item, {"answer_sets": answer_sets, "lang": "nl"})

    found = score_range(scale, answer_sets, plugin_range)
    return list(found) if found is not None else None


def _project_info(project, org, definitions: list[dict]) -> ProjectInfo:
    """Which project, and its story as the worker recorded it (``project_story``): funder, period, outputs."""
    def iso(day) -> str | None:
        return day.isoformat() if day is not None else None

    return {
        "slug": project.slug,
        "name": project.name,
        "description": project.description,
        "organisation": org.name,
        "retrospective": bool(project.retrospective),
        "instruments": [{"id": d["id"], "version": d["version"], "title": d["title"]} for d in definitions],
        "funder": project.funder_name,
        "period": {"start": iso(project.period_start), "end": iso(project.period_end)},
        # The photo's bytes stay out of the JSON; the renderer asks project_story.output_photos.
        "outputs": [{"id": output.id, "date": output.happened_on.isoformat(), "description": output.description,
                     "photo": output.photo is not None}
                    for output in sorted(project.outputs, key=lambda one: (one.happened_on, one.id))],
        "meetings_held": project.meetings_held,
        "volunteer_hours": project.volunteer_hours,
        "recommendations": project.recommendations,
        # Only a scale the questionnaire still asks: instruments may have changed since it was named.
        "primary_scale": project.primary_scale if project.primary_scale in {
            f"{d['id']}/{scale['id']}" for d in definitions for scale in d["scales"]} else None,
    }


def _design(project, data: ProjectData, retrospective: list[RetrospectiveEntry]) -> Design:
    pretest = bool(data.completed("pre"))
    then_test = any(entry["n_pairs"] for entry in retrospective)
    kind: DesignKind
    if pretest and then_test:
        kind = "pre-post with retrospective then-test"
    elif pretest:
        kind = "pre-post"
    elif then_test:
        kind = "retrospective then-test without pretest"
    else:
        kind = "no comparison yet"
    return {
        "kind": kind,
        "pretest": pretest,
        "retrospective": bool(project.retrospective),
        "then_test": then_test,
        "followup": bool(data.completed("followup")),
        "method": METHOD,
    }


def _participation(project, data: ProjectData, pairings: dict[str, Pairing],
                   dropout_check: list[DropoutCheck]) -> Participation:
    status = {wave.kind: wave.status for wave in project.waves}
    def counts(kind: str) -> WaveCounts:
        return {"status": status.get(kind), "started": data.started(kind), "completed": len(data.completed(kind))}

    waves: Waves = {"pre": counts("pre"), "post": counts("post"), "followup": counts("followup")}
    main = pairings["post"]
    pre, post, paired = waves["pre"]["completed"], waves["post"]["completed"], len(main.pairs)
    attrition = len(set(data.completed("pre").values()) - {pair.first for pair in main.pairs})
    return {
        "invited": data.invited,
        "withdrawn": int(project.withdrawn_count or 0),
        "pre": pre,
        "post": post,
        "followup": waves["followup"]["completed"],
        "paired": paired,
        "paired_by_participant": main.count("participant"),
        "paired_by_code": main.count("code"),
        "fuzzy_pairs": main.count("fuzzy"),
        "ambiguous_codes": main.ambiguous_codes,
        # Without a pretest nobody could be matched: "0% matched" would blame residents for the design.
        "match_rate": paired / post if post and pre else None,
        "attrition": attrition,
        "attrition_rate": attrition / pre if pre else None,
        "followup_paired": len(pairings["followup"].pairs),
        "persistence_paired": len(pairings["persistence"].pairs),
        "waves": waves,
        "dropout_check": dropout_check,
    }


def _quotes(session: Session, project, data: ProjectData, definitions: list[dict]) -> list[Quote]:
    """Open answers of residents whose consent allows quoting them, as plain text."""
    questions = {(PROJECT_INSTRUMENT, q.question_id): q.definition for q in project.questions}
    for definition in definitions:
        for item in definition.get("questions") or []:
            questions[(definition["id"], item["id"])] = item
    sharing = outcome_data.sharing_participants(session, project)
    chosen = project_story.chosen_answers(session, list(data.waves.values())) if sharing else set()
    found: list[Quote] = []
    for rid, instrument_id, item_id, text in outcome_data.text_answers(session, data, sharing):
        question = questions.get((instrument_id, item_id))
        clean = _plain(text)
        if question is None or not clean:
            continue  # a scored item's text, or a question no longer asked
        found.append({"text": clean, "wave": cast(WaveKind, data.responses[rid][1]), "instrument": instrument_id,
                      "question": item_id, "question_text": question.get("text"),
                      "chosen": (rid, instrument_id, item_id) in chosen})
    if any(quote["chosen"] for quote in found):  # the worker's choice replaces the full list
        found = [quote for quote in found if quote["chosen"]]
    quotes: list[Quote] = []
    seen: set[str] = set()
    for quote in found:  # never the same words twice, whatever their case and spacing
        same = " ".join(quote["text"].casefold().split())
        if same not in seen:
            seen.add(same)
            quotes.append(quote)
    return quotes


def _plain(text: str) -> str:
    """Plain text: no control characters except line breaks, trimmed."""
    kept = "".join(ch for ch in str(text) if ch in "\n\t" or ch.isprintable())
    return "\n".join(" ".join(line.split()) for line in kept.strip().splitlines()).strip()


def _finite(value):
    """The last line of defence: a non-finite float becomes None (and is logged as a bug)."""
    if isinstance(value, float) and not math.isfinite(value):
        log.error("a non-finite number reached the report; shown as not computable")
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
