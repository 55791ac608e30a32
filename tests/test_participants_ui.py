"""The worker's resident pages: adding residents, links and QR codes, paper entry, set-up, preview.

Driven through the test client as a logged-in worker, on both backends.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from surveyhub.models import Answer, Consent, Participant, Project, ProjectInstrument, ProjectQuestion, Response
from tests.fixtures.factories import csrf_token
from tests.test_questionnaire import ParsedPage, Resident, all_agree, count, finish_wave, key
from tests.test_questionnaire import query  # noqa: F401  (fixture)


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")


@pytest.fixture
def project(org, make_project):
    return make_project(org, "Buurttuin", instruments=("organising", "conversation"))


@pytest.fixture
def worker_info(org, make_user):
    return make_user("worker", org, email="opbouwwerker@example.org")


@pytest.fixture
def worker(client_for, worker_info):
    return client_for(worker_info.email)


def codes(query, slug: str) -> list[str]:
    return [c for (c,) in query(select(Participant.code).join(Project).where(Project.slug == slug)
                                .order_by(Participant.id))]


def names(query, slug: str) -> list[tuple]:
    return query(select(Participant.display_name, Participant.email).join(Project)
                 .where(Project.slug == slug).order_by(Participant.id))


def add(worker, slug: str, **data):
    url = f"/projects/{slug}/participants"
    data = {"csrf_token": csrf_token(worker.get(url).text), **data}
    return worker.post(url, data=data, content_type="multipart/form-data")


def instrument_order(query, slug: str) -> list[str]:
    return [i for (i,) in query(select(ProjectInstrument.instrument_id).join(Project)
                                .where(Project.slug == slug).order_by(ProjectInstrument.position))]


def question_ids(query, slug: str) -> list[str]:
    return [q for (q,) in query(select(ProjectQuestion.question_id).join(Project)
                                .where(Project.slug == slug).order_by(ProjectQuestion.position))]


# --- adding residents ----------------------------------------------------------------------------

def test_worker_adds_one_resident(worker, project, query):
    added = add(worker, project.slug, name="Fatima", email="fatima@example.org")
    assert added.status_code == 302
    assert names(query, project.slug) == [("Fatima", "fatima@example.org")]
    overview = worker.get(added.headers["Location"])
    assert "Fatima" in overview.text and codes(query, project.slug)[0] in overview.text


def test_worker_adds_a_pasted_list(worker, project, query):
    added = add(worker, project.slug, names="Anna\n\nBram, bram@example.org\nCor; cor@example.org\n")
    assert added.status_code == 302
    assert names(query, project.slug) == [("Anna", None), ("Bram", "bram@example.org"),
                                          ("Cor", "cor@example.org")]
    assert len(set(codes(query, project.slug))) == 3


def test_worker_uploads_a_file_of_residents(worker, project, query):
    upload = "\ufeffDirk, dirk@example.org\r\nEsra\r\nJosé; jose@example.org\r\n".encode("utf-8")
    added = add(worker, project.slug, file=(io.BytesIO(upload), "bewoners.txt"))
    assert added.status_code == 302
    assert names(query, project.slug) == [("Dirk", "dirk@example.org"), ("Esra", None),
                                          ("José", "jose@example.org")]


def test_bad_lines_are_listed_by_number_and_nothing_is_added(worker, project, query):
    pasted = "Anna\nBram, geen-adres\nCor\n\nDirk; ook fout\n"
    refused = add(worker, project.slug, names=pasted)
    assert refused.status_code == 200
    error = re.search(r'class="error" id="names-error">([^<]*)<', refused.text)
    assert error, "no message beside the list"
    # In the worker's language (Dutch): "regel" is "line".
    assert "regel 2" in error.group(1) and "regel 5" in error.group(1)
    assert "regel 1" not in error.group(1) and "regel 3" not in error.group(1)
    assert codes(query, project.slug) == []
    upload = add(worker, project.slug, file=(io.BytesIO(b"Eva\nFrits, frits-at-home\n"), "lijst.txt"))
    assert upload.status_code == 200 and "regel 2" in upload.text
    assert codes(query, project.slug) == []


# --- overview and detail -------------------------------------------------------------------------

def _row_states(html: str, code: str) -> list[str]:
    row = re.search(rf"<tr>(?:(?!</tr>).)*?<th scope=\"row\"><a [^>]*>{code}</a>.*?</th>(.*?)</tr>", html, re.S)
    assert row, f"no row for {code}"
    return re.findall(r'class="state-(\w+)">([^<]*)<', row.group(1))


def test_overview_shows_the_state_of_every_wave(app, worker, org, project, make_participant):
    waiting, busy, done = (make_participant(org, project.slug, name) for name in ("Anna", "Bram", "Cor"))
    busy_resident = Resident(app.test_client(), busy.token)
    busy_resident.consent()
    busy_resident.submit(0, all_agree("4"))
    done_resident = Resident(app.test_client(), done.token)
    done_resident.consent()
    finish_wave(done_resident)
    overview = worker.get(f"/projects/{project.slug}/participants?lang=en")
    assert overview.status_code == 200
    assert _row_states(overview.text, waiting.code) == [
        ("not_started", "not started"), ("not_started", "not started"), ("not_started", "not started")]
    assert _row_states(overview.text, busy.code)[0] == ("busy", "busy")
    assert _row_states(overview.text, done.code)[0] == ("done", "done")
    assert _row_states(overview.text, done.code)[1] == ("not_started", "not started")


def test_detail_shows_the_personal_link_and_an_inline_qr_code(worker, org, project, make_participant):
    invitation = make_participant(org, project.slug, "Anna")
    detail = worker.get(f"/projects/{project.slug}/participants/{invitation.code}")
    assert detail.status_code == 200
    assert f"http://surveyhub.test/q/{invitation.token}" in detail.text
    svg = re.search(r"<svg[^>]*class=\"qr\"[^>]*>.*?</svg>", detail.text, re.S)
    assert svg, "no inline SVG QR code"
    assert "<title>" in svg.group(0)  # a text alternative for screen readers
    assert "<img" not in detail.text.split("<main", 1)[1]


def test_a_new_link_revokes_the_old_one(app, worker, org, project, make_participant):
    invitation = make_participant(org, project.slug, "Anna")
    detail_url = f"/projects/{project.slug}/participants/{invitation.code}"
    renewed = worker.post(f"{detail_url}/new-link", data={"csrf_token": csrf_token(worker.get(detail_url).text)})
    assert renewed.status_code == 302
    detail = worker.get(detail_url).text
    new_token = re.search(r"http://surveyhub\.test/q/([\w-]+)", detail).group(1)
    assert new_token != invitation.token
    phone = app.test_client()
    assert phone.get(f"/q/{invitation.token}").status_code == 404
    assert phone.get(f"/q/{new_token}").status_code == 200


def test_a_new_link_needs_the_csrf_token(worker, org, project, make_participant):
    invitation = make_participant(org, project.slug, "Anna")
    worker.post(f"/projects/{project.slug}/participants/{invitation.code}/new-link", data={})
    assert worker.get(f"/q/{invitation.token}").status_code == 200


# --- paper entry ---------------------------------------------------------------------------------

def test_paper_entry_needs_consent_and_goes_through_the_same_pages(app, worker, worker_info, org, project,
                                                                   make_participant, query):
    invitation = make_participant(org, project.slug, "Anna")
    paper = f"/projects/{project.slug}/participants/{invitation.code}/paper/pre"
    form = worker.get(paper)
    assert form.status_code == 200
    assert worker.get(f"{paper}/p/0").headers["Location"].endswith(paper)  # no pages before consent
    refused = worker.post(paper, data={"csrf_token": csrf_token(form.text)})
    assert refused.status_code == 200
    assert re.search(r'class="error" id="consent-error">[^<]*\w', refused.text)
    assert count(query, Consent) == count(query, Response) == 0

    started = worker.post(paper, data={"csrf_token": csrf_token(form.text), "consent": "y"})
    assert started.headers["Location"].endswith(f"{paper}/p/0")
    [(recorded_by,)] = query(select(Consent.recorded_by_id))
    assert recorded_by == worker_info.id

    resident_view = Resident(app.test_client(), invitation.token)
    n = 0
    while True:
        page = worker.get(f"{paper}/p/{n}")
        assert page.status_code == 200
        questions = ParsedPage(page.text).questions
        assert questions == ParsedPage(resident_view.open(f"/p/{n}").text).questions
        sent = worker.post(f"{paper}/p/{n}", data={"csrf_token": csrf_token(page.text), "move": "next",
                                                   **{q: "3" for q in questions if "proud_of" not in q}})
        assert sent.status_code == 302
        if not sent.headers["Location"].endswith(f"/p/{n + 1}"):
            break
        n += 1
    assert sent.headers["Location"].endswith(f"/projects/{project.slug}/participants/{invitation.code}")
    [(channel, entered_by, status)] = query(select(Response.channel, Response.entered_by_id, Response.status))
    assert (channel, entered_by, status) == ("paper", worker_info.id, "completed")
    assert count(query, Answer) == 7 + 6


def test_paper_entry_refuses_a_bad_answer_like_the_resident_pages(worker, org, project, make_participant, query):
    invitation = make_participant(org, project.slug)
    paper = f"/projects/{project.slug}/participants/{invitation.code}/paper/pre"
    worker.post(paper, data={"csrf_token": csrf_token(worker.get(paper).text), "consent": "y"})
    page = worker.get(f"{paper}/p/0")
    shown = worker.post(f"{paper}/p/0", data={"csrf_token": csrf_token(page.text), "move": "next",
                                              **all_agree("4"), key("org_2"): "6"})
    assert shown.status_code == 422
    assert ParsedPage(shown.text).errors.get(key("org_2"))
    assert count(query, Answer) == 0


# --- roles and organisations ---------------------------------------------------------------------

def test_a_funder_cannot_add_residents_or_enter_paper_answers(client_for, make_user, org, project,
                                                              make_participant, query):
    """Funders see residents nowhere: every residents' page is a 404 to them (issue 9)."""
    invitation = make_participant(org, project.slug)
    funder = client_for(make_user("funder", org).email)
    overview = funder.get(f"/projects/{project.slug}/participants")
    assert overview.status_code == 404
    token = csrf_token(funder.get("/").text)
    added = funder.post(f"/projects/{project.slug}/participants", data={"csrf_token": token, "names": "Anna"})
    assert added.status_code == 404
    paper = f"/projects/{project.slug}/participants/{invitation.code}/paper/pre"
    assert funder.get(paper).status_code == 404
    assert funder.post(paper, data={"csrf_token": token, "consent": "y"}).status_code == 404
    assert funder.get(f"{paper}/p/0").status_code == 404
    assert funder.post(f"/projects/{project.slug}/participants/{invitation.code}/new-link",
                       data={"csrf_token": token}).status_code == 404
    assert count(query, Participant) == 1 and count(query, Consent) == 0


def test_a_worker_of_another_organisation_gets_404_everywhere(client_for, make_org, make_user, org, project,
                                                             make_participant, query):
    invitation = make_participant(org, project.slug)
    outsider = client_for(make_user("worker", make_org("Welzijn Zuid")).email)
    token = csrf_token(outsider.get("/").text)
    base = f"/projects/{project.slug}"
    person = f"{base}/participants/{invitation.code}"
    gets = [f"{base}/participants", person, f"{person}/paper/pre", f"{person}/paper/pre/p/0",
            f"{base}/questionnaire", f"{base}/preview/pre/0"]
    posts = [f"{base}/participants", f"{person}/new-link", f"{person}/paper/pre", f"{person}/paper/pre/p/0",
             f"{base}/questionnaire", f"{base}/questionnaire/move/organising/down", f"{base}/preview/pre/0",
             f"{base}/questionnaire/remove/q1"]
    for url in gets:
        assert outsider.get(url).status_code == 404, url
    for url in posts:
        assert outsider.post(url, data={"csrf_token": token, "names": "Indringer", "consent": "y",
                                        "qtype": "text", "text_nl": "Vraag?"}).status_code == 404, url
    assert count(query, Participant) == 1 and count(query, Consent) == 0 and count(query, ProjectQuestion) == 0
    assert instrument_order(query, project.slug) == ["organising", "conversation"]
    assert outsider.get(f"/q/{invitation.token}").status_code == 200  # the link itself is public


# --- questionnaire set-up and preview ------------------------------------------------------------

def _setup_post(worker, slug: str, path: str = "", **data):
    url = f"/projects/{slug}/questionnaire"
    return worker.post(url + path, data={"csrf_token": csrf_token(worker.get(url).text), **data})


def test_worker_moves_instruments_up_and_down(worker, project, query):
    assert instrument_order(query, project.slug) == ["organising", "conversation"]
    assert _setup_post(worker, project.slug, "/move/conversation/up").status_code == 302
    assert instrument_order(query, project.slug) == ["conversation", "organising"]
    _setup_post(worker, project.slug, "/move/conversation/down")
    assert instrument_order(query, project.slug) == ["organising", "conversation"]
    _setup_post(worker, project.slug, "/move/organising/up")  # already first: nothing changes
    assert instrument_order(query, project.slug) == ["organising", "conversation"]


def test_the_resident_sees_the_new_order(app, worker, org, project, make_participant):
    _setup_post(worker, project.slug, "/move/conversation/up")
    resident = Resident(app.test_client(), make_participant(org, project.slug).token)
    resident.consent()
    assert ParsedPage(resident.open("/p/0").text).questions[0] == key("con_1", "conversation")


def test_worker_adds_and_removes_extra_questions(app, worker, org, project, make_participant, query):
    added = _setup_post(worker, project.slug, qtype="text", text_nl="Wat wil je nog kwijt?",
                        text_en="Anything else?")
    assert added.status_code == 302
    number = _setup_post(worker, project.slug, qtype="number", text_nl="Hoeveel buren ken je?",
                         minimum="0", maximum="20")
    assert number.status_code == 302
    assert question_ids(query, project.slug) == ["q1", "q2"]
    setup = worker.get(f"/projects/{project.slug}/questionnaire")
    assert "Wat wil je nog kwijt?" in setup.text and "Hoeveel buren ken je?" in setup.text

    resident = Resident(app.test_client(), make_participant(org, project.slug).token)
    resident.consent()
    for n in range(3):  # organising, conversation, then "Tot slot": the open question (the extra ones are next)
        resident.submit(n, {}, move="anyway")
    last = resident.open("/p/3")
    assert ParsedPage(last.text).questions == [key("q1", "_project"), key("q2", "_project")]
    assert resident.submit(3, {key("q2", "_project"): "21"}).status_code == 422
    assert resident.submit(3, {key("q2", "_project"): "20"}).headers["Location"].endswith("/done")


def test_worker_removes_an_extra_question(worker, project, query):
    _setup_post(worker, project.slug, qtype="yes_no", text_nl="Woon je langer dan 5 jaar in de buurt?")
    assert question_ids(query, project.slug) == ["q1"]
    removed = _setup_post(worker, project.slug, "/remove/q1")
    assert removed.status_code == 302
    assert question_ids(query, project.slug) == []


def test_a_bad_extra_question_is_refused_with_a_message(worker, project, query):
    refused = _setup_post(worker, project.slug, qtype="number", text_nl="Hoeveel?", minimum="5", maximum="1")
    assert refused.status_code == 200
    assert re.search(r'class="error"[^>]*>[^<]*\w', refused.text)
    assert question_ids(query, project.slug) == []


def test_the_questionnaire_is_locked_once_residents_answered(app, worker, org, project, make_participant, query):
    _setup_post(worker, project.slug, qtype="text", text_nl="Nog iets?")
    Resident(app.test_client(), make_participant(org, project.slug).token).consent()
    setup = worker.get(f"/projects/{project.slug}/questionnaire")
    assert "/move/" not in setup.text and "/remove/" not in setup.text and 'name="text_nl"' not in setup.text
    _setup_post(worker, project.slug, "/move/conversation/up")
    _setup_post(worker, project.slug, "/remove/q1")
    _setup_post(worker, project.slug, qtype="text", text_nl="Nog een vraag?")
    assert instrument_order(query, project.slug) == ["organising", "conversation"]
    assert question_ids(query, project.slug) == ["q1"]


def test_preview_shows_the_resident_pages_and_stores_nothing(worker, org, make_project, query):
    project = make_project(org, "Terugblik", instruments=("organising",), retrospective=True)
    preview = f"/projects/{project.slug}/preview"
    first = worker.get(f"{preview}/pre/0")
    assert first.status_code == 200
    assert ParsedPage(first.text).questions == list(all_agree("x"))
    token = csrf_token(first.text)  # the preview form posts like the resident's page
    bad = worker.post(f"{preview}/pre/0", data={"csrf_token": token, **all_agree("4"), key("org_1"): "8"})
    assert ParsedPage(bad.text).errors.get(key("org_1"))
    moved = worker.post(f"{preview}/pre/0", data={"csrf_token": token, **all_agree("4"), "move": "next"})
    assert moved.headers["Location"].endswith(f"{preview}/pre/1")
    then = worker.get(f"{preview}/post/1")  # look-back right after the statements about now
    assert "Denk terug aan de tijd vóór het project." in then.text
    assert ParsedPage(then.text).questions == list(all_agree("x", block="then"))
    end = worker.post(f"{preview}/post/2", data={"csrf_token": token, "move": "next"})
    assert end.headers["Location"].endswith(f"/projects/{project.slug}/questionnaire")
    assert worker.get(f"{preview}/pre/9").status_code == 404
    assert count(query, Response) == count(query, Answer) == count(query, Consent) == 0
    assert count(query, Participant) == 0


# --- issue 12: links, sharing, bulk actions and confirmations on the residents pages ----------------

def _minutes(app, org, slug: str, kind: str = "pre") -> int:
    """What the invitation must promise: the estimate from the questions the wave asks."""
    from surveyhub.services import access, questionnaire, responses

    with app.extensions["surveyhub.db"].session() as session:
        project = access.project(session, access.Actor(organisation_id=org.id, role="admin"), slug, "project.list")
        return questionnaire.estimated_minutes(responses.pages_for(project, kind))


def _hrefs(html: str, start: str) -> list[str]:
    from html import unescape
    return [unescape(h) for h in re.findall(rf'href="({re.escape(start)}[^"]*)"', html)]


def test_the_residents_page_shows_every_link_with_exact_share_urls(app, worker, org, make_project, make_participant):
    from urllib.parse import quote

    project = make_project(org, "Tuin & <Buurt> #1", instruments=("organising", "conversation"))
    anna, bram = make_participant(org, project.slug, "Anna"), make_participant(org, project.slug, "<b>Bram</b>")
    page = worker.get(f"/projects/{project.slug}/participants").text
    minutes = _minutes(app, org, project.slug)
    for person in (anna, bram):
        link = f"http://surveyhub.test/q/{person.token}"
        assert f'<code class="link">{link}</code>' in page
        message = (f"Hallo! Wil je de vragenlijst over Tuin & <Buurt> #1 invullen? Het duurt ongeveer {minutes} "
                   f"minuten. Je persoonlijke link: {link}")
        assert "https://wa.me/?text=" + quote(message, safe="") in _hrefs(page, "https://wa.me/")
        assert "sms:?&body=" + quote(message, safe="") in _hrefs(page, "sms:")
        assert f'data-copy="{link}"' in page
    shorts = re.findall(r'<span class="short-code">[^<]*<code>([A-Z0-9]{4}-[A-Z0-9]{4})</code>', page)
    assert len(shorts) == 2
    # The name, the project and the message are escaped everywhere; no message says a fixed "10 minutes".
    assert "<b>Bram</b>" not in page and "&lt;b&gt;Bram&lt;/b&gt;" in page
    assert "<Buurt>" not in page
    assert "%26%20%3CBuurt%3E%20%231" in page  # "& <Buurt> #1" cannot cut the message short
    assert "10 minuten" not in page or minutes == 10


def test_the_resident_page_promises_the_estimated_time(app, worker, org, project, make_participant):
    from urllib.parse import quote

    anna = make_participant(org, project.slug, "Anna")
    page = worker.get(f"/projects/{project.slug}/participants/{anna.code}").text
    minutes = _minutes(app, org, project.slug)
    link = f"http://surveyhub.test/q/{anna.token}"
    message = (f"Hallo! Wil je de vragenlijst over Buurttuin invullen? Het duurt ongeveer {minutes} minuten. "
               f"Je persoonlijke link: {link}")
    assert f'<p class="reminder">{message}</p>' in page
    assert _hrefs(page, "https://wa.me/") == ["https://wa.me/?text=" + quote(message, safe="")]
    assert _hrefs(page, "sms:") == ["sms:?&body=" + quote(message, safe="")]
    assert 'id="qr"' in page and 'class="qr"' in page


def test_a_new_link_is_made_only_after_a_confirmation(app, worker, org, project, make_participant):
    anna = make_participant(org, project.slug, "Anna")
    detail_url = f"/projects/{project.slug}/participants/{anna.code}"
    detail = worker.get(detail_url).text
    confirm_url = f"{detail_url}/new-link/confirm"
    assert f'action="{confirm_url}"' in detail  # the button asks first
    confirm = worker.post(confirm_url, data={"csrf_token": csrf_token(detail)})
    assert confirm.status_code == 200
    assert "De oude link werkt dan niet meer. De geprinte kaart en de korte code ook niet." in confirm.text
    phone = app.test_client()
    assert phone.get(f"/q/{anna.token}").status_code == 200  # nothing changed yet
    action = re.search(r'<form method="post" action="([^"]+)"', confirm.text.split("<main", 1)[1]).group(1)
    assert action == f"{detail_url}/new-link"
    done = worker.post(action, data={"csrf_token": csrf_token(confirm.text), "participant": anna.code,
                                     "confirmed": "yes"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"{detail_url}#share")
    assert phone.get(f"/q/{anna.token}").status_code == 404


def test_new_links_for_the_chosen_residents_after_a_confirmation(app, worker, org, project, make_participant):
    anna, bram, cor = (make_participant(org, project.slug, name) for name in ("Anna", "Bram", "Cor"))
    url = f"/projects/{project.slug}/participants"
    page = worker.get(url).text
    token = csrf_token(page)
    assert f'action="{url}/new-links"' in page
    nobody = worker.post(f"{url}/new-links", data={"csrf_token": token}, follow_redirects=True)
    assert "Kies eerst een of meer bewoners." in nobody.text

    confirm = worker.post(f"{url}/new-links", data={"csrf_token": token, "participant": [anna.code, cor.code]})
    assert confirm.status_code == 200
    assert "Nieuwe links maken voor 2 bewoners?" in confirm.text
    assert f"{anna.code} · Anna" in confirm.text and f"{cor.code} · Cor" in confirm.text
    assert bram.code not in confirm.text
    phone = app.test_client()
    assert all(phone.get(f"/q/{p.token}").status_code == 200 for p in (anna, bram, cor))

    hidden = re.findall(r'name="participant" value="([^"]+)"', confirm.text)
    assert hidden == [anna.code, cor.code]
    done = worker.post(f"{url}/new-links", data={"csrf_token": csrf_token(confirm.text), "participant": hidden,
                                                 "confirmed": "yes"}, follow_redirects=True)
    assert "2 nieuwe links gemaakt." in done.text
    assert phone.get(f"/q/{anna.token}").status_code == 404 and phone.get(f"/q/{cor.token}").status_code == 404
    assert phone.get(f"/q/{bram.token}").status_code == 200


def test_choose_everyone_works_without_javascript(worker, org, project, make_participant):
    for name in ("Anna", "Bram"):
        make_participant(org, project.slug, name)
    url = f"/projects/{project.slug}/participants"
    assert len(re.findall(r'name="participant" value="[^"]+" checked', worker.get(url).text)) == 0
    everyone = worker.get(f"{url}?select=all").text
    assert len(re.findall(r'name="participant" value="[^"]+" checked', everyone)) == 2


def test_closing_a_wave_asks_first_and_says_what_happens(app, worker, org, project, make_participant, query):
    from surveyhub.models import Wave

    busy = Resident(app.test_client(), make_participant(org, project.slug).token)
    busy.consent()
    busy.submit(0, all_agree("4"))
    page = worker.get(f"/projects/{project.slug}").text
    confirm_url = f"/projects/{project.slug}/waves/pre/close"
    assert f'action="{confirm_url}"' in page and '/waves/pre/closed"' not in page
    confirm = worker.post(confirm_url, data={"csrf_token": csrf_token(page)})
    assert confirm.status_code == 200
    assert "Nulmeting sluiten?" in confirm.text and "1 bewoner is begonnen maar nog niet klaar." in confirm.text

    def status() -> str:
        return query(select(Wave.status).join(Project).where(Project.slug == project.slug, Wave.kind == "pre"))[0][0]

    assert status() == "open"
    action = re.search(r'<form method="post" action="([^"]+)"', confirm.text.split("<main", 1)[1]).group(1)
    assert action == f"/projects/{project.slug}/waves/pre/closed"
    assert worker.post(action, data={"csrf_token": csrf_token(confirm.text)}).status_code == 302
    assert status() == "closed"
    assert worker.get(confirm_url).headers["Location"].endswith(f"/projects/{project.slug}")  # nothing left to close


def test_the_project_page_names_instruments_and_puts_reading_first(worker, org, project):
    page = worker.get(f"/projects/{project.slug}").text
    assert "Plannen en organiseren" in page and "Praten en luisteren" in page
    assert "organising@1" not in page and "conversation@" not in page
    order = [page.index(marker) for marker in (f"/projects/{project.slug}/outcomes\"", "/documents/report.pdf",
                                               "summary.csv", "/export.csv", "report.json")]
    assert order == sorted(order), order
    assert "als gegevensbestand (JSON, voor programmeurs)" in page


def test_a_funder_reaches_none_of_the_new_resident_pages(app, client_for, make_user, org, project,
                                                         make_participant):
    invitation = make_participant(org, project.slug, "Anna")
    funder = client_for(make_user("funder", org).email)
    token = csrf_token(funder.get("/").text)
    base = f"/projects/{project.slug}"
    person = f"{base}/participants/{invitation.code}"
    for url in (f"{person}/growth", f"{person}/new-link/confirm", f"{base}/waves/pre/close"):
        assert funder.get(url).status_code == 404, url
    for url in (f"{person}/new-link/confirm", f"{base}/participants/new-links", f"{base}/waves/pre/close"):
        assert funder.post(url, data={"csrf_token": token, "participant": invitation.code,
                                      "confirmed": "yes"}).status_code == 404, url
    assert app.test_client().get(f"/q/{invitation.token}").status_code == 200  # no new link was made
