"""The public check page: is this certificate or report genuine?

``/verify/<code>`` (the QR code on every document leads here) says whether a
code belongs to a document SurveyHub issued and whether it was revoked;
uploading the PDF on ``/verify`` also tells whether the file is unchanged.
An Open Badge (a VC-JWT, pasted or uploaded as a ``.jwt`` file) is checked by
``services.badge_credentials.verify``: signature, issuer and status list.
No login. Every request counts towards a rate limit (codes cannot be
guessed, but nobody should be able to try), and everything shown is escaped.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from surveyhub.db import get_session
from surveyhub.services import badge_credentials, badge_image, documents as docs
from surveyhub.web import limits
from surveyhub.web.session_user import public

bp = Blueprint("verify", __name__)

#: One budget for every check (code, page, upload) from one address, shared by all worker
#: processes; ``VERIFY_RATE_LIMIT`` (default 30 per minute) sets it.
limit_checks = limits.count_every("verify", "VERIFY_RATE_LIMIT")


class UploadForm(FlaskForm):
    file = FileField("PDF file")


class CodeForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    code = StringField("Code", validators=[Optional(), Length(max=64)])


#: A badge is a few kilobytes; anything far larger is not one (and is not read further).
MAX_BADGE_CHARS = 64_000


class BadgeForm(FlaskForm):
    """An Open Badge to check: pasted as text, or its ``.jwt`` file (prefix ``badge-``)."""

    jwt = TextAreaField("Badge (JWT)", validators=[Optional(), Length(max=MAX_BADGE_CHARS)])
    file = FileField("Badge file")


@bp.route("/verify", methods=["GET", "POST"])
@public
@limit_checks
def check():
    code_form = CodeForm(request.args)
    upload = UploadForm()
    badge = BadgeForm(prefix="badge")
    if request.method == "POST" and request.form.get("which") == "badge":
        return _badge_result(code_form, upload, badge)
    if request.method == "POST" and upload.validate_on_submit() and upload.file.data:
        data = upload.file.data.read(current_app.config["MAX_UPLOAD_BYTES"] + 1)
        if len(data) > current_app.config["MAX_UPLOAD_BYTES"]:
            return render_template("verify/index.html", code_form=code_form, upload=upload, badge=badge,
                                   too_large=True), 413
        result = docs.verify_file(get_session(), data)
        return render_template("verify/result.html", result=result, checked="file")
    if code_form.code.data:
        return _code_result(code_form.code.data)
    return render_template("verify/index.html", code_form=code_form, upload=upload, badge=badge, too_large=False)


def _badge_result(code_form: CodeForm, upload: UploadForm, badge: BadgeForm):
    """Check a pasted or uploaded badge; an empty, oversized or expired form is shown again with what to do."""
    text = _badge_text(badge)
    if not text:
        return render_template("verify/index.html", code_form=code_form, upload=upload, badge=badge,
                               too_large=False), 400
    check = badge_credentials.verify(get_session(), text, current_app.config["BASE_URL"])
    return render_template("verify/badge_result.html", check=check)


def _badge_text(badge: BadgeForm) -> str | None:
    """The pasted text, else the uploaded file's; None (with an error on the form) when there is none."""
    if not badge.validate_on_submit():
        if "csrf_token" in badge.errors:
            badge.jwt.errors = [_("This page was open for a long time. Please send it again.")]
        return None
    text = (badge.jwt.data or "").strip()
    if not text and badge.file.data:
        data = badge.file.data.read(MAX_BADGE_CHARS + 1)
        if len(data) > MAX_BADGE_CHARS:
            badge.file.errors = [_("This file is too large to be a badge.")]
            return None
        text = (badge_image.baked_jwt(data) or data.decode("utf-8", "replace")).strip()  # a baked .svg too
    if not text:
        badge.jwt.errors = [_("Paste a badge or choose its file.")]
    return text or None


@bp.route("/verify/<code>")
@public
@limit_checks
def check_code(code: str):
    return _code_result(code)


def _code_result(code: str):
    result = docs.verify_code(get_session(), code[:64])
    return render_template("verify/result.html", result=result, checked="code", code=code[:64])
