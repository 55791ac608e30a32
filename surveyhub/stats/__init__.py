"""Pure statistics for SurveyHub: plain values in, plain values out.

Everything a funder report states as a number is computed here: descriptive
statistics, paired change with CI, tests and effect sizes, Cronbach's alpha,
reliable change, pairing of pre and post responses, and small-number
suppression. No Flask, no database; no function returns NaN or infinity
(None means "not computable").
"""

from .descriptive import describe
from .disclosure import suppress_count, suppress_counts
from .groups import compare_groups
from .intervals import d_z_interval, wilson_interval
from .multiplicity import MULTIPLE_TESTING, holm
from .paired import G_AV_CORRECTION, SIGNIFICANT_DIGITS, hedges_j, paired_change
from .pairing import match_codes, normalise_code, pair_by_participant
from .reliability import cronbach_alpha, feldt_ci
from .reliable_change import (
    RCI_CATEGORIES,
    RCI_CRITICAL,
    rci_parameters,
    rci_s_diff,
    reliable_change,
    reliable_change_index,
)
from .report import SUPPRESSION_NAMES, build_scale_block, share_of

__all__ = [
    "G_AV_CORRECTION",
    "MULTIPLE_TESTING",
    "RCI_CATEGORIES",
    "RCI_CRITICAL",
    "SIGNIFICANT_DIGITS",
    "SUPPRESSION_NAMES",
    "build_scale_block",
    "compare_groups",
    "cronbach_alpha",
    "d_z_interval",
    "describe",
    "feldt_ci",
    "hedges_j",
    "holm",
    "match_codes",
    "normalise_code",
    "pair_by_participant",
    "paired_change",
    "rci_parameters",
    "rci_s_diff",
    "reliable_change",
    "reliable_change_index",
    "share_of",
    "suppress_count",
    "suppress_counts",
    "wilson_interval",
]
