"""The worker's participant pages: overview, adding residents, links and QR codes (paper entry is in paper.py)."""

from __future__ import annotations

from dataclasses import replace

import segno
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import Length, Optional

from surveyhub.db import get_session
from surveyhub.i18n import current_language
from surveyhub.locale import Numbers
from surveyhub.services import (invitations, mail_status, participants, participation, resident_growth,
                                story_facts)
from surveyhub.services.errors import UserError
from surveyhub.web.errors import user_message
from surveyhub.web.forms import ActionForm, AddParticipantsForm
from surveyhub.web.link_sharing import share
from surveyhub.web.mail_forms import EmailForm
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("participants", __name__)
MAX_LIST_BYTES = 512 * 1024


def qr_svg(url: str, title: str) -> Markup:
    """An inline SVG QR code (no external image, works offline and in print)."""
    return Markup(segno.make(url, error="m").svg_inline(scale=4, border=2, title=title, svgclass="qr"))


def personal_link(token: str) -> str:
    return f"{current_app.config['BASE_URL']}/q/{token}"


@bp.route("/projects/<slug>/participants", methods=["GET", "POST"])
@requires("project.residents")
def overview(slug: str):
    session = get_session()
    form = AddParticipantsForm()
    if request.method == "POST":
        if not current_actor().can("project.setup"):
            abort(403)
        if form.validate_on_submit():
            added = _add(session, slug, form)
            if added is not None:
                flash(_("%(n)s residents added.", n=added))
                return redirect(url_for("participants.overview", slug=slug))
    actor = current_actor()
    rows = participants.overview(session, actor, slug, with_links=True)  # audited: the links are shown
    minutes = participants.wave_minutes(session, actor, slug)
    project = resident_project(session, slug)
    session.commit()
    shares = {row.code: _share(project.name, minutes, row) for row in rows if row.token}
    mail_lines = mail_status.latest_by_code(session, actor, slug)
    return render_template("manage/participants.html", slug=slug, rows=rows, form=form, project=project,
                           shares=shares, action=ActionForm(), mail_lines=mail_lines)


def _share(project_name: str, minutes: dict[str, int], row: participants.ParticipantRow):
    """The row's link and invitation; the time is that of the wave the resident answers next."""
    kind = row.next_wave or "pre"
    return share(current_app.config["BASE_URL"], row.token, row.short_code, project_name,
                 minutes.get(kind) or minutes.get("pre") or 1)


def resident_project(session, slug):
    from surveyhub.services import access
    return access.project(session, current_actor(), slug, "project.residents")


def _add(session, slug, form) -> int | None:
    lines = []
    if form.name.data or form.email.data:
        lines.append(f"{form.name.data or ''}, {form.email.data or ''}")
    if form.names.data:
        lines += form.names.data.splitlines()
    if form.file.data:
        raw = form.file.data.read(MAX_LIST_BYTES + 1)
        if len(raw) > MAX_LIST_BYTES:
            form.file.errors.append(_("The file is too large."))
            return None
        try:
            lines += raw.decode("utf-8-sig").splitlines()
        except UnicodeDecodeError:
            form.file.errors.append(_("The file is not a UTF-8 text file."))
            return None
    try:
        entries = participants.parse_lines(lines)
        invitations = participants.add_participants(session, current_actor(), slug, entries=entries)
    except UserError as exc:
        session.rollback()
        form.names.errors.append(user_message(exc))
        return None
    session.commit()
    return len(invitations)


@bp.route("/projects/<slug>/participants/<code>")
@requires("project.residents")
def detail(slug: str, code: str):
    session = get_session()
    participant = participants.get_participant(session, current_actor(), slug, code)
    found = participants.view_links(session, current_actor(), slug, code)  # audited; an older link gets a short code
    row = participant_row(session, slug, code)
    minutes = participants.wave_minutes(session, current_actor(), slug)
    project = resident_project(session, slug)
    session.commit()
    token, short_code = found if found else (None, None)
    shared = _share(project.name, minutes, replace(row, token=token, short_code=short_code)) if token else None
    return render_template("manage/participant.html", slug=slug, participant=participant, share=shared,
                           link=shared.link if shared else None,
                           qr=qr_svg(shared.link, _("QR code of the personal link")) if shared else None,
                           project=project, action=ActionForm(), states=row.status if row else {},
                           role_form=RoleForm(formdata=None, data={"role": participant.role}),
                           email_form=EmailForm(formdata=None, data={"email": participant.email}),
                           mail_history=invitations.history(session, current_actor(), slug, code),
                           intensity=participation.of(session, project.id, participant.id))


class RoleForm(FlaskForm):
    role = StringField(_l("What did this resident do?"), validators=[Optional(), Length(max=200)],
                       description=_l("On the certificate, e.g. “organised the opening of the playground”."))


@bp.route("/projects/<slug>/participants/<code>/role", methods=["POST"])
@requires("project.residents")
def set_role(slug: str, code: str):
    """What the resident did in the project, for their certificate."""
    form = RoleForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            story_facts.set_resident_role(session, current_actor(), slug, code, form.role.data)
        except UserError as exc:
            session.rollback()
            flash(user_message(exc), "error")
        else:
            session.commit()
            flash(_("Saved: what this resident did."))
    else:
        flash(_("What this resident did can have at most 200 characters."), "error")
    return redirect(url_for("participants.detail", slug=slug, code=code) + "#role")


def participant_row(session, slug, code) -> participants.ParticipantRow | None:
    """The resident's row of the overview (for a participant paired by own code: the row they are shown on)."""
    rows = participants.overview(session, current_actor(), slug)
    return next((row for row in rows if row.code == code), None) or \
        next((row for row in rows if code in row.also), None)


def participants_states(session, slug, code):
    row = participant_row(session, slug, code)
    return row.status if row else {}


@bp.route("/projects/<slug>/participants/<code>/new-link/confirm", methods=["GET", "POST"])
@requires("project.residents")
def new_link_confirm(slug: str, code: str):
    """What a new link does, before it is made: the printed card and the old link stop working."""
    participant = participants.get_participant(get_session(), current_actor(), slug, code)
    return render_template("manage/confirm_new_links.html", slug=slug, project=resident_project(get_session(), slug),
                           chosen=[(participant.code, participant.display_name)],
                           action_url=url_for("participants.new_link", slug=slug, code=code),
                           back_url=url_for("participants.detail", slug=slug, code=code), form=ActionForm())


@bp.route("/projects/<slug>/participants/<code>/new-link", methods=["POST"])
@requires("project.residents")
def new_link(slug: str, code: str):
    session = get_session()
    if ActionForm().validate_on_submit():
        participants.renew_link(session, current_actor(), slug, code)
        session.commit()
        flash(_("A new link was made. The old link and the printed card no longer work. Share the new link below."))
    return redirect(url_for("participants.detail", slug=slug, code=code) + "#share")


@bp.route("/projects/<slug>/participants/new-links", methods=["POST"])
@requires("project.residents")
def new_links(slug: str):
    """New links for the residents chosen on the residents page: first what it does, then (confirmed) done."""
    session = get_session()
    form = ActionForm()
    back = url_for("participants.overview", slug=slug)
    chosen = list(dict.fromkeys(code.strip()[:40] for code in request.form.getlist("participant") if code.strip()))
    if not form.validate_on_submit():
        return redirect(back)
    if not chosen:
        flash(_("Choose one or more residents first."), "error")
        return redirect(back)
    if request.form.get("confirmed") != "yes":
        rows = {row.code: row for row in participants.overview(session, current_actor(), slug)}
        return render_template("manage/confirm_new_links.html", slug=slug, project=resident_project(session, slug),
                               chosen=[(code, rows[code].display_name) for code in chosen if code in rows],
                               action_url=url_for("participants.new_links", slug=slug), back_url=back, form=form)
    try:
        renewed = participants.renew_links(session, current_actor(), slug, chosen)
    except UserError as exc:
        session.rollback()
        flash(user_message(exc), "error")
        return redirect(back)
    session.commit()
    flash(_("%(n)s new links made. Their old links and printed cards no longer work.", n=len(renewed)))
    return redirect(back)


@bp.route("/projects/<slug>/participants/<code>/growth")
@requires("project.residents")
def growth(slug: str, code: str):
    """One resident's scores and growth, to look at together with the resident (never for funders)."""
    session = get_session()
    found = resident_growth.resident_growth(session, current_actor(), slug, code, current_language())
    return render_template("manage/resident_growth.html", slug=slug, growth=found,
                           project=resident_project(session, slug), numbers=Numbers(current_language()))


@bp.route("/projects/<slug>/waves/<kind>/close", methods=["GET", "POST"])
@requires("project.setup")
def wave_close_confirm(slug: str, kind: str):
    """What closing a wave does, before it is closed: the project page's Close button comes here first,
    and this page's button posts to ``manage.wave_status``."""
    from surveyhub.services import projects

    info = projects.get_project(get_session(), current_actor(), slug)
    wave = next((w for w in info.waves if w.kind == kind), None)
    if wave is None or wave.status != "open":
        return redirect(url_for("manage.project", slug=slug))
    return render_template("manage/confirm_wave_close.html", project=info, wave=wave)


@bp.app_template_global()
def instrument_names(slug: str) -> list[str]:
    """The project's instruments by their translated names, in questionnaire order (never ``organising@1``)."""
    from surveyhub.services import access, responses
    from surveyhub.measures.definition import translate

    project = access.project(get_session(), current_actor(), slug, "project.list")
    return [translate(definition["title"], current_language()) for definition in responses.project_definitions(project)]
