"""Realistic answers for the benchmarks, written straight into the tables (fast enough for 10,000 residents):
each resident a level and a growth per instrument, item answers around them, the odd skipped question,
reverse items coded, and the scale scores as the scoring would store them."""

from __future__ import annotations

import numpy as np
from sqlalchemy import insert

from surveyhub.measures.definition import item_range
from surveyhub.models import Answer, ScaleScore

CHUNK = 20_000


def write_answers(conn, rng, definitions, response_id, n: int, now) -> int:
    """Item answers and scale scores of ``n`` residents' pre and post responses, stored response by response
    as residents save their pages; ``response_id(wave_index, resident_index)``. Returns the answers written."""
    level = rng.uniform(1.5, 4.0, size=(n, len(definitions)))
    growth = rng.normal(0.4, 0.5, size=(n, len(definitions)))
    answers, scores = [], []
    for w in range(2):
        for d, definition in enumerate(definitions):
            sets = definition.get("answer_sets") or {}
            for scale in definition["scales"]:
                coded = []
                for item in scale["items"]:
                    lo, hi = item_range(item, sets)
                    raw = np.clip(np.rint(level[:, d] + w * growth[:, d] + rng.normal(0, 0.7, n)), lo, hi)
                    raw[rng.random(n) < 0.02] = np.nan
                    coded.append((lo + hi - raw) if item.get("reverse") else raw)
                    answers += [{"response_id": response_id(w, i), "block": "now", "instrument_id": definition["id"],
                                 "item_id": item["id"], "value_num": float(v), "updated_at": now}
                                for i, v in enumerate(raw) if not np.isnan(v)]
                table = np.column_stack(coded)
                answered = np.sum(~np.isnan(table), axis=1)
                with np.errstate(invalid="ignore"):
                    mean = np.nanmean(np.where(answered[:, None] > 0, table, 0.0), axis=1)
                ok = answered >= scale["scoring"]["min_answered"]
                scores += [{"response_id": response_id(w, i), "block": "now", "instrument_id": definition["id"],
                            "instrument_version": definition["version"], "scale_id": scale["id"],
                            "score": float(mean[i]) if ok[i] else None, "n_answered": int(answered[i])}
                           for i in range(n)]
    answers.sort(key=lambda row: row["response_id"])
    for start in range(0, len(answers), CHUNK):
        conn.execute(insert(Answer), answers[start:start + CHUNK])
    conn.execute(insert(ScaleScore), scores)
    return len(answers)
