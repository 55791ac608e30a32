"""What residents did in a project, for its report: activities, hours, and how many residents did how much.

Read from confirmed records only (:mod:`services.participation` for each resident's
intensity, one grouped query for the activities themselves). Counts of residents below
``min_cell`` read ``"<N"`` as everywhere in the report; bands that add up to the number of
active residents protect a lone hidden count (``stats.suppress_counts``). Counts of
activities and hours are not about any one resident and are shown as they are.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyhub.models import ACTIVITY_KINDS, ACTIVITY_ROLES, Activity, ActivityParticipant
from surveyhub.services import participation
from surveyhub.services.report_contract import KindCount, ParticipationProfile, Thresholds
from surveyhub.stats import suppress_count, suppress_counts

#: Bands of "how many activities" (label, lowest, highest; None: no upper bound).
BANDS = (("1", 1, 1), ("2-4", 2, 4), ("5+", 5, None))


def profile(session: Session, project_id: int, thresholds: Thresholds) -> ParticipationProfile:
    """The report's ``participation_profile`` of one project."""
    min_cell = thresholds["min_cell"]
    done = participation.by_participant(session, [project_id])
    active = [one for one in done.values() if one.activities > 0]
    bands: dict[str, int | None] = {
        label: sum(1 for one in active if one.activities >= low and (high is None or one.activities <= high))
        for label, low, high in BANDS}
    highest: dict[str, int | None] = {role: sum(1 for one in active if one.highest_role == role)
                                      for role in ACTIVITY_ROLES}
    shown_bands = suppress_counts(bands, min_cell)
    shown_roles = suppress_counts(highest, min_cell)
    activities = session.execute(
        select(Activity.kind, func.count(Activity.id), func.sum(Activity.hours))
        .where(Activity.project_id == project_id, Activity.confirmed_at.is_not(None))
        .group_by(Activity.kind)).all()
    per_kind = {kind: (int(count), float(hours or 0.0)) for kind, count, hours in activities}
    residents = dict(session.execute(
        select(Activity.kind, func.count(func.distinct(ActivityParticipant.participant_id)))
        .join(Activity, Activity.id == ActivityParticipant.activity_id)
        .where(Activity.project_id == project_id, *participation.counted())
        .group_by(Activity.kind)).all())
    by_kind = [
        {"kind": kind, "activities": per_kind[kind][0], "hours": round(per_kind[kind][1], 2),
         "residents": suppress_count(int(residents.get(kind, 0)), min_cell)}
        for kind in ACTIVITY_KINDS if kind in per_kind]
    found: dict[str, Any] = {
        "activities": sum(count for count, _hours in per_kind.values()),
        "hours": round(sum(hours for _count, hours in per_kind.values()), 2),
        "resident_hours": round(sum(one.hours for one in active), 2),
        "residents": len(active),
        "by_activities": [{"band": label, "residents": shown_bands[label]} for label, _low, _high in BANDS],
        "by_role": [{"role": role, "residents": shown_roles[role]} for role in ACTIVITY_ROLES],
        "by_kind": cast(list[KindCount], by_kind),
    }
    return cast(ParticipationProfile, found)
