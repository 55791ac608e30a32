"""The network pages in a real browser: on a phone and a desktop, as an admin and a funder.

Every page must fit its width without sideways scrolling, keep controls at least 44 px, and pass
axe; without JavaScript, an admin starts a network, sees the code once and lets a project count,
with ordinary forms. (axe itself needs JavaScript in the page: here it hangs in a context without it.)
"""

from __future__ import annotations

import re

import pytest

from surveyhub.services import access, accounts, networks, projects
from surveyhub.services.context import ServiceContext
from surveyhub.services.outcomes import Thresholds
from tests.browser.conftest import assert_phone_friendly, serve_site
from tests.browser.test_dashboard_browser import AXE_OPTIONS, log_in
from tests.fixtures.factories import PASSWORD
from tests.fixtures.outcomes import answer, at_levels

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(sqlite_template, tmp_path_factory):
    """Buurtwerk Noord coordinates "Samen Oost", Welzijn Zuid is a member; each with a project of 12 pairs."""
    with serve_site(sqlite_template, tmp_path_factory.mktemp("networks"), "networks-live") as live:
        from surveyhub.plugins import get_registry

        with live.db() as session:
            south = accounts.create_organisation(session, "Welzijn Zuid")
            session.flush()
            accounts.create_user(session, live.actor.organisation_id, "net-admin@example.org", "admin", PASSWORD)
            accounts.create_user(session, live.actor.organisation_id, "net-funder@example.org", "funder", PASSWORD)
            session.commit()

            def ctx(org_id: int) -> ServiceContext:
                return ServiceContext(session=session, actor=access.Actor(organisation_id=org_id, role="admin"),
                                      registry=get_registry(live.app), host=None, thresholds=Thresholds(),
                                      base_url=live.url)
            north = ctx(live.actor.organisation_id)
            info, code = networks.create(north, name="Samen Oost", area="Oost, Utrecht")
            networks.join(ctx(south.id), code)
            networks.add_viewer(north, info.slug, "net-funder@example.org")
            for org_ctx, name in ((north, "Buurttuin Noord"), (ctx(south.id), "Moestuin Zuid")):
                slug = projects.create_project(session, get_registry(live.app), org_ctx.actor, name, ["organising"],
                                               False).slug
                session.commit()
                for i in range(12):
                    answer(live.app, session, slug, "pre", f"R{i}", at_levels(session, slug, {"organising": 2}))
                    answer(live.app, session, slug, "post", f"R{i}", at_levels(session, slug, {"organising": 3 + i % 2}))
                networks.opt_in(org_ctx, info.slug, slug)
            session.commit()
        yield live


def _check(page, width: int, axe: bool = True) -> None:
    from axe_playwright_python.sync_playwright import Axe

    if width <= 400:
        assert_phone_friendly(page, width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url
    if not axe:
        return
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("width", [360, 1280])
def test_the_admins_pages_fit_and_are_accessible(site, new_context, width):
    context = new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    log_in(page, site.url, "net-admin@example.org")
    for path in ("/networks", "/networks/new", "/networks/join", "/networks/samen-oost",
                 "/networks/samen-oost/report"):
        page.goto(site.url + path)
        _check(page, width)
    assert "Welzijn Zuid" in page.get_by_role("table").first.inner_text()


def test_a_funder_let_in_reads_the_report_on_a_phone(site, new_context):
    context = new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True)
    page = context.new_page()
    log_in(page, site.url, "net-funder@example.org")
    page.goto(f"{site.url}/networks")
    _check(page, 360)
    page.get_by_role("link", name="Samen Oost").click()
    page.wait_for_url(lambda url: url.endswith("/networks/samen-oost/report"))
    page.wait_for_load_state("load")
    _check(page, 360)
    page.get_by_label("Vorig jaar", exact=False).check()
    page.get_by_role("button", name="Rapport tonen").click()
    page.wait_for_url(lambda url: "period=last_year" in url)
    page.wait_for_load_state("load")
    _check(page, 360)


def test_an_admin_starts_a_network_and_lets_a_project_count_with_plain_forms(site, new_context):
    from playwright.sync_api import expect

    context = new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    page = context.new_page()
    log_in(page, site.url, "net-admin@example.org")
    page.goto(f"{site.url}/networks/new")
    page.get_by_role("button", name="Netwerk starten").click()
    expect(page.locator(".error", has_text="Geef het netwerk een naam.")).to_be_visible()
    page.get_by_label("Naam van het netwerk").fill("Dorp Noord")
    page.get_by_label("Buurt of dorp").fill("Noorddorp")
    page.get_by_role("button", name="Netwerk starten").click()
    code = page.locator(".short-code").inner_text()
    page.wait_for_load_state("load")
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    _check(page, 360, axe=False)
    page.get_by_role("link", name="Kies de projecten die meetellen").click()
    page.get_by_role("button", name=re.compile(r"Laten meetellen\W+Buurttuin Noord")).click()
    expect(page.get_by_text("Het project telt nu mee in het netwerk.")).to_be_visible()
    assert code not in page.content()
