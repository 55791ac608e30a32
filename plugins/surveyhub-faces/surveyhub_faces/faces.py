"""The ``faces`` question type: five faces from very sad (1) to very happy (5).

For residents who read little. Each answer shows a drawn face and a short
word, so a resident can answer by the face and a screen reader reads the
word. The face is inline SVG inside the choice label (no template, no image
file), hidden from screen readers with ``aria-hidden``; the word stays in the
label, so it is the radio button's accessible name.
"""

from __future__ import annotations

import math

from markupsafe import Markup
from wtforms import RadioField
from wtforms.validators import Optional

from surveyhub.measures.questions import radio_choices
from surveyhub.measures.definition import translate

LOWEST, HIGHEST = 1, 5

#: The word under each face, by value; Dutch is the fallback for other languages.
LABELS = {
    1: {"nl": "Heel verdrietig", "en": "Very sad"},
    2: {"nl": "Verdrietig", "en": "Sad"},
    3: {"nl": "Gaat wel", "en": "So-so"},
    4: {"nl": "Blij", "en": "Happy"},
    5: {"nl": "Heel blij", "en": "Very happy"},
}

#: The mouth of each face as an SVG path: from a deep frown to a wide smile.
MOUTHS = {
    1: "M12 29 Q20 19 28 29",
    2: "M13 28 Q20 23 27 28",
    3: "M13 26 L27 26",
    4: "M13 24 Q20 30 27 24",
    5: "M12 23 Q20 34 28 23",
}

CHOOSE_A_FACE = {"nl": "Kies een van de gezichten.", "en": "Choose one of the faces."}

_FACE = Markup(
    '<svg class="face-drawing" width="40" height="40" viewBox="0 0 40 40" focusable="false" aria-hidden="true">'
    '<circle cx="20" cy="20" r="18" fill="#ffd75e" stroke="currentColor" stroke-width="2"/>'
    '<circle cx="14" cy="16" r="2.3" fill="currentColor"/><circle cx="26" cy="16" r="2.3" fill="currentColor"/>'
    '<path d="{mouth}" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round"/></svg>'
)


def face_label(value: int, lang: str) -> Markup:
    """The label of one answer: the face (hidden from screen readers) and its word (escaped)."""
    face = _FACE.format(mouth=MOUTHS[value])
    return Markup('<span class="face" aria-hidden="true">{face}</span> <span class="face-label">{word}</span>'
                  ).format(face=face, word=translate(LABELS[value], lang))


class FacesType:
    """A scored item answered with one of five faces; stored as 1 to 5."""

    scored = True

    def make_field(self, item: dict, context: dict) -> RadioField:
        lang = context.get("lang", "nl")
        choices = radio_choices((str(value), face_label(value, lang)) for value in range(LOWEST, HIGHEST + 1))
        # code() checks the value, with a message in the resident's language
        return RadioField(translate(item["text"], lang), choices=choices, validators=[Optional()],
                          validate_choice=False)

    def code(self, item: dict, raw, context: dict) -> float | None:
        if raw is None or str(raw).strip() == "":
            return None
        try:
            value = float(str(raw).strip().replace(",", "."))  # "4" from a form, "4.0" from a spreadsheet
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value.is_integer() and LOWEST <= value <= HIGHEST):
            raise ValueError(translate(CHOOSE_A_FACE, context.get("lang", "nl")))
        return value

    def value_range(self, item: dict, context: dict) -> tuple[float, float]:
        return (float(LOWEST), float(HIGHEST))
