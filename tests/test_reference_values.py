"""Compared with similar projects: reference values never reveal one project.

Adversarial cases: a project with 4 residents must not be recoverable by comparing two reports
(the reference is identical with and without it); an organisation's own projects never change its
own reference; 4 projects, or 1 other organisation, and nothing is shown; an organisation that does
not share never counts. The figures are checked against a direct computation on the same pairs.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from surveyhub.plugins import get_registry
from surveyhub.services import reference
from surveyhub.services.reference import ProjectFigures, combine
from tests.fixtures.outcomes import cli_report, import_values, new_project, with_outcome_instruments


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


def figures(org: int, change: float, share: float | None = 0.3, project: int = 0) -> ProjectFigures:
    return ProjectFigures(project, org, change, share)


def test_five_projects_of_two_other_organisations_are_needed():
    four = [figures(1, 0.4), figures(1, 0.2), figures(2, 0.6), figures(2, 0.1)]
    assert combine(four, organisation_id=9)["reason"] == "too_few_projects"
    one_other = [figures(1, 0.4)] * 6
    assert combine(one_other, organisation_id=9)["reason"] == "too_few_projects"
    five = four + [figures(3, 0.5, 0.45)]
    shown = combine(five, organisation_id=9)
    assert shown == {"mean_change": 0.4, "improved_share": 0.35, "projects": 5, "organisations": 3, "reason": None}
    # The reader's own projects are left out: organisation 3's reference rests on four projects.
    assert combine(five, organisation_id=3)["reason"] == "too_few_projects"


def test_rounding_hides_the_last_digits():
    values = [figures(o, c, s) for o, c, s in ((1, 0.43, 0.31), (1, 0.21, 0.22), (2, 0.66, 0.4), (2, 0.12, 0.1),
                                                 (3, 0.5, 0.52))]
    shown = combine(values, organisation_id=None)
    assert shown["mean_change"] == round(np.mean([0.43, 0.21, 0.66, 0.12, 0.5]), 1)
    assert shown["improved_share"] in {0.3, 0.35}
    assert round(shown["improved_share"] * 100) % 5 == 0


def answer_project(app, runner, session, tmp_path, org, name: str, pre: list, post: list) -> str:
    slug = new_project(app, session, org, ["normed"], name=name)  # norms: SD 5, reliability .80
    import_values(runner, tmp_path, slug, "pre", "points", pre)
    import_values(runner, tmp_path, slug, "post", "points", post)
    return slug


def rng_values(seed: int, n: int) -> tuple[list[int], list[int]]:
    rng = np.random.default_rng(seed)
    pre = [int(v) for v in rng.integers(12, 28, n)]
    return pre, [min(40, max(0, p + int(d))) for p, d in zip(pre, rng.integers(-4, 9, n))]


@pytest.fixture
def installation(app, runner, session, make_org, tmp_path):
    """Organisation A reads; B and C have six projects of 10+ residents between them; B also has a tiny one."""
    orgs = {name: make_org(f"Buurtwerk {name}") for name in "ABC"}
    own = answer_project(app, runner, session, tmp_path, orgs["A"], "Eigen project", *rng_values(1, 12))
    others = {}
    for i, (org, n) in enumerate((("B", 10), ("B", 14), ("B", 11), ("C", 12), ("C", 10), ("C", 13))):
        pre, post = rng_values(10 + i, n)
        others[f"{org}{i}"] = (orgs[org], answer_project(app, runner, session, tmp_path, orgs[org], f"Project {i}",
                                                         pre, post), pre, post)
    return {"orgs": orgs, "own": own, "others": others}


def test_the_reference_is_the_average_of_other_organisations_projects(app, runner, session, installation):
    report = cli_report(runner, installation["own"])
    [entry] = report["scales"]
    changes = [np.mean(np.asarray(post) - np.asarray(pre)) for _org, _slug, pre, post in
               installation["others"].values()]
    assert entry["reference"]["mean_change"] == round(float(np.mean(changes)), 1)
    assert entry["reference"]["projects"] == 6 and entry["reference"]["organisations"] == 2
    assert entry["reference"]["reason"] is None
    # The share improved: each project judged as its own report judges it, averaged over projects.
    shares = []
    for _org, slug, _pre, _post in installation["others"].values():
        own = cli_report(runner, slug, "--min-n", "1", "--min-tests", "1", "--min-cell", "1")["scales"][0]
        shares.append(own["rci"]["improved"] / own["n_pairs"])
    assert entry["reference"]["improved_share"] == pytest.approx(round(np.mean(shares) / 0.05) * 0.05)
    assert entry["reference"]["improved_share"] is not None
    assert "pairs" not in str(entry["reference"])


def test_a_project_of_four_residents_cannot_be_recovered_by_comparing_two_reports(
        app, runner, session, tmp_path, installation):
    before = cli_report(runner, installation["own"])["scales"][0]["reference"]
    org_b = installation["others"]["B0"][0]
    answer_project(app, runner, session, tmp_path, org_b, "Klein project", [2, 3, 2, 3], [39, 40, 39, 40])
    after = cli_report(runner, installation["own"])["scales"][0]["reference"]
    assert after == before  # identical: the tiny project never contributes
    # Nor with thresholds the reader lowers: only the installation's min_tests decides who contributes.
    lowered = cli_report(runner, installation["own"], "--min-n", "1", "--min-tests", "1")["scales"][0]["reference"]
    assert lowered == before


def test_an_organisations_own_projects_never_change_its_own_reference(app, runner, session, tmp_path, installation):
    before = cli_report(runner, installation["own"])["scales"][0]["reference"]
    answer_project(app, runner, session, tmp_path, installation["orgs"]["A"], "Nog een eigen", *rng_values(99, 15))
    assert cli_report(runner, installation["own"])["scales"][0]["reference"] == before


def test_an_organisation_that_does_not_share_never_counts(app, runner, session, installation):
    org_c = installation["orgs"]["C"]
    org_c.shares_reference = False
    session.commit()
    shown = cli_report(runner, installation["own"])["scales"][0]["reference"]
    assert shown == {"mean_change": None, "improved_share": None, "projects": None, "organisations": None,
                     "reason": "too_few_projects"}  # three projects of one organisation are left


def test_organisation_b_sees_a_reference_without_its_own_projects(app, session, installation):
    org_b = installation["orgs"]["B"]
    book = reference.ReferenceBook(session, 10)
    assert len(book.figures("normed", 1, "normed", None)) == 7  # A's one and the six of B and C
    shown = book.lookup("normed", 1, "normed", organisation_id=org_b.id)
    assert shown["reason"] == "too_few_projects"  # A's one and C's three: four projects
    assert get_registry(app) is not None


def test_an_admin_switches_sharing_off_on_the_settings_page_and_it_is_audited(client_for, org_people, session):
    from sqlalchemy import select

    from surveyhub.models import AuditEvent, Organisation
    from tests.fixtures.factories import csrf_token

    admin = client_for(org_people["admin"].email)
    page = admin.get("/admin/settings?lang=nl")
    assert "Tel onze projecten anoniem mee" in page.text and "Niemand kan zien welke projecten meedoen." in page.text
    [box] = re.findall(r'<input[^>]*name="shares_reference"[^>]*>', page.text)
    assert "checked" in box  # shared unless an admin switches it off
    data = {"csrf_token": csrf_token(page.text), "name": "Buurtwerk Noord", "brand_colour": "#1f5f8b",
            "certificate_orientation": "landscape"}  # the box left unticked
    assert admin.post("/admin/settings?lang=nl", data=data).status_code == 302
    session.expire_all()
    assert session.get(Organisation, org_people["org"].id).shares_reference is False
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "organisation.settings"))
    assert event.details["shares_reference"] == {"from": True, "to": False}
    # A worker cannot reach the page.
    worker = client_for(org_people["worker"].email)
    assert worker.get("/admin/settings").status_code in (403, 404)


def test_reading_reference_values_costs_the_same_queries_for_six_projects_as_for_seven(
        app, runner, session, tmp_path, installation):
    """One set of queries per instrument version, never a report per project."""
    from sqlalchemy import event

    reader = installation["orgs"]["A"].id

    def statements() -> int:
        counted = []
        engine = session.get_bind()
        listener = lambda conn, cursor, statement, *args: counted.append(statement.split("\n")[0][:90])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            book = reference.ReferenceBook(session, 10)
            book.lookup("normed", 1, "normed", organisation_id=reader)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return counted

    before = statements()
    answer_project(app, runner, session, tmp_path, installation["orgs"]["C"], "Nog een project", *rng_values(5, 11))
    session.expire_all()
    after = statements()
    assert len(after) == len(before) <= 8, (before, after)


def test_a_report_stored_before_reference_values_reads_them_as_not_computed(app, runner, session, installation):
    from sqlalchemy import select

    from surveyhub.models import Project
    from surveyhub.services import access, outcomes

    slug = installation["own"]
    actor = access.cli_actor(session, project_slug=slug)
    current = outcomes.project_report(session, get_registry(app), actor, slug)
    old = {key: value for key, value in current.items() if key not in ("participation_profile", "exploratory")}
    old["scales"] = [{key: value for key, value in entry.items() if key != "reference"} for entry in old["scales"]]
    project = session.scalar(select(Project).where(Project.slug == slug))
    project.purged_summary = old
    session.commit()
    upgraded = outcomes.project_report(session, get_registry(app), actor, slug)
    assert upgraded["participation_profile"] is None
    assert upgraded["exploratory"]["reason"] == "not_computed" and upgraded["exploratory"]["causal"] is False
    assert upgraded["scales"][0]["reference"]["reason"] == "not_computed"
    assert upgraded["scales"][0]["reference"]["mean_change"] is None
