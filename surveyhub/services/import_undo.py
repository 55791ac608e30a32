"""Undo the stored batches of a CSV import that failed half-way, so a file is stored whole or not at all.

``services.imports`` stores a file in short write transactions (so residents
saving pages meanwhile never wait long). While it does, ``Undo`` remembers
what the import made (new participants, new responses) and what a response it
changed looked like before (a resident imported earlier, imported again).
When a later batch fails, ``undo`` deletes what was made and puts back what
was changed, in one transaction. A process that is killed cannot undo
anything: running the same import again then finishes it (rows are keyed by
participant code), with the same result as one uninterrupted run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from surveyhub.models import Participant, Project, Response, Wave
from surveyhub.services import responses

#: Ids per DELETE statement (SQLite limits the parameters of one statement).
CHUNK = 500


@dataclass(frozen=True)
class Before:
    """A response as it was before the import changed it."""

    response_id: int
    answers: dict
    status: str
    completed_at: datetime | None
    channel: str
    entered_by_id: int | None


@dataclass
class Undo:
    #: participants the import made (deleting one deletes its responses, answers and scores)
    participants: list[int] = field(default_factory=list)
    #: (participant id, wave id) of existing participants who had no response to the wave yet
    new_responses: list[tuple[int, int]] = field(default_factory=list)
    #: responses the import changed, as they were
    before: list[Before] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.participants or self.new_responses or self.before)

    def remember(self, session: Session, participant: Participant, wave: Wave) -> None:
        """Note the participant's response to the wave as it is, before the import writes it."""
        response = session.scalar(select(Response).where(Response.participant_id == participant.id,
                                                         Response.wave_id == wave.id))
        if response is None:
            self.new_responses.append((participant.id, wave.id))
        else:
            self.before.append(Before(response.id, responses.answers_of(response), response.status,
                                      response.completed_at, response.channel, response.entered_by_id))


def undo(session: Session, project: Project, methods: dict, plan: Undo, on_score_error=None) -> None:
    """Delete what the import made and restore what it changed (flushed; the caller commits)."""
    for start in range(0, len(plan.participants), CHUNK):
        chunk = plan.participants[start:start + CHUNK]
        session.execute(delete(Participant).where(Participant.id.in_(chunk)))  # the database cascades
    for participant_id, wave_id in plan.new_responses:
        session.execute(delete(Response).where(Response.participant_id == participant_id,
                                               Response.wave_id == wave_id))
    session.expire_all()
    for before in plan.before:
        response = session.get(Response, before.response_id)
        if response is None:
            continue
        keys = set(responses.answers_of(response)) | set(before.answers)
        responses.record_answers(session, project, response, {key: before.answers.get(key) for key in keys},
                                 methods, on_score_error)
        response.status, response.completed_at = before.status, before.completed_at
        response.channel, response.entered_by_id = before.channel, before.entered_by_id
    session.flush()
