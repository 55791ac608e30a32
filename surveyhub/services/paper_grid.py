"""The paper-entry grid: a whole paper questionnaire as one screen of small cells to type into.

A worker types what the resident ticked: the number of the ticked box (the first box is 1),
nothing when nothing was ticked, and ``x`` or ``?`` when two boxes were ticked (stored as not
answered, and counted so the worker can say so). Numbers are typed as numbers, open answers as
text. Sections and question numbers follow the printed questionnaire (``rendering.paper``):
one section per questionnaire page, numbered from 1, questions numbered within their section.

Typed cells are turned into what a resident's radio buttons would have sent and then checked
by the same ``resident.code_page`` (the question types' ``code``), so paper answers are stored
exactly as online answers are. Pure: no database, no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from surveyhub.measures.definition import translate
from surveyhub.services import resident
from surveyhub.services.errors import N_, Message
from surveyhub.services.questionnaire import Page, Slot

#: What a worker types when two boxes (or more) were ticked: stored as not answered, and counted.
TWO_TICKS = frozenset({"x", "?"})
#: Typed for yes and for no: the first and second box, or the stored value (1 yes, 0 no).
YES, NO = frozenset({"1", "j", "y"}), frozenset({"2", "0", "n"})


@dataclass(frozen=True)
class Cell:
    """One question of the paper form as a cell of the grid."""

    key: str  #: the form field name, as on the resident's pages (``Slot.key``)
    number: int  #: the question's number within its section, as printed
    text: str
    #: "choice" (type the box number), "choices" (several boxes: their numbers, e.g. "1 3"), "yes_no",
    #: "scale" (type the printed number, e.g. 0–10), "number", "text" (open answers and plugin types)
    kind: str
    #: For "choice" and "yes_no": (what to type, the box's label), in printed order.
    options: tuple[tuple[str, str], ...] = ()
    #: For "choice": per box, the value the resident's radio button sends (the answer set's value).
    sent: tuple[str, ...] = ()
    #: For "choices": per box, the Dutch label, which is how such an answer is stored.
    names: tuple[str, ...] = ()
    low: str = ""
    high: str = ""

    @property
    def boxes(self) -> bool:
        """Is the answer a ticked box (so ``x``/``?`` means two ticks)?"""
        return self.kind in ("choice", "yes_no", "scale", "number")  # not "choices": several ticks are normal


@dataclass(frozen=True)
class Section:
    """One questionnaire page: its printed number and title, and its cells."""

    number: int
    title: str
    then: bool
    lead_in: str
    cells: tuple[Cell, ...]
    #: The answers shared by every one-box question of the section (two or more), shown once as a legend.
    legend: tuple[tuple[str, str], ...] = ()


def sections(pages: list[Page], types: dict, lang: str) -> list[Section]:
    """The grid's sections, in the paper questionnaire's order and numbering."""
    result = []
    for index, page in enumerate(pages, start=1):
        cells = tuple(_cell(slot, number, types, lang) for number, slot in enumerate(page.slots, start=1))
        boxes = [c.options for c in cells if c.kind == "choice"]
        legend = boxes[0] if len(boxes) > 1 and len(set(boxes)) == 1 else ()  # else each cell says its own
        result.append(Section(index, translate(page.title, lang), page.block == "then",
                              translate(page.lead_in, lang) if page.lead_in else "", cells, legend))
    return result


def _cell(slot: Slot, number: int, types: dict, lang: str) -> Cell:
    item = slot.item
    text = translate(item.get("text"), lang)
    kind = item.get("type")
    if kind not in types:
        kind = None
    options = (slot.answer_sets or {}).get(item.get("answer_set")) if item.get("answer_set") else None
    if kind is not None and options:
        # One box ("choice"), or several ("choices": a type whose ``code`` takes every ticked box).
        return Cell(slot.key, number, text, "choices" if getattr(types[kind], "multiple", False) else "choice",
                    tuple((str(i), translate(o["label"], lang)) for i, o in enumerate(options, start=1)),
                    tuple(_plain(o["value"]) for o in options), tuple(translate(o["label"], "nl") for o in options))
    if kind == "yes_no":
        return Cell(slot.key, number, text, "yes_no", (("1", ""), ("2", "")))
    if kind == "number":
        low, high = _plain(item["min"]), _plain(item["max"])
        scale = item.get("step") == 1 and item["max"] - item["min"] <= 10  # printed as a row of numbered boxes
        return Cell(slot.key, number, text, "scale" if scale else "number", low=low, high=high)
    return Cell(slot.key, number, text, "text")


def _plain(value) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass
class Reading:
    """What the worker typed into the grid, checked."""

    #: Field name -> the text as typed (shown again when anything needs correcting).
    typed: dict[str, str]
    #: The answers to store (``responses.AnswerKey`` -> value; None for a blank or two ticks).
    values: dict = field(default_factory=dict)
    #: Field name -> a message for the cell (a ``Message`` or a question type's own text).
    errors: dict[str, object] = field(default_factory=dict)
    #: "section.question" numbers, as printed: left empty, and with two boxes ticked.
    blank: list[str] = field(default_factory=list)
    two_ticks: list[str] = field(default_factory=list)
    total: int = 0

    @property
    def answered(self) -> int:
        return self.total - len(self.blank) - len(self.two_ticks)


def read(pages: list[Page], grid: list[Section], form, types: dict, lang: str) -> Reading:
    """Check every typed cell; the answers come from the question types' own ``code``."""
    reading = Reading(typed={})
    for page, section in zip(pages, grid):
        sent: MultiDict = MultiDict()
        for cell in section.cells:
            typed = (form.get(cell.key) or "").strip() if cell.kind != "text" else (form.get(cell.key) or "")
            reading.typed[cell.key] = typed
            reading.total += 1
            label = f"{section.number}.{cell.number}"
            if typed.strip() == "":
                reading.blank.append(label)
            elif cell.boxes and typed.lower() in TWO_TICKS:
                reading.two_ticks.append(label)
                typed = ""
            elif cell.kind == "choices":
                ticked = _ticked(cell, typed)
                if ticked is None:
                    reading.errors[cell.key] = _box_error(cell)
                    continue
                for value in ticked:
                    sent.add(cell.key, value)
                continue
            else:
                raw = _raw(cell, typed)
                if raw is None:
                    reading.errors[cell.key] = _box_error(cell)
                    continue
                typed = raw
            sent.add(cell.key, typed)
        values, errors = resident.code_page(page, sent, types, lang)
        reading.values.update(values)
        reading.errors.update(errors)
    return reading


def _raw(cell: Cell, typed: str) -> str | None:
    """What the resident's page would have sent for the typed cell; None when it is not a box on the form."""
    if cell.kind == "choice":
        return dict(zip((digit for digit, _label in cell.options), cell.sent)).get(typed)
    if cell.kind == "yes_no":
        lowered = typed.lower()
        return "1" if lowered in YES else "0" if lowered in NO else None
    return typed  # numbers and text: the question type checks them itself


def _parts(cell: Cell, typed: str) -> list[str]:
    """The box numbers typed into a "choices" cell: "1 3", "1,3", or "13" when it has under ten boxes."""
    parts = typed.replace(",", " ").replace(";", " ").split()
    if len(parts) == 1 and len(cell.options) < 10:
        parts = list(parts[0])
    return list(dict.fromkeys(parts))


def _ticked(cell: Cell, typed: str) -> list[str] | None:
    """The values of the boxes typed for a "choices" cell; None when one of them is not a box."""
    by_digit = dict(zip((digit for digit, _label in cell.options), cell.sent))
    parts = _parts(cell, typed)
    if any(part not in by_digit for part in parts):
        return None
    return [by_digit[part] for part in parts]


def boxes_typed(cell: Cell, typed: str) -> list[str]:
    """The numbers of the boxes a typed cell names ("1", "2" for yes and no); none when it names no box."""
    typed = typed.strip().lower()
    if cell.kind == "choices":
        return _parts(cell, typed) if _ticked(cell, typed) is not None else []
    if cell.kind == "yes_no":
        return ["1"] if typed in YES else ["2"] if typed in NO else []
    return [typed] if cell.kind == "choice" and typed in dict(cell.options) else []


def _box_error(cell: Cell) -> Message:
    if cell.kind == "yes_no":
        return Message(N_("Type 1 for yes or 2 for no, or x for two ticks."))
    if cell.kind == "choices":
        return Message(N_("Type the numbers of the ticked boxes, from 1 to %(n)s, with a space between."),
                       n=len(cell.options))
    return Message(N_("Type a number from 1 to %(n)s, or x for two ticks."), n=len(cell.options))


def typed_from(grid: list[Section], stored: dict) -> dict[str, str]:
    """The cells as a worker would have typed the stored answers (an entry taken up again).

    ``stored``: field name -> stored value (a number or text; None for not answered).
    """
    typed = {}
    for section in grid:
        for cell in section.cells:
            value = stored.get(cell.key)
            if value is None:
                continue
            shown = _plain(value) if isinstance(value, float) else str(value)
            if cell.kind == "choice":
                shown = dict(zip(cell.sent, (digit for digit, _label in cell.options))).get(shown, "")
            elif cell.kind == "choices":  # stored as the options' labels (or values), joined by "; "
                digits = dict(zip(cell.sent + cell.names, [d for d, _l in cell.options] * 2))
                shown = " ".join(digits.get(part.strip(), "") for part in shown.split(";")).strip()
            elif cell.kind == "yes_no":
                shown = {"1": "1", "0": "2"}.get(shown, "")
            typed[cell.key] = shown
    return typed

