"""Paper entry: a worker types the answers of a resident's paper questionnaire.

Kept apart from the participant pages because it has its own flow (paper consent, the replace
confirmation, the claim that stops two workers overwriting each other) and its own screen.

The grid (``grid``) is the way in: the whole paper form on one screen, typed with the keyboard,
consent included. The page-by-page screens (``start``, ``page``) are the older way, kept
reachable for the tests that still drive them; nothing links to them any more.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from surveyhub.db import DatabaseBusy, get_session, retry_on_busy
from surveyhub.extensions import csrf
from surveyhub.i18n import current_language
from surveyhub.plugins import get_host, get_registry
from surveyhub.services import badges, paper_entry, paper_grid, participants, resident, responses
from surveyhub.services.errors import Conflict, Message
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


@bp.route("/projects/<slug>/participants/<code>/paper/<kind>/grid", methods=["GET", "POST"])
@requires("project.residents")
def grid(slug: str, code: str, kind: str):
    """The paper form as one grid of cells. GET stores nothing; a POST checks, or checks and saves."""
    link, wave = _paper_link(slug, code, kind)
    screen = _GridScreen(link, wave, slug, code)
    if request.method == "POST":
        return screen.post()
    return screen.get()


# The grid checks its CSRF token itself (``PaperConsentForm``), so a token that expired while a long
# form was typed brings the typing back with a notice instead of the bare error page.
csrf.exempt(grid)


class _GridScreen:
    """One request on the grid: what it shows, and what a POST does."""

    def __init__(self, link, wave, slug: str, code: str):
        self.session = get_session()
        self.link, self.wave, self.slug, self.code = link, wave, slug, code
        self.lang = current_language()
        # Sections as printed: a printed page per screen-page, even where residents get one question a screen.
        self.pages = responses.pages_for(link.project, wave.kind, question_mode="page")
        if not self.pages:
            abort(404)
        self.sections = paper_grid.sections(self.pages, get_registry().question_types, self.lang)
        self.response = resident.response_for(self.session, link.participant, wave)
        self.claim = paper_claim(link.participant, wave)
        self.consented = resident.has_consent(self.session, link.participant)
        self.url = url_for("paper.grid", slug=slug, code=code, kind=wave.kind)

    def _needs_confirmation(self) -> bool:
        return paper_entry.needs_confirmation(self.response, current_actor().user_id, self.claim)

    def get(self):
        if self._needs_confirmation():  # asked first: nothing stored is shown or changed before it
            return render_template("manage/paper_replace.html", form=ActionForm(), slug=self.slug, code=self.code,
                                   wave=self.wave, channel=self.response.channel, action=self.url)
        opening = paper_entry.opening(self.link.participant, self.wave, self.response, current_actor().user_id,
                                      self.claim)
        if opening is not None:
            keep_paper_claim(opening)
        shown = paper_entry.shown(self.response, self.claim)
        stored = {} if shown is None or shown.id is None else {
            f"{block}__{instrument}__{item}": value
            for (block, instrument, item), value in responses.stored_answers(self.session, shown.id, None).items()}
        return self.render(PaperConsentForm(formdata=None), paper_grid.typed_from(self.sections, stored))

    def post(self):
        form = PaperConsentForm()
        step = request.form.get("step")  # sent by the button: "check", "save", or "replace" (and save)
        if not form.validate():  # an expired form (a long pause): what was typed comes back, nothing is stored
            if step is None:
                return redirect(self.url, 303)
            return self.render(form, dict(request.form.items()), expired=True, status=400)
        if request.form.get("confirm") == "replace" or step == "replace":
            self.claim = paper_entry.confirm(self.link.participant, self.wave, self.response)
            keep_paper_claim(self.claim)
            if step is None:  # the confirmation page itself: on to the (blank) grid
                return redirect(self.url, 303)
        reading = paper_grid.read(self.pages, self.sections, request.form, get_registry().bounded_question_types,
                                  self.lang)
        if not self.consented and not form.consent.data:
            form.consent.errors.append(_("Only enter answers when the resident signed the consent form."))
        if reading.errors or form.consent.errors:
            return self.render(form, reading.typed, reading=reading, status=422)
        if self._needs_confirmation():  # someone saved in between: keep the typing, ask before replacing
            return self.render(form, reading.typed, reading=reading, conflict=self.response.channel, status=409)
        if step not in ("save", "replace"):  # the check before saving (the script shows it without a trip)
            return self.render(form, reading.typed, reading=reading, checked=True)
        try:
            self._save(reading, form)
        except DatabaseBusy:
            return self.render(form, reading.typed, reading=reading, busy=True, status=503)
        except Conflict:  # the resident saved online between the check above and the save
            self.session.rollback()
            return self.render(form, reading.typed, reading=reading, conflict="web", status=409)
        flash(_("Paper answers saved: %(answered)s of %(total)s questions filled in.",
                answered=reading.answered, total=reading.total))
        if reading.two_ticks:
            flash(_("Questions with two boxes ticked: %(numbers)s. They count as not answered.",
                    numbers=", ".join(reading.two_ticks)))
        return redirect(url_for("participants.detail", slug=self.slug, code=self.code), 303)

    def _save(self, reading, form) -> None:
        registry, host = get_registry(), get_host()
        actor, kept = current_actor(), []
        # The resume point counts the pages residents get (one question a screen, maybe), not the printed ones.
        n_pages = len(responses.pages_for(self.link.project, self.wave.kind))

        def work():  # safe to run again after a rollback
            if not self.consented:
                resident.give_consent(self.session, self.link.participant, self.wave,
                                      self.link.project.consent_version, self.lang, bool(form.share_quotes.data),
                                      recorded_by_id=current_user.info.id)
            kept[:] = [paper_entry.save_form(
                self.session, actor, self.link.project, self.link.participant, self.wave, self.claim, self.lang,
                reading.values, n_pages=n_pages, methods=registry.bounded_scoring_methods,
                on_error=registry.scoring_error_handler(host), on_completed=responses.announcer(host),
                entered_by=current_user.info.email,
                on_post_completed=badges.on_completion(current_app.config["BASE_URL"]))]

        for attempt in (1, 2):
            try:
                retry_on_busy(self.session, work, keep=(self.link.project, self.link.participant, self.wave))
                keep_paper_claim(kept[0])
                return
            except IntegrityError:  # a double click raced us; the other request's rows now exist
                self.session.rollback()
                if attempt == 2:
                    raise

    def render(self, form, typed: dict, *, reading=None, checked: bool = False, conflict: str | None = None,
               expired: bool = False, busy: bool = False, status: int = 200):
        errors = {key: message.translated(_) if isinstance(message, Message) else
                  _("Give one answer only.") if message == "repeated" else str(message)
                  for key, message in (reading.errors if reading else {}).items()}
        return render_template("manage/paper_grid.html", form=form, sections=self.sections, typed=typed,
                               errors=errors, reading=reading, checked=checked, conflict=conflict,
                               expired=expired, busy=busy, consented=self.consented, slug=self.slug,
                               code=self.code, wave=self.wave, project=self.link.project, action=self.url,
                               boxes_typed=paper_grid.boxes_typed), status
