"""Webhooks: the admin's pages to register endpoints, see the secret, read the delivery log, send a test.

Thin routes over ``services.webhooks`` and ``services.webhook_delivery``; every page is ``org.manage``
and looks an endpoint up in the admin's own organisation (another organisation's id is a 404).
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from surveyhub.db import get_session
from surveyhub.queue import get_queue
from surveyhub.services import webhook_delivery, webhooks
from surveyhub.services.errors import UserError
from surveyhub.web import audit_labels
from surveyhub.web.errors import user_message
from surveyhub.web.forms import ActionForm, MultiCheckboxField
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")

EVENT_NAMES = {
    "response.completed": _l("A resident finished a questionnaire"),
    "wave.opened": _l("A wave opened"),
    "wave.closed": _l("A wave closed"),
    "document.issued": _l("A document was made (report or certificate)"),
    "participant.erased": _l("A resident's data was erased"),
    "webhook.test": _l("Test event"),
}
STATUS_NAMES = {"pending": _l("waiting"), "sending": _l("being sent"), "delivered": _l("delivered"),
                "failed": _l("failed")}


class EndpointForm(FlaskForm):
    url = StringField(_l("Web address (URL)"), validators=[DataRequired(), Length(max=2000)],
                      render_kw={"inputmode": "url", "autocomplete": "off"})
    description = StringField(_l("Description (for yourself)"), validators=[Optional(), Length(max=200)])
    events = MultiCheckboxField(_l("Which events to send"),
                                choices=[SelectChoice(event, EVENT_NAMES[event]) for event in webhooks.EVENTS])
    names = BooleanField(_l("Add the resident's name to \"finished a questionnaire\""))
    allow_private = BooleanField(_l("Allow an address on our own network (private, local or http://)"))


def reason_text(stored: str | None) -> str:
    """A failed attempt's reason, in the page's language."""
    parts = webhook_delivery.reason_parts(stored)
    if parts is None:
        return ""
    msgid, params = parts
    try:
        return _(msgid, **params)
    except (KeyError, ValueError, TypeError):
        return msgid


def _save(form: EndpointForm, endpoint_id: int | None = None):
    try:
        found = webhooks.save_endpoint(
            get_session(), current_actor(), url=form.url.data or "", description=form.description.data or "",
            events=form.events.data or [], scopes=[webhooks.NAME_SCOPE] if form.names.data else [],
            allow_private=bool(form.allow_private.data), endpoint_id=endpoint_id,
            private_allowed=bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE")))
    except UserError as exc:
        get_session().rollback()
        (form.events if "event" in exc.msgid else form.url).errors = [user_message(exc)]
        return None
    get_session().commit()
    return found


@bp.route("", methods=["GET", "POST"])
@requires("org.manage")
def index():
    form = EndpointForm()
    if form.validate_on_submit():
        found = _save(form)
        if found is not None:
            flash(_("Webhook added. Give the secret below to the other system, so it can check each message."))
            return redirect(url_for("webhooks.endpoint", endpoint_id=found.id))
    return render_template("webhooks/index.html", endpoints=webhooks.list_endpoints(get_session(), current_actor()),
                           form=form, event_names=EVENT_NAMES), (400 if form.errors else 200)


@bp.route("/<int:endpoint_id>", methods=["GET", "POST"])
@requires("org.manage")
def endpoint(endpoint_id: int):
    session, actor = get_session(), current_actor()
    found = webhooks.get_endpoint(session, actor, endpoint_id)
    form = EndpointForm(data={"url": found.url, "description": found.description, "events": found.events,
                              "names": webhooks.NAME_SCOPE in found.scopes, "allow_private": found.allow_private})
    if form.validate_on_submit():
        if _save(form, endpoint_id) is not None:
            flash(_("Changes saved."))
            return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))
    return render_template("webhooks/endpoint.html", endpoint=found, form=form, action=ActionForm(),
                           log=webhook_delivery.log_of(session, actor, endpoint_id), event_names=EVENT_NAMES,
                           status_names=STATUS_NAMES, reason_text=reason_text,
                           local_time=audit_labels.local_time), (400 if form.errors else 200)


def _action(endpoint_id: int, work, message: str):
    if not ActionForm().validate_on_submit():
        return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))
    session = get_session()
    try:
        work(session, current_actor())
    except UserError as exc:
        session.rollback()
        flash(user_message(exc), "error")
    else:
        session.commit()
        flash(message)
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))


@bp.post("/<int:endpoint_id>/rotate")
@requires("org.manage")
def rotate(endpoint_id: int):
    return _action(endpoint_id, lambda s, a: webhooks.rotate_secret(s, a, endpoint_id),
                   _("New secret made. For 24 hours every message is signed with both the new and the old "
                     "secret: give the new one to the other system before then."))


@bp.post("/<int:endpoint_id>/retire-previous")
@requires("org.manage")
def retire_previous(endpoint_id: int):
    return _action(endpoint_id, lambda s, a: webhooks.retire_previous_secret(s, a, endpoint_id),
                   _("The old secret no longer signs messages."))


@bp.post("/<int:endpoint_id>/on")
@requires("org.manage")
def switch_on(endpoint_id: int):
    return _action(endpoint_id, lambda s, a: webhooks.set_active(s, a, endpoint_id, True), _("Webhook switched on."))


@bp.post("/<int:endpoint_id>/off")
@requires("org.manage")
def switch_off(endpoint_id: int):
    return _action(endpoint_id, lambda s, a: webhooks.set_active(s, a, endpoint_id, False),
                   _("Webhook switched off. Nothing is sent to it until you switch it on again. Messages that were "
                     "still waiting have failed; once it is on again, you can send them again from the list."))


@bp.post("/<int:endpoint_id>/delete")
@requires("org.manage")
def delete(endpoint_id: int):
    if not ActionForm().validate_on_submit():
        return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))
    webhooks.delete_endpoint(get_session(), current_actor(), endpoint_id)
    get_session().commit()
    flash(_("Webhook deleted, with its log."))
    return redirect(url_for("webhooks.index"))


@bp.post("/<int:endpoint_id>/test")
@requires("org.manage")
def send_test(endpoint_id: int):
    """Send a ``webhook.test`` now, in this request (at most ``WEBHOOK_TIMEOUT`` seconds), and say how it went."""
    if not ActionForm().validate_on_submit():
        return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))
    session = get_session()
    delivery_id = webhooks.queue_test_event(session, current_actor(), endpoint_id)
    session.commit()
    sent = webhook_delivery.send_one(session, delivery_id, settings=current_app.config)
    if sent.status == "delivered":
        flash(_("Test event delivered (answer %(status)s).", status=sent.status_code))
    else:
        flash(_("Test event not delivered: %(reason)s", reason=reason_text(sent.error)), "error")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))


@bp.post("/<int:endpoint_id>/deliveries/<int:delivery_id>/retry")
@requires("org.manage")
def retry(endpoint_id: int, delivery_id: int):
    if not ActionForm().validate_on_submit():
        return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))
    session = get_session()
    try:
        webhook_delivery.retry(session, current_actor(), delivery_id, endpoint_id)
    except UserError as exc:
        session.rollback()
        flash(user_message(exc), "error")
    else:
        session.commit()
        get_queue().deliver([delivery_id])
        flash(_("The message is being sent again; the log below shows how it went."))
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))
