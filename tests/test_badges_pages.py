"""Open Badges on the pages people use: the resident's "Jouw badges", the project's rule, /verify.

One project measures organising with a level rule: Fatima answers low at the start and high at the
end, so she reaches the highest level ("Sterk") and earns a level badge; Kees answers in the middle
and earns none. Through her own link Fatima sees her badge and downloads the very JWT that was
signed; Kees's link shows no badge and cannot fetch hers. A worker sets the rule on the project's
badge page; /verify reads a pasted or uploaded badge as valid, revoked or not checkable.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from surveyhub.models import AuditEvent, BadgeCredential, Participant, Project, Response, ScaleScore, Wave
from surveyhub.plugins import get_registry
from surveyhub.services import access, badges, context, participants, projects
from surveyhub.services.outcomes import Thresholds
from tests.fixtures.factories import csrf_token
from tests.test_questionnaire import Resident, finish_wave

BASE_URL = "http://surveyhub.test"


@dataclass
class World:
    slug: str
    actor: access.Actor
    fatima: str
    kees: str
    fatima_id: int


def _ctx(app, session, slug: str):
    return context.for_command(session, registry=get_registry(app), host=None, thresholds=Thresholds(),
                               base_url=BASE_URL, project_slug=slug)


def _answer_both_waves(app, session, actor, slug: str, tokens_values: list[tuple[str, str, str]]) -> None:
    for token, pre, _post in tokens_values:
        Resident(app.test_client(), token).consent()
        finish_wave(Resident(app.test_client(), token), pre)
    projects.set_wave_status(session, actor, slug, "post", "open")
    session.commit()
    for token, _pre, post in tokens_values:
        finish_wave(Resident(app.test_client(), token), post)


@pytest.fixture
def world(app, session, make_org, make_project) -> World:
    org = make_org()
    slug = make_project(org).slug
    actor = access.Actor(organisation_id=org.id, role="admin", email="admin@example.org")
    fatima, kees = participants.add_participants(session, actor, slug, entries=[("Fatima", None), ("Kees", None)])
    session.commit()
    _answer_both_waves(app, session, actor, slug, [(fatima.token, "2", "5"), (kees.token, "3", "3")])
    badges.set_rule(_ctx(app, session, slug), slug, "level")
    badges.issue_for_project(_ctx(app, session, slug), slug)
    session.commit()
    fatima_id = session.scalar(select(Participant.id).where(Participant.code == fatima.code))
    return World(slug, actor, fatima.token, kees.token, fatima_id)


def _stored(app, participant_id: int) -> list[BadgeCredential]:
    with app.extensions["surveyhub.db"].session() as db:
        rows = list(db.scalars(select(BadgeCredential).where(BadgeCredential.participant_id == participant_id)))
        db.expunge_all()
        return rows


# --- the resident's page ---------------------------------------------------------------------------

def test_a_resident_with_a_badge_sees_it_and_downloads_the_signed_file(app, world):
    [stored] = _stored(app, world.fatima_id)
    client = app.test_client()
    page = client.get(f"/q/{world.fatima}/badges")
    assert page.status_code == 200
    assert "Jouw badges" in page.text and "Plannen en organiseren" in page.text
    assert "Download je badge" in page.text and "Zet dit op je cv" in page.text
    assert f"{BASE_URL}/verify" in page.text  # where an employer checks it
    href = f"/q/{world.fatima}/badges/{stored.public_id}.jwt"
    assert f'href="{href}"' in page.text
    download = client.get(href)
    assert download.status_code == 200
    assert download.data == stored.jwt.encode("ascii")  # byte for byte what was signed
    assert download.mimetype == "application/jwt"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith('.jwt"')
    # badge-<skill>.jwt: the file a resident hands to an employer does not carry their code
    assert 'filename="badge-' in disposition and "organising" in disposition
    assert stored.participant_code not in disposition
    assert download.headers["Cache-Control"] == "no-store"
    with app.extensions["surveyhub.db"].session() as db:
        [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "download.badge")).all()
        assert event.actor == "resident" and event.target.endswith(stored.participant_code)
        assert world.fatima not in json.dumps(event.details) + (event.target or "")


def test_a_resident_without_a_badge_is_told_kindly_what_earns_one(app, world):
    page = app.test_client().get(f"/q/{world.kees}/badges")
    assert page.status_code == 200
    assert "Je hebt nog geen badges." in page.text
    assert "niveau" in page.text  # the level rule, in words
    assert "Download je badge" not in page.text


def test_the_page_speaks_english_on_request(app, world):
    page = app.test_client().get(f"/q/{world.fatima}/badges?lang=en")
    assert "Your badges" in page.text and "Download your badge" in page.text and "Planning and organising" in page.text


def test_another_residents_link_cannot_reach_the_badge(app, world):
    [stored] = _stored(app, world.fatima_id)
    client = app.test_client()
    assert client.get(f"/q/{world.kees}/badges/{stored.public_id}.jwt").status_code == 404
    assert client.get(f"/q/not-a-link/badges/{stored.public_id}.jwt").status_code == 404
    assert client.get("/q/not-a-link/badges").status_code == 404


def test_a_revoked_badge_shows_as_revoked_and_is_not_offered(app, session, world):
    [stored] = _stored(app, world.fatima_id)
    badges.revoke(_ctx(app, session, world.slug), stored.public_id, "Verkeerd ingevoerd")
    session.commit()
    client = app.test_client()
    page = client.get(f"/q/{world.fatima}/badges")
    assert "Niet meer geldig" in page.text and "Download je badge" not in page.text
    assert stored.public_id not in page.text
    assert client.get(f"/q/{world.fatima}/badges/{stored.public_id}.jwt").status_code == 404


def test_the_thank_you_page_and_my_data_lead_to_the_badges(app, world):
    client = app.test_client()
    done = client.get(f"/q/{world.fatima}/done")
    assert f'href="/q/{world.fatima}/badges"' in done.text
    mine = client.get(f"/q/{world.fatima}/my-data")
    assert f'href="/q/{world.fatima}/badges"' in mine.text and "Een badge voor Plannen en organiseren" in mine.text
    [stored] = _stored(app, world.fatima_id)
    data = client.get(f"/q/{world.fatima}/my-data.json").get_json()
    [badge] = data["badges"]
    assert badge["credential_jwt"] == stored.jwt and badge["kind"] == "level" and badge["revoked_at"] is None


def test_without_a_rule_residents_see_no_badge_link(app, session, make_org, make_project):
    org = make_org()
    slug = make_project(org).slug
    actor = access.Actor(organisation_id=org.id, role="admin")
    [anna] = participants.add_participants(session, actor, slug, entries=[("Anna", None)])
    session.commit()
    Resident(app.test_client(), anna.token).consent()
    finish_wave(Resident(app.test_client(), anna.token), "4")
    done = app.test_client().get(f"/q/{anna.token}/done")
    assert "/badges" not in done.text


# --- the project's rule ----------------------------------------------------------------------------

def test_a_worker_sets_the_rule_and_the_next_completion_issues_the_badge(app, session, make_org, make_user,
                                                                          make_project, client_for):
    org = make_org()
    worker = make_user("worker", org)
    slug = make_project(org).slug
    actor = access.Actor(organisation_id=org.id, role="admin")
    [anna] = participants.add_participants(session, actor, slug, entries=[("Anna", None)])
    session.commit()
    client = client_for(worker.email)
    page = client.get(f"/projects/{slug}/badges")
    assert page.status_code == 200 and 'value="level"' in page.text and 'value="strong"' in page.text
    assert "0 badges uitgereikt" in page.text
    saved = client.post(f"/projects/{slug}/badges", data={"csrf_token": csrf_token(page.text), "rule": "level",
                                                           "level": "strong"})
    assert saved.status_code == 302
    with app.extensions["surveyhub.db"].session() as db:
        project = db.scalar(select(Project).where(Project.slug == slug))
        assert (project.badge_rule, project.badge_level) == ("level", "strong")
    refused = client.post(f"/projects/{slug}/badges", data={"csrf_token": csrf_token(page.text), "rule": "always"})
    assert refused.status_code == 400
    _answer_both_waves(app, session, actor, slug, [(anna.token, "2", "5")])
    anna_id = session.scalar(select(Participant.id).where(Participant.code == anna.code))
    assert [row.kind for row in _stored(app, anna_id)] == ["level"]  # issued as her post wave completed
    assert "1 badge uitgereikt" in client.get(f"/projects/{slug}/badges").text
    assert "Open Badges (1 badge uitgereikt)" in client.get(f"/projects/{slug}").text  # the project page says it too


def test_give_the_badges_now_issues_them_for_residents_who_finished_before(app, session, make_org, make_user,
                                                                           make_project, client_for):
    org = make_org()
    worker = make_user("worker", org)
    slug = make_project(org).slug
    actor = access.Actor(organisation_id=org.id, role="admin")
    [anna] = participants.add_participants(session, actor, slug, entries=[("Anna", None)])
    session.commit()
    _answer_both_waves(app, session, actor, slug, [(anna.token, "2", "5")])  # the rule is still off
    anna_id = session.scalar(select(Participant.id).where(Participant.code == anna.code))
    assert _stored(app, anna_id) == []
    client = client_for(worker.email)
    page = client.get(f"/projects/{slug}/badges")
    client.post(f"/projects/{slug}/badges", data={"csrf_token": csrf_token(page.text), "rule": "either"})
    page = client.get(f"/projects/{slug}/badges")
    issued = client.post(f"/projects/{slug}/badges/issue", data={"csrf_token": csrf_token(page.text)},
                         follow_redirects=True)
    assert "1 nieuwe badge uitgereikt" in issued.text
    assert len(_stored(app, anna_id)) == 1
    again = client.post(f"/projects/{slug}/badges/issue", data={"csrf_token": csrf_token(page.text)},
                        follow_redirects=True)
    assert "Geen nieuwe badges" in again.text and len(_stored(app, anna_id)) == 1


def test_funders_never_reach_the_badge_setting(app, session, make_org, make_user, make_project, client_for):
    org = make_org()
    funder = make_user("funder", org)
    slug = make_project(org).slug
    projects.set_share(session, access.Actor(organisation_id=org.id, role="admin"), slug, funder.email, True)
    session.commit()
    assert client_for(funder.email).get(f"/projects/{slug}/badges").status_code == 404


# --- /verify --------------------------------------------------------------------------------------

def _check_pasted(client, text: str):
    page = client.get("/verify")
    return client.post("/verify", data={"which": "badge", "badge-csrf_token": csrf_token(page.text),
                                        "badge-jwt": text})


def test_verify_says_valid_for_a_pasted_badge_and_names_issuer_skill_and_date(app, world):
    [stored] = _stored(app, world.fatima_id)
    answer = _check_pasted(app.test_client(), stored.jwt)
    assert answer.status_code == 200
    assert 'data-status="valid"' in answer.text and "Geldig" in answer.text
    assert "Buurtwerk Noord" in answer.text and "Plannen en organiseren" in answer.text
    assert "Geldig sinds" in answer.text


def test_verify_reads_an_uploaded_jwt_file(app, world):
    [stored] = _stored(app, world.fatima_id)
    client = app.test_client()
    page = client.get("/verify")
    answer = client.post("/verify", data={"which": "badge", "badge-csrf_token": csrf_token(page.text),
                                          "badge-file": (io.BytesIO(stored.jwt.encode()), "badge.jwt")},
                         content_type="multipart/form-data")
    assert 'data-status="valid"' in answer.text


def test_verify_says_revoked_after_revocation(app, session, world):
    [stored] = _stored(app, world.fatima_id)
    badges.revoke(_ctx(app, session, world.slug), stored.public_id, "Verkeerd ingevoerd")
    session.commit()
    answer = _check_pasted(app.test_client(), stored.jwt)
    assert 'data-status="revoked"' in answer.text and "Ingetrokken" in answer.text
    assert "Verkeerd ingevoerd" in answer.text


def test_a_badge_withdrawn_after_corrected_answers_says_so_to_the_resident_and_a_checker(app, session, world):
    [stored] = _stored(app, world.fatima_id)
    post = session.scalars(select(ScaleScore).join(Response).join(Wave).where(
        Response.participant_id == world.fatima_id, Wave.kind == "post"))
    before = {}
    for score in post:  # the end answers were typed again, lower
        before[score.id], score.score = score.score, 1.0
    badges.issue_for_project(_ctx(app, session, world.slug), world.slug)
    session.commit()
    client = app.test_client()
    page = client.get(f"/q/{world.fatima}/badges")
    assert "je antwoorden zijn later verbeterd. Daarom geldt deze badge niet meer." in page.text
    assert "Download je badge" not in page.text
    answer = _check_pasted(client, stored.jwt)
    assert 'data-status="revoked"' in answer.text
    assert "De antwoorden waarop deze badge rustte, zijn later verbeterd." in answer.text

    for score in session.scalars(select(ScaleScore).where(ScaleScore.id.in_(list(before)))):
        score.score = before[score.id]  # and corrected back: the badge is earned again, as a new one
    badges.issue_for_project(_ctx(app, session, world.slug), world.slug)
    session.commit()
    page = client.get(f"/q/{world.fatima}/badges")
    assert "Download je badge" in page.text
    assert "daarom heb je er een nieuwe badge voor gekregen (hierboven). Het oude bestand telt niet meer." in page.text


def _tampered(jwt: str, change) -> str:
    header, payload, signature = jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(claims)
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return ".".join((header, encoded, signature))


def test_verify_refuses_a_tampered_badge_and_shows_none_of_its_words(app, world):
    [stored] = _stored(app, world.fatima_id)

    def change(claims):
        claims["credentialSubject"]["achievement"]["name"] = "<script>alert(1)</script>Expert"
    answer = _check_pasted(app.test_client(), _tampered(stored.jwt, change))
    assert 'data-status="bad_signature"' in answer.text and "Niet te controleren" in answer.text
    assert "<script>alert(1)" not in answer.text and "Expert" not in answer.text


def test_verify_escapes_what_a_signed_badge_says(app, session, world):
    """Even a genuinely signed text is shown as text: an organisation's name is user data."""
    org_id = world.actor.organisation_id
    from surveyhub.models import Organisation
    session.get(Organisation, org_id).name = "<b>Buurtwerk</b>"
    session.commit()
    [stored] = _stored(app, world.fatima_id)
    answer = _check_pasted(app.test_client(), stored.jwt)
    assert "<b>Buurtwerk</b>" not in answer.text and "&lt;b&gt;Buurtwerk&lt;/b&gt;" in answer.text


def test_verify_asks_again_for_an_empty_badge_form(app):
    answer = _check_pasted(app.test_client(), "   ")
    assert answer.status_code == 400 and "Plak een badge of kies het bestand." in answer.text
    garbage = _check_pasted(app.test_client(), "not.a.badge")
    assert 'data-status="malformed"' in garbage.text


def test_verify_says_withdrawn_after_the_resident_erased_their_data(app, session, world):
    [stored] = _stored(app, world.fatima_id)
    client = app.test_client()
    page = client.get(f"/q/{world.fatima}/withdraw")
    assert client.post(f"/q/{world.fatima}/withdraw", data={"csrf_token": csrf_token(page.text)}).status_code == 302
    answer = _check_pasted(app.test_client(), stored.jwt)  # the copy the resident had downloaded
    assert 'data-status="revoked"' in answer.text
    assert "De persoon voor wie hij was, doet niet meer mee." in answer.text
    assert stored.participant_code not in answer.text and "Fatima" not in answer.text


def test_verify_reads_a_baked_svg_badge_as_the_command_line_does(app, world):
    """``surveyhub badges -o DIR --svg`` bakes the credential into an image; the check page reads it too."""
    from surveyhub.services import badge_image

    [stored] = _stored(app, world.fatima_id)
    client = app.test_client()
    page = client.get("/verify")
    drawn = badge_image.svg(stored.jwt, "Plannen en organiseren", "Sterk", "Buurtwerk Noord").encode()
    answer = client.post("/verify", data={"which": "badge", "badge-csrf_token": csrf_token(page.text),
                                          "badge-file": (io.BytesIO(drawn), "badge.svg")},
                         content_type="multipart/form-data")
    assert 'data-status="valid"' in answer.text
