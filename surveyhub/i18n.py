"""Languages: Dutch by default, English on request (Flask-Babel); residents' pages also in Turkish, Arabic
and Polish.

Catalogs live as ``.po`` files in ``surveyhub/translations``; they are compiled
to ``.mo`` in the instance folder when the app starts (only when a ``.po`` is
newer), so nothing generated is committed.

Which language a request gets (``select_locale``): workers, admins and funders
choose between Dutch and English. On a resident's page (the blueprints in
``RESIDENT_BLUEPRINTS``) the choice is among the languages the project offers:
those every instrument of the project has, and Dutch (``offer_project_languages``,
called once the resident's link is resolved). Before a resident chooses, they
see the project's own language (``Project.language``). The tr, ar and pl
catalogs hold resident texts only; see docs/languages.md.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, refresh

from surveyhub.locale import (
    DEFAULT_LANGUAGE, LANGUAGE_NAMES, RESIDENT_LANGUAGES, direction, language, offered_languages,
)

#: The interface languages of every page, by their own names.
LANGUAGES = {"nl": "Nederlands", "en": "English"}
#: Blueprints whose pages residents read: they may speak every language in ``RESIDENT_LANGUAGES``.
RESIDENT_BLUEPRINTS = frozenset({"questionnaire", "resident_rights"})
SOURCE_DIR = Path(__file__).parent / "translations"

babel = Babel()


def allowed_languages() -> list[str]:
    """The languages this request may be shown in: the project's offer on a resident's page (all resident
    languages before the project is known), Dutch and English elsewhere."""
    offered = g.get("offered_languages")
    if offered:
        return offered
    if request.blueprint in RESIDENT_BLUEPRINTS:
        return list(RESIDENT_LANGUAGES)
    return list(LANGUAGES)


def select_locale() -> str:
    """``?lang=`` wins (among the allowed ones) and is remembered in the session; else the session's
    choice; else the project's first language on a resident's page; else Dutch."""
    allowed = allowed_languages()
    wanted = request.args.get("lang")
    if wanted in allowed:
        session["lang"] = wanted
        return wanted
    if session.get("lang") in allowed:
        return session["lang"]
    first = g.get("first_language")
    return first if first in allowed else DEFAULT_LANGUAGE


def offer_project_languages(project) -> None:
    """A resident's page of ``project``: offer the languages all its instruments have (and Dutch), and show
    the project's own language first. Re-selects the request's language if one was chosen already."""
    from surveyhub.services.responses import project_definitions

    offered = offered_languages([definition.get("languages") or list(LANGUAGES)
                                 for definition in project_definitions(project)])
    g.offered_languages = offered
    g.first_language = project.language if project.language in offered else DEFAULT_LANGUAGE
    refresh()


def current_language() -> str:
    """The request's language: Flask-Babel's locale through ``surveyhub.locale.language``, the one rule every
    page, download and document request uses. ``"nl"`` or ``"en"`` on staff pages (``select_locale`` allows
    no other there); on residents' pages also ``"tr"``, ``"ar"`` or ``"pl"``."""
    from flask_babel import get_locale

    return language(get_locale(), RESIDENT_LANGUAGES)


#: Compiled catalogs by source file and its modification time: a process that makes several apps (the CLI,
#: the tests) parses each ``.po`` once, not once per instance folder.
_COMPILED: dict[tuple[Path, int], bytes] = {}


def compile_catalogs(target: Path) -> Path:
    """Compile every ``.po`` into ``target`` when it is missing or stale."""
    for po_path in SOURCE_DIR.glob("*/LC_MESSAGES/*.po"):
        relative = po_path.relative_to(SOURCE_DIR).with_suffix(".mo")
        mo_path = target / relative
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = mo_path.with_suffix(f".mo.{os.getpid()}.tmp")  # a name per process: serve and worker start together
        tmp.write_bytes(_compiled(po_path))
        tmp.replace(mo_path)  # atomic: parallel workers never read half a file
    return target


def _compiled(po_path: Path) -> bytes:
    """The ``.mo`` bytes of one catalog, compiled once per version of the file in this process."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    key = (po_path, po_path.stat().st_mtime_ns)
    if key not in _COMPILED:
        with po_path.open("rb") as fh:
            catalog = read_po(fh)
        out = io.BytesIO()
        write_mo(out, catalog)
        _COMPILED[key] = out.getvalue()
    return _COMPILED[key]


def _language_choices() -> dict[str, str]:
    """The languages a chooser offers on this page, each by its own name."""
    if not has_request_context():
        return dict(LANGUAGES)
    return {code: LANGUAGE_NAMES[code] for code in allowed_languages()}


def init_app(app: Flask) -> None:
    compiled = compile_catalogs(Path(app.instance_path) / "translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "nl")
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def _languages():
        lang = current_language() if has_request_context() else DEFAULT_LANGUAGE
        return {"LANGUAGES": _language_choices(), "text_direction": direction(lang)}
