"""The outcome dashboard in a real browser, as a worker and as a funder, on a phone and on a desktop.

The demo project (30 residents, five skills, a look-back) is served by its own
live server (a copy of the demo database built once per test session), so
these tests read realistic figures without loading the demo again. Each page
must fit its width without sideways scrolling, pass axe, keep the statistics
folded behind "Details" until asked, and draw every chart label at least
12 CSS pixels high. A project below the test threshold says in words what it
shows instead of printing rows of dashes.
"""

from __future__ import annotations

import logging
import shutil
import threading

import pytest
from sqlalchemy import select

from surveyhub.services import access, accounts, projects
from tests.browser.conftest import assert_phone_friendly
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}

#: The smallest rendered size of every chart text: its font size times the chart's scale on screen.
_CHART_TEXT_SCRIPT = """() => Array.from(document.querySelectorAll('.chart-figure svg text')).map(text => {
  const scale = text.ownerSVGElement.getScreenCTM().a;
  return {text: text.textContent, px: parseFloat(getComputedStyle(text).fontSize) * scale};
})"""


#: Tables wider than their box (they would scroll sideways inside the page).
_NO_SCROLLING_TABLE_SCRIPT = """() => Array.from(document.querySelectorAll('main table'))
  .filter(table => table.scrollWidth > table.clientWidth + 1)
  .map(table => table.querySelector('caption') ? table.querySelector('caption').textContent : table.outerHTML.slice(0, 80))"""


class DemoSite:
    def __init__(self, app, url: str, slug: str, small_slug: str):
        self.app, self.url, self.slug, self.small_slug = app, url, slug, small_slug


@pytest.fixture(scope="module")
def demo_site(sqlite_demo_template, tmp_path_factory):
    """A live server on a copy of the demo database, with a worker and a funder who may see the demo project,
    and a second project with six pairs (averages shown, tests hidden)."""
    from werkzeug.serving import make_server

    from surveyhub import create_app
    from surveyhub.models import Organisation, Project
    from surveyhub.services import demo

    instance = tmp_path_factory.mktemp("dashboard-live")
    shutil.copy(sqlite_demo_template, instance / "surveyhub.sqlite3")
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "browser-tests", "PLUGINS_DIR": "",
                      "BASE_URL": "http://127.0.0.1"})
    with app.extensions["surveyhub.db"].session() as session:
        org = session.scalar(select(Organisation).where(Organisation.name == demo.DEMO_ORG))
        slug = session.scalar(select(Project.slug).where(Project.organisation_id == org.id))
        admin = access.Actor(organisation_id=org.id, role="admin")
        accounts.create_user(session, org.id, "dash-worker@demo.example", "worker", PASSWORD)
        accounts.create_user(session, org.id, "dash-funder@demo.example", "funder", PASSWORD)
        session.commit()
        projects.set_share(session, admin, slug, "dash-funder@demo.example", True)
        session.commit()
        small_slug = _small_project(app, session, admin)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="dashboard-live", daemon=True)
    thread.start()
    yield DemoSite(app, url, slug, small_slug)
    server.shutdown()
    thread.join(timeout=5)
    app.extensions["surveyhub.db"].engine.dispose()


def _small_project(app, session, admin) -> str:
    """Six residents answered the planning skill at the start and the end: below the test threshold of ten."""
    from surveyhub.plugins import get_registry
    from tests.fixtures.outcomes import answer, at_levels

    info = projects.create_project(session, get_registry(app), admin, "Kleine buurttuin", ["organising"], False)
    session.commit()
    for i, (before, after) in enumerate(zip([2, 3, 2, 3, 2, 3], [3, 4, 3, 4, 4, 4])):
        answer(app, session, info.slug, "pre", f"S{i}", at_levels(session, info.slug, {"organising": before}))
        answer(app, session, info.slug, "post", f"S{i}", at_levels(session, info.slug, {"organising": after}))
    return info.slug


def log_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda current: "/login" not in current)


def check_page(page, width: int) -> None:
    """What every dashboard page must do at ``width``: fit, be accessible, fold its details, readable charts."""
    from axe_playwright_python.sync_playwright import Axe

    if width <= 400:
        assert_phone_friendly(page, width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    details = page.locator("details")
    assert details.count() >= 1
    for i in range(details.count()):
        assert details.nth(i).get_attribute("open") is None
        assert details.nth(i).locator("summary").is_visible()
    assert not page.locator("details table").first.is_visible()  # folded: the statistics table is not shown
    small = [(t["text"], round(t["px"], 1)) for t in page.evaluate(_CHART_TEXT_SCRIPT) if t["px"] < 11.99]
    assert not small, f"chart text under 12 px at {width} px: {small[:5]}"
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("who", ["worker", "funder"])
def test_the_dashboard_fits_is_accessible_and_keeps_its_details_folded(demo_site, new_context, who, width):
    from axe_playwright_python.sync_playwright import Axe

    page = new_context(viewport={"width": width, "height": 800}).new_page()
    log_in(page, demo_site.url, f"dash-{who}@demo.example")
    page.goto(f"{demo_site.url}/projects/{demo_site.slug}/outcomes")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Resultaten")
    charts = page.locator(".chart-figure svg")
    assert charts.count() == 4
    check_page(page, width)
    # A reader opens the details and finds the tests, each column explained.
    page.get_by_text("Details: toetsen en effectgroottes").click()
    statistics = page.locator("details").first
    assert statistics.get_attribute("open") is not None and statistics.get_by_role("table", name="Toetsen").is_visible()
    assert statistics.get_by_text("Ruwe vuistregels", exact=False).is_visible()
    # Opened, every details part still fits and passes axe (its tables may not scroll sideways).
    page.get_by_text("Details: Cronbachs alfa per meting").click()
    page.get_by_text("Details: groepen naar wat bewoners deden").click()  # what seems to work, per skill
    assert page.locator("details table.exploratory").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(_NO_SCROLLING_TABLE_SCRIPT) == []
    opened = Axe().run(page, options=AXE_OPTIONS)
    assert opened.violations_count == 0, opened.generate_report()
    # Only workers may download the residents' answers.
    assert (page.get_by_role("link", name="SPSS (SAV)").count() == 1) == (who == "worker")


@pytest.mark.parametrize("width", [360, 1280])
def test_below_the_test_threshold_the_page_says_why_in_words(demo_site, new_context, width):
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    log_in(page, demo_site.url, "dash-worker@demo.example")
    page.goto(f"{demo_site.url}/projects/{demo_site.small_slug}/outcomes")
    check_page(page, width)
    page.get_by_text("Details: toetsen en effectgroottes").click()
    words = page.locator("details .words-instead").first
    assert words.is_visible()
    assert "Toetsen en effectgroottes tonen we vanaf 10 bewoners" in words.inner_text()
    cells = [text.strip() for text in page.locator("td").all_inner_texts()]
    assert "–" not in cells, "a row of dashes instead of words"
