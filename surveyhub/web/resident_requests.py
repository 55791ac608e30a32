"""A resident's rights, exercised by a worker on the resident's request.

From a participant's page a worker (or admin) downloads everything stored about
that resident, to hand it over, or erases the resident after a confirmation
page. Both are audited (``participant.export_data``, ``participant.erase``);
the erasure itself is ``services.erasure``, the same one the resident's own
withdraw page and ``surveyhub participants erase`` use.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from surveyhub.db import get_session
from surveyhub.i18n import current_language
from surveyhub.services import erasure, participants
from surveyhub.web.forms import ActionForm
from surveyhub.web.resident_rights import json_download
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("resident_requests", __name__)


@bp.route("/projects/<slug>/participants/<code>/data.json")
@requires("project.residents")
def export_data(slug: str, code: str):
    session = get_session()
    data = erasure.export_for_worker(session, current_actor(), slug, code, current_language())
    session.commit()
    return json_download(data)


@bp.route("/projects/<slug>/participants/<code>/erase", methods=["GET", "POST"])
@requires("project.residents")
def erase(slug: str, code: str):
    session = get_session()
    participant = participants.get_participant(session, current_actor(), slug, code)
    form = ActionForm()
    if form.validate_on_submit():
        erasure.erase_for_worker(session, current_actor(), slug, code)
        session.commit()
        flash(_("Everything stored about resident %(code)s has been deleted.", code=code))
        return redirect(url_for("participants.overview", slug=slug))
    return render_template("manage/participant_erase.html", slug=slug, code=code, form=form,
                           name=participant.display_name,
                           answered=sum(1 for r in participant.responses if r.answers))
