"""The pairs page: a worker sees the anonymous residents the report counts as one, confirms or undoes a fuzzy pair.

Decisions change the report (``participation`` and ``n_fuzzy``), are audited, can be taken back,
and are for admins and workers only: a funder gets a 404, also for the POST.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from surveyhub.models import AuditEvent, PairDecision, Participant, Project
from surveyhub.plugins import get_registry
from surveyhub.services import access, outcomes, pair_review, projects
from surveyhub.services.errors import Invalid
from tests.fixtures.factories import csrf_token
from tests.fixtures.outcomes import answer, new_project, scale, with_outcome_instruments

ITEM = ("decimal", "amount")


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


@pytest.fixture
def world(app, session, make_org, make_user):
    """A project with one exact code pair, one fuzzy pair (birth month 5 → 6), a lone post resident."""
    org = make_org("Buurtwerk Noord")
    users = {role: make_user(role, org) for role in ("admin", "worker", "funder")}
    slug = new_project(app, session, org, ["decimal"])
    admin = access.Actor(organisation_id=org.id, role="admin", user_id=users["admin"].id)
    projects.set_share(session, admin, slug, users["funder"].email, True)
    answer(app, session, slug, "pre", "A-SAME1", {ITEM: 10}, self_code="a|b|1|0|2|x")
    answer(app, session, slug, "post", "A-SAME2", {ITEM: 12}, self_code="a|b|1|0|2|x")
    answer(app, session, slug, "pre", "A-PRE", {ITEM: 30}, self_code="k|m|5|1|1|z")
    answer(app, session, slug, "post", "A-POST", {ITEM: 34}, self_code="k|m|6|1|1|z")
    answer(app, session, slug, "post", "A-LONE", {ITEM: 50}, self_code="q|q|9|4|4|q")
    session.commit()
    ids = {code: pid for code, pid in session.execute(select(Participant.code, Participant.id))}
    return {"org": org, "slug": slug, "users": users, "ids": ids,
            "worker": access.Actor(organisation_id=org.id, role="worker", user_id=users["worker"].id)}


def report(app, session, world) -> dict:
    found = outcomes.project_report(session, get_registry(app), world["worker"], world["slug"],
                                    min_means=1, min_tests=1, min_cell=1)
    session.commit()
    return found


def pairing(found: dict) -> tuple:
    part = found["participation"]
    return part["paired"], part["paired_by_code"], part["fuzzy_pairs"], scale(found, "decimal")["n_fuzzy"]


def test_the_review_lists_exact_fuzzy_and_unpaired(session, world):
    found = pair_review.review(session, world["worker"], world["slug"])
    [comparison] = found.comparisons
    assert (comparison.first, comparison.second) == ("pre", "post")
    assert comparison.exact == 1 and comparison.by_participant == 0
    [pair] = comparison.pairs
    assert (pair.first.code, pair.second.code, pair.status) == ("A-PRE", "A-POST", "open")
    # Only the differing answer is handed out: part 2 (birth month), never the other five.
    assert pair.differences == [(2, "5", "6")]
    assert comparison.unpaired_second == ["A-LONE"]
    session.commit()


def test_undo_and_confirm_change_the_report(app, session, world):
    ids, worker, slug = world["ids"], world["worker"], world["slug"]
    assert pairing(report(app, session, world)) == (2, 1, 1, 1)
    pair_review.decide(session, worker, slug, ids["A-PRE"], ids["A-POST"], "undone")
    session.commit()
    undone = report(app, session, world)
    assert pairing(undone) == (1, 1, 0, 0)  # the two count apart: one pair fewer
    assert scale(undone, "decimal")["n_pairs"] == 1
    pair_review.decide(session, worker, slug, ids["A-PRE"], ids["A-POST"], "confirmed")
    session.commit()
    confirmed = report(app, session, world)
    assert pairing(confirmed) == (2, 2, 0, 0)  # in the analysis, no longer fuzzy
    assert scale(confirmed, "decimal")["sensitivity"] is None
    pair_review.decide(session, worker, slug, ids["A-PRE"], ids["A-POST"], "reset")
    session.commit()
    assert pairing(report(app, session, world)) == (2, 1, 1, 1)  # back to how the codes pair
    assert session.scalar(select(PairDecision.id)) is None
    actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("pair.%"))
                                   .order_by(AuditEvent.id)))
    assert actions == ["pair.undo", "pair.confirm", "pair.reset"]
    targets = set(session.scalars(select(AuditEvent.target).where(AuditEvent.action.like("pair.%"))))
    assert targets == {f"project:{slug}/A-PRE+A-POST"}
    session.commit()


def test_only_a_shown_pair_can_be_decided(session, world):
    ids = world["ids"]
    for first, second in (("A-SAME1", "A-SAME2"), ("A-PRE", "A-LONE"), ("A-POST", "A-PRE")):
        with pytest.raises(Invalid):
            pair_review.decide(session, world["worker"], world["slug"], ids[first], ids[second], "confirmed")
    with pytest.raises(Invalid):
        pair_review.decide(session, world["worker"], world["slug"], ids["A-PRE"], ids["A-POST"], "merge")
    session.rollback()


def test_linked_participants_show_a_paired_resident_as_one(session, world):
    ids = world["ids"]
    project = session.scalar(select(Project).where(Project.slug == world["slug"]))
    assert pair_review.linked_participants(session, project) == {ids["A-SAME2"]: ids["A-SAME1"],
                                                                 ids["A-POST"]: ids["A-PRE"]}
    pair_review.decide(session, world["worker"], world["slug"], ids["A-PRE"], ids["A-POST"], "undone")
    assert pair_review.linked_participants(session, project) == {ids["A-SAME2"]: ids["A-SAME1"]}
    session.rollback()


def test_a_resident_paired_by_code_gets_one_certificate_not_one_per_participant(session, world):
    """A-SAME1/A-SAME2 and A-PRE/A-POST are each one resident: only the later participant is a candidate."""
    from surveyhub.services import documents

    def codes():
        return {c.code for c in documents.certificate_candidates(session, world["worker"], world["slug"])}

    assert codes() == {"A-SAME2", "A-POST", "A-LONE"}
    pair_review.decide(session, world["worker"], world["slug"], world["ids"]["A-PRE"], world["ids"]["A-POST"],
                       "undone")
    assert codes() == {"A-SAME2", "A-PRE", "A-POST", "A-LONE"}  # two residents again: two documents
    session.rollback()


def test_the_page_shows_the_differing_answer_and_decides(client_for, session, world):
    client = client_for(world["users"]["worker"].email)
    page = client.get(f"/projects/{world['slug']}/pairs?lang=nl")
    assert page.status_code == 200
    assert "A-PRE" in page.text and "A-POST" in page.text
    # The birth months as names, highlighted; the other answers never reach the page.
    assert re.search(r"<mark>mei</mark>.*<mark>juni</mark>", page.text, re.S)
    for hidden in (">K<", ">M<", ">Z<"):
        assert hidden not in page.text
    key = f"{world['ids']['A-PRE']}-{world['ids']['A-POST']}"
    done = client.post(f"/projects/{world['slug']}/pairs/{key}",
                       data={"csrf_token": csrf_token(page.text), "decision": "undone"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"#pair-{key}")
    again = client.get(f"/projects/{world['slug']}/pairs?lang=nl")
    assert "Losgemaakt" in again.text and "Keuze terugdraaien" in again.text
    assert session.scalar(select(PairDecision.decision)) == "undone"
    session.commit()


def test_a_post_without_csrf_changes_nothing(client_for, session, world):
    client = client_for(world["users"]["worker"].email)
    key = f"{world['ids']['A-PRE']}-{world['ids']['A-POST']}"
    answer_ = client.post(f"/projects/{world['slug']}/pairs/{key}", data={"decision": "undone"})
    assert answer_.status_code in (302, 400)
    assert session.scalar(select(PairDecision.id)) is None
    session.commit()


def test_funders_never_see_or_decide_pairs(client_for, session, world):
    client = client_for(world["users"]["funder"].email)
    assert client.get(f"/projects/{world['slug']}/pairs").status_code == 404
    page = client.get("/")
    key = f"{world['ids']['A-PRE']}-{world['ids']['A-POST']}"
    posted = client.post(f"/projects/{world['slug']}/pairs/{key}",
                         data={"csrf_token": csrf_token(page.text), "decision": "undone"})
    assert posted.status_code == 404
    assert session.scalar(select(PairDecision.id)) is None
    session.commit()


def test_a_malformed_pair_key_is_not_found(client_for, world):
    client = client_for(world["users"]["worker"].email)
    page = client.get(f"/projects/{world['slug']}/pairs")
    posted = client.post(f"/projects/{world['slug']}/pairs/12x", data={"csrf_token": csrf_token(page.text),
                                                                        "decision": "undone"})
    assert posted.status_code == 404
