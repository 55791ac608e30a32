"""The project form's choices and figures: form length, question mode, residents' first language,
dates, and the questions and minutes per wave the form shows before anything is saved.

``services.projects`` applies a ``Setup`` when it creates or changes a project.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import EllipsisType

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyhub.measures.registry import InstrumentRegistry
from surveyhub.models import BadgeCredential, Organisation, Project
from surveyhub.services import access, instruments
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Conflict, Invalid

FORM_LENGTHS = ("full", "short")
QUESTION_MODES = ("page", "one")
#: Languages a project may show residents first (the interface speaks them all).
PROJECT_LANGUAGES = ("nl", "en", "tr", "ar", "pl")


@dataclass(frozen=True)
class Setup:
    """How residents meet the questionnaire; ``...`` (the default) keeps what a project has."""

    form_length: str | EllipsisType = ...
    question_mode: str | EllipsisType = ...
    language: str | EllipsisType = ...
    period: tuple[date | None, date | None] | EllipsisType = ...


#: A ``Setup`` that keeps everything as it is (the default for callers that set none of it).
KEEP = Setup()


def apply_setup(project: Project, setup: Setup, *, answered: bool) -> None:
    """Check and apply ``setup``; the form length is fixed once residents ``answered`` (scores must compare)."""
    if setup.form_length is not ... and setup.form_length != project.form_length:
        if setup.form_length not in FORM_LENGTHS:
            raise Invalid(N_("choose the full or the short questionnaire"))
        if answered:
            raise Conflict(N_("residents have already answered, so the length of the questionnaire can no longer "
                              "change: scores of a short and a full questionnaire cannot be compared"))
        project.form_length = setup.form_length
    if setup.question_mode is not ...:
        if setup.question_mode not in QUESTION_MODES:
            raise Invalid(N_("choose a page of questions or one question per screen"))
        project.question_mode = setup.question_mode
    if setup.language is not ...:
        if setup.language not in PROJECT_LANGUAGES:
            raise Invalid(N_("choose a language from the list"))
        project.language = setup.language
    if setup.period is not ...:
        start, end = setup.period
        if start and end and end < start:
            raise Invalid(N_("the project's end date comes before its start date; change one of them"))
        project.period_start, project.period_end = start, end


def check_language(project: Project) -> None:
    """Residents' first language must be one every chosen instrument is written in (Dutch always is)."""
    if project.language == "nl":
        return
    missing = [pi.instrument_id for pi in project.instruments
               if project.language not in ((pi.snapshot.definition.get("languages") if pi.snapshot else None)
                                           or ["nl"])]
    if missing:
        raise Invalid(N_("not every chosen instrument is written in this language (%(ids)s); "
                         "choose Dutch or another language"), ids=", ".join(missing))



def planned_totals(session: Session, registry: InstrumentRegistry, actor: Actor, refs: list[str],
                   form_length: str, retrospective: bool, slug: str | None = None) -> list:
    """Questions and minutes per wave for the instruments chosen in a form (before it is saved).

    With ``slug``: the project's extra questions count too, each in the waves that ask it.
    Unknown references are left out; the form says so when it is saved.
    """
    from surveyhub.measures.definition import in_form

    definitions = []
    for ref in refs:
        name, version = instruments.parse_ref(ref)
        found = instruments.definition_for(session, registry, actor.organisation_id, name, version) \
            if version is not None else None
        if found is not None:
            definitions.append(in_form(found[0], form_length))
    extra = _extra(session, actor, slug)
    return instruments.wave_totals(definitions, extra, retrospective)


def _extra(session: Session, actor: Actor, slug: str | None) -> list[tuple[dict, list | None]]:
    if slug is None:
        return []
    project = access.project(session, actor, slug, "project.setup")
    return [(q.definition, q.waves) for q in project.questions]


def extra_figures(session: Session, actor: Actor, slug: str | None) -> dict[str, list[int]]:
    """Per wave: questions and seconds of the project's extra questions (for the form's live sum)."""
    return instruments.extra_figures(_extra(session, actor, slug))


def organisation_retention(session: Session, actor: Actor, installation_default: int) -> int:
    """The months a project without its own period keeps personal data."""
    org = session.get(Organisation, actor.organisation_id)
    return org.retention_months if org is not None and org.retention_months else installation_default


@dataclass(frozen=True)
class BadgeCount:
    """Open Badges of one project: how many were given, and how many of those were withdrawn since."""

    issued: int
    revoked: int


def badge_count(session: Session, project: Project) -> BadgeCount:
    """The figures the project's badge page shows beside its rule (``services.badges`` issues them)."""
    issued, revoked = session.execute(
        select(func.count(BadgeCredential.id), func.count(BadgeCredential.revoked_at))
        .where(BadgeCredential.project_id == project.id)).one()
    return BadgeCount(issued=int(issued), revoked=int(revoked))
