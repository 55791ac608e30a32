"""Activities from a CSV file: a worker's own spreadsheet of who came to what.

Columns ``date,kind,hours,title,participant,role`` and optionally
``participant_hours``, one row per resident at an activity; rows with the same
date, kind, title and hours are one activity. Kinds and roles may be the
English keys or the Dutch words (vergadering, werkdag, activiteit, training,
anders; deelnemer, vrijwilliger, organisator, voorzitter). Activities are for
known residents, so an unknown code is an error. As with answers
(``services.imports``), a file with any bad row is refused whole with every
problem listed, and nothing is stored; Dutch Excel files (``;``, decimal
commas, dates day first as 12-5-2026, Windows-1252) work as they are.

Running the same file again adds nothing: an activity with the same date,
kind, title and hours is the same activity, and a resident already at it is
left as they are; one whose own contribution waits for a worker is confirmed
(in the file's role), as when a worker ticks them on the page. A resident's
proposal nobody confirmed is never taken for the file's activity.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select

from surveyhub.models import Activity, ActivityParticipant
from surveyhub.models._types import utcnow
from surveyhub.services import activities, activity_values, audit
from surveyhub.services.context import ServiceContext
from surveyhub.services.errors import UserError
from surveyhub.services.imports import ImportRefused, read_rows
from surveyhub.services.projects import refuse_if_archived

REQUIRED = ("date", "kind", "hours", "title", "participant", "role")
OPTIONAL = ("participant_hours",)
MAX_ROWS = 20_000

#: ``(date, kind, title, hours)``: what makes rows one activity.
Key = tuple


@dataclass(frozen=True)
class Imported:
    #: Activities made (an activity already stored with the same date, kind, title and hours is not counted).
    activities: int
    #: Residents' entries added (or, where the resident's own contribution waited, confirmed).
    entries: int


def import_csv(ctx: ServiceContext, slug: str, data: bytes | str) -> Imported:
    """Check the whole file, then store it; the caller commits.

    :raises ImportRefused: listing every problem (row number, column, what is wrong); nothing stored.
    """
    project = ctx.project(slug, activities.CAPABILITY)
    refuse_if_archived(project)
    groups = _check(ctx, project.id, data)
    activities.serialise(ctx.session, project.id)  # the same file run twice at once: the second finds the first's
    made = added = 0
    for (day, kind, title, hours), entries in groups.items():
        activity = ctx.session.scalar(select(Activity).where(  # a resident's proposal is theirs, not this one
            Activity.project_id == project.id, Activity.confirmed_at.is_not(None), Activity.happened_on == day,
            Activity.kind == kind, Activity.hours == hours,
            Activity.title.is_(None) if title is None else Activity.title == title)
            .order_by(Activity.id).limit(1))
        if activity is None:
            activity = Activity(project_id=project.id, happened_on=day, kind=kind, title=title, hours=hours,
                                created_by_id=ctx.actor.user_id)
            ctx.session.add(activity)
            ctx.session.flush()
            made += 1
        present = {entry.participant_id: entry for entry in ctx.session.scalars(
            select(ActivityParticipant).where(ActivityParticipant.activity_id == activity.id))}
        new = []
        for participant_id, role, own in entries:
            waiting = present.get(participant_id)
            if waiting is not None:
                if waiting.confirmed_at is None:  # the resident said so too: the worker's file confirms it
                    waiting.role, waiting.hours = role, own
                    waiting.confirmed_at, waiting.confirmed_by_id = utcnow(), ctx.actor.user_id
                    added += 1
                continue
            new.append({"activity_id": activity.id, "participant_id": participant_id, "role": role, "hours": own,
                        "source": "import", "confirmed_by_id": ctx.actor.user_id})
        if new:  # one statement per activity, not per resident (a year's file has thousands of rows)
            ctx.session.execute(insert(ActivityParticipant), new)
            added += len(new)
    ctx.session.flush()
    audit.record(ctx.session, "activity.import", actor=ctx.actor, project_id=project.id,
                 target=f"project:{project.slug}", details={"activities": made, "entries": added})
    return Imported(made, added)


def _check(ctx: ServiceContext, project_id: int, data: bytes | str) -> dict[Key, list[tuple[int, str, float | None]]]:
    first, body = read_rows(data, MAX_ROWS)
    header = [cell.strip().lstrip("\ufeff").casefold() for cell in first]
    problems = _header_problems(header)
    if problems:
        raise ImportRefused(problems)
    column = {name: header.index(name) for name in (*REQUIRED, *OPTIONAL) if name in header}
    known = activity_values.codes_of(ctx.session, project_id)
    groups: dict[Key, list[tuple[int, str, float | None]]] = {}
    first_row: dict[tuple[Key, int], int] = {}
    for number, cells in enumerate(body, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        cell = {name: (cells[index].strip() if index < len(cells) else "") for name, index in column.items()}
        row_problems: list[str] = []
        if any(c.strip() for c in cells[len(header):]):
            row_problems.append(f"has {len(cells)} cells but the header names {len(header)} columns")
        values = {name: _value(name, cell[name], known, row_problems) for name in column}
        if not row_problems:
            key = (values["date"], values["kind"], values["title"], values["hours"])
            participant_id = values["participant"]
            if (key, participant_id) in first_row:
                row_problems.append(f"column 'participant': {cell['participant']!r} is at this activity already "
                                    f"(row {first_row[key, participant_id]})")
            else:
                first_row[key, participant_id] = number
                groups.setdefault(key, []).append((participant_id, values["role"], values.get("participant_hours")))
        problems.extend(f"row {number}: {problem}" for problem in row_problems)
    if problems:
        raise ImportRefused(problems)
    if not groups:
        raise ImportRefused(["the file has no rows with activities"])
    return groups


def _header_problems(header: list[str]) -> list[str]:
    problems = [f"header: there is no {name!r} column" for name in REQUIRED if name not in header]
    for index, name in enumerate(header):
        if not name:
            problems.append(f"header: column {index + 1} has no name")
        elif name not in REQUIRED and name not in OPTIONAL:
            problems.append(f"header: unknown column {name!r} (the columns are {', '.join(REQUIRED + OPTIONAL)})")
        elif header.index(name) != index:
            problems.append(f"header: column {name!r} appears twice")
    return problems


def _value(name: str, text: str, known, row_problems: list[str]):
    """The cell's value as stored; a problem is added (and None returned) when it is not acceptable."""
    try:
        if name == "date":
            return activity_values.parse_day(text, day_first=True)
        if name == "kind":
            return activity_values.parse_kind(text)
        if name == "hours":
            return activity_values.parse_hours(text)
        if name == "title":
            return activity_values.parse_title(text)
        if name == "role":
            return activity_values.parse_role(text)
        if name == "participant_hours":
            return activity_values.parse_hours(text) if text else None
        if not text:
            row_problems.append("column 'participant': the cell is empty")
            return None
        return activity_values.find_code(known, text)
    except UserError as exc:
        row_problems.append(f"column {name!r}: {exc}")
        return None
