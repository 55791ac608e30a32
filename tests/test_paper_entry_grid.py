"""Paper entry as a keyboard grid: the whole paper form on one screen, one small cell per question.

The worker types the number of the ticked box, nothing for an empty question and x for two
ticks; one POST checks, a second one saves. What is stored must equal what the same answers
give online; a bad cell keeps everything typed and stores nothing; a double submit stores once;
answers someone else saved are never replaced without a confirmation; funders never get in.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from surveyhub.models import AuditEvent, Consent, Project, Response, ScaleScore
from surveyhub.services import responses
from surveyhub.services.document_context import questionnaire_data
from tests.fixtures.factories import csrf_token
from tests.test_questionnaire import ParsedPage, Resident, count, finish_wave, stored_answers
from tests.test_questionnaire import query  # noqa: F401  (fixture)

CONFIRM_TEXT = "Wil je die antwoorden vervangen door de papieren antwoorden?"


class GridPage(HTMLParser):
    """What the worker sees on the grid: cells in order with their typed values, errors, legends."""

    def __init__(self, html: str):
        super().__init__()
        self.cells: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self.legends: list[str] = []
        self._capture: str | None = None
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") == "text" and a.get("name"):
            self.cells[a["name"]] = a.get("value") or ""
        elif tag == "textarea":
            self._capture, self._text = f"cell:{a['name']}", []
        elif tag == "p" and (a.get("id") or "").startswith("err-"):
            self._capture, self._text = f"error:{a['id'][4:]}", []
        elif tag == "legend":
            self._capture, self._text = "legend", []

    def handle_data(self, data):
        if self._capture:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._capture is None or tag not in ("textarea", "p", "legend"):
            return
        text = "".join(self._text)
        kind, _, name = self._capture.partition(":")
        if kind == "cell":
            self.cells[name] = text.lstrip("\r\n")
        elif kind == "error":
            self.errors[name] = " ".join(text.split())
        else:
            self.legends.append(" ".join(text.split()))
        self._capture = None


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")


@pytest.fixture
def project(org, make_project):
    return make_project(org, "Buurttuin", instruments=("organising", "network"))


@pytest.fixture
def worker_info(org, make_user):
    return make_user("worker", org, email="opbouwwerker@example.org")


@pytest.fixture
def worker(client_for, worker_info):
    return client_for(worker_info.email)


@pytest.fixture
def invitation(org, project, make_participant):
    return make_participant(org, project.slug, "Anna")


def grid_url(project, invitation, kind: str = "pre") -> str:
    return f"/projects/{project.slug}/participants/{invitation.code}/paper/{kind}/grid"


def send(client, url: str, cells: dict, step: str = "save", consent: bool = True, **extra):
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    data = {"csrf_token": csrf_token(page.text), "step": step, **cells, **extra}
    if consent:
        data["consent"] = "y"
    return client.post(url, data=data)


def pages_of(app, slug: str, kind: str = "pre"):
    with app.extensions["surveyhub.db"].session() as session:
        project = session.scalar(select(Project).where(Project.slug == slug))
        return responses.pages_for(project, kind)


def typed_like(app, slug: str, value_for) -> dict:
    """A cell for every question of the pre wave: ``value_for(slot)``."""
    return {slot.key: value_for(slot) for page in pages_of(app, slug) for slot in page.slots}


def paper_value(slot) -> str:
    """What the worker types for a question: varied digits for statements, a number, an open answer."""
    item = slot.item
    if item["type"] == "choice":
        return str(1 + sum(map(ord, item["id"])) % 5)
    if item["type"] == "number":
        return "7"
    return "Samen de tuin opknappen"


def actions(query) -> list[str]:
    return [a for (a,) in query(select(AuditEvent.action).where(AuditEvent.action.like("response.%"))
                                .order_by(AuditEvent.id))]


def test_the_grid_lists_every_question_in_the_paper_order_and_opening_it_stores_nothing(
        app, worker, project, invitation, query):
    shown = worker.get(grid_url(project, invitation))
    assert shown.status_code == 200
    grid = GridPage(shown.text)
    pages = pages_of(app, project.slug)
    assert list(grid.cells) == [slot.key for page in pages for slot in page.slots]
    # Sections numbered as the printed questionnaire numbers its pages; consent on the same screen.
    assert grid.legends[0] == "Toestemming van de bewoner"
    assert [legend.split(".")[0] for legend in grid.legends[1:]] == [str(i) for i in range(1, len(pages) + 1)]
    assert 'name="consent"' in shown.text
    assert count(query, Response) == 0 and count(query, Consent) == 0


def test_the_participant_page_leads_to_the_grid(worker, project, invitation):
    page = worker.get(f"/projects/{project.slug}/participants/{invitation.code}")
    assert f'href="{grid_url(project, invitation)}"' in page.text


def test_a_saved_grid_stores_what_the_same_answers_give_online(app, org, worker, worker_info, project,
                                                               invitation, make_participant, query):
    cells = typed_like(app, project.slug, paper_value)
    saved = send(worker, grid_url(project, invitation), cells)
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith(f"/participants/{invitation.code}")

    online = make_participant(org, project.slug, "Bram")
    resident = Resident(app.test_client(), online.token)
    resident.consent()
    n = 0
    while True:  # the same answers, clicked on the resident's own pages
        questions = ParsedPage(resident.open(f"/p/{n}").text).questions
        by_key = {slot.key: slot for page in pages_of(app, project.slug) for slot in page.slots}
        sent = resident.submit(n, {q: paper_value(by_key[q]) for q in questions})
        assert sent.status_code == 302
        if sent.headers["Location"].endswith("/done"):
            break
        n += 1

    assert stored_answers(query, invitation.token) == stored_answers(query, online.token)
    scores = query(select(Response.participant_id, ScaleScore.scale_id, ScaleScore.score).join(Response)
                   .order_by(ScaleScore.scale_id))
    by_resident = {}
    for participant, scale, score in scores:
        by_resident.setdefault(participant, []).append((scale, score))
    assert len(by_resident) == 2 and len(set(map(tuple, by_resident.values()))) == 1
    [(channel, entered_by, status)] = query(select(Response.channel, Response.entered_by_id, Response.status)
                                            .where(Response.entered_by_id.is_not(None)))
    assert (channel, entered_by, status) == ("paper", worker_info.id, "completed")
    [(recorded_by,)] = query(select(Consent.recorded_by_id).where(Consent.recorded_by_id.is_not(None)))
    assert recorded_by == worker_info.id
    assert actions(query) == ["response.paper_entry"]


def test_a_bad_cell_keeps_everything_typed_and_stores_nothing(app, worker, project, invitation, query):
    cells = typed_like(app, project.slug, paper_value)
    first, second = list(cells)[:2]
    cells[second] = "7"  # there is no seventh box
    shown = send(worker, grid_url(project, invitation), cells)
    assert shown.status_code == 422
    grid = GridPage(shown.text)
    assert grid.cells == cells  # every cell as typed, the bad one too
    assert grid.errors == {second: "Typ een cijfer van 1 tot en met 5. Of een x voor twee kruisjes."}
    assert f'href="#f-{second}"' in shown.text  # the summary at the top leads to the cell
    assert count(query, Response) == 0 and count(query, Consent) == 0 and actions(query) == []


def test_a_number_out_of_range_is_refused_by_the_question_type_itself(app, worker, project, invitation, query):
    cells = typed_like(app, project.slug, paper_value)
    [scale] = [slot.key for page in pages_of(app, project.slug) for slot in page.slots
               if slot.item["type"] == "number"]
    cells[scale] = "11"
    shown = send(worker, grid_url(project, invitation), cells)
    assert shown.status_code == 422
    assert GridPage(shown.text).errors == {scale: "Vul een getal in van 0 tot en met 10."}
    assert count(query, Response) == 0


def test_without_the_consent_tick_nothing_is_stored_and_the_typing_stays(app, worker, project, invitation, query):
    cells = typed_like(app, project.slug, paper_value)
    shown = send(worker, grid_url(project, invitation), cells, consent=False)
    assert shown.status_code == 422
    assert "Vul alleen antwoorden in als de bewoner" in shown.text or 'id="consent-error"' in shown.text
    assert GridPage(shown.text).cells == cells
    assert count(query, Response) == 0 and count(query, Consent) == 0


def test_the_check_shows_a_summary_and_stores_nothing(app, worker, project, invitation, query):
    cells = typed_like(app, project.slug, paper_value)
    keys = list(cells)
    cells[keys[0]] = ""
    cells[keys[2]] = "x"
    checked = send(worker, grid_url(project, invitation), cells, step="check")
    assert checked.status_code == 200
    total = len(cells)
    assert f"{total - 2} van de {total} vragen ingevuld." in checked.text
    assert "Leeg gelaten: 1.1" in checked.text
    assert "Twee vakjes aangekruist (telt als niet ingevuld): 1.3" in checked.text
    assert 'name="step" value="save"' in checked.text
    assert GridPage(checked.text).cells == cells
    assert count(query, Response) == 0


def test_two_ticks_and_blanks_are_stored_as_not_answered_and_counted(app, worker, project, invitation, query):
    cells = typed_like(app, project.slug, paper_value)
    keys = list(cells)
    cells[keys[0]], cells[keys[2]] = "", "?"
    saved = send(worker, grid_url(project, invitation), cells)
    assert saved.status_code == 303
    stored = stored_answers(query, invitation.token)
    block, instrument, item = keys[2].split("__")
    assert stored.get((block, instrument, item)) is None
    assert stored.get(tuple(keys[0].split("__"))) is None
    note = worker.get(saved.headers["Location"]).text
    assert "Vragen met twee kruisjes: 1.3." in note


def test_the_grid_opens_again_with_what_was_typed(app, worker, project, invitation):
    cells = typed_like(app, project.slug, paper_value)
    send(worker, grid_url(project, invitation), cells)
    again = GridPage(worker.get(grid_url(project, invitation)).text)
    assert again.cells == cells  # box numbers, not the stored values, and no confirmation for one's own entry


def test_a_double_submit_stores_once(app, worker, project, invitation, query):
    url = grid_url(project, invitation)
    page = worker.get(url)  # opening the grid is where the claim starts
    cells = typed_like(app, project.slug, paper_value)
    data = {"csrf_token": csrf_token(page.text), "step": "save", "consent": "y", **cells}
    cookie = worker.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    second_click = app.test_client()  # sent before the first click's answer (and its cookie) came back
    second_click.set_cookie(cookie.key, cookie.value)
    assert worker.post(url, data=data).status_code == 303
    assert second_click.post(url, data=data).status_code == 303
    assert count(query, Response) == 1 and count(query, Consent) == 1
    assert actions(query) == ["response.paper_entry"]
    assert len(stored_answers(query, invitation.token)) == len([v for v in cells.values() if v])


def test_online_answers_are_replaced_only_after_a_confirmation(app, worker, worker_info, project, invitation,
                                                                query):
    resident = Resident(app.test_client(), invitation.token)
    resident.consent()
    finish_wave(resident, "3")
    before = stored_answers(query, invitation.token)
    url = grid_url(project, invitation)

    asked = worker.get(url)
    assert CONFIRM_TEXT in asked.text and 'name="now__organising__org_1"' not in asked.text
    cells = typed_like(app, project.slug, paper_value)
    forced = worker.post(url, data={"csrf_token": csrf_token(asked.text), "step": "save", **cells})
    assert forced.status_code == 409  # nothing replaced, and what was typed stays on the screen
    assert GridPage(forced.text).cells == cells and CONFIRM_TEXT in forced.text
    assert stored_answers(query, invitation.token) == before and actions(query) == []

    replaced = worker.post(url, data={"csrf_token": csrf_token(forced.text), "step": "replace", **cells})
    assert replaced.status_code == 303
    assert stored_answers(query, invitation.token) != before
    [(channel, entered_by)] = query(select(Response.channel, Response.entered_by_id))
    assert (channel, entered_by) == ("paper", worker_info.id)
    assert actions(query) == ["response.paper_replace"]


def test_the_confirmation_page_leads_to_a_blank_grid(app, worker, project, invitation, query):
    resident = Resident(app.test_client(), invitation.token)
    resident.consent()
    finish_wave(resident, "3")
    url = grid_url(project, invitation)
    asked = worker.get(url)
    confirmed = worker.post(url, data={"csrf_token": csrf_token(asked.text), "confirm": "replace"})
    assert confirmed.status_code == 303 and confirmed.headers["Location"].endswith(url)
    grid = GridPage(worker.get(url).text)
    assert grid.cells and set(grid.cells.values()) == {""}  # the paper starts blank, not with the online answers
    assert set(v for v in stored_answers(query, invitation.token).values() if isinstance(v, float)) == {3.0}


def test_a_second_worker_is_asked_before_replacing_the_first_ones_entry(app, org, make_user, client_for, worker,
                                                                         project, invitation, query):
    send(worker, grid_url(project, invitation), typed_like(app, project.slug, paper_value))
    colleague = client_for(make_user("worker", org, email="collega@example.org").email)
    asked = colleague.get(grid_url(project, invitation))
    assert CONFIRM_TEXT in asked.text
    forced = colleague.post(grid_url(project, invitation),
                            data={"csrf_token": csrf_token(asked.text), "step": "save",
                                  **typed_like(app, project.slug, lambda slot: "1" if slot.item["type"] == "choice"
                                               else "")})
    assert forced.status_code == 409
    assert actions(query) == ["response.paper_entry"]


def test_a_resident_saving_online_meanwhile_stops_the_save(app, worker, project, invitation, query):
    url = grid_url(project, invitation)
    resident = Resident(app.test_client(), invitation.token)
    resident.consent()
    page = worker.get(url)  # blank: nothing answered yet
    finish_wave(resident, "2")  # the resident answers online while the worker types
    before = stored_answers(query, invitation.token)
    cells = typed_like(app, project.slug, paper_value)
    sent = worker.post(url, data={"csrf_token": csrf_token(page.text), "step": "save", **cells})
    assert sent.status_code == 409
    assert "De bewoner heeft online antwoorden bewaard terwijl jij typte." in sent.text
    assert GridPage(sent.text).cells == cells
    assert stored_answers(query, invitation.token) == before


def test_a_funder_cannot_open_or_post_the_grid(client_for, make_user, org, project, invitation, query):
    funder_info = make_user("funder", org, email="fonds@example.org")
    funder = client_for(funder_info.email)
    url = grid_url(project, invitation)
    token = csrf_token(funder.get("/").text)
    assert funder.get(url).status_code == 404
    assert funder.post(url, data={"csrf_token": token, "step": "save", "consent": "y"}).status_code == 404
    assert count(query, Response) == 0 and count(query, Consent) == 0


def test_without_a_csrf_token_nothing_is_stored_and_the_typing_stays(app, worker, project, invitation, query):
    cells = typed_like(app, project.slug, paper_value)
    sent = worker.post(grid_url(project, invitation), data={"step": "save", "consent": "y", **cells})
    assert sent.status_code == 400
    assert GridPage(sent.text).cells == cells
    assert "Wat je typte staat er nog." in sent.text
    assert count(query, Response) == 0


def test_a_confirmation_without_a_csrf_token_changes_nothing(app, worker, project, invitation, query):
    resident = Resident(app.test_client(), invitation.token)
    resident.consent()
    finish_wave(resident, "3")
    url = grid_url(project, invitation)
    worker.post(url, data={"confirm": "replace"})
    assert CONFIRM_TEXT in worker.get(url).text
    sent = worker.post(url, data={"step": "replace", **typed_like(app, project.slug, paper_value)})
    assert sent.status_code == 400
    assert set(v for v in stored_answers(query, invitation.token).values() if isinstance(v, float)) == {3.0}
    assert actions(query) == []


@pytest.fixture
def short_project(app, session, org):
    """A short-form project in one-question-per-screen mode, with a question asked only at the post wave."""
    from surveyhub.plugins import get_registry
    from surveyhub.services import access, projects

    actor = access.Actor(organisation_id=org.id, role="admin")
    info = projects.create_project(session, get_registry(app), actor, "Korte vragenlijst", ["organising", "network"],
                                   setup=projects.Setup(form_length="short", question_mode="one"))
    projects.add_question(session, actor, info.slug, "number", "Hoeveel buren ken je bij naam?", None, 0, 50,
                          waves=["post"])
    session.commit()
    return info


def test_the_grid_follows_the_short_form_and_the_questions_of_the_wave(app, worker, org, short_project,
                                                                        make_participant):
    resident = make_participant(org, short_project.slug, "Cor")
    for kind in ("pre", "post"):
        grid = GridPage(worker.get(grid_url(short_project, resident, kind)).text)
        with app.extensions["surveyhub.db"].session() as session:
            project = session.scalar(select(Project).where(Project.slug == short_project.slug))
            printed = responses.pages_for(project, kind, question_mode="page")
            project.form_length = "full"  # not stored: only to count what the full form asks
            full = responses.pages_for(project, kind, question_mode="page")
        assert list(grid.cells) == [slot.key for page in printed for slot in page.slots]
        assert len(grid.cells) < sum(len(page.slots) for page in full)  # the short form, not every item
        # Sections as printed: a page of statements, not one section per question as on a resident's phone.
        assert len(grid.legends) - 1 == len(printed) < len(grid.cells)
        asks_extra = any(name.startswith("now___project__") for name in grid.cells)
        assert asks_extra == (kind == "post")
        with app.extensions["surveyhub.db"].session() as session:  # the printed form: the same sections
            project = session.scalar(select(Project).where(Project.slug == short_project.slug))
            paper = questionnaire_data(session, project, kind, "nl")["pages"]
        assert [f"{n}. {page['title']}" for n, page in enumerate(paper, start=1)] == grid.legends[1:]
        assert sum(len(page["questions"]) for page in paper) == len(grid.cells)


def test_a_grid_saved_for_a_one_question_a_screen_project_completes_at_the_residents_last_screen(
        app, worker, org, short_project, make_participant, query):
    resident = make_participant(org, short_project.slug, "Dini")
    sent = send(worker, grid_url(short_project, resident), typed_like(app, short_project.slug, paper_value))
    assert sent.status_code == 303
    screens = len(pages_of(app, short_project.slug))  # one question a screen, as the resident gets them
    assert query(select(Response.status, Response.current_page)) == [("completed", screens)]


def test_the_projects_own_choice_questions_show_their_boxes_and_store_like_checkboxes(app, session, org, worker,
                                                                                      make_participant, query):
    from surveyhub.plugins import get_registry
    from surveyhub.services import access, projects

    actor = access.Actor(organisation_id=org.id, role="admin")
    info = projects.create_project(session, get_registry(app), actor, "Eigen vragen", ["organising"])
    projects.add_question(session, actor, info.slug, "choices", "Wat deed je mee?", None,
                          options=["Koken", "Tuinieren", "Vergaderen"])
    projects.add_question(session, actor, info.slug, "choice", "Hoe hoorde je ervan?", None,
                          options=["Buren", "Flyer"])
    session.commit()
    resident = make_participant(org, info.slug, "Ed")
    url = grid_url(info, resident)
    shown = worker.get(url).text
    assert "1 = Koken, 2 = Tuinieren, 3 = Vergaderen" in shown and "1 = Buren, 2 = Flyer" in shown
    cells = typed_like(app, info.slug, lambda slot: {"choices": "3 1", "choice": "2"}.get(slot.item["type"], "")
                       if slot.instrument_id == "_project" else "")
    wrong = send(worker, url, {**cells, **{k: "4" for k, v in cells.items() if v == "3 1"}})
    assert wrong.status_code == 422  # there is no fourth box
    assert send(worker, url, cells).status_code == 303
    stored = {item: value for (_b, instrument, item), value in stored_answers(query, resident.token).items()
              if instrument == "_project"}
    assert sorted(stored.values(), key=str) == [2.0, "Koken; Vergaderen"]
    again = GridPage(worker.get(url).text).cells
    assert sorted(v for v in again.values() if v) == ["1 3", "2"]
