"""SurveyHub plugin: the participation ladder, scored as the highest rung a resident reached.

A single-module plugin: SurveyHub loads every ``*.py`` file in the plugins
folder (``SURVEYHUB_PLUGINS_DIR``, default ``plugins/``). It adds

- the scoring method ``highest_rung``: the items of a scale are yes/no
  statements, one per rung, lowest rung first. The score is the number of the
  highest rung answered "yes" (0 when none), or ``None`` when fewer than
  ``min_answered`` rungs are answered. A scale may give the order itself in
  ``scoring.rungs`` (a list of item ids, lowest first); otherwise the item
  order is the rung order.
- the instrument ``participation_ladder`` (version 2, Dutch and English), six
  rungs from coming to a meeting to leading a group of neighbours.

A ladder is not an average: someone who leads a group but skipped the
meeting question still stands on the top rung, which a mean would hide.
"""

from __future__ import annotations

import math

from surveyhub import hookimpl

__version__ = "1.0"


def highest_rung(values: dict, scale: dict) -> float | None:
    """The number (1 = lowest) of the highest rung answered yes; 0 if none; None if too few answered."""
    scoring = scale.get("scoring") or {}
    rungs = scoring.get("rungs") or [item["id"] for item in scale.get("items", ())]
    if not isinstance(rungs, list) or not all(isinstance(rung, str) for rung in rungs):
        raise ValueError("scoring.rungs must be a list of item ids, lowest rung first")
    answered = {rung: values[rung] for rung in rungs
                if values.get(rung) is not None and not math.isnan(values[rung])}
    if len(answered) < max(1, int(scoring.get("min_answered", 1))):
        return None
    reached = [number for number, rung in enumerate(rungs, start=1) if answered.get(rung, 0) >= 0.5]
    return float(max(reached, default=0))


def _rung(number: int, nl: str, en: str, then_nl: str, then_en: str) -> dict:
    """One rung; ``then_*`` is its look-back wording, asked about the time before the project."""
    return {"id": f"ladder_{number}", "type": "yes_no", "text": {"nl": nl, "en": en},
            "retrospective_text": {"nl": then_nl, "en": then_en}}


# Items written for SurveyHub, after the idea of Arnstein's ladder of citizen
# participation (1969); no published questionnaire was copied.
INSTRUMENT = {
    "id": "participation_ladder",
    "version": 2,
    "title": {"nl": "Meedoen in de buurt", "en": "Taking part in the neighbourhood"},
    "description": {"nl": "Wat heb je de afgelopen drie maanden gedaan in je buurt?",
                    "en": "What did you do in your neighbourhood in the past three months?"},
    "languages": ["nl", "en"],
    "inspired_by": "The ladder of citizen participation (Arnstein, 1969).",
    "scales": [{
        "id": "participation",
        "title": {"nl": "Hoe ver doe je mee?", "en": "How far do you take part?"},
        "higher_is_better": True,
        "items": [
            _rung(1, "Ik ben naar een bijeenkomst in de buurt geweest.", "I went to a meeting in the neighbourhood.",
                  "Vóór het project ging ik naar bijeenkomsten in de buurt.",
                  "Before the project, I went to meetings in the neighbourhood."),
            _rung(2, "Ik heb geholpen bij een activiteit in de buurt.",
                  "I helped at an activity in the neighbourhood.",
                  "Vóór het project hielp ik bij activiteiten in de buurt.",
                  "Before the project, I helped at activities in the neighbourhood."),
            _rung(3, "Ik heb zelf een idee voor de buurt verteld.",
                  "I shared an idea of my own for the neighbourhood.",
                  "Vóór het project vertelde ik zelf ideeën voor de buurt.",
                  "Before the project, I shared ideas of my own for the neighbourhood."),
            _rung(4, "Ik heb een vaste taak in een groep in de buurt.",
                  "I have a regular task in a group in the neighbourhood.",
                  "Vóór het project had ik een vaste taak in een groep in de buurt.",
                  "Before the project, I had a regular task in a group in the neighbourhood."),
            _rung(5, "Ik heb samen met anderen een activiteit georganiseerd.",
                  "I organised an activity together with others.",
                  "Vóór het project organiseerde ik samen met anderen activiteiten.",
                  "Before the project, I organised activities together with others."),
            _rung(6, "Ik leid een groep buren.", "I lead a group of neighbours.",
                  "Vóór het project leidde ik een groep buren.", "Before the project, I led a group of neighbours."),
        ],
        "retrospective": {"nl": "Denk terug aan de tijd vóór het project. Wat deed je toen?",
                          "en": "Think back to the time before the project. What did you do then?"},
        "scoring": {"method": "highest_rung", "min_answered": 3,
                    "rungs": [f"ladder_{number}" for number in range(1, 7)]},
        "levels": [
            {"min": 1, "label": {"nl": "Doet mee", "en": "Taking part"}},
            {"min": 3, "label": {"nl": "Denkt mee", "en": "Sharing ideas"}},
            {"min": 5, "label": {"nl": "Neemt het voortouw", "en": "Taking the lead"}},
        ],
    }],
}


@hookimpl
def surveyhub_register_scoring_methods():
    return {"highest_rung": highest_rung}


@hookimpl
def surveyhub_register_instruments():
    return [INSTRUMENT]
