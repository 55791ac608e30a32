"""Flask extensions shared by the web layer: CSRF, login, shared rate limits."""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from surveyhub.config import ConfigError
from surveyhub.services import throttle

#: The settings that hold a rate limit ("10 per minute").
RATE_SETTINGS = ("LOGIN_RATE_LIMIT", "LOGIN_ACCOUNT_RATE_LIMIT", "TOKEN_RATE_LIMIT", "ANONYMOUS_CODE_RATE_LIMIT",
                 "VERIFY_RATE_LIMIT", "SHORT_CODE_RATE_LIMIT", "SHORT_CODE_TOTAL_RATE_LIMIT",
                 "API_RATE_LIMIT", "API_AUTH_RATE_LIMIT")

csrf = CSRFProtect()
login_manager = LoginManager()


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # Flask-Login's own messages are English; shown on our pages, they speak the page's language.
    login_manager.login_message = _l("Please log in to access this page.")
    login_manager.needs_refresh_message = _l("To protect your account, please log in again to open this page.")
    login_manager.localize_callback = str  # the lazy text in the page's language, before it is flashed
    login_manager.session_protection = "strong"
    try:
        for setting in RATE_SETTINGS:  # a malformed limit stops the start, not a request later
            throttle.parse(app.config[setting])
        store = throttle.make_store(app.config.get("RATELIMIT_STORAGE_URI"), app.extensions["surveyhub.db"].engine)
    except throttle.RateError as exc:
        raise ConfigError(f"rate limits: {exc}") from exc
    app.extensions["surveyhub.throttle"] = throttle.Throttle(store, app.config["SECRET_KEY"])


def get_throttle() -> throttle.Throttle:
    """The app's rate limits (the store every worker process shares)."""
    return current_app.extensions["surveyhub.throttle"]


def rates(setting: str) -> list[throttle.Rate]:
    """The limits a setting holds, e.g. ``LOGIN_RATE_LIMIT``."""
    return throttle.parse(current_app.config[setting])
