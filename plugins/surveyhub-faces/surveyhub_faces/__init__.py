"""SurveyHub plugin: the ``faces`` question type and the ``faces_wellbeing`` instrument.

Installed as a package; SurveyHub finds it through the ``surveyhub`` entry
point in ``pyproject.toml``. The hooks below are the whole plugin: everything
else is ordinary code that the hooks hand over.
"""

from __future__ import annotations

from pathlib import Path

from surveyhub import hookimpl

from surveyhub_faces.faces import FacesType

__all__ = ["FacesType", "INSTRUMENT_FILE"]

#: The instrument definition shipped as package data.
INSTRUMENT_FILE = Path(__file__).with_name("faces_wellbeing.yaml")


@hookimpl
def surveyhub_register_question_types():
    return {"faces": FacesType()}


@hookimpl
def surveyhub_register_instruments():
    return [INSTRUMENT_FILE]
