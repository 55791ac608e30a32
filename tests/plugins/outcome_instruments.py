"""Test-only instruments whose scale scores equal the item values, so report figures can be
checked against published reference values through the real import → score → report path.

Registered by the outcome tests through ``EXTRA_PLUGINS``.
"""

from __future__ import annotations

from surveyhub import hookimpl

AGREE3 = [{"value": v, "label": {"nl": f"Antwoord {v}", "en": f"Answer {v}"}} for v in (1, 2, 3)]
AGREE5 = [{"value": v, "label": {"nl": f"Keuze {v}", "en": f"Choice {v}"}} for v in (1, 2, 3, 4, 5)]


def _text(nl: str) -> dict:
    return {"nl": nl, "en": nl}


#: One 0–10 number item; the score is the answer (Lakens' paired ratings).
RATING = {
    "id": "rating", "version": 1, "title": _text("Cijfer"),
    "scales": [{
        "id": "rating", "title": _text("Cijfer"),
        "items": [{"id": "rating", "type": "number", "min": 0, "max": 10, "step": 1, "text": _text("Welk cijfer?"),
                   "retrospective_text": _text("Welk cijfer gaf je toen?")}],
        "retrospective": _text("Welk cijfer gaf je vóór het project?"),
        "scoring": {"method": "mean", "min_answered": 1},
    }],
    "questions": [{"id": "story", "type": "text", "text": _text("Wat wil je nog kwijt?")}],
}

#: Three items on a 1–3 scale (the Cronbach's alpha reference table).
TRIAD = {
    "id": "triad", "version": 1, "title": _text("Drie vragen"), "answer_sets": {"agree3": AGREE3},
    "scales": [{
        "id": "triad", "title": _text("Drie vragen"),
        "items": [{"id": f"q{i}", "type": "choice", "answer_set": "agree3", "text": _text(f"Vraag {i}")}
                  for i in (1, 2, 3)],
        "scoring": {"method": "mean", "min_answered": 3},
    }],
}

#: A 0–40 number with published norms (SD 5, reliability .80): the RCI reference.
NORMED = {
    "id": "normed", "version": 1, "title": _text("Genormeerd"),
    "scales": [{
        "id": "normed", "title": _text("Genormeerd"),
        "items": [{"id": "points", "type": "number", "min": 0, "max": 40, "step": 1, "text": _text("Punten")}],
        "scoring": {"method": "mean", "min_answered": 1},
        "norms": {"sd": 5, "reliability": 0.80},
    }],
}

#: Decimals allowed (no step), with norms: random data through the real path.
DECIMAL = {
    "id": "decimal", "version": 1, "title": _text("Decimaal"),
    "scales": [{
        "id": "decimal", "title": _text("Decimaal"),
        "items": [{"id": "amount", "type": "number", "min": 0, "max": 100, "text": _text("Hoeveel?")}],
        "scoring": {"method": "mean", "min_answered": 1},
        "norms": {"sd": 10, "reliability": 0.8},
    }],
}

#: The same 1–5 question asked straight and reverse-coded, each its own scale.
MIRROR = {
    "id": "mirror", "version": 1, "title": _text("Spiegel"), "answer_sets": {"agree5": AGREE5},
    "scales": [
        {"id": "straight", "title": _text("Recht"), "scoring": {"method": "mean", "min_answered": 1},
         "items": [{"id": "s1", "type": "choice", "answer_set": "agree5", "text": _text("Recht")}]},
        {"id": "mirrored", "title": _text("Gespiegeld"), "scoring": {"method": "mean", "min_answered": 1},
         "items": [{"id": "m1", "type": "choice", "answer_set": "agree5", "reverse": True,
                    "text": _text("Gespiegeld")}]},
    ],
}

#: Scored by a plugin method that returns NaN for high answers: a buggy plugin's scores must
#: never reach the report as numbers.
BROKEN = {
    "id": "broken", "version": 1, "title": _text("Kapot"),
    "scales": [{
        "id": "broken", "title": _text("Kapot"),
        "items": [{"id": "b1", "type": "number", "min": 0, "max": 10, "step": 1, "text": _text("Getal")}],
        "scoring": {"method": "nan_above_five"},
    }],
}

#: Its extra question shares the id "q1" with a TRIAD item: ids are unique within an instrument only.
#: (Its id sorts after "triad", so a mix-up would let its answer win.)
CLASH = {
    "id": "village", "version": 1, "title": _text("Botsing"),
    "scales": [{"id": "village", "title": _text("Botsing"), "scoring": {"method": "mean", "min_answered": 1},
                "items": [{"id": "c1", "type": "number", "min": 0, "max": 10, "text": _text("Getal")}]}],
    "questions": [{"id": "q1", "type": "number", "min": 0, "max": 100, "text": _text("Hoe oud ben je?")}],
}

ALL = [RATING, TRIAD, NORMED, DECIMAL, MIRROR, BROKEN, CLASH]


def nan_above_five(values, scale):
    answered = [v for v in values.values() if v is not None]
    if not answered:
        return None
    return float("nan") if answered[0] > 5 else float(answered[0])


class OutcomeInstruments:
    @hookimpl
    def surveyhub_register_instruments(self):
        return list(ALL)

    @hookimpl
    def surveyhub_register_scoring_methods(self):
        return {"nan_above_five": nan_above_five}
