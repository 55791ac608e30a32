"""The public check page: is this certificate or report genuine?

``/verify/<code>`` (the QR code on every document leads here) says whether a
code belongs to a document SurveyHub issued and whether it was revoked;
uploading the PDF on ``/verify`` also tells whether the file is unchanged.
No login. Every request counts towards a rate limit (codes cannot be
guessed, but nobody should be able to try), and everything shown is escaped.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import Length, Optional

from surveyhub.db import get_session
from surveyhub.services import documents as docs
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


@bp.route("/verify", methods=["GET", "POST"])
@public
@limit_checks
def check():
    code_form = CodeForm(request.args)
    upload = UploadForm()
    if request.method == "POST" and upload.validate_on_submit() and upload.file.data:
        data = upload.file.data.read(current_app.config["MAX_UPLOAD_BYTES"] + 1)
        if len(data) > current_app.config["MAX_UPLOAD_BYTES"]:
            return render_template("verify/index.html", code_form=code_form, upload=upload, too_large=True), 413
        result = docs.verify_file(get_session(), data)
        return render_template("verify/result.html", result=result, checked="file")
    if code_form.code.data:
        return _code_result(code_form.code.data)
    return render_template("verify/index.html", code_form=code_form, upload=upload, too_large=False)


@bp.route("/verify/<code>")
@public
@limit_checks
def check_code(code: str):
    return _code_result(code)


def _code_result(code: str):
    result = docs.verify_code(get_session(), code[:64])
    return render_template("verify/result.html", result=result, checked="code", code=code[:64])
