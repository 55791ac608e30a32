"""The logged-in user as Flask-Login sees it, the ``Actor`` services get, and the request's ``ServiceContext``.

Routes hand ``service_context()`` to services instead of letting them reach for Flask; a
project the context looked up (``ctx.project(slug, capability)``, also by ``requires``) is not
read again in the same request.
"""

from __future__ import annotations

from datetime import date
from functools import wraps

from flask import Flask, abort, current_app, g
from flask_login import UserMixin, current_user, login_required

from surveyhub.db import get_db, get_session
from surveyhub.extensions import login_manager
from surveyhub.i18n import current_language
from surveyhub.locale import local_today
from surveyhub.plugins import get_host, get_registry
from surveyhub.services import accounts
from surveyhub.services.access import FUNDER, MATRIX, Actor
from surveyhub.services.context import ServiceContext
from surveyhub.services.outcomes import Thresholds

#: What ``public`` records on a view instead of a capability.
PUBLIC = "public"


class LoginUser(UserMixin):
    def __init__(self, info: accounts.UserInfo):
        self.info = info
        self.id = info.id

    def get_id(self) -> str:
        """What the session cookie holds: the user and the session version it was made with."""
        return f"{self.info.id}:{self.info.session_version}"

    @property
    def role(self) -> str:
        return self.info.role


def current_actor() -> Actor:
    from flask import request

    info = current_user.info
    return Actor(organisation_id=info.organisation_id, role=info.role, user_id=info.id, email=info.email,
                 source=request.remote_addr)


def today() -> date:
    """Today on the installation's clock (``SURVEYHUB_TIMEZONE``), not the server's: they differ around
    midnight, and a report's period and a worker's "today" mean the installation's day."""
    return local_today(current_app.config["TIMEZONE"])


def service_context() -> ServiceContext:
    """This request's context, acting as the logged-in user (workers', admins' and funders' pages):
    built on first use, then the same for the rest of the request."""
    if "service_context" not in g:
        g.service_context = ServiceContext(
            session=get_session(), actor=current_actor(), registry=get_registry(), host=get_host(),
            thresholds=Thresholds.from_settings(current_app.config), base_url=current_app.config["BASE_URL"],
            lang=current_language(), timezone=current_app.config["TIMEZONE"])
    return g.service_context


def requires(capability: str):
    """Login required, and the user's role must hold ``capability`` (a key of ``access.MATRIX``).

    On a project's pages (a ``slug`` in the URL) the project is checked before the
    view runs: another organisation's project, one not shared with a funder, or a
    capability a funder lacks is a 404. Elsewhere a missing capability is a 403.
    The capability is kept on the view (``view.capability``) for the matrix test.
    """
    if capability not in MATRIX:
        raise ValueError(f"unknown capability {capability!r}")

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            actor = current_actor()
            if "slug" in kwargs:  # NotFound/Forbidden; the view's own ctx.project(slug, ...) reads it no more
                service_context().project(kwargs["slug"], capability)
            elif not actor.can(capability):
                abort(404 if actor.role == FUNDER and capability.startswith("project.") else 403)
            return view(*args, **kwargs)
        wrapped.capability = capability
        return wrapped
    return decorator


def _can(capability: str) -> bool:
    """For templates: may the logged-in user use ``capability``? Show only what leads somewhere."""
    return current_user.is_authenticated and current_actor().can(capability)


def public(view):
    """Mark a route as open to anyone, without login (resident links, verify, login)."""
    view.capability = PUBLIC
    return view


def init_app(app: Flask) -> None:
    from surveyhub.services.schema_state import ensure_ready

    public(app.view_functions["static"])
    app.jinja_env.globals["can"] = _can

    @login_manager.user_loader
    def _load(session_id: str):
        # A cookie from before a logout, password change or deactivation carries an older
        # version: it no longer logs anyone in, wherever it was copied to.
        ensure_ready(get_db(app))
        user_id, _sep, version = session_id.partition(":")
        if not (user_id.isdigit() and version.isdigit()):
            return None
        info = accounts.get_user(get_session(), int(user_id))
        return LoginUser(info) if info and info.session_version == int(version) else None

    @app.before_request
    def _database_ready():
        from flask import request
        if request.endpoint != "static":
            ensure_ready(get_db(app))
