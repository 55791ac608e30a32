"""The questionnaire a resident sees: a project's instruments cut into short pages.

Pure structure, built from the project's pinned instrument snapshots. In
"page" mode each page holds the items of one instrument block (at most
``PER_PAGE``), so a page's heading and look-back lead-in always fit its items;
in "one" mode (phones) every question is a screen of its own. The order is
fixed: every instrument's statements about now; then, in a retrospective
project's post wave, the same statements about before the project (block
``then``, worded in the past tense by the item's ``retrospective_text``), all
together so residents never switch between now and then; and last, under
"Tot slot", the instruments' open questions and the project's own questions
(never under a skill's heading).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

PER_PAGE = 7
PROJECT_INSTRUMENT = "_project"
QUESTION_MODES = ("page", "one")
#: The heading of the closing pages (open questions and the project's own questions).
CLOSING_TITLE = {"nl": "Tot slot", "en": "Finally"}


@dataclass(frozen=True)
class Slot:
    """One item on one page."""

    block: str  # "now" or "then"
    instrument_id: str
    item: dict
    answer_sets: dict = field(hash=False, compare=False, default_factory=dict)
    scored: bool = True

    @property
    def key(self) -> str:
        """The form field name; stable across pages and requests."""
        return f"{self.block}__{self.instrument_id}__{self.item['id']}"


@dataclass(frozen=True)
class Page:
    index: int
    #: The instrument of the page's first slot (a closing page may hold several instruments' questions).
    instrument_id: str
    block: str
    title: dict
    lead_in: dict | None
    slots: tuple[Slot, ...]

    @property
    def instruments(self) -> set[str]:
        """Every instrument whose answers the page shows."""
        return {slot.instrument_id for slot in self.slots}

    @property
    def scored(self) -> bool:
        """The page asks at least one scored statement (an empty one is worth a second look)."""
        return any(slot.scored for slot in self.slots)


def _chunks(slots: list[Slot], size: int) -> list[list[Slot]]:
    return [slots[i:i + size] for i in range(0, len(slots), size)] or []


def _scale_slots(definition: dict, block: str) -> list[Slot]:
    sets = definition.get("answer_sets") or {}
    return [Slot(block, definition["id"], item if block == "now" else _looking_back(item), sets, True)
            for scale in definition["scales"] for item in scale["items"]]


def _looking_back(item: dict) -> dict:
    """The item as a look-back question: its past-tense ``retrospective_text`` (else its own text)."""
    return {**item, "text": item.get("retrospective_text") or item["text"]}


def _open_slots(definition: dict) -> list[Slot]:
    sets = definition.get("answer_sets") or {}
    return [Slot("now", definition["id"], q, sets, False) for q in definition.get("questions") or []]


def _lead_in(definition: dict) -> dict:
    for scale in definition["scales"]:
        if scale.get("retrospective"):
            return scale["retrospective"]
    return {"nl": "Denk terug aan de tijd vóór het project. Hoe was dat toen?",
            "en": "Think back to the time before the project. How was it then?"}


def asks_in_wave(waves: list | None, wave_kind: str) -> bool:
    """A project question is asked in a wave when its ``waves`` list names it (None: every wave)."""
    return waves is None or wave_kind in waves


def build_pages(definitions: list[dict], extra_questions: list[dict], wave_kind: str,
                retrospective: bool, per_page: int = PER_PAGE, question_mode: str = "page") -> list[Page]:
    """The pages of one wave, in order (see the module docstring).

    ``extra_questions``: the project's own questions already chosen for this wave
    (``asks_in_wave``). ``question_mode`` "one" puts every question on a screen of its own.
    """
    size = 1 if question_mode == "one" else per_page
    pages: list[Page] = []

    def add(instrument_id, block, title, lead_in, slots):
        for chunk in _chunks(slots, size):
            pages.append(Page(len(pages), chunk[0].instrument_id if chunk else instrument_id, block, title,
                              lead_in, tuple(chunk)))

    for definition in definitions:
        add(definition["id"], "now", definition["title"], None, _scale_slots(definition, "now"))
    if retrospective and wave_kind == "post":
        for definition in definitions:
            add(definition["id"], "then", definition["title"], _lead_in(definition),
                _scale_slots(definition, "then"))
    # The instruments' open questions together, then the project's own: the worker's questions stay together.
    add(PROJECT_INSTRUMENT, "now", CLOSING_TITLE, None,
        [slot for definition in definitions for slot in _open_slots(definition)])
    if extra_questions:
        slots = [Slot("now", PROJECT_INSTRUMENT, q, q.get("answer_sets") or {}, False) for q in extra_questions]
        add(PROJECT_INSTRUMENT, "now", CLOSING_TITLE, None, slots)
    return pages


#: Pages per (pinned snapshots' digests, extra questions, wave kind, retrospective, form length, mode):
#: built once per process.
_PAGES: dict[tuple, list[Page]] = {}
_MAX_CACHED = 512


def cached_pages(digests: list[str], definitions: list[dict], extra_questions: list[dict],
                 wave_kind: str, retrospective: bool, form_length: str = "full",
                 question_mode: str = "page") -> list[Page]:
    """The pages of one wave, built once per pinned instrument versions and reused (do not mutate them).

    A snapshot's digest names its content, and the extra questions (a project
    may edit them until residents answer) are part of the key as they are, so
    a cached page is never stale, whichever database the process serves.
    """
    key = (tuple(digests), json.dumps(extra_questions, sort_keys=True), wave_kind, bool(retrospective),
           form_length, question_mode)
    pages = _PAGES.get(key)
    if pages is None:
        pages = build_pages(definitions, extra_questions, wave_kind, retrospective, question_mode=question_mode)
        if len(_PAGES) >= _MAX_CACHED:
            _PAGES.clear()
        _PAGES[key] = pages
    return pages


#: Seconds a resident takes per question, by type: a five-point statement read at B1 level on a
#: phone about 9 s, a yes/no 6 s, a number 12 s, an open question 45 s; plugin types 15 s.
SECONDS_PER_ITEM: dict[str, int] = {"choice": 9, "yes_no": 6, "number": 12, "text": 45}
SECONDS_OTHER = 15
#: Reading the start page and saying yes to taking part.
SECONDS_START = 30


def question_count(pages: list[Page]) -> int:
    """How many questions a wave asks."""
    return sum(len(page.slots) for page in pages)


def estimated_minutes(pages: list[Page]) -> int:
    """Whole minutes a resident needs for a wave's pages (rounded up, at least 1).

    Computed from the questions actually asked, so invitations and the start page
    never promise "about 10 minutes" for a 66-question wave.
    """
    seconds: int = SECONDS_START
    for page in pages:
        for slot in page.slots:
            seconds += SECONDS_PER_ITEM.get(str(slot.item.get("type")), SECONDS_OTHER)
    return max(1, -(-seconds // 60))
