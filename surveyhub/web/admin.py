"""The organisation admin's pages: users, plugins, instruments, audit trail."""

from __future__ import annotations

from flask import (Blueprint, Response, current_app, flash, make_response, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_babel import gettext as _

from surveyhub.db import get_session
from surveyhub.measures import definition, yaml_loader
from surveyhub.plugins import get_host, get_registry
from surveyhub.services import accounts, audit, credentials, instruments, passwords, xlsform, xlsform_export
from surveyhub.models import ROLES
from surveyhub.services.errors import Conflict, UserError
from surveyhub.web import audit_labels, instrument_facts
from surveyhub.web.account_forms import password_messages
from surveyhub.web.errors import user_message
from surveyhub.web.forms import ActionForm, UploadForm, UserForm
from surveyhub.web.session_user import current_actor, requires

bp = Blueprint("admin", __name__, url_prefix="/admin")
MAX_INSTRUMENT_BYTES = yaml_loader.MAX_BYTES
AUDIT_PAGE_SIZE = 100
AUDIT_FILTERS = ("user", "event", "project", "since", "until")
#: Events one CSV download holds (100,000 take about 10 s); the command line has no limit.
AUDIT_CSV_MAX = 100_000


@bp.route("/users", methods=["GET", "POST"])
@requires("org.manage")
def users():
    session = get_session()
    form = UserForm()
    if form.validate_on_submit():
        actor = current_actor()
        try:
            accounts.create_user(session, actor.organisation_id, form.email.data, form.role.data,
                                 form.password.data, name=form.name.data, actor=actor)
        except passwords.WeakPassword as exc:
            session.rollback()
            form.password.errors.extend(password_messages(exc.codes))
        except UserError as exc:
            session.rollback()
            form.email.errors.append(_user_error(exc))
        else:
            session.commit()
            flash(_("User created."))
            return redirect(url_for("admin.users"))
    return render_template("admin/users.html", users=accounts.list_users(session, current_actor()),
                           form=form, action=ActionForm(), roles=ROLES)


def _user_error(exc: UserError) -> str:
    """A refused change to a user account, in the reader's language."""
    if isinstance(exc, accounts.AddressUnavailable):
        # The same words whoever holds the address: another organisation's users do not leak.
        return _("This e-mail address cannot be used for a new account. Use another address, "
                 "or ask the person which address they use for SurveyHub.")
    if isinstance(exc, accounts.LastAdmin):
        return _("Not possible: the organisation would have no active admin left.")
    if isinstance(exc, accounts.OwnAccount):
        return _("You cannot deactivate your own account or change your own role.")
    if isinstance(exc, Conflict):
        return _("A user with this e-mail address already exists.")
    return user_message(exc)


def _change_user(change) -> None:
    """Apply a change to a user of the admin's organisation; another organisation's user is a 404."""
    session = get_session()
    if not ActionForm().validate_on_submit():
        return
    try:
        change(session, current_actor())
    except UserError as exc:  # NotFound passes: another organisation's user is a 404
        session.rollback()
        flash(_user_error(exc), "error")
    else:
        session.commit()
        flash(_("Saved. That user's open sessions have ended."))


@bp.route("/users/<int:user_id>/<any(activate, deactivate):change>", methods=["POST"])
@requires("org.manage")
def user_active(user_id: int, change: str):
    _change_user(lambda session, actor: accounts.set_active(session, actor, user_id, change == "activate"))
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@requires("org.manage")
def user_role(user_id: int):
    role = request.form.get("role", "")
    _change_user(lambda session, actor: accounts.set_role(session, actor, user_id, role))
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/totp-off", methods=["POST"])
@requires("org.manage")
def user_totp_off(user_id: int):
    """Switch a user's two-step login off, e.g. after a lost phone."""
    _change_user(lambda session, actor: credentials.admin_disable_totp(session, actor, user_id))
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/reset-link", methods=["POST"])
@requires("org.manage")
def user_reset_link(user_id: int):
    """Make a one-time link to set a new password; shown once, to hand over."""
    session = get_session()
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.users"))
    try:
        token = credentials.create_reset(session, current_actor(), user_id)
    except UserError as exc:
        session.rollback()
        flash(_user_error(exc), "error")
        return redirect(url_for("admin.users"))
    email = next(u.email for u in accounts.list_users(session, current_actor()) if u.id == user_id)
    session.commit()
    page = make_response(render_template("admin/reset_link.html", email=email, hours=credentials.RESET_HOURS,
                                         link=f"{current_app.config['BASE_URL']}/reset/{token}"))
    page.headers["Cache-Control"] = "no-store"
    page.headers["Referrer-Policy"] = "no-referrer"
    return page


@bp.route("/plugins")
@requires("org.manage")
def plugins():
    host = get_host()
    problems = host.problems.stored(get_session()) or []  # what this process saw a moment ago is on it too
    return render_template("admin/plugins.html", statuses=host.overview(problems),
                           problems=problems, errors=get_registry().errors, local_time=audit_labels.local_time)


@bp.route("/instruments", methods=["GET", "POST"])
@requires("org.manage")
def instrument_list():
    session = get_session()
    form = UploadForm()
    upload_errors: list[str] = []
    if form.validate_on_submit():
        upload_errors = _upload(session, form)
        if not upload_errors:
            return redirect(url_for("admin.instrument_list"))
    organisation_id = current_actor().organisation_id
    available = instruments.available(session, get_registry(), organisation_id)
    return render_template("admin/instruments.html", available=available, form=form,
                           upload_errors=upload_errors, facts=_facts_of(session, organisation_id, available))


def _facts_of(session, organisation_id: int, available) -> dict:
    """(id, version) -> its item counts and languages, for the list."""
    found = {}
    for a in available:
        pair = instruments.definition_for(session, get_registry(), organisation_id, a.id, a.version)
        if pair is not None:
            found[(a.id, a.version)] = instrument_facts.facts(pair[0])
    return found


def _upload(session, form) -> list[str]:
    name = form.file.data.filename or "upload.yaml"
    if name.lower().endswith((".xlsx", ".xlsm")):
        return _upload_xlsform(session, form.file.data.read(xlsform.MAX_BYTES + 1), name)
    raw = form.file.data.read(MAX_INSTRUMENT_BYTES + 1)
    if raw.startswith(b"PK\x03\x04"):  # a workbook saved under another name
        return _upload_xlsform(session, raw + form.file.data.read(xlsform.MAX_BYTES), name)
    if len(raw) > MAX_INSTRUMENT_BYTES:
        return [_("%(name)s is larger than %(kb)s kB.", name=name, kb=MAX_INSTRUMENT_BYTES // 1024)]
    try:  # utf-8-sig: editors on Windows often start the file with a byte order mark
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [_("%(name)s is not a UTF-8 text file.", name=name)]
    return _store(session, lambda: instruments.upload(session, get_registry(), current_actor(), text, name))


def _upload_xlsform(session, raw: bytes, name: str) -> list[str]:
    """An XLSForm (Kobo/ODK .xlsx): read, checked as a YAML upload is, stored."""
    return _store(session, lambda: xlsform.upload(session, get_registry(), current_actor(), raw, name))


def _store(session, upload) -> list[str]:
    """Run one upload (YAML or XLSForm) and commit it; its problems, for the page, when it is refused."""
    try:
        stored = upload()
    except definition.InstrumentError as exc:
        session.rollback()
        return exc.errors
    except UserError as exc:
        session.rollback()
        return [user_message(exc)]
    session.commit()
    flash(_("Instrument %(id)s version %(v)s uploaded.", id=stored.instrument_id, v=stored.version))
    return []


def _audit_request(session, actor):
    """The audit page's filters from the query string: (form, filters, the filters to repeat in links, time zone)."""
    tz = audit_labels.timezone_setting()
    form, filters = audit_labels.filter_form(request.args, audit.choices(session, actor), tz)
    query = {key: value for key, value in request.args.items() if key in AUDIT_FILTERS and value}
    return form, filters, query, tz


@bp.route("/audit")
@requires("org.manage")
def audit_trail():
    """The organisation's events, newest first, filtered by who, event, project and period."""
    session = get_session()
    actor = current_actor()
    form, filters, query, tz = _audit_request(session, actor)
    shown = audit.page(session, actor, filters, request.args.get("page", 1, type=int), AUDIT_PAGE_SIZE)
    return render_template("admin/audit.html", form=form, shown=shown, query=query, tz=tz,
                           label=audit_labels.label, summary=audit_labels.summary, when=audit_labels.local_time)


@bp.route("/audit.csv")
@requires("org.manage")
def audit_csv():
    """The filtered events as CSV; the download itself is an event too."""
    session = get_session()
    actor = current_actor()
    _form, filters, query, tz = _audit_request(session, actor)
    found = audit.count(session, actor, filters)
    if found > AUDIT_CSV_MAX:  # more than one request can stream in time
        flash(_("These are %(n)s events, more than one download can hold (%(max)s). Choose a shorter period, or "
                "export them with: surveyhub audit list --csv", n=found, max=AUDIT_CSV_MAX), "error")
        return redirect(url_for("admin.audit_trail", **query))
    audit.record(session, "download.export", actor=actor, target="audit", details={"format": "csv", **query})
    session.commit()
    body = audit_labels.csv_chunks(audit.all_events(session, actor, filters), tz)
    return Response(stream_with_context(body), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"',
                             "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@bp.route("/instruments/<instrument_id>/<int:version>")
@requires("org.manage")
def instrument_detail(instrument_id: str, version: int):
    session = get_session()
    actor = current_actor()
    found = instruments.definition_for(session, get_registry(), actor.organisation_id, instrument_id, version)
    if found is None:
        from flask import abort
        abort(404)
    definition, source = found
    facts = instrument_facts.facts(definition)
    # Dutch beside one other language at a time: enough to check a translation, narrow enough for a phone.
    other = facts.language(request.args.get("lang", "")) or next(
        (lang for lang in facts.languages if lang.code != "nl"), None)
    used_in = instruments.used_in(session, actor.organisation_id, instrument_id, version)
    return render_template("admin/instrument.html", definition=definition, source=source, facts=facts,
                           dutch=facts.language("nl") or facts.languages[0],
                           other=other if other and other.code != "nl" else None, used_in=used_in)


@bp.route("/instruments/<instrument_id>/<int:version>.xlsx")
@requires("org.manage")
def instrument_xlsform(instrument_id: str, version: int):
    """The instrument as an XLSForm, for field teams who collect with Kobo or ODK."""
    actor = current_actor()
    found = instruments.definition_for(get_session(), get_registry(), actor.organisation_id, instrument_id, version)
    if found is None:
        from flask import abort
        abort(404)
    content = xlsform_export.export(found[0])
    return Response(content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{instrument_id}_v{version}.xlsx"',
                             "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
