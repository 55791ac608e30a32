"""SurveyHub: pre/post questionnaires, competence scores and impact documents.

``create_app`` builds the Flask app; ``hookimpl`` marks plugin hook
implementations (see ``surveyhub/hookspecs.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from surveyhub.hookspecs import hookimpl

__all__ = ["create_app", "hookimpl"]


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings, extensions, plugins, blueprints."""
    from surveyhub import config, db, extensions, i18n, plugins, queue
    from surveyhub.services import accounts
    from surveyhub.web import register_blueprints
    from surveyhub.cli import register_commands

    instance_path = Path((test_config or {}).get("INSTANCE_PATH")
                         or os.environ.get("SURVEYHUB_INSTANCE_PATH")
                         or config.project_root() / "instance").resolve()
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=True,
                template_folder="web/templates", static_folder="web/static")
    config.ensure_instance(instance_path)
    settings = config.load_settings(instance_path)
    settings.update({k: v for k, v in (test_config or {}).items() if k != "INSTANCE_PATH"})
    settings = config.resolve_paths(settings, instance_path)
    settings["SECRET_KEY"] = config.secret_key(settings, instance_path)
    app.config.update(settings)
    # Flask's own defaults already hold most of these keys, so ``setdefault`` would never apply ours.
    for key, value in {"MAX_CONTENT_LENGTH": settings["MAX_UPLOAD_BYTES"], "SESSION_COOKIE_HTTPONLY": True,
                       "SESSION_COOKIE_SAMESITE": "Lax", "WTF_CSRF_TIME_LIMIT": None}.items():
        if key not in settings:
            app.config[key] = value

    accounts.configure_hashing(testing=app.testing)
    db.init_app(app)
    extensions.init_app(app)
    i18n.init_app(app)
    plugins.init_app(app)  # the plugin host and the instrument registry
    queue.init_app(app)  # background jobs (Huey)
    register_blueprints(app)
    register_commands(app)
    return app
