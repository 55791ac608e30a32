"""Paper entry: a worker types the answers of a resident's paper questionnaire.

Kept apart from the participant pages because it has its own flow (paper consent, the replace
confirmation, the claim that stops two workers overwriting each other) and its own screen.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from surveyhub.db import get_session
from surveyhub.i18n import current_language
from surveyhub.services import paper_entry, participants, resident
from surveyhub.services.errors import Conflict
from surveyhub.web.forms import ActionForm, PaperConsentForm
from surveyhub.web.page_flow import PageFlow, keep_paper_claim, paper_claim
from surveyhub.web.participants import resident_project
from surveyhub.web.session_user import current_actor, current_user, requires

bp = Blueprint("paper", __name__)


def _paper_link(slug: str, code: str, kind: str):
    session = get_session()
    participant = participants.get_participant(session, current_actor(), slug, code)
    project = resident_project(session, slug)
    wave = next((w for w in project.waves if w.kind == kind), None)
    if wave is None:
        abort(404)
    return resident.Link(participant, project), wave


@bp.route("/projects/<slug>/participants/<code>/paper/<kind>", methods=["GET", "POST"])
@requires("project.residents")
def start(slug: str, code: str, kind: str):
    session = get_session()
    link, wave = _paper_link(slug, code, kind)
    form = PaperConsentForm()
    if resident.has_consent(session, link.participant):
        return _paper_confirm(link, wave, slug, code, kind)
    if form.validate_on_submit():
        if not form.consent.data:
            form.consent.errors.append(_("Only enter answers when the resident signed the consent form."))
        else:
            resident.give_consent(session, link.participant, wave, link.project.consent_version,
                                  current_language(), bool(form.share_quotes.data),
                                  recorded_by_id=current_user.info.id)
            session.commit()
            return redirect(url_for("paper.page", slug=slug, code=code, kind=kind, n=0))
    return render_template("manage/paper_consent.html", form=form, slug=slug, code=code, wave=wave)


def _paper_confirm(link, wave, slug: str, code: str, kind: str):
    """Stored answers are replaced only after the worker confirms (a POST); until then nothing changes."""
    response = resident.response_for(get_session(), link.participant, wave)
    pages = url_for("paper.page", slug=slug, code=code, kind=kind, n=0)
    if not paper_entry.needs_confirmation(response, current_actor().user_id, paper_claim(link.participant, wave)):
        return redirect(pages)
    form = ActionForm()
    if request.form.get("confirm") == "replace" and form.validate_on_submit():
        keep_paper_claim(paper_entry.confirm(link.participant, wave, response))
        return redirect(pages)
    return render_template("manage/paper_replace.html", form=form, slug=slug, code=code, wave=wave,
                           channel=response.channel)


@bp.route("/projects/<slug>/participants/<code>/paper/<kind>/p/<int:n>", methods=["GET", "POST"])
@requires("project.residents")
def page(slug: str, code: str, kind: str, n: int):
    session = get_session()
    link, wave = _paper_link(slug, code, kind)
    start_url = url_for("paper.start", slug=slug, code=code, kind=kind)
    if not resident.has_consent(session, link.participant):
        return redirect(start_url)
    if paper_entry.needs_confirmation(resident.response_for(session, link.participant, wave),
                                      current_actor().user_id, paper_claim(link.participant, wave)):
        return redirect(start_url)  # the confirmation first: nothing shown or changed before it
    flow = PageFlow(link=link, wave=wave, lang=current_language(), entered_by=current_user.info,
                    page_url=lambda i: url_for("paper.page", slug=slug, code=code, kind=kind, n=i),
                    done_url=url_for("participants.detail", slug=slug, code=code),
                    template="manage/paper_page.html", paper_actor=current_actor())
    try:
        return flow.handle(n)
    except Conflict:  # the resident saved online in the meantime
        session.rollback()
        return redirect(start_url)
