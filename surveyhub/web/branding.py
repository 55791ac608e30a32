"""The logo on the admin's organisation settings page (``web.org_settings``): upload the
organisation's logo for its documents, see it, remove it. ``/admin/logo`` shows the settings
page; ``/admin/certificate-settings`` still takes the certificate fields alone (contact line,
landscape or portrait).

The rules are ``documents.logo``'s: a PNG or JPEG of sensible size, or a small
self-contained SVG. A refused file gets the reason in the admin's language.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, Optional

from surveyhub.db import get_session
from surveyhub.rendering import logo as logos
from surveyhub.services import branding, story_facts
from surveyhub.services.errors import UserError
from surveyhub.web.errors import user_message
from surveyhub.web.org_settings import LogoForm, show
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("branding", __name__, url_prefix="/admin")


class CertificateSettingsForm(FlaskForm):
    contact = StringField(_l("Contact line on certificates"), validators=[Optional(), Length(max=300)],
                          description=_l("How residents reach you, e.g. Buurtwerk Noord · 030 123 45 67 · "
                                         "info@buurtwerknoord.nl"))
    orientation = RadioField(_l("Certificates are printed"), choices=[SelectChoice("landscape", _l("Landscape (wide)")),
                                                                       SelectChoice("portrait", _l("Portrait (tall)"))])


def refusal(exc: branding.LogoRefused) -> str:
    """Why a logo was refused, in the admin's language."""
    if exc.kind == "type":
        return _("A logo must be a PNG, JPEG or SVG file.")
    if exc.kind == "size":
        return _("The file is too large: a logo may be at most %(size)s.", size=exc.what)
    if exc.kind == "pixels":
        return _("The image is too large: at most %(size)s pixels.", size=exc.what)
    if exc.kind == "unreadable":
        return _("The file cannot be read as an image.")
    return _("This SVG file uses something a logo may not have (%(what)s). Save it as a simple SVG, or as a PNG.",
             what=exc.what)


@bp.route("/logo", methods=["GET", "POST"])
@requires("org.manage")
def logo():
    session = get_session()
    form = LogoForm()
    if form.validate_on_submit():
        data = b"" if form.remove.data else (form.file.data.read(logos.MAX_BYTES + 1) if form.file.data else b"")
        if not data and not form.remove.data:
            form.file.errors.append(_("Choose a file."))
        else:
            try:
                branding.set_own_logo(session, current_actor(), data)
            except branding.LogoRefused as exc:
                session.rollback()
                form.file.errors.append(refusal(exc))
            else:
                session.commit()
                flash(_("The logo is removed.") if form.remove.data else _("The logo is saved."))
                return redirect(url_for("org_settings.page") + "#logo")
    return show(logo_form=form)


@bp.route("/certificate-settings", methods=["POST"])
@requires("org.manage")
def certificate_settings():
    session = get_session()
    form = CertificateSettingsForm()
    if form.validate_on_submit():
        try:
            story_facts.set_organisation_facts(session, current_actor(), form.contact.data, form.orientation.data)
        except UserError as exc:
            session.rollback()
            flash(user_message(exc), "error")
        else:
            session.commit()
            flash(_("The certificate settings are saved."))
    else:
        flash(_("Choose landscape or portrait; the contact line can have at most 300 characters."), "error")
    return redirect(url_for("org_settings.page") + "#certificates")
