"""The web face: blueprints, the logged-in actor, error pages."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError

from surveyhub.services.errors import Forbidden, NotFound
from surveyhub.web import session_user


def register_blueprints(app: Flask) -> None:
    from surveyhub.web import (account, admin, auth, branding, documents, icons, input, jobs, mail, manage, outcomes,
                               pairs, paper, participants, preview, project_admin, project_story, questionnaire,
                               resident_requests, resident_rights, setup, verify)

    input.init_app(app)
    session_user.init_app(app)
    app.register_blueprint(icons.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(branding.bp)
    from surveyhub.web import import_page, org_settings
    app.register_blueprint(org_settings.bp)
    app.register_blueprint(import_page.bp)
    app.register_blueprint(project_admin.bp)
    from surveyhub.web import activities, api_tokens, badges, contributions, networks, org_reports, webhooks
    from surveyhub.web import project_badges, resident_badges
    for module in (questionnaire, participants, paper, setup, preview, verify, outcomes, documents, resident_rights,
                   resident_requests, project_story, pairs, jobs, mail, activities, contributions, org_reports,
                   networks, api_tokens, webhooks, badges, resident_badges, project_badges):
        app.register_blueprint(module.bp)
    from surveyhub.web import api
    api.register(app)
    _register_errors(app)
    _register_globals(app)
    app.after_request(_security_headers)
    _transport(app)


def _transport(app: Flask) -> None:
    """Links stay secret on the way: masked in logs, cookies only over https, the proxy's client address.

    ``SURVEYHUB_PROXY_FIX`` is the number of proxies in front of SurveyHub that may be
    trusted to set ``X-Forwarded-For/-Proto/-Host/-Port/-Prefix``; with 0 (the default)
    those headers are ignored, so nobody can fake an address to dodge a rate limit.
    """
    from werkzeug.middleware.proxy_fix import ProxyFix

    from surveyhub import log_masking

    log_masking.install(app.logger)
    if app.config["BASE_URL"].startswith("https:"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    # ``Referrer-Policy: no-referrer`` means browsers send no Referer, also not with our own forms;
    # Flask-WTF's https Referer check would then refuse every form. The CSRF token and SameSite
    # cookies still stop forged requests.
    app.config["WTF_CSRF_SSL_STRICT"] = False
    proxies = int(app.config.get("PROXY_FIX") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies,
                                x_prefix=proxies)


#: No third-party origins at all: everything SurveyHub shows comes from itself.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                           "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
                           "form-action 'self'")


def _security_headers(response):
    from flask import current_app, request

    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # A personal link is a password: never hand it to another site in a Referer header.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.endpoint != "static":
        # Staff pages show names, links and answers, resident pages show answers: keep them out of
        # every cache (a shared computer's back button, a proxy). Static files cache as usual.
        response.headers["Cache-Control"] = "no-store"
    if current_app.config["BASE_URL"].startswith("https:"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def mailto_href(address: str | None, subject: str, body: str) -> str:
    """A ``mailto:`` link whose every part is percent-encoded.

    A crafted address such as ``a@b.nl?bcc=evil@x.nl`` stays one (invalid) address
    instead of adding a recipient for the personal link (RFC 6068).
    """
    from urllib.parse import quote

    return (f"mailto:{quote(address or '', safe='@')}?subject={quote(subject or '', safe='')}"
            f"&body={quote(body or '', safe='')}")


def _qr_svg(url: str, title: str):
    from surveyhub.web.participants import qr_svg
    return qr_svg(url, title)


def _register_globals(app: Flask) -> None:
    from flask_babel import get_locale, lazy_gettext as _l

    from surveyhub.rendering.formatting import long_date
    from surveyhub.i18n import current_language
    from surveyhub.measures.definition import translate

    wave_names = {"pre": _l("Pre wave (nulmeting)"), "post": _l("Post wave (eindmeting)"),
                  "followup": _l("Follow-up wave (vervolgmeting)")}
    statuses = {"draft": _l("not opened"), "open": _l("open"), "closed": _l("closed")}
    states = {"not_started": _l("not started"), "busy": _l("busy"), "done": _l("done")}
    roles = {"admin": _l("Admin"), "worker": _l("Community worker"), "funder": _l("Funder")}
    app.jinja_env.globals.update(
        wave_name=lambda kind: wave_names.get(kind, kind),
        wave_status_name=lambda status: statuses.get(status, status),
        role_name=lambda role: roles.get(role, role),
        translate=lambda text: translate(text, current_language()),
        get_locale=get_locale,
        participant_state=lambda state: states.get(state, state),
        qr_svg=_qr_svg,
        mailto_href=mailto_href,
        long_date=lambda moment: long_date(moment, current_language()),
    )


def _register_errors(app: Flask) -> None:
    from surveyhub.services.schema_state import DatabaseNotReady
    from surveyhub.web.api.problems import is_api_request, problem

    @app.errorhandler(404)
    @app.errorhandler(NotFound)
    def _not_found(_exc):
        if is_api_request():  # an unknown API path: a problem, not a page
            return problem(404, "not-found", "There is no such API route.")
        return render_template("errors/404.html"), 404

    @app.errorhandler(405)
    def _not_allowed(exc):
        if is_api_request():
            return problem(405, "method-not-allowed", "This route does not take this method.",
                           headers={"Allow": ", ".join(exc.valid_methods or ())})
        return exc

    @app.errorhandler(403)
    @app.errorhandler(Forbidden)
    def _forbidden(_exc):
        return render_template("errors/403.html"), 403

    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(429)
    def _too_many(_exc):
        return render_template("errors/429.html"), 429

    @app.errorhandler(413)
    def _too_large(_exc):
        if is_api_request():  # the body was refused before any API view ran
            return problem(413, "too-large", "The request body is larger than this installation takes.")
        return render_template("errors/413.html"), 413

    @app.errorhandler(DatabaseNotReady)
    def _not_ready(exc):
        if is_api_request():
            return problem(503, "unavailable", str(exc))
        return render_template("errors/not_ready.html", message=str(exc)), 503
