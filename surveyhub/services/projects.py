"""Projects: create, edit, list, and open or close their waves."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from datetime import date
from types import EllipsisType
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyhub.measures.registry import InstrumentRegistry
from surveyhub.models import (Participant, Project, ProjectInstrument, ProjectShare, Response, User, WAVE_KINDS,
                              Wave)
from surveyhub.models._types import utcnow
from surveyhub.services import access, audit, instruments, webhooks
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Conflict, Invalid
from surveyhub.services.project_form import (FORM_LENGTHS, KEEP, PROJECT_LANGUAGES, QUESTION_MODES,  # noqa: F401
                                              Setup, apply_setup, check_language)
from surveyhub.services.slugs import unique_slug
from surveyhub.text import clean


@dataclass(frozen=True)
class WaveInfo:
    kind: str
    status: str
    started: int = 0
    completed: int = 0


@dataclass(frozen=True)
class ProjectInfo:
    slug: str
    name: str
    description: str | None
    retrospective: bool
    #: None for readers who may not see residents' links (funders).
    anonymous_token: str | None
    instruments: list[str]
    waves: list[WaveInfo] = field(default_factory=list)
    participants: int = 0
    #: The project's own retention period in months; None = the organisation's or the installation's.
    retention_months: int | None = None
    archived: bool = False
    purged: bool = False
    #: "full" or "short" (each scale's short form), "page" or "one" (question per screen), residents' first language.
    form_length: str = "full"
    question_mode: str = "page"
    language: str = "nl"
    period_start: date | None = None
    period_end: date | None = None


def _info(session: Session, project: Project, show_link: bool = True) -> ProjectInfo:
    """Plain values of a project; ``show_link=False`` leaves out the anonymous link (for funders)."""
    counts = dict(session.execute(
        select(Response.wave_id, func.count()).where(Response.wave_id.in_([w.id for w in project.waves]))
        .group_by(Response.wave_id)).all())
    done = dict(session.execute(
        select(Response.wave_id, func.count()).where(Response.wave_id.in_([w.id for w in project.waves]),
                                                     Response.status == "completed")
        .group_by(Response.wave_id)).all())
    waves = [WaveInfo(w.kind, w.status, counts.get(w.id, 0), done.get(w.id, 0))
             for w in sorted(project.waves, key=lambda w: WAVE_KINDS.index(w.kind))]
    n_participants = session.scalar(select(func.count()).select_from(Participant)
                                    .where(Participant.project_id == project.id)) or 0
    return ProjectInfo(project.slug, project.name, project.description, project.retrospective,
                       project.anonymous_token if show_link else None,
                       [f"{pi.instrument_id}@{pi.version}" for pi in project.instruments],
                       waves, n_participants, project.retention_months, project.archived_at is not None,
                       project.purged_at is not None, project.form_length, project.question_mode, project.language,
                       project.period_start, project.period_end)


#: Longest retention period a project may set (ten years).
MAX_RETENTION_MONTHS = 120


def check_retention(months: int | None) -> int | None:
    if months is not None and (isinstance(months, bool) or not isinstance(months, int)
                               or not 1 <= months <= MAX_RETENTION_MONTHS):
        raise Invalid(N_("the retention period must be between 1 and %(max)s months"), max=MAX_RETENTION_MONTHS)
    return months


def refuse_if_archived(project: Project) -> None:
    """Archived projects and projects whose personal data was purged are read-only."""
    if project.purged_at is not None:
        raise Conflict(N_("the personal data of this project was removed after its retention period; "
                          "it can no longer change"))
    if project.archived_at is not None:
        raise Conflict(N_("this project is archived; an admin can restore it first"))


def _clean_name(name: str) -> str:
    name = " ".join(clean(name or "").split())
    if not name:
        raise Invalid(N_("a project needs a name"))
    if len(name) > 200:
        raise Invalid(N_("a project name can have at most 200 characters"))
    return name


def create_project(session: Session, registry: InstrumentRegistry, actor: Actor, name: str,
                   instrument_refs: list[str], retrospective: bool = False,
                   description: str | None = None, *, retention_months: int | None = None,
                   setup: Setup = KEEP) -> ProjectInfo:
    """A new project with its pre wave open and post and follow-up waves in draft."""
    access.require(actor, "project.setup")
    name = _clean_name(name)
    if not instrument_refs:
        raise Invalid(N_("choose at least one instrument"))
    slug = unique_slug(name, lambda s: session.scalar(select(Project.id).where(Project.slug == s)))
    project = Project(organisation_id=actor.organisation_id, slug=slug, name=name,
                      description=clean(description or "").strip() or None, retrospective=retrospective,
                      anonymous_token=secrets.token_urlsafe(24), created_by_id=actor.user_id,
                      retention_months=check_retention(retention_months))
    apply_setup(project, setup, answered=False)
    session.add(project)
    _set_instruments(session, registry, actor, project, instrument_refs)
    session.flush()
    check_language(project)
    now = utcnow()
    project.waves = [Wave(kind="pre", status="open", opened_at=now), Wave(kind="post", status="draft"),
                     Wave(kind="followup", status="draft")]
    session.flush()
    audit.record(session, "project.create", actor=actor, target=f"project:{slug}", project_id=project.id,
                 details={"instruments": instrument_refs})
    return _info(session, project)


def _set_instruments(session, registry, actor, project, refs: list[str]) -> None:
    seen = set()
    pinned = []
    for position, ref in enumerate(refs):
        stored = instruments.snapshot(session, registry, actor.organisation_id, ref)
        if stored.instrument_id in seen:
            raise Invalid(N_("instrument %(id)r is chosen twice"), id=stored.instrument_id)
        seen.add(stored.instrument_id)
        pinned.append(ProjectInstrument(position=position, instrument_id=stored.instrument_id,
                                        version=stored.version, instrument_version_id=stored.id))
    project.instruments = pinned


def has_responses(session: Session, project: Project) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Response).join(Wave)
                               .where(Wave.project_id == project.id)))


def update_project(session: Session, registry: InstrumentRegistry, actor: Actor, slug: str, name: str,
                   description: str | None, retrospective: bool, instrument_refs: list[str], *,
                   retention_months: int | None | EllipsisType = ..., setup: Setup = KEEP) -> ProjectInfo:
    """Change a project; ``retention_months`` left out keeps the current period, None uses the default."""
    project = access.project(session, actor, slug, "project.setup")
    refuse_if_archived(project)
    apply_setup(project, setup, answered=setup.form_length is not ... and has_responses(session, project))
    if retention_months is not ...:
        project.retention_months = check_retention(retention_months)
    project.name = _clean_name(name)
    project.description = clean(description or "").strip() or None
    project.retrospective = retrospective
    current = [f"{pi.instrument_id}@{pi.version}" for pi in project.instruments]
    wanted = [r if "@" in r else _latest_ref(session, registry, actor, r) for r in instrument_refs]
    # The form lists instruments by name, not in the questionnaire's order: keep the order the worker
    # set (moving instruments up and down) and add newly chosen ones at the end.
    wanted = [ref for ref in current if ref in wanted] + [ref for ref in wanted if ref not in current]
    if wanted != current:
        if has_responses(session, project):
            raise Conflict(N_("the questionnaire cannot change once residents have answered; start a new project"))
        if not wanted:
            raise Invalid(N_("choose at least one instrument"))
        project.instruments.clear()
        session.flush()
        _set_instruments(session, registry, actor, project, wanted)
        _questionnaire_edited(session, actor, project, "instruments", instruments=wanted)
    session.flush()
    check_language(project)
    audit.record(session, "project.update", actor=actor, target=f"project:{slug}", project_id=project.id)
    return _info(session, project)


def _latest_ref(session, registry, actor, instrument_id: str) -> str:
    stored = instruments.snapshot(session, registry, actor.organisation_id, instrument_id)
    return f"{stored.instrument_id}@{stored.version}"


def list_projects(session: Session, actor: Actor) -> list[ProjectInfo]:
    projects = session.scalars(access.projects_query(actor).where(Project.archived_at.is_(None))
                               .order_by(Project.created_at.desc()))
    return [_info(session, p, actor.can("project.residents")) for p in projects]


def get_project(session: Session, actor: Actor, slug: str) -> ProjectInfo:
    return _info(session, access.project(session, actor, slug, "project.list"), actor.can("project.residents"))


def set_wave_status(session: Session, actor: Actor, slug: str, kind: str, status: str) -> WaveInfo:
    """Open or close a wave; answers already saved in a closed wave are kept."""
    if kind not in WAVE_KINDS:
        raise Invalid(N_("unknown wave %(wave)r (choose pre, post or followup)"), wave=kind)
    if status not in ("open", "closed"):
        raise Invalid(N_("unknown wave status %(status)r"), status=status)
    project = access.project(session, actor, slug, "project.setup")
    wave = next(w for w in project.waves if w.kind == kind)
    if wave.status != status:
        refuse_if_archived(project)
        wave.status = status
        if status == "open":
            wave.opened_at = utcnow()
        else:
            wave.closed_at = utcnow()
        audit.record(session, "wave.open" if status == "open" else "wave.close", actor=actor,
                     target=f"project:{slug}/{kind}", project_id=project.id, details={"wave": kind})
        webhooks.emit(session, project.organisation_id, "wave.opened" if status == "open" else "wave.closed",
                      {"project": slug, "wave": kind, "by": webhooks.by_whom(actor), "via": webhooks.via(actor)})
    session.flush()
    return WaveInfo(wave.kind, wave.status)


QUESTION_TYPES = ("text", "number", "yes_no", "choice", "choices")
#: Options a worker's own choice question may have, and their longest text.
MAX_OPTIONS, MAX_OPTION_LENGTH = 12, 120


def _editable(session: Session, actor: Actor, slug: str) -> Project:
    project = access.project(session, actor, slug, "project.setup")
    refuse_if_archived(project)
    if has_responses(session, project):
        raise Conflict(N_("the questionnaire cannot change once residents have answered"))
    return project


def move_instrument(session: Session, actor: Actor, slug: str, instrument_id: str, step: int) -> None:
    """Move an instrument one place up (step -1) or down (+1) in the questionnaire."""
    project = _editable(session, actor, slug)
    order = [pi.instrument_id for pi in project.instruments]
    if instrument_id not in order:
        raise Invalid(N_("instrument %(id)r is not in this project"), id=instrument_id)
    i = order.index(instrument_id)
    j = min(max(i + step, 0), len(order) - 1)
    order[i], order[j] = order[j], order[i]
    for pinned in project.instruments:
        pinned.position = order.index(pinned.instrument_id)
    if i != j:
        _questionnaire_edited(session, actor, project, "move", instrument=instrument_id, position=j + 1)
    session.flush()
    session.expire(project, ["instruments"])


def _questionnaire_edited(session: Session, actor: Actor, project: Project, change: str, **details) -> None:
    """One ``questionnaire.edit`` event: what changed, never the wording residents will answer to."""
    audit.record(session, "questionnaire.edit", actor=actor, target=f"project:{project.slug}",
                 project_id=project.id, details={"change": change, **details})


class BadOptions(Invalid):
    """The answers of a choice question are not usable (the form shows this beside the answers)."""


def _options(options: list[str] | None) -> list[dict]:
    """A worker's own answer options as an answer set (values 1, 2, ...; Dutch labels)."""
    texts = [" ".join(clean(o or "").split()) for o in options or []]
    texts = [t for t in texts if t]
    if len(texts) < 2:
        raise BadOptions(N_("a choice question needs at least two answers: write one answer per line"))
    if len(texts) > MAX_OPTIONS:
        raise BadOptions(N_("a choice question can have at most %(n)s answers"), n=MAX_OPTIONS)
    if any(len(t) > MAX_OPTION_LENGTH or ";" in t for t in texts):
        raise BadOptions(N_("an answer can have at most %(n)s characters and no semicolon (;)"), n=MAX_OPTION_LENGTH)
    if len({t.lower() for t in texts}) != len(texts):
        raise BadOptions(N_("two answers are the same; give each answer its own words"))
    return [{"value": n, "label": {"nl": text}} for n, text in enumerate(texts, start=1)]


def _waves(waves: list[str] | None) -> list[str] | None:
    """The wave kinds that ask a question, in wave order; None (every wave) when all or none are chosen."""
    chosen = [kind for kind in WAVE_KINDS if kind in (waves or [])]
    if any(kind not in WAVE_KINDS for kind in waves or []):
        raise Invalid(N_("unknown wave %(wave)r (choose pre, post or followup)"),
                      wave=next(k for k in waves or [] if k not in WAVE_KINDS))
    return None if not chosen or len(chosen) == len(WAVE_KINDS) else chosen


def add_question(session: Session, actor: Actor, slug: str, qtype: str, text_nl: str, text_en: str | None,
                 minimum: float | None = None, maximum: float | None = None, *,
                 options: list[str] | None = None, waves: list[str] | None = None) -> str:
    """Add an unscored extra question at the end; returns its id.

    ``options`` (one text each) for "choice" and "choices"; ``waves`` the wave kinds
    that ask it (empty or all: every wave).
    """
    from surveyhub.models import ProjectQuestion

    project = _editable(session, actor, slug)
    if qtype not in QUESTION_TYPES:
        raise Invalid(N_("unknown question type %(type)r"), type=qtype)
    text_nl = " ".join(clean(text_nl or "").split())
    if not text_nl or len(text_nl) > 500:
        raise Invalid(N_("a question needs a Dutch text of at most 500 characters"))
    definition: dict[str, Any] = {"id": "", "type": qtype, "text": {"nl": text_nl}}
    if text_en and text_en.strip():
        definition["text"]["en"] = " ".join(clean(text_en).split())[:500]
    if qtype == "number":
        if minimum is None or maximum is None or not (math.isfinite(minimum) and math.isfinite(maximum)) \
                or minimum >= maximum:
            raise Invalid(N_("a number question needs a minimum below its maximum"))
        definition.update({"min": minimum, "max": maximum})
    if qtype in ("choice", "choices"):
        definition.update({"answer_set": "options", "answer_sets": {"options": _options(options)}})
    asked_in = _waves(waves)
    taken = {q.question_id for q in project.questions}
    qid = next(f"q{n}" for n in range(1, 10_000) if f"q{n}" not in taken)
    definition["id"] = qid
    project.questions.append(ProjectQuestion(position=len(project.questions), question_id=qid,
                                             definition=definition, waves=asked_in))
    _questionnaire_edited(session, actor, project, "add_question", question=qid, type=qtype,
                          waves=asked_in or list(WAVE_KINDS))
    session.flush()
    return qid


def remove_question(session: Session, actor: Actor, slug: str, question_id: str) -> None:
    project = _editable(session, actor, slug)
    kept = [q for q in project.questions if q.question_id != question_id]
    if len(kept) != len(project.questions):
        project.questions = kept
        _questionnaire_edited(session, actor, project, "remove_question", question=question_id)
    session.flush()


@dataclass(frozen=True)
class FunderShare:
    user_id: int
    email: str
    name: str | None
    shared: bool


def funder_shares(session: Session, actor: Actor, slug: str) -> list[FunderShare]:
    """Every active funder of the actor's organisation, and whether this project is shared with them."""
    project = access.project(session, actor, slug, "project.setup")
    shared = set(session.scalars(select(ProjectShare.user_id).where(ProjectShare.project_id == project.id)))
    funders = session.scalars(select(User).where(User.organisation_id == actor.organisation_id,
                                                 User.role == access.FUNDER).order_by(User.email))
    return [FunderShare(u.id, u.email, u.name, u.id in shared) for u in funders if u.active or u.id in shared]


def set_share(session: Session, actor: Actor, slug: str, funder_email: str, shared: bool) -> bool:
    """Share the project with a funder of the same organisation, or stop sharing; True when it changed."""
    project = access.project(session, actor, slug, "project.setup")
    funder = session.scalar(select(User).where(User.email == (funder_email or "").strip().lower(),
                                               User.organisation_id == actor.organisation_id))
    if funder is None or funder.role != access.FUNDER:
        raise Invalid(N_("%(email)r is not a funder of this organisation"), email=funder_email)
    existing = session.scalar(select(ProjectShare).where(ProjectShare.project_id == project.id,
                                                         ProjectShare.user_id == funder.id))
    if shared == (existing is not None):
        return False
    if shared:
        session.add(ProjectShare(project_id=project.id, user_id=funder.id, created_by_id=actor.user_id))
    else:
        session.delete(existing)
    session.flush()
    audit.record(session, "project.share" if shared else "project.unshare", actor=actor,
                 target=f"project:{slug}", project_id=project.id, details={"funder": funder.email})
    return True
