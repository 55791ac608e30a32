"""The admin's organisation settings page: name, logo, colour, certificates, retention, contact,
report thresholds, the base URL (read only) and the signing key — nothing left for the command line.

The logo keeps its own form and rules (``web.branding``); this page shows it in place.
"""

from __future__ import annotations

import base64

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, ColorField, IntegerField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from surveyhub.db import get_session
from surveyhub.rendering import logo as logos
from surveyhub.services import branding, org_settings
from surveyhub.services.errors import UserError
from surveyhub.services.outcomes import Thresholds
from surveyhub.web.errors import user_message
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("org_settings", __name__, url_prefix="/admin")

#: Largest PEM file the signing-key import reads (a 4096-bit key with a chain is far below this).
MAX_PEM_BYTES = 64 * 1024


def _threshold(label):
    return IntegerField(label, validators=[Optional(), NumberRange(min=0, max=1000, message=_l(
        "Enter a whole number, or leave it empty."))])


class LogoForm(FlaskForm):
    file = FileField(_l("Logo file (PNG, JPEG or SVG)"))
    upload = SubmitField(_l("Upload"))
    remove = SubmitField(_l("Remove the logo"))


class SettingsForm(FlaskForm):
    name = StringField(_l("Name of the organisation"), validators=[
        DataRequired(_l("Give the organisation a name.")), Length(max=200, message=_l("Use at most 200 characters."))])
    brand_colour = ColorField(_l("Brand colour"), validators=[
        DataRequired(_l("Choose a colour.")),
        Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("Write a colour as # and six characters, e.g. #1f5f8b."))],
        description=_l("Used on certificates, reports and paper questionnaires."))
    contact = StringField(_l("Contact line on certificates"), validators=[Optional(), Length(max=300)],
                          description=_l("How residents reach you, e.g. Buurtwerk Noord · 030 123 45 67 · "
                                         "info@buurtwerknoord.nl"))
    certificate_orientation = RadioField(_l("Certificates are printed"), default="landscape", choices=[
        SelectChoice("landscape", _l("Landscape (wide)")), SelectChoice("portrait", _l("Portrait (tall)"))])
    certificate_language = SelectField(_l("Language of certificates"), default="", choices=[
        SelectChoice("", _l("Each resident's own language")), SelectChoice("nl", "Nederlands"),
        SelectChoice("en", "English"), SelectChoice("tr", "Türkçe"), SelectChoice("ar", "العربية"),
        SelectChoice("pl", "Polski")])
    retention_months = IntegerField(_l("Keep residents' personal data for (months after a project's last wave)"),
                                    validators=[Optional(), NumberRange(min=1, max=120, message=_l(
                                        "Enter a number of months from 1 to 120."))])
    min_pairs_means = _threshold(_l("Fewest pairs for averages"))
    min_pairs_tests = _threshold(_l("Fewest pairs for tests and effect sizes"))
    min_cell = _threshold(_l("Fewest residents in a group count"))
    shares_reference = BooleanField(_l("Count our projects, anonymously, in the comparison with similar projects "
                                       "for other organisations"))


class SigningKeyForm(FlaskForm):
    replace = BooleanField(_l("Yes, replace the current key (documents signed with it stay genuine)"))


class SigningKeyImportForm(FlaskForm):
    key_file = FileField(_l("Private key (PEM, without a passphrase)"))
    cert_file = FileField(_l("Certificate (PEM)"))


def _floors() -> Thresholds:
    return Thresholds.from_settings(current_app.config)


def _logo_preview(session) -> tuple[str | None, bool]:
    data, kind = branding.organisation_logo(session, current_actor())
    shown = logos.logo_kind(data, kind)
    return (f"data:{shown};base64,{base64.b64encode(data).decode('ascii')}" if shown else None), bool(data)


def show(form: SettingsForm | None = None, logo_form=None, status: int = 200):
    """The settings page; ``web.branding`` renders it too, with its logo form's errors."""
    session = get_session()
    now = org_settings.current(session, current_actor())
    if form is None:
        form = SettingsForm(formdata=None,
                            data={**now.__dict__, "certificate_language": now.certificate_language or ""})
    preview, has_logo = _logo_preview(session)
    return render_template("admin/settings.html", form=form, logo_form=logo_form or LogoForm(formdata=None),
                           preview=preview, has_logo=has_logo, floors=_floors(), now=now,
                           default_months=current_app.config["RETENTION_MONTHS"],
                           base_url=current_app.config["BASE_URL"], key_form=SigningKeyForm(formdata=None),
                           import_form=SigningKeyImportForm(formdata=None)), status


@bp.route("/settings", methods=["GET", "POST"])
@requires("org.manage")
def page():
    form = SettingsForm()
    if form.validate_on_submit():
        session = get_session()
        values = org_settings.OrgSettings(
            form.name.data, form.brand_colour.data, form.contact.data, form.certificate_orientation.data,
            form.certificate_language.data or None, form.retention_months.data, form.min_pairs_means.data,
            form.min_pairs_tests.data, form.min_cell.data, None, bool(form.shares_reference.data))
        try:
            changed = org_settings.update(session, current_actor(), values, _floors())
        except UserError as exc:
            session.rollback()
            form.form_errors.append(user_message(exc))
        else:
            session.commit()
            flash(_("The settings are saved.") if changed else _("Nothing changed."))
            return redirect(url_for("org_settings.page"))
    return show(form if form.is_submitted() else None)  # a GET shows what is stored


@bp.route("/settings/signing-key", methods=["POST"])
@requires("org.manage")
def signing_key():
    form = SigningKeyForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            printed = org_settings.create_signing_key(session, current_actor(), replace=form.replace.data)
        except UserError as exc:
            session.rollback()
            flash(user_message(exc), "error")
        else:
            session.commit()
            flash(_("A new signing key is made. Its fingerprint: %(fp)s", fp=printed))
    return redirect(url_for("org_settings.page") + "#signing")


@bp.route("/settings/signing-key/import", methods=["POST"])
@requires("org.manage")
def signing_key_import():
    form = SigningKeyImportForm()
    if form.validate_on_submit():
        key = form.key_file.data.read(MAX_PEM_BYTES + 1) if form.key_file.data else b""
        cert = form.cert_file.data.read(MAX_PEM_BYTES + 1) if form.cert_file.data else b""
        if not key or not cert:
            flash(_("Choose both files: the key and its certificate."), "error")
        elif len(key) > MAX_PEM_BYTES or len(cert) > MAX_PEM_BYTES:
            flash(_("A key or certificate file is at most 64 KB."), "error")
        else:
            session = get_session()
            try:
                printed = org_settings.import_signing_key(session, current_actor(), key, cert)
            except UserError as exc:
                session.rollback()
                flash(user_message(exc), "error")
            else:
                session.commit()
                flash(_("The signing key is imported. Its fingerprint: %(fp)s", fp=printed))
    return redirect(url_for("org_settings.page") + "#signing")
