"""The request's ServiceContext: built on first use, then the same for the rest of the request.

Routes hand ``service_context()`` to services instead of letting them reach for Flask; a
project the context looked up (``ctx.project(slug, capability)``) is not read again in the
same request.
"""

from __future__ import annotations

from flask import current_app, g

from surveyhub.db import get_session
from surveyhub.i18n import current_language
from surveyhub.plugins import get_host, get_registry
from surveyhub.services.context import ServiceContext
from surveyhub.services.outcomes import Thresholds
from surveyhub.web.session_user import current_actor


def service_context() -> ServiceContext:
    """This request's context, acting as the logged-in user (workers', admins' and funders' pages)."""
    if "service_context" not in g:
        g.service_context = ServiceContext(
            session=get_session(), actor=current_actor(), registry=get_registry(), host=get_host(),
            thresholds=Thresholds.from_settings(current_app.config), base_url=current_app.config["BASE_URL"],
            lang=current_language())
    return g.service_context
