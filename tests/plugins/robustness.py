"""Plugins that misbehave at run time or at start-up, for ``tests/test_plugin_robustness.py``."""

from __future__ import annotations

import sys
import threading

from wtforms import StringField
from wtforms.validators import Optional

from surveyhub import hookimpl


class HangingListener:
    """A completed-response listener whose webhook never answers (until the test lets it go)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0
        self.returned = 0

    @hookimpl
    def surveyhub_response_completed(self, response):
        self.calls += 1
        self.release.wait(timeout=60)
        self.returned += 1


class ExitingListener:
    """A listener that calls ``sys.exit()`` while the app runs: must not end the worker."""

    @hookimpl
    def surveyhub_response_completed(self, response):
        sys.exit("webhook gave up")


class ExitsWhenRegistered:
    """Calls ``sys.exit()`` as soon as the plugin manager lists its attributes."""

    def __dir__(self):
        sys.exit(1)


class ExitsInAHook:
    """Calls ``sys.exit()`` from a hook the app calls while it starts."""

    @hookimpl
    def surveyhub_register_scoring_methods(self):
        sys.exit(2)


class BrokenTextType:
    """A question type whose ``code()`` has a bug: it fails on every answer."""

    scored = False

    def make_field(self, item, context):
        return StringField(item["text"].get(context.get("lang", "nl")) or item["text"]["nl"],
                           validators=[Optional()])

    def code(self, item, raw, context):
        return raw.upper() if raw is None else raw.decode()  # str has no decode(): AttributeError

    def value_range(self, item, context):
        return None


BROKEN_INSTRUMENT = {
    "id": "buurtwens",
    "version": 1,
    "title": {"nl": "Buurtwens", "en": "Neighbourhood wish"},
    "answer_sets": {"agree3": [
        {"value": 1, "label": {"nl": "Niet mee eens", "en": "Disagree"}},
        {"value": 2, "label": {"nl": "Neutraal", "en": "Neutral"}},
        {"value": 3, "label": {"nl": "Mee eens", "en": "Agree"}},
    ]},
    "scales": [{
        "id": "wish",
        "title": {"nl": "Wens", "en": "Wish"},
        "items": [{"id": f"bw_{n}", "type": "choice", "answer_set": "agree3",
                   "text": {"nl": f"Stelling {n}.", "en": f"Statement {n}."}} for n in (1, 2)],
        "scoring": {"method": "mean", "min_answered": 1},
    }],
    "questions": [{"id": "bw_wish", "type": "wish_text",
                   "text": {"nl": "Wat wens je de buurt toe?", "en": "What do you wish the neighbourhood?"}}],
}


class BrokenQuestionType:
    """Registers the broken type and an instrument that asks one question with it."""

    @hookimpl
    def surveyhub_register_question_types(self):
        return {"wish_text": BrokenTextType()}

    @hookimpl
    def surveyhub_register_instruments(self):
        return [BROKEN_INSTRUMENT]


SLOW_INSTRUMENT = {
    "id": "traagmeter",
    "version": 1,
    "title": {"nl": "Traagmeter", "en": "Slow meter"},
    "answer_sets": BROKEN_INSTRUMENT["answer_sets"],
    "scales": [{
        "id": "slow",
        "title": {"nl": "Traag", "en": "Slow"},
        "items": [{"id": f"tm_{n}", "type": "choice", "answer_set": "agree3",
                   "text": {"nl": f"Stelling {n}.", "en": f"Statement {n}."}} for n in (1, 2)],
        "scoring": {"method": "norms_lookup"},
    }],
}


class HangingScoring:
    """A scoring method that looks up norms on a server that never answers (until the test lets it go)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0
        self.returned = 0

    @hookimpl
    def surveyhub_register_scoring_methods(self):
        def norms_lookup(values, scale):
            self.calls += 1
            self.release.wait(timeout=60)
            self.returned += 1
            return 1.0
        return {"norms_lookup": norms_lookup}

    @hookimpl
    def surveyhub_register_instruments(self):
        return [SLOW_INSTRUMENT]


class SlowTextType(BrokenTextType):
    """A question type whose ``code()`` asks a spelling server that never answers (until the test lets it go)."""

    def __init__(self, release: threading.Event):
        self.release = release
        self.calls = 0
        self.returned = 0

    def code(self, item, raw, context):
        self.calls += 1
        self.release.wait(timeout=60)
        self.returned += 1
        return raw


class HangingQuestionType:
    """Registers the slow type and an instrument that asks one question with it."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.type = SlowTextType(self.release)

    @hookimpl
    def surveyhub_register_question_types(self):
        return {"checked_text": self.type}

    @hookimpl
    def surveyhub_register_instruments(self):
        scale = BROKEN_INSTRUMENT["scales"][0]
        items = [{**item, "id": item["id"].replace("bw_", "wv_")} for item in scale["items"]]
        questions = [{**BROKEN_INSTRUMENT["questions"][0], "id": "wv_wish", "type": "checked_text"}]
        return [{**BROKEN_INSTRUMENT, "id": "wachtvraag", "questions": questions,
                 "scales": [{**scale, "items": items}]}]
