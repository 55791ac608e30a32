"""One small, realistic plugin per hook, registered by tests through ``EXTRA_PLUGINS``.

Each class does what a plugin author would plausibly write, so the tests in
``tests/test_hooks.py`` exercise the contract the way real plugins will.
"""

from __future__ import annotations

import csv
import io
import statistics
from pathlib import Path

from markupsafe import Markup
from wtforms import RadioField
from wtforms.validators import Optional

from surveyhub import hookimpl
from surveyhub.measures.questions import radio_choices
from surveyhub.measures.definition import translate

DATA = Path(__file__).with_name("data")

GARDEN = {
    "id": "garden_days",
    "version": 1,
    "title": {"nl": "Tuindagen", "en": "Garden days"},
    "answer_sets": {"often4": [
        {"value": 1, "label": {"nl": "Nooit", "en": "Never"}},
        {"value": 2, "label": {"nl": "Soms", "en": "Sometimes"}},
        {"value": 3, "label": {"nl": "Vaak", "en": "Often"}},
        {"value": 4, "label": {"nl": "Altijd", "en": "Always"}},
    ]},
    "scales": [{
        "id": "gardening",
        "title": {"nl": "Samen tuinieren", "en": "Gardening together"},
        "items": [
            {"id": "gd_1", "type": "choice", "answer_set": "often4",
             "text": {"nl": "Ik help mee in de buurttuin.", "en": "I help in the community garden."}},
            {"id": "gd_2", "type": "choice", "answer_set": "often4",
             "text": {"nl": "Ik neem iemand mee naar de tuin.", "en": "I bring someone along to the garden."}},
            {"id": "gd_3", "type": "choice", "answer_set": "often4",
             "text": {"nl": "Ik leg een ander uit wat er moet gebeuren.",
                      "en": "I explain to someone else what needs doing."}},
        ],
        "scoring": {"method": "median", "min_answered": 2},
    }],
}


class Instruments:
    """Registers one instrument as a dict and one as a path to a YAML file."""

    @hookimpl
    def surveyhub_register_instruments(self):
        return [GARDEN, DATA / "buurtquiz.yaml"]


def score_median(values, scale):
    answered = [v for v in values.values() if v is not None]
    if len(answered) < scale["scoring"].get("min_answered", 1):
        return None
    return float(statistics.median(answered))


class Scoring:
    @hookimpl
    def surveyhub_register_scoring_methods(self):
        return {"median": score_median}


class StarsType:
    """One to three stars; the word stays in the label for screen readers."""

    scored = True
    WORDS = {1: {"nl": "een ster", "en": "one star"}, 2: {"nl": "twee sterren", "en": "two stars"},
             3: {"nl": "drie sterren", "en": "three stars"}}

    def make_field(self, item, context):
        lang = context.get("lang", "nl")
        choices = radio_choices(
            (str(n), Markup('<span aria-hidden="true">{}</span> {}').format("★" * n, translate(self.WORDS[n], lang)))
            for n in (1, 2, 3))
        return RadioField(translate(item["text"], lang), choices=choices, validators=[Optional()],
                          validate_choice=False)

    def code(self, item, raw, context):
        if raw in (None, ""):
            return None
        if str(raw) not in ("1", "2", "3"):
            raise ValueError("Kies een, twee of drie sterren." if context.get("lang", "nl") == "nl"
                             else "Choose one, two or three stars.")
        return float(raw)

    def value_range(self, item, context):
        return (1.0, 3.0)


class QuestionTypes:
    @hookimpl
    def surveyhub_register_question_types(self):
        return {"stars": StarsType()}


class CertificateSections:
    """A thank-you line that names the project; plain text, the certificate escapes it."""

    @hookimpl
    def surveyhub_certificate_sections(self, context):
        grew = [scale["title"] for scale in context["scales"] if scale["grew"]]
        if not grew:
            return None
        title = {"nl": "Waar je in groeide", "en": "Where you grew"}[context["lang"]]
        return [{"title": title, "body": f"{context['participant']['display_name']}: {', '.join(grew)} "
                                         f"({context['project']['name']})"}]


class ReportSections:
    @hookimpl
    def surveyhub_report_sections(self, context):
        report = context["report"]
        paired = report["participation"]["paired"]
        return [{"title": "Bereik" if context["lang"] == "nl" else "Reach",
                 "body": f"{paired} of {report['participation']['invited']} residents answered twice "
                         f"in {context['project']['name']}."}]


class JsonLinesExporter:
    """One JSON object per response; what a researcher's notebook reads most easily."""

    extension = "jsonl"
    mimetype = "application/x-ndjson"

    def write(self, table, stream):
        import json

        for row in table.rows():
            stream.write((json.dumps(dict(zip(table.columns, row)), ensure_ascii=False) + "\n").encode())


class SemicolonCsvExporter:
    """Dutch Excel opens ';'-separated files with decimal commas directly."""

    extension = "csv"
    mimetype = "text/csv"

    def write(self, table, stream):
        text = io.StringIO()
        writer = csv.writer(text, delimiter=";")
        writer.writerow([table.labels.get(column, column) for column in table.columns])
        for row in table.rows():
            writer.writerow([str(v).replace(".", ",") if isinstance(v, float) else ("" if v is None else v)
                             for v in row])
        stream.write(text.getvalue().encode("utf-8-sig"))


class ExportFormats:
    @hookimpl
    def surveyhub_register_export_formats(self):
        return {"jsonl": JsonLinesExporter(), "csv-nl": SemicolonCsvExporter()}


class CompletedRecorder:
    """Keeps every completed-response event, as a webhook plugin would send them on."""

    def __init__(self):
        self.events: list[dict] = []

    @hookimpl
    def surveyhub_response_completed(self, response):
        self.events.append(response)
