"""Extra questions of every built-in type, each asked in the waves the worker chose; the "choices" type
(several answers, checkboxes) stored as readable text, imported and exported as it was answered."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from surveyhub.measures.questions import BUILTIN_TYPES
from surveyhub.models import Project
from surveyhub.plugins import get_registry
from surveyhub.services import access, exports, imports, projects, resident, responses
from surveyhub.services.errors import Invalid
from tests.fixtures.factories import csrf_token
from tests.fixtures.factories import sqlite_database_url as database_url  # noqa: F401  (SQLite only)


@pytest.fixture
def setup(make_org, make_user, make_project):
    org = make_org("Buurtwerk Noord")
    worker = make_user("worker", org)
    info = make_project(org, "Buurttuin")
    return {"org": org, "worker": worker, "slug": info.slug,
            "actor": access.Actor(org.id, "worker", worker.id, worker.email)}


def _project(session, slug) -> Project:
    session.expire_all()
    return session.scalars(select(Project).where(Project.slug == slug)).one()


def _add(client, slug, **fields):
    page = client.get(f"/projects/{slug}/questionnaire")
    data = {"csrf_token": csrf_token(page.text), "qtype": "text", "text_nl": "Wat wil je nog kwijt?", **fields}
    return client.post(f"/projects/{slug}/questionnaire?lang=nl", data=data)


@pytest.mark.parametrize("qtype, extra", [
    ("text", {}), ("yes_no", {}), ("number", {"minimum": "0", "maximum": "10"}),
    ("choice", {"options": "Koken\nTuinieren\nKlussen"}), ("choices", {"options": "Koken\nTuinieren\nKlussen"}),
])
def test_every_type_can_be_added_from_the_page(client_for, setup, session, qtype, extra):
    worker = client_for(setup["worker"].email)
    response = _add(worker, setup["slug"], qtype=qtype, waves=["post"], **extra)
    assert response.status_code == 302
    question = _project(session, setup["slug"]).questions[-1]
    assert question.definition["type"] == qtype and question.waves == ["post"]
    if qtype in ("choice", "choices"):
        labels = [o["label"]["nl"] for o in question.definition["answer_sets"]["options"]]
        assert labels == ["Koken", "Tuinieren", "Klussen"]
    page = worker.get(f"/projects/{setup['slug']}/questionnaire?lang=nl").text
    assert "Gesteld bij: Eindmeting" in page


def test_every_wave_or_none_ticked_means_every_wave(client_for, setup, session):
    worker = client_for(setup["worker"].email)
    _add(worker, setup["slug"], waves=["pre", "post", "followup"])
    _add(worker, setup["slug"], text_nl="Nog iets?")
    assert [q.waves for q in _project(session, setup["slug"]).questions] == [None, None]


@pytest.mark.parametrize("options, message", [
    ("Koken", "minstens twee antwoorden"),
    ("Koken\nkoken", "Twee antwoorden zijn hetzelfde"),
    ("Koken; bakken\nTuinieren", "geen puntkomma"),
])
def test_bad_options_say_what_to_do_and_keep_the_question(client_for, setup, session, options, message):
    worker = client_for(setup["worker"].email)
    response = _add(worker, setup["slug"], qtype="choices", text_nl="Wat deed je mee?", options=options)
    assert response.status_code == 200
    assert message in response.text
    assert 'value="Wat deed je mee?"' in response.text
    assert _project(session, setup["slug"]).questions == []


def test_service_refuses_unknown_waves(app, session, setup):
    with pytest.raises(Invalid):
        projects.add_question(session, setup["actor"], setup["slug"], "text", "Vraag", None, waves=["later"])


def test_choices_are_coded_as_readable_text():
    choices = BUILTIN_TYPES["choices"]
    item = {"id": "q1", "type": "choices", "answer_set": "options", "text": {"nl": "Wat deed je?"}}
    context = {"answer_sets": {"options": [{"value": 1, "label": {"nl": "Koken", "en": "Cooking"}},
                                           {"value": 2, "label": {"nl": "Tuinieren", "en": "Gardening"}}]},
               "lang": "en"}
    assert choices.code(item, ["Tuinieren", "Koken"], context) == "Koken; Tuinieren"
    assert choices.code(item, "2;1", context) == "Koken; Tuinieren"  # a CSV cell or paper entry by number
    assert choices.code(item, [], context) is None
    with pytest.raises(ValueError):
        choices.code(item, ["Zwemmen"], context)
    field = choices.make_field(item, context)
    assert not choices.scored and choices.value_range(item, context) is None
    assert field.kwargs["choices"][0].label == "Cooking"


def test_a_resident_ticks_several_and_sees_them_again(app, session, setup):
    projects.add_question(session, setup["actor"], setup["slug"], "choices", "Wat deed je mee?", None,
                          options=["Koken", "Tuinieren", "Klussen"])
    session.commit()
    project = _project(session, setup["slug"])
    page = responses.pages_for(project, "pre")[-1]
    slot = page.slots[-1]
    types = get_registry(app).question_types
    values, errors = resident.code_page(page, MultiDict([(slot.key, "Klussen"), (slot.key, "Koken")]), types, "nl")
    assert errors == {}
    assert values[("now", "_project", slot.item["id"])] == "Koken; Klussen"


def test_choices_import_and_export_read_as_answered(app, session, setup):
    qid = projects.add_question(session, setup["actor"], setup["slug"], "choices", "Wat deed je mee?", None,
                                options=["Koken", "Tuinieren", "Klussen"])
    session.commit()
    csv = f"participant,{qid}\nR-1,Koken;Klussen\nR-2,2\n"
    result = imports.import_responses(session, get_registry(app), setup["actor"], setup["slug"], "pre", csv)
    session.commit()
    assert result.rows == 2
    table = exports.response_table(session, setup["actor"], setup["slug"])
    column = table.columns.index(qid)
    assert qid not in table.numeric and qid not in table.value_labels
    answers = sorted(row[column] for row in table.source() if row[column])
    assert answers == ["Koken; Klussen", "Tuinieren"]


def test_a_resident_ticks_two_boxes_on_the_page_and_finds_them_ticked_again(app, session, setup):
    """Through the resident's own pages: checkboxes shown, both ticks stored as words (saved on the way
    back to the previous page, so the wave stays open), ticked again on return."""
    from werkzeug.datastructures import MultiDict as Form

    from surveyhub.models import Answer
    from surveyhub.services import participants
    from tests.test_questionnaire import Resident

    qid = projects.add_question(session, setup["actor"], setup["slug"], "choices", "Wat deed je mee?", None,
                                options=["Koken", "Tuinieren", "Klussen"])
    [invitation] = participants.add_participants(session, setup["actor"], setup["slug"], entries=[(None, None)])
    session.commit()
    project = _project(session, setup["slug"])
    last = len(responses.pages_for(project, "pre")) - 1
    slot = responses.pages_for(project, "pre")[last].slots[-1]
    resident = Resident(app.test_client(), invitation.token)
    resident.consent()
    for n in range(last):  # the statements before "Tot slot", left empty ("continue anyway")
        assert resident.submit(n, {}, move="anyway").status_code == 302
    page = resident.open(f"/p/{last}", follow_redirects=True).text
    assert page.count('type="checkbox"') >= 3, page[page.find("<main"):][:3000]
    assert f'name="{slot.key}"' in page and "Tuinieren" in page
    sent = resident.client.post(f"{resident.base}/p/{last}", data=Form(
        [("csrf_token", csrf_token(page)), ("move", "back"), (slot.key, "Koken"), (slot.key, "Klussen")]))
    assert sent.status_code == 302
    session.expire_all()
    assert session.scalar(select(Answer.value_text).where(Answer.item_id == qid)) == "Koken; Klussen"
    again = resident.open(f"/p/{last}", follow_redirects=True).text
    ticked = re.findall(r'<input[^>]*checked[^>]*value="([^"]+)"|<input[^>]*value="([^"]+)"[^>]*checked', again)
    assert {a or b for a, b in ticked} >= {"Koken", "Klussen"} and "Tuinieren" not in {a or b for a, b in ticked}
