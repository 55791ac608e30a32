"""E-mail on the worker's pages, and the resident's way to stop reminders.

Workers: a project's wave dates and reminders (``schedule``), opening a wave with the invitation mailed at
once (``wave_open``), inviting residents by e-mail after a confirmation that says how many get one
(``invite``), and a resident's own address (``set_email``). The services decide; these routes ask, commit,
and then hand each queued message to the queue (``Queue.send``), so the page never waits for a mail server.

Residents: ``/q/<token>/geen-herinneringen`` (``opt_out``), linked from every reminder. GET only shows a
page with one button (mail scanners follow links); the button POSTs with a CSRF token. A mail program's
one-click unsubscribe (RFC 8058: a POST whose body is exactly ``List-Unsubscribe=One-Click``) has no token
and is accepted without one; any other POST needs the token. Unknown tokens count as misses of the one
budget every resident URL shares (``questionnaire.limit_guessing``).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from surveyhub.db import get_session
from surveyhub.extensions import csrf
from surveyhub.i18n import offer_project_languages
from surveyhub.queue import get_queue
from surveyhub.services import access, mail, mail_status, projects, wave_dates
from surveyhub.services.errors import UserError
from surveyhub.web import questionnaire
from surveyhub.web.errors import user_message
from surveyhub.web.forms import ActionForm
from surveyhub.web.mail_forms import EmailForm, OptOutForm, ScheduleForm, WaveOpenForm
from surveyhub.web.session_user import current_actor, public, requires, today

bp = Blueprint("mail", __name__)

#: The exact form body of a one-click unsubscribe (RFC 8058, section 3.1).
ONE_CLICK = {"List-Unsubscribe": ["One-Click"]}


def configured() -> bool:
    return mail.configured(current_app.config)



# --- the project's dates and reminders -----------------------------------------------------------------

@bp.route("/projects/<slug>/schedule", methods=["GET", "POST"])
@requires("project.setup")
def schedule(slug: str):
    """Per wave the days it opens and closes by itself, and the e-mail reminders."""
    session, actor = get_session(), current_actor()
    project = access.project(session, actor, slug, "project.setup")
    stored = wave_dates.schedule(session, actor, slug)
    waves = {w.kind: w for w in stored.waves}
    form = ScheduleForm(data={**{kind: {"open_on": w.open_on, "close_on": w.close_on} for kind, w in waves.items()},
                              "reminder_days": stored.reminder_days, "reminder_count": stored.reminder_count})
    problem = None
    if form.validate_on_submit():
        dates = {kind: (form[kind].open_on.data, form[kind].close_on.data) for kind in waves}
        try:
            wave_dates.set_schedule(session, actor, slug, dates, form.reminder_days.data, form.reminder_count.data,
                                    today=today())
        except UserError as exc:
            session.rollback()
            problem = user_message(exc)
        else:
            session.commit()
            flash(_("Saved: the dates of the waves and the reminders."))
            return redirect(url_for("manage.project", slug=slug))
    return render_template("mail/schedule.html", project=project, form=form, waves=waves, problem=problem)


# --- opening a wave, with the invitation ---------------------------------------------------------------

@bp.route("/projects/<slug>/waves/<kind>/opening", methods=["GET", "POST"])
@requires("project.setup")
def wave_open(slug: str, kind: str):
    """What opening a wave does, and (confirmed) open it; with the box ticked the invitations go out too."""
    session, actor = get_session(), current_actor()
    info = projects.get_project(session, actor, slug)
    wave = next((w for w in info.waves if w.kind == kind), None)
    if wave is None or wave.status == "open":
        return redirect(url_for("manage.project", slug=slug))
    form = WaveOpenForm(data={"mail": configured()})
    if request.method == "POST" and form.validate_on_submit():
        try:
            projects.set_wave_status(session, actor, slug, kind, "open")
        except UserError as exc:
            session.rollback()
            flash(user_message(exc), "error")
            return redirect(url_for("manage.project", slug=slug))
        session.commit()
        flash(_("The %(wave)s is open.", wave=wave_name(kind)))
        if form.mail.data and configured():
            _send_invitations(slug, kind, None)
        return redirect(url_for("manage.project", slug=slug))
    preview = _preview(slug, kind, None, draft_ok=True) if configured() else None
    return render_template("mail/wave_open.html", project=info, wave=wave, form=form, configured=configured(),
                           preview=preview)


def wave_name(kind: str) -> str:
    return str(current_app.jinja_env.globals["wave_name"](kind))


# --- inviting by e-mail --------------------------------------------------------------------------------

def _chosen() -> list[str] | None:
    """The residents chosen on the residents page (or the one resident's page); None: everyone."""
    codes = [code.strip()[:40] for code in request.form.getlist("participant") if code.strip()]
    return list(dict.fromkeys(codes)) if codes or request.form.get("chosen") == "yes" else None


def _back(slug: str, codes: list[str] | None) -> str:
    """Back to the page the worker came from: one resident's page, the residents page, or the project."""
    target = request.values.get("back")
    if target == "resident" and codes and len(codes) == 1:
        return url_for("participants.detail", slug=slug, code=codes[0])
    if target == "residents" or (target is None and codes):
        return url_for("participants.overview", slug=slug)
    return url_for("manage.project", slug=slug)


@bp.route("/projects/<slug>/waves/<kind>/invite", methods=["GET", "POST"])
@requires("project.residents")
def invite(slug: str, kind: str):
    """First how many residents get an e-mail, how many have no address, how many were invited already;
    then (confirmed) queue the invitations and hand them to the queue."""
    codes = _chosen() if request.method == "POST" else None
    back = _back(slug, codes)
    form = ActionForm()
    if request.method == "POST" and not form.validate_on_submit():
        return redirect(back)
    if not configured():
        flash(_("E-mail is not set up on this server, so SurveyHub cannot send invitations."), "error")
        return redirect(back)
    if codes == []:
        flash(_("Choose one or more residents first."), "error")
        return redirect(back)
    if request.method == "POST" and request.form.get("confirmed") == "yes":
        _send_invitations(slug, kind, codes)
        return redirect(back)
    preview = _preview(slug, kind, codes)
    if preview is None:
        return redirect(back)
    session = get_session()
    project = access.project(session, current_actor(), slug, "project.residents")
    return render_template("mail/invite_confirm.html", project=project, kind=kind, preview=preview, codes=codes,
                           back=request.values.get("back") or "", back_url=back, form=form)


def _preview(slug: str, kind: str, codes: list[str] | None, *, draft_ok: bool = False):
    """The confirmation's numbers; None (with the reason flashed) when the wave cannot be invited to."""
    session = get_session()
    try:
        return mail_status.invite_preview(session, current_actor(), slug, kind, codes, draft_ok=draft_ok)
    except UserError as exc:
        session.rollback()
        flash(user_message(exc), "error")
        return None


def _send_invitations(slug: str, kind: str, codes: list[str] | None) -> None:
    """Queue the invitations (one per resident with an address, never twice a wave), commit, enqueue."""
    from surveyhub.services import invitations

    session = get_session()
    try:
        result = invitations.invite(session, current_actor(), slug, kind, participant_codes=codes,
                                    base_url=current_app.config["BASE_URL"], settings=current_app.config)
    except UserError as exc:
        session.rollback()
        flash(user_message(exc), "error")
        return
    session.commit()
    queue = get_queue()
    for message_id in result.queued:
        queue.send(message_id)  # a queue that is away: ``mail.tick`` sends it later from the outbox
    flash(" ".join(part for part in (
        ngettext("%(num)s invitation is on its way.", "%(num)s invitations are on their way.", len(result.queued)),
        ngettext("%(num)s resident has no e-mail address: give them the link another way.",
                 "%(num)s residents have no e-mail address: give them the link another way.",
                 result.skipped_no_address) if result.skipped_no_address else "",
        ngettext("%(num)s resident had an invitation for this wave already.",
                 "%(num)s residents had an invitation for this wave already.",
                 result.already_invited) if result.already_invited else "") if part))


# --- a resident's address -------------------------------------------------------------------------------

@bp.route("/projects/<slug>/participants/<code>/email", methods=["POST"])
@requires("project.residents")
def set_email(slug: str, code: str):
    form = EmailForm()
    session = get_session()
    if form.validate_on_submit():
        try:
            address = mail_status.set_email(session, current_actor(), slug, code, form.email.data)
        except UserError as exc:
            session.rollback()
            flash(user_message(exc), "error")
        else:
            session.commit()
            flash(_("Saved: the e-mail address.") if address else _("The e-mail address is removed."))
    else:
        access.project(session, current_actor(), slug, "project.residents")  # another organisation: 404
        flash(_("An e-mail address has at most 254 characters."), "error")
    return redirect(url_for("participants.detail", slug=slug, code=code) + "#mail")


# --- the resident stops reminders ------------------------------------------------------------------------

@bp.route("/q/<token>/geen-herinneringen", methods=["GET", "POST"])
@public
@csrf.exempt
@questionnaire.limit_guessing
def opt_out(token: str):
    """One button that stops reminders; the questionnaire itself stays open to the resident."""
    from surveyhub.services import invitations

    session = get_session()
    target = mail_status.opt_out_target(session, token)
    if target is None:
        abort(404)  # a counted miss
    offer_project_languages(target.project)  # the resident's page: the languages the project's instruments have
    one_click = request.method == "POST" and request.form.to_dict(flat=False) == ONE_CLICK
    form = OptOutForm()
    stopped = target.opted_out
    if one_click or (request.method == "POST" and form.validate_on_submit()):
        if not invitations.opt_out(session, token):
            abort(404)
        session.commit()
        stopped = True
    return render_template("mail/opt_out.html", project=target.project, form=form, token=token, stopped=stopped,
                           current=target.current)


# --- what the pages show ------------------------------------------------------------------------------------

@bp.app_template_global()
def mail_configured() -> bool:
    """Are the e-mail buttons shown? Only when the server can send (``SURVEYHUB_SMTP_HOST``, ``MAIL_FROM``)."""
    return configured()


@bp.app_template_global()
def mail_kind(kind: str, wave_kind: str) -> str:
    """"Invitation, pre wave (nulmeting)": what a message was, in the page's language."""
    if kind == "reminder":
        return _("Reminder, %(wave)s", wave=wave_name(wave_kind))
    return _("Invitation, %(wave)s", wave=wave_name(wave_kind))


@bp.app_template_global()
def mail_state(status: str, when: datetime | None, error: str | None = None) -> str:
    """"sent 3 Dec 14:02", "failed: the mail server refused the address", "waiting to be sent"."""
    if status == "sent":
        return _("sent %(when)s", when=_short_time(when))
    if status == "failed":
        return _("failed: %(reason)s", reason=_(error) if error else _("unknown reason"))
    return _("waiting to be sent")


def _short_time(moment: datetime | None) -> str:
    from babel.dates import format_datetime

    from surveyhub.i18n import current_language

    if moment is None:
        return ""
    return format_datetime(moment, "d MMM HH:mm", tzinfo=ZoneInfo(current_app.config["TIMEZONE"]),
                           locale=current_language())
