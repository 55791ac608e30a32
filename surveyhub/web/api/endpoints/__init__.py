"""The API's routes, one module per resource; importing this package registers them on ``api.bp``."""

from surveyhub.web.api.endpoints import documents, exports, participants, projects, reports, responses  # noqa: F401
