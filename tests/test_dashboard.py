"""The outcome dashboard: what workers and funders see, in their number format, and what they may download.

Every chart has a table beside it; numbers on Dutch pages use a decimal comma;
another organisation's project is a 404; funders read the results but not the
residents' answers; residents never get in; small groups show no averages.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from babel.numbers import format_decimal
from sqlalchemy import select

from surveyhub.plugins import get_registry
from surveyhub.models import Organisation
from surveyhub.services import access, demo, outcomes, projects
from tests.fixtures.outcomes import answer, new_project, with_outcome_instruments


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


@pytest.fixture
def demo_project(app, session, tmp_path, demo_database):
    # The database starts with the demo (built once per session); loading it again finds it and changes nothing.
    result = demo.load(session, get_registry(app), "http://surveyhub.test", tmp_path)
    session.commit()
    org = session.scalar(select(Organisation).where(Organisation.name == demo.DEMO_ORG))
    session.commit()
    return org, result.project_slug


@pytest.fixture
def people(session, make_user, demo_project, make_org):
    org, slug = demo_project
    found = {"worker": make_user("worker", org), "funder": make_user("funder", org),
             "stranger": make_user("worker", make_org("Welzijn Zuid"))}
    # Funders see only projects shared with them.
    projects.set_share(session, access.Actor(org.id, "admin"), slug, found["funder"].email, True)
    session.commit()
    return found


def report_for(app, session, org, slug) -> dict:
    report = outcomes.project_report(session, get_registry(app), access.Actor(org.id, "worker"), slug)
    session.commit()
    return report


#: A table cell holding nothing but a dash: what a hidden figure must never look like on the page.
DASH_CELL = re.compile(r"<td[^>]*>\s*–\s*</td>")


def nl(value: float) -> str:
    return format_decimal(round(value, 2) + 0.0, "0.00", locale="nl")


def test_the_demo_project_shows_change_with_intervals_in_dutch_numbers(app, session, client_for, people,
                                                                      demo_project):
    org, slug = demo_project
    report = report_for(app, session, org, slug)
    page = client_for(people["worker"].email).get(f"/projects/{slug}/outcomes")
    assert page.status_code == 200
    html = page.text
    organising = report["scales"][0]
    lo, hi = organising["change"]["ci95"]
    assert nl(organising["pre"]["mean"]) in html and nl(organising["post"]["mean"]) in html
    assert nl(lo) in html and nl(hi) in html and "," in nl(lo)
    # The report's four charts (participation, skills at a glance, who clearly improved, the look-back; no
    # radar), each an accessible image with a title and a description, each beside a table.
    svgs = re.findall(r"<svg[^>]*>", html)
    assert len(svgs) == 4 and all('role="img"' in svg and "aria-labelledby" in svg for svg in svgs)
    assert html.count("<title id=") == 4 and html.count("<desc id=") == 4
    assert html.count("class=\"chart-pair") == 4 and html.count('class="chart-table"') == 4
    assert "chart-radar" not in html
    # The demo's hidden counts ("≥5", "<5") are drawn as marked (hatched, dashed) bars, never as no bar.
    hidden = [k for e in report["scales"] for k in ("improved", "unchanged", "deteriorated")
              if isinstance(e["rci"][k], str)]
    rci_chart = re.search(r'<svg[^>]*chart-rci.*?</svg>', html, re.S).group(0)
    marked = re.findall(r"<rect[^>]*stroke-dasharray", rci_chart)
    assert hidden and len(marked) == len(hidden) + 1  # + the legend's key
    assert "Ik durf nu veel makkelijker iets te zeggen in een vergadering." in html  # agreed to be quoted
    for fmt in ("csv", "xlsx", "sav"):
        assert f"/projects/{slug}/export.{fmt}" in html
    assert f"/projects/{slug}/story#quotes" in html  # where the worker chooses the report's quotes


def test_english_pages_use_a_decimal_point(app, session, client_for, people, demo_project):
    org, slug = demo_project
    report = report_for(app, session, org, slug)
    html = client_for(people["worker"].email).get(f"/projects/{slug}/outcomes?lang=en").text
    mean = report["scales"][0]["pre"]["mean"]
    assert format_decimal(round(mean, 2), "0.00", locale="en") in html and nl(mean) not in html


def test_funders_read_results_but_not_answers(client_for, people, demo_project):
    _org, slug = demo_project
    funder = client_for(people["funder"].email)
    page = funder.get(f"/projects/{slug}/outcomes")
    assert page.status_code == 200 and f"/projects/{slug}/export.csv" not in page.text
    assert f"/projects/{slug}/story" not in page.text  # choosing quotes is the worker's
    assert funder.get(f"/projects/{slug}/outcomes/report.json").status_code == 200
    assert funder.get(f"/projects/{slug}/outcomes/summary.csv").status_code == 200
    for fmt in ("csv", "xlsx", "sav"):
        assert funder.get(f"/projects/{slug}/export.{fmt}").status_code == 404
    assert f"/projects/{slug}/outcomes" in funder.get(f"/projects/{slug}").text


def test_another_organisation_gets_404_everywhere(client_for, people, demo_project):
    _org, slug = demo_project
    stranger = client_for(people["stranger"].email)
    for path in ("outcomes", "outcomes/report.json", "outcomes/summary.csv", "export.csv", "export.sav"):
        assert stranger.get(f"/projects/{slug}/{path}").status_code == 404, path


def test_residents_never_see_outcomes(app, session, demo_project):
    _org, slug = demo_project
    resident = app.test_client()
    link = demo.load(session, get_registry(app), "http://surveyhub.test", Path(app.instance_path)).resident_link
    session.commit()
    assert resident.get(link.replace("http://surveyhub.test", "")).status_code in (200, 302)
    for path in ("outcomes", "outcomes/report.json", "outcomes/summary.csv", "export.csv"):
        response = resident.get(f"/projects/{slug}/{path}")
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_downloads_are_streamed_files(client_for, people, demo_project):
    _org, slug = demo_project
    worker = client_for(people["worker"].email)
    csv_response = worker.get(f"/projects/{slug}/export.csv")
    assert csv_response.status_code == 200 and csv_response.is_streamed
    assert csv_response.mimetype == "text/csv" and "attachment" in csv_response.headers["Content-Disposition"]
    frame = pd.read_csv(io.BytesIO(csv_response.data))
    assert len(frame) == 58 and set(frame["wave"]) == {"pre", "post"}  # 30 + 26 invited, 2 on the anonymous link
    dutch = worker.get(f"/projects/{slug}/export.csv?dialect=excel-nl")
    assert dutch.data.startswith(b"\xef\xbb\xbfparticipant;wave;")
    xlsx = worker.get(f"/projects/{slug}/export.xlsx")
    assert xlsx.is_streamed and xlsx.data[:2] == b"PK"
    assert worker.get(f"/projects/{slug}/export.sav").data[:4] == b"$FL2"
    assert worker.get(f"/projects/{slug}/export.pdf").status_code == 404
    assert worker.get(f"/projects/{slug}/export.xlsx?dialect=excel-nl").status_code == 404
    assert worker.get(f"/projects/{slug}/outcomes/summary.xlsx?dialect=excel-nl").status_code == 404
    assert worker.get(f"/projects/{slug}/outcomes/summary.csv?dialect=nonsense").status_code == 404
    report = worker.get(f"/projects/{slug}/outcomes/report.json")
    assert report.mimetype == "application/json" and b"NaN" not in report.data


def test_small_groups_leak_nothing_on_the_page_or_in_the_summary(app, session, client_for, make_user, make_org):
    org = make_org("Buurtwerk Klein")
    slug = new_project(app, session, org, ["decimal"], retrospective=True)
    # Three pairs with distinctive values: means 52.37 and 62.53 must appear nowhere.
    for code, before, after, then in (("K1", 41.3, 55.5, 38.1), ("K2", 52.7, 61.9, 47.9), ("K3", 63.1, 70.2, 59.3)):
        answer(app, session, slug, "pre", code, {("decimal", "amount"): before})
        answer(app, session, slug, "post", code, {("decimal", "amount"): after}, then={("decimal", "amount"): then})
    worker = client_for(make_user("worker", org).email)
    hidden_numbers = ["52,37", "62,53", "10,17", "48,43", "52.37", "62.53", "10.17", "48.43"]
    html = worker.get(f"/projects/{slug}/outcomes").text
    assert not [n for n in hidden_numbers if n in html]
    english = worker.get(f"/projects/{slug}/outcomes?lang=en").text
    assert not [n for n in hidden_numbers if n in english]
    # Words instead of a table of dashes: how many there are, from how many averages are shown, and why.
    assert "So far at most 3 residents filled in both the start and the end questionnaire. We show averages " \
           "from 5 residents" in english
    assert not DASH_CELL.search(english) and not DASH_CELL.search(html)
    summary = pd.read_csv(io.BytesIO(worker.get(f"/projects/{slug}/outcomes/summary.csv").data))
    estimates = [c for c in summary.columns if c not in ("instrument", "scale", "comparison", "label", "n_pairs",
                                                         "suppressed")]
    assert summary[estimates].isna().all().all()
    assert set(summary["suppressed"]) == {"means, tests"} and set(summary["n_pairs"]) == {3}
    raw = worker.get(f"/projects/{slug}/outcomes/report.json").text
    assert not [n for n in hidden_numbers if n in raw]


def test_a_project_without_answers_renders(app, session, client_for, make_user, make_org):
    org = make_org("Buurtwerk Leeg")
    slug = new_project(app, session, org, ["rating", "triad"], retrospective=True)
    worker = client_for(make_user("worker", org).email)
    assert worker.get(f"/projects/{slug}/outcomes").status_code == 200
    page = worker.get(f"/projects/{slug}/outcomes?lang=en")
    assert page.status_code == 200 and "No resident has answered both questionnaires yet." in page.text
    assert worker.get(f"/projects/{slug}/outcomes/summary.xlsx").status_code == 200
    assert worker.get(f"/projects/{slug}/export.sav").status_code == 200


# --- the charts themselves (pure functions, shared with the PDF report) ------------------------------

def parse_svg(svg: str):
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg)  # well-formed XML, or this raises
    ns = "{http://www.w3.org/2000/svg}"
    title, desc = root.find(f"{ns}title"), root.find(f"{ns}desc")
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    return root, title.text, desc.text


def test_charts_escape_text_and_describe_themselves_in_words():
    from surveyhub.rendering import charts

    evil = '<script>alert("x")</script> & "Buurt"'
    svg = charts.change_dumbbell([{"label": evil, "pre": 2.86, "post": 3.64, "range": [1, 5], "ci": [3.2, 4.1]}],
                                 title=evil, lang="nl")
    assert "<script>" not in svg
    _root, title, desc = parse_svg(svg)
    assert title == evil and "van 2,9 tot 3,6" in desc and "3,2 tot 4,1" in desc
    english = charts.change_dumbbell([{"label": "Plan", "pre": 2.86, "post": 3.64, "range": [1, 5], "ci": None}],
                                     title="Change", lang="en")
    assert "from 2.9 to 3.6" in parse_svg(english)[2]


def test_charts_mark_hidden_counts_and_draw_nothing_for_missing_values():
    from surveyhub.rendering import charts

    svg = charts.reliable_change_bars([{"label": "Samenwerken", "improved": "<5", "unchanged": 12,
                                        "deteriorated": 0}], title="RC", lang="nl")
    root, _title, desc = parse_svg(svg)
    # One name per category, the report's: "duidelijk vooruit", "ongeveer gelijk", "duidelijk achteruit".
    assert "Duidelijk vooruit <5" in desc and "Ongeveer gelijk 12" in desc and "Duidelijk achteruit 0" in desc
    rects = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if float(r.get("y")) > 30]
    solid = [r for r in rects if not r.get("stroke-dasharray")]
    marked = [r for r in rects if r.get("stroke-dasharray")]
    assert len(solid) == 1  # the count of 12; 0 draws no bar
    # "<5" is a marked (hatched, dashed outline) bar, never no bar, and its key says what the marking means.
    assert len(marked) == 2 and "gearceerd" in svg
    hidden = charts.change_dumbbell([{"label": "Netwerk", "pre": None, "post": None, "range": [1, 5], "ci": None}],
                                    title="Change", lang="nl")
    assert "te weinig paren" in parse_svg(hidden)[2]
    assert hidden.count("<circle") == 2  # the legend's two markers; no data points
    funnel = charts.participation_funnel([("Uitgenodigd", 1200), ("Gekoppeld", 0)], title="Deelname", lang="nl")
    assert "Uitgenodigd: 1.200" in parse_svg(funnel)[2]


def test_report_charts_from_a_report_with_no_data(app, session, make_org):
    from surveyhub.rendering import charts

    org = make_org("Buurtwerk Nog Leeg")
    report = report_for(app, session, org, new_project(app, session, org, ["rating"]))
    assert report["scales"][0]["pre"]["mean"] is None and report["participation"]["invited"] == 0
    drawn = charts.report_charts(report, "nl")
    assert set(drawn) == {"funnel", "change", "rci"}  # no radar: it collapsed into a line below three skills
    for svg in drawn.values():
        parse_svg(svg)


def test_went_up_or_down_follows_the_scales_direction_as_the_pdf_does(app, session, make_org):
    """A fall on a scale where lower is better is an improvement, on the page and in the PDF alike."""
    from flask_babel import force_locale

    from surveyhub.rendering import report_words as report_pdf
    from surveyhub.rendering import texts
    from surveyhub.locale import Numbers
    from surveyhub.web.outcome_format import dashboard_view

    org = make_org("Buurtwerk Richting")
    slug = new_project(app, session, org, ["rating"])
    for i, (before, after) in enumerate(zip([8, 7, 9, 8, 7, 9, 8, 8, 9, 7], [6, 5, 7, 6, 6, 7, 5, 6, 7, 5])):
        answer(app, session, slug, "pre", f"R{i}", {("rating", "rating"): before})
        answer(app, session, slug, "post", f"R{i}", {("rating", "rating"): after})
    report = report_for(app, session, org, slug)
    fell = report["scales"][0]
    assert fell["change"]["ci95"][1] < 0 and not fell["suppressed"]
    # The same numbers on a scale where lower is better (the contract's own key, not a hand-made shape).
    lower_is_better = {**fell, "higher_is_better": False}
    with app.test_request_context(), force_locale("en"):
        t = texts.REPORT["en"]
        for entry, pdf_key in ((fell, "declined"), (lower_is_better, "grew")):
            view = dashboard_view({**report, "scales": [entry]}, Numbers("en"), "en")
            pdf = report_pdf.summary_sentence(entry, "en", t)[0]
            assert pdf == t[pdf_key].format(skill="Cijfer", pre="8.00", post="6.00", scale_max=" out of 10"), pdf
            # One presenter: the page says what the PDF's skills section says, the direction first.
            assert view["skills_lead"] == report_pdf.common_lead([entry], "en", t)
            assert view["skills_lead"] == [t[f"{pdf_key}_all"].format(skills="Cijfer")], view["skills_lead"]
            assert view["scales"][0]["sentence"] == " ".join(report_pdf.skill_details(entry, "en", t,
                                                                                      report["thresholds"]))


def test_a_scale_without_a_known_range_is_drawn_on_the_span_of_its_values():
    from surveyhub.rendering import charts

    svg = charts.change_dumbbell([{"label": "Plugin", "pre": 12.5, "post": 14.2, "range": None, "ci": [13.1, 15.3]}],
                                 title="Change", lang="nl")
    _root, _title, desc = parse_svg(svg)
    assert "van 12,5 tot 14,2" in desc and svg.count("<circle") == 4  # legend 2, start and end 2


def test_too_few_pairs_for_tests_claim_no_direction_on_the_page_or_in_the_pdf(app, session, make_org):
    from flask_babel import force_locale

    from surveyhub.rendering import report_words as report_pdf
    from surveyhub.rendering import texts
    from surveyhub.locale import Numbers
    from surveyhub.web.outcome_format import dashboard_view

    org = make_org("Buurtwerk Zes")
    slug = new_project(app, session, org, ["rating"])
    for i, (before, after) in enumerate(zip([4, 5, 4, 6, 5, 4], [7, 8, 6, 8, 7, 7])):
        answer(app, session, slug, "pre", f"Z{i}", {("rating", "rating"): before})
        answer(app, session, slug, "post", f"Z{i}", {("rating", "rating"): after})
    report = report_for(app, session, org, slug)
    rose = report["scales"][0]
    assert rose["suppressed"] == ["tests"] and rose["change"]["mean"] > 0  # a rise, but only six pairs
    assert rose["change"]["ci95"] is None  # its interval would give the hidden test back (mean, SD, n → t)
    assert report_pdf.verdict(rose) is None
    with app.test_request_context(), force_locale("en"):
        view = dashboard_view(report, Numbers("en"), "en")
    sentence = view["scales"][0]["sentence"]
    pdf = report_pdf.summary_sentence(rose, "en", texts.REPORT["en"])
    assert pdf == [texts.REPORT["en"]["unsure"].format(skill="Cijfer", pre="4.67", post="7.17", scale_max=" out of 10")]
    # The page says what the PDF says (no direction claimed), and why the tests are missing.
    lead = view["skills_lead"]
    assert lead == report_pdf.common_lead([rose], "en", texts.REPORT["en"])
    words = " ".join(lead) + " " + sentence
    assert "4.67" in sentence and not any(word in words for word in ("grew", "clearly improved", "went down"))
    assert "need at least 10" in sentence
    assert view["tests_note"].startswith("So far at most 6 residents filled in both questionnaires. Tests and "
                                         "effect sizes need at least 10")


# --- every figure in words; what is hidden said in words; statistics folded -------------------------

def test_every_key_figure_and_row_has_words_and_the_statistics_are_folded(app, session, client_for, people,
                                                                         demo_project):
    from surveyhub.rendering import report as report_pdf

    org, slug = demo_project
    report = report_for(app, session, org, slug)
    html = client_for(people["worker"].email).get(f"/projects/{slug}/outcomes").text
    figures = re.findall(r'<li><span class="figure-value">.*?</li>', html, re.S)
    assert len(figures) >= 3 and all('class="figure-hint">' in figure for figure in figures)
    # The share who clearly improved (the report's strongest skill) says what "clearly" means.
    [share] = [figure for figure in figures if "%</span>" in figure]
    assert "duidelijk vooruit in" in share and "groter dan de meetfout" in share
    rows = re.findall(r"<tr><th scope=\"row\">[^<]*(<span class=\"row-hint\">[^<]+</span>)?</th>",
                      html.split('class="stack participation"')[1].split("</table>")[0])
    assert rows and all(rows), "a participation row without its line of words"
    # The change table explains each of its columns under it.
    change_table = html.split("<caption>Verandering van start tot eind</caption>")[1].split("</dl>")[0]
    for column in ("Aantal bewoners", "Schaal", "Start", "Eind", "Verandering", "95%-interval"):
        assert f"<dt>{column}</dt>" in change_table, column
    # Every table of figures is followed by the words that explain its columns, before the next table starts.
    tables = re.split(r"<table", html)[1:]
    with_columns = [t for t in tables if "<thead>" in t.split("</table>")[0]]
    # change, effect sizes, tests, reliable change, look-back, alpha; and per skill the exploratory groups
    exploratory = html.count('<table class="stack exploratory">')
    assert exploratory == len(report["exploratory"]["scales"]) > 0
    assert len(with_columns) == 6 + exploratory
    assert all('<dl class="figure-help">' in t.split("</table>")[1] for t in with_columns)
    # Tests, effect sizes and alpha sit behind "Details", folded until a reader opens them.
    details = re.findall(r"<details[^>]*>", html)
    assert len(details) == 3 and not [d for d in details if "open" in d]
    assert "<summary>Details: toetsen en effectgroottes</summary>" in html
    statistics = html.split("<summary>Details: toetsen en effectgroottes</summary>")[1].split("</details>")[0]
    assert "Wilcoxon" in statistics and "Holm" in statistics
    assert not DASH_CELL.search(html)
    # The quotes are the report's: each once, in the report's order.
    shown = [q.strip() for q in re.findall(r'<blockquote class="quote">(.*?)</blockquote>', html, re.S)]
    assert shown and len(shown) == len(set(shown))
    assert [html_unescape(q) for q in shown] == report_pdf.quotes(report)
    # The limitations are the report's own lines.
    assert "Wat deze cijfers niet zeggen" in html


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_once_the_worker_chooses_quotes_the_dashboard_shows_only_those(app, session, client_for, people,
                                                                       demo_project):
    from surveyhub.services import project_story

    org, slug = demo_project
    worker = access.Actor(org.id, "worker")
    choices = project_story.quote_choices(session, worker, slug)
    assert len(choices) >= 2
    picked = [choice for choice in choices if choice["chosen"]] or choices[-2:]
    for choice in choices:
        project_story.choose_quote(session, worker, slug, choice["answer_id"], chosen=choice in picked)
    session.commit()
    html = client_for(people["funder"].email).get(f"/projects/{slug}/outcomes").text
    shown = [html_unescape(q.strip()) for q in re.findall(r'<blockquote class="quote">(.*?)</blockquote>', html, re.S)]
    assert shown == [choice["text"] for choice in picked]


def test_the_projects_story_is_told_in_the_reports_words(app, session, client_for, people, demo_project):
    from datetime import date

    from surveyhub.rendering import texts
    from surveyhub.services import project_story

    org, slug = demo_project
    worker = access.Actor(org.id, "worker")
    project_story.update_story(session, worker, slug, funder_name="Fonds Buurt & Co", period_start="2026-02-01",
                               period_end="2026-10-31", meetings_held=14, volunteer_hours=1250)
    project_story.add_output(session, worker, slug, date(2026, 5, 12), "Speeltuin geopend <met feest>")
    session.commit()
    html = html_unescape(client_for(people["funder"].email).get(f"/projects/{slug}/outcomes").text)
    t = texts.REPORT["nl"]
    assert f"<h2 id=\"story\">{t['story']}</h2>" in html
    for fact in ("1 februari 2026 tot 31 oktober 2026", t["funder"].format(funder="Fonds Buurt & Co"),
                 t["meetings"].format(n="14"), t["volunteer_hours"].format(n="1.250")):
        assert fact in html, fact
    assert '<span class="output-date">12 mei 2026</span> Speeltuin geopend <met feest>' in html
    assert "/story\"" not in html  # a funder reads the story; only workers get the link to add to it


def test_a_low_alpha_is_explained_in_words(app, session, client_for, make_user, make_org):
    org = make_org("Buurtwerk Alfa")
    slug = new_project(app, session, org, ["triad"])
    # Ten residents whose three answers hang together poorly at the start: alpha 0.28, well below 0.6.
    q1 = [1, 2, 3, 1, 2, 3, 1, 2, 3, 2]
    q2 = [2, 1, 3, 1, 2, 1, 2, 3, 2, 1]
    q3 = [2, 1, 1, 1, 3, 1, 1, 1, 2, 1]
    for i in range(10):
        answer(app, session, slug, "pre", f"A{i}", {("triad", "q1"): q1[i], ("triad", "q2"): q2[i],
                                                   ("triad", "q3"): q3[i]})
        answer(app, session, slug, "post", f"A{i}", {("triad", f"q{k}"): 3 for k in (1, 2, 3)})
    report = report_for(app, session, org, slug)
    alpha = report["scales"][0]["reliability"]["pre"]["alpha"]
    assert alpha is not None and round(alpha, 2) == 0.28
    worker = client_for(make_user("worker", org).email)
    html = worker.get(f"/projects/{slug}/outcomes").text
    assert "Lees met zorg" in html
    assert (f"Let op bij Drie vragen: in de nulmeting hangen de vragen weinig samen (Cronbachs alfa {nl(alpha)}, "
            "lager dan 0,6).") in html
    english = worker.get(f"/projects/{slug}/outcomes?lang=en").text
    assert "They may not all measure the same thing." in english


def test_the_follow_up_says_whether_the_change_lasted(app, session, client_for, make_user, make_org):
    from surveyhub.rendering import report_words, texts

    org = make_org("Buurtwerk Later")
    slug = new_project(app, session, org, ["rating"])
    pre = [4, 5, 4, 6, 5, 4, 5, 6, 4, 5, 5, 4]
    post = [7, 8, 6, 8, 7, 7, 8, 8, 6, 7, 8, 7]
    later = [5, 6, 4, 6, 6, 5, 5, 6, 5, 5, 6, 5]  # most of the gain has faded
    for i in range(12):
        answer(app, session, slug, "pre", f"F{i}", {("rating", "rating"): pre[i]})
        answer(app, session, slug, "post", f"F{i}", {("rating", "rating"): post[i]})
        answer(app, session, slug, "followup", f"F{i}", {("rating", "rating"): later[i]})
    report = report_for(app, session, org, slug)
    [lasting] = report["persistence"]
    assert lasting["change"]["ci95"][1] < 0
    html = client_for(make_user("worker", org).email).get(f"/projects/{slug}/outcomes?lang=en").text
    assert "Follow-up: did the change last?" in html
    # The report's own line for "did the change last?" (one presenter), with the numbers it rests on.
    line = report_words.persistence_line(lasting, "en", texts.REPORT["en"])
    assert f"end {lasting['pre']['mean']:.2f}, follow-up {lasting['post']['mean']:.2f}" in line
    assert line in html_unescape(html)
    assert "From the start to the follow-up" in html


def test_charts_are_never_drawn_with_labels_under_12_px():
    from surveyhub.rendering import charts
    from surveyhub.web.outcome_format import chart_min_width

    svg = charts.change_dumbbell([{"label": "Plan", "pre": 2.86, "post": 3.64, "range": [1, 5], "ci": None}],
                                 title="Change", lang="nl")
    smallest = min(float(size) for size in re.findall(r'font-size="([\d.]+)"', svg))
    width = float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1))
    assert chart_min_width(svg) * smallest / width >= 12
    assert chart_min_width('<svg viewBox="0 0 600 100" font-size="10"><text font-size="8">x</text></svg>') == 900


def test_a_look_back_without_a_start_shows_only_self_perceived_change(app, session, client_for, make_user,
                                                                      make_org):
    from surveyhub.rendering import report_words, texts

    org = make_org("Buurtwerk Terug")
    slug = new_project(app, session, org, ["rating"], retrospective=True)
    for i in range(12):
        answer(app, session, slug, "post", f"T{i}", {("rating", "rating"): 7 + i % 3},
               then={("rating", "rating"): 5 + i % 2})
    report = report_for(app, session, org, slug)
    assert report["design"]["kind"] == "retrospective then-test without pretest"
    html = html_unescape(client_for(make_user("worker", org).email).get(f"/projects/{slug}/outcomes?lang=en").text)
    assert "There was no start questionnaire, so this page shows no measured change." in html
    # No measured-change figures or rows about a start questionnaire that never was: no match rate, no pairs.
    assert "Match rate" not in html and "Who changed reliably" not in html and "Details: tests" not in html
    # The look-back in its own words, the report's, never counted as clearly improved.
    [entry] = report["retrospective"]
    assert report_words.retro_line(entry, "en", texts.REPORT["en"]) in html
    look_back = html.split('id="then-test"')[1].split('id="reliability"')[0]
    assert "self-perceived change" in look_back and "clearly improved" not in look_back.lower()


def test_a_hidden_sensitivity_line_says_it_protects_the_few_not_that_too_few_are_left(app):
    from surveyhub.locale import Numbers
    from surveyhub.web.outcome_format import _sensitivity

    hidden = {"n_fuzzy": 2, "suppressed": ["sensitivity"],
              "sensitivity": {"n_pairs": 20, "change_mean": None, "d_z": None, "p": None}}
    few_left = {"n_fuzzy": 8, "suppressed": [],
                "sensitivity": {"n_pairs": 3, "change_mean": None, "d_z": None, "p": None}}
    with app.test_request_context("/?lang=en"):
        protected = _sensitivity(hidden, Numbers("en"))
        assert "it would show how those few residents changed" in protected and "too few pairs" not in protected
        assert "too few pairs are left" in _sensitivity(few_left, Numbers("en"))
