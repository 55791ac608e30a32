"""Residents' own languages: Turkish, Arabic and Polish beside Dutch and English.

A resident chooses among the languages every instrument of the project has (and
Dutch), sees the project's own language first, keeps the choice for the visit,
and answers in it; Arabic pages run right to left. Staff pages stay Dutch or
English. The tr, ar and pl catalogs translate every text of the resident pages
and certificates, with the right plural forms, and certificates are written in
the resident's language (Arabic right to left). Flask-Login's own messages
speak the page's language.
"""

from __future__ import annotations

import copy
import os
import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from sqlalchemy import select

from surveyhub import locale
from surveyhub.i18n import compile_catalogs
from surveyhub.models import Organisation, Project, Response
from surveyhub.services import access
from surveyhub.services import documents as docs
from tests.fixtures.documents import BASE_URL, pdf_reader, pdf_text
from tests.fixtures.factories import csrf_token
from tests.fixtures.outcomes import answer, at_levels

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "surveyhub" / "translations"
NEW_LANGUAGES = ("tr", "ar", "pl")
#: Where the texts of the resident pages come from (docs/languages.md lists the same); certificates' texts
#: are the messages with context "certificate".
RESIDENT_SOURCES = (
    "surveyhub/web/templates/questionnaire/", "surveyhub/web/templates/resident_rights/",
    "surveyhub/web/templates/errors/403.html", "surveyhub/web/templates/errors/404.html",
    "surveyhub/web/templates/errors/413.html", "surveyhub/web/templates/errors/429.html",
    "surveyhub/web/templates/errors/csrf.html", "surveyhub/web/templates/mail/opt_out.html",
    "surveyhub/web/questionnaire.py", "surveyhub/web/page_flow.py", "surveyhub/web/questionnaire_forms.py",
    "surveyhub/web/resident_rights.py", "surveyhub/services/consent.py", "surveyhub/services/anonymous.py",
    "surveyhub/measures/questions.py",
    "surveyhub/web/templates/contributions/mine.html", "surveyhub/web/contribution_forms.py",
    "surveyhub/web/templates/resident_badges/",
    "surveyhub/services/contributions.py",
)
#: Texts of shared modules that residents see too: a certificate's PDF title and the wave names on "my data".
SHARED_MESSAGES = {("Certificate", "document title"), ("Certificate of participation", "document title"),
                   ("Pre wave (nulmeting)", None), ("Post wave (eindmeting)", None),
                   ("Follow-up wave (vervolgmeting)", None)}
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")

#: A small instrument written in all five languages (texts are test data, not shipped wording).
TALEN = """
id: talen
version: 1
title: {nl: Meedoen in de buurt, en: Taking part, tr: Mahallede katılım, ar: المشاركة في الحي, pl: Udział}
languages: [nl, en, tr, ar, pl]
answer_sets:
  agree5:
    - {value: 1, label: {nl: Helemaal niet mee eens, en: Strongly disagree, tr: Hiç katılmıyorum, ar: لا أوافق أبدًا,
       pl: Zdecydowanie się nie zgadzam}}
    - {value: 2, label: {nl: Niet mee eens, en: Disagree, tr: Katılmıyorum, ar: لا أوافق, pl: Nie zgadzam się}}
    - {value: 3, label: {nl: "Niet eens, niet oneens", en: Neither, tr: Kararsızım, ar: محايد, pl: "Ani tak, ani nie"}}
    - {value: 4, label: {nl: Mee eens, en: Agree, tr: Katılıyorum, ar: أوافق, pl: Zgadzam się}}
    - {value: 5, label: {nl: Helemaal mee eens, en: Strongly agree, tr: Tamamen katılıyorum, ar: أوافق تمامًا,
       pl: Zdecydowanie się zgadzam}}
scales:
  - id: talen
    title: {nl: Meedoen, en: Taking part, tr: Katılım, ar: المشاركة, pl: Udział}
    higher_is_better: true
    items:
      - id: tal_1
        type: choice
        answer_set: agree5
        text: {nl: Ik help een buur., en: I help a neighbour., tr: Bir komşuma yardım ederim., ar: أساعد جارًا.,
               pl: Pomagam sąsiadowi.}
        can_do: {nl: een buur helpen, en: help a neighbour, tr: bir komşuya yardım etmek, ar: مساعدة الجيران,
                 pl: pomóc sąsiadowi}
      - id: tal_2
        type: choice
        answer_set: agree5
        text: {nl: Ik praat mee op een bijeenkomst., en: I speak at a meeting., tr: Bir toplantıda konuşurum.,
               ar: أتكلم في اجتماع., pl: Zabieram głos na spotkaniu.}
        can_do: {nl: meepraten op een bijeenkomst, en: speak at a meeting, tr: bir toplantıda konuşmak,
                 ar: الكلام في اجتماع, pl: zabrać głos na spotkaniu}
      - id: tal_3
        type: choice
        answer_set: agree5
        text: {nl: Ik ken mensen in de buurt., en: I know people nearby., tr: Mahallede insanları tanırım.,
               ar: أعرف أناسًا في الحي., pl: Znam ludzi w dzielnicy.}
    scoring: {method: mean, min_answered: 2}
"""


def _only(languages: list[str], value):
    """``value`` with every translation object cut down to ``languages``."""
    if isinstance(value, dict):
        if value and set(value) <= set(locale.RESIDENT_LANGUAGES):
            return {k: v for k, v in value.items() if k in languages}
        return {k: _only(languages, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_only(languages, v) for v in value]
    return value


def write_instruments(folder: Path) -> Path:
    """``talen`` and ``samen`` in five languages, ``buren`` (the same items) in Dutch, English and Turkish only."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "talen.yaml").write_text(TALEN, encoding="utf-8")
    (folder / "samen.yaml").write_text(TALEN.replace("id: talen", "id: samen"), encoding="utf-8")
    buren = _only(["nl", "en", "tr"], copy.deepcopy(yaml.safe_load(TALEN)))
    buren.update(id="buren", languages=["nl", "en", "tr"])
    (folder / "buren.yaml").write_text(yaml.safe_dump(buren, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "INSTRUMENTS_DIR": str(write_instruments(tmp_path / "instruments"))}


def _link(make_org, make_project, make_participant, instruments=("talen",), language: str | None = None,
          session=None, name: str = "Ayşe"):
    org = make_org()
    project = make_project(org, "Buurttuin", instruments=instruments)
    if language:
        session.scalar(select(Project).where(Project.slug == project.slug)).language = language
        session.commit()
    return org, project, make_participant(org, project.slug, name)


def _html_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page).group(0)


def _choices(page: str) -> set[str]:
    return set(re.findall(r'class="lang" href="\?lang=(\w+)"', page))


# --- the rules, without a web request ------------------------------------------------------------

def test_residents_are_offered_what_every_instrument_has_and_always_dutch():
    assert locale.offered_languages([["nl", "en", "tr", "ar", "pl"]]) == ["nl", "en", "tr", "ar", "pl"]
    assert locale.offered_languages([["nl", "en", "tr", "ar", "pl"], ["nl", "en", "tr"]]) == ["nl", "en", "tr"]
    assert locale.offered_languages([["en", "tr"], ["tr", "de"]]) == ["nl", "tr"], "Dutch always; no German UI"
    assert locale.offered_languages([["nl"], ["nl", "en"]]) == ["nl"]


def test_an_unknown_language_falls_back_to_dutch_and_arabic_runs_right_to_left():
    assert locale.resident_language("ar-EG") == "ar" and locale.resident_language("pl_PL") == "pl"
    assert locale.resident_language("de") == "nl" and locale.resident_language(None) == "nl"
    assert locale.language("tr") == "nl", "staff pages know only Dutch and English"
    assert locale.direction("ar") == "rtl" and locale.direction("tr") == "ltr" and locale.direction("xx") == "ltr"
    assert locale.Numbers("pl").date(date(2026, 11, 25)) == "25 listopada 2026"
    assert locale.join_words(["a", "b", "c"], "ar") == "a، b و c"


# --- the resident's pages -----------------------------------------------------------------------

def test_a_resident_chooses_arabic_and_the_page_runs_right_to_left(client, make_org, make_project, make_participant):
    _org, _project, invitation = _link(make_org, make_project, make_participant)
    page = client.get(f"/q/{invitation.token}?lang=ar").get_data(as_text=True)
    assert _html_tag(page) == '<html lang="ar" dir="rtl">'
    assert "انتقل إلى المحتوى" in page, "the Arabic catalog is used"
    assert _choices(page) == {"nl", "en", "tr", "pl"}, "every other language of the instruments is offered"
    remembered = client.get(f"/q/{invitation.token}").get_data(as_text=True)
    assert _html_tag(remembered) == '<html lang="ar" dir="rtl">', "the choice holds for the visit"
    dutch = client.get(f"/q/{invitation.token}?lang=nl").get_data(as_text=True)
    assert _html_tag(dutch) == '<html lang="nl">'


def test_only_languages_every_instrument_has_are_offered(client, make_org, make_project, make_participant):
    _org, _project, invitation = _link(make_org, make_project, make_participant, instruments=("talen", "buren"))
    page = client.get(f"/q/{invitation.token}?lang=ar").get_data(as_text=True)
    assert _html_tag(page) == '<html lang="nl">', "buren has no Arabic: the resident stays in Dutch"
    assert _choices(page) == {"en", "tr"}
    turkish = client.get(f"/q/{invitation.token}?lang=tr").get_data(as_text=True)
    assert _html_tag(turkish) == '<html lang="tr">' and "İçeriğe geç" in turkish


def test_the_projects_language_comes_first_and_the_response_records_the_choice(
        client, session, make_org, make_project, make_participant):
    _org, _project, invitation = _link(make_org, make_project, make_participant, language="pl", session=session)
    first = client.get(f"/q/{invitation.token}")
    assert _html_tag(first.get_data(as_text=True)) == '<html lang="pl">'
    assert "Przejdź do treści" in first.get_data(as_text=True)
    sent = client.post(f"/q/{invitation.token}", data={"csrf_token": csrf_token(first.get_data(as_text=True)),
                                                       "consent": "y"})
    assert sent.status_code == 302
    session.expire_all()
    assert session.scalars(select(Response.language)).all() == ["pl"]
    question = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Pomagam sąsiadowi." in question and "Zdecydowanie się zgadzam" in question
    assert "Dalej" in question or "Wyślij moje odpowiedzi" in question


def test_staff_pages_stay_dutch_or_english_whatever_a_resident_chose(client, make_org, make_project,
                                                                     make_participant):
    _org, _project, invitation = _link(make_org, make_project, make_participant)
    client.get(f"/q/{invitation.token}?lang=tr")
    login = client.get("/login").get_data(as_text=True)
    assert _html_tag(login) == '<html lang="nl">' and "Inloggen" in login
    assert _choices(login) == {"en"}, "staff pages offer only Dutch and English"
    assert _html_tag(client.get("/login?lang=ar").get_data(as_text=True)) == '<html lang="nl">'


def test_flask_logins_message_speaks_the_pages_language(client):
    dutch = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Log in om deze pagina te openen." in dutch and "Please log in" not in dutch
    client.get("/login?lang=en")
    english = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Please log in to access this page." in english


# --- catalogs -----------------------------------------------------------------------------------

def _catalog(lang: str):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang, abort_invalid=True)


@pytest.fixture(scope="module")
def resident_messages() -> dict[tuple[str, str | None], str]:
    """Every text of the resident pages and certificates: (msgid, context) -> where it is used."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, filename=str(ROOT / "babel.cfg"))
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        where = filename.replace("\\", "/")
        msgid = message if isinstance(message, str) else message[0]
        if msgid and (context == "certificate" or (msgid, context) in SHARED_MESSAGES
                      or where.startswith(RESIDENT_SOURCES)):
            found[(msgid, context)] = f"{where}:{lineno}"
    return found


def test_resident_texts_are_found(resident_messages):
    assert ("Next", None) in resident_messages and ("Certificate", "certificate") in resident_messages
    assert len(resident_messages) > 100


@pytest.mark.parametrize("lang", NEW_LANGUAGES)
def test_every_resident_text_is_translated_and_keeps_its_placeholders(lang, resident_messages):
    catalog = _catalog(lang)
    missing, broken = [], []
    for (msgid, context), where in sorted(resident_messages.items()):
        message = catalog.get(msgid, context)
        forms = () if message is None else ((message.string,) if isinstance(message.string, str)
                                            else tuple(message.string))
        if message is None or message.fuzzy or not forms or not all(f.strip() for f in forms):
            missing.append(f"{msgid!r} ({where})")
            continue
        wanted = set(PLACEHOLDER.findall(msgid))
        broken += [f"{msgid!r} -> {form!r}" for form in forms if set(PLACEHOLDER.findall(form)) != wanted]
    assert not missing, f"{lang}: untranslated resident texts:\n" + "\n".join(missing)
    assert not broken, f"{lang}: placeholders changed:\n" + "\n".join(broken)


@pytest.mark.parametrize(("lang", "plurals"), [("tr", 2), ("ar", 6), ("pl", 3)])
def test_catalogs_have_the_right_plural_forms_and_say_they_are_drafts(lang, plurals):
    catalog = _catalog(lang)
    assert catalog.num_plurals == plurals
    assert all(len(m.string) == plurals for m in catalog if m.id and m.pluralizable)
    assert "DRAFT" in (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")[:600]


def test_the_new_catalogs_are_compiled_at_start_up(app):
    compiled = Path(app.instance_path) / "translations"
    for lang in NEW_LANGUAGES:
        assert (compiled / lang / "LC_MESSAGES" / "messages.mo").stat().st_size > 1000
    again = compile_catalogs(compiled)  # nothing stale: the same files stay
    assert again == compiled


# --- certificates -------------------------------------------------------------------------------

def _certificate(app, session, make_org, make_project, make_participant, name: str, lang: str):
    org, project, resident = _link(make_org, make_project, make_participant, name=name)
    answer(app, session, project.slug, "pre", resident.code, at_levels(session, project.slug, {"talen": 2}))
    answer(app, session, project.slug, "post", resident.code, at_levels(session, project.slug, {"talen": 4}))
    for response in session.scalars(select(Response)):
        response.language = lang
    session.commit()
    actor = access.Actor(organisation_id=org.id, role="worker")
    return org, project, resident, docs.issue_certificate(session, actor, project.slug, resident.code,
                                                          base_url=BASE_URL)


def test_a_polish_certificate_reads_polish(app, session, make_org, make_project, make_participant):
    _org, _project, _resident, issued = _certificate(app, session, make_org, make_project, make_participant,
                                                     "Agnieszka", "pl")
    text = pdf_text(issued.pdf)
    assert issued.language == "pl" and pdf_reader(issued.pdf).trailer["/Root"]["/Lang"] == "pl"
    assert "Certyfikat" in text and "Co Agnieszka teraz potrafi" in text
    assert "Agnieszka potrafi teraz pomóc sąsiadowi." in text
    assert f"Kod: {issued.code}" in text and "Wydano " in text


def test_an_arabic_certificate_reads_arabic_right_to_left(app, session, make_org, make_project, make_participant):
    _org, _project, _resident, issued = _certificate(app, session, make_org, make_project, make_participant,
                                                     "Fatima", "ar")
    assert issued.language == "ar" and pdf_reader(issued.pdf).trailer["/Root"]["/Lang"] == "ar"
    text = pdf_text(issued.pdf)
    assert "Fatima" in text and issued.code in text
    # pypdf gives Arabic back letter by letter in shaped (presentation) forms; compare the letters.
    import unicodedata
    letters = unicodedata.normalize("NFKC", text)
    for word in ("شهادة", "مساعدة", "الجيران"):
        assert word in letters or word[::-1] in letters, word


def test_bulk_certificates_follow_the_organisations_language(app, session, make_org, make_project,
                                                            make_participant):
    from surveyhub.services import document_context as dc

    org, project, _resident, _issued = _certificate(app, session, make_org, make_project, make_participant,
                                                    "Can", "tr")
    found = session.scalar(select(Project).where(Project.slug == project.slug))
    assert dc.bulk_certificate_language(session, found) is None, "None: each resident's own language"
    session.get(Organisation, org.id).certificate_language = "en"
    session.commit()
    assert dc.bulk_certificate_language(session, found) == "en"
    candidates = docs.certificate_candidates(session, access.Actor(organisation_id=org.id, role="worker"),
                                             project.slug)
    issued = docs.issue_certificate(session, access.Actor(organisation_id=org.id, role="worker"), project.slug,
                                    candidates[0].code, base_url=BASE_URL,
                                    lang=dc.bulk_certificate_language(session, found))
    assert issued.language == "en" and "Can can now help a neighbour." in pdf_text(issued.pdf)


def test_the_certificates_zip_is_in_the_organisations_language(app, session, make_org, make_project,
                                                               make_participant, make_user, client_for):
    import io
    import zipfile

    org, project, _resident, _issued = _certificate(app, session, make_org, make_project, make_participant,
                                                    "Marek", "tr")
    session.get(Organisation, org.id).certificate_language = "pl"
    worker = make_user("worker", org)
    session.commit()
    client = client_for(worker.email)
    token = csrf_token(client.get(f"/projects/{project.slug}/documents").get_data(as_text=True))

    started = client.post(f"/projects/{project.slug}/documents/certificates.zip", data={"csrf_token": token})
    response = client.get(started.headers["Location"] + "/download")  # made by a job (run at once in tests)

    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        [name] = archive.namelist()
        assert name.startswith("certyfikat-")
        assert "Marek potrafi teraz pomóc sąsiadowi." in pdf_text(archive.read(name))


def test_a_resident_who_switches_language_midway_is_recorded_in_the_new_one(
        client, session, make_org, make_project, make_participant):
    _org, _project, invitation = _link(make_org, make_project, make_participant, instruments=("talen", "samen"))
    start = client.get(f"/q/{invitation.token}").get_data(as_text=True)
    client.post(f"/q/{invitation.token}", data={"csrf_token": csrf_token(start), "consent": "y"})
    session.expire_all()
    assert session.scalars(select(Response.language)).all() == ["nl"]

    page = client.get(f"/q/{invitation.token}/p/0?lang=ar").get_data(as_text=True)
    assert _html_tag(page) == '<html lang="ar" dir="rtl">'
    sent = client.post(f"/q/{invitation.token}/p/0", data={
        "csrf_token": csrf_token(page), "move": "next", **{f"now__talen__tal_{i}": "4" for i in (1, 2, 3)}})
    assert sent.status_code == 302
    session.expire_all()
    assert session.scalars(select(Response.language)).all() == ["ar"]


def test_a_changed_catalog_is_compiled_again_not_taken_from_the_process_cache(tmp_path, monkeypatch):
    from surveyhub import i18n

    source = tmp_path / "source" / "nl" / "LC_MESSAGES"
    source.mkdir(parents=True)
    po = source / "messages.po"
    po.write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Start"\nmsgstr "Begin"\n',
                  encoding="utf-8")
    monkeypatch.setattr(i18n, "SOURCE_DIR", tmp_path / "source")
    first = compile_catalogs(tmp_path / "one") / "nl" / "LC_MESSAGES" / "messages.mo"
    assert b"Begin" in first.read_bytes()
    po.write_text(po.read_text(encoding="utf-8").replace("Begin", "Aan de slag"), encoding="utf-8")
    os.utime(po, ns=(po.stat().st_atime_ns, po.stat().st_mtime_ns + 10**9))
    second = compile_catalogs(tmp_path / "two") / "nl" / "LC_MESSAGES" / "messages.mo"
    assert b"Aan de slag" in second.read_bytes() and b"Begin" not in second.read_bytes()
