"""The JSON API against its own OpenAPI document, with schemathesis (in-process over WSGI, no network).

Every operation of ``/api/v1/openapi.json`` gets generated requests (valid and not) with an
admin token holding every scope, on a copy of the demo organisation (a project, residents,
answers, an issued certificate). Half of the generated path values are swapped for real ones
(the demo project's slug, a resident's code, the certificate's code) so the operations reach
their data, not only their 404. Every answer must not be a server error, must use a status
code the document lists, and must match the schema the document gives for it.

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
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from sqlalchemy import select

from surveyhub.models import Organisation, Participant, Project
from surveyhub.services import documents
from tests.fixtures.documents import demo  # noqa: F401 - the fixture
from tests.fixtures.factories import bearer

#: Examples per operation: enough to reach every branch of a small API, bounded for a 2-core CI machine.
MAX_EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
#: Scenarios of the stateful run (each up to six linked calls).
STATEFUL_EXAMPLES = 25


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


def test_every_operation_answers_as_its_document_says(app, api_world):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5, [op.label for op in operations]
    headers = bearer(api_world["token"])
    failures = []
    answers: dict[str, list[int]] = {}
    for operation in operations:
        @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck), print_blob=False)
        @given(case=operation.as_strategy(), real=st.booleans())
        def run(case, real):
            if real:
                _real_values(case, api_world)
            response = case.call(headers=headers)
            answers.setdefault(case.operation.label, []).append(response.status_code)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            run()
        except Exception as exc:  # one operation's failure must not hide the next one's
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    # The walk reached the data, not only the refusals: every reading operation answered 200 at least once.
    for label, statuses in sorted(answers.items()):
        print(f"{label}: {len(statuses)} calls, " + ", ".join(f"{s}x{statuses.count(s)}" for s in sorted(set(statuses))))
    unreached = [label for label, statuses in answers.items() if label.startswith("GET") and 200 not in statuses]
    assert not unreached, f"never answered 200: {unreached}"


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
