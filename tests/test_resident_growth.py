"""One resident's scores and growth for the worker (issue 12): words by the report's reliable-change rule.

The normed test instrument (SD 5, reliability .80, so S_diff = 3.16228: DESIGN.md's reference) makes the
rule exact: a change of 8 is reliable (RC 2.53), 4 is not (RC 1.26), −10 is a reliable decline.
"""

from __future__ import annotations

import re

import pytest

from surveyhub.plugins import get_registry
from surveyhub.services import access, outcomes, resident_growth
from tests.fixtures.outcomes import answer, new_project, with_outcome_instruments


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


@pytest.fixture
def org(make_org):
    return make_org("Buurtwerk Noord")


@pytest.fixture
def worker(client_for, make_user, org):
    return client_for(make_user("worker", org).email)


#: code -> (pre, post) points on the normed scale, and the words the page must use.
RESIDENTS = {"R-GROEI": (20, 28, "duidelijk vooruit"), "R-GELYK": (20, 24, "ongeveer gelijk"),
             "R-MINDR": (30, 20, "duidelijk achteruit")}


@pytest.fixture
def normed(app, session, org):
    slug = new_project(app, session, org, ["normed"])
    for code, (pre, post, _words) in RESIDENTS.items():
        answer(app, session, slug, "pre", code, {("normed", "points"): pre})
        answer(app, session, slug, "post", code, {("normed", "points"): post})
    return slug


def _verdicts(html: str) -> list[str]:
    return re.findall(r'<p class="verdict verdict-\w+">[^<]*<strong>([^<]*)</strong>', html)


@pytest.mark.parametrize("code", list(RESIDENTS))
def test_the_growth_page_says_in_words_whether_the_change_is_clear(worker, normed, code):
    page = worker.get(f"/projects/{normed}/participants/{code}/growth")
    assert page.status_code == 200
    pre, post, words = RESIDENTS[code]
    assert _verdicts(page.text) == [words]
    assert "Van nulmeting naar eindmeting:" in page.text
    # The scores are there as text (the bars are decoration), in Dutch number format.
    values = re.findall(r'<span class="bar-value">([^<]*)</span>', page.text)
    assert values == [f"{pre},0", f"{post},0"]
    widths = [float(w) for w in re.findall(r'class="bar-fill" style="width: ([\d.]+)%"', page.text)]
    assert widths == [pytest.approx(pre / 40 * 100, abs=0.1), pytest.approx(post / 40 * 100, abs=0.1)]


def test_the_page_agrees_with_the_report(app, session, org, normed):
    actor = access.Actor(organisation_id=org.id, role="worker")
    report = outcomes.project_report(session, get_registry(app), actor, normed, min_means=1, min_tests=1,
                                     min_cell=1)
    [entry] = report["scales"]
    seen = [resident_growth.resident_growth(session, actor, normed, code, "nl").skills[0].changes[0].verdict
            for code in RESIDENTS]
    assert {kind: seen.count(kind) for kind in ("improved", "unchanged", "deteriorated")} == \
        {kind: entry["rci"][kind] for kind in ("improved", "unchanged", "deteriorated")} == \
        {"improved": 1, "unchanged": 1, "deteriorated": 1}
    assert entry["rci"]["s_diff"] == pytest.approx(3.16228, abs=1e-5)


def test_too_few_answers_to_judge_and_the_look_back(app, session, org, worker):
    """No norms and one item (no alpha): the rule cannot judge, and the page says so instead of guessing."""
    slug = new_project(app, session, org, ["rating"], retrospective=True)
    answer(app, session, slug, "pre", "R-EEN", {("rating", "rating"): 4})
    answer(app, session, slug, "post", "R-EEN", {("rating", "rating"): 9}, then={("rating", "rating"): 3})
    page = worker.get(f"/projects/{slug}/participants/R-EEN/growth").text
    assert _verdicts(page) == ["nog niet te zeggen", "nog niet te zeggen"]
    assert "Zelf ervaren verandering" in page and "Terugblik: vóór het project" in page
    assert "Zelf ervaren verandering (terugblik):" in page
    assert re.findall(r'<span class="bar-value">([^<]*)</span>', page) == ["4,0", "9,0", "3,0", "9,0"]


def test_a_resident_without_a_finished_wave(app, session, org, worker, make_participant):
    slug = new_project(app, session, org, ["normed"])
    invitation = make_participant(org, slug, "Anna")
    answer(app, session, slug, "pre", invitation.code, {("normed", "points"): 12}, complete=False)
    page = worker.get(f"/projects/{slug}/participants/{invitation.code}/growth")
    assert page.status_code == 200
    assert "Nog geen vragenlijst klaar." in page.text and "bar-value" not in page.text
    detail = worker.get(f"/projects/{slug}/participants/{invitation.code}").text
    assert "/growth" not in detail  # the button shows once there is something to look at


def test_funders_and_other_organisations_never_see_it(session, client_for, make_user, make_org, org, normed):
    from surveyhub.services import projects

    url = f"/projects/{normed}/participants/R-GROEI/growth"
    funder = make_user("funder", org)
    projects.set_share(session, access.Actor(organisation_id=org.id, role="admin"), normed, funder.email, True)
    session.commit()
    funder_client = client_for(funder.email)
    assert funder_client.get(f"/projects/{normed}/outcomes").status_code == 200  # shared with them
    assert funder_client.get(url).status_code == 404
    assert client_for(make_user("worker", make_org("Welzijn Zuid")).email).get(url).status_code == 404
    assert client_for(make_user("admin", org).email).get(url).status_code == 200


def test_the_residents_list_shows_a_resident_paired_by_own_code_once(app, session, org, worker):
    """Two participants the report pairs by their own code (the same six answers) are one row, both waves done."""
    slug = new_project(app, session, org, ["normed"])
    answer(app, session, slug, "pre", "A-EERST", {("normed", "points"): 10}, self_code="a|b|1|0|2|x")
    answer(app, session, slug, "post", "A-LATER", {("normed", "points"): 12}, self_code="a|b|1|0|2|x")
    answer(app, session, slug, "post", "A-ALLEEN", {("normed", "points"): 20}, self_code="q|q|9|4|4|q")
    page = worker.get(f"/projects/{slug}/participants").text
    rows = re.findall(r'<th scope="row"><a [^>]*>([^<]+)</a>', page)
    assert rows == ["A-EERST", "A-ALLEEN"]
    assert "Ook begonnen als A-LATER (zelfde eigen code)" in page
    first_row = page.split(">A-EERST</a>", 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'class="state-(\w+)"', first_row)[:2] == ["done", "done"]
    growth = worker.get(f"/projects/{slug}/participants/A-EERST/growth").text
    assert re.findall(r'<span class="bar-value">([^<]*)</span>', growth) == ["10,0", "12,0"]  # both waves
    for code in ("A-EERST", "A-LATER"):
        assert worker.get(f"/projects/{slug}/participants/{code}").status_code == 200
