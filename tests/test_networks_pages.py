"""Neighbourhood networks' pages (issue 14, point 4): who sees what, forms, no resident anywhere.

Walked as every kind of user: the coordinator's admin and worker, a member's admin, a funder let
in, a funder not let in and an admin of an organisation outside the network. Every page and
JSON is searched for other organisations' residents (codes, names, projects). On SQLite and
PostgreSQL.
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from surveyhub.models import Network, NetworkMember, NetworkProject, Participant, Project
from surveyhub.services import networks
from tests.fixtures.documents import pdf_text
from tests.fixtures.factories import csrf_token
from tests.fixtures.outcomes import answer, new_project, with_outcome_instruments
from tests.test_networks import context
from tests.fixtures.clock import local_today

YEAR = local_today().year


@pytest.fixture
def app_config(app_config):
    return with_outcome_instruments(app_config)


@pytest.fixture
def hood(app, session, make_org, make_user):
    """North coordinates, South is a member, West is outside; each has residents with names."""
    orgs = {key: make_org(name) for key, name in (("north", "Buurtwerk Noord"), ("south", "Welzijn Zuid"),
                                                   ("west", "Dorpsteam West"))}
    info, code = networks.create(context(app, session, orgs["north"]), name="Samen Oost", area="Oost, Utrecht")
    networks.join(context(app, session, orgs["south"]), code)
    session.commit()
    users = {"north_admin": make_user("admin", orgs["north"]), "north_worker": make_user("worker", orgs["north"]),
             "south_admin": make_user("admin", orgs["south"]), "viewer": make_user("funder", orgs["north"]),
             "funder_outside": make_user("funder", orgs["north"]), "west_admin": make_user("admin", orgs["west"])}
    networks.add_viewer(context(app, session, orgs["north"]), info.slug, users["viewer"].email)
    secrets = {}
    for key in ("north", "south", "west"):
        slug = new_project(app, session, orgs[key], ["rating"], name=f"Geheim project {key}")
        for i in range(12):
            code_ = f"{key[:2].upper()}-SECRET-{i:02d}"
            answer(app, session, slug, "pre", code_, {("rating", "rating"): 4}, commit=False)
            answer(app, session, slug, "post", code_, {("rating", "rating"): 7}, commit=False)
        named = Participant(project_id=session.scalar(select(Project.id).where(Project.slug == slug)),
                            code=f"{key[:2].upper()}-NAMED", display_name=f"Fatima Geheim {key}")
        session.add(named)
        session.commit()
        if key != "west":
            networks.opt_in(context(app, session, orgs[key]), info.slug, slug)
        secrets[key] = [slug, f"Geheim project {key}", f"{key[:2].upper()}-SECRET-", f"{key[:2].upper()}-NAMED",
                        f"Fatima Geheim {key}"]
    session.commit()
    return {"orgs": orgs, "users": users, "slug": info.slug, "code": code, "secrets": secrets}


def _get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response


def test_a_member_reads_the_report_with_organisations_side_by_side_and_no_resident(app, client_for, hood):
    south = client_for(hood["users"]["south_admin"].email)
    base = f"/networks/{hood['slug']}"
    pages = [_get(south, "/networks"), _get(south, base), _get(south, f"{base}/report"),
             _get(south, f"{base}/report.json?period=this_year")]
    text = "\n".join(page.text for page in pages)
    assert "Samen Oost" in text and "Buurtwerk Noord" in text and "Welzijn Zuid" in text
    for secret in hood["secrets"]["north"] + hood["secrets"]["west"] + ["Dorpsteam West"]:
        assert secret not in text, secret
    found = json.loads(pages[-1].text)
    assert [o["name"] for o in found["organisations"]] == ["Buurtwerk Noord", "Welzijn Zuid"]
    assert found["totals"]["residents"] == 25  # 24 residents, rounded to 5
    assert pages[-1].headers["Content-Disposition"].startswith("attachment;")


def test_non_members_get_404_everywhere_and_a_funder_let_in_reads_only_the_report(app, client_for, hood):
    base = f"/networks/{hood['slug']}"
    gets = [base, f"{base}/report", f"{base}/report.json"]
    posts = [f"{base}/projects", f"{base}/join-code", f"{base}/close-joining", f"{base}/viewers",
             f"{base}/viewers/remove", f"{base}/leave", f"{base}/report/pdf"]
    west = client_for(hood["users"]["west_admin"].email)
    outside = client_for(hood["users"]["funder_outside"].email)
    for client in (west, outside):
        token = csrf_token(client.get("/networks").text)
        for url in gets:
            _get(client, url, 404)
        for url in posts:
            assert client.post(url, data={"csrf_token": token, "confirm": "y"}).status_code == 404, url
        assert "Samen Oost" not in client.get("/networks").text
    viewer = client_for(hood["users"]["viewer"].email)
    assert _get(viewer, base, 302).headers["Location"].endswith(f"{base}/report")
    report = _get(viewer, f"{base}/report")
    assert "Buurtwerk Noord" in report.text and "Welzijn Zuid" in report.text
    for secret in hood["secrets"]["north"] + hood["secrets"]["south"]:
        assert secret not in report.text, secret
    token = csrf_token(report.text)
    for url in posts[:-1]:
        assert viewer.post(url, data={"csrf_token": token, "confirm": "y"}).status_code == 404, url
    worker = client_for(hood["users"]["north_worker"].email)
    token = csrf_token(_get(worker, base).text)
    for url in posts[:-1]:
        assert worker.post(url, data={"csrf_token": token, "confirm": "y"}).status_code == 403, url
    assert worker.get("/networks/new").status_code == 403 and worker.get("/networks/join").status_code == 403


def test_start_a_network_and_see_the_code_once_then_join_it_from_another_organisation(app, session, client_for,
                                                                                         hood):
    west = client_for(hood["users"]["west_admin"].email)
    page = _get(west, "/networks/new")
    refused = west.post("/networks/new", data={"csrf_token": csrf_token(page.text), "name": "", "area": ""})
    assert refused.status_code == 400 and "Geef het netwerk een naam." in refused.text
    made = west.post("/networks/new", data={"csrf_token": csrf_token(page.text), "name": "Dorp <b>West</b>",
                                            "area": "Westdorp"})
    assert made.status_code == 200 and "Dorp &lt;b&gt;West&lt;/b&gt;" in made.text
    code = re.search(r'class="short-code"[^>]*>([A-Z0-9-]+)<', made.text).group(1)
    slug = session.scalar(select(Network.slug).where(Network.area == "Westdorp"))
    assert code not in _get(west, f"/networks/{slug}").text, "shown once"
    south = client_for(hood["users"]["south_admin"].email)
    join_page = _get(south, "/networks/join")
    wrong = south.post("/networks/join", data={"csrf_token": csrf_token(join_page.text), "code": "XXXX-XXXX-XXXX"})
    assert wrong.status_code == 400
    joined = south.post("/networks/join", data={"csrf_token": csrf_token(join_page.text), "code": code.lower()})
    assert joined.status_code == 302 and joined.headers["Location"].endswith(f"/networks/{slug}")
    again = south.post("/networks/join", data={"csrf_token": csrf_token(join_page.text), "code": code})
    assert again.status_code == 400
    # A forged form (no CSRF token) changes nothing.
    assert south.post(f"/networks/{slug}/leave", data={"confirm": "y"}).status_code in (400, 302)
    session.expire_all()
    assert session.scalar(select(NetworkMember.id).where(NetworkMember.organisation_id == hood["orgs"]["south"].id,
                                                         NetworkMember.network_id == session.scalar(
                                                             select(Network.id).where(Network.slug == slug))))


def test_guessing_join_codes_on_the_page_is_stopped(app, client_for, hood):
    south = client_for(hood["users"]["south_admin"].email)
    token = csrf_token(_get(south, "/networks/join").text)
    statuses = [south.post("/networks/join", data={"csrf_token": token, "code": f"WRONG-CODE-{i:04d}"}).status_code
                for i in range(8)]
    assert statuses[:5] == [400] * 5 and statuses[5:] == [429] * 3


def test_an_admin_opts_projects_in_and_out_and_manages_code_and_viewers(app, session, client_for, hood, make_user):
    north = client_for(hood["users"]["north_admin"].email)
    base = f"/networks/{hood['slug']}"
    page = _get(north, base)
    token = csrf_token(page.text)
    project = hood["secrets"]["north"][0]
    assert north.post(f"{base}/projects", data={"csrf_token": token, "project": project, "change": "out"}
                      ).status_code == 302
    assert session.scalar(select(NetworkProject.id).where(NetworkProject.project_id.in_(
        select(NetworkProject.project_id)))) is not None  # South's project still counts
    # Another organisation's project cannot be opted in or out from here.
    other = hood["secrets"]["south"][0]
    assert north.post(f"{base}/projects", data={"csrf_token": token, "project": other, "change": "out"}
                      ).status_code == 404
    fresh = north.post(f"{base}/join-code", data={"csrf_token": token})
    assert fresh.status_code == 200 and re.search(r'class="short-code"[^>]*>[A-Z0-9-]{14}<', fresh.text)
    funder = make_user("funder", hood["orgs"]["south"])
    added = north.post(f"{base}/viewers", data={"csrf_token": token, "email": funder.email})
    assert added.status_code == 302
    assert funder.email in _get(north, base).text
    refused = north.post(f"{base}/viewers", data={"csrf_token": token, "email": "<script>x</script>@x.nl"})
    assert refused.status_code == 400 and "<script>x" not in refused.text
    assert north.post(f"{base}/leave", data={"csrf_token": token}).status_code == 302  # unconfirmed: nothing
    assert north.post(f"{base}/leave", data={"csrf_token": token, "confirm": "y"}).status_code == 302
    session.expire_all()
    assert session.scalar(select(Network.id).where(Network.slug == hood["slug"])) is not None, \
        "the coordinator cannot leave while others remain"


def test_the_report_period_form_and_its_errors(app, client_for, hood):
    south = client_for(hood["users"]["south_admin"].email)
    base = f"/networks/{hood['slug']}/report"
    bad = south.get(f"{base}?period=custom&from=gisteren&to=2026-01-01")
    assert bad.status_code == 400
    last_year = _get(south, f"{base}?period=last_year")
    assert str(YEAR - 1) in last_year.text
    empty = json.loads(_get(south, f"/networks/{hood['slug']}/report.json?period=last_year").text)
    assert empty["totals"]["residents"] == 0


def test_the_funder_let_in_makes_the_pdf_as_a_job_and_it_is_genuine(app, session, client_for, hood):
    from surveyhub.services import documents as docs

    viewer = client_for(hood["users"]["viewer"].email)
    page = _get(viewer, f"/networks/{hood['slug']}/report")
    started = viewer.post(f"/networks/{hood['slug']}/report/pdf", data={
        "csrf_token": csrf_token(page.text), "start": f"{YEAR}-01-01", "end": f"{YEAR}-12-31", "lang": "nl"})
    assert started.status_code == 302 and started.headers["Location"].startswith("/jobs/"), started.status_code
    download = _get(viewer, started.headers["Location"] + "/download")
    pdf = download.data
    assert pdf.startswith(b"%PDF")
    assert docs.verify_file(session, pdf).status == "genuine"
    session.commit()
    text = pdf_text(pdf)
    assert "Samen Oost" in text and "Buurtwerk Noord" in text and "Welzijn Zuid" in text
    for secret in sum(hood["secrets"].values(), []) + ["Dorpsteam West"]:
        assert secret not in text, secret
    # A forged form starts nothing.
    forged = viewer.post(f"/networks/{hood['slug']}/report/pdf", data={"start": "x", "end": "y"})
    assert forged.status_code in (200, 400)


def test_every_network_page_as_every_kind_of_user_shows_no_other_organisations_resident(app, client_for, hood):
    """Walk every GET route of the networks pages as each user; search for other organisations' residents."""
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("networks.")
             and "GET" in rule.methods]
    assert len(rules) >= 6
    adapter = app.url_map.bind("surveyhub.test")
    urls = [adapter.build(rule.endpoint, {"network": hood["slug"]} if "network" in rule.arguments else {})
            for rule in rules]
    secrets = hood["secrets"]
    own = {"north_admin": "north", "north_worker": "north", "south_admin": "south", "west_admin": "west"}
    seen = {}
    for user, key in [*own.items(), ("viewer", None), ("funder_outside", None)]:
        client = client_for(hood["users"][user].email)
        for url in urls:
            response = client.get(url + ("?period=this_year" if url.endswith(".json") else ""))
            assert response.status_code < 500, (user, url)
            seen[(user, url)] = response.status_code
            others = [secret for other, values in secrets.items() if other != key for secret in values]
            leaked = [secret for secret in others if secret in response.text]
            assert not leaked, f"{url} shows {user} {leaked}"
    base = f"/networks/{hood['slug']}"
    assert all(seen[(user, url)] == 404 for user in ("west_admin", "funder_outside") for url in urls
               if url.startswith(base))
    assert seen[("viewer", f"{base}/report")] == 200 and seen[("south_admin", f"{base}/report.json")] == 200
    # The search can find what it looks for: an organisation's own project is on its own network page.
    assert "Geheim project south" in client_for(hood["users"]["south_admin"].email).get(base).text
