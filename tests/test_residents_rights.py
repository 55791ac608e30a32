"""Residents' rights (AVG): see and download what is stored, withdraw and be erased.

One resident, Fatima, takes part fully: a worker renews her link (so an old
link and an audit event naming her code exist), she gives consent and shares
quotes, answers both waves with a free text, and gets a certificate with her
name on it. Then she (or a worker, or the command line) asks for her data and
for erasure. After erasure no table holds her name, e-mail, code, links,
self-made code or words; her certificate checks as withdrawn without naming
her; reports count the withdrawal and leave her out; the audit trail keeps
only a pseudonym.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from surveyhub.cli import cli
from surveyhub.db import Base
from surveyhub.plugins import get_registry
from surveyhub.models import (Answer, AuditEvent, Document, Participant, Project, ProjectShare, Response, ScaleScore,
                              Wave)
from surveyhub.services import access, documents, erasure, exports, outcomes, participants, projects
from surveyhub.services.resident_data import personal_data
from tests.fixtures.factories import csrf_token
from tests.test_questionnaire import Resident, finish_wave

NAME = "Fatima Zahra-Bennani"
EMAIL = "fatima.zahra@example.org"
WORDS = "Ik heb de eerste buurtbarbecue in de Vlinderstraat geregeld."
SELF_CODE = "f|3|k|1987|z|7"
BASE_URL = "http://surveyhub.test"


@dataclass
class Story:
    slug: str
    org: object
    actor: access.Actor
    code: str
    token: str
    old_token: str
    other_code: str
    certificate: object
    participant_id: int


def _read(app, statement):
    with app.extensions["surveyhub.db"].session() as db:
        return db.execute(statement).all()


@pytest.fixture
def story(app, session, make_org, make_project) -> Story:
    org = make_org()
    slug = make_project(org).slug
    actor = access.Actor(organisation_id=org.id, role="admin", email="admin@example.org")
    fatima, other = participants.add_participants(session, actor, slug, entries=[(NAME, EMAIL), ("Kees", None)])
    new_token = participants.renew_link(session, actor, slug, fatima.code)  # audited with her code
    participant = session.scalar(select(Participant).where(Participant.code == fatima.code))
    participant.self_code = SELF_CODE
    participant_id = participant.id
    session.commit()
    for token, text in ((new_token, WORDS), (other.token, "Gezellig.")):
        Resident(app.test_client(), token).consent(share_quotes=True)
        finish_wave(Resident(app.test_client(), token), "4", text)
    projects.set_wave_status(session, actor, slug, "post", "open")
    session.commit()
    for token, text in ((new_token, WORDS), (other.token, "Gezellig.")):
        finish_wave(Resident(app.test_client(), token), "5", text)
    certificate = documents.issue_certificate(session, actor, slug, fatima.code, base_url=BASE_URL, name=NAME)
    session.commit()
    return Story(slug, org, actor, fatima.code, new_token, fatima.token, other.code, certificate, participant_id)


def _leftovers(app, secrets: list[str]) -> list[str]:
    """Every (table, column) in the database whose value contains one of ``secrets``."""
    found = []
    with app.extensions["surveyhub.db"].session() as db:
        for table in Base.metadata.sorted_tables:
            for row in db.execute(select(table)).mappings():
                for column, value in row.items():
                    text = json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)
                    found += [f"{table.name}.{column}: {secret!r}" for secret in secrets if secret in text]
    return found


# --- access: the export ----------------------------------------------------------------------------

def test_the_export_holds_everything_stored_about_the_resident(app, session, story):
    data = personal_data(session, story.participant_id, "nl")
    session.rollback()  # SQLite: a read holds the write lock the checks below need
    assert data["project"]["slug"] == story.slug and data["organisation"] == "Buurtwerk Noord"
    person = data["participant"]
    assert (person["code"], person["name"], person["email"], person["self_made_code"]) == \
        (story.code, NAME, EMAIL, SELF_CODE)
    assert [link["active"] for link in data["links"]] == [False, True]
    assert story.token not in json.dumps(data) and story.old_token not in json.dumps(data)
    [consent] = data["consents"]
    assert consent["share_quotes"] is True and consent["wording_version"] == "2" and consent["given_at"]
    assert [(r["wave"], r["status"], r["channel"]) for r in data["responses"]] == \
        [("pre", "completed", "web"), ("post", "completed", "web")]
    pre = data["responses"][0]
    first = pre["answers"][0]
    assert first["question"] == "Ik kan een buurtactiviteit van begin tot eind plannen."
    assert (first["answer"], first["value"]) == ("Mee eens", 4.0)
    assert WORDS in [a["answer"] for a in pre["answers"]]
    [score] = data["responses"][1]["scores"]
    [(stored,)] = _read(app, select(ScaleScore.score).join(Response).join(Wave).where(
        Response.participant_id == story.participant_id, Wave.kind == "post"))
    assert (score["title"], score["score"]) == ("Plannen en organiseren", stored)
    [doc] = data["documents"]
    assert (doc["kind"], doc["verification_code"], doc["revoked_at"]) == ("certificate", story.certificate.code, None)

    # Nothing stored is left out: every answer and score row appears.
    [(answers,)] = _read(app, select(func.count()).select_from(Answer).join(Response)
                         .where(Response.participant_id == story.participant_id))
    [(scores,)] = _read(app, select(func.count()).select_from(ScaleScore).join(Response)
                        .where(Response.participant_id == story.participant_id))
    assert answers == sum(len(r["answers"]) for r in data["responses"])
    assert scores == sum(len(r["scores"]) for r in data["responses"])
    json.dumps(data, allow_nan=False)


def test_the_export_speaks_the_residents_language(session, story):
    data = personal_data(session, story.participant_id, "en")
    first = data["responses"][0]["answers"][0]
    assert (first["question"], first["answer"]) == ("I can plan a neighbourhood activity from start to finish.",
                                                    "Agree")


# --- erasure ---------------------------------------------------------------------------------------

def test_after_erasure_nothing_of_the_resident_remains_in_any_table(app, session, story):
    before = personal_data(session, story.participant_id)
    session.rollback()
    assert _leftovers(app, [NAME, EMAIL, story.code, story.token, WORDS, SELF_CODE])  # the check can see them

    result = erasure.erase(session, story.participant_id, "resident", "resident")
    session.commit()

    assert (result.responses, result.documents) == (2, 1)
    assert result.answers == sum(len(r["answers"]) for r in before["responses"])
    assert _leftovers(app, [NAME, EMAIL, story.code, story.token, story.old_token, WORDS, SELF_CODE]) == []
    assert _read(app, select(Participant.code).where(Participant.id == story.participant_id)) == []
    # The other resident is untouched.
    assert len(_read(app, select(Response.id).join(Participant).where(Participant.code == story.other_code))) == 2


def test_the_certificate_then_checks_as_withdrawn_without_personal_data(app, session, story, runner, tmp_path):
    erasure.erase(session, story.participant_id, "resident", "resident")
    session.commit()

    by_code = documents.verify_code(session, story.certificate.code)
    by_file = documents.verify_file(session, story.certificate.pdf)
    session.rollback()
    for result in (by_code, by_file):
        assert result.status == "withdrawn"
        assert result.document.participant_code is None
        assert NAME not in result.document.title and story.code not in result.document.title
    [(participant_id, reason)] = _read(app, select(Document.participant_id, Document.revoked_reason))
    assert (participant_id, reason) == (None, "withdrawn")

    page = app.test_client().get(f"/verify/{story.certificate.code}")
    assert page.status_code == 200 and 'data-status="withdrawn"' in page.text
    assert "Ingetrokken" in page.text and NAME not in page.text and story.code not in page.text

    pdf = tmp_path / "certificaat.pdf"
    pdf.write_bytes(story.certificate.pdf)
    checked = runner.invoke(args=["verify", str(pdf)])
    assert checked.exit_code == 4
    assert checked.output.startswith("withdrawn:") and NAME not in checked.output


def test_the_audit_trail_keeps_only_a_pseudonym(app, session, story):
    result = erasure.erase(session, story.participant_id, "resident", "resident")
    session.commit()

    events = _read(app, select(AuditEvent.action, AuditEvent.target, AuditEvent.details, AuditEvent.actor))
    [erase_event] = [e for e in events if e.action == "participant.erase"]
    assert erase_event.target == f"project:{story.slug}/{result.pseudonym}"
    assert erase_event.details["reason"] == "resident" and erase_event.actor == "resident"
    [renewal] = [e for e in events if e.action == "participant.renew_link"]
    assert renewal.target == f"project:{story.slug}/{result.pseudonym}"  # the earlier event no longer names her
    assert not [e for e in events if story.code in json.dumps([e.target, e.details])]


def test_reports_and_exports_count_the_withdrawal_and_leave_the_resident_out(app, session, story):
    def report():
        return outcomes.project_report(session, get_registry(app), story.actor, story.slug)

    before = report()["participation"]
    session.rollback()
    assert (before["invited"], before["withdrawn"], before["pre"], before["post"]) == (2, 0, 2, 2)

    erasure.erase(session, story.participant_id, "resident", "resident")
    session.commit()

    after = report()
    part = after["participation"]
    assert (part["invited"], part["withdrawn"], part["pre"], part["post"], part["paired"]) == (1, 1, 1, 1, 1)
    assert WORDS not in json.dumps(after)
    table = exports.response_table(session, story.actor, story.slug)
    rows = [json.dumps(row, default=str) for row in table.rows()]
    session.rollback()
    assert len(rows) == 2  # the other resident's pre and post
    assert not [row for row in rows if story.code in row or WORDS in row]
    [(count,)] = _read(app, select(Project.withdrawn_count))
    assert count == 1


def test_the_report_pdf_method_appendix_counts_withdrawals(app, session, story):
    from tests.fixtures.documents import pdf_text

    erasure.erase(session, story.participant_id, "resident", "resident")
    session.commit()
    issued = documents.issue_report(session, get_registry(app), story.actor, story.slug, base_url=BASE_URL)
    text = pdf_text(issued.pdf)
    assert "1 deelnemer heeft zich teruggetrokken; de gegevens zijn verwijderd." in text


def test_a_resident_erased_twice_is_not_found_the_second_time(session, story):
    erasure.erase(session, story.participant_id, "resident", "resident")
    session.commit()
    with pytest.raises(erasure.NotFound):
        erasure.erase(session, story.participant_id, "resident", "resident")
    session.rollback()


# --- the resident's own pages ----------------------------------------------------------------------

def test_a_resident_sees_their_data_from_their_link(app, story):
    client = app.test_client()
    page = client.get(f"/q/{story.token}/my-data")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    for shown in (NAME, EMAIL, story.code, WORDS, "Mee eens", "Ik kan een buurtactiviteit van begin tot eind plannen.",
                  story.certificate.code):
        assert shown in page.text, shown
    english = client.get(f"/q/{story.token}/my-data?lang=en")
    assert "I can plan a neighbourhood activity from start to finish." in english.text
    assert client.get("/q/not-a-real-token-at-all/my-data").status_code == 404


def test_a_resident_downloads_their_data_as_json(app, story):
    download = app.test_client().get(f"/q/{story.token}/my-data.json")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Cache-Control"] == "no-store"
    data = json.loads(download.data)
    assert data["participant"]["name"] == NAME and data["participant"]["email"] == EMAIL
    assert story.token not in download.text


def test_the_start_done_and_closed_pages_link_to_my_data(app, session, story, make_participant):
    client = app.test_client()
    assert f"/q/{story.token}/my-data" in client.get(f"/q/{story.token}/done").text
    newcomer = make_participant(story.org, story.slug)
    assert f"/q/{newcomer.token}/my-data" in client.get(f"/q/{newcomer.token}").text
    projects.set_wave_status(session, story.actor, story.slug, "post", "closed")
    session.commit()
    assert f"/q/{newcomer.token}/my-data" in client.get(f"/q/{newcomer.token}").text
    project = session.scalar(select(Project).where(Project.slug == story.slug))
    project.archived_at, anonymous_token = datetime.now(timezone.utc), project.anonymous_token
    session.commit()
    closed = client.get(f"/a/{anonymous_token}")  # the anonymous link's closed page names nobody
    assert closed.status_code == 200 and "/my-data" not in closed.text


def test_a_resident_withdraws_after_a_confirmation(app, story):
    client = app.test_client()
    confirm = client.get(f"/q/{story.token}/withdraw")
    assert confirm.status_code == 200 and confirm.headers["Cache-Control"] == "no-store"
    assert "Dit kun je niet terugdraaien." in confirm.text
    assert "je naam en je e-mailadres" in confirm.text

    forged = client.post(f"/q/{story.token}/withdraw", data={})
    assert forged.status_code == 400
    assert _read(app, select(Participant.id).where(Participant.id == story.participant_id))  # nothing erased

    done = client.post(f"/q/{story.token}/withdraw", data={"csrf_token": csrf_token(confirm.text)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/withdrawn")
    [forget] = [c for c in done.headers.getlist("Set-Cookie") if c.startswith("surveyhub_device=")]
    assert "Max-Age=0" in forget  # a device that came through the anonymous link forgets the link too
    goodbye = client.get(done.headers["Location"])
    assert goodbye.status_code == 200 and "Je gegevens zijn verwijderd" in goodbye.text
    assert story.token not in goodbye.text
    assert _read(app, select(Participant.id).where(Participant.id == story.participant_id)) == []
    again = client.post(f"/q/{story.token}/withdraw", data={"csrf_token": csrf_token(confirm.text)})
    assert again.status_code == 302  # a second click lands on the goodbye page too
    guess = client.post("/q/a-guessed-link-of-someone-else/withdraw", data={"csrf_token": csrf_token(confirm.text)})
    assert guess.status_code == 404  # only the link just erased leads to the goodbye page: no guessing oracle
    for path in ("", "/my-data", "/my-data.json", "/withdraw"):
        assert app.test_client().get(f"/q/{story.token}{path}").status_code == 404


# --- a worker on the resident's request ---------------------------------------------------------------

def test_a_worker_downloads_and_erases_on_request(app, session, story, make_user, client_for):
    worker = make_user("worker", org=story.org)
    client = client_for(worker.email)
    detail = client.get(f"/projects/{story.slug}/participants/{story.code}")
    assert "Gegevens van deze bewoner" in detail.text and "Verwijderen op verzoek" in detail.text

    download = client.get(f"/projects/{story.slug}/participants/{story.code}/data.json")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment;")
    assert json.loads(download.data)["participant"]["email"] == EMAIL

    confirm = client.get(f"/projects/{story.slug}/participants/{story.code}/erase")
    assert confirm.status_code == 200 and "Dit kan niet worden teruggedraaid." in confirm.text
    done = client.post(f"/projects/{story.slug}/participants/{story.code}/erase",
                       data={"csrf_token": csrf_token(confirm.text)})
    assert done.status_code == 302
    assert _leftovers(app, [NAME, EMAIL, story.code, WORDS]) == []
    events = {action: (target, actor) for action, target, actor in _read(
        app, select(AuditEvent.action, AuditEvent.target, AuditEvent.actor))}
    assert events["participant.erase"][1] == worker.email
    assert events["participant.export_data"][0] == events["participant.erase"][0]  # both now the pseudonym
    assert client.get(f"/projects/{story.slug}/participants/{story.code}").status_code == 404


def test_a_forged_erase_post_erases_nothing(app, story, make_user, client_for):
    client = client_for(make_user("worker", org=story.org).email)
    sent = client.post(f"/projects/{story.slug}/participants/{story.code}/erase", data={})
    assert sent.status_code in (200, 400)
    assert _read(app, select(Participant.id).where(Participant.id == story.participant_id))


def test_funders_and_other_organisations_cannot_reach_the_worker_routes(app, session, story, make_user,
                                                                         client_for):
    funder = make_user("funder", org=story.org)
    project_id = session.scalar(select(Project.id).where(Project.slug == story.slug))
    session.add(ProjectShare(project_id=project_id, user_id=funder.id))
    session.commit()
    stranger = make_user("worker")
    for email in (funder.email, stranger.email):
        client = client_for(email)
        for path in ("data.json", "erase"):
            url = f"/projects/{story.slug}/participants/{story.code}/{path}"
            assert client.get(url).status_code == 404, (email, path)
        erase_url = f"/projects/{story.slug}/participants/{story.code}/erase"
        token = csrf_token(client.get("/").text)  # a valid form: only the permission stands in the way
        assert client.post(erase_url, data={"csrf_token": token}).status_code == 404, email
    assert _read(app, select(Participant.id).where(Participant.id == story.participant_id))
    assert not _read(app, select(AuditEvent.id).where(AuditEvent.action == "participant.export_data"))


# --- the command line ------------------------------------------------------------------------------

def test_the_cli_exports_and_erases(app, runner, story, tmp_path):
    out = tmp_path / "fatima.json"
    exported = runner.invoke(cli, ["participants", "export-data", story.slug, story.code, "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text(encoding="utf-8"))["participant"]["name"] == NAME
    assert out.stat().st_mode & 0o077 == 0  # only the owner may read a resident's data

    refused = runner.invoke(cli, ["participants", "erase", story.slug, story.code])
    assert refused.exit_code == 1
    assert len(refused.output.strip().splitlines()) == 1 and "--yes" in refused.output
    assert _read(app, select(Participant.id).where(Participant.id == story.participant_id))

    erased = runner.invoke(cli, ["participants", "erase", story.slug, story.code, "--yes"])
    assert erased.exit_code == 0, erased.output
    assert _leftovers(app, [NAME, EMAIL, story.code, WORDS]) == []
    [(actor,)] = _read(app, select(AuditEvent.actor).where(AuditEvent.action == "participant.erase"))
    assert actor == "cli"

    again = runner.invoke(cli, ["participants", "erase", story.slug, story.code, "--yes"])
    assert again.exit_code == 1 and "Traceback" not in again.output
