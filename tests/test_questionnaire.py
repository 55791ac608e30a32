"""The resident's questionnaire, driven through the test client on both backends.

A resident opens a personal link, gives consent, answers page by page, can stop
and come back, and sees a summary at the end. Every problem in a submitted page
re-shows it with a message beside the field and stores nothing from that request.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from surveyhub import hookimpl
from surveyhub.models import Answer, Consent, Participant, Response, Token, Wave
from surveyhub.plugins import get_host
from surveyhub.services import access, participants, projects
from surveyhub.services.questionnaire import PER_PAGE
from tests.fixtures.factories import csrf_token

ORG_ITEMS = [f"org_{i}" for i in range(1, 8)]
DECLINE_WORDS = ("declin", "lower", "worse", "decrease", "achteruit", "gedaald", "lager", "minder", "slechter")


# --- helpers shared with the other resident test modules -----------------------------------------

def key(item: str, instrument: str = "organising", block: str = "now") -> str:
    """The form field name of an item."""
    return f"{block}__{instrument}__{item}"


class ParsedPage(HTMLParser):
    """What a resident sees on a page: checked options, typed text, errors per question."""

    def __init__(self, html: str):
        super().__init__()
        self.checked: dict[str, str] = {}
        self.values: dict[str, str] = {}
        self.errors: dict[str | None, str] = {}
        self.questions: list[str] = []
        self._question: str | None = None
        self._capture: str | None = None  # "error" or a textarea name
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "div" and "question" in classes:
            self._question = a["id"].removeprefix("q-")
            self.questions.append(self._question)
        elif tag == "input" and a.get("type") in ("radio", "checkbox") and "checked" in a:
            self.checked[a["name"]] = a.get("value")
        elif tag == "input" and a.get("type") in (None, "text") and a.get("name"):
            self.values[a["name"]] = a.get("value") or ""
        elif tag == "textarea":
            self._capture, self._text = a["name"], []
        elif tag == "p" and "error" in classes:
            self._capture, self._text = "error", []

    def handle_data(self, data):
        if self._capture:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._capture not in (None, "error"):
            self.values[self._capture] = "".join(self._text).lstrip("\r\n")
            self._capture = None
        elif tag == "p" and self._capture == "error":
            self.errors[self._question] = " ".join("".join(self._text).split())
            self._capture = None


class Resident:
    """A resident with a phone: one browser (test client) and a personal link."""

    def __init__(self, client, token: str, prefix: str = "/q"):
        self.client, self.token, self.base = client, token, f"{prefix}/{token}"

    def open(self, path: str = "", **kwargs):
        return self.client.get(self.base + path, **kwargs)

    def consent(self, share_quotes: bool = False, lang: str | None = None):
        page = self.open(f"?lang={lang}" if lang else "")
        assert page.status_code == 200, page.status_code
        data = {"csrf_token": csrf_token(page.text), "consent": "y"}
        if share_quotes:
            data["share_quotes"] = "y"
        response = self.client.post(self.base, data=data)
        assert response.status_code == 302, response.status_code
        return response

    def submit(self, n: int, answers: dict, move: str = "next", csrf: str | None = None):
        """POST page ``n``; the CSRF token comes from the page (or is given, e.g. a stale one)."""
        if csrf is None:
            csrf = csrf_token(self.open(f"/p/{n}", follow_redirects=True).text)
        data = {"move": move, **answers}
        if csrf:
            data["csrf_token"] = csrf
        return self.client.post(f"{self.base}/p/{n}", data=data)


def all_agree(value: str, items=ORG_ITEMS, instrument: str = "organising", block: str = "now") -> dict:
    return {key(item, instrument, block): value for item in items}


def participant_id(query, token: str) -> int:
    [(pid,)] = query(select(Token.participant_id).where(Token.token == token))
    return pid


def stored_answers(query, token: str, kind: str | None = None) -> dict:
    """(block, instrument, item) -> value of the participant's stored answers."""
    stmt = (select(Answer.block, Answer.instrument_id, Answer.item_id, Answer.value_num, Answer.value_text)
            .join(Response).join(Wave).where(Response.participant_id == participant_id(query, token)))
    if kind:
        stmt = stmt.where(Wave.kind == kind)
    return {(b, i, item): text if text is not None else num for b, i, item, num, text in query(stmt)}


def count(query, model, *where) -> int:
    [(n,)] = query(select(func.count()).select_from(model).where(*where))
    return n


@pytest.fixture
def query(app):
    """Run a select in a short-lived session (SQLite: never holds the write lock between requests)."""
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
def resident(client, org, project, make_participant):
    return Resident(client, make_participant(org, project.slug).token)


def set_wave(session, org, slug: str, kind: str, status: str) -> None:
    projects.set_wave_status(session, access.Actor(organisation_id=org.id, role="admin"), slug, kind, status)
    session.commit()


def finish_wave(resident: Resident, value: str = "4", text: str = "") -> None:
    """Answer every page of the open wave with ``value`` and send it."""
    first = resident.open()
    if first.status_code == 200:  # a later wave greets the resident first (welcome back), then page 0
        assert 'name="consent"' not in first.text and f'href="{resident.base}/p/0"' in first.text
        n = 0
    else:
        assert first.status_code == 302
        n = int(first.headers["Location"].rsplit("/", 1)[1])
    while True:
        page = resident.open(f"/p/{n}")
        parsed = ParsedPage(page.text)
        answers = {}
        for name in parsed.questions:
            answers[name] = text if name.endswith("proud_of") else value
        sent = resident.submit(n, answers)
        assert sent.status_code == 302, (n, sent.status_code)
        if sent.headers["Location"].endswith("/done"):
            return
        n += 1


# --- settings per test ---------------------------------------------------------------------------

@pytest.fixture
def settings():
    """Extra app settings; a test overrides this by parametrizing ``settings``."""
    return {}


@pytest.fixture
def app_config(app_config, settings):
    return {**app_config, **settings}


# --- consent -------------------------------------------------------------------------------------

def test_nothing_is_stored_before_consent(resident, query):
    page = resident.open()
    assert page.status_code == 200
    assert 'name="consent"' in page.text
    assert count(query, Response) == count(query, Answer) == count(query, Consent) == 0


def test_consent_must_be_ticked_and_refusing_stores_nothing(resident, query):
    page = resident.open()
    refused = resident.client.post(resident.base, data={"csrf_token": csrf_token(page.text),
                                                        "share_quotes": "y"})
    assert refused.status_code == 200
    assert re.search(r'class="error" id="consent-error">[^<]*\w', refused.text), "no message beside the box"
    assert 'aria-describedby="consent-error"' in refused.text
    assert count(query, Response) == count(query, Answer) == count(query, Consent) == 0
    assert resident.open("/p/0").headers["Location"].endswith(resident.base)  # still no way in


def test_consent_is_recorded_with_time_wording_version_and_language(resident, query):
    resident.consent(share_quotes=True, lang="en")
    [(given_at, version, language, share)] = query(
        select(Consent.given_at, Consent.wording_version, Consent.language, Consent.share_quotes))
    assert given_at is not None
    assert version == "2"  # the words that name the funder's totals and the certificate (services.consent)
    assert language == "en"
    assert share is True
    [(status, current_page)] = query(select(Response.status, Response.current_page))
    assert (status, current_page) == ("started", 0)


# --- pages ---------------------------------------------------------------------------------------

def test_pages_are_short_and_show_progress(client, org, make_project, make_participant):
    project = make_project(org, "Groot", instruments=("organising", "conversation", "network", "cooperation"))
    resident = Resident(client, make_participant(org, project.slug).token)
    resident.consent()
    n, seen = 0, 0
    while True:
        page = resident.open(f"/p/{n}")
        questions = ParsedPage(page.text).questions
        assert 1 <= len(questions) <= PER_PAGE == 7
        progress = re.search(r'<progress max="(\d+)" value="(\d+)"', page.text)
        assert progress, "no progress indicator"
        total = int(progress.group(1))
        assert int(progress.group(2)) == n + 1
        assert re.search(rf'id="progress-label">[^<]*\b{n + 1}\b[^<]*\b{total}\b', page.text)
        seen += len(questions)
        sent = resident.submit(n, {}, move="anyway")  # "nothing filled in — continue anyway?": yes
        if sent.headers["Location"].endswith("/done"):
            break
        n += 1
    assert n + 1 == total > 4
    assert seen == (7 + 1) + 6 + (6 + 1) + 6  # every item and question of the four instruments, once


def test_answers_are_saved_page_by_page(resident, query):
    resident.consent()
    sent = resident.submit(0, {**all_agree("4"), key("org_5"): "2"})
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/p/1")
    saved = stored_answers(query, resident.token)
    assert len(saved) == 7
    assert saved[("now", "organising", "org_1")] == 4.0
    assert saved[("now", "organising", "org_5")] == 2.0
    [(current_page,)] = query(select(Response.current_page))
    assert current_page == 1


def test_closing_and_reopening_the_link_resumes_with_every_answer(app, resident, query):
    resident.consent()
    resident.submit(0, {**all_agree("4"), key("org_3"): "5"})
    phone_again = Resident(app.test_client(), resident.token)  # a new browser: no cookies
    reopened = phone_again.open()
    assert reopened.status_code == 302
    assert reopened.headers["Location"].endswith(f"{resident.base}/p/1")
    back = ParsedPage(phone_again.open("/p/0").text)
    assert back.checked == {**all_agree("4"), key("org_3"): "5"}


def test_back_saves_the_page_and_keeps_its_answers(resident, query):
    resident.consent()
    resident.submit(0, all_agree("3"))
    back = resident.submit(1, {key("org_proud_of"): "De moestuin"}, move="back")
    assert back.headers["Location"].endswith(f"{resident.base}/p/0")
    assert stored_answers(query, resident.token)[("now", "organising", "org_proud_of")] == "De moestuin"
    page0 = ParsedPage(resident.open("/p/0").text)
    assert page0.checked == all_agree("3")
    page1 = ParsedPage(resident.open("/p/1").text)
    assert page1.values[key("org_proud_of")] == "De moestuin"


def test_no_skipping_ahead_past_the_furthest_page(client, org, make_project, make_participant, query):
    project = make_project(org, "Twee", instruments=("organising", "conversation"))
    resident = Resident(client, make_participant(org, project.slug).token)
    resident.consent()
    ahead = resident.open("/p/2")
    assert ahead.status_code == 302 and ahead.headers["Location"].endswith("/p/0")
    token = csrf_token(resident.open("/p/0").text)
    posted = resident.submit(2, all_agree("4", ["con_1"], "conversation"), csrf=token)
    assert posted.status_code == 302 and posted.headers["Location"].endswith("/p/0")
    assert count(query, Answer) == 0
    assert resident.open("/p/99").status_code == 404


def test_double_submit_of_a_page_creates_no_duplicate_answers(resident, query):
    resident.consent()
    token = csrf_token(resident.open("/p/0").text)
    first = resident.submit(0, all_agree("4"), csrf=token)
    second = resident.submit(0, all_agree("4"), csrf=token)
    assert first.status_code == second.status_code == 302
    assert count(query, Answer) == 7
    changed = resident.submit(0, all_agree("2"), csrf=token)
    assert changed.status_code == 302
    assert count(query, Answer) == 7
    assert set(stored_answers(query, resident.token).values()) == {2.0}


def test_two_simultaneous_submits_of_a_page_store_each_answer_once(app, resident, query, monkeypatch):
    """A double click: both requests read "no answers yet" before either writes (PostgreSQL)."""
    import threading

    from surveyhub.services import responses

    resident.consent()
    token = csrf_token(resident.open("/p/0").text)
    cookie = resident.client.get_cookie("session")
    both_read = threading.Barrier(2, timeout=2)  # SQLite's write lock lets only one in: it times out
    first_try = threading.local()
    save_answers = responses.save_answers

    def save_after_both_read(session, response, values):
        if not getattr(first_try, "done", False):
            first_try.done = True
            len(response.answers)  # load what is stored now
            try:
                both_read.wait()
            except threading.BrokenBarrierError:
                pass
        return save_answers(session, response, values)

    monkeypatch.setattr(responses, "save_answers", save_after_both_read)
    statuses = []

    def click(value: str) -> None:
        phone = app.test_client()  # the same browser session, a second request in flight
        phone.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
        statuses.append(Resident(phone, resident.token).submit(0, all_agree(value), csrf=token).status_code)

    clicks = [threading.Thread(target=click, args=(v,)) for v in ("4", "5")]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join(timeout=30)
    assert statuses == [302, 302]
    assert count(query, Answer) == 7
    assert len(set(stored_answers(query, resident.token).values())) == 1  # one click's page, whole


@pytest.mark.parametrize("stale", ["not-a-valid-token", ""], ids=["expired", "missing"])
def test_an_expired_csrf_token_keeps_the_typed_answers_and_stores_nothing(resident, query, stale):
    resident.consent()
    typed = {**all_agree("4"), key("org_2"): "1"}
    shown = resident.submit(0, typed, csrf=stale)
    assert shown.status_code == 200
    assert 'role="alert"' in shown.text
    assert ParsedPage(shown.text).checked == typed  # the radios stay checked
    assert count(query, Answer) == 0
    again = resident.client.post(f"{resident.base}/p/0",
                                 data={"move": "next", "csrf_token": csrf_token(shown.text), **typed})
    assert again.status_code == 302 and again.headers["Location"].endswith("/p/1")
    assert len(stored_answers(query, resident.token)) == 7


@pytest.fixture
def extra_questions(session, org, project):
    """A number question (0-10) and an open question at the end of the questionnaire."""
    actor = access.Actor(organisation_id=org.id, role="admin")
    number = projects.add_question(session, actor, project.slug, "number", "Hoeveel buren ken je?",
                                   "How many neighbours do you know?", 0, 10)
    text = projects.add_question(session, actor, project.slug, "text", "Wat wil je nog zeggen?",
                                 "Anything else?")
    session.commit()
    return key(number, "_project"), key(text, "_project")


def _reach_last_page(resident: Resident) -> int:
    resident.consent()
    resident.submit(0, all_agree("4"))
    resident.submit(1, {})
    return 2


@pytest.mark.parametrize("problem", ["out_of_range", "not_a_number", "oversized_text"])
def test_a_bad_answer_on_the_extra_page_stores_nothing(resident, extra_questions, query, problem):
    number, text = extra_questions
    n = _reach_last_page(resident)
    before = stored_answers(query, resident.token)
    answers, bad = {
        "out_of_range": ({number: "11", text: "Goed"}, number),
        "not_a_number": ({number: "veel", text: "Goed"}, number),
        "oversized_text": ({number: "7", text: "x" * 2001}, text),
    }[problem]
    shown = resident.submit(n, answers)
    assert shown.status_code == 422
    page = ParsedPage(shown.text)
    assert page.errors.get(bad), f"no message beside {bad}: {page.errors}"
    assert set(page.errors) - {None} == {bad}
    assert f'aria-describedby="{bad}-error"' in shown.text
    assert stored_answers(query, resident.token) == before  # not even the valid field
    [(status,)] = query(select(Response.status))
    assert status == "started"


def test_an_out_of_range_number_says_which_numbers_are_allowed(resident, extra_questions):
    number, _text = extra_questions
    shown = resident.submit(_reach_last_page(resident), {number: "11"})
    message = ParsedPage(shown.text).errors[number]
    assert "0" in message and "10" in message


def test_an_unknown_choice_stores_nothing_from_the_page(resident, query):
    resident.consent()
    shown = resident.submit(0, {**all_agree("4"), key("org_4"): "9"})
    assert shown.status_code == 422
    page = ParsedPage(shown.text)
    assert set(page.errors) - {None} == {key("org_4")}
    assert page.checked[key("org_1")] == "4"  # the valid answers are still shown
    assert count(query, Answer) == 0
    [(current_page,)] = query(select(Response.current_page))
    assert current_page == 0


def test_a_repeated_field_stores_nothing_from_the_page(resident, query):
    resident.consent()
    shown = resident.submit(0, {**all_agree("4"), key("org_1"): ["4", "5"]})
    assert shown.status_code == 422
    page = ParsedPage(shown.text)
    assert set(page.errors) - {None} == {key("org_1")}
    assert page.errors[key("org_1")]
    assert count(query, Answer) == 0


# --- waves and links -----------------------------------------------------------------------------

def test_a_closed_wave_shows_the_friendly_page_and_keeps_saved_answers(session, org, project, resident, query):
    resident.consent()
    resident.submit(0, all_agree("5"))
    set_wave(session, org, project.slug, "pre", "closed")
    closed = resident.open("?lang=en")
    assert closed.status_code == 200
    assert "This questionnaire is closed" in closed.text
    assert "The answers you gave earlier are saved." in closed.text
    assert 'name="consent"' not in closed.text and "<form" not in closed.text
    assert resident.open("/p/1").headers["Location"].endswith(resident.base)
    assert len(stored_answers(query, resident.token)) == 7


def test_unknown_token_is_not_found(client):
    assert client.get("/q/no-such-link").status_code == 404
    assert client.get("/q/no-such-link/p/0").status_code == 404
    assert client.get("/q/" + "x" * 300).status_code == 404


@pytest.mark.parametrize("settings", [{"TOKEN_RATE_LIMIT": "3 per minute"}], ids=["limit-3"])
def test_guessing_links_is_rate_limited_but_a_valid_link_keeps_working(resident, settings):
    resident.consent()
    for guess in range(3):
        assert resident.client.get(f"/q/guess-{guess}").status_code == 404
    assert resident.client.get("/q/guess-4").status_code == 429
    assert resident.client.get("/q/guess-5/p/0").status_code == 429  # every resident URL shares the limit
    assert resident.open().status_code == 302
    assert resident.open("/p/0").status_code == 200
    assert resident.submit(0, all_agree("4")).status_code == 302


def test_a_revoked_link_is_not_found(session, org, project, resident):
    resident.consent()
    actor = access.Actor(organisation_id=org.id, role="worker")
    [(code,)] = session.execute(select(Participant.code).join(Token).where(Token.token == resident.token)).all()
    new = participants.renew_link(session, actor, project.slug, code)
    session.commit()
    assert resident.open().status_code == 404
    assert resident.open("/p/0").status_code == 404
    fresh = Resident(resident.client, new)
    assert fresh.open().status_code == 302  # consent was given already: straight back to the pages


# --- finishing ------------------------------------------------------------------------------------

def test_finishing_the_post_wave_never_mentions_a_decline(session, org, project, resident, query):
    resident.consent(lang="en")
    finish_wave(resident, "5")
    set_wave(session, org, project.slug, "post", "open")
    finish_wave(resident, "2")  # org_5 is reverse-coded; every other answer is far lower than before
    done = resident.open("/done")
    assert done.status_code == 200
    text = re.sub(r"<[^>]+>", " ", done.text).lower()
    assert "keep going strong in planning and organising" in text
    assert "you have grown in planning" not in text
    for word in DECLINE_WORDS:
        assert word not in text, word
    dutch = re.sub(r"<[^>]+>", " ", resident.open("/done?lang=nl").text).lower()
    for word in DECLINE_WORDS:
        assert word not in dutch, word
    assert count(query, Response, Response.status == "completed") == 2


def test_growth_is_celebrated_on_the_summary(session, org, project, resident):
    resident.consent(lang="en")
    finish_wave(resident, "2")
    set_wave(session, org, project.slug, "post", "open")
    finish_wave(resident, "5")
    done = resident.open("/done").text
    assert "You have grown in Planning and organising." in done


def test_the_pre_wave_ends_on_a_thank_you_without_summary(resident, query):
    resident.consent(lang="en")
    finish_wave(resident, "3")
    done = resident.open("/done")
    assert "Thank you" in done.text and "grown" not in done.text
    assert resident.open().headers["Location"].endswith("/done")  # the link now shows the thank-you
    [(status, completed_at)] = query(select(Response.status, Response.completed_at))
    assert status == "completed" and completed_at is not None


class EventRecorder:
    def __init__(self):
        self.events = []

    @hookimpl
    def surveyhub_response_completed(self, response):
        self.events.append(response)


class BrokenListener:
    @hookimpl
    def surveyhub_response_completed(self, response):
        raise RuntimeError("the webhook is down")


RECORDER = EventRecorder()


@pytest.mark.parametrize("settings", [{"EXTRA_PLUGINS": {"broken_listener": BrokenListener(),
                                                         "recorder": RECORDER}}], ids=["plugins"])
def test_completing_a_wave_fires_the_event_and_a_failing_plugin_loses_nothing(app, resident, query, settings):
    RECORDER.events.clear()
    resident.consent()
    finish_wave(resident, "4", text="De buurtbarbecue")
    assert resident.open("/done").status_code == 200
    [event] = RECORDER.events
    code = query(select(Participant.code))[0][0]
    assert event["wave"] == "pre" and event["participant"] == code and event["entered_by"] is None
    assert event["answers"]["organising.org_1"] == 4.0
    assert event["answers"]["organising.org_proud_of"] == "De buurtbarbecue"
    assert event["scores"] == {"organising.organising": pytest.approx((6 * 4 + 2) / 7)}  # org_5 reversed
    [(status,)] = query(select(Response.status))
    assert status == "completed"
    assert len(stored_answers(query, resident.token)) == 8
    broken = get_host(app).statuses["broken_listener"]
    assert broken.status == "error" and "the webhook is down" in broken.last_error


def test_the_retrospective_post_wave_asks_about_before_the_project(session, client, org, make_project,
                                                                   make_participant, query):
    project = make_project(org, "Terugblik", retrospective=True)
    resident = Resident(client, make_participant(org, project.slug).token)
    resident.consent()
    finish_wave(resident, "3")
    set_wave(session, org, project.slug, "post", "open")
    resident.open()
    resident.submit(0, all_agree("4"))
    then = resident.open("/p/1")  # all look-back statements after all statements about now
    assert then.status_code == 200
    assert "Denk terug aan de tijd vóór het project." in then.text
    assert set(ParsedPage(then.text).questions) == set(all_agree("x", block="then"))
    resident.submit(1, all_agree("2", block="then"))
    closing = resident.open("/p/2")  # the open question comes last, under "Tot slot"
    assert "<h1>Tot slot</h1>" in closing.text and ParsedPage(closing.text).questions == [key("org_proud_of")]
    done = resident.submit(2, {})
    assert done.headers["Location"].endswith("/done")
    post = stored_answers(query, resident.token, "post")
    assert {v for (b, _i, _item), v in post.items() if b == "then"} == {2.0}
    assert len([b for (b, _i, _item) in post if b == "then"]) == 7
    assert all(b == "now" for (b, _i, _item) in stored_answers(query, resident.token, "pre"))


def test_english_changes_the_interface_and_the_questions(resident):
    resident.consent()
    dutch = resident.open("/p/0").text
    english = resident.open("/p/0?lang=en").text
    assert "Ik kan een buurtactiviteit van begin tot eind plannen." in dutch
    assert "I can plan a neighbourhood activity from start to finish." in english
    assert "Ik kan een buurtactiviteit" not in english
    assert "Strongly agree" in english and "Helemaal mee eens" in dutch
    assert '<html lang="nl">' in dutch and '<html lang="en">' in english

    def interface(html):  # the words that are not item or answer texts
        return re.findall(r'<button[^>]*>([^<]+)</button>|id="progress-label">([^<]+)<', html)
    assert interface(dutch) and interface(english)
    assert interface(dutch) != interface(english), "the interface is not translated"
    assert "Next" in english and "Next" not in dutch
