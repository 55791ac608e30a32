"""``surveyhub worker`` (the job consumer) and ``surveyhub jobs`` (list, show, wait, download)."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from surveyhub.cli.common import session_scope, user_errors
from surveyhub.db import get_db
from surveyhub.queue import get_queue
from surveyhub.services import job_views, schema_state
from surveyhub.services.errors import NotFound


@click.command("worker")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (one per CPU core is a good start).")
@click.option("--verbose", is_flag=True,
              help="Log every task run and every periodic task (by default: problems and jobs taken over).")
@click.option("--if-embedded", is_flag=True, hidden=True,
              help="Started by `surveyhub serve`: do nothing when SURVEYHUB_EMBEDDED_WORKER is 0.")
@with_appcontext
@user_errors
def worker_command(workers: int, verbose: bool, if_embedded: bool):
    """Run background jobs (documents, e-mail, reminders, purges) until stopped."""
    if if_embedded and not int(current_app.config.get("EMBEDDED_WORKER", 1) or 0):
        return
    schema_state.ensure_ready(get_db())
    queue = get_queue()
    if queue.immediate:
        raise click.ClickException("SURVEYHUB_QUEUE_URL=immediate runs jobs where they start; there is nothing "
                                   "for a worker to do")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(processName)s %(levelname)s %(name)s: %(message)s")
    if not verbose:  # a line per task and per minute's tick would bury the server's own log (`make run`)
        for name in ("huey", "huey.consumer.Scheduler"):
            logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger("huey.consumer").setLevel(logging.INFO)  # started, stopping: worth a line
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
    """Background jobs: list them, show one, wait for one, download its file.

    Jobs (all certificates, a report, ...) run in a worker, not in the command
    or page that started them. `wait` shows a progress bar until one is
    finished; Ctrl+C detaches: it stops the waiting, not the job, and
    `surveyhub jobs wait N` picks it up again.
    """


@jobs_group.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@with_appcontext
@user_errors
def list_command(limit: int):
    """The newest jobs of the installation."""
    with session_scope(commit=False) as session:
        found = job_views.latest(session, limit=limit)
    if not found:
        click.echo("No jobs.")
    for number, view in found:
        click.echo(f"{number:>6}  {view.status:9} {view.done + view.failed:>5}/{view.total:<5} {view.kind:20} "
                   f"{view.created_at:%Y-%m-%d %H:%M}  {view.title}")


@jobs_group.command("show")
@click.argument("number", type=int)
@with_appcontext
@user_errors
def show_command(number: int):
    """One job: its progress, its problems and its result."""
    with session_scope(commit=False) as session:
        view = _view(session, number)
    _print(number, view)


@jobs_group.command("wait")
@click.argument("number", type=int)
@click.option("--timeout", default=0, type=click.IntRange(0), help="Give up waiting after this many seconds "
              "(0: never). The job itself goes on.")
@with_appcontext
@user_errors
def wait_command(number: int, timeout: int):
    """Show a progress bar until job NUMBER is finished; exit 1 when it failed.

    Ctrl+C (or --timeout) stops the waiting, not the job: it goes on in the worker.
    """
    view = follow(number, timeout=timeout or None)
    _print(number, view)
    if view.status == "failed":
        raise SystemExit(1)


@jobs_group.command("download")
@click.argument("number", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, allow_dash=True),
              help="Write the file here ('-' for standard output); default: the job's file name in this folder.")
@with_appcontext
@user_errors
def download_command(number: int, output: str | None):
    """Write the file job NUMBER made (a ZIP of certificates, a report) to disk."""
    with session_scope(commit=False) as session:
        try:
            view, chunks = job_views.result_chunks_by_id(session, number)
        except NotFound:
            view = _view(session, number)
            raise click.ClickException(
                f"job {number} has no file: it is {view.status}" + (
                    f"; wait for it with: surveyhub jobs wait {number}" if not view.finished else "")) from None
        if output == "-":
            stream = sys.stdout.buffer
            for chunk in chunks:
                stream.write(chunk)
            stream.flush()
            return
        target = Path(output or _safe_name(view.result_name or f"job-{number}"))
        partial = target.with_name(target.name + ".part")
        try:
            with partial.open("wb") as fh:  # a half-written file never carries the real name
                for chunk in chunks:
                    fh.write(chunk)
            partial.replace(target)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise click.ClickException(f"could not write {target}: {exc.strerror or exc}") from None
    click.echo(f"{target}: {view.result_size} bytes", err=True)


def _safe_name(name: str) -> str:
    """A result's name as a file name here: no folders, nothing hidden."""
    return Path(name.replace("\\", "/")).name.lstrip(".") or "download"


def _view(session, number: int) -> job_views.JobView:
    try:
        return job_views.view_by_id(session, number)
    except NotFound:
        raise click.ClickException(f"there is no job {number} (finished jobs are deleted when their result "
                                   f"expires); see the jobs with: surveyhub jobs list") from None


def follow(job_id: int, *, timeout: float | None = None, interval: float = 0.5,
           idle_hint_after: float = 60.0) -> job_views.JobView:
    """Wait for job ``job_id`` with a progress bar on stderr; returns its last state.

    Other commands that start a job call this for ``--wait``. Ctrl+C detaches (exit 130) with a line that
    says how to wait again; a job that disappears (expired, its project deleted) or that does not move for
    ``idle_hint_after`` seconds (no worker running?) is said in words.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    with session_scope(commit=False) as session:
        view = _view(session, job_id)
    try:
        with click.progressbar(length=max(view.total, 1), label=view.title or view.kind,
                               file=sys.stderr, show_pos=True) as bar:
            return _poll(job_id, bar, deadline, timeout, interval, idle_hint_after)
    except KeyboardInterrupt:
        click.echo(f"\nDetached; the job goes on. Wait for it again with: surveyhub jobs wait {job_id}", err=True)
        raise SystemExit(130) from None


def _poll(job_id, bar, deadline, timeout, interval, idle_hint_after) -> job_views.JobView:
    shown = 0
    moved_at = time.monotonic()
    hinted = False
    while True:
        with session_scope(commit=False) as session:
            try:
                view = job_views.view_by_id(session, job_id)
            except NotFound:
                raise click.ClickException(f"job {job_id} is gone (it expired or its project was deleted)") \
                    from None
        now = view.done + view.failed
        if now > shown:
            bar.update(now - shown)
            shown = now
            moved_at = time.monotonic()
        if view.finished:
            return view
        if not hinted and view.status == "queued" and time.monotonic() - moved_at > idle_hint_after:
            hinted = True
            click.echo(f"\njob {job_id} has not started after {idle_hint_after:.0f} s: is a worker running? "
                       f"(`surveyhub worker`, or `surveyhub serve` with its built-in worker)", err=True)
        if deadline is not None and time.monotonic() > deadline:
            raise click.ClickException(f"job {job_id} is not finished after {timeout:.0f} s; it goes on. "
                                       f"See it with: surveyhub jobs show {job_id}")
        time.sleep(interval)


def _print(number: int, view: job_views.JobView) -> None:
    click.echo(f"job {number}: {view.title or view.kind}")
    click.echo(f"  status: {view.status}, {view.done} done, {view.failed} failed of {view.total}")
    for problem in view.problems:
        click.echo(f"  problem: {job_views.problem_text(problem)}")
    if view.message:
        click.echo(f"  {view.message}")
    if view.result_name:
        click.echo(f"  result: {view.result_name} ({view.result_size} bytes); save it with: "
                   f"surveyhub jobs download {number}")
    if view.expires_at and view.finished:
        click.echo(f"  kept until: {view.expires_at:%Y-%m-%d %H:%M} UTC")


COMMANDS = [worker_command, jobs_group]
