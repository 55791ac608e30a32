"""Bounded input: one rule for free text at the boundary, and limits on what an instrument may hold.

Free text (answers, names, project texts, CSV cells) is cleaned where it
comes in: NFC, no NUL or control characters but tab and newline, lone
surrogates replaced. So every store (SQLite, PostgreSQL) and every export
(CSV, XLSX, SAV) takes it: never a 500, never a lost page, never text cut
short. Absurd requests (10 MB, 100,000 fields) are refused before any work.
"""

from __future__ import annotations

import csv
import io
import unicodedata

import openpyxl
import pyreadstat
import pytest
from sqlalchemy import func, select

from surveyhub.models import Answer, Participant, Project, ProjectQuestion
from surveyhub.services import access, exports, projects
from surveyhub.text import clean
from tests.fixtures.factories import csrf_token
from tests.test_questionnaire import Resident, all_agree, key, stored_answers

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: a format character, kept as typed


# --- the rule itself ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("goed\x00gedaan", "goedgedaan"),
    ("bel\x07 me\x1b[31m", "bel me[31m"),
    ("regel 1\r\nregel 2\rregel 3", "regel 1\nregel 2\nregel 3"),
    ("tab\tblijft\nnewline ook", "tab\tblijft\nnewline ook"),
    ("Cafe\u0301", "Café"),
    ("half \ud83d paar", "half \ufffd paar"),
    ("\x85\x9f\x7f", ""),
    (f"{RLO}gnirts", f"{RLO}gnirts"),
    ("", ""),
])
def test_clean_applies_one_rule(raw, expected):
    assert clean(raw) == expected
    assert clean(clean(raw)) == clean(raw)
    assert unicodedata.is_normalized("NFC", clean(raw))


# --- the resident's answers, stored and exported --------------------------------------------------

@pytest.fixture
def query(app):
    def run(stmt):
        with app.extensions["surveyhub.db"].session() as db_session:
            return db_session.execute(stmt).all()
    return run


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")


@pytest.fixture
def project(org, make_project):
    return make_project(org, "Buurttuin")


@pytest.fixture
def extra(session, org, project):
    """The questionnaire's last page: a number question (0-10) and an open question."""
    actor = access.Actor(organisation_id=org.id, role="admin")
    number = projects.add_question(session, actor, project.slug, "number", "Hoeveel buren ken je?", "", 0, 10)
    text = projects.add_question(session, actor, project.slug, "text", "Wat wil je nog zeggen?", "")
    session.commit()
    return key(number, "_project"), key(text, "_project")


@pytest.fixture
def worker(org, make_user, client_for):
    return client_for(make_user("worker", org).email)


def answer_last_page(app, org, project, make_participant, answers: dict):
    """A new resident on their own phone answers every page; the last page gets ``answers``."""
    resident = Resident(app.test_client(), make_participant(org, project.slug).token)
    resident.consent()
    assert resident.submit(0, all_agree("4")).status_code == 302
    assert resident.submit(1, {}).status_code == 302
    return resident, resident.submit(2, answers)


def texts_stored(query, token, item_key) -> list:
    item = item_key.rsplit("__", 1)[1]
    return [v for (_b, _i, it), v in stored_answers(query, token).items() if it == item]


HOSTILE_TEXTS = {
    "nul": ("Goed\x00 gedaan", "Goed gedaan"),
    "bell": ("Fijn\x07 project\x1b", "Fijn project"),
    "crlf": ("Eerst dit.\r\nDan dat.", "Eerst dit.\nDan dat."),
    "nfd": ("Cafe\u0301 de buurt", "Café de buurt"),
    "rlo": (f"Naam: {RLO}kcirtaP", f"Naam: {RLO}kcirtaP"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_TEXTS))
def test_a_special_character_in_an_answer_never_loses_the_page(app, org, project, extra, make_participant, query,
                                                               case):
    number, text = extra
    typed, kept = HOSTILE_TEXTS[case]
    resident, sent = answer_last_page(app, org, project, make_participant, {number: "7", text: typed})
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/done")
    assert texts_stored(query, resident.token, text) == [kept]
    assert 7.0 in stored_answers(query, resident.token).values()


def _export(worker, slug: str, fmt: str) -> bytes:
    response = worker.get(f"/projects/{slug}/export.{fmt}")
    assert response.status_code == 200, response.status_code
    return response.data


def _xlsx_texts(data: bytes) -> set:
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True)["data"]
    return {v for row in sheet.iter_rows(min_row=2, values_only=True) for v in row if isinstance(v, str)}


def _sav_texts(data: bytes, tmp_path) -> set:
    path = tmp_path / "export.sav"
    path.write_bytes(data)
    frame, _meta = pyreadstat.read_sav(str(path))
    return {v for column in frame.columns for v in frame[column] if isinstance(v, str)}


def test_exports_keep_every_answer_typed_with_special_characters(app, org, project, extra, make_participant,
                                                                 worker, tmp_path):
    _number, text = extra
    for typed, _kept in HOSTILE_TEXTS.values():
        answer_last_page(app, org, project, make_participant, {text: typed})
    kept = {k for _t, k in HOSTILE_TEXTS.values()}
    assert kept <= _xlsx_texts(_export(worker, project.slug, "xlsx"))
    assert kept <= _sav_texts(_export(worker, project.slug, "sav"), tmp_path)
    assert RLO in _export(worker, project.slug, "csv").decode("utf-8")


def test_old_answers_with_control_characters_still_export_whole(app, org, project, extra, make_participant,
                                                               worker, session, tmp_path):
    """Text stored before the rule (or by a plugin) is cleaned again on the way out."""
    _number, text = extra
    resident, _sent = answer_last_page(app, org, project, make_participant, {text: "placeholder"})
    answer = session.scalar(select(Answer).where(Answer.value_text == "placeholder"))
    answer.value_text = "voor\x07na\x1bmidden\x0bslot"  # NUL itself cannot be stored on PostgreSQL
    session.commit()
    assert "voornamiddenslot" in _xlsx_texts(_export(worker, project.slug, "xlsx"))
    assert "voornamiddenslot" in _sav_texts(_export(worker, project.slug, "sav"), tmp_path)


def test_the_writers_themselves_never_cut_text_at_a_nul(tmp_path):
    table = exports.ExportTable(["code", "story"], source=lambda: iter([["R-1", "begin\x00einde\x07!"]]))
    xlsx, sav = io.BytesIO(), io.BytesIO()
    exports.XlsxFormat().write(table, xlsx)
    exports.SavFormat().write(table, sav)
    assert "begineinde!" in _xlsx_texts(xlsx.getvalue())
    assert "begineinde!" in _sav_texts(sav.getvalue(), tmp_path)


@pytest.mark.parametrize("typed", ["NaN", "nan", "inf", "-Infinity", "1e309", "1" * 400])
def test_nan_and_huge_numbers_get_a_message_and_nothing_is_stored(app, org, project, extra, make_participant,
                                                                  query, typed):
    number, text = extra
    resident, sent = answer_last_page(app, org, project, make_participant, {number: typed, text: "Goed"})
    assert sent.status_code == 422
    assert f'id="{number}-error"' in sent.text
    assert texts_stored(query, resident.token, text) == []


# --- worker and admin texts --------------------------------------------------------------------------

def test_a_nul_in_a_participant_name_is_stored_without_it(org, project, worker, query):
    page = worker.get(f"/projects/{project.slug}/participants")
    sent = worker.post(f"/projects/{project.slug}/participants",
                       data={"csrf_token": csrf_token(page.text), "name": "Fa\x00tima\x07 B.", "email": ""})
    assert sent.status_code in (200, 302), sent.status_code
    names = [n for (n,) in query(select(Participant.display_name))]
    assert names == ["Fatima B."]


def test_a_nul_in_a_project_name_and_description_is_stored_without_it(org, worker, query):
    page = worker.get("/projects/new")
    sent = worker.post("/projects/new", data={"csrf_token": csrf_token(page.text), "name": "Buurt\x00tuin\r\n",
                                              "description": "Een\x00 tuin\r\nvoor iedereen",
                                              "instruments": "organising@2", "retention_months": "24"})
    assert sent.status_code == 302, sent.status_code
    [(name, description)] = query(select(Project.name, Project.description))
    assert (name, description) == ("Buurttuin", "Een tuin\nvoor iedereen")


def test_a_nul_in_the_login_form_is_a_failed_login_not_an_error(client, make_user):
    page = client.get("/login")
    sent = client.post("/login", data={"csrf_token": csrf_token(page.text), "email": "a\x00@example.org",
                                       "password": "x\x00y"})
    assert sent.status_code in (200, 401, 429)


def test_a_nul_in_a_personal_link_is_not_found(client):
    assert client.get("/q/abc%00def").status_code == 404


# --- absurd sizes --------------------------------------------------------------------------------------

def test_a_10_mb_answer_is_refused_before_it_is_read(app, org, project, extra, make_participant, query):
    _number, text = extra
    resident, sent = answer_last_page(app, org, project, make_participant, {text: "x" * (10 * 1024 * 1024)})
    assert sent.status_code == 413
    assert texts_stored(query, resident.token, text) == []


def test_a_hundred_thousand_form_fields_are_refused(app, org, project, extra, make_participant, query):
    _number, text = extra
    fields = {f"f{i}": "1" for i in range(100_000)}
    resident, sent = answer_last_page(app, org, project, make_participant, {text: "Goed", **fields})
    assert sent.status_code == 413
    assert texts_stored(query, resident.token, text) == []


# --- instrument limits ----------------------------------------------------------------------------

def _instrument(items_per_scale: int, scales: int = 1, version: str = "1", answers: int = 3) -> str:
    lines = ["id: groot", f"version: {version}", "title: {nl: Groot}", "answer_sets:", "  a:"]
    lines += [f"    - {{value: {v}, label: {{nl: A{v}}}}}" for v in range(1, answers + 1)]
    lines.append("scales:")
    for s in range(scales):
        lines += [f"  - id: s{s}", "    title: {nl: Schaal}", "    scoring: {method: mean}", "    items:"]
        lines += [f"      - {{id: i{s}_{i}, type: choice, answer_set: a, text: {{nl: Vraag}}}}"
                  for i in range(items_per_scale)]
    return "\n".join(lines) + "\n"


def _validate(tmp_path, text: str):
    from surveyhub import create_app

    path = tmp_path / "groot.yaml"
    path.write_text(text, encoding="utf-8")
    app = create_app({"INSTANCE_PATH": str(tmp_path / "cli"), "SECRET_KEY": "t", "TESTING": True, "PLUGINS_DIR": ""})
    result = app.test_cli_runner().invoke(args=["instruments", "validate", str(path)])
    return path, result


@pytest.mark.parametrize("text, where, words", [
    (_instrument(50, scales=60), "(root)", "at most 200 items"),
    (_instrument(51), "scales[0].items", "at most 50"),
    (_instrument(3, version="9" * 5000), "version", "too many digits"),
    (_instrument(3, version="2000000"), "version", "at most 1000000"),
    (_instrument(3, answers=30), "answer_sets.a", "at most 20"),
])
def test_an_instrument_beyond_the_limits_is_a_clean_error(tmp_path, text, where, words):
    path, result = _validate(tmp_path, text)
    assert result.exit_code == 1, (result.output, result.exception)
    assert f"{path}: {where}: " in result.output and words in result.output, result.output


def test_the_admin_upload_refuses_3000_items_and_a_5000_digit_version(org, make_user, client_for, query):
    from surveyhub.models import InstrumentVersion

    admin = client_for(make_user("admin", org).email)

    def upload(text: str):
        token = csrf_token(admin.get("/admin/instruments?lang=en").text)
        return admin.post("/admin/instruments", data={"csrf_token": token,
                                                      "file": (io.BytesIO(text.encode()), "groot.yaml")},
                          content_type="multipart/form-data")

    many = upload(_instrument(50, scales=60))
    assert many.status_code == 200 and "at most 200 items" in many.text
    digits = upload(_instrument(3, version="9" * 5000))
    assert digits.status_code == 200 and "groot.yaml: version: " in digits.text
    assert query(select(InstrumentVersion.id).where(InstrumentVersion.scope.like("org:%"))) == []


def test_a_plugin_instrument_with_a_huge_number_is_a_clean_error():
    from surveyhub.measures import validation, yaml_loader

    definition = yaml_loader.load_yaml_text(_instrument(3), "plugin")
    definition["version"] = 10 ** 5000
    errors = validation.validate_definition(definition, "plugin")
    assert errors and all(e.startswith("plugin: version: ") for e in errors), errors


def test_a_yaml_escape_cannot_smuggle_a_nul_into_an_instrument():
    from surveyhub.measures import yaml_loader

    text = _instrument(3).replace("title: {nl: Groot}", 'title: {nl: "Gr\\0oot\\x07"}')
    assert yaml_loader.load_yaml_text(text, "x")["title"]["nl"] == "Groot"


# --- THREATS.md Input 7 and 9: SQL strings, paths in uploads ---------------------------------------------

SQL = "x'); DROP TABLE answers; --"


def test_sql_strings_in_answers_names_and_parameters_are_only_text(app, org, project, extra, make_participant, worker,
                                                                   client, query):
    _number, text = extra
    resident, sent = answer_last_page(app, org, project, make_participant, {text: SQL})
    assert sent.status_code == 302
    assert texts_stored(query, resident.token, text) == [SQL]
    page = worker.get(f"/projects/{project.slug}/participants")
    name = "Robert' OR '1'='1"  # a ';' would split the line into name and e-mail address
    worker.post(f"/projects/{project.slug}/participants",
                data={"csrf_token": csrf_token(page.text), "name": name, "email": ""})
    assert name in [n for (n,) in query(select(Participant.display_name))]
    assert worker.get(f"/projects/{project.slug}/participants?lang=' OR '1'='1").status_code == 200
    assert worker.get(f"/projects/{project.slug}' OR '1'='1").status_code == 404
    assert 'data-status="unknown"' in client.get("/verify", query_string={"code": "' OR '1'='1"}).text
    assert len(stored_answers(query, resident.token)) > 1  # the answers table is still there


def test_an_uploaded_file_name_with_a_path_is_only_shown_never_used(org, make_user, client_for, query):
    from surveyhub.models import InstrumentVersion

    admin = client_for(make_user("admin", org).email)
    token = csrf_token(admin.get("/admin/instruments?lang=en").text)
    sent = admin.post("/admin/instruments", data={"csrf_token": token,
                                                  "file": (io.BytesIO(b"id: [\n"), "../../../../tmp/evil.yaml")},
                      content_type="multipart/form-data")
    assert sent.status_code == 200 and "../../../../tmp/evil.yaml: line" in sent.text
    assert query(select(InstrumentVersion.id).where(InstrumentVersion.scope.like("org:%"))) == []


def test_certificates_of_a_resident_coded_like_a_path_stay_in_the_output_folder(app, runner, session, make_org,
                                                                              tmp_path):
    from surveyhub.plugins import get_registry
    from tests.fixtures.outcomes import answer as store_answer

    org = make_org("Buurtwerk Pad")
    slug = projects.create_project(session, get_registry(app), access.Actor(organisation_id=org.id, role="admin"),
                                   "Pad", ["organising"]).slug
    session.commit()
    store_answer(app, session, slug, "pre", "../../../evil", {("organising", "org_1"): 3.0})
    out = tmp_path / "out"
    result = runner.invoke(args=["certificates", slug, "-o", str(out), "-j", "1"])
    assert result.exit_code == 0, result.output
    written = list(tmp_path.rglob("*.pdf"))
    assert len(written) == 1 and written[0].parent == out


# --- THREATS.md Input 1: markup in names, questions and answers is text on every page ----------------------

XSS = '<img src=x onerror="alert(1)"><svg onload=alert(2)>'


def test_markup_in_a_name_a_question_and_an_answer_is_shown_as_text(app, org, project, make_participant, worker,
                                                                    session):
    actor = access.Actor(organisation_id=org.id, role="admin")
    question = projects.add_question(session, actor, project.slug, "text", XSS, "")
    session.commit()
    invitation = make_participant(org, project.slug, name=XSS)
    resident = Resident(app.test_client(), invitation.token)
    resident.consent()
    resident.submit(0, all_agree("4"))
    resident.submit(1, {})
    shown = resident.open("/p/2")
    assert "onerror" in shown.text and "<img src=x" not in shown.text and "&lt;img src=x" in shown.text
    assert resident.submit(2, {key(question, "_project"): XSS}).status_code == 302
    page = worker.get(f"/projects/{project.slug}/participants").text
    assert "&lt;img src=x" in page and "<img src=x" not in page and "<svg onload" not in page
    cells = {cell for row in csv.reader(io.StringIO(_export(worker, project.slug, "csv").decode("utf-8")))
             for cell in row}
    assert XSS in cells  # stored and exported as typed: escaping is the page's job, not the store's


@pytest.mark.parametrize("low, high", [("NaN", "10"), ("-1e309", "1e309"), ("0", "1" + "0" * 400), ("sNaN", "5")])
def test_a_number_question_with_absurd_limits_gets_a_message_and_is_not_added(org, project, worker, query, low, high):
    url = f"/projects/{project.slug}/questionnaire"
    sent = worker.post(url, data={"csrf_token": csrf_token(worker.get(url).text), "qtype": "number",
                                  "text_nl": "Hoeveel?", "minimum": low, "maximum": high})
    assert sent.status_code == 200 and 'class="error"' in sent.text
    [(questions,)] = query(select(func.count()).select_from(ProjectQuestion))
    assert questions == 0


def test_deeply_nested_yaml_is_a_clean_error():
    from surveyhub.measures import definition, yaml_loader

    with pytest.raises(definition.InstrumentError, match="x.yaml: the file is nested too deeply"):
        yaml_loader.load_yaml_text("a: " + "[" * 5000 + "]" * 5000, "x.yaml")
