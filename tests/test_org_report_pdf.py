"""The organisation's year report as a PDF: every figure the JSON's, registered and checkable, hostile names inert.

Reports are made through the services (``org_report.build`` and
``across_documents``), on projects whose residents answered through the response
services: three projects of one organisation, one of them too small to show.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import select

from surveyhub.locale import Numbers, translate
from surveyhub.models import Document
from surveyhub.plugins import get_registry
from surveyhub.services import access, across_documents, org_report
from surveyhub.services import documents as docs
from surveyhub.services.context import ServiceContext
from surveyhub.services.outcomes import Thresholds
from tests.fixtures.documents import BASE_URL, FetchLog, page_png, pdf_reader, pdf_text
from tests.fixtures.factories import csrf_token
from tests.fixtures.outcomes import answer, at_levels
from tests.fixtures.clock import local_today

#: Start and end levels per resident: varied, so every project's change has a spread and an interval.
PRE = [2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3]
POST = [3, 4, 4, 4, 3, 5, 3, 4, 4, 3, 3, 5]


def this_year() -> tuple[date, date]:
    today = local_today()
    return date(today.year, 1, 1), date(today.year, 12, 31)


def answered_project(app, session, org, make_project, name: str, pairs: int, prefix: str) -> str:
    """A project on the planning skill where ``pairs`` residents answered at the start and at the end."""
    slug = make_project(org, name).slug
    for i in range(pairs):
        answer(app, session, slug, "pre", f"{prefix}{i}", at_levels(session, slug, {"organising": PRE[i % 12]}))
        answer(app, session, slug, "post", f"{prefix}{i}", at_levels(session, slug, {"organising": POST[i % 12]}))
    return slug


@pytest.fixture
def three_projects(app, session, make_org, make_project):
    """Buurtwerk Noord: 12 pairs in the garden, 8 in the playground, 3 in a small project (hidden everywhere)."""
    org = make_org("Buurtwerk Noord")
    slugs = [answered_project(app, session, org, make_project, "Buurttuin", 12, "A"),
             answered_project(app, session, org, make_project, "Speeltuin", 8, "B"),
             answered_project(app, session, org, make_project, "Klein project", 3, "C")]
    return org, slugs


def context_for(app, session, org, role: str = "admin", user_id: int | None = None, lang: str = "nl"):
    return ServiceContext(session=session, actor=access.Actor(organisation_id=org.id, role=role, user_id=user_id),
                          registry=get_registry(app), host=None, thresholds=Thresholds.from_settings(app.config),
                          base_url=BASE_URL, lang=lang)


def test_every_figure_in_the_pdf_is_the_jsons(app, session, three_projects):
    org, _slugs = three_projects
    ctx = context_for(app, session, org)
    start, end = this_year()
    report = org_report.build(ctx, start=start, end=end)
    pdf, code = across_documents.issue_org_report(ctx, start=start, end=end)
    session.commit()
    text = pdf_text(pdf)
    n = Numbers("nl")

    assert "Impactrapportage van de organisatie" in text and "Buurtwerk Noord" in text
    assert f"1 januari {start.year} tot 31 december {end.year}" in text
    totals = report["totals"]
    assert totals["residents"] == 23 and totals["projects"] == 3
    assert f"{totals['residents']}bewonersdedenmee" in text.replace(" ", "")  # the figure, then its label
    for row in report["projects"]:
        assert row["name"] in text
        assert f"{row['residents']} bewoners" in text
    [entry] = report["scales"]
    assert entry["projects"] == 2 and entry["projects_too_small"] == 1 and entry["n_pairs"] == 20
    assert f"2 projecten samen: {entry['n_pairs']} bewoners met een begin en een eind." in text
    assert f"Van gemiddeld {n.number(entry['pre']['mean'])} naar {n.number(entry['post']['mean'])} op 5." in text
    lo, hi = entry["change"]["ci95"]
    assert f"tussen {n.number(lo)} en {n.number(hi)}" in text
    # The forest plot's words (its alternative text is in the PDF's structure; its labels are drawn text).
    forest = {row["name"] or "pooled": row for row in entry["forest"]}
    assert forest["Klein project"]["mean"] is None and "te weinig paren" in text
    for name in ("Buurttuin", "Speeltuin", "pooled"):
        row = forest[name]
        figure = n.signed(row["mean"])
        if row["ci95"]:  # 8 pairs: a mean, but no interval below the test threshold
            figure += f" ({n.number(row['ci95'][0])} tot {n.number(row['ci95'][1])})"
        assert figure in text, (name, figure)
    assert forest["Buurttuin"]["ci95"] and forest["pooled"]["ci95"] and forest["Speeltuin"]["ci95"] is None
    assert "1 project had minder dan 5 bewoners met een begin en een eind" in text
    # The small project's own figures are nowhere: not its mean change, which only its three pairs make.
    assert code in text and f"{BASE_URL}/verify/{code}" in text.replace(" ", "")


def test_the_pdf_is_registered_checkable_and_reused_while_nothing_changes(app, session, client, three_projects):
    org, _slugs = three_projects
    ctx = context_for(app, session, org)
    start, end = this_year()
    pdf, code = across_documents.issue_org_report(ctx, start=start, end=end)
    session.commit()
    doc = session.scalar(select(Document).where(Document.code == code))
    assert (doc.kind, doc.organisation_id, doc.project_id, doc.network_id) == ("org_report", org.id, None, None)
    assert docs.verify_file(session, pdf).status == "genuine"
    session.rollback()

    page = client.get("/verify")
    checked = client.post("/verify", data={"csrf_token": csrf_token(page.text),
                                           "file": (io.BytesIO(pdf), "jaarverslag.pdf")},
                          content_type="multipart/form-data")
    assert checked.status_code == 200 and 'data-status="genuine"' in checked.text
    assert "Impactrapportage van de organisatie" in checked.text

    again, same_code = across_documents.issue_org_report(ctx, start=start, end=end)
    session.commit()
    assert (same_code, again) == (code, pdf)  # the same report, handed out again under its own code
    other, new_code = across_documents.issue_org_report(ctx, start=start, end=end, lang="en")
    session.commit()
    assert new_code != code and "Impact report of the organisation" in pdf_text(other)
    assert session.scalar(select(Document.kind).where(Document.code == new_code)) == "org_report"


def test_hostile_and_long_names_stay_text_and_wrap(app, session, make_org, make_project, monkeypatch, tmp_path):
    hostile = '<script>alert(1)</script><img src="file:///etc/passwd">'
    long_name = "Buurtinitiatief " + "Heel-lang-woord-zonder-spaties" * 6
    org = make_org(hostile)
    answered_project(app, session, org, make_project, long_name, 6, "L")
    answered_project(app, session, org, make_project, "url(http://169.254.169.254/) <b>vet</b>", 6, "M")
    fetched = FetchLog(monkeypatch)
    ctx = context_for(app, session, org)
    start, end = this_year()
    pdf, _code = across_documents.issue_org_report(ctx, start=start, end=end)
    session.commit()
    text = pdf_text(pdf).replace(" ", "")
    assert "<script>alert(1)</script>" in text and "<b>vet</b>" in text
    assert "Heel-lang-woord-zonder-spaties" * 3 in text.replace("\n", "")
    assert not fetched.forbidden(), fetched.forbidden()
    # Wrapped, not cut off: nothing is drawn in the outer 12 mm of any page (the margins are 20 mm), below the
    # cover's 9 mm band in the brand colour.
    mm = 30 / 25.4
    for number in range(1, len(pdf_reader(pdf).pages) + 1):
        image = page_png(pdf, tmp_path, page=number, dpi=30)
        strip = image.crop((image.width - round(12 * mm), round(13 * mm), image.width, image.height))
        assert strip.getextrema() == ((255, 255), (255, 255), (255, 255)), f"page {number} runs over its edge"


def test_a_funders_pdf_holds_only_the_projects_shared_with_them(app, session, make_user, three_projects):
    org, slugs = three_projects
    funder = make_user("funder", org)
    admin = access.Actor(organisation_id=org.id, role="admin")
    from surveyhub.services import projects

    projects.set_share(session, admin, slugs[1], funder.email, True)
    session.commit()
    ctx = context_for(app, session, org, role="funder", user_id=funder.id)
    start, end = this_year()
    pdf, _code = across_documents.issue_org_report(ctx, start=start, end=end)
    session.commit()
    text = pdf_text(pdf)
    assert "Speeltuin" in text and "Buurttuin" not in text and "Klein project" not in text
    assert "8bewonersdedenmee" in text.replace(" ", "")


def test_the_english_pdf_reads_english(app, session, three_projects):
    org, _slugs = three_projects
    ctx = context_for(app, session, org, lang="en")
    start, end = this_year()
    report = org_report.build(ctx, start=start, end=end)
    pdf, _code = across_documents.issue_org_report(ctx, start=start, end=end, lang="en")
    text = pdf_text(pdf)
    [entry] = report["scales"]
    n = Numbers("en")
    assert "What was done" in text and "What it brought residents" in text
    assert f"January 1, {start.year}" in text or f"1 January {start.year}" in text
    assert f"From an average of {n.number(entry['pre']['mean'])}" in text or n.number(entry["pre"]["mean"]) in text
    assert translate(entry["title"], "en") in text


def test_the_network_pdf_shows_organisations_side_by_side_and_no_project(app, session, make_org, make_project):
    """The network report (``services.network_report``) as a PDF: totals per organisation and together, the
    pooled change, no project names and no quotes; registered with its network."""
    from surveyhub.models import Network
    from surveyhub.services import network_report, networks

    north, south = make_org("Buurtwerk Noord"), make_org("Welzijn Zuid")
    garden = answered_project(app, session, north, make_project, "Buurttuin", 12, "N")
    square = answered_project(app, session, south, make_project, "Pleinproject", 12, "S")
    ctx_north, ctx_south = context_for(app, session, north), context_for(app, session, south)
    info, code = networks.create(ctx_north, name="Samen Kanaleneiland", area="Kanaleneiland, Utrecht")
    networks.join(ctx_south, code)
    networks.opt_in(ctx_north, info.slug, garden)
    networks.opt_in(ctx_south, info.slug, square)
    session.commit()
    start, end = this_year()
    report = network_report.report(ctx_south, info.slug, start=start, end=end)
    pdf, doc_code = across_documents.issue_network_report(ctx_south, info.slug, start=start, end=end)
    session.commit()
    text = pdf_text(pdf)
    squeezed = text.replace(" ", "")
    assert "Impactrapportage van het buurtnetwerk" in text and "Samen Kanaleneiland" in text
    assert "Kanaleneiland, Utrecht" in text and "De organisaties naast elkaar" in text
    for member in report["organisations"]:
        assert member["name"] in text
        assert f"{member['name']}{member['projects']}{member['residents']}".replace(" ", "") in squeezed
    assert f"Samen{report['totals']['projects']}{report['totals']['residents']}" in squeezed
    assert "Buurttuin" not in text and "Pleinproject" not in text  # no project leaves its organisation
    assert "Wat bewoners zeggen" not in text
    [entry] = report["scales"]
    n = Numbers("nl")
    assert f"Van gemiddeld {n.number(entry['pre']['mean'])} naar {n.number(entry['post']['mean'])} op 5." in text
    doc = session.scalar(select(Document).where(Document.code == doc_code))
    network_id = session.scalar(select(Network.id).where(Network.slug == info.slug))
    assert (doc.kind, doc.organisation_id, doc.network_id) == ("network_report", south.id, network_id)
    assert docs.verify_file(session, pdf).status == "genuine"


def test_another_organisations_report_does_not_make_ours_look_outdated(app, session, make_org, make_project):
    """The check page says "a newer version exists" only for a newer report of the same organisation and period."""
    north, south = make_org("Buurtwerk Noord"), make_org("Welzijn Zuid")
    slug = answered_project(app, session, north, make_project, "Buurttuin", 6, "N")
    answered_project(app, session, south, make_project, "Pleinproject", 6, "S")
    start, end = this_year()
    _pdf, ours = across_documents.issue_org_report(context_for(app, session, north), start=start, end=end)
    across_documents.issue_org_report(context_for(app, session, south), start=start, end=end)
    across_documents.issue_org_report(context_for(app, session, north), start=date(start.year - 1, 1, 1),
                                      end=date(start.year - 1, 12, 31))
    session.commit()
    assert docs.verify_code(session, ours).document.superseded is False
    answer(app, session, slug, "pre", "N9", at_levels(session, slug, {"organising": 2}))  # the data changed
    _pdf, newer = across_documents.issue_org_report(context_for(app, session, north), start=start, end=end)
    session.commit()
    assert newer != ours and docs.verify_code(session, ours).document.superseded is True


def test_a_short_form_and_a_full_form_of_one_version_pool_without_breaking(app, session, make_org, make_project):
    """Residents of a short-form project answered fewer statements: the change is pooled (same version), the
    report is made, and no reliability is computed over rows of different statements."""
    from surveyhub.plugins import get_registry
    from surveyhub.services import projects
    from surveyhub.services.project_form import Setup

    org = make_org("Buurtwerk Noord")
    answered_project(app, session, org, make_project, "Buurttuin", 12, "F")
    short = projects.create_project(session, get_registry(app), access.Actor(organisation_id=org.id, role="admin"),
                                    "Korte vragenlijst", ["organising"], setup=Setup(form_length="short")).slug
    session.commit()
    for i in range(12):
        answer(app, session, short, "pre", f"S{i}", at_levels(session, short, {"organising": PRE[i]}))
        answer(app, session, short, "post", f"S{i}", at_levels(session, short, {"organising": POST[i]}))
    ctx = context_for(app, session, org)
    start, end = this_year()
    report = org_report.build(ctx, start=start, end=end)
    [entry] = report["scales"]
    assert entry["projects"] == 2 and entry["n_pairs"] == 24
    pdf, _code = across_documents.issue_org_report(ctx, start=start, end=end)
    assert "Korte vragenlijst" in pdf_text(pdf)


def test_a_forest_too_long_for_the_page_says_how_many_projects_it_leaves_out(app, session, three_projects,
                                                                             monkeypatch):
    from surveyhub.rendering import across_report

    monkeypatch.setattr(across_report, "MAX_FOREST_ROWS", 2)
    org, _slugs = three_projects
    ctx = context_for(app, session, org)
    start, end = this_year()
    pdf, _code = across_documents.issue_org_report(ctx, start=start, end=end)
    text = pdf_text(pdf)
    assert "Nog 1 project staat niet in de grafiek." in text
    # The chart's drawn words come right before the note: the first two projects by name, and the total.
    chart = text.split("verandering van de gemiddelde score", 1)[1].split("Nog 1 project staat", 1)[0]
    assert "Buurttuin" in chart and "Klein project" in chart and "Speeltuin" not in chart
    assert "Alle projecten samen" in chart
