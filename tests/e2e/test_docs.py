"""GET /docs in a real browser: Swagger UI lists every operation of /openapi.json, and with a token
pasted into Authorize, "Try it out" calls the local API (`chalice local`, dev stage, offline)."""

from __future__ import annotations

import pytest

from tests.e2e.test_browser import (  # noqa: F401 (fixtures)
    Api,
    BrowserPage,
    api,
    browser,
    chromium,
    page,
)

pytestmark = pytest.mark.slow


def test_the_docs_list_every_operation_and_try_it_calls_the_api(api: Api, page: BrowserPage) -> None:  # noqa: F811
    status, document = api.call("GET", "/openapi.json")
    assert status == 200
    expected = {(method, path) for path, item in document["paths"].items() for method in item}
    offset = api.log_size()

    page.page.goto(f"{api.base}/docs")
    page.page.wait_for_selector(".opblock", timeout=15_000)
    shown = {
        (
            block.locator(".opblock-summary-method").inner_text().lower(),
            block.locator(".opblock-summary-path").get_attribute("data-path"),
        )
        for block in page.page.locator(".opblock").all()
    }
    assert shown == expected
    # Everything came from the API itself: the page, its assets and the document (no CDN).
    fetched = {r.path for r in api.requests_since(offset)}
    assert {"/docs", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/init.js", "/openapi.json"} <= fetched

    signed_in = api.sign_in("grace.docs@example.com", "Grace Docs")
    page.page.click("button.authorize")
    page.page.fill(".auth-container input", signed_in["access_token"])
    page.page.click(".auth-btn-wrapper button.authorize")
    page.page.click(".auth-btn-wrapper button.btn-done")

    operation = page.page.locator("#operations-user-read_user")
    operation.locator(".opblock-summary").click()
    calls = api.log_size()
    operation.locator("button.execute").click()
    status_cell = operation.locator(".live-responses-table tr.response td.response-col_status")
    status_cell.wait_for(timeout=10_000)
    assert status_cell.inner_text().strip() == "200"
    assert (
        "grace.docs@example.com"
        in operation.locator(".live-responses-table tr.response td.response-col_description").inner_text()
    )
    assert [(r.method, r.path, r.status) for r in api.requests_since(calls)] == [("GET", "/api/user", 200)]
    refused = [(r.method, r.path) for r in api.requests_since(offset) if r.status >= 400]
    assert refused == [], refused
