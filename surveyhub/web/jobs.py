"""The worker's background jobs: start one from a page, follow its progress, download its result.

A page that would take longer than a request may (all certificates, a large
report, link sheets) starts a job with :func:`start` and sends the browser to
the job's page. That page refreshes itself while the job runs (an HTTP ``Refresh``
header: no JavaScript needed; the user can turn it off) and offers the result when it is done. Only the user who
started a job, and the admins of their organisation, see it (``services.job_views``).
Every staff page tells the user when a job they started is finished
(:func:`ready_notice`, shown by ``base.html``) until they open it.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from flask import (Blueprint, Response, current_app, make_response, redirect, render_template, request,
                   url_for)
from flask_babel import gettext, ngettext
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from surveyhub.db import get_db, get_session
from surveyhub.i18n import current_language
from surveyhub.locale import Numbers
from surveyhub.queue import KINDS, get_queue
from surveyhub.services import job_views, jobs
from surveyhub.web.session_user import PUBLIC, current_actor, requires

bp = Blueprint("jobs", __name__)
log = logging.getLogger(__name__)

#: Seconds between the job page's own refreshes while the job runs.
REFRESH_SECONDS = 5


def start(kind: str, *, keys: list[str], params: dict, title: str, project_id: int | None = None):
    """Create job ``kind`` for the logged-in user, commit, enqueue its items, and answer with a redirect to
    its page. The caller has checked that the user may do this (the route's capability)."""
    session = get_session()
    job, item_ids = jobs.create(session, kind=kind, keys=keys, params=params, title=title, actor=current_actor(),
                                project_id=project_id, keep_days=KINDS[kind].keep_days)
    session.commit()
    get_queue().enqueue(item_ids)  # the tests' immediate queue runs them here
    return redirect(url_for("jobs.show", public_id=job.public_id))


@bp.route("/jobs")
@requires("project.list")
def index():
    return render_template("jobs/index.html", found=job_views.recent(get_session(), current_actor()),
                           state=status_word, size=file_size)


@bp.route("/jobs/<public_id>")
@requires("project.list")
def show(public_id: str):
    session = get_session()
    actor = current_actor()
    view = job_views.view(session, actor, public_id)
    left = job_views.seconds_left(session, actor, public_id)
    if view.finished:
        job_views.mark_seen(session, actor, public_id)
        session.commit()
    auto = request.args.get("refresh") != "off"
    response = make_response(render_template("jobs/show.html", job=view, words=words_for(view, left),
                                              auto=auto))
    if auto and not view.finished:
        # The Refresh header does what <meta http-equiv="refresh"> does, without JavaScript; the page offers a
        # link that turns it off (WCAG 2.2.1: a time limit the user can turn off).
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


@bp.route("/jobs/<public_id>/download")
@requires("project.list")
def download(public_id: str):
    session = get_session()
    view, chunks = job_views.result_chunks(session, current_actor(), public_id, session_factory=get_db().session)
    session.commit()  # each chunk is read in a short session of its own while the file is sent
    response = Response(chunks, mimetype=view.result_type)
    response.headers["Content-Disposition"] = attachment(view.result_name or "download")
    response.headers["Content-Length"] = str(view.result_size)
    response.headers["Cache-Control"] = "no-store"  # names and links of residents
    return response


def attachment(name: str) -> str:
    """``Content-Disposition`` for a file called ``name`` (RFC 6266): a plain ASCII ``filename`` every browser
    reads, and the real name as UTF-8 in ``filename*``. Quotes, line breaks and slashes in a name (a project's
    name can hold anything) end up encoded or replaced, never in the header as they are."""
    name = re.sub(r"[/\\\x00-\x1f\x7f]", "_", name)
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r"[^A-Za-z0-9._ ()-]", "_", plain).strip(" .") or "download"
    header = f'attachment; filename="{plain}"'
    if plain != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


# --- words on the pages -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Words:
    """What the job page says, worked out here so the template only places it."""

    project: str | None
    counter: str
    time_left: str | None
    done_line: str
    size: str | None
    message: str
    problems: list[str]


def words_for(view: job_views.JobView, seconds_left: float | None) -> Words:
    return Words(project=view.project_name if view.project_name and view.project_name not in view.title else None,
                 counter=counter(view), time_left=time_left(seconds_left), done_line=done_line(view),
                 size=file_size(view.result_size) if view.result_size is not None else None,
                 message=gettext(view.message) if view.message else gettext("This job could not be finished."),
                 problems=[gettext(job_views.problem_text(problem, gettext)) for problem in view.problems])


def _count(value: int) -> str:
    return Numbers(current_language()).count(value)


def _certificates(view: job_views.JobView) -> bool:
    return view.kind.startswith("certificates.")


def counter(view: job_views.JobView) -> str:
    """"12 of 300 certificates made"; a job of one step says only that it is being made."""
    made = view.done + view.failed
    if view.status == "queued" and made == 0:
        return gettext("Waiting for its turn. It starts in a moment.")
    if view.status == "finishing":
        return gettext("Everything is made. Now it is being put together…")
    if view.total <= 1:
        return gettext("Being made…")
    if _certificates(view):
        return gettext("%(done)s of %(total)s certificates made", done=_count(made), total=_count(view.total))
    return gettext("%(done)s of %(total)s parts ready", done=_count(made), total=_count(view.total))


def done_line(view: job_views.JobView) -> str:
    if _certificates(view) and view.done:
        return ngettext("Ready: %(num)s certificate made.", "Ready: %(num)s certificates made.", view.done)
    return gettext("Ready.")


def time_left(seconds: float | None) -> str | None:
    """An estimate in words; None when there is none yet."""
    if seconds is None:
        return None
    minutes = round(seconds / 60)
    if minutes < 1:
        return gettext("Less than a minute to go.")
    if minutes < 90:
        return ngettext("About %(num)s minute to go.", "About %(num)s minutes to go.", minutes)
    return ngettext("About %(num)s hour to go.", "About %(num)s hours to go.", round(minutes / 60))


def file_size(size: int | None) -> str:
    """``4,2 MB`` (in the page's number format)."""
    if size is None:
        return ""
    numbers = Numbers(current_language())
    if size >= 1024 * 1024:
        return f"{numbers.number(size / (1024 * 1024), 1)} MB"
    if size >= 1024:
        return f"{numbers.number(size / 1024, 0)} KB"
    return f"{numbers.count(size)} bytes"


def status_word(view: job_views.JobView) -> str:
    """Where the job is, in a word or two, for the list of downloads."""
    if view.status == "done":
        return gettext("Ready to download") if view.ready else gettext("Done")
    return {"queued": gettext("Waiting for its turn"), "running": gettext("Being made"),
            "finishing": gettext("Being put together"), "failed": gettext("Did not work")}.get(view.status,
                                                                                            view.status)


# --- the "ready" notice on every staff page ------------------------------------------------------------------

@dataclass(frozen=True)
class Notice:
    text: str
    link_text: str
    url: str


def ready_notice() -> list[Notice]:
    """The jobs the logged-in user started that finished since they last looked, for the banner on staff pages.

    Never on a public page (a resident's, the document check, the login): only where the view declares a
    capability. Opening the job's page marks it seen, and the banner goes.
    """
    if not current_user.is_authenticated or not _staff_page():
        return []
    try:
        found = job_views.unseen_ready(get_session(), current_actor())
    except SQLAlchemyError:  # the banner never breaks the page it is on (a page left its session failed)
        log.warning("the ready notice could not be read", exc_info=True)
        return []
    return [Notice(_notice_text(view), gettext("Download") if view.ready else gettext("View"),
                   url_for("jobs.show", public_id=view.public_id)) for view in found]


def _staff_page() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "capability", PUBLIC) != PUBLIC


def _notice_text(view: job_views.JobView) -> str:
    if view.status == "failed":
        return gettext("This did not work: %(title)s", title=view.title)
    if not view.ready:
        return gettext("Finished: %(title)s", title=view.title)
    if _certificates(view):
        return gettext("Your certificates are ready")
    if view.kind == "report.pdf":
        return gettext("Your report is ready")
    if view.kind == "links.pdf":
        return gettext("Your link sheet is ready")
    return gettext("Ready: %(title)s", title=view.title)


@bp.app_context_processor
def _notice_for_templates() -> dict:
    return {"ready_jobs": ready_notice}
