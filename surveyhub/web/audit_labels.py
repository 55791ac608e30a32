"""The audit trail as people read it: Dutch labels for event codes, local times, short summaries, the CSV.

``LABELS`` is the one mapping from an event code (``services.audit``) to the
words the admin page shows; an unknown code (from a plugin, or a newer
version) is shown as the code itself. Times are stored in UTC and shown in
the installation's time zone (``SURVEYHUB_TIMEZONE``). Also the page's
filter form, and the CSV export of the filtered events.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, tzinfo
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import DateField, Form, SelectField
from wtforms.validators import Optional

from surveyhub.i18n import current_language
from surveyhub.services import audit
from surveyhub.services.audit import Event
from surveyhub.services.exports import neutralise

LABELS = {
    "auth.login": _l("Logged in"),
    "user.login": _l("Logged in"),  # the code before issue 9
    "auth.login_failed": _l("Login failed"),
    "auth.logout": _l("Logged out"),
    "auth.password_change": _l("Password changed"),
    "auth.password_reset_sent": _l("Password reset link sent"),
    "auth.password_reset_used": _l("Password reset link used"),
    "auth.totp_on": _l("Two-step login turned on"),
    "auth.totp_off": _l("Two-step login turned off"),
    "user.create": _l("User created"),
    "user.role_change": _l("Role changed"),
    "user.activate": _l("User activated"),
    "user.deactivate": _l("User deactivated"),
    "project.create": _l("Project created"),
    "project.update": _l("Project changed"),
    "project.share": _l("Project shared with a funder"),
    "project.unshare": _l("Project no longer shared with a funder"),
    "project.archive": _l("Project archived"),
    "project.delete": _l("Project deleted"),
    "wave.open": _l("Wave opened"),
    "wave.close": _l("Wave closed"),
    "wave.closed": _l("Wave closed"),  # the code before issue 9
    "questionnaire.edit": _l("Questionnaire changed"),
    "participants.add": _l("Residents added"),
    "participant.view_link": _l("Personal link viewed"),
    "participants.view_links": _l("Residents' links viewed"),
    "participant.renew_link": _l("Personal link renewed"),
    "participant.reminders_opt_out": _l("Resident stopped e-mail reminders"),
    "participant.email": _l("Resident's e-mail address changed"),
    "mail.invite": _l("Invitations mailed"),
    "mail.remind": _l("Reminders mailed"),
    "participant.export_data": _l("Resident's data downloaded"),
    "participant.erase": _l("Resident's data erased"),
    "response.paper_entry": _l("Paper answers entered"),
    "pair.confirm": _l("Pair of own codes confirmed"),
    "pair.undo": _l("Pair of own codes undone"),
    "pair.reset": _l("Choice about a pair of own codes taken back"),
    "response.paper_replace": _l("Answers replaced by paper answers"),
    "responses.import": _l("Answers imported"),
    "responses.import_undo": _l("Import of answers undone"),
    "activity.record": _l("Activity recorded"),
    "activity.update": _l("Activity changed"),
    "activity.delete": _l("Activity deleted"),
    "activity.import": _l("Activities imported"),
    "download.export": _l("Export downloaded"),
    "download.report": _l("Report downloaded"),
    "download.document": _l("Document downloaded"),
    "download.certificates": _l("All certificates downloaded"),
    "download.link_sheet": _l("Link sheet downloaded"),
    "download.badge": _l("Badge downloaded"),
    "badge.issue": _l("Badges issued"),
    "badge.revoke": _l("Badge revoked"),
    "project.badge_rule": _l("Badge rule set"),
    "badge.key_rotate": _l("New key for signing badges"),
    "document.issue": _l("Document issued"),
    "document.revoke": _l("Document revoked"),
    "retention.purge": _l("Personal data removed after the retention period"),
    "instrument.upload": _l("Instrument uploaded"),
    "organisation.create": _l("Organisation created"),
    "organisation.signing_key": _l("Signing key created"),
    "organisation.retention": _l("Retention period changed"),
    "organisation.settings": _l("Organisation settings changed"),
    "user.profile": _l("Own name or job title changed"),
    "network.create": _l("Network started"),
    "network.join": _l("Joined a network"),
    "network.member_join": _l("An organisation joined the network"),
    "network.leave": _l("Left a network"),
    "network.member_leave": _l("An organisation left the network"),
    "network.join_code": _l("New join code for a network"),
    "network.close_joining": _l("Joining a network closed"),
    "network.opt_in": _l("Project counts in a network"),
    "network.opt_out": _l("Project no longer counts in a network"),
    "network.viewer_add": _l("Funder may read a network's report"),
    "network.viewer_remove": _l("Funder may no longer read a network's report"),
    "api_token.create": _l("API token made"),
    "api_token.revoke": _l("API token revoked"),
    "webhook.create": _l("Webhook added"),
    "webhook.update": _l("Webhook changed"),
    "webhook.rotate": _l("Webhook secret renewed"),
    "webhook.enable": _l("Webhook switched on"),
    "webhook.disable": _l("Webhook switched off"),
    "webhook.delete": _l("Webhook deleted"),
}

#: Codes recorded by earlier versions: labelled when they occur, not offered as a filter otherwise.
LEGACY = {"user.login", "wave.closed"}
#: Names for the detail keys events commonly carry; other keys are shown as they are.
DETAIL_NAMES = {
    "format": _l("format"),
    "dialect": _l("dialect"),
    "kind": _l("kind"),
    "participant": _l("resident"),
    "count": _l("number"),
    "rows": _l("rows"),
    "reason": _l("reason"),
    "role": _l("role"),
    "wave": _l("wave"),
    "change": _l("change"),
    "instruments": _l("instruments"),
    "instrument": _l("instrument"),
    "question": _l("question"),
    "language": _l("language"),
    "table": _l("table"),
    "funder": _l("funder"),
    "residents": _l("residents"),
    "responses": _l("questionnaires"),
    "answers": _l("answers"),
    "documents": _l("documents"),
    "archived": _l("archived"),
    "name": _l("name"),
    "scopes": _l("may do"),
}
#: Detail keys never shown, whatever a caller put in (defence in depth: tokens are never recorded).
_HIDDEN = ("token", "link", "password", "secret", "answer")
SUMMARY_LENGTH = 160


def label(action: str) -> str:
    """The readable name of an event code; the code itself when it has none."""
    found = LABELS.get(action)
    return str(found) if found is not None else action


def action_choices(seen: Iterable[str]) -> list[tuple[str, str]]:
    """Every known code and every code that occurs, as (code, label), sorted by label."""
    codes = set(LABELS) - LEGACY | set(seen)
    return sorted(((code, label(code)) for code in codes), key=lambda pair: pair[1].lower())


def timezone_setting() -> tzinfo:
    return ZoneInfo(current_app.config.get("TIMEZONE") or "Europe/Amsterdam")


def local_time(moment: datetime, tz: tzinfo | None = None) -> str:
    """``25 november 2026 14:03`` in the page's language and the installation's time zone."""
    return format_datetime(moment, "d MMMM y HH:mm", tzinfo=tz or timezone_setting(),
                           locale=current_language())


def summary(details: dict | None, names: dict | None = None) -> str:
    """The details of an event in one short line: ``format: xlsx, rows: 12``.

    :param names: the detail names and yes/no already translated (the CSV translates them once).
    """
    names = names or _translated_names()
    parts = []
    for key, value in (details or {}).items():
        if value is None or value == "" or any(word in key.lower() for word in _HIDDEN):
            continue
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = names[value]
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        parts.append(f"{names.get(key, key)}: {value}")
    text = "; ".join(parts)
    return text if len(text) <= SUMMARY_LENGTH else text[:SUMMARY_LENGTH - 1] + "…"


def _translated_names() -> dict:
    return {**{key: str(name) for key, name in DETAIL_NAMES.items()}, True: str(_l("yes")), False: str(_l("no"))}


def csv_chunks(events: Iterator[Event], tz: tzinfo) -> Iterator[bytes]:
    """The events as CSV (UTF-8 with a byte-order mark, for Excel), formula starts made inert."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([f"when ({getattr(tz, 'key', tz)})", "who", "event", "event (label)", "project", "what",
                     "details", "where"])
    yield "\ufeff".encode("utf-8") + _drain(buffer)
    labels: dict[str, str] = {}
    names = _translated_names()
    for n, event in enumerate(events, 1):
        if event.action not in labels:
            labels[event.action] = label(event.action)
        # Only what users and callers wrote can start a formula; the time, code and label cannot.
        writer.writerow([event.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), neutralise(event.who),
                         event.action, labels[event.action], neutralise(event.project or ""),
                         neutralise(event.target or ""), neutralise(summary(event.details, names)),
                         neutralise(event.source or "")])
        if n % 200 == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


# --- the filter form -------------------------------------------------------------------------------

class AuditFilterForm(Form):
    """The admin page's filters, read from the query string (a GET form: it changes nothing, so no CSRF)."""

    user = SelectField(_l("Who"), default="")
    event = SelectField(_l("Event"), default="")
    project = SelectField(_l("Project"), default="")
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To (inclusive)"), validators=[Optional()])


def filter_form(args, choices: audit.Choices, tz: tzinfo) -> tuple[AuditFilterForm, audit.Filters]:
    """The form filled from ``args`` and the filters it asks for; a value that does not fit is left out."""
    form = AuditFilterForm(args)
    form.user.choices = [("", _l("Everyone"))] + [(str(uid), email) for uid, email in choices.users]
    form.event.choices = [("", _l("All events"))] + action_choices(choices.actions)
    form.project.choices = [("", _l("All projects"))] + [(str(pid), name) for pid, name in choices.projects]
    if not form.validate():
        for field in form:
            if field.errors:
                field.errors = [str(_l("This filter was left out: the value is not valid."))]

    def valid(field):
        return None if field.errors or not field.data else field.data
    since, until = audit.period(valid(form.since), valid(form.until), tz)
    user, project = valid(form.user), valid(form.project)
    return form, audit.Filters(user_id=int(user) if user else None, action=valid(form.event),
                               project_id=int(project) if project else None, since=since, until=until)
