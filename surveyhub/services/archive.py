"""Archiving and deleting projects (admins only).

An archived project is read-only: it takes no new answers or residents and no
changes, and it leaves the active project list; restoring it undoes all that.
Deleting removes the project and everything in it, after the admin typed the
project's name; the audit trail keeps that it happened (by project id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from surveyhub.models import (Answer, Consent, Document, Participant, Project, ProjectShare, Response, ScaleScore,
                              Token)
from surveyhub.models._types import utcnow
from surveyhub.services import access, audit
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Forbidden, Invalid, NotFound


@dataclass(frozen=True)
class ProjectRow:
    slug: str
    name: str
    residents: int
    archived_at: datetime | None
    purged_at: datetime | None


def list_projects(session: Session, actor: Actor) -> list[ProjectRow]:
    """Every project of the organisation, archived ones included, archived last."""
    access.require(actor, "org.manage")
    counts = dict(session.execute(select(Participant.project_id, func.count()).group_by(Participant.project_id)
                                  .join(Project, Project.id == Participant.project_id)
                                  .where(Project.organisation_id == actor.organisation_id)).all())
    found = session.scalars(select(Project).where(Project.organisation_id == actor.organisation_id)
                            .order_by(Project.archived_at.is_not(None), Project.name))
    return [ProjectRow(p.slug, p.name, counts.get(p.id, 0), p.archived_at, p.purged_at) for p in found]


def set_archived(session: Session, actor: Actor, slug: str, archived: bool) -> bool:
    """Archive or restore a project; True when it changed."""
    project = access.project(session, actor, slug, "org.manage")
    if (project.archived_at is not None) == archived:
        return False
    project.archived_at = utcnow() if archived else None
    audit.record(session, "project.archive", actor=actor, target=f"project:{slug}", project_id=project.id,
                 details={"archived": archived})
    session.flush()
    return True


def read_only(session: Session, actor: Actor, slug: str) -> str | None:
    """"archived" or "purged" when the actor's project takes no changes; None otherwise, and for a
    project the actor may not see (its pages answer 404 as usual)."""
    try:
        project = access.project(session, actor, slug, "project.list")
    except (NotFound, Forbidden):
        return None
    return "purged" if project.purged_at is not None else "archived" if project.archived_at is not None else None


def delete_project(session: Session, actor: Actor, slug: str, typed_name: str) -> None:
    """Delete a project and everything in it, once ``typed_name`` is exactly the project's name."""
    project = access.project(session, actor, slug, "org.manage")
    if " ".join((typed_name or "").split()) != project.name:
        raise Invalid(N_("type the project's name exactly to delete it"))
    counts = {"residents": session.scalar(select(func.count()).select_from(Participant)
                                          .where(Participant.project_id == project.id)) or 0}
    participants = select(Participant.id).where(Participant.project_id == project.id)
    responses = select(Response.id).where(Response.participant_id.in_(participants))
    # Children first, so neither backend depends on ON DELETE CASCADE being enforced.
    for model, condition in ((ScaleScore, ScaleScore.response_id.in_(responses)),
                             (Answer, Answer.response_id.in_(responses)),
                             (Response, Response.participant_id.in_(participants)),
                             (Consent, Consent.participant_id.in_(participants)),
                             (Token, Token.participant_id.in_(participants)),
                             (Document, Document.project_id == project.id),
                             (Participant, Participant.project_id == project.id),
                             (ProjectShare, ProjectShare.project_id == project.id)):
        session.execute(delete(model).where(condition), execution_options={"synchronize_session": False})
    audit.record(session, "project.delete", actor=actor, target=f"project:{slug}", project_id=project.id,
                 details=counts)
    session.delete(project)
    session.flush()
