"""Issue 12, the resident's side: a questionnaire that respects the resident's time.

Page order (now, then the look-back together, then "Tot slot"), one question per
screen, extra questions per wave, "nothing filled in — continue anyway?", the
start page (who asks, how long, what the consent covers), welcome back, the
thank-you, the friendly dead end, the anonymous code and the preview.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from surveyhub.models import Answer, Consent, Organisation, Participant, Project, ProjectQuestion, Response, User
from surveyhub.services import access, participants, projects, questionnaire, responses
from surveyhub.services.questionnaire import build_pages
from tests.fixtures.factories import csrf_token
from tests.test_questionnaire import (ParsedPage, Resident, all_agree, count, finish_wave, key, set_wave,
                                      stored_answers)
from tests.test_questionnaire import app_config, query, settings  # noqa: F401  (fixtures)


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")


def _project(session, slug: str) -> Project:
    session.expire_all()
    return session.scalar(select(Project).where(Project.slug == slug))


def _set(session, slug: str, **values) -> None:
    project = _project(session, slug)
    for name, value in values.items():
        setattr(project, name, value)
    session.commit()


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- page order, pure -----------------------------------------------------------------------------

def _instrument(name: str, n: int) -> dict:
    items = [{"id": f"{name}_{i}", "type": "choice", "answer_set": "agree",
              "text": {"nl": f"Ik kan {name} {i}."}, "retrospective_text": {"nl": f"Vroeger kon ik {name} {i}."}}
             for i in range(1, n + 1)]
    return {"id": name, "title": {"nl": name.title()}, "answer_sets": {"agree": []},
            "scales": [{"id": name, "items": items, "retrospective": {"nl": f"Denk terug ({name})."}}],
            "questions": [{"id": f"{name}_open", "type": "text", "text": {"nl": f"Wat nog over {name}?"}}]}


def test_now_comes_first_then_the_whole_look_back_then_tot_slot():
    definitions = [_instrument("plan", 3), _instrument("praat", 2)]
    extra = [{"id": "q1", "type": "text", "text": {"nl": "Nog iets?"}}]
    pages = build_pages(definitions, extra, "post", retrospective=True)
    order = [(page.block, page.instrument_id, [slot.item["id"] for slot in page.slots]) for page in pages]
    assert order == [("now", "plan", ["plan_1", "plan_2", "plan_3"]), ("now", "praat", ["praat_1", "praat_2"]),
                     ("then", "plan", ["plan_1", "plan_2", "plan_3"]), ("then", "praat", ["praat_1", "praat_2"]),
                     ("now", "plan", ["plan_open", "praat_open"]), ("now", "_project", ["q1"])]
    then = pages[2]
    assert [slot.item["text"]["nl"] for slot in then.slots] == ["Vroeger kon ik plan 1.", "Vroeger kon ik plan 2.",
                                                                "Vroeger kon ik plan 3."]
    assert then.lead_in == {"nl": "Denk terug (plan)."}
    assert [page.title["nl"] for page in pages[4:]] == ["Tot slot", "Tot slot"]  # never under a skill's heading
    assert pages[4].instruments == {"plan", "praat"} and not pages[4].scored
    # The pre wave asks no look-back; an item without past-tense wording keeps its own text.
    assert [page.block for page in build_pages(definitions, extra, "pre", retrospective=True)].count("then") == 0
    bare = _instrument("kort", 1)
    del bare["scales"][0]["items"][0]["retrospective_text"]
    [_now, looking_back, _closing] = build_pages([bare], [], "post", retrospective=True)
    assert looking_back.slots[0].item["text"] == {"nl": "Ik kan kort 1."}


def test_one_question_per_screen_keeps_the_order_and_every_question():
    definitions = [_instrument("plan", 3), _instrument("praat", 2)]
    by_page = build_pages(definitions, [], "post", retrospective=True)
    one = build_pages(definitions, [], "post", retrospective=True, question_mode="one")
    assert all(len(page.slots) == 1 for page in one)
    assert [slot.key for page in one for slot in page.slots] == [slot.key for page in by_page for slot in page.slots]
    assert questionnaire.question_count(one) == questionnaire.question_count(by_page) == 3 + 2 + 3 + 2 + 2
    assert questionnaire.estimated_minutes(one) == questionnaire.estimated_minutes(by_page)


# --- waves, modes and forms through the resident's link ---------------------------------------------

def test_an_extra_question_is_asked_only_in_its_waves(session, client, org, make_project, make_participant,
                                                     query):
    project = make_project(org, "Per meting")
    actor = access.Actor(organisation_id=org.id, role="admin")
    projects.add_question(session, actor, project.slug, "text", "Alleen aan het eind?", "", None, None)
    session.commit()
    session.execute(ProjectQuestion.__table__.update().values(waves=["post"]))
    session.commit()
    kinds = {kind: [slot.item["id"] for page in responses.pages_for(_project(session, project.slug), kind)
                    for slot in page.slots] for kind in ("pre", "post")}
    assert "q1" not in kinds["pre"] and "q1" in kinds["post"]
    resident = Resident(client, make_participant(org, project.slug).token)
    resident.consent()
    finish_wave(resident, "3")
    assert ("now", "_project", "q1") not in stored_answers(query, resident.token, "pre")
    set_wave(session, org, project.slug, "post", "open")
    resident.open()
    asked = []
    for n in range(3):
        asked += ParsedPage(resident.open(f"/p/{n}").text).questions
        resident.submit(n, all_agree("4") if n == 0 else {})
    assert key("q1", "_project") in asked


def test_one_question_per_screen_on_the_resident_link(session, client, org, make_project, make_participant, query):
    project = make_project(org, "Per vraag")
    _set(session, project.slug, question_mode="one", form_length="short")
    resident = Resident(client, make_participant(org, project.slug).token)
    resident.consent()
    first = resident.open("/p/0")
    assert ParsedPage(first.text).questions == [key("org_1")]
    total = int(re.search(r'<progress max="(\d+)"', first.text).group(1))
    assert "Vraag 1 van" in first.text and total == 4 + 1  # the short form's four statements, one open question
    assert resident.submit(0, {key("org_1"): "4"}).headers["Location"].endswith("/p/1")
    assert stored_answers(query, resident.token) == {("now", "organising", "org_1"): 4.0}


def test_an_empty_page_of_statements_asks_before_moving_on(client, org, make_project, make_participant, query):
    project = make_project(org, "Leeg")
    resident = Resident(client, make_participant(org, project.slug).token)
    resident.consent()
    asked = resident.submit(0, {})
    assert asked.status_code == 200
    assert "Je hebt niets ingevuld. Toch verder?" in asked.text
    assert re.search(r'<button type="submit" name="move" value="anyway"[^>]*>Toch verder</button>', asked.text)
    assert f'href="#q-{key("org_1")}"' in asked.text and "Terug naar de vragen" in asked.text
    assert 'action="#page-check"' in asked.text and 'id="page-check"' in asked.text  # scrolls there without JS
    [(page,)] = query(select(Response.current_page))
    assert page == 0 and count(query, Answer) == 0
    # One answer is enough to move on without the question; "anyway" moves on with none.
    assert resident.submit(0, {}, move="anyway").headers["Location"].endswith("/p/1")
    assert resident.submit(1, {}).headers["Location"].endswith("/done")  # an empty open question is fine


def test_a_page_with_an_error_scrolls_to_its_summary(client, org, make_project, make_participant):
    project = make_project(org, "Fout")
    resident = Resident(client, make_participant(org, project.slug).token)
    resident.consent()
    bad = resident.submit(0, {**all_agree("4"), key("org_2"): "9"})
    assert bad.status_code == 422
    assert re.search(r'<div class="error-summary" role="alert" tabindex="-1" id="page-check">', bad.text)
    assert 'action="#page-check"' in bad.text


# --- the start page --------------------------------------------------------------------------------

def _png() -> bytes:
    from PIL import Image
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (0, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_start_page_names_who_asks_how_long_and_what_consent_covers(session, client, org, make_project,
                                                                        make_participant, make_user):
    project = make_project(org, "Buurttuin", instruments=("organising", "conversation"))
    worker = make_user("worker", org, email="sanne@example.org")
    user = session.get(User, worker.id)
    user.name, user.job_title = "Sanne de Vries", "opbouwwerker"
    own = session.get(Organisation, org.id)
    own.contact, own.logo, own.logo_type = "020 123 45 67", _png(), "image/png"
    session.commit()
    _set(session, project.slug, created_by_id=worker.id)
    token = make_participant(org, project.slug).token
    page = client.get(f"/q/{token}")
    text = _text(page.text)
    assert "Je contactpersoon: Sanne de Vries , opbouwwerker, Buurtwerk Noord" in text
    assert "Vragen? 020 123 45 67" in text
    assert f'<img class="org-logo" src="/q/{token}/logo" alt="Logo van Buurtwerk Noord">' in page.text
    logo = client.get(f"/q/{token}/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png" and logo.data == _png()
    pages = responses.pages_for(_project(session, project.slug), "pre")
    minutes, asked = questionnaire.estimated_minutes(pages), questionnaire.question_count(pages)
    assert f"Het duurt ongeveer {minutes} minuten ({asked} vragen)." in text and asked == 7 + 6 + 1
    assert "10 minuten" not in text or minutes == 10
    assert "De financier van het project ziet alleen totalen van de hele groep, nooit jouw antwoorden." in text
    assert "Aan het eind maken we misschien een certificaat met jouw naam, voor jou." in text
    assert 'action="#consent-error"' in page.text


def test_without_logo_worker_or_contact_the_start_page_still_reads_well(client, org, make_project,
                                                                        make_participant):
    project = make_project(org, "Kaal")
    token = make_participant(org, project.slug).token
    page = client.get(f"/q/{token}")
    assert 'class="org-logo"' not in page.text and "Vragen?" not in page.text
    assert "Je contactpersoon" not in page.text
    assert client.get(f"/q/{token}/logo").status_code == 204  # a working link is never a counted miss


def test_refusing_consent_focuses_the_message(client, org, make_project, make_participant):
    token = make_participant(org, make_project(org, "Nee").slug).token
    page = client.get(f"/q/{token}")
    refused = client.post(f"/q/{token}", data={"csrf_token": csrf_token(page.text)})
    assert re.search(r'<p role="alert" tabindex="-1" class="error" id="consent-error">\s*Zet een vinkje als je wilt meedoen.',
                     refused.text)


# --- welcome back and thank you ------------------------------------------------------------------------

def test_a_later_wave_greets_the_resident_and_says_how_long(session, client, org, make_project, make_participant,
                                                            query):
    project = make_project(org, "Terug", instruments=("organising", "conversation"))
    resident = Resident(client, make_participant(org, project.slug).token)
    resident.consent()
    finish_wave(resident, "3")
    pre_done = _text(resident.open("/done").text)
    assert "We vragen je later nog een keer om deze vragen te beantwoorden." in pre_done
    assert "Dan zie je wat er voor jou veranderd is." in pre_done
    set_wave(session, org, project.slug, "post", "open")
    welcome = resident.open()
    assert welcome.status_code == 200
    text = _text(welcome.text)
    assert "Welkom terug!" in text and "dezelfde vragen als aan het begin" in text
    minutes = questionnaire.estimated_minutes(responses.pages_for(_project(session, project.slug), "post"))
    assert f"Het duurt ongeveer {minutes} minuten" in text
    assert f'href="{resident.base}/p/0"' in welcome.text and 'name="consent"' not in welcome.text
    assert count(query, Response) == 1  # greeting writes nothing


def test_the_post_thank_you_names_growth_once_and_what_happens_next(session, client, org, make_project,
                                                                    make_participant):
    project = make_project(org, "Groei", instruments=("organising", "conversation"))
    resident = Resident(client, make_participant(org, project.slug).token)
    resident.consent()
    finish_wave(resident, "2")
    set_wave(session, org, project.slug, "post", "open")
    finish_wave(resident, "5")
    text = _text(resident.open("/done").text)
    assert text.count("Je bent gegroeid in") == 1
    assert "Je bent gegroeid in Plannen en organiseren en Praten en luisteren." in text
    assert "Misschien maakt je organisatie een certificaat voor je." in text
    assert "We vragen je later nog een keer" not in text


# --- the dead end ----------------------------------------------------------------------------------------

def test_an_old_link_names_its_project_and_whom_to_ask(session, client, org, make_project, make_participant):
    project = make_project(org, "Speeltuin")
    old = make_participant(org, project.slug)
    participants.renew_link(session, access.Actor(organisation_id=org.id, role="worker"), project.slug, old.code)
    session.commit()
    for path in ("", "/p/0", "/done"):
        page = client.get(f"/q/{old.token}{path}")
        assert page.status_code == 404
        text = _text(page.text)
        assert "Dit is een oude link voor Speeltuin van Buurtwerk Noord." in text
        assert "Vraag je opbouwwerker om de nieuwe link." in text


def test_an_unknown_link_names_nothing(client, org, make_project):
    make_project(org, "Geheim")
    page = client.get("/q/no-such-link")
    assert page.status_code == 404
    text = _text(page.text)
    assert "Deze link werkt niet" in text and "Vraag je opbouwwerker om een nieuwe link." in text
    assert "Geheim" not in text and "Buurtwerk Noord" not in text


@pytest.mark.parametrize("settings", [{"TOKEN_RATE_LIMIT": "2 per minute"}], ids=["limit-2"])
def test_old_links_still_count_as_misses(session, client, org, make_project, make_participant, settings):
    project = make_project(org, "Teller")
    old = make_participant(org, project.slug)
    participants.renew_link(session, access.Actor(organisation_id=org.id, role="worker"), project.slug, old.code)
    session.commit()
    assert [client.get(f"/q/{old.token}").status_code for _ in range(3)] == [404, 404, 429]


# --- the anonymous code ------------------------------------------------------------------------------------

def test_the_code_page_has_month_names_dont_know_everywhere_and_says_why(client, org, make_project, query):
    project = make_project(org, "Anoniem")
    url = f"/a/{project.anonymous_token}"
    page = client.get(url)
    assert '<option value="1">januari</option>' in page.text and '<option value="12">december</option>' in page.text
    for name in ("month", "brothers", "sisters"):
        select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', page.text, re.S).group(0)
        assert '<option value="?">Weet ik niet</option>' in select_html, name
    assert 'aria-describedby="mother-why"' in page.text and "Deze letter verandert nooit." in page.text
    sent = client.post(url, data={"csrf_token": csrf_token(page.text), "mother": "?", "father": "J", "month": "?",
                                  "brothers": "?", "sisters": "1", "birthplace": "U"})
    assert sent.status_code == 302
    [(code,)] = query(select(Participant.self_code))
    assert code == "?|j|?|?|1|u"
    start = client.get(sent.headers["Location"])
    assert "Dit is jouw eigen link. Met de link van de groep kom je niet terug bij je antwoorden." in start.text
    own = "http://surveyhub.test" + sent.headers["Location"].split("surveyhub.test")[-1]
    assert f'data-copy="{own}"' in start.text


# --- the preview -------------------------------------------------------------------------------------------

def test_the_preview_starts_with_the_start_page_and_stores_nothing(session, org, make_project, make_user,
                                                                    client_for, query):
    project = make_project(org, "Voorbeeld", retrospective=True)
    worker = client_for(make_user("worker", org).email)
    base = f"/projects/{project.slug}/preview"
    start = worker.get(f"{base}/pre")
    assert start.status_code == 200
    text = _text(start.text)
    assert "Welkom" in text and "Het duurt ongeveer" in text and 'name="consent"' in start.text
    assert "Dit zien bewoners. Er wordt niets opgeslagen." in text
    refused = worker.post(f"{base}/pre", data={"csrf_token": csrf_token(start.text)})
    assert 'id="consent-error"' in refused.text
    agreed = worker.post(f"{base}/pre", data={"csrf_token": csrf_token(start.text), "consent": "y"})
    assert agreed.headers["Location"].endswith(f"{base}/pre/0")
    empty = worker.post(f"{base}/pre/0", data={"csrf_token": csrf_token(start.text), "move": "next"})
    assert "Je hebt niets ingevuld. Toch verder?" in empty.text
    welcome = worker.get(f"{base}/post")
    assert "Welkom terug!" in welcome.text and f'href="{base}/post/0"' in welcome.text
    assert count(query, Response) == count(query, Answer) == count(query, Consent) == count(query, Participant) == 0


def test_a_several_answers_question_is_a_group_of_boxes_under_tot_slot(session, client, org, make_project,
                                                                       make_participant, query):
    project = make_project(org, "Meerkeuze")
    actor = access.Actor(organisation_id=org.id, role="admin")
    projects.add_question(session, actor, project.slug, "choices", "Wat deed je mee?", "", options=["Koken", "Tuin"])
    session.commit()
    resident = Resident(client, make_participant(org, project.slug).token)
    resident.consent()
    resident.submit(0, all_agree("4"))
    resident.submit(1, {})  # the open question
    page = resident.open("/p/2")
    assert "<h1>Tot slot</h1>" in page.text
    group = re.search(r"<fieldset>\s*<legend[^>]*>Wat deed je mee\?</legend>(.*?)</fieldset>", page.text, re.S)
    assert group and group.group(1).count('type="checkbox"') == 2
