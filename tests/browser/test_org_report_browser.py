"""The organisation report page in a real browser: on a phone and on a desktop, as a worker and as a funder.

The page must fit its width without sideways scrolling, keep every control at least
44 px, pass axe, draw the forest plot's labels at least 12 px high, and work without
JavaScript (the page has no script): the period is chosen with an ordinary form, the PDF is started
with a POST.
"""

from __future__ import annotations

import pytest

from surveyhub.services import access, accounts, projects
from tests.browser.conftest import assert_phone_friendly, serve_site
from tests.browser.test_dashboard_browser import AXE_OPTIONS, log_in
from tests.fixtures.factories import PASSWORD
from tests.fixtures.outcomes import answer, at_levels
from tests.fixtures.clock import local_today

pytestmark = pytest.mark.browser

PRE = [2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3]
POST = [3, 4, 4, 4, 3, 5, 3, 4, 4, 3, 3, 5]

_CHART_TEXT_SCRIPT = """() => Array.from(document.querySelectorAll('.chart-figure svg text')).map(text => {
  const scale = text.ownerSVGElement.getScreenCTM().a;
  return {text: text.textContent, px: parseFloat(getComputedStyle(text).fontSize) * scale};
})"""


@pytest.fixture(scope="module")
def site(sqlite_template, tmp_path_factory):
    """Buurtwerk Noord with three projects (12, 8 and 3 pairs), a worker, and a funder who sees one project."""
    with serve_site(sqlite_template, tmp_path_factory.mktemp("org-report"), "org-report-live") as live:
        from surveyhub.plugins import get_registry

        with live.db() as session:
            org_id = live.actor.organisation_id
            slugs = []
            for name, pairs, prefix in (("Buurttuin Noord", 12, "A"), ("Speeltuin De Vlinder", 8, "B"),
                                        ("Klein project", 3, "C")):
                slug = projects.create_project(session, get_registry(live.app), live.actor, name, ["organising"],
                                               False).slug
                session.commit()
                for i in range(pairs):
                    answer(live.app, session, slug, "pre", f"{prefix}{i}",
                           at_levels(session, slug, {"organising": PRE[i]}))
                    answer(live.app, session, slug, "post", f"{prefix}{i}",
                           at_levels(session, slug, {"organising": POST[i]}))
                slugs.append(slug)
            accounts.create_user(session, org_id, "jaar-worker@example.org", "worker", PASSWORD)
            accounts.create_user(session, org_id, "jaar-funder@example.org", "funder", PASSWORD)
            accounts.create_user(session, org_id, "jaar-admin@example.org", "admin", PASSWORD)
            session.commit()
            projects.set_share(session, access.Actor(organisation_id=org_id, role="admin"), slugs[1],
                               "jaar-funder@example.org", True)
            session.commit()
        yield live


def _check(page, width: int) -> None:
    """Fits ``width`` (on a phone: 44 px targets), chart labels at least 12 px, axe finds nothing."""
    from axe_playwright_python.sync_playwright import Axe

    if width <= 400:
        assert_phone_friendly(page, width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    small = [(t["text"], round(t["px"], 1)) for t in page.evaluate(_CHART_TEXT_SCRIPT) if t["px"] < 11.99]
    assert not small, f"chart text under 12 px at {width} px: {small[:5]}"
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("who", ["worker", "funder"])
def test_the_year_report_fits_and_is_accessible(site, new_context, who, width):
    context = new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    log_in(page, site.url, f"jaar-{who}@example.org")
    page.goto(f"{site.url}/organisation/report")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Jaarverslag")
    assert page.locator("script").count() == 0  # nothing here needs JavaScript
    if who == "worker":
        assert page.locator(".chart-figure svg").count() == 1  # the forest plot of the three projects
        assert page.get_by_text("te weinig paren").count() >= 1
    else:
        assert page.get_by_text("Buurttuin Noord").count() == 0
    _check(page, width)


def test_a_wrong_date_is_marked_beside_its_field_and_the_pdf_starts_without_javascript(site, new_context):
    context = new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True)
    page = context.new_page()
    log_in(page, site.url, "jaar-worker@example.org")
    page.goto(f"{site.url}/organisation/report")
    page.get_by_label("Zelf datums kiezen").check()
    page.get_by_label("Eerste dag").fill("2026-12-31")
    page.get_by_label("Laatste dag").fill("2026-01-01")
    page.get_by_role("button", name="Rapport tonen").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").count() >= 1
    assert page.get_by_label("Laatste dag").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Eerste dag").input_value() == "2026-12-31"  # what was typed stays
    _check(page, 360)
    page.get_by_label("Dit jaar").check()
    page.get_by_role("button", name="Rapport tonen").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="PDF maken").click()
    page.wait_for_url(lambda url: "/jobs/" in url)
    assert page.get_by_role("link", name="Download").count() >= 1 or "Klaar" in page.content()


@pytest.mark.parametrize("width", [360, 1280])
def test_the_reports_made_earlier_fit_and_an_admin_revokes_one_after_confirming(site, new_context, width):
    """The list of issued reports on a phone and a desktop: each row's file and revoke controls fit, axe at 0;
    revoking asks first on a page of its own (plain forms, no script)."""
    from playwright.sync_api import expect

    context = new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    code = _issue_this_years_report(site)
    log_in(page, site.url, "jaar-admin@example.org")
    page.goto(f"{site.url}/organisation/report#issued")
    newest = page.locator("table.issued-reports tbody tr").first
    assert newest.locator("td a[href^='/verify/']").inner_text() == code
    assert newest.get_by_text("Geldig").count() == 1
    assert newest.get_by_role("button", name="Opnieuw maken").count() == 1  # no job kept its file
    _check(page, width)
    newest.get_by_label("Reden").fill("Verkeerde periode gekozen")
    newest.get_by_role("button", name="Intrekken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deze rapportage intrekken?", timeout=30_000)
    page.wait_for_load_state()
    assert page.get_by_text("Verkeerde periode gekozen").count() == 1 and page.get_by_text(code).count() == 1
    _check(page, width)
    page.get_by_role("button", name="Ja, trek de rapportage in").click()
    expect(page.get_by_text(f"Rapportage {code} is ingetrokken.", exact=False)).to_have_count(1, timeout=30_000)
    page.wait_for_load_state()
    row = page.locator("table.issued-reports tbody tr", has_text=code)
    assert row.get_by_text("Ingetrokken: Verkeerde periode gekozen").count() == 1
    assert row.get_by_role("button", name="Intrekken").count() == 0
    _check(page, width)


def _issue_this_years_report(site) -> str:
    """This year's report issued as the command line issues it (the live server runs no job consumer)."""
    from datetime import date

    from surveyhub.plugins import get_registry
    from surveyhub.services import across_documents
    from surveyhub.services.context import ServiceContext
    from surveyhub.services.outcomes import Thresholds

    year = local_today().year
    with site.db() as session:
        ctx = ServiceContext(session=session, actor=site.actor, registry=get_registry(site.app), host=None,
                             thresholds=Thresholds.from_settings(site.app.config), base_url=site.url, lang="nl")
        _pdf, code = across_documents.issue_org_report(ctx, start=date(year, 1, 1), end=date(year, 12, 31))
        session.commit()
    return code
