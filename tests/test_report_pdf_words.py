"""The impact report's words on the designs that used to get them wrong.

Each project is answered through the response services and reported through
``services.outcomes`` and ``services.documents``, so the PDF reads a real
report JSON: everyone changing by the same amount, nine pairs, a look-back
without a start questionnaire, and thresholds set for one report.
"""

from __future__ import annotations

import pytest

from surveyhub.plugins import get_registry
from surveyhub.services import access, outcomes
from surveyhub.services import documents as docs
from surveyhub.rendering import formatting as fmt
from tests.fixtures.documents import BASE_URL, pdf_text
from tests.fixtures.outcomes import answer, new_project, with_outcome_instruments


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


def report_text(app, session, org, slug, **thresholds) -> tuple[dict, str]:
    actor = access.Actor(org.id, "worker")
    report = outcomes.project_report(session, get_registry(app), actor, slug, **thresholds)
    issued = docs.issue_report(session, get_registry(app), actor, slug, base_url=BASE_URL, report=report)
    session.commit()
    return report, pdf_text(issued.pdf)


def rated(app, session, org, before: list[int], after: list[int], name: str) -> str:
    slug = new_project(app, session, org, ["rating"], name=name)
    for i, (pre, post) in enumerate(zip(before, after)):
        answer(app, session, slug, "pre", f"R{i}", {("rating", "rating"): pre}, commit=False)
        answer(app, session, slug, "post", f"R{i}", {("rating", "rating"): post}, commit=False)
    session.commit()
    return slug


def test_everyone_changing_by_the_same_amount_is_not_called_too_few(app, session, make_org):
    org = make_org("Buurtwerk Gelijk")
    before = [4, 5, 6, 5, 4, 6, 5, 4, 6, 5, 4, 5]
    slug = rated(app, session, org, before, [b + 2 for b in before], "Iedereen twee punten")
    report, text = report_text(app, session, org, slug)
    entry = report["scales"][0]
    assert entry["n_pairs"] == 12 and entry["change"]["sd"] == 0 and entry["change"]["ci95"] is None
    assert "Elke bewoner veranderde evenveel. Daarom is er geen interval." in text
    assert "te weinig bewoners" not in text.lower()


def test_nine_pairs_say_why_there_is_no_conclusion_and_print_no_interval(app, session, make_org):
    org = make_org("Buurtwerk Negen")
    slug = rated(app, session, org, [4, 5, 4, 6, 5, 4, 5, 6, 4], [7, 8, 6, 8, 7, 7, 6, 8, 7], "Negen paren")
    report, text = report_text(app, session, org, slug)
    entry = report["scales"][0]
    assert entry["n_pairs"] == 9 and "tests" in entry["suppressed"] and entry["change"]["ci95"] is None
    assert "Voor effectgroottes en toetsen zijn minstens 10 bewoners nodig. Daarom trekken we geen conclusie." in text
    assert "Met 95% zekerheid" not in text  # the summary and the table agree: no interval on either
    assert "deden te weinig bewoners" not in text  # the averages are shown, so nobody says "too few took part"
    # A one-item scale has no reliability: no reliable-change bars, and the report says why in words.
    assert all(entry["rci"][kind] is None for kind in ("improved", "unchanged", "deteriorated"))
    assert "de betrouwbaarheid van de vaardigheden is niet bekend" in text


def test_a_look_back_without_a_start_has_no_match_rate(app, session, make_org):
    org = make_org("Buurtwerk Terugblik")
    slug = new_project(app, session, org, ["rating"], name="Alleen terugblik", retrospective=True)
    for i, (then, now) in enumerate(zip([3, 4, 5, 4, 3, 5, 4, 3, 4, 5], [6, 7, 7, 6, 5, 8, 7, 6, 6, 7])):
        answer(app, session, slug, "post", f"T{i}", {("rating", "rating"): now}, then={("rating", "rating"): then},
               commit=False)
    session.commit()
    report, text = report_text(app, session, org, slug)
    assert not report["design"]["pretest"] and report["participation"]["match_rate"] is None
    assert "Koppelpercentage" not in text and "0%" not in text
    assert "Er was geen nulmeting." in text and "Alle verandering in dit rapport is zelf ervaren." in text
    # The look-back is never counted as measured change, nor called "clearly improved".
    assert "Zelf ervaren verandering" in text and "duidelijk vooruit" not in text.lower().split("per bewoner")[0]
    assert "Wie ging duidelijk vooruit?" not in text


def test_threshold_sources_are_shown_as_the_json_says(app, session, make_org):
    org = make_org("Buurtwerk Bron")
    slug = rated(app, session, org, [4, 5, 4, 6, 5, 4, 5, 6, 4, 5], [7, 8, 6, 8, 7, 7, 6, 8, 7, 6], "Bronnen")
    report, text = report_text(app, session, org, slug, min_tests=12)
    sources = report["thresholds"]["sources"]
    assert sources["min_tests"] == "call" and sources["min_means"] == "default"
    assert ("Waar deze grenzen vandaan komen: min_means 5 (standaard van SurveyHub), min_tests 12 (voor dit "
            "rapport ingesteld) en min_cell 5 (standaard van SurveyHub).") in text


def test_the_follow_up_says_whether_the_change_lasted(app, session, make_org):
    org = make_org("Buurtwerk Vervolg")
    before = [4, 5, 4, 6, 5, 4, 5, 6, 4, 5, 3, 4]
    after = [7, 8, 6, 8, 7, 7, 6, 8, 7, 6, 6, 7]
    later = [6, 8, 6, 7, 7, 6, 6, 8, 6, 6, 5, 7]
    slug = rated(app, session, org, before, after, "Met vervolgmeting")
    for i, value in enumerate(later):
        answer(app, session, slug, "followup", f"R{i}", {("rating", "rating"): value}, commit=False)
    session.commit()
    report, text = report_text(app, session, org, slug)
    text = text.replace("%- interval", "%-interval")  # a line may break after the hyphen
    lasting, from_start = report["persistence"][0], report["followup"][0]
    assert lasting["comparison"] == "post→followup" and from_start["comparison"] == "pre→followup"
    assert "Bleef de verandering?" in text and "Van het eind tot de vervolgmeting" in text
    lo, hi = lasting["change"]["ci95"]
    assert lasting["change"]["ci95"][1] < 0  # these residents went down again after the end: say so in words
    assert (f"Na het eind ging cijfer gemiddeld weer achteruit. Cijfer: eind {fmt.number(lasting['pre']['mean'], 2)}, vervolgmeting "
            f"{fmt.number(lasting['post']['mean'], 2)} op 10. Verandering sinds het eind "
            f"{fmt.numbers('nl').signed(lasting['change']['mean'])} (95%-interval {fmt.number(lo, 2)} tot "
            f"{fmt.number(hi, 2)}), 12 bewoners.") in text
    assert "Van de start tot de vervolgmeting" in text
    assert "De cijfers van eind tot vervolgmeting per vaardigheid" in text
    assert "Een tijd na het eind vulden bewoners de vragenlijst opnieuw in (vervolgmeting)." in text


def test_drop_outs_are_compared_with_completers_at_the_start(app, session, make_org):
    org = make_org("Buurtwerk Uitval")
    slug = rated(app, session, org, [5, 6, 5, 7, 6, 5, 6, 7, 5, 6, 6, 5], [7, 8, 6, 8, 7, 7, 6, 8, 7, 6, 7, 7],
                 "Met uitval")
    for i, value in enumerate([3, 4, 3, 2, 4, 3]):  # six residents who only answered at the start
        answer(app, session, slug, "pre", f"U{i}", {("rating", "rating"): value}, commit=False)
    session.commit()
    report, text = report_text(app, session, org, slug)
    check = report["participation"]["dropout_check"][0]
    assert check["dropouts"]["n"] == 6 and check["difference"] is not None and check["p"] is None
    assert "6 van de 18 bewoners die begonnen, vulden de eindmeting niet in." in text
    assert "Het waren er te weinig om te toetsen of ze anders begonnen." in text
    table = text.split("Bewoners die stopten vergeleken met wie het afmaakte, bij de start", 1)[1]
    n = fmt.numbers("nl")
    assert (f"Cijfer 12: {n.number(check['completers']['mean'])} ({n.number(check['completers']['sd'])}) "
            f"6: {n.number(check['dropouts']['mean'])} ({n.number(check['dropouts']['sd'])}) "
            f"{n.signed(check['difference'])} niet getoond") in table


def test_many_residents_at_the_top_at_the_start_are_named_a_limitation(app, session, make_org):
    org = make_org("Buurtwerk Plafond")
    before = [10, 10, 10, 10, 10, 6, 5, 7, 6, 5, 6, 7]
    slug = rated(app, session, org, before, [10, 10, 9, 10, 10, 8, 7, 8, 8, 7, 7, 9], "Al aan de top")
    report, text = report_text(app, session, org, slug)
    ceiling = report["scales"][0]["baseline_ceiling"]
    assert ceiling == {"count": 5, "share": 5 / 12}
    assert "Bij de start hadden 5 van de 12 bewoners al de hoogste score op cijfer. Zij konden niet hoger." in text
