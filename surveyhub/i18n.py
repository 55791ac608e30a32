"""Languages: Dutch by default, English on request (Flask-Babel).

Catalogs live as ``.po`` files in ``surveyhub/translations``; they are compiled
to ``.mo`` in the instance folder when the app starts (only when a ``.po`` is
newer), so nothing generated is committed.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request, session
from flask_babel import Babel

from surveyhub.locale import language

LANGUAGES = {"nl": "Nederlands", "en": "English"}
SOURCE_DIR = Path(__file__).parent / "translations"

babel = Babel()


def select_locale() -> str:
    """``?lang=`` wins and is remembered in the session; else the session; else Dutch."""
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted
        return wanted
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    return "nl"


def current_language() -> str:
    """The request's language, ``"nl"`` or ``"en"``: Flask-Babel's locale through ``surveyhub.locale.language``,
    the one rule every page, download and document request uses."""
    from flask_babel import get_locale

    return language(get_locale())


def compile_catalogs(target: Path) -> Path:
    """Compile every ``.po`` into ``target`` when it is missing or stale."""
    for po_path in SOURCE_DIR.glob("*/LC_MESSAGES/*.po"):
        relative = po_path.relative_to(SOURCE_DIR).with_suffix(".mo")
        mo_path = target / relative
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as fh:
            catalog = read_po(fh)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog)
        tmp.replace(mo_path)  # atomic: parallel workers never read half a file
    return target


def init_app(app: Flask) -> None:
    compiled = compile_catalogs(Path(app.instance_path) / "translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "nl")
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def _languages():
        return {"LANGUAGES": LANGUAGES}
