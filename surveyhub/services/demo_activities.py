"""What the demo's residents did: activities, with who took part in which role.

Rows are written straight through the models (``Activity``, ``ActivityParticipant``), confirmed
as a worker's own entries are, so the certificate ("organiseerde 3 activiteiten"), the
participation profile and the exploratory "which elements work" analysis have something to
show. Attendance is drawn per resident from a tendency to take part that leans a little
towards the residents who grew (as the field expects, and as the exploratory section is meant
to question); the residents who never came back for the post wave mostly stopped early.
Deterministic: one seeded ``random.Random`` per project.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from surveyhub.models import Activity, ActivityParticipant, Participant, Response, ScaleScore, Wave

#: How readily residents come to each kind of activity (a training asks more of them).
TURNOUT = {"meeting": 1.0, "workday": 0.8, "event": 1.3, "training": 0.5, "other": 0.7}


@dataclass(frozen=True)
class Planned:
    """One activity: days after the project's start, kind, title, hours."""

    day: int
    kind: str
    title: str
    hours: float
    #: How many of the residents come, beside the kind's turnout: a crew's meeting is small.
    reach: float = 1.0


#: The playground's year: evenings with residents, three build days, the opening, the upkeep.
SPEELTUIN = (
    Planned(7, "meeting", "Eerste bewonersavond", 2.0),
    Planned(21, "meeting", "Bewonersavond: wensen van de kinderen", 2.0),
    Planned(28, "training", "Training: subsidie aanvragen", 2.5, reach=0.6),
    Planned(35, "meeting", "Bewonersavond: ontwerp kiezen", 2.0),
    Planned(49, "workday", "Bouwdag 1", 5.0),
    Planned(56, "workday", "Bouwdag 2", 5.0),
    Planned(63, "workday", "Bouwdag 3", 5.0),
    Planned(70, "event", "Opening van de speeltuin", 4.0),
    Planned(84, "meeting", "Bewonersavond: samen de speeltuin bijhouden", 2.0),
    Planned(98, "workday", "Onderhoudsdag", 3.0),
    Planned(112, "meeting", "Overleg onderhoudsploeg", 1.5, reach=0.3),
    Planned(126, "event", "Buurtbarbecue", 3.0),
    Planned(140, "meeting", "Terugblikavond", 2.0),
)
#: Who led what in the playground project (resident index in ``demo.NAMES`` -> activity index, role),
#: in line with the roles and quotes the worker wrote down: Fatima organised the first evening,
#: Henk led the building crew, Kees chaired the evenings, Mirjam planned the upkeep.
SPEELTUIN_LEADS = {0: ((0, "organiser"), (12, "chair")), 1: ((4, "organiser"), (5, "organiser"), (6, "organiser")),
                   2: ((1, "organiser"),), 9: ((1, "chair"), (3, "chair"), (8, "chair")),
                   24: ((9, "organiser"), (10, "organiser")), 20: ((11, "organiser"),)}
#: Volunteers the quotes mention: Aylin built on three Saturdays, Esra made the coffee, Lotte built the frame.
SPEELTUIN_VOLUNTEERS = {4: (4, 5, 6), 12: (0, 1, 3, 8, 12), 19: (4, 5, 6, 9)}


def record(session: Session, project_id: int, user_id: int | None, start: date, plan: Sequence[Planned],
           people: Sequence[tuple[int, float, bool]], rng: random.Random,
           leads: Mapping[int, Sequence[tuple[int, str]]] | None = None,
           volunteers: Mapping[int, Sequence[int]] | None = None) -> None:
    """The planned activities, and who came: ``people`` is (participant id, tendency 0-1, stayed to the end).

    ``leads`` and ``volunteers`` name, by position in ``people``, who organised or chaired and who
    volunteered at which activity (by position in ``plan``); everyone else is drawn.
    """
    leads, volunteers = leads or {}, volunteers or {}
    fixed: dict[tuple[int, int], str] = {}
    for person, held in leads.items():
        fixed.update({(person, activity): role for activity, role in held})
    for person, activities in volunteers.items():
        fixed.update({(person, activity): "volunteer" for activity in activities if (person, activity) not in fixed})
    last_day = max(p.day for p in plan)
    days = [start + timedelta(days=planned.day) for planned in plan]
    times = [datetime.combine(day, time(20, 0), tzinfo=timezone.utc) for day in days]
    # Two inserts, not an object per row: the demo records some 700 of them.
    made = session.scalars(insert(Activity).returning(Activity.id, sort_by_parameter_order=True), [
        {"project_id": project_id, "happened_on": day, "kind": planned.kind, "title": planned.title,
         "hours": planned.hours, "created_by_id": user_id, "confirmed_at": when, "created_at": when}
        for planned, day, when in zip(plan, days, times, strict=True)]).all()
    rows = []
    for a, (planned, activity_id, when) in enumerate(zip(plan, made, times, strict=True)):
        for p, (participant_id, tendency, stayed) in enumerate(people):
            role = fixed.get((p, a))
            late = 1.0 if stayed or planned.day < last_day / 2 else 0.15
            came = rng.random() < tendency * TURNOUT[planned.kind] * planned.reach * late
            if role is None and not came:
                continue
            if role is None:
                role = "volunteer" if planned.kind in ("workday", "event") and rng.random() < 0.3 else "participant"
            # A volunteer at a long day now and then stays an hour longer (their own hours).
            hours = planned.hours + 1.0 if role == "volunteer" and planned.hours >= 3 and rng.random() < 0.3 else None
            rows.append({"activity_id": activity_id, "participant_id": participant_id, "role": role, "hours": hours,
                         "source": "worker", "confirmed_at": when, "confirmed_by_id": user_id, "created_at": when})
    if rows:
        session.execute(insert(ActivityParticipant), rows)


def tendencies(session: Session, project_id: int, rng: random.Random) -> list[tuple[int, float, bool]]:
    """(participant id, tendency to take part, answered the post wave) for the project's invited residents.

    The tendency leans towards the residents whose scores rose (a mean over their scales), with
    noise; who never answered the post wave gets a low one.
    """
    rows = session.execute(
        select(Participant.id, Wave.kind, ScaleScore.score)
        .join(Response, Response.participant_id == Participant.id).join(Wave, Wave.id == Response.wave_id)
        .join(ScaleScore, ScaleScore.response_id == Response.id)
        .where(Participant.project_id == project_id, Participant.source != "anonymous", ScaleScore.block == "now",
               ScaleScore.score.is_not(None))
        .order_by(Participant.id))
    invited = session.scalars(select(Participant.id).where(Participant.project_id == project_id,
                                                           Participant.source != "anonymous")
                              .order_by(Participant.id)).all()
    sums: dict[int, dict[str, list[float]]] = {participant_id: {} for participant_id in invited}
    for participant_id, kind, score in rows:
        if score is not None:  # the query leaves none out; this tells the type checker so
            sums[participant_id].setdefault(kind, []).append(score)
    people = []
    for participant_id in invited:  # in the order they were invited, as the callers' positions count
        waves = sums[participant_id]
        if "post" not in waves or "pre" not in waves:
            people.append((participant_id, 0.15, False))
            continue
        growth = sum(waves["post"]) / len(waves["post"]) - sum(waves["pre"]) / len(waves["pre"])
        people.append((participant_id, min(0.85, max(0.08, 0.3 + 0.35 * growth + rng.gauss(0, 0.12))), True))
    return people
