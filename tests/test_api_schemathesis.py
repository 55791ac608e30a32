"""The JSON API against its own OpenAPI document, with schemathesis (in-process over WSGI, no network).

Every operation of ``/api/v1/openapi.json`` gets generated requests (valid and not) with an
admin token holding every scope, on a copy of the demo organisation (a project, residents,
answers, an issued certificate). Half of the generated path values are swapped for real ones
(the demo project's slug, a resident's code, the certificate's code) so the operations reach
their data, not only their 404. Every answer must not be a server error, must use a status
code and media type the document lists (problems: application/problem+json), and must match
the schema the document gives for it.

Deterministic for CI: hypothesis runs derandomized (the same examples every run) with a
bounded number of examples per operation and no example database. A failure names the
operation and a ``curl`` line to reproduce it.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)
from sqlalchemy import select

from surveyhub.models import Organisation, Participant, Project
from surveyhub.services import api_tokens, documents, projects
from tests.fixtures.documents import demo  # noqa: F401 - the fixture
from tests.fixtures.factories import bearer

#: Examples per operation: enough to reach every branch of a small API, bounded for a 2-core CI machine.
MAX_EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
#: Scenarios of the stateful run (each up to six linked calls).
STATEFUL_EXAMPLES = 25
#: Examples per operation for the funder token, whose answers are mostly refusals.
FUNDER_EXAMPLES = 10


@pytest.fixture
def app_config(app_config):
    # Hundreds of requests with one token, some with wrong ones on purpose.
    return {**app_config, "API_RATE_LIMIT": "100000 per minute", "API_AUTH_RATE_LIMIT": "100000 per minute"}


@pytest.fixture
def api_world(app, session, demo, make_api_token):  # noqa: F811 - the fixture imported above
    """An all-scope admin token of the demo organisation, and real values for the path parameters."""
    project = session.scalar(select(Project).where(Project.slug == demo.slug))
    code = session.scalar(select(Participant.code).where(Participant.project_id == project.id)
                          .order_by(Participant.id))
    issued = documents.issue_certificate(session, demo.actor, demo.slug, code, base_url=app.config["BASE_URL"])
    session.commit()
    token = make_api_token(session.get(Organisation, demo.org_id), role="admin")
    return {"token": token, "slug": demo.slug, "participant": code, "document": issued.code}


def _real_values(case, world: dict) -> None:
    """Put the demo's real slug and codes in the path, so an operation reaches its data."""
    path = case.path_parameters or {}
    if "slug" in path:
        path["slug"] = world["slug"]
    if "code" in path:
        path["code"] = world["document"] if "/documents/" in case.operation.path else world["participant"]
    if isinstance(case.body, dict) and "instruments" in case.body:  # a new project: an instrument that exists
        case.body["instruments"] = ["organising"]


def _walk(app, world: dict, token: str, examples: int) -> dict[str, list[int]]:
    """Every operation with generated requests and ``token``; the statuses each answered. Fails with every
    operation's failures (one operation's failure must not hide the next one's)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5, [op.label for op in operations]
    headers = bearer(token)
    failures = []
    answers: dict[str, list[int]] = {}
    for operation in operations:
        @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck), print_blob=False)
        @given(case=operation.as_strategy(), real=st.booleans())
        def run(case, real):
            if real:
                _real_values(case, world)
            response = case.call(headers=headers)
            answers.setdefault(case.operation.label, []).append(response.status_code)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    for label, statuses in sorted(answers.items()):
        print(f"{label}: {len(statuses)} calls, " + ", ".join(f"{s}x{statuses.count(s)}" for s in sorted(set(statuses))))
    return answers


def test_every_operation_answers_as_its_document_says(app, api_world):
    answers = _walk(app, api_world, api_world["token"], MAX_EXAMPLES)
    # The walk reached the data, not only the refusals: every reading operation answered 200 at least once.
    unreached = [label for label, statuses in answers.items() if label.startswith("GET") and 200 not in statuses]
    assert not unreached, f"never answered 200: {unreached}"


def test_a_funder_tokens_refusals_are_documented_too(app, session, api_world, demo, make_user):  # noqa: F811
    """A funder token with one scope: its 403s and 404s must be answers the document lists, never a 500."""
    funder = make_user("funder", session.get(Organisation, demo.org_id))
    projects.set_share(session, demo.actor, demo.slug, funder.email, True)
    session.commit()
    token = api_tokens.create(session, demo.actor, name="funder", scopes=["outcomes:read"], role="funder",
                              funder_email=funder.email).token
    session.commit()
    answers = _walk(app, api_world, token, FUNDER_EXAMPLES)
    assert 200 in answers["GET /api/v1/projects/{slug}/report"] and 404 in answers["GET /api/v1/projects/{slug}/participants"]


def test_linked_operations_hold_together(app, api_world):
    """Stateful: chains of calls along the links schemathesis infers from the document (a project from the
    list or a new one, then its participants, its waves), each answer checked as above."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = bearer(api_world["token"])
    calls = []

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def call(self, case, **kwargs):
            calls.append(case.operation.label)
            return super().call(case, **kwargs)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, headers=headers)

    Workflow.run(settings=settings(max_examples=STATEFUL_EXAMPLES, derandomize=True, database=None, deadline=None,
                                   stateful_step_count=6, suppress_health_check=list(HealthCheck), print_blob=False))
    assert len(calls) > STATEFUL_EXAMPLES, calls


# --- what schemathesis found, kept as plain examples ---------------------------------------------

@pytest.mark.parametrize("query", ["from=0001-01-01", "to=9999-12-31", "from=1899-12-31&to=1900-01-31"])
def test_a_period_out_of_every_clocks_range_is_a_422_not_a_500(app, client, org_people, make_api_token, query):
    token = make_api_token(org_people["org"], scopes=["outcomes:read"])
    answer = client.get(f"/api/v1/organisation/report?{query}", headers=bearer(token))
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json", answer.text
    assert "1900" in answer.json["detail"]


def test_a_funder_token_creating_a_project_gets_the_documented_404(app, client, org_people, make_api_token):
    token = make_api_token(org_people["org"], scopes=["projects:manage"], role="funder",
                           funder_email=org_people["funder"].email)
    answer = client.post("/api/v1/projects", headers=bearer(token), json={"name": "x", "instruments": ["organising"]})
    assert answer.status_code == 404
    document = client.get("/api/v1/openapi.json").json
    assert "404" in document["paths"]["/api/v1/projects"]["post"]["responses"]


def test_a_nul_or_a_lone_surrogate_in_a_json_body_is_cleaned_not_a_500(app, client, org_people, make_api_token):
    """PostgreSQL refuses both in text; the JSON body is cleaned as form fields are (web/input.py)."""
    token = make_api_token(org_people["org"], scopes=["projects:manage"])
    answer = client.post("/api/v1/projects", headers={**bearer(token), "Content-Type": "application/json"},
                         data='{"name": "Buurt\\u0000tuin \\ud802", "instruments": ["\\u0000organising"]}')
    assert answer.status_code == 201, answer.text
    assert answer.json["name"] == "Buurttuin \ufffd" and answer.json["instruments"][0].startswith("organising@")
