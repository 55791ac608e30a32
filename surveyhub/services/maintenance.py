"""Work the queue does on its own: the daily retention purge."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from surveyhub.services import outcomes, retention
from surveyhub.services.job_kinds import Kind

log = logging.getLogger(__name__)

#: No job kinds of its own: the purge is a periodic task, not a job a user starts.
KINDS: list[Kind] = []


def retention_purge(session_factory, registry, settings: Mapping) -> list[str]:
    """Remove personal data of every project past its retention period, audited as done by "system".

    :param session_factory: a callable returning a new session usable as a context manager.
    Returns the slugs purged.
    """
    done = retention.run_purge(session_factory, registry, dry_run=False, who="system", source="system",
                               default_months=int(settings["RETENTION_MONTHS"]),
                               thresholds=outcomes.Thresholds.from_settings(settings))
    purged = [item.slug for item, result in done if result is not None]
    if purged:
        log.info("retention purge removed personal data of %d project(s): %s", len(purged), ", ".join(purged))
    return purged
