"""Work that runs on its own while ``surveyhub serve`` runs: for now, the daily retention purge.

gunicorn's master process starts :func:`start_retention_thread` from its
``when_ready`` hook (``surveyhub/gunicorn_conf.py``): a daemon thread that
purges once at start and then every 24 hours. The purge itself is the plain
service ``surveyhub.services.retention.run_purge``, so the job system of a
later issue can replace this thread without touching it.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Callable

from flask import Flask

log = logging.getLogger(__name__)

DAY_SECONDS = 24 * 60 * 60


def repeat(job: Callable[[], object], *, interval: float, wait: Callable[[float], bool]) -> None:
    """Run ``job`` now and then after every ``interval`` seconds until ``wait(interval)`` returns True.

    A failing run is logged and the next one still happens (the database may be back by then).
    """
    while True:
        try:
            job()
        except Exception:  # noqa: BLE001 - a background job must outlive any one failure
            log.exception("scheduled job %s failed", getattr(job, "__name__", job))
        if wait(interval):
            return


def purge_job(app: Flask) -> Callable[[], None]:
    """One retention purge with ``app``'s settings, audited as done by "system"."""
    def retention_purge() -> None:
        from surveyhub.cli.retention import purge

        with app.app_context():
            done = purge(who="system", source="system")
        purged = [item.slug for item, result in done if result is not None]
        if purged:
            log.info("retention purge removed personal data of %d project(s): %s", len(purged), ", ".join(purged))
    return retention_purge


def start_retention_thread(app: Flask | None = None, *, stop: threading.Event | None = None,
                           interval: float = DAY_SECONDS) -> threading.Thread | None:
    """Start the daily purge in a daemon thread; None when ``RETENTION_PURGE_DAILY`` is off.

    :param app: the app whose settings and database to use. Without one (the gunicorn master has
        none of its own) every run is a child process, so the workers start without waiting for it.
    :param stop: set it to end the thread after the current run.
    """
    if app is not None and not _daily_on(app):
        return None
    stop = stop or threading.Event()
    thread = threading.Thread(target=_run_daily, args=(app, stop, interval), name="surveyhub-retention",
                              daemon=True)
    thread.start()
    return thread


def _daily_on(app: Flask) -> bool:
    if int(app.config.get("RETENTION_PURGE_DAILY", 1) or 0):
        return True
    log.info("daily retention purge is switched off (SURVEYHUB_RETENTION_PURGE_DAILY=0)")
    return False


def _run_daily(app: Flask | None, stop: threading.Event, interval: float) -> None:
    # Without an app (the gunicorn master) each run is a child process of its own: building an app in a
    # thread of the master would hold import locks that the workers forked meanwhile inherit and wait on.
    repeat(purge_job(app) if app is not None else purge_process, interval=interval, wait=stop.wait)


def purge_process() -> None:
    """One retention purge in a child process (``python -m surveyhub.schedule``), with the same settings."""
    done = subprocess.run([sys.executable, "-m", "surveyhub.schedule"], timeout=6 * 60 * 60, check=False)
    if done.returncode != 0:
        log.error("the retention purge process ended with exit code %s", done.returncode)


def main() -> None:
    """Run one purge with the settings of the environment and the instance folder."""
    from surveyhub import create_app

    app = create_app()
    if _daily_on(app):
        purge_job(app)()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("surveyhub").setLevel(logging.INFO)
    main()
