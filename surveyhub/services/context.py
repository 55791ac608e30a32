"""What one request or one command resolves once and hands to every service it calls.

The web builds a ``ServiceContext`` per request (``surveyhub.web.session_user.service_context``), each
CLI command one per command (``surveyhub.cli.common.command_context``). Services read the
session, the actor, the instrument registry, the plugin host, the installation's thresholds,
the base URL and the language from it, instead of reaching for Flask; and a project named by
its slug is looked up once per context (``project``), however many steps of the command need it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from surveyhub.services import access
from surveyhub.services.errors import NotFound

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from surveyhub.measures.registry import InstrumentRegistry
    from surveyhub.models import Project
    from surveyhub.plugins import PluginHost
    from surveyhub.services.access import Actor
    from surveyhub.services.outcomes import Thresholds


@dataclass(frozen=True)
class ServiceContext:
    """The values every service call of one request or command shares (plain values, no Flask)."""

    session: Session
    actor: Actor
    registry: InstrumentRegistry
    #: The plugin host whose hooks add sections, exporters and events (None: no plugins).
    host: PluginHost | None
    #: The installation's small-number thresholds; the organisation's and the call's own come first.
    thresholds: Thresholds
    #: Where links in documents and e-mails point, e.g. ``https://surveyhub.example.org``.
    base_url: str
    #: ``"nl"`` or ``"en"``: documents and texts made for this request or command.
    lang: str = "nl"
    #: The installation's time zone (setting ``TIMEZONE``): where the days of a report's period begin.
    timezone: str = "UTC"
    #: Projects this context looked up, by slug (see ``project``).
    _projects: dict[str, Project] = field(default_factory=dict, repr=False, compare=False)

    def project(self, slug: str, capability: str) -> Project:
        """The actor's project ``slug`` when the actor may use ``capability`` on it (``access.project``).

        Looked up once per context; the capability is checked on every call.
        """
        found = self._projects.get(slug)
        if found is None:
            found = access.project(self.session, self.actor, slug, capability)
            self._projects[slug] = found
        else:
            access.check(self.actor, slug, capability)
        return found


def for_command(session: Session, *, registry: InstrumentRegistry, host: PluginHost | None, thresholds: Thresholds,
                base_url: str, lang: str = "nl", project_slug: str | None = None,
                org_id: int | None = None, timezone: str = "UTC") -> ServiceContext:
    """The command line's context: an admin of the organisation that owns ``project_slug`` (or ``org_id``).

    The project is read here, once; ``ServiceContext.project`` hands out the same row afterwards.
    """
    from sqlalchemy import select

    from surveyhub.models import Project

    project = None
    if project_slug is not None:
        project = session.scalar(select(Project).where(Project.slug == project_slug))
        if project is None:
            raise NotFound(f"no project {project_slug!r}")
        org_id = project.organisation_id
    return ServiceContext(session=session, actor=access.cli_actor(session, org_id=org_id), registry=registry,
                          host=host, thresholds=thresholds, base_url=base_url, lang=lang, timezone=timezone,
                          _projects={project.slug: project} if project is not None else {})
