"""The job pages as a worker uses them: progress that refreshes itself, the file when it is done, the reasons when
something failed, the "ready" notice on staff pages, and the download.

The job states are made with ``services.jobs`` directly (no queue runs here), so each page is seen in the
state a worker would meet it in.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from surveyhub.models import JobItem, Project
from surveyhub.locale import LOCAL_TIME
from surveyhub.models._types import utcnow
from surveyhub.services import access, job_views, jobs
from surveyhub.web.jobs import attachment

RESULT = b"PK\x03\x04" + bytes(range(256)) * 17_200  # about 4,2 MB: more than one stored chunk


def actor_of(user) -> access.Actor:
    return access.Actor(organisation_id=user.organisation_id, role=user.role, user_id=user.id, email=user.email)


@pytest.fixture
def project(make_project, org_people):
    return make_project(org_people["org"], name="Speeltuin De Vlinder")


@pytest.fixture
def make_job(session, org_people, project):
    """A job of ``user`` (the worker by default) with ``n`` items, ``finished`` of them done a second apart."""
    project_id = session.scalar(select(Project.id).where(Project.slug == project.slug))

    def make(n=300, finished=0, user=None, kind="certificates.zip", title="Certificaten"):
        job, item_ids = jobs.create(session, kind=kind, keys=[f"R{i}" for i in range(n)], params={}, title=title,
                                    actor=actor_of(user or org_people["worker"]), project_id=project_id)
        session.commit()
        last = utcnow()
        for position, item_id in enumerate(item_ids[:finished]):
            claim = jobs.claim(session, item_id, "test:1", stale_seconds=120)
            jobs.finish_item(session, claim, result={"code": f"C{position}"}, output=b"pdf")
            session.execute(update(JobItem).where(JobItem.id == item_id)
                            .values(finished_at=last - timedelta(seconds=finished - 1 - position)))
        session.commit()
        return job, item_ids
    return make


def fail_items(session, item_ids, codes) -> None:
    for item_id, code in zip(item_ids, codes, strict=True):
        claim = jobs.claim(session, item_id, "test:1", stale_seconds=120)
        jobs.fail_item(session, claim, json.dumps({"msgid": "%(code)s has not finished a questionnaire yet",
                                                   "params": {"code": code}}), final=True)


def finish_with_file(session, job, name="certificaten-speeltuin-de-vlinder.zip") -> None:
    jobs.store_result(session, job.id, name=name, mime="application/zip", chunks=iter([RESULT[:1000], RESULT[1000:]]))


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_running_job_counts_estimates_the_time_left_and_refreshes_itself(client_for, org_people, make_job):
    job, _ = make_job(n=300, finished=12)  # one a second: 288 to go is about 5 minutes
    client = client_for(org_people["worker"].email)
    page = client.get(f"/jobs/{job.public_id}")
    assert page.status_code == 200
    html, text = page.text, text_of(page.text)
    assert "<h1>Certificaten</h1>" in html and "Voor het project Speeltuin De Vlinder" in text
    assert "12 van 300 certificaten gemaakt" in text
    assert re.search(r'<progress aria-labelledby="job-count" max="300" value="12">', html)
    assert "Nog ongeveer 5 minuten." in text
    assert page.headers["Refresh"] == "5"  # what <meta http-equiv="refresh"> does, and axe accepts
    assert f'href="/jobs/{job.public_id}">Ververs</a>' in html
    assert "Je mag hem ook sluiten: het werk gaat door" in text and "‘Downloads’" in text
    # The refreshing can be turned off (WCAG 2.2.1), and on again.
    assert f'href="/jobs/{job.public_id}?refresh=off">Stop met vanzelf verversen</a>' in html
    still = client.get(f"/jobs/{job.public_id}?refresh=off")
    assert "Refresh" not in still.headers and "Deze pagina ververst zichzelf nu niet." in still.text
    assert f'href="/jobs/{job.public_id}?refresh=off">Ververs</a>' in still.text
    assert f'href="/jobs/{job.public_id}">Weer vanzelf verversen</a>' in still.text


def test_the_time_left_is_guessed_only_after_a_few_items(session, org_people, make_job):
    worker = actor_of(org_people["worker"])
    two, _ = make_job(n=10, finished=2)
    assert job_views.seconds_left(session, worker, two.public_id) is None
    three, item_ids = make_job(n=10, finished=3)
    found = job_views.seconds_left(session, worker, three.public_id, now=utcnow())
    assert found is not None and 5 < found <= 7  # 7 to go at a second each
    late = job_views.seconds_left(session, worker, three.public_id, now=utcnow() + timedelta(seconds=3))
    assert late is not None and 2 < late <= 4  # the time since the last one counts as spent
    finish_with_file(session, three)
    assert job_views.seconds_left(session, worker, three.public_id) is None


def test_a_waiting_job_says_so_and_a_one_step_job_has_no_count(session, client_for, org_people, make_job):
    client = client_for(org_people["worker"].email)
    waiting, _ = make_job(n=5)
    assert "Even wachten. Het begint zo." in text_of(client.get(f"/jobs/{waiting.public_id}").text)
    report, item_ids = make_job(n=1, kind="report.pdf", title="Impactrapportage")
    jobs.claim(session, item_ids[0], "test:1", stale_seconds=120)
    page = client.get(f"/jobs/{report.public_id}").text
    assert "Wordt gemaakt…" in page and '<progress aria-labelledby="job-count"></progress>' in page
    assert "van 1" not in page
    putting_together, _ = make_job(n=2, finished=2)
    assert jobs.claim_finish(session, putting_together.id, stale_seconds=120)
    page = client.get(f"/jobs/{putting_together.public_id}").text
    assert "Alles is gemaakt. Nu wordt het samengevoegd…" in page and 'max="2" value="2"' in page


def test_a_done_job_offers_its_file_its_size_its_date_and_the_reasons_of_what_failed(
        session, client_for, org_people, make_job):
    job, item_ids = make_job(n=6, finished=4)
    fail_items(session, item_ids[4:], ["R4", "R5"])
    finish_with_file(session, job)
    page = client_for(org_people["worker"].email).get(f"/jobs/{job.public_id}")
    html, text = page.text, text_of(page.text)
    assert "Refresh" not in page.headers  # nothing changes any more
    assert "Klaar: 4 certificaten gemaakt." in text
    assert f'href="/jobs/{job.public_id}/download"' in html
    assert "Download certificaten-speeltuin-de-vlinder.zip , 4,2 MB" in text
    expires = job_views.view(session, actor_of(org_people["worker"]), job.public_id).expires_at
    months = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
              "oktober", "november", "december"]
    local = expires.astimezone(LOCAL_TIME)
    assert f"Beschikbaar tot {local.day} {months[local.month - 1]} {local.year}." in text
    assert "Dit lukte niet voor 2 delen:" in text
    assert "R4 heeft nog geen vragenlijst afgerond." in text and "R5 heeft nog geen vragenlijst afgerond." in text


def test_a_failed_job_says_what_went_wrong_and_what_to_do(session, client_for, org_people, make_job):
    job, item_ids = make_job(n=2)
    fail_items(session, item_ids, ["R0", "R1"])
    jobs.fail(session, job.id, "Nothing could be made; see the reasons below.")
    page = client_for(org_people["worker"].email).get(f"/jobs/{job.public_id}")
    html, text = page.text, text_of(page.text)
    assert "Refresh" not in page.headers
    assert re.search(r'role="alert">\s*<p>Er kon niets gemaakt worden. Hieronder staat waarom.</p>', html)
    assert "Probeer het opnieuw vanaf de pagina van het project." in text
    assert "R0 heeft nog geen vragenlijst afgerond." in text
    assert "/download" not in html


def test_the_ready_notice_shows_on_staff_pages_until_the_job_is_opened(session, client_for, org_people, make_job,
                                                                      make_participant, project):
    worker = client_for(org_people["worker"].email)
    running, _ = make_job(n=3, finished=1)
    done, _ = make_job(n=1, finished=1)
    finish_with_file(session, done)
    page = worker.get("/").text
    notice = re.search(r'<div class="job-notice" role="status">(.*?)</div>', page, re.S)
    assert notice, "no notice on the dashboard"
    assert text_of(notice.group(1)).strip() == "Je certificaten zijn klaar — Download"
    assert f'href="/jobs/{done.public_id}"' in notice.group(1) and running.public_id not in page
    # Not for someone else (the admin sees the job, but it is not theirs), not on public pages.
    assert "job-notice" not in client_for(org_people["admin"].email).get("/").text
    assert "job-notice" not in worker.get("/verify").text
    resident = make_participant(org_people["org"], project.slug)
    assert "job-notice" not in worker.get(f"/q/{resident.token}").text
    # Opening the job marks it seen: the notice goes.
    assert worker.get(f"/jobs/{done.public_id}").status_code == 200
    assert "job-notice" not in worker.get("/").text


def test_a_failed_job_is_announced_too(session, client_for, org_people, make_job):
    job, item_ids = make_job(n=1, title="Certificaten voor de buurt")
    fail_items(session, item_ids, ["R0"])
    jobs.fail(session, job.id, "Nothing could be made; see the reasons below.")
    page = client_for(org_people["worker"].email).get("/").text
    assert "Dit is niet gelukt: Certificaten voor de buurt — Bekijk" in text_of(page)


def test_the_download_streams_the_file_under_a_name_every_browser_reads(session, client_for, org_people, make_job):
    job, _ = make_job(n=1, finished=1)
    finish_with_file(session, job, name='certificaten-Zoë "Çelik"\r\nSet-Cookie: x.zip')
    response = client_for(org_people["worker"].email).get(f"/jobs/{job.public_id}/download")
    assert response.status_code == 200 and response.data == RESULT
    assert response.headers["Content-Length"] == str(len(RESULT))
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "Set-Cookie" not in response.headers
    assert disposition.startswith('attachment; filename="certificaten-Zoe _Celik___Set-Cookie_ x.zip"')
    assert "filename*=UTF-8''certificaten-Zo%C3%AB%20%22%C3%87elik%22__Set-Cookie%3A%20x.zip" in disposition


def test_a_plain_name_needs_no_second_form():
    assert attachment("certificaten-speeltuin.zip") == 'attachment; filename="certificaten-speeltuin.zip"'
    assert attachment("../../etc/passwd") == ('attachment; filename="_.._etc_passwd"; '
                                              "filename*=UTF-8''.._.._etc_passwd")
    assert attachment("شهادات.zip").startswith('attachment; filename="zip"; filename*=UTF-8\'\'%D8%B4')


def test_a_job_is_seen_only_by_its_starter_and_the_admins_of_their_organisation(
        session, client_for, org_people, make_job, make_user, make_org):
    job, _ = make_job(n=1, finished=1)
    finish_with_file(session, job)
    assert client_for(org_people["admin"].email).get(f"/jobs/{job.public_id}").status_code == 200
    others = [make_user("worker", org_people["org"]), org_people["funder"], make_user("admin", make_org("Elders"))]
    for other in others:
        client = client_for(other.email)
        for path in (f"/jobs/{job.public_id}", f"/jobs/{job.public_id}/download"):
            assert client.get(path).status_code == 404, (other.role, path)
        assert job.public_id not in client.get("/jobs").text
    # The admin opening it does not count as the worker having seen it.
    assert "job-notice" in client_for(org_people["worker"].email).get("/").text


def test_downloads_lists_the_users_jobs_newest_first_with_their_state(session, client_for, org_people, make_job):
    older, _ = make_job(n=1, finished=1, title="Oud werk")
    finish_with_file(session, older)
    newer, _ = make_job(n=4, finished=1, title="Nieuw werk")
    html = client_for(org_people["worker"].email).get("/jobs").text
    text = text_of(html)
    assert '<a href="/jobs">Downloads</a>' in html  # in the menu
    assert text.index("Nieuw werk") < text.index("Oud werk")
    assert "Nieuw werk Wordt gemaakt Voor het project Speeltuin De Vlinder · Gestart op" in text
    assert "Oud werk Klaar om te downloaden" in text
    assert "certificaten-speeltuin-de-vlinder.zip, 4,2 MB" in text
    admin_list = client_for(org_people["admin"].email).get("/jobs").text  # an admin sees the organisation's
    assert newer.public_id in admin_list and older.public_id in admin_list
    # ... and who started each; the worker's own list needs no name
    starter = org_people["worker"].name or org_people["worker"].email
    assert f"door {starter}" in text_of(admin_list) and "door " not in text


def test_downloads_says_what_it_is_for_when_empty(client_for, org_people):
    text = text_of(client_for(org_people["worker"].email).get("/jobs").text)
    assert "Nog niets. Laat je iets maken dat even duurt" in text


def test_the_notice_never_breaks_the_page_it_is_on(client_for, org_people, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT", {}, Exception("the database went away"))
    monkeypatch.setattr(job_views, "unseen_ready", broken)
    page = client_for(org_people["worker"].email).get("/")
    assert page.status_code == 200 and "job-notice" not in page.text
