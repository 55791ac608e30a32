"""Undo a CSV import done in the browser, shortly after it stood.

``services.imports`` fills an ``import_undo.Undo`` plan while it stores a file
(participants made, responses made, responses changed as they were). The
browser import keeps that plan in the instance folder (``imports/``, one JSON
file per import, named by a random token that only the importing worker's
result page links to) so the worker can take the whole import back with one
button. A plan holds answers as they were, so it is personal data: it is
deleted once used and is refused (and deleted) after ``KEEP_HOURS``.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from surveyhub.measures.registry import InstrumentRegistry
from surveyhub.services import access, audit, import_undo
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Invalid
from surveyhub.services.projects import refuse_if_archived

#: How long an import can be taken back.
KEEP_HOURS = 24
_TOKEN_BYTES = 18


def _folder(instance_path: str) -> Path:
    folder = Path(instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _key(key) -> list:
    return list(key)


def expected_columns(project) -> list[str]:
    """The file's column names for this project: ``participant``, then one per question asked now."""
    from surveyhub.services import responses

    names = ["participant"]
    for definition in responses.project_definitions(project):
        names += [item["id"] for scale in definition["scales"] for item in scale["items"]]
        names += [q["id"] for q in definition.get("questions") or []]
    return names + [q.question_id for q in project.questions]


def remember(instance_path: str, actor: Actor, slug: str, wave: str, plan: import_undo.Undo) -> str:
    """Keep ``plan`` for ``KEEP_HOURS``; returns the token the result page links to."""
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    data = {"slug": slug, "wave": wave, "user_id": actor.user_id, "organisation_id": actor.organisation_id,
            "participants": plan.participants, "new_responses": [list(p) for p in plan.new_responses],
            "before": [{**asdict(b), "answers": [[_key(k), v] for k, v in b.answers.items()],
                        "completed_at": b.completed_at.isoformat() if b.completed_at else None}
                       for b in plan.before]}
    (_folder(instance_path) / f"{token}.json").write_text(json.dumps(data), encoding="utf-8")
    return token


def _gone() -> Invalid:
    """Unknown, used, expired or someone else's: one answer, so a token tells nothing about other imports."""
    return Invalid(N_("this import can no longer be taken back (after a day, once undone, or by someone else)"))


def _path(instance_path: str, token: str) -> Path:
    if not token or len(token) > 64 or not all(c.isalnum() or c in "-_" for c in token):
        raise _gone()
    return _folder(instance_path) / f"{token}.json"


def pending(instance_path: str, actor: Actor, slug: str, token: str) -> dict:
    """What the import with ``token`` did (wave, counts), if the actor may still take it back."""
    path = _path(instance_path, token)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise _gone() from None
    if (data["slug"], data["user_id"], data["organisation_id"]) != (slug, actor.user_id, actor.organisation_id):
        raise _gone()
    if time.time() - path.stat().st_mtime > KEEP_HOURS * 3600:
        path.unlink(missing_ok=True)
        raise _gone()
    return data


def take_back(session: Session, registry: InstrumentRegistry, actor: Actor, instance_path: str, slug: str,
              token: str) -> dict:
    """Undo the import: delete the residents and responses it made, restore the answers it changed."""
    project = access.project(session, actor, slug, "project.residents")
    refuse_if_archived(project)
    data = pending(instance_path, actor, slug, token)
    plan = import_undo.Undo(
        participants=list(data["participants"]),
        new_responses=[tuple(p) for p in data["new_responses"]],
        before=[import_undo.Before(
            b["response_id"], {tuple(k): v for k, v in b["answers"]}, b["status"],
            datetime.fromisoformat(b["completed_at"]) if b["completed_at"] else None, b["channel"],
            b["entered_by_id"]) for b in data["before"]])
    import_undo.undo(session, project, registry.scoring_methods, plan)
    audit.record(session, "responses.import_undo", actor=actor, project_id=project.id,
                 target=f"project:{slug}/{data['wave']}",
                 details={"removed_participants": len(plan.participants), "restored": len(plan.before),
                          "removed_responses": len(plan.new_responses)})
    session.flush()
    return data


def forget(instance_path: str, token: str) -> None:
    """Delete a plan once its undo is committed (it holds answers as they were)."""
    _path(instance_path, token).unlink(missing_ok=True)
