"""API Gateway REST API (v1) proxy events, and the routes each app is measured on.

A route here is what the child process needs: the event (as JSON text, loaded afresh for every
call), the status the answer must have, and whether it must carry CORS headers.

Chalice routes on `requestContext.resourcePath` (the route template, e.g.
`/api/applications/{app_id}`), so this app's events are "literal": `resource` and
`requestContext.resourcePath` are the template, `pathParameters` its values. The original
(FastAPI + Mangum) was deployed behind one catch-all `/{proxy+}` resource and routes on `path`.
`path` never holds the stage on the execute-api endpoint; `requestContext.path` does.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ORIGIN = "http://localhost:3000"
STAGE = "prod"
SOURCE_IP = "203.0.113.10"
Style = Literal["literal", "proxy"]


def rest_v1_event(
    method: str,
    template: str,
    *,
    style: Style,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    body: str | None = None,
    stage: str = STAGE,
) -> dict[str, Any]:
    """The event API Gateway sends for `method` on the route `template` filled with `params`."""
    path = template.format(**params) if params else template
    if style == "literal":
        resource, path_params = template, dict(params) if params else None
    else:
        resource, path_params = "/{proxy+}", {"proxy": path.lstrip("/")}
    api_id = "a1b2c3d4e5"
    host = f"{api_id}.execute-api.us-east-1.amazonaws.com"
    all_headers = {
        "Accept": "application/json, text/plain, */*",
        "Accept-Encoding": "gzip, deflate, br",
        "Accept-Language": "en-US,en;q=0.9",
        "Host": host,
        "Origin": ORIGIN,
        "Referer": ORIGIN + "/",
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
        "X-Amzn-Trace-Id": "Root=1-67000000-0123456789abcdef01234567",
        "X-Forwarded-For": SOURCE_IP,
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **(headers or {}),
    }
    now = time.time()
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": api_id,
            "domainName": host,
            "domainPrefix": api_id,
            "extendedRequestId": "AbCdEfGhIjKlMnO=",
            "httpMethod": method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": SOURCE_IP,
                "user": None,
                "userAgent": all_headers["User-Agent"],
                "userArn": None,
            },
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": "abc123",
            "resourcePath": resource,
            "stage": stage,
        },
        "body": body,
        "isBase64Encoded": False,
    }


@dataclass(frozen=True)
class Route:
    """One request, as the child process gets it."""

    name: str
    method: str
    template: str
    style: Style
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] | None = None
    body: Any = None
    expect_status: int = 200
    expect_cors: bool = True
    raw_body: str | None = None  # a body sent as it is (not JSON), e.g. a CSV file

    def job(self) -> dict[str, Any]:
        event = rest_v1_event(
            self.method,
            self.template,
            style=self.style,
            params=self.params,
            headers=self.headers,
            query=self.query,
            body=self.raw_body if self.raw_body is not None else None if self.body is None else json.dumps(self.body),
        )
        return {
            "name": self.name,
            "event": json.dumps(event),
            "expect_status": self.expect_status,
            "expect_cors": self.expect_cors,
        }


JSON = {"Content-Type": "application/json"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# The routes both apps serve. The sign-in body names the credential as each app's frontend sends it.
# `token` may be a placeholder ("@@token@@") that the child fills from an earlier sign-in's answer.


def health(style: Style) -> Route:
    return Route("health", "GET", "/health", style)


def user(style: Style, token: str) -> Route:
    return Route("user", "GET", "/api/user", style, headers=bearer(token))


def google(style: Style, id_token: str, *, field_name: str, name: str = "google") -> Route:
    return Route(name, "POST", "/auth/google", style, headers=JSON, body={field_name: id_token})


# This app's application routes.
APP = "/api/applications/{app_id}"
APPS = "/api/applications"


def application(token: str, app_id: str, name: str = "application") -> Route:
    return Route(name, "GET", APP, "literal", params={"app_id": app_id}, headers=bearer(token))


def create_application(token: str, body: dict[str, Any], name: str = "create") -> Route:
    return Route(name, "POST", APPS, "literal", headers={**bearer(token), **JSON}, body=body, expect_status=201)


def update_application(token: str, app_id: str, body: dict[str, Any], *, if_match: str | None, name: str) -> Route:
    headers = {**bearer(token), **JSON, **({"If-Match": if_match} if if_match else {})}
    return Route(name, "PATCH", APP, "literal", params={"app_id": app_id}, headers=headers, body=body)


def delete_application(token: str, app_id: str, *, if_match: str | None, name: str) -> Route:
    headers = {**bearer(token), **({"If-Match": if_match} if if_match else {})}
    return Route(name, "DELETE", APP, "literal", params={"app_id": app_id}, headers=headers, expect_status=204)


def import_csv(token: str, text: str, *, name: str, dry_run: bool = False) -> Route:
    headers = {**bearer(token), "Content-Type": "text/csv"}
    query = {"dry_run": "true"} if dry_run else None
    return Route(name, "POST", "/api/import", "literal", headers=headers, query=query, raw_body=text)


def list_applications(token: str, query: Mapping[str, str], name: str) -> Route:
    return Route(name, "GET", APPS, "literal", headers=bearer(token), query=query)


def stats(token: str, name: str = "stats") -> Route:
    return Route(name, "GET", APPS + "/stats", "literal", headers=bearer(token))


INTERVIEWS = APP + "/interviews"


def create_interview(token: str, app_id: str, body: dict[str, Any], name: str = "create_interview") -> Route:
    headers = {**bearer(token), **JSON}
    return Route(
        name, "POST", INTERVIEWS, "literal", params={"app_id": app_id}, headers=headers, body=body, expect_status=201
    )


def interviews(token: str, app_id: str, name: str = "interviews") -> Route:
    return Route(name, "GET", INTERVIEWS, "literal", params={"app_id": app_id}, headers=bearer(token))


def agenda(token: str, query: Mapping[str, str], name: str = "agenda") -> Route:
    return Route(name, "GET", "/api/interviews", "literal", headers=bearer(token), query=query)
