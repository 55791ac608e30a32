"""The dashboard shows what the report now says about what residents did (issue 14), in the PDF's words.

The participation profile ("Wat bewoners deden"), the comparison with similar projects under each
skill, and "Wat lijkt te werken? (verkennend)" folded under Details with each group's start beside
its change: the sentences are ``rendering.report_exploratory``'s on the same report JSON, so page
and PDF say the same; small groups show in words ("minder dan 5"), never as a number.
"""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import select

from surveyhub.models import Organisation
from surveyhub.plugins import get_registry
from surveyhub.rendering import report_exploratory
from surveyhub.services import access, activities, demo, outcomes, projects
from tests.fixtures.outcomes import with_outcome_instruments
from tests.test_org_report_pdf import answered_project, context_for


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


@pytest.fixture
def demo_world(app, session, tmp_path, demo_database, make_user):
    result = demo.load(session, get_registry(app), "http://surveyhub.test", tmp_path)
    session.commit()
    org = session.scalar(select(Organisation).where(Organisation.name == demo.DEMO_ORG))
    people = {"worker": make_user("worker", org), "funder": make_user("funder", org)}
    projects.set_share(session, access.Actor(org.id, "admin"), result.project_slug, people["funder"].email, True)
    session.commit()
    return org, result.project_slug, people


def report_for(app, session, org, slug) -> dict:
    report = outcomes.project_report(session, get_registry(app), access.Actor(org.id, "worker"), slug)
    session.commit()
    return report


def text_of(page: str) -> str:
    """The page's words with tags dropped and entities read, whitespace as single spaces."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_the_demo_dashboard_says_what_residents_did_and_what_seems_to_work(app, session, client_for, demo_world):
    org, slug, people = demo_world
    report = report_for(app, session, org, slug)
    page = client_for(people["worker"].email).get(f"/projects/{slug}/outcomes").text
    words = text_of(page)
    profile = report_exploratory.profile(report, "nl")
    assert report["participation_profile"]["activities"] > 0
    assert '<h2 id="what-residents-did">Wat bewoners deden</h2>' in page
    for sentence in profile["sentences"] + profile["kinds"]:
        assert sentence in words, sentence
    assert 'href="/projects/' + slug + '/activities"' in page  # the worker records more from here
    # Compared with similar projects: under each skill that has a reference value, with the numbers behind it.
    referenced = [e for e in report["scales"] if e["reference"]["mean_change"] is not None]
    assert referenced, "the demo compares cooperation with similar projects"
    for entry in referenced:
        line = report_exploratory.reference_line(entry, "nl")
        assert f"{entry['reference']['projects']} projecten van {entry['reference']['organisations']}" in line
        assert line in words
    assert report_exploratory.reference_note(report, "nl") in words
    assert words.count("Vergeleken met vergelijkbare projecten") == len(referenced)
    # What seems to work: labelled exploratory and not causal, folded, each group's start beside its change.
    appendix = report_exploratory.appendix(report, "nl")
    assert '<h2 id="what-works">Wat lijkt te werken? (verkennend)</h2>' in page
    assert "het laat niet zien wat de oorzaak is" in appendix["lines"][0] and appendix["lines"][0] in words
    folded = page.split("<summary>Details: groepen naar wat bewoners deden</summary>")[1].split("</details>")[0]
    for table in appendix["tables"]:
        assert f"<h3>{html.escape(table['title'])}</h3>" in folded
        for row in table["rows"]:
            assert " ".join(cell for cell in row["cells"] if cell) in text_of(folded).replace("  ", " ")
    assert "<th scope=\"col\">Start (SD)</th>" in folded and "Georganiseerd of voorgezeten" in folded


def test_funders_read_the_same_aggregates_without_the_workers_links(app, session, client_for, demo_world):
    org, slug, people = demo_world
    report = report_for(app, session, org, slug)
    page = client_for(people["funder"].email).get(f"/projects/{slug}/outcomes")
    assert page.status_code == 200
    words = text_of(page.text)
    for sentence in report_exploratory.profile(report, "nl")["sentences"]:
        assert sentence in words
    assert "Wat lijkt te werken? (verkennend)" in words
    assert "/activities" not in page.text  # the activity pages name residents
    # English pages read the PDF's English words.
    english = client_for(people["funder"].email).get(f"/projects/{slug}/outcomes?lang=en")
    assert "What residents did" in english.text and "What seems to work? (exploratory)" in english.text


def test_a_few_active_residents_show_in_words_and_small_groups_hide_their_change(app, session, client_for,
                                                                                 make_org, make_project,
                                                                                 make_user):
    org = make_org("Buurtwerk Noord")
    slug = answered_project(app, session, org, make_project, "Buurttuin", 12, "A")
    ctx = context_for(app, session, org, role="worker")
    # Three residents at one meeting, one of them organised it: every count here is below 5.
    activities.record(ctx, slug, happened_on=date.today(), kind="meeting", hours=2,
                      participants=[("A0", "organiser", None), ("A1", "participant", None),
                                    ("A2", "participant", None)])
    session.commit()
    worker = make_user("worker", org)
    report = report_for(app, session, org, slug)
    page = client_for(worker.email).get(f"/projects/{slug}/outcomes").text
    words = text_of(page)
    assert report["participation_profile"]["residents"] == 3
    for sentence in report_exploratory.profile(report, "nl")["sentences"]:
        assert sentence in words
    section = text_of(page.split('id="what-residents-did"')[1].split("<h2")[0])
    # "How often" and "biggest role" give no count below 5 as a number: the one organiser, the three at once.
    assert "Hoe vaak: 1 keer minder dan 5," in section and "organisator minder dan 5" in section
    assert "Bijeenkomsten: 1 keer, minder dan 5 bewoners" in section
    assert not re.search(r"(1 keer|deelnemer|organisator) [1-4]\b", section)
    folded = page.split("<summary>Details: groepen naar wat bewoners deden</summary>")[1].split("</details>")[0]
    # The organiser alone against eleven others: no averages for the groups, and it says why.
    assert "Een groep heeft minder dan" in text_of(folded)
    led = [row for row in re.findall(r"<tr[^>]*>(.*?)</tr>", folded, re.S) if "Georganiseerd of voorgezeten" in row]
    assert led and all("minder dan 5" in text_of(row) for row in led)
    for entry in report["exploratory"]["scales"]:
        for group in entry["by_role"]["groups"]:
            assert group["change"]["mean"] is None and group["baseline"]["mean"] is None
