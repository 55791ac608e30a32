"""The worker's background jobs: start one from a page, follow its progress, download its result.

A page that would take longer than a request may (all certificates, a large
report, link sheets) starts a job with :func:`start` and sends the browser to
the job's page. That page refreshes itself while the job runs (a meta refresh:
no JavaScript needed) and offers the result when it is done. Only the user who
started a job, and the admins of their organisation, see it (``services.jobs``).
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, stream_with_context, url_for

from surveyhub.db import get_session
from surveyhub.queue import get_queue
from surveyhub.services import jobs
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("jobs", __name__)


def start(kind: str, *, keys: list[str], params: dict, title: str, project_id: int | None = None):
    """Create job ``kind`` for the logged-in user, commit, enqueue its items, and answer with a redirect to
    its page. The caller has checked that the user may do this (the route's capability)."""
    session = get_session()
    job, item_ids = jobs.create(session, kind=kind, keys=keys, params=params, title=title, actor=current_actor(),
                                project_id=project_id)
    session.commit()
    get_queue().enqueue(item_ids)  # the tests' immediate queue runs them here
    return redirect(url_for("jobs.show", public_id=job.public_id))


@bp.route("/jobs")
@requires("project.list")
def index():
    return render_template("jobs/index.html", found=jobs.recent(get_session(), current_actor()))


@bp.route("/jobs/<public_id>")
@requires("project.list")
def show(public_id: str):
    session = get_session()
    actor = current_actor()
    view = jobs.view(session, actor, public_id)
    if view.finished:
        jobs.mark_seen(session, actor, public_id)
        session.commit()
    return render_template("jobs/show.html", job=view)


@bp.route("/jobs/<public_id>/download")
@requires("project.list")
def download(public_id: str):
    view, chunks = jobs.result_chunks(get_session(), current_actor(), public_id)
    response = Response(stream_with_context(chunks), mimetype=view.result_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{view.result_name}"'
    response.headers["Content-Length"] = str(view.result_size)
    response.headers["Cache-Control"] = "no-store"  # names and links of residents
    return response
