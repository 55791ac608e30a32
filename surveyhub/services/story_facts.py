"""The people behind a certificate: the worker's name and job title, the organisation's contact, the resident's role.

A certificate a resident frames carries a real name under the signature line
("Sanne de Vries, Opbouwwerker"), how to reach the organisation, and what the
resident did in the project ("organiseerde de opening"). Workers set their
own name and job title on their account page, admins the contact line and
the certificate's orientation on the organisation's settings, workers the
resident's role on the resident's page. :func:`certificate_facts` hands all
of it, as plain values, to whoever builds a certificate.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.models import Organisation, Participant, Project, ProjectOutput, User
from surveyhub.services import access, audit
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Invalid, NotFound
from surveyhub.services.projects import refuse_if_archived
from surveyhub.text import clean

ORIENTATIONS = ("landscape", "portrait")
Orientation = Literal["landscape", "portrait"]


class OutputFact(TypedDict):
    date: str
    description: str


class CertificateFacts(TypedDict):
    worker_name: str | None
    job_title: str | None
    organisation_contact: str | None
    orientation: Orientation
    resident_role: str | None
    outputs: list[OutputFact]


class Profile(TypedDict):
    name: str | None
    job_title: str | None


class OrganisationFacts(TypedDict):
    contact: str | None
    orientation: Orientation


def _line(text: str | None) -> str | None:
    """One line of plain text, or None when empty."""
    return " ".join(clean(text or "").split()) or None


def _longer(value: str | None, limit: int) -> bool:
    return value is not None and len(value) > limit


# --- the resident's role -------------------------------------------------------------------------

def set_resident_role(session: Session, actor: Actor, slug: str, code: str, role: str | None) -> str | None:
    """What the resident did in the project, in the worker's words; empty clears it."""
    project = access.project(session, actor, slug, "project.residents")
    refuse_if_archived(project)
    participant = session.scalar(select(Participant).where(Participant.project_id == project.id,
                                                           Participant.code == code))
    if participant is None:
        raise NotFound(f"no resident {code!r} in project {slug!r}")
    value = _line(role)
    if _longer(value, 200):
        raise Invalid(N_("what the resident did can have at most 200 characters"))
    if participant.role != value:
        participant.role = value
        audit.record(session, "project.update", actor=actor, project_id=project.id,
                     target=f"project:{project.slug}/{participant.code}", details={"change": "resident.role"})
    session.flush()
    return value


def resident_role(session: Session, actor: Actor, slug: str, code: str) -> str | None:
    project = access.project(session, actor, slug, "project.residents")
    return session.scalar(select(Participant.role).where(Participant.project_id == project.id,
                                                         Participant.code == code))


# --- the worker's own name and job title -----------------------------------------------------------

def profile(session: Session, user_id: int) -> Profile:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return {"name": user.name, "job_title": user.job_title}


def set_profile(session: Session, user_id: int, name: str | None, job_title: str | None,
                source: str | None = None) -> Profile:
    """A user's own name and job title, as certificates print them under the signature line."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    new_name, new_title = _line(name), _line(job_title)
    if _longer(new_name, 200):
        raise Invalid(N_("a name can have at most 200 characters"))
    if _longer(new_title, 200):
        raise Invalid(N_("a job title can have at most 200 characters"))
    if (user.name, user.job_title) != (new_name, new_title):
        user.name, user.job_title = new_name, new_title
        audit.record(session, "user.profile", organisation_id=user.organisation_id, user_id=user.id,
                     who=user.email, source=source, target=f"user:{user.email}")
    session.flush()
    return {"name": new_name, "job_title": new_title}


# --- the organisation's contact line and certificate orientation ----------------------------------

def organisation_facts(session: Session, actor: Actor) -> OrganisationFacts:
    access.require(actor, "org.manage")
    org = access.organisation(session, actor)
    return {"contact": org.contact, "orientation": _orientation(org)}


def set_organisation_facts(session: Session, actor: Actor, contact: str | None,
                           orientation: str) -> OrganisationFacts:
    """The contact line printed on certificates, and whether they are landscape or portrait (admins only)."""
    access.require(actor, "org.manage")
    org = access.organisation(session, actor)
    if orientation not in ORIENTATIONS:
        raise Invalid(N_("a certificate is landscape or portrait"))
    value = _line(contact)
    if _longer(value, 300):
        raise Invalid(N_("the contact line can have at most 300 characters"))
    if (org.contact, org.certificate_orientation) != (value, orientation):
        org.contact, org.certificate_orientation = value, orientation
        audit.record(session, "organisation.settings", actor=actor, target=f"organisation:{org.slug}",
                     details={"change": "certificate"})
    session.flush()
    return {"contact": value, "orientation": _orientation(org)}


def _orientation(org: Organisation) -> Orientation:
    return "portrait" if org.certificate_orientation == "portrait" else "landscape"


# --- for the certificate ---------------------------------------------------------------------------

def certificate_facts(session: Session, project_id: int, participant_id: int,
                      issuer_user_id: int | None) -> CertificateFacts:
    """What a certificate says about the people behind it, for a resident of a project.

    Called by the certificate's context builder after it checked the actor's access to the
    project; the issuer must belong to the project's organisation, else no name is printed.
    """
    project = session.get(Project, project_id)
    participant = session.get(Participant, participant_id)
    if project is None or participant is None or participant.project_id != project.id:
        raise NotFound("no such resident in this project")
    org = session.get(Organisation, project.organisation_id)
    assert org is not None
    issuer = session.get(User, issuer_user_id) if issuer_user_id is not None else None
    if issuer is not None and issuer.organisation_id != org.id:
        issuer = None
    outputs = session.execute(select(ProjectOutput.happened_on, ProjectOutput.description)
                              .where(ProjectOutput.project_id == project.id)
                              .order_by(ProjectOutput.happened_on, ProjectOutput.id))
    return {"worker_name": (issuer.name or None) if issuer else None,
            "job_title": (issuer.job_title or None) if issuer else None,
            "organisation_contact": org.contact, "orientation": _orientation(org),
            "resident_role": participant.role,
            "outputs": [{"date": day.isoformat(), "description": text} for day, text in outputs]}
