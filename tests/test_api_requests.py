"""What the API makes of awkward requests: where a bad field was sent, bodies that are not JSON, and the
media type its document gives problems (second-round review of the JSON API)."""

from __future__ import annotations

import pytest

from surveyhub.log_masking import mask
from tests.fixtures.factories import bearer

PROBLEM = "application/problem+json"


@pytest.fixture
def world(org_people, make_project, make_api_token):
    project = make_project(org_people["org"], "Speeltuin", instruments=("organising",))
    return {"slug": project.slug, "headers": bearer(make_api_token(org_people["org"]))}


def _errors(response, status: int = 422) -> list[dict]:
    assert response.status_code == status and response.mimetype == PROBLEM, (response.status_code, response.text)
    return response.get_json()["errors"]


def test_a_validation_error_names_query_or_body_as_field_error_promises(client, world):
    errors = _errors(client.get(f"/api/v1/projects/{world['slug']}/participants?limit=0", headers=world["headers"]))
    assert [e["location"] for e in errors] == ["query.limit"]
    errors = _errors(client.post("/api/v1/projects", headers=world["headers"], json={"name": 5}))
    assert sorted(e["location"] for e in errors) == ["body.instruments", "body.name"]
    errors = _errors(client.get(f"/api/v1/projects/{world['slug']}/export?dialect=nope", headers=world["headers"]))
    assert all(e["location"].startswith("query.") for e in errors), errors


@pytest.mark.parametrize("data, content_type, says", [
    ("{", "application/json", "not valid JSON"),
    ('{"name": "x", "instruments": ["organising"]', "application/json", "not valid JSON"),
    ('{"name": "x", "instruments": ["organising"]}', "text/plain", "application/json"),
    ("[" * 100_000, "application/json", "nested too deeply"),  # was a RecursionError: a 500
    ('{"name": "x", "instruments": ["organising"]}', "application/x-www-form-urlencoded", "application/json"),  # curl -d
    ('{"name": "x", "instruments": ["organising"]}', "multipart/form-data", "application/json"),  # both were a 500
])
def test_a_body_that_is_not_json_is_refused_as_such_not_as_missing_fields(client, world, data, content_type, says):
    errors = _errors(client.post("/api/v1/projects", headers=world["headers"], data=data, content_type=content_type))
    assert len(errors) == 1 and errors[0]["location"] == "body" and says in errors[0]["message"], errors


def test_the_document_gives_every_error_answer_as_problem_json(client):
    document = client.get("/api/v1/openapi.json").get_json()
    errors = {(path, method, status): set(answer.get("content", {}))
              for path, operations in document["paths"].items() for method, operation in operations.items()
              for status, answer in operation["responses"].items() if status[0] in "45"}
    assert errors and all(types <= {PROBLEM} for types in errors.values()), errors
    assert any(types == {PROBLEM} for types in errors.values())
    # ... and as a problem: SpecTree's own 422 (a bare list of pydantic errors) is never what the API sends.
    schemas = {(path, method, status): answer["content"][PROBLEM]["schema"]["$ref"]
               for path, operations in document["paths"].items() for method, operation in operations.items()
               for status, answer in operation["responses"].items() if PROBLEM in answer.get("content", {})}
    assert all(ref.split("/")[-1].split(".")[0] in {"Problem", "ImportProblem"} for ref in schemas.values()), schemas
    # A body over MAX_CONTENT_LENGTH is a 413 on any route that takes one: documented on each.
    with_body = [(path, method) for path, operations in document["paths"].items()
                 for method, operation in operations.items() if "requestBody" in operation]
    assert with_body and all((path, method, "413") in schemas for path, method in with_body), with_body


def test_a_body_too_large_is_a_problem_on_a_json_route(app, client, world):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/api/v1/projects", headers=world["headers"], content_type="application/json",
                           data='{"name": "' + "x" * 2000 + '", "instruments": ["organising"]}')
    assert response.status_code == 413 and response.mimetype == PROBLEM, response.text


def test_an_api_token_never_reaches_a_log_line():
    token = "shk_" + "aB3_-" * 8 + "xyz"
    assert token not in mask(f'10.0.0.1 "GET /api/v1/projects" 200 "Bearer {token}"')
    assert mask(f"Authorization: Bearer {token}") == "Authorization: Bearer shk_***"


def test_an_error_outside_any_api_view_is_a_problem_too(app, client, world):
    """A failure before the view runs (here a hook; in life e.g. the database going away while the request's
    session opens) was Flask's HTML 500 page on an API path."""
    def broken():
        raise RuntimeError("the database went away")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.before_request_funcs.setdefault(None, []).append(broken)
    try:
        response = client.get("/api/v1/projects", headers=world["headers"])
    finally:
        app.before_request_funcs[None].remove(broken)
    assert response.status_code == 500 and response.mimetype == PROBLEM, response.text
    assert "database" not in response.text  # nothing of the cause reaches the client
    page = client.get("/login")
    assert page.status_code == 200  # the hook is gone again


def test_the_document_names_its_schemas_plainly_and_every_reference_resolves(client):
    """Generated clients get readable types (``ProjectOut``, not ``ProjectOut.eeca900``). Plain names are only
    safe while no two models of the API share one: a second would silently replace the first."""
    import importlib
    import inspect
    import pkgutil

    from pydantic import BaseModel

    import surveyhub.web.api as api_package

    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert schemas and all("." not in name for name in schemas)
    refs: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            refs.update([node["$ref"]] if isinstance(node.get("$ref"), str) else [])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(document)
    assert refs and {ref.rsplit("/", 1)[1] for ref in refs} <= set(schemas)

    models: dict[str, set] = {}
    for found in pkgutil.walk_packages(api_package.__path__, api_package.__name__ + "."):
        module = importlib.import_module(found.name)
        for _name, model in inspect.getmembers(module, inspect.isclass):
            if issubclass(model, BaseModel) and model.__module__.startswith("surveyhub."):
                models.setdefault(model.__name__, set()).add(f"{model.__module__}.{model.__qualname__}")
    assert len(models) >= len(schemas) - 2  # every model of the API was found (a few are SpecTree's own)
    assert {name: where for name, where in models.items() if len(where) > 1} == {}
