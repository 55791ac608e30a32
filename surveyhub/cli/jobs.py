"""``surveyhub worker`` (the job consumer) and ``surveyhub jobs`` (list, show, wait)."""

from __future__ import annotations

import logging
import time

import click
from flask import current_app

from surveyhub.cli.common import session_scope, user_errors
from surveyhub.db import get_db
from surveyhub.queue import get_queue
from surveyhub.services import jobs, schema_state


@click.command("worker")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (one per CPU core is a good start).")
@click.option("--if-embedded", is_flag=True, hidden=True,
              help="Started by `surveyhub serve`: do nothing when SURVEYHUB_EMBEDDED_WORKER is 0.")
@user_errors
def worker_command(workers: int, if_embedded: bool):
    """Run background jobs (documents, e-mail, reminders, purges) until stopped."""
    if if_embedded and not int(current_app.config.get("EMBEDDED_WORKER", 1) or 0):
        return
    schema_state.ensure_ready(get_db())
    queue = get_queue()
    if queue.immediate:
        raise click.ClickException("SURVEYHUB_QUEUE_URL=immediate runs jobs where they start; there is nothing "
                                   "for a worker to do")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(processName)s %(levelname)s %(name)s: %(message)s")
    click.echo(f"SurveyHub worker: {workers} process(es) on {_queue_name(queue)}  (stop with Ctrl+C)")
    consumer = queue.huey.create_consumer(workers=workers, worker_type="process", periodic=True,
                                          check_worker_health=True, health_check_interval=5)
    queue.daily()  # the retention purge once at start, then daily at night
    consumer.run()


def _queue_name(queue) -> str:
    url = str(current_app.config.get("QUEUE_URL") or "")
    if url.startswith(("redis://", "rediss://", "unix://")):
        return "Redis " + url.split("@")[-1].split("://")[-1]  # never print a password
    return f"the built-in queue ({current_app.instance_path}/queue.sqlite3)"


@click.group("jobs")
def jobs_group():
    """Background jobs: list them, show one, wait for one."""


@jobs_group.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@user_errors
def list_command(limit: int):
    """The newest jobs of the installation."""
    with session_scope(commit=False) as session:
        found = jobs.latest(session, limit=limit)
    if not found:
        click.echo("No jobs.")
    for number, view in found:
        click.echo(f"{number:>6}  {view.status:9} {view.done + view.failed:>5}/{view.total:<5} {view.kind:20} "
                   f"{view.created_at:%Y-%m-%d %H:%M}  {view.title}")


@jobs_group.command("show")
@click.argument("number", type=int)
@user_errors
def show_command(number: int):
    """One job: its progress, its problems and its result."""
    with session_scope(commit=False) as session:
        view = jobs.view_by_id(session, number)
    _print(number, view)


@jobs_group.command("wait")
@click.argument("number", type=int)
@click.option("--timeout", default=0, type=click.IntRange(0), help="Give up after this many seconds (0: never).")
@user_errors
def wait_command(number: int, timeout: int):
    """Show a progress bar until the job is finished; exit 1 when it failed."""
    view = follow(number, timeout=timeout or None)
    _print(number, view)
    if view.status == "failed":
        raise SystemExit(1)


def follow(job_id: int, *, timeout: float | None = None, interval: float = 0.5) -> jobs.JobView:
    """Wait for job ``job_id`` with a progress bar on stderr; returns its last state.

    Other commands that start a job call this for ``--wait``.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    with session_scope(commit=False) as session:
        view = jobs.view_by_id(session, job_id)
    with click.progressbar(length=max(view.total, 1), label=view.title or view.kind,
                           file=click.get_text_stream("stderr"), show_pos=True) as bar:
        shown = 0
        while True:
            with session_scope(commit=False) as session:
                view = jobs.view_by_id(session, job_id)
            now = view.done + view.failed
            if now > shown:
                bar.update(now - shown)
                shown = now
            if view.finished:
                return view
            if deadline is not None and time.monotonic() > deadline:
                raise click.ClickException(f"job {job_id} is not finished after {timeout:.0f} s; "
                                           f"see it with: surveyhub jobs show {job_id}")
            time.sleep(interval)


def _print(number: int, view: jobs.JobView) -> None:
    click.echo(f"job {number}: {view.title or view.kind}")
    click.echo(f"  status: {view.status}, {view.done} done, {view.failed} failed of {view.total}")
    for problem in view.problems:
        click.echo(f"  problem: {jobs.problem_text(problem)}")
    if view.message:
        click.echo(f"  {view.message}")
    if view.result_name:
        click.echo(f"  result: {view.result_name} ({view.result_size} bytes; download it from the job's page)")


COMMANDS = [worker_command, jobs_group]
