"""The values a worker types about an activity, read the one way the page, the command line and the import share.

Kinds and roles may be the English keys (``ACTIVITY_KINDS``, ``ACTIVITY_ROLES``) or the
Dutch words; hours 0 to 24 with a decimal comma or dot; a date from 2000 up to tomorrow (a
worker a time zone ahead), as 2026-05-12 (in a file also day first, as Dutch Excel writes it:
12-5-2026); a title of at most 200 characters; a resident by their code,
equal but for capitals and spaces where that is unambiguous. Each function returns the value
as stored or raises ``Invalid`` with a catalog msgid.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.models import ACTIVITY_KINDS, ACTIVITY_ROLES, Participant
from surveyhub.services.errors import N_, Invalid
from surveyhub.text import clean

MAX_TITLE = 200
MAX_HOURS = 24.0
EARLIEST = date(2000, 1, 1)
#: The words a worker may use for a kind or a role: the keys themselves and the Dutch words.
KIND_WORDS = {**{kind: kind for kind in ACTIVITY_KINDS}, "vergadering": "meeting", "werkdag": "workday",
              "activiteit": "event", "evenement": "event", "anders": "other", "work day": "workday"}
ROLE_WORDS = {**{role: role for role in ACTIVITY_ROLES}, "deelnemer": "participant", "vrijwilliger": "volunteer",
              "organisator": "organiser", "organizer": "organiser", "voorzitter": "chair", "woordvoerder": "chair"}
_HOURS = re.compile(r"^\d{1,2}([.,]\d{1,2})?$")
#: A date as Dutch Excel writes it in a CSV file: day first, the year in four digits (12-5-2026, 12.05.2026).
#: Only a file's cells are read so: a worker typing a date is asked for year-month-day (nothing to guess).
_DUTCH_DATE = re.compile(r"^(?P<day>\d{1,2})([-.])(?P<month>\d{1,2})\2(?P<year>\d{4})$")


def parse_kind(value: str) -> str:
    """``"meeting"`` from "meeting", "Vergadering" or " vergadering "; Invalid otherwise."""
    kind = KIND_WORDS.get(" ".join(str(value or "").split()).casefold())
    if kind is None:
        raise Invalid(N_("%(value)r is not a kind of activity (choose meeting, workday, event, training or other)"),
                      value=str(value or ""))
    return kind


def parse_role(value: str | None) -> str:
    """``"organiser"`` from "organiser" or "Organisator"; empty is a participant; Invalid otherwise."""
    text = " ".join(str(value or "").split()).casefold()
    if not text:
        return "participant"
    role = ROLE_WORDS.get(text)
    if role is None:
        raise Invalid(N_("%(value)r is not a role (choose participant, volunteer, organiser or chair)"),
                      value=str(value))
    return role


def parse_hours(value) -> float:
    """Hours from 0 to 24, as a number or text with a decimal dot or comma ("1,5"); Invalid otherwise."""
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value or "").strip()
        if not _HOURS.match(text):
            raise Invalid(N_("%(value)r is not a number of hours; write it as 2 or 1,5"), value=text)
        number = float(text.replace(",", "."))
    if not 0 <= number <= MAX_HOURS:  # also NaN
        raise Invalid(N_("hours must be from 0 to 24"))
    return round(number, 2)


def parse_day(value, today: date | None = None, *, day_first: bool = False) -> date:
    """A date from 2000 up to tomorrow (a worker a time zone ahead), as a ``date`` or ISO text.

    :param day_first: also read 12-5-2026 as 12 May (a cell of a Dutch Excel file).
    """
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        text = str(value or "").strip()
        dutch = _DUTCH_DATE.match(text) if day_first else None
        try:
            value = (date(int(dutch["year"]), int(dutch["month"]), int(dutch["day"])) if dutch
                     else date.fromisoformat(text))
        except ValueError:
            raise Invalid(N_("%(value)r is not a date; write it as year-month-day, e.g. 2026-05-12"),
                          value=str(value or "")) from None
    today = today or date.today()
    if value > today + timedelta(days=1):
        raise Invalid(N_("the date %(date)s is in the future; record an activity once it happened"),
                      date=value.isoformat())
    if value < EARLIEST:
        raise Invalid(N_("the date %(date)s is before 2000"), date=value.isoformat())
    return value


def parse_title(value: str | None) -> str | None:
    text = " ".join(clean(str(value or "")).split())
    if len(text) > MAX_TITLE:
        raise Invalid(N_("the title is longer than 200 characters"))
    return text or None


def codes_of(session: Session, project_id: int) -> dict[str, list[tuple[str, int]]]:
    """Case-folded code -> [(code, participant id)] for the project's residents."""
    found: dict[str, list[tuple[str, int]]] = {}
    for code, pid in session.execute(select(Participant.code, Participant.id)
                                     .where(Participant.project_id == project_id)):
        found.setdefault(code.strip().casefold(), []).append((code, pid))
    return found


def find_code(known: dict[str, list[tuple[str, int]]], code: str) -> int:
    """The participant id of ``code``: exact, else the one code equal but for capitals and spaces."""
    matches = known.get(code.strip().casefold(), [])
    exact = [pid for stored, pid in matches if stored == code.strip()]
    if exact:
        return exact[0]
    if len(matches) == 1:
        return matches[0][1]
    if matches:
        raise Invalid(N_("%(code)r matches more than one resident; use the exact code"), code=code)
    raise Invalid(N_("there is no resident with code %(code)r in this project"), code=code)
