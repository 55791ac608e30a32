"""The logged-in user as Flask-Login sees it, and the ``Actor`` services get."""

from __future__ import annotations

from functools import wraps

from flask import Flask, abort
from flask_login import UserMixin, current_user, login_required

from surveyhub.db import get_session
from surveyhub.extensions import login_manager
from surveyhub.services import accounts
from surveyhub.services.access import Actor


class LoginUser(UserMixin):
    def __init__(self, info: accounts.UserInfo):
        self.info = info
        self.id = info.id

    @property
    def role(self) -> str:
        return self.info.role


def current_actor() -> Actor:
    from flask import request

    info = current_user.info
    return Actor(organisation_id=info.organisation_id, role=info.role, user_id=info.id, email=info.email,
                 source=request.remote_addr)


def requires(permission: str):
    """Login required, and the user's role must carry ``permission``."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_actor().can(permission):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def init_app(app: Flask) -> None:
    from surveyhub.services.schema_state import ensure_ready

    @login_manager.user_loader
    def _load(user_id: str):
        ensure_ready(app)
        info = accounts.get_user(get_session(), int(user_id))
        return LoginUser(info) if info else None

    @app.before_request
    def _database_ready():
        from flask import request
        if request.endpoint != "static":
            ensure_ready(app)
