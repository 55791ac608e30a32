"""The pages "Activiteiten" as a worker uses them, through the test client, on both backends.

Record an activity with residents and roles, see the list and each resident's profile, "the same
residents as last time", change and delete one; a second click records nothing; mistakes are
shown beside the form in Dutch with what was typed kept; funders and other organisations find nothing.
"""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from surveyhub.models import Activity, ActivityParticipant
from surveyhub.services import access, activities
from tests.fixtures.factories import csrf_token
from tests.test_activities import context
from tests.fixtures.clock import local_today

TODAY = date.today()


@pytest.fixture
def place(app, session, make_org, make_user, make_project, make_participant, client_for):
    org = make_org("Buurtwerk Pagina")
    slug = make_project(org, "Speeltuin De Vlinder").slug
    codes = {name: make_participant(org, slug, name).code for name in ("Anna de Vries", "Bram", "Cas")}
    worker = make_user("worker", org)
    funder = make_user("funder", org)
    admin = access.Actor(organisation_id=org.id, role="admin")
    from surveyhub.services import projects
    projects.set_share(session, admin, slug, funder.email, True)
    session.commit()
    return {"org": org, "slug": slug, "codes": codes, "worker": client_for(worker.email),
            "funder": client_for(funder.email), "base": f"/projects/{slug}/activities"}


def text_of(page) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


def nonce(page) -> str:
    return re.search(r'name="nonce" value="([^"]*)"', page.text).group(1)


def form_data(page, **fields) -> dict:
    data = {"csrf_token": csrf_token(page.text), "nonce": nonce(page), "happened_on": TODAY.isoformat(),
            "kind": "meeting", "hours": "2", "title": ""}
    data.update(fields)
    return data


def counts(session) -> tuple[int, int]:
    session.expire_all()
    found = (session.scalar(select(func.count()).select_from(Activity)),
             session.scalar(select(func.count()).select_from(ActivityParticipant)))
    session.commit()
    return found


def test_a_worker_records_an_activity_and_sees_it_with_each_residents_profile(session, place):
    worker, base, c = place["worker"], place["base"], place["codes"]
    empty = worker.get(base)
    assert empty.status_code == 200 and "Nog geen activiteiten vastgelegd." in text_of(empty)
    assert f'href="{base}/new"' in empty.text and "Activiteit vastleggen" in empty.text

    form = worker.get(f"{base}/new")
    assert form.status_code == 200
    # Today on the installation's clock: past 23:00 UTC that is already tomorrow in Amsterdam.
    assert f'name="happened_on" value="{local_today().isoformat()}"' in form.text
    assert re.search(r'value="meeting" checked', form.text) and 'name="hours" value="2"' in form.text
    assert "Dezelfde bewoners als de vorige keer" not in form.text  # nothing recorded before
    assert "<script" not in form.text  # works without JavaScript
    for name in c:
        assert html.escape(name) in form.text
    data = form_data(form, kind="workday", hours="3,5", title="Bouwdag speeltuin",
                     resident=[c["Anna de Vries"], c["Bram"]], **{f"role:{c['Anna de Vries']}": "organiser",
                                                                  f"role:{c['Bram']}": "participant",
                                                                  f"role:{c['Cas']}": "chair"})
    saved = worker.post(f"{base}/new", data=data)
    assert saved.status_code == 302 and saved.headers["Location"] == base
    page = worker.get(base)
    shown = text_of(page)
    assert "Activiteit vastgelegd: 2 bewoners" in shown
    assert "Bouwdag speeltuin" in shown and "Werkdag" in shown and "3,5 uur" in shown
    assert "1 activiteit" in shown and "2 bewoners deden mee" in shown
    profile = page.text[page.text.index('id="profile"'):]
    assert "Anna de Vries" in profile and "Organisator" in profile and "Cas" not in profile
    assert counts(session) == (1, 2)


def test_a_second_click_on_save_records_the_activity_once(session, place):
    worker, base, c = place["worker"], place["base"], place["codes"]
    data = form_data(worker.get(f"{base}/new"), resident=[c["Bram"]])
    first, second = worker.post(f"{base}/new", data=data), worker.post(f"{base}/new", data=data)
    assert first.status_code == second.status_code == 302
    assert counts(session) == (1, 1)
    other = form_data(worker.get(f"{base}/new"), resident=[c["Bram"]])  # a new form: a new activity
    assert other["nonce"] != data["nonce"]
    worker.post(f"{base}/new", data=other)
    assert counts(session) == (2, 2)


def test_the_same_residents_as_last_time_are_ticked_with_their_roles(session, place):
    worker, base, c = place["worker"], place["base"], place["codes"]
    worker.post(f"{base}/new", data=form_data(worker.get(f"{base}/new"), resident=[c["Anna de Vries"], c["Cas"]],
                                              **{f"role:{c['Cas']}": "volunteer"}))
    fresh = worker.get(f"{base}/new")
    assert "Dezelfde bewoners als de vorige keer" in fresh.text
    assert len(re.findall(r'name="resident" value="[^"]+" checked', fresh.text)) == 0
    same = worker.get(f"{base}/new?same=1")
    ticked = re.findall(r'name="resident" value="([^"]+)" checked', same.text)
    assert sorted(ticked) == sorted([c["Anna de Vries"], c["Cas"]])
    cas_select = re.search(rf'name="role:{c["Cas"]}".*?</select>', same.text, re.S).group(0)
    assert 'value="volunteer" selected' in cas_select


def test_a_worker_changes_and_deletes_an_activity_after_being_asked(app, session, place):
    worker, base, c = place["worker"], place["base"], place["codes"]
    ctx = context(app, session, place["org"].id)
    made = activities.record(ctx, place["slug"], happened_on=TODAY, kind="meeting", hours=2, title="Overleg",
                             participants=[(c["Bram"], "chair", None)])
    session.commit()
    edit = worker.get(f"{base}/{made['id']}/edit")
    assert edit.status_code == 200 and 'value="Overleg"' in edit.text
    assert re.search(rf'name="resident" value="{c["Bram"]}" checked', edit.text)
    changed = worker.post(f"{base}/{made['id']}/edit", data=form_data(
        edit, title="Overleg met gemeente", hours="1.5", resident=[c["Bram"], c["Cas"]],
        **{f"role:{c['Bram']}": "chair", f"role:{c['Cas']}": "participant"}))
    assert changed.status_code == 302
    assert "Activiteit opgeslagen: 2 bewoners" in text_of(worker.get(base))
    assert activities.detail(ctx, place["slug"], made["id"])["title"] == "Overleg met gemeente"
    session.commit()

    ask = worker.get(f"{base}/{made['id']}/delete")
    assert ask.status_code == 200 and "Deze activiteit verwijderen?" in text_of(ask)
    assert counts(session) == (1, 2)  # asking deletes nothing
    token = csrf_token(ask.text)
    assert worker.post(f"{base}/{made['id']}/delete", data={"csrf_token": token}).status_code == 302
    assert "Activiteit verwijderd." in text_of(worker.get(base)) and counts(session) == (0, 0)
    worker.post(f"{base}/{made['id']}/delete", data={"csrf_token": token})
    assert "Deze activiteit was al verwijderd." in text_of(worker.get(base))


def test_mistakes_are_shown_in_dutch_beside_the_form_with_what_was_typed_kept(session, place):
    worker, base, c = place["worker"], place["base"], place["codes"]
    page = worker.post(f"{base}/new", data=form_data(worker.get(f"{base}/new"), happened_on="", hours="25",
                                                     title="Buurtfeest", resident=[c["Cas"]],
                                                     **{f"role:{c['Cas']}": "organiser"}))
    assert page.status_code == 400
    shown = text_of(page)
    assert "Nog niet opgeslagen" in shown and "Kies de datum van de activiteit." in shown
    assert "het aantal uur moet van 0 tot 24 zijn" in shown
    assert 'value="Buurtfeest"' in page.text and 'name="hours" value="25"' in page.text
    assert re.search(rf'name="resident" value="{c["Cas"]}" checked', page.text)
    assert 'value="organiser" selected' in re.search(rf'name="role:{c["Cas"]}".*?</select>', page.text, re.S).group(0)
    future = worker.post(f"{base}/new", data=form_data(worker.get(f"{base}/new"),
                                                       happened_on=(TODAY + timedelta(days=9)).isoformat()))
    assert future.status_code == 400 and "ligt in de toekomst" in text_of(future)
    assert counts(session) == (0, 0)


def test_a_title_with_markup_is_shown_as_text(session, place):
    worker, base = place["worker"], place["base"]
    hostile = '<img src=x onerror=alert(1)><script>alert(2)</script>'
    worker.post(f"{base}/new", data=form_data(worker.get(f"{base}/new"), title=hostile))
    page = worker.get(base)
    assert "<img src=x" not in page.text and "<script>alert" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text


def test_a_forged_form_stores_nothing(session, place):
    data = form_data(place["worker"].get(f"{place['base']}/new"))
    data["csrf_token"] = "forged"
    assert place["worker"].post(f"{place['base']}/new", data=data).status_code == 400
    assert counts(session) == (0, 0)


def test_funders_other_organisations_and_other_projects_find_nothing(
        app, session, place, make_org, make_user, make_project, client_for):
    base, c = place["base"], place["codes"]
    made = activities.record(context(app, session, place["org"].id), place["slug"], happened_on=TODAY,
                             kind="event", hours=2, participants=[(c["Bram"], None, None)])
    session.commit()
    stranger = make_org("Welzijn Zuid")
    stranger_admin = client_for(make_user("admin", stranger).email)
    urls = [base, f"{base}/new", f"{base}/{made['id']}/edit", f"{base}/{made['id']}/delete"]
    for client in (place["funder"], stranger_admin):
        token = csrf_token(client.get("/").text)
        for url in urls:
            assert client.get(url).status_code == 404, url
        for url in urls[1:]:  # the list has no POST
            assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    assert counts(session) == (1, 1)
    # An activity of another project of the same organisation is not reachable through this project's slug.
    other = make_project(place["org"], "Moestuin").slug
    assert place["worker"].get(f"/projects/{other}/activities/{made['id']}/edit").status_code == 404
    anonymous = app.test_client().get(base)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")


def test_the_project_page_links_to_the_activities_for_workers_only(place):
    project = f"/projects/{place['slug']}"
    assert f'href="{place["base"]}"' in place["worker"].get(project).text
    assert "/activities" not in place["funder"].get(project).text
