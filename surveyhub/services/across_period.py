"""Which pairs count in the change of a report across projects for a period: whole blocks.

A reader picks any period. Were each pre → post pair counted in the change by the day its post
questionnaire came in, two periods one day apart would differ by the residents who answered that
day, and their change would follow from the two means and pair counts (``n2·m2 − n1·m1``). So a
project's pairs on a scale are cut into blocks of :func:`block_size` pairs in the order their post
responses were completed (a last block of fewer joins the one before; a project with fewer pairs in
all is one block), and a block counts in the period when its last post response was completed in
it. The block size is the installation's, the same for every reader and every report, so any two
reports differ by whole blocks. The period's days begin on the installation's clock (``TIMEZONE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.models import Response, Wave
from surveyhub.services.errors import Invalid, N_
from surveyhub.services.outcome_data import Pair

#: The days a period may hold: far enough for any report, near enough for every clock's arithmetic
#: (the first of year 1 in Amsterdam is before the first UTC datetime there is).
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


def bounds(start: date, end: date, zone: str | tzinfo = timezone.utc) -> tuple[datetime, datetime]:
    """The period as UTC datetimes: [start 00:00, the day after end 00:00) on the clock of ``zone``.

    :raises Invalid: for a day before 1900 or after 2999 (an API client may send any date).
    """
    if start < EARLIEST or end > LATEST:
        raise Invalid(N_("Choose a period from 1900 to 2999."))
    where = ZoneInfo(zone) if isinstance(zone, str) else zone
    return (datetime.combine(start, time.min, where).astimezone(timezone.utc),
            datetime.combine(end + timedelta(days=1), time.min, where).astimezone(timezone.utc))


def block_size(installation) -> int:
    """Pairs per block of change: the installation's ``max(min_means, min_tests)`` (an ``outcomes.Thresholds``).

    Never a reader's or an organisation's own threshold: a reader who could move it would cut the
    blocks otherwise in two reports and compare them.
    """
    return max(installation.min_means, installation.min_tests, 1)


def post_times(session: Session, ids: list[int]) -> dict[int, datetime]:
    """Response id -> when it was completed, for every completed post response of the projects."""
    return {rid: cast(datetime, when) for rid, when in session.execute(
        select(Response.id, Response.completed_at).join(Wave, Wave.id == Response.wave_id)
        .where(Wave.project_id.in_(ids), Wave.kind == "post", Response.status == "completed",
               Response.completed_at.is_not(None)))}


@dataclass(frozen=True)
class Blocks:
    """Which of a project's pairs on a scale count in the period: whole blocks (the module's docstring)."""

    size: int
    post_times: dict[int, datetime]
    low: datetime
    high: datetime

    def chosen(self, pairs: list[Pair]) -> list[Pair]:
        return [pair for part in blocks(pairs, self.post_times, self.size)
                if self.low <= self.post_times[part[-1].second] < self.high for pair in part]


def blocks(pairs: list[Pair], post_times: dict[int, datetime], size: int) -> list[list[Pair]]:
    """``pairs`` (with a completed post) in the order their post was completed, cut into blocks of ``size``.

    A last block of fewer than ``size`` joins the block before it, so every block holds at least
    ``size`` pairs, unless the project has fewer pairs than that in all (one block). Ties in time go
    by response id, so the cut is the same in every report.
    """
    ordered = sorted((pair for pair in pairs if pair.second in post_times),
                     key=lambda pair: (post_times[pair.second], pair.second))
    cut = [ordered[i:i + size] for i in range(0, len(ordered), size)]
    if len(cut) > 1 and len(cut[-1]) < size:
        cut[-2].extend(cut.pop())
    return cut
