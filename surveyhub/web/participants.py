"""The worker's participant pages: overview, adding residents, links and QR codes (paper entry is in paper.py)."""

from __future__ import annotations

import segno
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import Length, Optional

from surveyhub.db import get_session
from surveyhub.services import participants, story_facts
from surveyhub.services import short_codes
from surveyhub.services.errors import UserError
from surveyhub.web.errors import user_message
from surveyhub.web.forms import ActionForm, AddParticipantsForm
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
    rows = participants.overview(session, current_actor(), slug)
    return render_template("manage/participants.html", slug=slug, rows=rows, form=form,
                           project=resident_project(session, slug))


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
    session.commit()
    token, short_code = found if found else (None, None)
    link = personal_link(token) if token else None
    short_link = short_codes.link(current_app.config["BASE_URL"], short_code) if short_code else None
    project = resident_project(session, slug)
    return render_template("manage/participant.html", slug=slug, participant=participant, link=link,
                           short_link=short_link,
                           qr=qr_svg(link, _("QR code of the personal link")) if link else None,
                           project=project, action=ActionForm(),
                           states=participants_states(session, slug, code),
                           role_form=RoleForm(formdata=None, data={"role": participant.role}))


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


def participants_states(session, slug, code):
    return next((row.status for row in participants.overview(session, current_actor(), slug) if row.code == code), {})


@bp.route("/projects/<slug>/participants/<code>/new-link", methods=["POST"])
@requires("project.residents")
def new_link(slug: str, code: str):
    session = get_session()
    if ActionForm().validate_on_submit():
        participants.renew_link(session, current_actor(), slug, code)
        session.commit()
        flash(_("A new link was made. The old link no longer works."))
    return redirect(url_for("participants.detail", slug=slug, code=code))
