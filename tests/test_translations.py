"""The Dutch catalog: complete, faithful to its placeholders, compilable, and used by default.

Dutch is the default language, so an English msgid without a Dutch translation
shows up as English on a Dutch page. These tests extract the messages straight
from the source (the same method map as ``babel.cfg`` and the same keywords as
``make translations``), so a new ``_()`` without a translation fails here with
a list of what is missing. Run ``make translations`` and translate the new
entries in ``surveyhub/translations/nl/LC_MESSAGES/messages.po``.
"""

from __future__ import annotations

import gettext
import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
BABEL_CFG = ROOT / "babel.cfg"
DUTCH_PO = ROOT / "surveyhub" / "translations" / "nl" / "LC_MESSAGES" / "messages.po"

#: As in the Makefile: ``pybabel extract -k _l -k lazy_gettext`` on top of babel's defaults.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

#: ``%(name)s`` and friends (flags, width, precision, conversion), as Python's %-formatting reads them.
PLACEHOLDER = re.compile(r"%\((?P<name>[^)]*)\)[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa]")


def _placeholders(text: str) -> set[str]:
    return {m.group("name") for m in PLACEHOLDER.finditer(text.replace("%%", ""))}


def _forms(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _is_translated(message) -> bool:
    forms = _forms(message.string)
    return bool(forms) and all(form.strip() for form in forms) and not message.fuzzy


def _label(msgid) -> str:
    return repr(msgid if isinstance(msgid, str) else msgid[0])


@pytest.fixture(scope="module")
def source_messages() -> dict[tuple[str, str | None], list[str]]:
    """Every translatable string in the source: (msgid, context) -> where it is used."""
    with BABEL_CFG.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, filename=str(BABEL_CFG))
    found: dict[tuple[str, str | None], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def catalog():
    assert DUTCH_PO.exists(), f"missing Dutch catalog {DUTCH_PO}; run `make translations`"
    with DUTCH_PO.open("rb") as fh:
        return read_po(fh, locale="nl", abort_invalid=True)


def test_extraction_finds_the_ui(source_messages):
    """A guard for the guard: an extraction that silently finds nothing would pass everything."""
    ids = {msgid for msgid, _context in source_messages}
    assert {"Log in", "Choose one of the answers.", "Make your own code", "Instruments"} <= ids
    assert len(ids) > 200


def test_every_source_message_has_a_dutch_translation(source_messages, catalog):
    missing = []
    # Sorted by msgid, then context (None, a page's text, before a document's context).
    for (msgid, context), places in sorted(source_messages.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        message = catalog.get(msgid, context=context)
        if message is None:
            missing.append(f"{msgid!r} (not in messages.po; used at {places[0]})")
        elif not _is_translated(message):
            state = "fuzzy" if message.fuzzy else "empty"
            missing.append(f"{msgid!r} ({state}; used at {places[0]})")
    assert not missing, (f"{len(missing)} message(s) without a Dutch translation; run `make translations` "
                         f"and translate them in {DUTCH_PO.relative_to(ROOT)}:\n  " + "\n  ".join(missing))


def test_catalog_has_no_fuzzy_or_empty_entries(catalog):
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"
    bad = [_label(m.id) for m in catalog if m.id and not _is_translated(m)]
    assert not bad, "fuzzy or empty entries in messages.po:\n  " + "\n  ".join(bad)


def test_translations_keep_the_placeholders(catalog):
    wrong = []
    for message in catalog:
        if not message.id or not _is_translated(message):
            continue
        ids = _forms(message.id)
        expected = set().union(*(_placeholders(i) for i in ids))
        for form in _forms(message.string):
            got = _placeholders(form)
            # A plural catalog may leave the count out of a singular form; otherwise the sets must match.
            if got != expected and not (len(ids) > 1 and got < expected):
                wrong.append(f"{_label(message.id)}: expects {sorted(expected)}, has {sorted(got)} in {form!r}")
    assert not wrong, "translations with other placeholders than their msgid:\n  " + "\n  ".join(wrong)


def test_translations_format_like_their_msgid(catalog):
    """Where the English formats with %-values (Jinja always formats), the Dutch must too: "95%%" stays "%%"."""
    broken = []
    for message in catalog:
        if not message.id or not _is_translated(message):
            continue
        ids = _forms(message.id)
        values = {name: "x" for i in ids for name in _placeholders(i)}
        for msgid in ids:
            try:
                msgid % values
            except (TypeError, ValueError, KeyError):
                break  # the msgid itself is not a %-format string; nothing to compare
        else:
            for form in _forms(message.string):
                try:
                    form % values
                except (TypeError, ValueError, KeyError) as exc:
                    broken.append(f"{_label(message.id)}: {form!r} ({exc})")
    assert not broken, "translations that break %-formatting:\n  " + "\n  ".join(broken)


def test_catalog_passes_babel_checks_and_compiles(catalog):
    problems = [f"{_label(message.id)}: {error}" for message, errors in catalog.check() for error in errors]
    assert not problems, "babel's catalog checks failed:\n  " + "\n  ".join(problems)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    compiled = gettext.GNUTranslations(buffer)
    assert compiled.gettext("Log in") == "Inloggen"
    assert compiled.gettext("Make your own code") != "Make your own code"


def test_login_page_is_dutch_by_default_and_english_on_request(client):
    dutch = client.get("/login")
    assert dutch.status_code == 200
    page = dutch.get_data(as_text=True)
    assert '<html lang="nl">' in page
    assert "Inloggen" in page and "Wachtwoord" in page
    assert "Log in" not in page

    english = client.get("/login?lang=en")
    assert english.status_code == 200
    page = english.get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Log in" in page and "Password" in page
    assert "Inloggen" not in page

    remembered = client.get("/login").get_data(as_text=True)
    assert "Log in" in remembered, "the chosen language should stay for the rest of the session"
