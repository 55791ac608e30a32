"""How intensively each resident took part: activities, hours and roles, from confirmed records only.

The one reading of the activity tables that the certificate, the resident's page, the project
report's participation profile and the exploratory "which elements work" analysis share. A
resident's own contribution counts once a worker confirmed it; so does an activity a resident
proposed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyhub.models import ACTIVITY_ROLES, LEADING_ROLES, Activity, ActivityParticipant


@dataclass(frozen=True)
class Intensity:
    """What one resident did in one project."""

    #: Activities taken part in (any role).
    activities: int
    #: Hours given: each activity's hours, or the resident's own where recorded.
    hours: float
    #: Distinct roles held, from taking part to leading (``ACTIVITY_ROLES`` order).
    roles: tuple[str, ...]
    #: Activities the resident organised or chaired.
    led: int
    #: Activities per role, e.g. {"organiser": 3, "participant": 5}.
    by_role: dict[str, int]

    @property
    def ever_led(self) -> bool:
        """Did the resident ever organise or chair an activity (the exploratory analysis's "role held")?"""
        return self.led > 0

    @property
    def highest_role(self) -> str | None:
        return self.roles[-1] if self.roles else None


NONE = Intensity(activities=0, hours=0.0, roles=(), led=0, by_role={})


def counted():
    """The filter for entries that count: confirmed, on a confirmed activity."""
    return (ActivityParticipant.confirmed_at.is_not(None), Activity.confirmed_at.is_not(None))


def by_participant(session: Session, project_ids: Iterable[int],
                   participant_ids: Iterable[int] | None = None) -> dict[int, Intensity]:
    """Intensity per participant id for the given projects (participants with no activity are absent).

    One query, grouped in the database by participant and role; ``participant_ids`` narrows it
    (one resident's page or certificate).
    """
    hours = func.coalesce(ActivityParticipant.hours, Activity.hours)
    query = (select(ActivityParticipant.participant_id, ActivityParticipant.role,
                    func.count(ActivityParticipant.id), func.sum(hours))
             .join(Activity, Activity.id == ActivityParticipant.activity_id)
             .where(Activity.project_id.in_(list(project_ids)), *counted())
             .group_by(ActivityParticipant.participant_id, ActivityParticipant.role))
    if participant_ids is not None:
        query = query.where(ActivityParticipant.participant_id.in_(list(participant_ids)))
    rows: dict[int, dict[str, tuple[int, float]]] = defaultdict(dict)
    for participant_id, role, count, total in session.execute(query):
        rows[participant_id][role] = (int(count), float(total or 0.0))
    return {participant_id: _intensity(roles) for participant_id, roles in rows.items()}


def _intensity(roles: dict[str, tuple[int, float]]) -> Intensity:
    held = tuple(role for role in ACTIVITY_ROLES if role in roles)
    return Intensity(
        activities=sum(count for count, _ in roles.values()),
        hours=round(sum(total for _, total in roles.values()), 2),
        roles=held,
        led=sum(roles[role][0] for role in LEADING_ROLES if role in roles),
        by_role={role: roles[role][0] for role in held},
    )


def of(session: Session, project_id: int, participant_id: int) -> Intensity:
    """One resident's intensity (``NONE`` when they have no confirmed activity)."""
    return by_participant(session, [project_id], [participant_id]).get(participant_id, NONE)
