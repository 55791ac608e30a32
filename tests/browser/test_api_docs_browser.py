"""The API reference page (/api/v1/docs) in Chromium: Swagger UI from this installation draws every
operation, and not one request leaves the site (no CDN, no online validator) or is refused by the CSP."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [360, 1280])
def test_the_api_reference_draws_every_operation_from_this_site_alone(live, new_context, width):
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    requests, problems = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{live.url}/api/v1/docs")
    page.locator(".opblock").nth(14).wait_for(timeout=30_000)  # 15 operations at least
    page.wait_for_load_state("networkidle")
    assert page.locator(".opblock").count() >= 15
    own = urlsplit(live.url).netloc
    elsewhere = [url for url in requests if not url.startswith("data:") and urlsplit(url).netloc != own]
    assert not elsewhere, elsewhere
    assert any(url.endswith("/api/v1/openapi.json") for url in requests), requests
    assert not problems, problems
