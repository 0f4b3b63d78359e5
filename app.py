"""Job Hunt Tracker API: the HTTP layer. Routes read the request, call one function, return its result."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import logging
import re
import sys
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from chalice.app import Chalice, Request, Response

from chalicelib import __version__, settings, tracker
from chalicelib.auth import authenticate, sign_in_with_google
from chalicelib.cors import add_vary_origin
from chalicelib.errors import ApiError, BadRequest, ServiceUnavailable
from chalicelib.jwt_secret import SecretUnavailable, jwt_secret
from chalicelib.models import Application
from chalicelib.ratelimit import check_sign_in
from chalicelib.store.base import Store, UserNotFound, outage_message
from chalicelib.store.factory import store_for
from chalicelib.tokens import Identity

app = Chalice(app_name="job-hunt-tracker-api")
# A JSON-only API: without binary types chalice skips matching every response's content type
# against its sixteen defaults (about 3 us of each warm request).
app.api.binary_types = []
log = logging.getLogger("job-hunt-tracker")

JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, separators=(",", ":")), status_code=status, headers={**JSON_HEADERS, **(headers or {})}
    )


def error_response(err: ApiError) -> Response:
    return json_response(err.body(), err.status, err.headers)


@dataclass(frozen=True)
class Call:
    """What a route function gets: valid settings, the request, and who sent it (when required)."""

    settings: settings.Settings
    secret: str
    request: Request
    identity: Identity | None = None

    @property
    def store(self) -> Store:
        return store_for(self.settings)

    @property
    def query(self) -> dict[str, list[str]]:
        params = self.request.query_params
        return {name: params.getlist(name) for name in params} if params else {}

    def header(self, name: str) -> str | None:
        value = self.request.headers.get(name.lower())
        return value if isinstance(value, str) else None

    @property
    def client_ip(self) -> str:
        identity = self.request.context.get("identity") or {}
        return str(identity.get("sourceIp") or "unknown")

    def location(self, path: str) -> str:
        """`path` as the client reached this API: with the stage prefix API Gateway put in front."""
        full = str(self.request.context.get("path") or self.request.path)
        resource = self.request.path
        prefix = full[: -len(resource)] if resource and full.endswith(resource) else ""
        return prefix + path

    def json_body(self) -> Any:
        raw = self.request.raw_body
        if not raw:
            raise BadRequest("The request body is empty; send a JSON object.", field="body")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("The request body is not valid JSON.", field="body") from None

    @property
    def user(self) -> Identity:
        assert self.identity is not None, "route registered without auth=True"
        return self.identity


def endpoint(
    path: str, methods: tuple[str, ...] = ("GET",), *, auth: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a route whose function takes a `Call` and returns a JSON-able value or a Response."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def view(**params: str) -> Response:
            try:
                loaded = settings.load()
                try:
                    secret = jwt_secret(loaded.settings) if loaded.settings else None
                except SecretUnavailable as exc:
                    log.error("configuration invalid: %s", exc)
                    secret = None
                if loaded.settings is None or secret is None:
                    raise ServiceUnavailable(
                        "The API is misconfigured; GET /health lists the settings at fault.",
                        code="misconfigured",
                    )
                request = app.current_request
                assert request is not None
                authorization = request.headers.get("authorization")
                identity = authenticate(loaded.settings, secret, authorization) if auth else None
                if identity is not None:
                    _log_user.set(_user_hash(secret, identity.user_id))
                result = fn(Call(loaded.settings, secret, request, identity), **params)
            except ApiError as err:
                return error_response(err)
            except UserNotFound:
                return error_response(tracker.account_gone())
            except Exception as exc:
                # --- issue 10: a missing/unreachable/denied/throttled store is a 503 naming the table ---
                outage = outage_message(exc, table=loaded.settings.table_name if loaded.settings else None)
                if outage is None:
                    raise
                log.error("storage unavailable: %s", outage)
                return error_response(ServiceUnavailable(outage, retry_after=5, code="storage_unavailable"))
            return result if isinstance(result, Response) else json_response(result)

        app.route(path, methods=list(methods))(view)
        return fn

    return register


@app.route("/health")
def health() -> Response:
    loaded = settings.load()
    problems = list(loaded.problems)
    if loaded.settings is not None:
        try:
            jwt_secret(loaded.settings)
        except SecretUnavailable as exc:
            problems.append(str(exc))
    if problems:
        body = {"status": "unhealthy", "problems": problems, "stage": loaded.stage, "version": __version__}
        return json_response(body, 503)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json_response({"status": "healthy", "timestamp": now, "stage": loaded.stage, "version": __version__})


# --- issue 10: readiness (all logic in chalicelib/readiness.py) ---
@app.route("/health/ready")
def health_ready() -> Response:
    from chalicelib import readiness  # imported here: only this route pays for what it checks

    result = readiness.check(settings.load())
    return json_response(result.body(), result.status)


@endpoint("/auth/google", ("POST",))
def auth_google(call: Call) -> Any:
    limit = call.settings.signin_rate_limit_per_minute
    check_sign_in(call.store, secret=call.secret, client_ip=call.client_ip, limit=limit, now=time.time())
    result = sign_in_with_google(call.settings, call.secret, call.store, call.json_body(), tracker.utc_now())
    _log_user.set(_user_hash(call.secret, result["user"]["id"]))
    return result


@endpoint("/api/user", auth=True)
def read_user(call: Call) -> Any:
    return tracker.profile(call.store, call.user.user_id).model_dump(mode="json")


@endpoint("/api/user", ("DELETE",), auth=True)
def delete_user(call: Call) -> Response:
    tracker.delete_account(call.store, call.user.user_id)
    return Response(body="", status_code=204)


def _application_response(call: Call, app: Application, status: int = 200) -> Response:
    headers = {"ETag": tracker.etag(app)}
    if status == 201:
        headers["Location"] = call.location(f"/api/applications/{app.id}")
    return json_response(app.to_json(), status, headers)


@endpoint("/api/applications", ("POST",), auth=True)
def create_application(call: Call) -> Response:
    app = tracker.create_application(call.store, call.user.user_id, call.json_body())
    return _application_response(call, app, 201)


@endpoint("/api/applications", auth=True)
def list_applications(call: Call) -> Any:
    cursors = tracker.Cursors(call.secret)
    return tracker.list_applications(call.store, cursors, call.user.user_id, call.query)


@endpoint("/api/applications/stats", auth=True)
def application_stats(call: Call) -> Any:
    return tracker.stats(call.store, call.user.user_id)


@endpoint("/api/applications/{app_id}", auth=True)
def read_application(call: Call, app_id: str) -> Response:
    return _application_response(call, tracker.get_application(call.store, call.user.user_id, app_id))


@endpoint("/api/applications/{app_id}", ("PATCH",), auth=True)
def update_application(call: Call, app_id: str) -> Response:
    body = call.json_body()
    app = tracker.update_application(call.store, call.user.user_id, app_id, body, call.header("If-Match"))
    return _application_response(call, app)


@endpoint("/api/applications/{app_id}", ("DELETE",), auth=True)
def delete_application(call: Call, app_id: str) -> Response:
    tracker.delete_application(call.store, call.user.user_id, app_id, call.header("If-Match"))
    return Response(body="", status_code=204)


_openapi_document: dict[str, Any] | None = None


@app.route("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 document, generated from this route table and the models on first request."""
    global _openapi_document
    if _openapi_document is None:
        from chalicelib import openapi  # imported here: cold starts do not pay for schema generation

        _openapi_document = openapi.document(app.routes)
    return json_response(_openapi_document)


# --- CORS -------------------------------------------------------------------------------------
# API Gateway cannot answer a multi-origin preflight with credentials, so every path gets an
# OPTIONS view of its own (an aws_proxy integration that reaches this function), and the
# middleware below puts the same CORS headers on every response the app produces.


def _preflight(**_params: str) -> Response:
    return Response(body="", status_code=204)


def _register_preflights() -> None:
    for path, methods in list(app.routes.items()):
        if "OPTIONS" not in methods:
            name = "preflight_" + (re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "root")
            app.route(path, methods=["OPTIONS"], name=name)(_preflight)


_register_preflights()

_CHALICE_ERROR = re.compile(r"(?<!^)(?=[A-Z])")


def _normalise_chalice_error(response: Response) -> None:
    """Chalice's own errors (405, 415, 500) in the same shape as ours."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = _CHALICE_ERROR.sub("_", str(body["Code"])).lower().removesuffix("_error")
        response.body = json.dumps({"error": code, "message": body["Message"]}, separators=(",", ":"))
        response.headers.update(JSON_HEADERS)


# --- one structured log line per request ---------------------------------------------------------
# Never a token, a credential, a secret, an email or a raw user id: the user is a keyed hash,
# stable for one user (to follow a session in the logs) and useless without the secret.

_log_user: ContextVar[str | None] = ContextVar("log_user", default=None)
_cold_start = True


def _user_hash(secret: str, user_id: str) -> str:
    return hmac.new(secret.encode(), f"log\n{user_id}".encode(), hashlib.sha256).hexdigest()[:16]


@app.middleware("http")
def access_log(event: Request, get_response: Callable[[Request], Response]) -> Response:
    global _cold_start
    cold, _cold_start = _cold_start, False
    reset = _log_user.set(None)
    started = time.perf_counter()
    status = 500
    try:
        response = get_response(event)
        status = response.status_code
        return response
    finally:
        context = app.lambda_context
        record = {
            "request_id": getattr(context, "aws_request_id", None) or event.context.get("requestId"),
            "method": event.method,
            "route": event.path,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "cold_start": cold,
            "user": _log_user.get(),
        }
        _log_user.reset(reset)
        sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")


@app.middleware("http")
def cors_headers(event: Request, get_response: Callable[[Request], Response]) -> Response:
    loaded = settings.load()
    # --- issue 14: inside Lambda, a dev stage or the committed secret answers 503 on every route ---
    if loaded.refusal:
        response = error_response(ServiceUnavailable(loaded.refusal, code="misconfigured"))
    else:
        response = get_response(event)
    _normalise_chalice_error(response)
    policy = loaded.cors
    origin = event.headers.get("origin")
    if event.method == "OPTIONS":
        headers = policy.preflight_headers(origin, app.routes.get(event.path, {}).keys())
    else:
        headers = policy.response_headers(origin)
    response.headers.update(headers)
    response.headers["Vary"] = add_vary_origin(response.headers)
    return response
