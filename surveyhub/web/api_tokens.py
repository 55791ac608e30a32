"""API tokens: the admin's page to create and revoke the tokens other systems use (docs/api.md).

A new token is shown once, in the answer to the form that made it: never in a URL, a flashed
message (a cookie) or a cache (``Cache-Control: no-store``). The database keeps only its digest
(``services.api_tokens``), so a lost token is revoked and replaced, never shown again.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from surveyhub.db import get_session
from surveyhub.services import accounts, api_tokens
from surveyhub.services.errors import UserError
from surveyhub.web import audit_labels
from surveyhub.web.errors import user_message
from surveyhub.web.forms import ActionForm, MultiCheckboxField
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("api_tokens", __name__, url_prefix="/admin/api-tokens")

#: What each scope lets a system do, as an admin reads it (``access.SCOPES`` has the English for integrators).
SCOPE_WORDS = {
    "outcomes:read": _l("Read outcomes: dashboard figures and the impact report, with small groups hidden"),
    "projects:manage": _l("Manage projects, waves and residents, including their status and personal links"),
    "responses:import": _l("Import answers from a file, as the import page does"),
    "rows:export": _l("Download exports with one row per resident (personal data)"),
    "documents:read": _l("Read issued documents: list, download and verify"),
}
#: The roles a token can act as, in words.
ROLE_WORDS = {
    "worker": _l("Community worker: works in projects"),
    "admin": _l("Admin: also manages the organisation"),
    "funder": _l("Funder: reads only what one funder may read"),
}


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the token a name.")), Length(max=100)],
                       description=_l("What the token is for, e.g. the name of the other system."))
    role = RadioField(_l("Acts as"), default="worker",
                      choices=[SelectChoice(role, words) for role, words in ROLE_WORDS.items()])
    scopes = MultiCheckboxField(_l("What the token may do"),
                                choices=[SelectChoice(scope, words) for scope, words in SCOPE_WORDS.items()],
                                validators=[DataRequired(_l("Choose at least one."))])
    funder = SelectField(_l("Funder account (only for a funder token)"), choices=[], validate_choice=False)
    expires_days = IntegerField(_l("Stops working after (days)"), validators=[
        Optional(), NumberRange(min=1, max=3650, message=_l("Enter a number of days from 1 to 3650."))])


def _funders(session) -> list[str]:
    """The organisation's active funder accounts a funder token can read as."""
    return sorted(user.email for user in accounts.list_users(session, current_actor())
                  if user.role == "funder" and user.active)


@bp.get("")
@requires("org.manage")
def token_list():
    session = get_session()
    return render_template("api_tokens/list.html", tokens=api_tokens.list_tokens(session, current_actor()),
                           scope_words=SCOPE_WORDS, when=audit_labels.local_time)


@bp.route("/new", methods=["GET", "POST"])
@requires("org.manage")
def new():
    session = get_session()
    form = TokenForm()
    funders = _funders(session)
    form.funder.choices = [SelectChoice("", _("No funder"))] + [SelectChoice(email, email) for email in funders]
    if form.validate_on_submit():
        try:
            created = api_tokens.create(session, current_actor(), name=form.name.data, scopes=form.scopes.data,
                                        role=form.role.data, funder_email=form.funder.data or None,
                                        expires_days=form.expires_days.data)
        except UserError as exc:
            session.rollback()
            form.name.errors = [*form.name.errors, user_message(exc)]
        else:
            session.commit()
            # Rendered in the POST's answer and never stored: a reload asks to send the form again.
            page = make_response(render_template("api_tokens/created.html", token=created.token,
                                                 name=form.name.data.strip()))
            page.headers["Cache-Control"] = "no-store"
            return page
    return render_template("api_tokens/new.html", form=form, has_funders=bool(funders))


@bp.route("/<int:token_id>/revoke", methods=["GET", "POST"])
@requires("org.manage")
def revoke(token_id: int):
    """Ask first, then revoke: a system that uses the token stops working at once."""
    session = get_session()
    info = next((t for t in api_tokens.list_tokens(session, current_actor()) if t.id == token_id), None)
    if info is None:  # another organisation's token does not exist here
        abort(404)
    form = ActionForm()
    if form.validate_on_submit():
        api_tokens.revoke(session, current_actor(), token_id)
        session.commit()
        flash(_("Token %(name)s is revoked. It no longer works.", name=info.name))
        return redirect(url_for("api_tokens.token_list"))
    return render_template("api_tokens/revoke.html", token=info, form=form)
