"""A job's page in a real browser: it follows the job by itself with JavaScript off, fits a phone, and passes axe."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from surveyhub.models import Project
from surveyhub.services import access, accounts, jobs
from surveyhub.web import jobs as job_pages
from tests.browser.conftest import assert_phone_friendly
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture
def worker(live):
    with live.db() as session:
        user = accounts.create_user(session, live.actor.organisation_id, f"jobs-{uuid.uuid4().hex[:8]}@noord.example",
                                    "worker", PASSWORD)
        session.commit()
    return user


@pytest.fixture
def make_job(live, worker):
    """A certificates job of ``worker`` for a new project, with ``finished`` of its ``n`` items done."""
    project = live.project()
    project_id = live.scalar(select(Project.id).where(Project.slug == project.slug))
    actor = access.Actor(organisation_id=worker.organisation_id, role="worker", user_id=worker.id)

    def make(n=300, finished=0):
        with live.db() as session:
            job, item_ids = jobs.create(session, kind="certificates.zip", keys=[f"R{i}" for i in range(n)],
                                        params={}, title=f"Certificaten — {project.name}", actor=actor,
                                        project_id=project_id)
            session.commit()
            for item_id in item_ids[:finished]:
                jobs.finish_item(session, jobs.claim(session, item_id, "test:1", stale_seconds=120))
        return job, item_ids
    return make


def finish_all(live, job, item_ids, name="certificaten-een-heel-lange-naam-van-een-speeltuin-in-de-buurt.zip"):
    with live.db() as session:
        for item_id in item_ids:
            claim = jobs.claim(session, item_id, "test:1", stale_seconds=120)
            if claim is not None:
                jobs.finish_item(session, claim)
        jobs.store_result(session, job.id, name=name, mime="application/zip", chunks=iter([b"x" * 4_400_000]))


def log_in(page, live, user) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mailadres").fill(user.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(f"{live.url}/")


def check_axe(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.response["passes"], "axe checked nothing"
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("width", [360, 1280])
def test_running_and_done_job_pages_fit_and_pass_axe(live, new_context, worker, make_job, monkeypatch, width):
    monkeypatch.setattr(job_pages, "REFRESH_SECONDS", 600)  # the page must hold still while it is checked
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    log_in(page, live, worker)
    job, item_ids = make_job(n=300, finished=12)
    page.goto(f"{live.url}/jobs/{job.public_id}")
    assert page.get_by_text("12 van 300 certificaten gemaakt").is_visible()
    if width == 360:
        assert_phone_friendly(page, width)
    check_axe(page)
    finish_all(live, job, item_ids)
    page.goto(f"{live.url}/jobs/{job.public_id}")
    button = page.get_by_role("link", name="Download certificaten-")
    assert button.is_visible() and "4,2 MB" in button.inner_text()
    if width == 360:
        assert_phone_friendly(page, width)
    check_axe(page)


def test_the_page_follows_the_job_by_itself_without_javascript(live, new_context, worker, make_job, monkeypatch):
    from playwright.sync_api import expect

    monkeypatch.setattr(job_pages, "REFRESH_SECONDS", 1)
    page = new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False).new_page()
    log_in(page, live, worker)
    job, item_ids = make_job(n=3, finished=1)
    page.goto(f"{live.url}/jobs/{job.public_id}")
    expect(page.get_by_text("1 van 3 certificaten gemaakt")).to_be_visible()
    finish_all(live, job, item_ids, name="certificaten.zip")
    expect(page.get_by_text("Klaar: 3 certificaten gemaakt.")).to_be_visible(timeout=30_000)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download certificaten.zip").click()
    assert download.value.suggested_filename == "certificaten.zip"


def test_the_ready_notice_on_a_phone(live, new_context, worker, make_job):
    page = new_context(viewport={"width": 360, "height": 740}).new_page()
    log_in(page, live, worker)
    job, item_ids = make_job(n=2)
    finish_all(live, job, item_ids)
    page.goto(f"{live.url}/")
    notice = page.get_by_role("status").filter(has_text="Je certificaten zijn klaar")
    assert notice.is_visible()
    assert_phone_friendly(page, 360)
    check_axe(page)
    notice.get_by_role("link", name="Download").click()
    page.wait_for_url(f"{live.url}/jobs/{job.public_id}")
    page.goto(f"{live.url}/")
    assert page.locator(".job-notice").count() == 0
