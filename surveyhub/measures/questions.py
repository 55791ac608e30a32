"""Built-in question types: how an item becomes a WTForms field and a stored value.

A question type (see ``QuestionType``) has ``scored`` (does it yield a number
a scale can score), ``make_field(item, context)`` (an unbound WTForms field),
``code(item, raw, context)`` (submitted data to stored value, ``ValueError``
with a resident-facing message when unacceptable) and ``value_range(item,
context)``. ``context`` carries ``answer_sets`` and ``lang``.

A plugin's type is wrapped in a guard where it is registered
(``surveyhub.plugin_guards``): when it breaks (raises anything but
``ValueError``), the resident's answer is not dropped but kept as the text
they sent (``raw_text``), and the failure is reported.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Protocol

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from surveyhub.measures.definition import translate

MAX_TEXT_LENGTH = 2000


class QuestionType(Protocol):
    """What ``surveyhub_register_question_types`` maps a type name to."""

    #: True when the stored value is a number a scale can score.
    scored: bool

    def make_field(self, item: dict, context: dict) -> Any:
        """An unbound WTForms field for one item (label: the item's text in ``context["lang"]``)."""

    def code(self, item: dict, raw: Any, context: dict) -> float | str | None:
        """Submitted data to the stored value; ``None`` is unanswered.

        Raises ``ValueError`` with a message for the resident when ``raw`` is not acceptable.
        """

    def value_range(self, item: dict, context: dict) -> tuple[float, float] | None:
        """The lowest and highest stored value for scored types, else ``None``."""


def raw_text(raw: Any) -> str | None:
    """What the resident sent, as stored text (cut at ``MAX_TEXT_LENGTH``); ``None`` for nothing."""
    if raw is None:
        return None
    if isinstance(raw, (list, tuple)):
        raw = ", ".join(str(part) for part in raw)
    text = str(raw).replace("\x00", "").strip()  # the input rule cleans the rest where answers are stored
    return text[:MAX_TEXT_LENGTH] or None


def radio_choices(pairs: Iterable[tuple[str, Any]]) -> list:
    """``(value, label)`` pairs as WTForms choices (WTForms 3.3 deprecates plain tuples).

    A label may be ``markupsafe.Markup`` to carry HTML (escape the text parts).
    """
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def _label(item: dict, context: dict) -> str:
    return translate(item["text"], context.get("lang", "nl"))


def _options(item: dict, context: dict) -> list[dict]:
    return context["answer_sets"][item["answer_set"]]


def format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class ChoiceType:
    scored = True

    def make_field(self, item, context):
        choices = radio_choices((format_number(o["value"]), translate(o["label"], context.get("lang", "nl")))
                                for o in _options(item, context))
        return RadioField(_label(item, context), choices=choices, validators=[Optional()], validate_choice=False)

    def code(self, item, raw, context):
        if raw in (None, ""):
            return None
        allowed = {format_number(o["value"]): float(o["value"]) for o in _options(item, context)}
        if str(raw) not in allowed:
            raise ValueError(_l("Choose one of the answers."))
        return allowed[str(raw)]

    def value_range(self, item, context):
        values = [float(o["value"]) for o in _options(item, context)]
        return (min(values), max(values))


class YesNoType:
    scored = True

    def make_field(self, item, context):
        return RadioField(_label(item, context), choices=radio_choices([("1", _l("Yes")), ("0", _l("No"))]),
                          validators=[Optional()], validate_choice=False)

    def code(self, item, raw, context):
        if raw in (None, ""):
            return None
        if str(raw) not in ("0", "1"):
            raise ValueError(_l("Choose yes or no."))
        return float(raw)

    def value_range(self, item, context):
        return (0.0, 1.0)


class NumberType:
    """A number between min and max; whole steps of 1 over at most 11 points show as a 0–10 row."""

    scored = True

    def is_row(self, item) -> bool:
        return item.get("step") == 1 and item["max"] - item["min"] <= 10

    def make_field(self, item, context):
        label = _label(item, context)
        if self.is_row(item):
            points = range(int(item["min"]), int(item["max"]) + 1)
            return RadioField(label, choices=radio_choices((str(p), str(p)) for p in points),
                              validators=[Optional()], validate_choice=False)
        return StringField(label, validators=[Optional()],
                           render_kw={"inputmode": "decimal", "autocomplete": "off"})

    def code(self, item, raw, context):
        if raw is None or str(raw).strip() == "":
            return None
        try:
            value = float(str(raw).strip().replace(",", "."))
        except ValueError:
            raise ValueError(_l("Enter a number.")) from None
        if not math.isfinite(value) or not item["min"] <= value <= item["max"]:
            raise ValueError(_l("Enter a number from %(lo)s to %(hi)s.",
                                lo=format_number(item["min"]), hi=format_number(item["max"])))
        step = item.get("step")
        if step and not math.isclose((value - item["min"]) / step, round((value - item["min"]) / step),
                                     abs_tol=1e-9):
            raise ValueError(_l("Enter a number in steps of %(step)s.", step=format_number(step)))
        return value

    def value_range(self, item, context):
        return (float(item["min"]), float(item["max"]))


class TextType:
    scored = False

    def make_field(self, item, context):
        return TextAreaField(_label(item, context), validators=[Optional()],
                             render_kw={"rows": 3, "maxlength": MAX_TEXT_LENGTH})

    def code(self, item, raw, context):
        text = (raw or "").strip()
        if len(text) > MAX_TEXT_LENGTH:
            raise ValueError(_l("Your answer is too long. Use at most %(n)s characters.", n=MAX_TEXT_LENGTH))
        return text or None

    def value_range(self, item, context):
        return None


#: Separates the options of a ``choices`` answer where it is stored as text ("Koken; Tuinieren").
CHOICES_SEPARATOR = "; "


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes; saved data comes back as the stored text, which is split into the options it names."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_data(self, value):
        if isinstance(value, str):
            value = [part.strip() for part in value.split(";") if part.strip()]
        super().process_data(value)


class ChoicesType:
    """Several options from an answer set, as checkboxes ("which of these did you do?").

    Unscored: the answer is stored as text, the chosen options' Dutch labels joined
    by ``CHOICES_SEPARATOR``, so an export reads as it was answered. The form's
    values are those labels too, so a saved answer ticks its boxes again. A CSV
    import or paper entry may also give option values ("1;3").
    """

    scored = False
    #: ``code`` receives every submitted value (a list), not one.
    multiple = True

    def _stored(self, option: dict) -> str:
        return translate(option["label"], "nl")

    def make_field(self, item, context):
        choices = radio_choices((self._stored(o), translate(o["label"], context.get("lang", "nl")))
                                for o in _options(item, context))
        return MultiCheckboxField(_label(item, context), choices=choices, validators=[Optional()],
                                  validate_choice=False)

    def code(self, item, raw, context):
        if raw is None:
            return None
        parts = raw if isinstance(raw, (list, tuple)) else str(raw).split(";")
        by_name = {}
        for option in _options(item, context):
            by_name[self._stored(option)] = self._stored(option)
            by_name[format_number(option["value"])] = self._stored(option)
        chosen = []
        for part in (str(p).strip() for p in parts):
            if not part:
                continue
            if part not in by_name:
                raise ValueError(_l("Choose from the answers given."))
            if by_name[part] not in chosen:
                chosen.append(by_name[part])
        order = [self._stored(o) for o in _options(item, context)]
        return CHOICES_SEPARATOR.join(sorted(chosen, key=order.index)) or None

    def value_range(self, item, context):
        return None


BUILTIN_TYPES = {"choice": ChoiceType(), "choices": ChoicesType(), "number": NumberType(), "text": TextType(),
                 "yes_no": YesNoType()}
