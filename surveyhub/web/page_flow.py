"""One questionnaire page, shown and saved: shared by residents and paper entry.

GET shows the page with what is saved. POST checks every answer; any problem
re-shows the page with the typed answers and a message beside the field, and
stores nothing. A resident who sends a page of statements with nothing filled
in is asked once whether to go on anyway ("anyway" moves on; nothing is lost).
An expired CSRF token (a long pause, a lost session) also re-shows the page
with the typed answers, never a bare error.

A GET never writes: the response row is made when the first page of answers is
saved. A resident's save makes the response theirs (web) again; paper entry
writes only under the worker's claim (``services.paper_entry``), which lives in
the worker's browser session.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

from flask import abort, current_app, redirect, render_template, request
from flask import session as browser_session
from flask_babel import gettext as _
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from surveyhub.db import DatabaseBusy, get_session, retry_on_busy
from surveyhub.plugins import get_host, get_registry
from surveyhub.services import badges, paper_entry, resident, responses
from surveyhub.services.access import Actor
from surveyhub.web.questionnaire_forms import page_form_class


#: Where a worker's browser session keeps their paper-entry claims (``services.paper_entry.Claim``),
#: one per resident and wave, so paper forms typed in side by side (tabs) do not undo each other.
PAPER_CLAIMS = "paper_entry"
#: The most claims one browser session keeps (the oldest go first); a lost claim only means asking again.
MAX_PAPER_CLAIMS = 20


def paper_claim(participant, wave) -> paper_entry.Claim | None:
    """This browser session's paper-entry claim on the participant's response to the wave, if any."""
    claims = browser_session.get(PAPER_CLAIMS)
    found = claims.get(f"{participant.id}:{wave.id}") if isinstance(claims, dict) else None
    return paper_entry.Claim.from_dict(found or {}, participant, wave)


def keep_paper_claim(claim: paper_entry.Claim) -> None:
    claims = browser_session.get(PAPER_CLAIMS)
    claims = dict(claims) if isinstance(claims, dict) else {}
    key = f"{claim.participant_id}:{claim.wave_id}"
    claims.pop(key, None)
    claims[key] = claim.as_dict()
    browser_session[PAPER_CLAIMS] = dict(list(claims.items())[-MAX_PAPER_CLAIMS:])


@dataclass
class PageFlow:
    link: resident.Link
    wave: object
    lang: str
    entered_by: object  # the worker's UserInfo for paper entry, else None
    page_url: Callable[[int], str]
    done_url: str
    template: str
    #: The worker typing in a paper questionnaire; None for a resident.
    paper_actor: Actor | None = None
    #: A resident's link, resolved once for the whole request (``resident.open_session``).
    resident_session: resident.ResidentSession | None = None

    @cached_property
    def pages(self):
        if self.resident_session is not None:
            return self.resident_session.pages
        return responses.pages_for(self.link.project, self.wave.kind)

    @property
    def definitions(self) -> list[dict] | None:
        return self.resident_session.definitions if self.resident_session is not None else None

    @property
    def n_pages(self) -> int:
        return len(self.pages)

    def _report(self, plugin_type: str, message: str) -> None:
        get_registry().question_type_error_handler(get_host())(plugin_type, message)

    def _stored(self):
        """The response whose answers the pages show; None before the first save (or a replacement)."""
        if self.resident_session is not None:
            return self.resident_session.response
        response = resident.response_for(get_session(), self.link.participant, self.wave)
        if self.paper_actor is not None:
            return paper_entry.shown(response, paper_claim(self.link.participant, self.wave))
        return response

    def _writable(self, current_claim: list):
        """The response this POST writes into: made now, at the first saved page, never on a GET."""
        session = get_session()
        if self.paper_actor is not None:
            response, claim = paper_entry.begin(session, self.paper_actor, self.link.project, self.link.participant,
                                                self.wave, paper_claim(self.link.participant, self.wave), self.lang)
            current_claim[:] = [claim]  # kept only once the save is committed
            return response
        known = self.resident_session.response if self.resident_session is not None else None
        response = known if known is not None and inspect(known).persistent else \
            responses.get_or_start(session, self.link.participant, self.wave, language=self.lang)
        paper_entry.take_back(response)
        if response.language != self.lang:  # the language the resident answers in now (their certificate's)
            response.language = self.lang
        return response

    def handle(self, n: int):
        if self.n_pages == 0 or not 0 <= n < self.n_pages:
            abort(404)
        response = self._stored()
        reached = response.current_page if response is not None else 0
        if n > reached:  # no skipping ahead past the furthest page reached
            return redirect(self.page_url(reached))
        page = self.pages[n]
        form_class, shown = page_form_class(page, get_registry().question_types, self.lang, self._report)
        if request.method == "POST":
            return self._submit(n, page, form_class, shown)
        form = form_class(formdata=None, data=resident.initial_values(response, page, None, get_session()))
        return self._render(n, page, form, shown)

    def _submit(self, n, page, form_class, shown):
        form = form_class()
        asked = request.form.get("move")
        move = "back" if asked == "back" else "next"
        if not form.validate():
            if form.csrf_token.errors:
                form.csrf_token.errors = []
                return self._render(n, page, form, shown, expired=True)
        values, errors = resident.code_page(page, request.form, get_registry().bounded_question_types, self.lang)
        if errors:
            for key, message in errors.items():
                getattr(form, key).errors = [_("Give one answer only.") if message == "repeated" else message]
            return self._render(n, page, form, shown, status=422)
        if asked == "next" and self.paper_actor is None and resident.nothing_answered(page, values):
            return self._render(n, page, form, shown, empty=True)  # "Toch verder?": the same form, nothing stored
        try:
            target, response = self._save(n, values, move)
            if target >= self.n_pages:
                return self.finish(response)
        except DatabaseBusy:  # still busy after the retries: the typed answers come back, never an error
            return self._render(n, page, form, shown, busy=True, status=503)
        return redirect(self.page_url(target))

    def _save(self, n, values, move):
        """Store the page (retried while the database is busy); ``(next page, response)``."""
        session = get_session()
        registry = get_registry()
        on_error = registry.scoring_error_handler(get_host())
        current, claim = [], []

        def work():  # safe to run again after a rollback: it finds (or makes) the response afresh
            current[:] = [self._writable(claim)]
            return resident.save_page(session, self.link.project, current[0], n, values, self.n_pages, move,
                                      registry.bounded_scoring_methods, on_error, self.definitions)

        for attempt in (1, 2):
            try:
                target = retry_on_busy(session, work, keep=(self.link.project, self.link.participant, self.wave))
                if claim:
                    keep_paper_claim(claim[0])
                return target, current[0]
            except IntegrityError:  # a double click raced us; the other request's row now exists
                session.rollback()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def finish(self, response):
        session = get_session()
        host = get_host()
        registry = get_registry()
        # The completion event fires once the unit of work commits (db.after_commit), with a time budget:
        # a plugin that hangs never holds up the resident's last page.
        retry_on_busy(session, lambda: responses.complete(
            session, self.link.project, response, registry.bounded_scoring_methods,
            on_error=registry.scoring_error_handler(host), on_completed=responses.announcer(host), wave=self.wave,
            entered_by=self.entered_by.email if self.entered_by else None,
            on_post_completed=badges.on_completion(current_app.config["BASE_URL"])))
        return redirect(self.done_url)

    def _render(self, n, page, form, shown, expired: bool = False, status: int = 200, busy: bool = False,
                empty: bool = False):
        return render_template(self.template, form=form, page=page, slots=shown, n=n, n_pages=self.n_pages,
                               project=self.link.project, wave=self.wave, expired=expired, busy=busy, empty=empty,
                               back_url=self.page_url(n - 1) if n > 0 else None,
                               participant=self.link.participant), status
