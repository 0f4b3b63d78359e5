"""CORS per stage: the allowed origin echoed with credentials on every response, nothing for others."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.cors import CorsPolicy, parse_origin
from tests.conftest import ALLOWED, EVIL, MakeClient, body

PATHS = sorted(app_module.app.routes)
CORS_HEADERS = {
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Expose-Headers",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Max-Age",
}


def preflight(client: Client, path: str, origin: str, method: str = "GET") -> Any:
    return client.http.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


def assert_no_cors(response: Any) -> None:
    assert not CORS_HEADERS & set(response.headers), response.headers
    assert response.headers["Vary"] == "Origin"


def test_every_route_path_has_a_preflight_view() -> None:
    assert PATHS == [
        "/api/applications",
        "/api/applications/stats",
        "/api/applications/{app_id}",
        "/api/applications/{app_id}/interviews",
        "/api/applications/{app_id}/interviews/{interview_id}",
        "/api/calendar",
        "/api/export",
        "/api/import",
        "/api/interviews",
        "/api/user",
        "/auth/google",
        "/auth/logout",
        "/calendar/{feed}",
        "/docs",
        "/docs/{asset}",
        "/health",
        "/health/ready",
        "/openapi.json",
        "/reminders/unsubscribe/{token}",
    ]
    for path in PATHS:
        assert "OPTIONS" in app_module.app.routes[path]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://localhost:5173"])
def test_preflight_from_an_allowed_origin(client: Client, path: str, origin: str) -> None:
    response = preflight(client, path, origin)
    assert response.status_code == 204
    assert response.body == b""
    methods = sorted(app_module.app.routes[path])
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Allow-Methods"] == ", ".join(methods)
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type, If-Match"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert response.headers["Vary"] == "Origin"


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "origin", [EVIL, "null", "http://localhost:3001", "https://localhost:3000", "http://localhost:3000.evil.example"]
)
def test_preflight_from_any_other_origin_gets_no_cors_headers(client: Client, path: str, origin: str) -> None:
    response = preflight(client, path, origin)
    assert response.status_code == 204
    assert_no_cors(response)


def test_responses_of_every_kind_carry_the_headers_for_an_allowed_origin_only(client: Client) -> None:
    requests = [
        ("get", "/health", {}, 200),
        ("get", "/api/user", {}, 401),
        ("post", "/auth/google", {"Content-Type": "application/json", "body": "{}"}, 400),
        ("post", "/auth/google", {"Content-Type": "text/plain", "body": "x"}, 415),
        ("put", "/api/user", {}, 405),
    ]
    for method, path, extra, status in requests:
        raw = extra.pop("body", None) if isinstance(extra, dict) else None
        for origin in (ALLOWED, EVIL, None):
            headers = dict(extra)
            if origin:
                headers["Origin"] = origin
            response = getattr(client.http, method)(path, headers=headers, **({"body": raw} if raw else {}))
            assert response.status_code == status, (method, path, response.body)
            if origin == ALLOWED:
                assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
                assert response.headers["Access-Control-Allow-Credentials"] == "true"
                assert (
                    response.headers["Access-Control-Expose-Headers"] == "ETag, Location, Retry-After, WWW-Authenticate"
                )
                assert response.headers["Vary"] == "Origin"
            else:
                assert_no_cors(response)
            assert "*" not in response.headers.get("Access-Control-Allow-Origin", "")


def test_prod_allows_its_own_origins(make_client: MakeClient) -> None:
    prod = make_client("prod")
    for origin in ("https://zduan-job.vercel.app", "http://localhost:3000"):
        response = prod.http.get("/health", headers={"Origin": origin})
        assert response.status_code == 200, response.body
        assert response.headers["Access-Control-Allow-Origin"] == origin
    assert_no_cors(prod.http.get("/health", headers={"Origin": "http://localhost:5173"}))
    assert_no_cors(prod.http.get("/health", headers={"Origin": "https://zduan-job-preview.vercel.app"}))


def test_preview_deployment_pattern(make_client: MakeClient) -> None:
    client = make_client("dev", ALLOWED_ORIGINS="https://zduan-job.vercel.app,https://zduan-job-*.vercel.app")
    for origin in ("https://zduan-job-git-main-zduan.vercel.app", "https://zduan-job-a1b2c3.vercel.app"):
        response = preflight(client, "/api/user", origin)
        assert response.headers["Access-Control-Allow-Origin"] == origin
    for origin in (
        "https://zduan-job-.vercel.app",
        "https://zduan-job-a.evil.vercel.app",
        "https://zduan-job-a.vercel.app.evil.example",
        "http://zduan-job-a.vercel.app",
        "https://xzduan-job-a.vercel.app",
        "https://zduan-job-a.vercel.app:8443",
    ):
        assert_no_cors(preflight(client, "/api/user", origin))


def test_a_broken_configuration_still_answers_the_browser_readably(make_client: MakeClient) -> None:
    client = make_client("dev", JWT_SECRET_KEY="short")
    response = client.http.get("/api/user", headers={"Origin": ALLOWED})
    assert response.status_code == 503
    assert body(response)["error"] == "misconfigured"
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_the_policy_never_answers_star() -> None:
    policy = CorsPolicy([parse_origin("https://a-*.example.com")])
    assert policy.response_headers("*") == {}
    assert policy.preflight_headers("*", ["GET"]) == {}
    assert policy.response_headers(None) == {}
