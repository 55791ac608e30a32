"""Instrument versions in the database: snapshots that projects pin, and organisation uploads.

A version in use never changes: a definition whose content differs from the
stored snapshot under the same id and version is refused with a message to
raise the version. Responses always score with their project's snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.measures.definition import InstrumentError, definition_digest, normalise
from surveyhub.measures.yaml_loader import load_yaml_text
from surveyhub.measures.registry import InstrumentRegistry
from surveyhub.models import InstrumentVersion
from surveyhub.services import audit
from surveyhub.services.access import Actor, require
from surveyhub.services.errors import N_, Conflict, Invalid, NotFound

UPLOAD_SCOPE_PREFIX = "org:"


@dataclass(frozen=True)
class Available:
    id: str
    version: int
    title: dict
    source: str
    scope: str  # "*" or "org:<id>"


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``organising`` or ``organising@2``."""
    name, _, version = ref.strip().partition("@")
    if version and not version.isdigit():
        raise Invalid(N_("bad instrument reference %(ref)r: the version after @ must be a number"), ref=ref)
    return name, int(version) if version else None


def _uploaded(session: Session, organisation_id: int, instrument_id: str, version: int | None):
    query = select(InstrumentVersion).where(InstrumentVersion.scope == f"{UPLOAD_SCOPE_PREFIX}{organisation_id}",
                                            InstrumentVersion.instrument_id == instrument_id)
    if version is not None:
        query = query.where(InstrumentVersion.version == version)
    return session.scalars(query.order_by(InstrumentVersion.version.desc())).first()


def retired(session: Session, registry: InstrumentRegistry, organisation_id: int) -> list[InstrumentVersion]:
    """Installed versions no longer installed (version 1 of the shipped five) that the organisation's projects
    still pin: their stored snapshots keep serving those projects, their edit form and the admin pages."""
    from surveyhub.models import Project, ProjectInstrument

    # A subquery, not DISTINCT: PostgreSQL cannot compare the JSON definition column.
    pinned = session.scalars(select(InstrumentVersion).where(
        InstrumentVersion.scope == "*", InstrumentVersion.id.in_(
            select(ProjectInstrument.instrument_version_id).join(Project)
            .where(Project.organisation_id == organisation_id))).order_by(InstrumentVersion.id))
    return [v for v in pinned if registry.get(v.instrument_id, v.version) is None]


def snapshot(session: Session, registry: InstrumentRegistry, organisation_id: int, ref: str) -> InstrumentVersion:
    """The stored snapshot for ``id[@version]``, created from the registry on first use."""
    instrument_id, version = parse_ref(ref)
    uploaded = _uploaded(session, organisation_id, instrument_id, version)
    if uploaded is not None:
        return uploaded
    loaded = registry.get(instrument_id, version)
    kept = [v for v in retired(session, registry, organisation_id)
            if (v.instrument_id, v.version) == (instrument_id, version)] if loaded is None and version else []
    if kept:
        return kept[0]
    if loaded is None:
        wanted = f"{instrument_id}@{version}" if version else instrument_id
        raise NotFound(f"no instrument {wanted!r}; see `surveyhub instruments list`")
    stored = session.scalar(select(InstrumentVersion).where(
        InstrumentVersion.scope == "*", InstrumentVersion.instrument_id == loaded.id,
        InstrumentVersion.version == loaded.version))
    if stored is None:
        stored = InstrumentVersion(scope="*", instrument_id=loaded.id, version=loaded.version,
                                   digest=loaded.digest, definition=loaded.definition, source=loaded.source)
        session.add(stored)
        session.flush()
    elif stored.digest != loaded.digest:
        raise Conflict(N_("instrument %(id)s version %(version)s changed since it was first used (%(source)s); "
                          "raise its version number to publish the change"),
                       id=loaded.id, version=loaded.version, source=loaded.source)
    return stored


def changed_versions(session: Session, registry: InstrumentRegistry) -> list[str]:
    """Installed definitions that differ from the snapshot of the same id and version."""
    problems = []
    for stored in session.scalars(select(InstrumentVersion).where(InstrumentVersion.scope == "*")):
        loaded = registry.get(stored.instrument_id, stored.version)
        if loaded is not None and loaded.digest != stored.digest:
            problems.append(f"{loaded.source}: instrument {loaded.id} version {loaded.version} differs from "
                            "the version already in use; raise the version number")
    return problems


def available(session: Session, registry: InstrumentRegistry, organisation_id: int) -> list[Available]:
    """Installed instruments plus this organisation's uploads, newest version last."""
    result = [Available(i.id, i.version, i.definition["title"], i.source, "*") for i in registry.all()]
    uploads = session.scalars(select(InstrumentVersion).where(
        InstrumentVersion.scope == f"{UPLOAD_SCOPE_PREFIX}{organisation_id}")
        .order_by(InstrumentVersion.instrument_id, InstrumentVersion.version))
    result += [Available(u.instrument_id, u.version, u.definition["title"], "upload", u.scope) for u in uploads]
    return result


def upload(session: Session, registry: InstrumentRegistry, actor: Actor, text: str, filename: str) -> InstrumentVersion:
    """Validate and store an organisation's own YAML instrument (no code is ever run)."""
    require(actor, "org.manage")
    data = load_yaml_text(text, filename)
    errors = registry.validate(data, filename)
    if errors:
        raise InstrumentError(errors)
    return upload_definition(session, registry, actor, data, filename)


def upload_definition(session: Session, registry: InstrumentRegistry, actor: Actor, data: dict,
                      filename: str) -> InstrumentVersion:
    """Store a definition already validated with ``registry.validate`` (a YAML or XLSForm upload)."""
    require(actor, "org.manage")
    definition = normalise(data)
    if registry.get(definition["id"]) is not None:
        raise Conflict(N_("%(file)s: the id %(id)r belongs to an installed instrument; choose another id"),
                       file=filename, id=definition["id"])
    scope = f"{UPLOAD_SCOPE_PREFIX}{actor.organisation_id}"
    existing = _uploaded(session, actor.organisation_id, definition["id"], definition["version"])
    digest = definition_digest(definition)
    if existing is not None:
        if existing.digest == digest:
            return existing
        raise Conflict(N_("%(file)s: %(id)s version %(version)s already exists with other content; "
                          "raise the version number"), file=filename, id=definition["id"],
                       version=definition["version"])
    stored = InstrumentVersion(scope=scope, organisation_id=actor.organisation_id, instrument_id=definition["id"],
                               version=definition["version"], digest=digest, definition=definition,
                               source="upload")
    session.add(stored)
    session.flush()
    audit.record(session, "instrument.upload", organisation_id=actor.organisation_id, user_id=actor.user_id,
                 target=f"instrument:{definition['id']}@{definition['version']}")
    return stored


def definition_for(session: Session, registry: InstrumentRegistry, organisation_id: int,
                   instrument_id: str, version: int) -> tuple[dict, str] | None:
    """An installed or uploaded definition visible to the organisation, with its source."""
    uploaded = _uploaded(session, organisation_id, instrument_id, version)
    if uploaded is not None:
        return uploaded.definition, "upload"
    loaded = registry.get(instrument_id, version)
    if loaded is None:
        kept = [v for v in retired(session, registry, organisation_id)
                if (v.instrument_id, v.version) == (instrument_id, version)]
        return (kept[0].definition, "snapshot") if kept else None
    return loaded.definition, loaded.source


def used_in(session: Session, organisation_id: int, instrument_id: str, version: int) -> list[str]:
    """Names of the organisation's projects that pin this instrument version."""
    from surveyhub.models import Project, ProjectInstrument

    return list(session.scalars(
        select(Project.name).join(ProjectInstrument).where(
            Project.organisation_id == organisation_id, ProjectInstrument.instrument_id == instrument_id,
            ProjectInstrument.version == version).order_by(Project.name)))


@dataclass(frozen=True)
class Choice:
    """One instrument as the new-project form offers it: what it asks and how long it takes."""

    ref: str  # "id@version"
    id: str
    version: int
    name: str
    description: str
    items: int
    #: Items and minutes of the short form; None when the instrument has none.
    short_items: int | None
    minutes: int
    short_minutes: int | None
    example: str
    languages: tuple[str, ...]
    #: For the form's live sum: per form length, [now questions, their seconds, look-back questions, seconds].
    figures: dict = field(default_factory=dict, compare=False)


def _seconds(slots) -> int:
    from surveyhub.services.questionnaire import SECONDS_OTHER, SECONDS_PER_ITEM

    return sum(SECONDS_PER_ITEM.get(str(slot.item.get("type")), SECONDS_OTHER) for slot in slots)


def _figures(definition: dict) -> list[int]:
    now = [slot for page in _pages([definition]) for slot in page.slots]
    then = [slot for page in _pages([definition], "post", True) for slot in page.slots if slot.block == "then"]
    return [len(now), _seconds(now), len(then), _seconds(then)]


def _pages(definitions: list[dict], kind: str = "pre", retrospective: bool = False, extra: list | None = None):
    from surveyhub.services.questionnaire import build_pages

    return build_pages(definitions, extra or [], kind, retrospective)


def _choice(ref: str, definition: dict, lang: str) -> Choice:
    from surveyhub.measures.definition import has_short_form, in_form, translate
    from surveyhub.services.questionnaire import estimated_minutes, question_count

    full = _pages([definition])
    short = _pages([in_form(definition, "short")]) if has_short_form(definition) else None
    first = next((item for scale in definition.get("scales") or [] for item in scale["items"]), None)
    return Choice(ref, definition["id"], definition["version"], translate(definition["title"], lang),
                  translate(definition.get("description"), lang) if definition.get("description") else "",
                  question_count(full), question_count(short) if short else None, estimated_minutes(full),
                  estimated_minutes(short) if short else None,
                  translate(first["text"], lang) if first else "",
                  tuple(definition.get("languages") or ["nl"]),
                  {"full": _figures(definition), "short": _figures(in_form(definition, "short"))})


def chooser(session: Session, registry: InstrumentRegistry, organisation_id: int, lang: str) -> list[Choice]:
    """Every instrument the organisation may choose, sorted by its name in ``lang`` (newest version first)."""
    found = [(f"{i.id}@{i.version}", i.definition) for i in registry.all()]
    uploads = session.scalars(select(InstrumentVersion).where(
        InstrumentVersion.scope == f"{UPLOAD_SCOPE_PREFIX}{organisation_id}"))
    found += [(f"{u.instrument_id}@{u.version}", u.definition) for u in uploads]
    found += [(f"{v.instrument_id}@{v.version}", v.definition) for v in retired(session, registry, organisation_id)]
    choices = [_choice(ref, definition, lang) for ref, definition in found]
    return sorted(choices, key=lambda c: (c.name.casefold(), c.id, -c.version))


@dataclass(frozen=True)
class WaveTotal:
    kind: str
    questions: int
    minutes: int


def extra_figures(extra: list[tuple[dict, list | None]]) -> dict[str, list[int]]:
    """Per wave kind: [questions, seconds] of the extra questions it asks (for the form's live sum)."""
    from surveyhub.models import WAVE_KINDS
    from surveyhub.services.questionnaire import SECONDS_OTHER, SECONDS_PER_ITEM

    return {kind: [sum(1 for _q, waves in extra if waves is None or kind in waves),
                   sum(SECONDS_PER_ITEM.get(str(q.get("type")), SECONDS_OTHER) for q, waves in extra
                       if waves is None or kind in waves)] for kind in WAVE_KINDS}


def wave_totals(definitions: list[dict], extra: list[tuple[dict, list | None]], retrospective: bool
                ) -> list[WaveTotal]:
    """Questions and minutes per wave for these definitions (already in the chosen form length).

    ``extra`` holds each extra question's definition and the waves that ask it (None: every wave).
    """
    from surveyhub.models import WAVE_KINDS
    from surveyhub.services.questionnaire import estimated_minutes, question_count

    totals = []
    for kind in WAVE_KINDS:
        asked = [q for q, waves in extra if waves is None or kind in waves]
        pages = _pages(definitions, kind, retrospective, asked)
        totals.append(WaveTotal(kind, question_count(pages), estimated_minutes(pages)))
    return totals
