"""One scale range and one growth rule (``measures.scoring``), for the certificate and the thank-you page."""

from __future__ import annotations

import pytest

from surveyhub.measures.scoring import GROWTH_WITHOUT_RANGE, grew, growth_threshold, score_range

AGREE5 = {"agree5": [{"value": v, "label": {"nl": str(v)}} for v in range(1, 6)]}


def scale(method: str, n_items: int = 4) -> dict:
    return {"id": "s", "scoring": {"method": method},
            "items": [{"id": f"i{k}", "type": "choice", "answer_set": "agree5"} for k in range(n_items)]}


def test_score_range_of_mean_and_sum_scoring():
    assert score_range(scale("mean"), AGREE5) == (1.0, 5.0)
    assert score_range(scale("sum", 8), AGREE5) == (8.0, 40.0)
    assert score_range(scale("plugin_method"), AGREE5) is None
    plugin_item = {"id": "s", "scoring": {"method": "mean"}, "items": [{"id": "f", "type": "faces"}]}
    assert score_range(plugin_item, {}) is None
    assert score_range(plugin_item, {}, lambda item: (0, 4)) == (0.0, 4.0)


def test_growth_is_the_same_share_of_every_range():
    assert growth_threshold((1.0, 5.0)) == pytest.approx(0.25)  # the rule as residents first knew it
    assert growth_threshold((8.0, 40.0)) == pytest.approx(2.0)
    assert growth_threshold(None) == GROWTH_WITHOUT_RANGE
    # The same answers scored as a mean (1–5) and as a sum of eight items (8–40) get the same verdict.
    for start, now in ((2.0, 2.2), (2.0, 2.25), (3.0, 2.5)):
        assert grew(start, now, True, (1.0, 5.0)) == grew(start * 8, now * 8, True, (8.0, 40.0))
    assert grew(2.0, 2.25, True, (1.0, 5.0)) and not grew(2.0, 2.2, True, (1.0, 5.0))


def test_growth_follows_the_scales_direction_and_needs_both_scores():
    assert grew(3.0, 2.5, False, (1.0, 5.0)) and not grew(2.5, 3.0, False, (1.0, 5.0))
    assert not grew(None, 4.0, True, (1.0, 5.0)) and not grew(2.0, None, True, (1.0, 5.0))
