"""The JSON API ``/api/v1``: the same services and permission matrix as the pages, for other systems.

Requests carry an organisation's API token (``Authorization: Bearer shk_...``); each route names
one capability of ``access.MATRIX`` and one scope of ``access.SCOPES`` (``auth.api_route``).
The OpenAPI 3.1 document is generated from the routes and their pydantic models by SpecTree
(``/api/v1/openapi.json``), browsable at ``/api/v1/docs`` with Swagger UI served from this
installation (no CDN). Errors are RFC 9457 problem details (``problems``).

Why SpecTree: it plugs into this plain Flask app and its blueprints (APIFlask would replace the
app class; flask-smorest turns every HTTP error of the whole app into JSON), it writes OpenAPI
3.1 with JSON Schema 2020-12 straight from pydantic v2 models, and it validates requests and
responses with the same models, so the document cannot drift from what the code does.
"""

from __future__ import annotations

from flask import Blueprint, Flask, g
from spectree import SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData, SecureType
from spectree.plugins.flask_plugin import FlaskPlugin

from surveyhub.web.api.problems import MEDIA_TYPE, Problem


bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _validation_failed(req, resp, req_validation_error, instance, *args) -> None:
    """SpecTree's hook before a view: a request that fails its model becomes a 422 problem."""
    if req_validation_error is None:
        return
    from surveyhub.web.api.errors import RequestInvalid
    raise RequestInvalid(req_validation_error, g.get("api_where", "body"))


class _Routes(FlaskPlugin):
    """SpecTree leaves out every route under its own ``path`` (``/api/v1``), which is where ours are;
    only its own document routes (endpoints ``openapi*``) are left out here."""

    def find_routes(self):
        for rule in self.get_current_app().url_map.iter_rules():
            if not rule.endpoint.startswith("openapi") and rule.endpoint != "static":
                yield rule

    def request_validation(self, request, query, json, form, headers, cookies):
        """SpecTree's validation, plus: where a failing field was sent (``g.api_where``: query or body), and
        a body that is not JSON refused as such. SpecTree reads a broken or non-JSON body as ``{}`` (a typo
        came back as "Field required") and a body nested past Python's stack raised a RecursionError (500)."""
        from surveyhub.web.api.errors import BodyRefused, RequestInvalid

        has_data = json is not None and request.method not in ("GET", "DELETE")
        if has_data and form is None and request.mimetype in self.FORM_MIMETYPE:  # curl -d's default type
            raise RequestInvalid(BodyRefused("Send the body as application/json."))  # SpecTree passed None: a 500
        if has_data and request.mimetype not in self.FORM_MIMETYPE and request.get_data(cache=True):
            if not request.is_json:
                raise RequestInvalid(BodyRefused("Send the body as application/json."))
            try:
                parsed = request.get_json(silent=True)
            except RecursionError:
                parsed = None
            if parsed is None:
                raise RequestInvalid(BodyRefused("The body is not valid JSON (or nested too deeply)."))
        try:
            super().request_validation(request, query, json, form, headers, cookies)
        except self.model_adapter.validation_error as exc:
            g.api_where = "query" if query is not None and getattr(exc, "title", None) == query.__name__ else "body"
            raise


class _Spec(SpecTree):
    """SpecTree documents every answer as ``application/json``; a problem is ``application/problem+json``
    (RFC 9457), as ``problems.problem`` sends it and as clients and schemathesis check it."""

    def _generate_spec(self):
        document = super()._generate_spec()
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                answers = operation.get("responses") or {}
                for status, answer in answers.items():
                    content = answer.get("content") or {}
                    if status[:1] in "45" and "application/json" in content:
                        content[MEDIA_TYPE] = content.pop("application/json")
                if "requestBody" in operation and "413" not in answers and "401" in answers:
                    # Any body over MAX_CONTENT_LENGTH is refused before the view (web._register_errors).
                    answers["413"] = {"description": "Content Too Large", "content": dict(answers["401"]["content"])}
        return document


spec = _Spec(
    "flask", title="SurveyHub API", version="1.0.0", path="api/v1", filename="openapi.json", mode="strict",
    # Plain model names (``ProjectOut``, not ``ProjectOut.eeca900``; a nested one by its own name, not
    # ``ProjectList.eeca900.ProjectOut``), so generated clients get readable types; the names are unique
    # across the API (tests/test_api_requests.py checks).
    naming_strategy=lambda model: model.__name__, nested_naming_strategy=lambda _parent, child: child,
    annotations=True, page_templates={}, before=_validation_failed, backend=_Routes, validation_error_model=Problem,
    description=("Run projects, waves and participants, import answers, and read outcomes, exports and issued "
                 "documents of one organisation. Authenticate with an organisation API token: "
                 "`Authorization: Bearer shk_...`. Errors are RFC 9457 problem details."),
    security_schemes=[SecurityScheme(name="token", data=SecuritySchemeData(
        type=SecureType.HTTP, scheme="bearer", description="An organisation API token (shk_...)."))],
    security={"token": []},
)


def register(app: Flask) -> None:
    """Register the API blueprint and its OpenAPI document on ``app`` (CSRF does not apply: no cookies)."""
    from surveyhub.extensions import csrf
    from surveyhub.web.api import docs
    from surveyhub.web.session_user import public

    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.register_blueprint(docs.bp)
    spec.register(app)
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith("openapi"):
            public(view)


def _set_up() -> None:
    """Routes and error handlers go on the blueprint once, before any app registers it."""
    from surveyhub.web.api import docs, endpoints, errors  # noqa: F401 - routes register on ``bp`` on import

    errors.register(bp)


_set_up()
