"""The project's story for the impact report: funder, period, outputs and milestones, quotes the worker chose.

Numbers say how residents changed; a subsidy officer also wants to know what
the project did. Workers record that here, on the page "Verhaal voor het
rapport" or with ``surveyhub story`` / ``surveyhub outputs``: who funds the
project, when it ran, meetings held and volunteer hours, recommendations,
the primary outcome, and outputs with a date, one line and an optional photo
("Speeltuin geopend", 12 May). The report JSON reads the same columns
(``outcomes._project_info``); photos reach the PDF through
:func:`output_photos`, never through the JSON.

Admins and workers of the organisation edit (``project.setup``); a funder
never does. Every change is in the audit trail as ``project.update``, with
``change`` saying what changed. Values in and out are plain: dates, strings,
TypedDicts, never ORM rows.

The facts a certificate prints about the people behind it (the worker's name
and job title, the organisation's contact line and orientation, the
resident's role) live in :mod:`surveyhub.services.story_facts`.
"""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.models import Answer, Project, ProjectOutput, Response, Wave
from surveyhub.services import access, audit, outcome_data, responses
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Invalid, NotFound
from surveyhub.services.projects import refuse_if_archived
from surveyhub.services.questionnaire import PROJECT_INSTRUMENT
from surveyhub.services.story_photos import prepare_photo
from surveyhub.text import clean

MAX_DESCRIPTION = 300
MAX_FUNDER = 200
MAX_RECOMMENDATIONS = 4000
#: Counts a worker types: anything above is a typing error, not a project.
MAX_COUNT = 1_000_000
#: Story fields and what each holds; :func:`update_story` changes only the ones it is given.
STORY_FIELDS = ("funder_name", "period_start", "period_end", "meetings_held", "volunteer_hours",
                "recommendations", "primary_scale")


class OutputRow(TypedDict):
    id: int
    date: date
    description: str
    photo: bool


class ScaleChoice(TypedDict):
    """A scale of the project's instruments that may be named the primary outcome."""

    value: str
    title: dict[str, str]


class Story(TypedDict):
    slug: str
    name: str
    funder_name: str | None
    period_start: date | None
    period_end: date | None
    meetings_held: int | None
    volunteer_hours: int | None
    recommendations: str | None
    primary_scale: str | None
    scales: list[ScaleChoice]
    outputs: list[OutputRow]


class QuoteChoice(TypedDict):
    """An open answer a resident agreed to share, as the quote picker lists it (no participant code)."""

    answer_id: int
    text: str
    wave: str
    question_text: dict[str, str] | None
    chosen: bool


# --- the story ------------------------------------------------------------------------------------

def story(session: Session, actor: Actor, slug: str) -> Story:
    """The project's story fields, its outputs (oldest first) and the scales it may name primary."""
    project = access.project(session, actor, slug, "project.setup")
    return {"slug": project.slug, "name": project.name, "funder_name": project.funder_name,
            "period_start": project.period_start, "period_end": project.period_end,
            "meetings_held": project.meetings_held, "volunteer_hours": project.volunteer_hours,
            "recommendations": project.recommendations, "primary_scale": project.primary_scale,
            "scales": scale_choices(project), "outputs": _rows(project)}


def scale_choices(project: Project) -> list[ScaleChoice]:
    """Every scale of the project's pinned instruments, as ``"instrument/scale"``."""
    return [{"value": f"{definition['id']}/{scale['id']}", "title": scale.get("title") or {}}
            for definition in responses.project_definitions(project) for scale in definition.get("scales") or []]


def update_story(session: Session, actor: Actor, slug: str, **fields) -> Story:
    """Set the story fields given (``None`` or ``""`` clears one); the rest stay as they are.

    :param fields: any of :data:`STORY_FIELDS`; dates as ``date`` or ISO text, counts as int or text.
    :raises Invalid: naming the first field that is not acceptable; nothing is stored then.
    """
    unknown = set(fields) - set(STORY_FIELDS)
    if unknown:
        raise ValueError(f"not story fields: {sorted(unknown)}")  # a programming error, not a user's
    project = access.project(session, actor, slug, "project.setup")
    refuse_if_archived(project)
    values = {name: _checked(project, name, value) for name, value in fields.items()}
    start = values.get("period_start", project.period_start)
    end = values.get("period_end", project.period_end)
    if start is not None and end is not None and end < start:
        raise Invalid(N_("the project cannot end before it starts"))
    changed = sorted(name for name, value in values.items() if getattr(project, name) != value)
    for name in changed:
        setattr(project, name, values[name])
    if changed:
        audit.record(session, "project.update", actor=actor, project_id=project.id,
                     target=f"project:{project.slug}", details={"change": "story", "fields": changed})
    session.flush()
    return story(session, actor, slug)


def _checked(project: Project, name: str, value):
    """The value as stored, or Invalid with a message the worker can act on."""
    if isinstance(value, str):
        value = clean(value).strip()
    if value is None or value == "":
        return None
    if name in ("period_start", "period_end"):
        return parse_date(value)
    if name in ("meetings_held", "volunteer_hours"):
        return _count(value)
    if name == "funder_name":
        value = " ".join(value.split())
        if len(value) > MAX_FUNDER:
            raise Invalid(N_("the funder's name can have at most 200 characters"))
        return value
    if name == "recommendations":
        if len(value) > MAX_RECOMMENDATIONS:
            raise Invalid(N_("the recommendations can have at most 4000 characters"))
        return value
    if value not in {choice["value"] for choice in scale_choices(project)}:
        raise Invalid(N_("%(scale)r is not a scale of this project's questionnaires (use instrument/scale)"),
                      scale=value)
    return value


def parse_date(value) -> date:
    """A ``date``, or ISO text ``YYYY-MM-DD`` as a date; Invalid otherwise."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise Invalid(N_("%(value)r is not a date; write it as year-month-day, e.g. 2026-05-12"),
                      value=str(value)) from None


def _count(value) -> int:
    if isinstance(value, bool):
        raise Invalid(N_("%(value)r is not a whole number"), value=str(value))
    try:
        number = value if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        raise Invalid(N_("%(value)r is not a whole number"), value=str(value)) from None
    if not 0 <= number <= MAX_COUNT:
        raise Invalid(N_("a count must be a whole number from 0 to 1000000"))
    return number


# --- outputs and milestones ----------------------------------------------------------------------

def _row(output: ProjectOutput) -> OutputRow:
    return {"id": output.id, "date": output.happened_on, "description": output.description,
            "photo": output.photo is not None}


def _rows(project: Project) -> list[OutputRow]:
    """Oldest first (sorted here: an output added in this session is not yet in the relationship's order)."""
    return [_row(output) for output in sorted(project.outputs, key=lambda one: (one.happened_on, one.id))]


def _description(text: str | None) -> str:
    text = " ".join(clean(text or "").split())
    if not text:
        raise Invalid(N_("describe in one line what the project did or reached"))
    if len(text) > MAX_DESCRIPTION:
        raise Invalid(N_("the description can have at most 300 characters"))
    return text


def outputs(session: Session, actor: Actor, slug: str) -> list[OutputRow]:
    """The project's outputs and milestones, oldest first."""
    return _rows(access.project(session, actor, slug, "project.setup"))


def add_output(session: Session, actor: Actor, slug: str, happened_on, description: str,
               photo: bytes | None = None) -> OutputRow:
    """Record what the project did or reached; the photo (optional) is checked and cleaned first.

    The same date and line twice is one output (a second click, a script run again): the one
    stored is returned, its photo replaced when a new one comes.
    """
    project = access.project(session, actor, slug, "project.setup")
    refuse_if_archived(project)
    day, text = parse_date(happened_on), _description(description)
    stored, kind = prepare_photo(photo) if photo else (None, None)
    same = next((one for one in project.outputs if (one.happened_on, one.description) == (day, text)), None)
    if same is not None:
        if stored is not None:
            same.photo, same.photo_type = stored, kind
            audit.record(session, "project.update", actor=actor, project_id=project.id,
                         target=f"project:{project.slug}", details={"change": "output.update", "output": same.id})
        session.flush()
        return _row(same)
    output = ProjectOutput(project_id=project.id, happened_on=day, description=text, photo=stored,
                           photo_type=kind, created_by_id=actor.user_id)
    project.outputs.append(output)
    session.flush()
    audit.record(session, "project.update", actor=actor, project_id=project.id, target=f"project:{project.slug}",
                 details={"change": "output.add", "output": output.id, "photo": stored is not None})
    return _row(output)


def update_output(session: Session, actor: Actor, slug: str, output_id: int, *, happened_on=None,
                  description: str | None = None, photo: bytes | None = None,
                  remove_photo: bool = False) -> OutputRow:
    """Change an output: only what is given changes; ``remove_photo`` drops the photo."""
    project, output = _output(session, actor, slug, output_id)
    day = parse_date(happened_on) if happened_on not in (None, "") else output.happened_on
    text = _description(description) if description is not None else output.description
    stored = prepare_photo(photo) if photo else None
    output.happened_on, output.description = day, text
    if stored is not None:
        output.photo, output.photo_type = stored
    elif remove_photo:
        output.photo, output.photo_type = None, None
    session.flush()
    audit.record(session, "project.update", actor=actor, project_id=project.id, target=f"project:{project.slug}",
                 details={"change": "output.update", "output": output.id})
    return _row(output)


def remove_output(session: Session, actor: Actor, slug: str, output_id: int) -> None:
    project, output = _output(session, actor, slug, output_id)
    project.outputs.remove(output)
    session.delete(output)
    session.flush()
    audit.record(session, "project.update", actor=actor, project_id=project.id, target=f"project:{project.slug}",
                 details={"change": "output.remove", "output": output_id})


def _output(session: Session, actor: Actor, slug: str, output_id: int) -> tuple[Project, ProjectOutput]:
    project = access.project(session, actor, slug, "project.setup")
    refuse_if_archived(project)
    output = session.get(ProjectOutput, output_id)
    if output is None or output.project_id != project.id:
        raise NotFound(f"no output {output_id} in project {slug!r}")
    return project, output


def output_photo(session: Session, actor: Actor, slug: str, output_id: int) -> tuple[bytes, str]:
    """One output's photo and media type (for the story page); NotFound when it has none."""
    project = access.project(session, actor, slug, "project.setup")
    output = session.get(ProjectOutput, output_id)
    if output is None or output.project_id != project.id or output.photo is None:
        raise NotFound(f"no photo for output {output_id}")
    return bytes(output.photo), output.photo_type or "image/jpeg"


def output_photos(session: Session, actor, slug: str) -> dict[int, tuple[bytes, str]]:
    """Output id -> (photo bytes, media type) for every output with a photo, for the report renderer.

    :param actor: an ``Actor`` or a ``ServiceContext`` (its actor is used); whoever may read the project's
        report (``project.outcomes``) may see the photos printed in it.
    """
    actor = getattr(actor, "actor", actor)
    project = access.project(session, actor, slug, "project.outcomes")
    rows = session.execute(select(ProjectOutput.id, ProjectOutput.photo, ProjectOutput.photo_type)
                           .where(ProjectOutput.project_id == project.id, ProjectOutput.photo.is_not(None))
                           .order_by(ProjectOutput.happened_on, ProjectOutput.id))
    return {oid: (bytes(photo), kind or "image/jpeg") for oid, photo, kind in rows if photo is not None}


# --- quotes the worker chooses -------------------------------------------------------------------

def _open_questions(project: Project) -> dict[tuple[str, str], dict]:
    """(instrument id or ``_project``, question id) -> the open question's definition."""
    found = {(PROJECT_INSTRUMENT, q.question_id): q.definition for q in project.questions}
    for definition in responses.project_definitions(project):
        for item in definition.get("questions") or []:
            found[(definition["id"], item["id"])] = item
    return found


def quote_choices(session: Session, actor: Actor, slug: str) -> list[QuoteChoice]:
    """Open answers from completed responses of residents who share quotes, oldest first.

    The worker picks from these which the report quotes; the same words are listed once.
    """
    project = access.project(session, actor, slug, "project.residents")
    questions = _open_questions(project)
    sharing = outcome_data.sharing_participants(session, project)
    if not sharing:
        return []
    rows = session.execute(
        select(Answer.id, Answer.instrument_id, Answer.item_id, Answer.value_text, Answer.chosen_quote,
               Wave.kind, Response.participant_id)
        .join(Response, Response.id == Answer.response_id).join(Wave, Wave.id == Response.wave_id)
        .where(Wave.project_id == project.id, Response.status == "completed", Answer.value_text.is_not(None))
        .order_by(Answer.response_id, Answer.id))
    choices: list[QuoteChoice] = []
    seen: dict[str, int] = {}
    for aid, instrument_id, item_id, text, chosen, wave, pid in rows:
        words = " ".join(clean(text or "").split())
        question = questions.get((instrument_id, item_id))
        if pid not in sharing or question is None or not words:
            continue
        same = words.casefold()
        if same in seen:  # one entry per text; it counts as chosen when any of its answers is
            choices[seen[same]]["chosen"] = choices[seen[same]]["chosen"] or bool(chosen)
            continue
        seen[same] = len(choices)
        choices.append({"answer_id": aid, "text": words, "wave": wave, "question_text": question.get("text"),
                        "chosen": bool(chosen)})
    return choices


def choose_quote(session: Session, actor: Actor, slug: str, answer_id: int, chosen: bool = True) -> None:
    """Use (or stop using) an open answer in the report. Only a sharing resident's open answer can be chosen."""
    project = access.project(session, actor, slug, "project.residents")
    refuse_if_archived(project)
    row = session.execute(
        select(Answer, Response.participant_id)
        .join(Response, Response.id == Answer.response_id).join(Wave, Wave.id == Response.wave_id)
        .where(Answer.id == answer_id, Wave.project_id == project.id)).first()
    if row is None or (row[0].instrument_id, row[0].item_id) not in _open_questions(project):
        raise NotFound(f"no open answer {answer_id} in project {slug!r}")
    answer, pid = row
    if chosen and pid not in outcome_data.sharing_participants(session, project):
        raise Invalid(N_("this resident did not agree to share quotes; the answer cannot be used in the report"))
    if answer.chosen_quote != chosen:
        answer.chosen_quote = chosen
        audit.record(session, "project.update", actor=actor, project_id=project.id,
                     target=f"project:{project.slug}",
                     details={"change": "quote.choose" if chosen else "quote.unchoose", "answer": answer_id})
    session.flush()


def chosen_answers(session: Session, wave_ids: list[int]) -> set[tuple[int, str, str]]:
    """(response id, instrument id, item id) of the answers the worker chose, for the report's ``quotes``."""
    if not wave_ids:
        return set()
    rows = session.execute(select(Answer.response_id, Answer.instrument_id, Answer.item_id)
                           .join(Response, Response.id == Answer.response_id)
                           .where(Response.wave_id.in_(wave_ids), Answer.chosen_quote.is_(True)))
    return {(rid, instrument_id, item_id) for rid, instrument_id, item_id in rows}


def output_project(session: Session, output_id: int) -> str:
    """The slug of the project an output belongs to (the command line names an output by its id alone)."""
    slug = session.scalar(select(Project.slug).join(ProjectOutput, ProjectOutput.project_id == Project.id)
                          .where(ProjectOutput.id == output_id))
    if slug is None:
        raise NotFound(f"no output {output_id}")
    return slug
