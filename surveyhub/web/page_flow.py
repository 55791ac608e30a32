"""One questionnaire page, shown and saved: shared by residents and paper entry.

GET shows the page with what is saved. POST checks every answer; any problem
re-shows the page with the typed answers and a message beside the field, and
stores nothing. An expired CSRF token (a long pause, a lost session) also
re-shows the page with the typed answers, never a bare error.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

from flask import abort, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from surveyhub.db import get_session
from surveyhub.measures.registry import get_registry
from surveyhub.plugins import get_host
from surveyhub.services import resident, responses
from surveyhub.web.questionnaire_forms import page_form_class


@dataclass
class PageFlow:
    link: resident.Link
    wave: object
    lang: str
    entered_by: object  # the worker's UserInfo for paper entry, else None
    page_url: Callable[[int], str]
    done_url: str
    template: str

    @cached_property
    def pages(self):
        return responses.pages_for(self.link.project, self.wave.kind)

    @property
    def n_pages(self) -> int:
        return len(self.pages)

    def _report(self, plugin_type: str, message: str) -> None:
        registry = get_registry()
        source = registry.type_sources.get(plugin_type, f"question type {plugin_type}")
        get_host().fail(source, message, state="error")

    def _response(self):
        session = get_session()
        channel = "paper" if self.entered_by else "web"
        return responses.get_or_start(session, self.link.participant, self.wave, language=self.lang,
                                      entered_by_id=self.entered_by.id if self.entered_by else None,
                                      channel=channel)

    def handle(self, n: int):
        if self.n_pages == 0 or not 0 <= n < self.n_pages:
            abort(404)
        response = self._response()
        if request.method == "GET":
            get_session().commit()  # a new response row; a POST commits once, with its answers
        if n > response.current_page:  # no skipping ahead past the furthest page reached
            return redirect(self.page_url(response.current_page))
        page = self.pages[n]
        form_class, shown = page_form_class(page, get_registry().question_types, self.lang, self._report)
        if request.method == "POST":
            return self._submit(n, page, form_class, shown, response)
        form = form_class(formdata=None, data=resident.initial_values(response, page, None))
        return self._render(n, page, form, shown)

    def _submit(self, n, page, form_class, shown, response):
        form = form_class()
        move = "back" if request.form.get("move") == "back" else "next"
        if not form.validate():
            if form.csrf_token.errors:
                form.csrf_token.errors = []
                return self._render(n, page, form, shown, expired=True)
        values, errors = resident.code_page(page, request.form, get_registry().question_types, self.lang,
                                            self._report)
        if errors:
            for key, message in errors.items():
                getattr(form, key).errors = [_("Give one answer only.") if message == "repeated" else message]
            return self._render(n, page, form, shown, status=422)
        target = self._save(response, n, values, move)
        if target >= self.n_pages:
            return self.finish(response)
        return redirect(self.page_url(target))

    def _save(self, response, n, values, move) -> int:
        session = get_session()
        for attempt in (1, 2):
            try:
                target = resident.save_page(session, response, n, values, self.n_pages, move)
                session.commit()
                return target
            except IntegrityError:  # a double click raced us; the other request's row now exists
                session.rollback()
                if attempt == 2:
                    raise
                session.refresh(response)
        raise AssertionError("unreachable")

    def finish(self, response):
        session = get_session()
        host = get_host()
        registry = get_registry()
        responses.complete(session, self.link.project, response, registry.scoring_methods,
                           on_error=registry.scoring_error_handler(host))
        session.commit()
        event = responses.completed_event(self.link.project, self.wave, response,
                                          self.entered_by.email if self.entered_by else None)
        host.call_isolated("surveyhub_response_completed", response=event.as_dict())
        return redirect(self.done_url)

    def _render(self, n, page, form, shown, expired: bool = False, status: int = 200):
        return render_template(self.template, form=form, page=page, slots=shown, n=n, n_pages=self.n_pages,
                               project=self.link.project, wave=self.wave, expired=expired,
                               back_url=self.page_url(n - 1) if n > 0 else None,
                               participant=self.link.participant), status
