"""The resident's questionnaire: personal links, the anonymous link, pages, thank-you.

No account: the link's token is the key. Each request resolves it once
(``resident.open_session``: link, waves, response, consent and pages in one
statement); the miss counter around the view counts only what that resolution
did not find, so valid links never touch it. Forms carry their own CSRF check
(the blueprint is exempt from the global one) so an expired token re-shows the
page with the typed answers instead of an error.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import format_date, gettext as _

from surveyhub.db import get_session
from surveyhub.extensions import csrf
from surveyhub.locale import join_words
from surveyhub.i18n import current_language, offer_project_languages
from surveyhub.services import (anonymous, consent, questionnaire, resident, resident_contact, responses, retention,
                                short_codes)
from surveyhub.services.errors import NotFound
from surveyhub.web import limits
from surveyhub.web.page_flow import PageFlow
from surveyhub.web.questionnaire_forms import ConsentForm, ParticipantCodeForm, ShortCodeForm
from surveyhub.web.session_user import public

bp = Blueprint("questionnaire", __name__)
csrf.exempt(bp)


# One budget of misses for every resident URL, so each route does not add its own;
# counted in the store every worker process shares (``web.limits``).
limit_guessing = limits.count_misses("resident-link", "TOKEN_RATE_LIMIT")
#: Short codes are guessable enough to need a stricter budget of their own, per address and for everyone.
limit_short_code_guessing = limits.count_misses("short-code", "SHORT_CODE_RATE_LIMIT")
limit_short_code_guessing_together = limits.count_misses("short-code-all", "SHORT_CODE_TOTAL_RATE_LIMIT",
                                                         together=True)


def _lang() -> str:
    return current_language()


def resident_session(token: str) -> resident.ResidentSession:
    """The request's one resolution of ``token`` (``resident.open_session``); 404 (a counted miss) otherwise."""
    try:
        found = resident.open_session(get_session(), token)
    except NotFound:
        abort(404)
    offer_project_languages(found.project)  # the resident chooses among the languages the project has
    return found


def resident_link(token: str) -> resident.Link:
    """The participant and project of ``token``; 404 (a counted miss) otherwise."""
    return resident_session(token).link


def _flow(found: resident.ResidentSession) -> PageFlow:
    token = found.token
    return PageFlow(link=found.link, wave=found.wave, lang=_lang(), entered_by=None,
                    page_url=lambda n: url_for("questionnaire.page", token=token, n=n),
                    done_url=url_for("questionnaire.done", token=token),
                    template="questionnaire/page.html", resident_session=found)


@bp.route("/q/<token>", methods=["GET", "POST"])
@public
@limit_guessing
def start(token: str):
    session = get_session()
    found = resident_session(token)
    link, wave = found.link, found.wave
    if wave is None:
        return _no_open_wave(found)
    form = ConsentForm()
    if found.consented:
        return _resume(found)
    if request.method == "POST" and form.validate_on_submit():
        if not form.consent.data:
            form.consent.errors.append(_("Tick the box if you want to take part."))
        else:
            resident.give_consent(session, link.participant, wave, link.project.consent_version, _lang(),
                                  bool(form.share_quotes.data))
            responses.get_or_start(session, link.participant, wave, language=_lang())
            session.commit()
            return redirect(url_for("questionnaire.page", token=token, n=0))
    return render_template("questionnaire/start.html", form=form, **start_page_context(
        session, link.project, wave.kind, found.pages, logo_src=url_for("questionnaire.logo", token=token)),
        own_link=current_app.config["BASE_URL"] + url_for("questionnaire.start", token=token),
        anonymous_start=link.participant.source == "anonymous",
        short_link=short_codes.link(current_app.config["BASE_URL"], found.short_code) if found.short_code else None)


def start_page_context(session, project, wave_kind: str, pages: list, logo_src: str | None) -> dict:
    """What the start page shows besides the form: who asks, how long it takes, the consent's words.

    Shared with the worker's preview (``web.preview``), which shows the same page without storing anything.
    """
    who = resident_contact.who_asks(session, project)
    promise = retention.promise(session, project, current_app.config["RETENTION_MONTHS"])
    return {"project": project, "wave": {"kind": wave_kind}, "who": who, "organisation": who.organisation,
            "logo_src": logo_src if who.has_logo else None,
            "minutes": questionnaire.estimated_minutes(pages), "questions": questionnaire.question_count(pages),
            "consent": consent.consent_text(_, organisation=who.organisation, months=promise.months,
                                            until=promise.until,
                                            month_name=lambda moment: format_date(moment, "MMMM y"))}


def _resume(found: resident.ResidentSession):
    response = found.response
    if response is None and found.wave.kind != "pre":  # a later wave: greet first (nothing is written yet)
        return render_template("questionnaire/welcome_back.html", token=found.token, **start_page_context(
            get_session(), found.project, found.wave.kind, found.pages,
            logo_src=url_for("questionnaire.logo", token=found.token)))
    if response is None:  # only a GET that finds no response yet writes (it is made at consent)
        session = get_session()
        response = responses.get_or_start(session, found.participant, found.wave, language=_lang())
        session.commit()
    flow = _flow(found)
    if response.current_page >= flow.n_pages:
        return flow.finish(response)
    return redirect(url_for("questionnaire.page", token=found.token, n=response.current_page))


def _no_open_wave(found: resident.ResidentSession):
    response = found.latest_response
    if response is not None and response.status == "completed":
        return redirect(url_for("questionnaire.done", token=found.token))
    return render_template("questionnaire/closed.html", project=found.project,
                           saved=found.latest is not None), 200


@bp.route("/q/<token>/p/<int:n>", methods=["GET", "POST"])
@public
@limit_guessing
def page(token: str, n: int):
    found = resident_session(token)
    if found.wave is None or not found.consented:
        return redirect(url_for("questionnaire.start", token=token))
    return _flow(found).handle(n)


@bp.route("/q/<token>/done")
@public
@limit_guessing
def done(token: str):
    found = resident_session(token)
    summary = resident.growth_summary(get_session(), found.participant, found.project, _lang())
    finished = found.latest.kind if found.latest is not None else None
    return render_template("questionnaire/done.html", project=found.project, summary=summary,
                           grown=join_words([s["title"] for s in summary if s["grew"]], _lang()),
                           steady=join_words([s["title"] for s in summary if not s["grew"]], _lang()),
                           finished=finished, more_to_do=found.wave is not None, token=token)


@bp.route("/q/<token>/logo")
@public
@limit_guessing
def logo(token: str):
    """The organisation's logo on its residents' pages (a link names the organisation; nothing more)."""
    found = resident_session(token)
    shown = resident_contact.logo(get_session(), found.project)
    if shown is None:
        return Response(status=204)  # a working link is never a counted miss
    data, kind = shown
    return Response(data, mimetype=kind)


@bp.errorhandler(404)
def _dead_end(_exc):
    """A link that opens nothing: still 404 (and a counted miss), but a page that says what to do.

    An old personal link (a new one was made) names its project, organisation and worker;
    an unknown link names nothing.
    """
    session = get_session()
    token = (request.view_args or {}).get("token") if request.endpoint != "questionnaire.anonymous_start" else None
    known = resident_contact.revoked_link_project(session, token) if token else None
    who = resident_contact.who_asks(session, known) if known is not None else None
    return render_template("questionnaire/dead_end.html", known=known, who=who,
                           project=known if known is not None else {"name": _("Your questionnaire")}), 404


@bp.route("/k", methods=["GET", "POST"])
@bp.route("/k/<code>")
@public
@limit_guessing
@limit_short_code_guessing
@limit_short_code_guessing_together
def short_link(code: str | None = None):
    """A printed short code, typed in the address (``/k/K7P2-9XMC``) or in the form at ``/k``: on to its link.

    A code that opens nothing answers 404 and counts against the miss budget of ``/q/<token>``
    (``limit_guessing``) and against the stricter budgets of short codes, per address and for all
    addresses together: eight characters are about 37 bits, a token 192.
    """
    form = ShortCodeForm()
    if code is None and not form.is_submitted():
        return _short_code_page(form)
    token = short_codes.token_for(get_session(), code if code is not None else form.code.data)
    if token is not None:
        return redirect(url_for("questionnaire.start", token=token))
    if code is not None:
        abort(404)
    form.code.errors = [_("We do not know this code. Check the letters and numbers, or ask your community worker.")]
    return _short_code_page(form), 404


def _short_code_page(form: ShortCodeForm):
    # No project is known yet: the header names the questionnaire instead.
    return render_template("questionnaire/short_code.html", form=form, project={"name": _("Your questionnaire")})


@bp.route("/a/<token>", methods=["GET", "POST"])
@public
@limit_guessing
# A code alone opens no saved answers, but tries are still counted (generous: a whole
# group may share one community-centre network).
@limits.count_every("anonymous-code", "ANONYMOUS_CODE_RATE_LIMIT", methods=("POST",))
def anonymous_start(token: str):
    session = get_session()
    project = anonymous.project_by_token(session, token)
    if project is None:
        abort(404)
    offer_project_languages(project)
    if project.archived_at is not None or project.purged_at is not None:
        return render_template("questionnaire/closed.html", project=project, saved=False)
    form = ParticipantCodeForm()
    if form.validate_on_submit():
        secret = str(current_app.secret_key)
        try:
            personal = anonymous.start_by_code(
                session, project, form.code_parts(), form_key=form.csrf_token.data or "", secret_key=secret,
                device=anonymous.device_token(secret, project, request.cookies.get(anonymous.DEVICE_COOKIE)))
        except ValueError as exc:
            form.mother.errors.append(str(exc))
        else:
            session.commit()
            return _remember_device(redirect(url_for("questionnaire.start", token=personal)), project, personal)
    return render_template("questionnaire/code.html", form=form, project=project)


def _remember_device(response, project, personal: str):
    """This device may go on as this participant: a signed cookie, sent only to this project's link."""
    value = anonymous.device_cookie_value(str(current_app.secret_key), project, personal)
    response.set_cookie(anonymous.DEVICE_COOKIE, value, httponly=True, samesite="Lax",
                        max_age=anonymous.device_lifetime(get_session(), project,
                                                          current_app.config["RETENTION_MONTHS"]),
                        path=url_for("questionnaire.anonymous_start", token=project.anonymous_token),
                        secure=current_app.config["BASE_URL"].startswith("https://"))
    return response
