"""Shared set-up of the document benchmarks: a temporary instance and a project of N residents.

Not a benchmark itself (``make bench`` runs it and it only says so). Data are
bulk-inserted: residents with names, consent (every third shares quotes),
pre and post answers with the scale scores the app would compute, the post
wave's retrospective block, and an open answer now and then.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402

from surveyhub import create_app  # noqa: E402
from surveyhub.plugins import get_registry  # noqa: E402
from surveyhub.measures.definition import item_range  # noqa: E402
from surveyhub.models import Answer, Consent, Participant, Response, ScaleScore, Wave  # noqa: E402
from surveyhub.models._types import utcnow  # noqa: E402
from surveyhub.services import access, accounts, projects, schema_state  # noqa: E402

INSTRUMENTS = ["organising", "conversation", "cooperation", "confidence", "network"]
BASE_URL = "http://surveyhub.test"
NAMES = ["Fatima", "Henk", "Samira", "Joost", "Aylin", "Marco", "Ingrid", "Youssef", "Priya", "Kees"]
QUOTES = ["Ik durf nu veel makkelijker iets te zeggen in een vergadering.",
          "Ik ken nu veel meer mensen uit mijn straat.",
          "Samen de speeltuin bouwen was hard werken, maar het gaf veel energie."]


def make_app(database_url: str | None = None):
    """A migrated app in a temporary instance folder (SQLite unless ``database_url``)."""
    folder = Path(tempfile.mkdtemp(prefix="surveyhub-bench-"))
    config = {"INSTANCE_PATH": str(folder), "SECRET_KEY": "bench", "BASE_URL": BASE_URL, "PLUGINS_DIR": ""}
    if database_url:
        config["DATABASE_URL"] = database_url
    app = create_app(config)
    schema_state.upgrade(app.extensions["surveyhub.db"])
    return app


def cleanup(app, *folders) -> None:
    """Remove the temporary instance (and any output folders) a benchmark made."""
    import shutil

    app.extensions["surveyhub.db"].engine.dispose()
    for folder in (app.instance_path, *folders):
        shutil.rmtree(folder, ignore_errors=True)


def build(app, n: int, seed: int = 11) -> tuple[int, str]:
    """An organisation and a project of ``n`` residents with pre, post and retrospective answers."""
    rng = np.random.default_rng(seed)
    db = app.extensions["surveyhub.db"]
    with db.session() as session:
        org = accounts.create_organisation(session, "Buurtwerk Bench")
        actor = access.Actor(organisation_id=org.id, role="admin")
        info = projects.create_project(session, get_registry(app), actor, "Speeltuin Bench", INSTRUMENTS,
                                       retrospective=True)
        session.commit()
        project_id = session.scalar(select(Wave.project_id).join(Wave.project).where(Wave.kind == "pre"))
        waves = dict(session.execute(select(Wave.kind, Wave.id).where(Wave.project_id == project_id)).all())
        definitions = [pi.snapshot.definition for pi in session.get(Wave, waves["pre"]).project.instruments]
        org_id = org.id
    now = utcnow()
    with db.engine.begin() as conn:
        conn.execute(insert(Participant), [
            {"id": i + 1, "project_id": project_id, "code": f"B-{i:06d}", "display_name": f"{NAMES[i % 10]} {i}",
             "source": "import", "created_at": now} for i in range(n)])
        conn.execute(insert(Consent), [
            {"participant_id": i + 1, "wave_id": waves["pre"], "wording_version": "1", "language": "nl",
             "share_quotes": i % 3 == 0, "given_at": now} for i in range(n)])
        conn.execute(insert(Response), [
            {"id": w * n + i + 1, "participant_id": i + 1, "wave_id": waves[kind], "status": "completed",
             "current_page": 0, "language": "nl", "channel": "import", "started_at": now, "updated_at": now,
             "completed_at": now}
            for w, kind in enumerate(("pre", "post")) for i in range(n)])
        answers, scores = _answers(rng, n, definitions, now)
        for start in range(0, len(answers), 20_000):
            conn.execute(insert(Answer), answers[start:start + 20_000])
        conn.execute(insert(ScaleScore), scores)
    return org_id, info.slug


def _answers(rng, n, definitions, now):
    level = rng.uniform(1.5, 4.0, size=(n, len(definitions)))
    growth = rng.normal(0.4, 0.5, size=(n, len(definitions)))
    answers, scores = [], []
    for wave, block, shift in ((0, "now", 0.0), (1, "now", 1.0), (1, "then", -0.2)):
        for d, definition in enumerate(definitions):
            sets = definition.get("answer_sets") or {}
            for scale in definition["scales"]:
                table = []
                for item in scale["items"]:
                    lo, hi = item_range(item, sets)
                    raw = np.clip(np.rint(level[:, d] + shift * growth[:, d] + rng.normal(0, 0.7, n)), lo, hi)
                    if shift < 0:
                        raw = np.clip(np.rint(level[:, d] - 0.2 + rng.normal(0, 0.7, n)), lo, hi)
                    table.append((lo + hi - raw) if item.get("reverse") else raw)
                    answers += [{"response_id": wave * n + i + 1, "block": block, "instrument_id": definition["id"],
                                 "item_id": item["id"], "value_num": float(v), "value_text": None,
                                 "updated_at": now}
                                for i, v in enumerate(raw)]
                mean = np.column_stack(table).mean(axis=1)
                scores += [{"response_id": wave * n + i + 1, "block": block, "instrument_id": definition["id"],
                            "instrument_version": definition["version"], "scale_id": scale["id"],
                            "score": float(mean[i]), "n_answered": len(table)} for i in range(n)]
            if wave == 1 and block == "now":
                for question in definition.get("questions") or []:
                    if question["type"] == "text":
                        answers += [{"response_id": n + i + 1, "block": "now", "instrument_id": definition["id"],
                                     "item_id": question["id"], "value_num": None, "value_text": QUOTES[i % 3],
                                     "updated_at": now}
                                    for i in range(0, n, 7)]
    answers.sort(key=lambda row: row["response_id"])
    return answers, scores


if __name__ == "__main__":
    print("bench/_documents_data.py: shared set-up of the document benchmarks, nothing to measure")
