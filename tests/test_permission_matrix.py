"""The permission matrix, walked: every route of ``app.url_map``, as every role, with real ids.

Each view declares what it needs: ``@requires("<capability>")`` (a key of
``access.MATRIX``) or ``@public``. The walk first checks that every endpoint
is declared, so a new route fails here until it is placed in the matrix.
Then it requests every rule (GET, or POST with a valid CSRF token for POST-only
rules) as an admin, a worker, a funder the project is shared with, a funder it
is not shared with, an admin of another organisation and an anonymous visitor,
and compares the answer with what the matrix promises:

- allowed: neither 403 nor 404 (and never a 500);
- a funder without the capability, or without a share: 404 on a project's pages;
- another organisation: 404 for its projects and users;
- anonymous: a redirect to the login page;
- a worker or funder on admin pages: 403.

``pytest -s`` prints the routes × roles table.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from surveyhub.plugins import get_registry
from surveyhub.measures.definition import item_range
from surveyhub.models import Consent, Participant
from surveyhub.services import access, api_tokens, projects, responses
from surveyhub.web.session_user import PUBLIC
from tests.fixtures.factories import csrf_token

ROLES = ("admin", "worker", "funder", "funder_unshared", "other_admin", "anonymous")
#: Which role of the matrix each walker holds.
HOLDS = {"funder_unshared": "funder", "other_admin": "admin"}
#: Capabilities outside ``access.MATRIX``: any logged-in user, on their own account.
OWN_ACCOUNT = "own-account"
#: POSTs that end the walker's session or change much go last.
LAST = ("participants.new_link", "webhooks.delete", "auth.logout")
#: Own-account pages a role may not use: two-factor sign-in is for admins and workers (issue 9, point 6).
OWN_ACCOUNT_REFUSED = {("account.two_factor", "funder"): 403}


def _complete_pre_wave(app, session, org, slug: str, code: str) -> None:
    """The resident answers the pre wave (every item at its lowest value), so certificates can be issued."""
    actor = access.Actor(organisation_id=org.id, role="admin")
    project = access.project(session, actor, slug, "project.residents")
    participant = session.scalar(select(Participant).where(Participant.project_id == project.id,
                                                           Participant.code == code))
    wave = next(w for w in project.waves if w.kind == "pre")
    session.add(Consent(participant_id=participant.id, wave_id=wave.id, wording_version="1", language="nl",
                        share_quotes=False))
    response = responses.get_or_start(session, participant, wave)
    values = {}
    for pinned in project.instruments:
        definition = pinned.snapshot.definition
        for scale in definition["scales"]:
            for item in scale["items"]:
                low = (item_range(item, definition.get("answer_sets")) or (1, 1))[0]
                values[("now", definition["id"], item["id"])] = float(low)
    responses.save_answers(session, response, values)
    responses.complete(session, project, response, get_registry(app).scoring_methods)
    session.commit()


@pytest.fixture
def world(app, session, make_org, make_user, make_project, make_participant, client_for):
    """Two organisations, every kind of user, and a project with a resident, an answer and an issued report."""
    org, other = make_org("Buurtwerk Noord"), make_org("Welzijn Zuid")
    users = {"admin": make_user("admin", org), "worker": make_user("worker", org),
             "funder": make_user("funder", org), "funder_unshared": make_user("funder", org),
             "other_admin": make_user("admin", other), "victim": make_user("worker", org)}
    make_project(other, "Speeltuin Zuid")
    project = make_project(org, "Buurttuin")
    admin = access.Actor(organisation_id=org.id, role="admin", user_id=users["admin"].id)
    projects.set_share(session, admin, project.slug, users["funder"].email, True)
    question = projects.add_question(session, admin, project.slug, "text", "Wat wil je nog kwijt?", None)
    api_token = api_tokens.create(session, admin, name="walk", scopes=["outcomes:read"]).id
    webhook, delivery = _webhook(session, admin)
    session.commit()
    invitation = make_participant(org, project.slug, "Anna de Vries")
    _complete_pre_wave(app, session, org, project.slug, invitation.code)
    network = _network(app, session, org, admin, users["funder"].email, project.slug)
    activity = _record_activity(app, session, org, project.slug, invitation.code)
    document = _report_job(app, session, client_for(users["admin"].email), project.slug)[1]
    # A job started by the worker: its page and file are the worker's and their organisation's admins' only.
    public_id = _report_job(app, session, client_for(users["worker"].email), project.slug)[0]
    values = {"slug": project.slug, "participant": invitation.code, "document": document, "kind": "pre",
              "public_id": public_id, "network": network,
              "status": "open", "n": 0, "part": 1, "fmt": "csv", "token": invitation.token, "activity": activity,
              "anonymous_token": project.anonymous_token, "instrument_id": "organising", "version": 2,
              "direction": "down", "question_id": question, "user_id": users["victim"].id, "filename": "surveyhub.css",
              "token_id": api_token, "endpoint_id": webhook, "delivery_id": delivery}
    return {"users": users, "values": values, "project": project, "invitation": invitation}


def _webhook(session, admin) -> tuple[int, int]:
    """A webhook endpoint (to a closed local port: a test event fails at once) with one failed delivery."""
    from surveyhub.models import WebhookDelivery
    from surveyhub.services import webhooks

    endpoint = webhooks.save_endpoint(session, admin, url="http://127.0.0.1:9/walk", events=["wave.opened"],
                                      allow_private=True, private_allowed=True)
    delivery = WebhookDelivery(endpoint_id=endpoint.id, organisation_id=admin.organisation_id, event_type="wave.opened",
                               message_id=webhooks.new_message_id(), payload="{}", status="failed", attempts=8)
    session.add(delivery)
    session.flush()
    return endpoint.id, delivery.id


def _record_activity(app, session, org, slug: str, code: str) -> int:
    """An activity the resident took part in, for the activity pages (their GET deletes nothing)."""
    from datetime import date

    from surveyhub.services import activities, context
    from surveyhub.services.outcomes import Thresholds

    ctx = context.for_command(session, registry=get_registry(app), host=None, thresholds=Thresholds(),
                              base_url="http://surveyhub.test", project_slug=slug)
    recorded = activities.record(ctx, slug, happened_on=date.today(), kind="meeting", hours=2,
                                 participants=[(code, "organiser", None)])
    session.commit()
    return recorded["id"]


def _network(app, session, org, admin, funder_email: str, project_slug: str) -> str:
    """A neighbourhood network the organisation coordinates, its project opted in, its funder let in (issue 14)."""
    from surveyhub.services import networks
    from surveyhub.services.context import ServiceContext
    from surveyhub.services.outcomes import Thresholds

    ctx = ServiceContext(session=session, actor=admin, registry=get_registry(app), host=None,
                         thresholds=Thresholds(), base_url="http://surveyhub.test")
    info, _code = networks.create(ctx, name="Samen Noord", area="Noord")
    networks.opt_in(ctx, info.slug, project_slug)
    networks.add_viewer(ctx, info.slug, funder_email)
    session.commit()
    return info.slug


def _report_job(app, session, client, slug: str) -> tuple[str, str]:
    """The report made as the documents page makes it (a job, run at once by the test queue): the job's
    public id and the document code its item registered."""
    from surveyhub.models import Job
    from surveyhub.services import jobs

    [report] = app.url_map.iter_rules("documents.report")
    started = client.open(f"/projects/{slug}/documents/report.pdf", method=_method(report),
                          data={"csrf_token": csrf_token(client.get("/").text)})
    assert started.status_code == 302 and started.headers["Location"].startswith("/jobs/"), started.status_code
    public_id = started.headers["Location"].removeprefix("/jobs/")
    job = session.scalar(select(Job).where(Job.public_id == public_id))
    assert job.status == "done", job.status
    [(_key, result)] = jobs.item_results(session, job.id)
    session.commit()
    return public_id, result["code"]


#: Per endpoint, values that differ from the defaults above.
SPECIAL = {
    "manage.wave_status": {"kind": "post"},
    "admin.user_active": {"change": "activate"},
    "project_admin.set_archived": {"change": "restore"},
    "pairs.decide": {"key": "1-2"},  # two participant ids; no such pair: a flashed error
    "api_docs.asset": {"name": "swagger_style.css"},
    "api.problem_type": {"kind": "not-found"},
    # Open Badges' public URLs (web/badges.py): what every credential states, for anyone.
    "badges.issuer": {"org_slug": "buurtwerk-noord"},
    "badges.jwks": {"org_slug": "buurtwerk-noord"},
    "badges.key": {"org_slug": "buurtwerk-noord", "kid": "no-such-key"},
    "badges.status_list": {"org_slug": "buurtwerk-noord"},
    "badges.achievement": {"scale_id": "organising", "level": "strong", "org_slug": "buurtwerk-noord"},
}


def _url(app, rule, values: dict) -> str:
    wanted = dict(values)
    wanted["code"] = values["document"] if rule.endpoint in ("documents.revoke", "verify.check_code") \
        else values["participant"]
    if rule.rule.startswith("/a/"):
        wanted["token"] = values["anonymous_token"]
    elif rule.rule.startswith("/reset/"):
        wanted["token"] = "not-a-reset-token"
    wanted.update(SPECIAL.get(rule.endpoint, {}))
    missing = [name for name in rule.arguments if name not in wanted]
    assert not missing, f"{rule.rule}: give the walk a value for {missing} (in the ``world`` fixture or SPECIAL)"
    adapter = app.url_map.bind("surveyhub.test")
    return adapter.build(rule.endpoint, {name: wanted[name] for name in rule.arguments}, method=_method(rule))


def _method(rule) -> str:
    return "GET" if "GET" in rule.methods else "POST"


def _capability(app, rule) -> str | None:
    return getattr(app.view_functions[rule.endpoint], "capability", None)


def expected(role: str, rule, capability: str):
    """What the matrix promises ``role`` on ``rule``: "allowed", "login", 403 or 404."""
    if capability == PUBLIC:
        return "public"
    if role == "anonymous":
        return "login"
    holds = HOLDS.get(role, role)
    if capability == OWN_ACCOUNT:
        return OWN_ACCOUNT_REFUSED.get((rule.endpoint, holds), "allowed")
    project_page = "slug" in rule.arguments
    if "public_id" in rule.arguments:
        # A job (``jobs.*``, capability project.list) is seen only by the user who started it (the world's
        # job: the worker) and the admins of their organisation (``services.job_views._visible``); to everyone
        # else it does not exist.
        return "allowed" if role in ("worker", "admin") else 404
    if "network" in rule.arguments:
        # A network's pages (issue 14): another organisation, or a funder not let in, does not see the network;
        # the funder let in (the world's "funder") reads only its report (network.outcomes).
        if role in ("other_admin", "funder_unshared"):
            return 404
        if holds == access.FUNDER:
            return "allowed" if capability == "network.outcomes" else 404
    if role == "other_admin" and (project_page or "user_id" in rule.arguments or "token_id" in rule.arguments
                                  or "endpoint_id" in rule.arguments):
        return 404
    if role == "funder_unshared" and project_page:
        return 404
    if holds in access.MATRIX[capability]:
        return "allowed"
    if holds == access.FUNDER and (project_page or capability.startswith("project.")):
        return 404
    return 403


def _agrees(promise, response) -> bool:
    status = response.status_code
    if status >= 500:
        return False
    if promise == "public":
        return status != 403
    if promise == "login":
        return status == 302 and response.headers["Location"].startswith("/login")
    if promise == "allowed":
        return status not in (403, 404)
    return status == promise


def _rules(app):
    # The JSON API's routes take a token, never the session: tests/test_api_permissions.py walks them.
    rules = [r for r in app.url_map.iter_rules() if not hasattr(app.view_functions[r.endpoint], "api_scope")]
    return sorted(rules, key=lambda r: (LAST.index(r.endpoint) if r.endpoint in LAST else -1, r.rule))


def test_every_route_is_in_the_matrix(app):
    undeclared = sorted({rule.endpoint for rule in app.url_map.iter_rules()
                         if _capability(app, rule) not in (*access.MATRIX, PUBLIC, OWN_ACCOUNT)})
    assert not undeclared, ("routes without @requires(<capability>) or @public; place them in the matrix "
                            f"(surveyhub/services/access.py): {undeclared}")


def _client(app, client_for, world, role):
    if role == "anonymous":
        return app.test_client()
    return client_for(world["users"][role].email)


def _token(client) -> str:
    page = client.get("/")
    if page.status_code != 200:
        page = client.get("/login")
    return csrf_token(page.text)


def _live_token(session, values: dict) -> str:
    """The resident's working link now (an earlier walker may have made a new one)."""
    participant = session.scalar(select(Participant).where(Participant.code == values["participant"]))
    token = next(t.token for t in participant.tokens if t.revoked_at is None)
    session.commit()
    return token


def test_the_matrix_holds_on_every_route_for_every_role(app, session, client_for, world):
    values = world["values"]
    table, wrong = {}, []
    for role in ROLES:
        values["token"] = _live_token(session, values)
        client = _client(app, client_for, world, role)
        token = _token(client)
        for rule in _rules(app):
            capability = _capability(app, rule)
            url = _url(app, rule, values)
            if _method(rule) == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": token})
            promise = expected(role, rule, capability)
            response.close()  # static files are streamed from an open file
            table.setdefault((_method(rule), rule.rule, capability), {})[role] = response.status_code
            if not _agrees(promise, response):
                wrong.append(f"{role:16} {_method(rule):4} {rule.rule}: expected {promise}, got {response.status_code}")
    _print_table(table)
    assert not wrong, "the matrix does not hold:\n  " + "\n  ".join(wrong)


def _print_table(table: dict) -> None:
    header = f"{'method':6} {'route':66} {'capability':18} " + " ".join(f"{r[:15]:>15}" for r in ROLES)
    print("\n" + header + "\n" + "-" * len(header))
    for (method, rule, capability), by_role in sorted(table.items(), key=lambda item: item[0][1]):
        print(f"{method:6} {rule:66} {capability or '-':18} " + " ".join(f"{by_role.get(r, ''):>15}" for r in ROLES))


# --- issue 9: "Funder sees residents" -----------------------------------------------------------

def test_a_funder_sees_no_resident_anywhere(app, client_for, world):
    """Logged in as a funder of a shared project: numbers and reports, never a resident or a link."""
    slug, code = world["values"]["slug"], world["values"]["participant"]
    funder = client_for(world["users"]["funder"].email)
    token = _token(funder)
    base = f"/projects/{slug}"
    for url in (f"{base}/participants", f"{base}/participants/{code}", f"{base}/participants/{code}/paper/pre",
                f"{base}/participants/{code}/paper/pre/p/0", f"{base}/export.csv", f"{base}/questionnaire"):
        assert funder.get(url).status_code == 404, url
    for url in (f"{base}/participants/{code}/new-link", f"{base}/documents/links.pdf",
                f"{base}/documents/certificates.zip", f"{base}/documents/certificate/{code}.pdf",
                f"{base}/participants/{code}/paper/pre", f"{base}/participants"):
        assert funder.post(url, data={"csrf_token": token, "consent": "y", "names": "Piet"}).status_code == 404, url

    project_page = funder.get(base)
    assert project_page.status_code == 200
    assert "Bewoners en links" not in project_page.text and "/participants" not in project_page.text
    secrets = {"personal link": world["invitation"].token, "anonymous link": world["project"].anonymous_token,
               "name": "Anna de Vries", "code": code}
    for url in ("/", base, f"{base}/outcomes", f"{base}/documents"):
        page = funder.get(url)
        assert page.status_code == 200, url
        shown = [what for what, secret in secrets.items() if secret in page.text]
        assert not shown, f"{url} shows the funder a resident's {shown}"
        assert not re.search(r"/(q|a)/[A-Za-z0-9_-]{16,}", page.text), url


def test_a_funder_sees_only_projects_shared_with_them(app, client_for, world):
    slug = world["values"]["slug"]
    unshared = client_for(world["users"]["funder_unshared"].email)
    assert "Buurttuin" not in unshared.get("/").text
    for url in (f"/projects/{slug}", f"/projects/{slug}/outcomes", f"/projects/{slug}/outcomes/report.json",
                f"/projects/{slug}/documents"):
        assert unshared.get(url).status_code == 404, url
    shared = client_for(world["users"]["funder"].email)
    assert "Buurttuin" in shared.get("/").text
    assert shared.get(f"/projects/{slug}/outcomes").status_code == 200
