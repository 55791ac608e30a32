"""The days a project's waves open and close by themselves, and its e-mail reminders: the settings page.

``invitations.apply_wave_dates`` opens and closes the waves on those days, and ``invitations.due_reminders``
sends the reminders (both from the queue's periodic ``tick``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from surveyhub.services import access, audit
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Invalid
from surveyhub.services.projects import refuse_if_archived


#: Reminders: days after the wave opened (and between reminders), and how many at most.
REMINDER_DAYS = (1, 60)
REMINDER_COUNTS = (1, 3)


@dataclass(frozen=True)
class WaveDates:
    kind: str
    #: draft, open or closed: only a draft can open by itself, only a draft or open wave close by itself.
    status: str
    open_on: date | None
    close_on: date | None


@dataclass(frozen=True)
class Schedule:
    waves: list[WaveDates]
    #: None: no reminders.
    reminder_days: int | None
    reminder_count: int


def schedule(session: Session, actor: Actor, slug: str) -> Schedule:
    """The project's wave dates and reminder settings, for the settings page."""
    project = access.project(session, actor, slug, "project.setup")
    return Schedule([WaveDates(w.kind, w.status, w.open_on, w.close_on) for w in project.waves],
                    project.reminder_days, project.reminder_count or 1)


def set_schedule(session: Session, actor: Actor, slug: str, dates: dict[str, tuple[date | None, date | None]],
                 reminder_days: int | None, reminder_count: int, *, today: date) -> None:
    """Check and store per wave the days it opens and closes by itself, and the reminders.

    ``dates`` maps a wave kind to (opens on, closes on). A day may lie in the past only when it was
    stored before (an earlier choice stays as it was); an open wave's opening day and a closed wave's
    days are kept as they are. ``today`` is the installation's day (its time zone).
    """
    project = access.project(session, actor, slug, "project.setup")
    refuse_if_archived(project)
    if reminder_days is not None and not REMINDER_DAYS[0] <= reminder_days <= REMINDER_DAYS[1]:
        raise Invalid(N_("send a reminder after 1 to 60 days, or leave the number of days empty"))
    if not REMINDER_COUNTS[0] <= reminder_count <= REMINDER_COUNTS[1]:
        raise Invalid(N_("send at most 1, 2 or 3 reminders"))
    for wave in project.waves:
        if wave.kind not in dates or wave.status == "closed":
            continue
        open_on, close_on = dates[wave.kind]
        if wave.status != "draft":
            open_on = wave.open_on
        for day, stored in ((open_on, wave.open_on), (close_on, wave.close_on)):
            if day is not None and day != stored and day < today:
                raise Invalid(N_("%(day)s has passed already; choose today or a later day"), day=day.isoformat())
        if open_on and close_on and close_on < open_on:
            raise Invalid(N_("a wave cannot close before it opens; choose a closing day on or after the "
                             "opening day"))
        wave.open_on, wave.close_on = open_on, close_on
    project.reminder_days, project.reminder_count = reminder_days, reminder_count
    audit.record(session, "project.update", actor=actor, target=f"project:{slug}", project_id=project.id,
                 details={"change": "schedule"})
    session.flush()
