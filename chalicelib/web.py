"""The HTTP edge: the request pipeline every route goes through, and the only module below app.py
that imports chalice.

The path of one request, outermost first:
  access_log middleware   one clock reading and a fresh configuration slot for the request; one
                          JSON log line when it is answered
  cors middleware         Chalice's own errors in our error shape; the CORS headers for the Origin
  Api.route wrapper       configuration (settings + secret, resolved once per request and shared
                          with /health and the CORS middleware) -> 503 if invalid; the bearer
                          token -> Identity; a `Call` with the request, that clock and one store
                          handle; the route function; a domain error -> its status (ERRORS, the
                          one table) ; a storage outage -> 503
  route function (app.py) parse input with chalicelib.inputs, call one use case, return a model
"""

from __future__ import annotations

import functools
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
from pydantic import BaseModel, ValidationError

from chalicelib import ids, inputs, settings, tracker
from chalicelib.auth import authenticate
from chalicelib.clock import Now
from chalicelib.cors import add_vary_origin
from chalicelib.domain_errors import BadFile, BadUnsubscribeLink, FeedNotFound, TooLarge
from chalicelib.errors import (
    ApiError,
    BadRequest,
    Conflict,
    ErrorCode,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ServiceUnavailable,
    Unauthorized,
    Unprocessable,
    ValidationFailed,
)
from chalicelib.jwt_secret import SecretUnavailable, jwt_secret
from chalicelib.models import MAX_INTERVIEWS
from chalicelib.store.base import (
    ApplicationNotFound,
    InterviewNotFound,
    Session,
    SessionEnded,
    Store,
    TooManyInterviews,
    UserNotFound,
    outage_message,
)
from chalicelib.store.factory import store_for
from chalicelib.tokens import Identity

__all__ = ["Api", "Call", "Response", "configuration", "etag", "json_response", "log_user", "no_content", "request_now"]

log = logging.getLogger("job-hunt-tracker")

JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response; `body` is a pydantic model (the shape /openapi.json describes) or plain JSON data."""
    text = body.model_dump_json() if isinstance(body, BaseModel) else json.dumps(body, separators=(",", ":"))
    return Response(body=text, status_code=status, headers={**JSON_HEADERS, **(headers or {})})


def no_content() -> Response:
    return Response(body="", status_code=204)


def etag(app_id: str, version: int) -> str:
    return f'"{app_id}.{version}"'


# ---- configuration, once per request -----------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """The configuration a request runs with: the parsed settings and the JWT secret, or what is wrong."""

    loaded: settings.Loaded
    secret: str | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _resolve() -> Config:
    loaded = settings.load()
    problems = list(loaded.problems)
    secret = None
    if loaded.settings is not None:
        try:
            secret = jwt_secret(loaded.settings)
        except SecretUnavailable as exc:
            log.error("configuration invalid: %s", exc)
            problems.append(str(exc))
    return Config(loaded, secret, tuple(problems))


_config: ContextVar[Config | None] = ContextVar("config", default=None)


def configuration() -> Config:
    """This request's configuration, resolved on first use and shared by everything after."""
    config = _config.get()
    if config is None:
        config = _resolve()
        _config.set(config)
    return config


# ---- what a route function gets ----------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """A request with valid settings: the settings, the secret, one clock reading, one store handle,
    and who sent it (for routes registered with auth=True)."""

    settings: settings.Settings
    secret: str
    request: Request
    now: Now
    store: Store
    identity: Identity | None = None

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

    def url(self, path: str) -> str:
        """`path` as an absolute URL: under PUBLIC_API_URL when the stage sets it (the address the public
        reaches this API at), else as the client reached it (host and stage prefix; the scheme only
        http or https, whatever a header claims)."""
        if self.settings.public_api_url:
            return self.settings.public_api_url.rstrip("/") + path
        host = self.header("Host") or ""
        if not re.fullmatch(r"[A-Za-z0-9.:\[\]-]{1,255}", host):
            host = "localhost"
        local = host.split(":")[0] in ("localhost", "127.0.0.1")
        forwarded = (self.header("X-Forwarded-Proto") or "").split(",")[0].strip().lower()
        scheme = forwarded if forwarded in ("http", "https") else "http" if local else "https"
        return f"{scheme}://{host}{self.location(path)}"

    def json_body(self, what: str = "a JSON object") -> Any:
        return inputs.json_body(self.request.raw_body, what=what)

    @property
    def user(self) -> Identity:
        assert self.identity is not None, "route registered without auth=True"
        return self.identity

    @property
    def session(self) -> Session:
        return self.user.session


# ---- domain errors -> statuses: the one table ----------------------------------------------------


# What each validated body is, and each nested object, for "is not a field of ...".
_BODIES = {
    "ApplicationData": "an application",
    "ApplicationPatch": "an application",
    "InterviewData": "an interview",
    "InterviewPatch": "an interview",
    "UserPatch": "the user settings",
}
_NESTED = {"contacts": "a contact", "reminders": "the reminder settings"}


def _validation_failed(exc: ValidationError) -> ValidationFailed:
    errors: list[dict[str, str]] = []
    detail: list[dict[str, Any]] = []  # FastAPI's shape: pydantic's loc (under "body") and type
    for err in exc.errors(include_url=False, include_input=False):
        field = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        loc: list[str | int] = ["body", *err["loc"]]
        if err["type"] == "extra_forbidden":
            parents = [p for p in err["loc"][:-1] if isinstance(p, str)]
            what = _NESTED.get(parents[-1], "this object") if parents else _BODIES.get(exc.title, "this request")
            message = f"is not a field of {what}"
        elif not field:  # a rule on the whole model names its field first in the message
            field = message.split(" ", 1)[0]
            if field != "body":
                loc.append(field)
        errors.append({"field": field or "body", "message": message})
        detail.append({"loc": loc, "msg": message, "type": err["type"]})
    return ValidationFailed(errors, detail)


def _stale(exc: tracker.Stale) -> PreconditionFailed:
    what = exc.what
    current = etag(exc.app_id, exc.version)
    if exc.changed:
        message = (
            f"The {what} changed since you read it (it is now version {exc.version}); "
            "GET it again and reapply your change."
        )
    else:
        message = f"If-Match does not match this {what}'s current ETag, {current}; send the ETag of your last GET."
    return PreconditionFailed(message, field="If-Match", headers={"ETag": current})


ERRORS: dict[type[Exception], Callable[[Any], ApiError]] = {
    UserNotFound: lambda _: Unauthorized("This account no longer exists; sign in again to start a new one."),
    SessionEnded: lambda _: Unauthorized(
        "This session has ended: the token was signed out, or the account deleted since; sign in again."
    ),
    ApplicationNotFound: lambda exc: NotFound(f"No application with id {str(exc)[:40]!r}.", field="id"),
    tracker.Stale: _stale,
    InterviewNotFound: lambda exc: NotFound(
        f"No interview with id {str(exc)[:40]!r} on this application.", field="interview_id"
    ),
    TooManyInterviews: lambda _: Conflict(
        f"This application already has {MAX_INTERVIEWS} interviews, the most it may have; delete one first.",
        field="interviews",
    ),
    tracker.BadWindow: lambda exc: BadRequest(str(exc), field="to"),
    BadUnsubscribeLink: lambda _: NotFound(
        "This unsubscribe link is not valid (or its account was deleted).", field="token"
    ),
    tracker.Busy: lambda _: Conflict(
        "The application is being changed by other requests right now; try again.", field="id"
    ),
    tracker.IdempotencyKeyReused: lambda _: Unprocessable(
        "This Idempotency-Key was used for a create with another body; use a new key for a new application.",
        field="Idempotency-Key",
        code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
    ),
    ValidationError: _validation_failed,
    TooLarge: lambda exc: PayloadTooLarge(str(exc), field="body"),
    BadFile: lambda exc: BadRequest(str(exc), field=exc.field),
    FeedNotFound: lambda _: NotFound("No calendar feed has this address (it was replaced or deleted).", field="feed"),
}


def api_error(exc: Exception) -> ApiError | None:
    """The client-facing error for `exc`, or None when it is not one (a bug or an outage)."""
    if isinstance(exc, ApiError):
        return exc
    for kind in type(exc).__mro__:
        to_error = ERRORS.get(kind)
        if to_error is not None:
            return to_error(exc)
    return None


def error_response(err: ApiError) -> Response:
    return json_response(err.body(), err.status, err.headers)


# ---- the app and its pipeline ------------------------------------------------------------------

_request_now: ContextVar[Now | None] = ContextVar("now", default=None)
_log_user: ContextVar[str | None] = ContextVar("log_user", default=None)


def log_user(secret: str, user_id: str) -> None:
    _log_user.set(ids.log_hash(secret, user_id))


class Api:
    """A Chalice app whose routes take a `Call`, with the pipeline's two middlewares installed."""

    def __init__(self, name: str) -> None:
        self.app = Chalice(app_name=name)
        # A JSON-only API: without binary types chalice skips matching every response's content type
        # against its sixteen defaults (about 3 us of each warm request).
        self.app.api.binary_types = []
        self._cold_start = True
        self.app.middleware("http")(self._access_log)
        self.app.middleware("http")(self._cors)

    def route(
        self,
        path: str,
        methods: tuple[str, ...] = ("GET",),
        *,
        auth: bool = False,
        content_types: tuple[str, ...] = ("application/json",),
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a route whose function takes a `Call` and returns a model, JSON data or a Response.

        `content_types`: the request bodies it takes (chalice answers any other with 415)."""

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(fn)
            def view(**params: str) -> Response:
                try:
                    return self._run(fn, auth, params)
                except Exception as exc:
                    err = api_error(exc)
                    if err is not None:
                        return error_response(err)
                    # A missing/unreachable/denied/throttled store: a 503 naming the table and what to run.
                    loaded = configuration().loaded.settings
                    outage = outage_message(exc, table=loaded.table_name if loaded else None)
                    if outage is None:
                        raise
                    log.error("storage unavailable: %s", outage)
                    return error_response(ServiceUnavailable(outage, retry_after=5, code=ErrorCode.STORAGE_UNAVAILABLE))

            self.app.route(path, methods=list(methods), content_types=list(content_types))(view)
            return fn

        return register

    def _run(self, fn: Callable[..., Any], auth: bool, params: dict[str, str]) -> Response:
        config = configuration()
        if not config.ok or config.loaded.settings is None or config.secret is None:
            raise ServiceUnavailable(
                "The API is misconfigured; GET /health lists the settings at fault.", code=ErrorCode.MISCONFIGURED
            )
        request = self.app.current_request
        assert request is not None
        now = request_now()
        identity = None
        if auth:
            identity = authenticate(config.loaded.settings, config.secret, request.headers.get("authorization"), now)
            log_user(config.secret, identity.user_id)
        call = Call(config.loaded.settings, config.secret, request, now, store_for(config.loaded.settings), identity)
        result = fn(call, **params)
        return result if isinstance(result, Response) else json_response(result)

    def add_preflights(self) -> None:
        """An OPTIONS view on every path: API Gateway cannot answer a multi-origin preflight with
        credentials, so each reaches this function, and the CORS middleware answers it."""
        for path, methods in list(self.app.routes.items()):
            if "OPTIONS" not in methods:
                name = "preflight_" + (re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "root")
                self.app.route(path, methods=["OPTIONS"], name=name)(_preflight)

    # -- middlewares ------------------------------------------------------------------------------

    def _access_log(self, event: Request, get_response: Callable[[Request], Response]) -> Response:
        """One structured line per request: never a token, a credential, an email or a raw user id."""
        cold, self._cold_start = self._cold_start, False
        resets = (_log_user.set(None), _config.set(None), _request_now.set(Now.read()))
        started = time.perf_counter()
        status = 500
        try:
            response = get_response(event)
            status = response.status_code
            return response
        finally:
            context = self.app.lambda_context
            record = {
                "request_id": getattr(context, "aws_request_id", None) or event.context.get("requestId"),
                "method": event.method,
                "route": event.path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "cold_start": cold,
                "user": _log_user.get(),
            }
            _log_user.reset(resets[0])
            _config.reset(resets[1])
            _request_now.reset(resets[2])
            sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")

    def _cors(self, event: Request, get_response: Callable[[Request], Response]) -> Response:
        loaded = configuration().loaded
        # Inside Lambda, a development stage or the committed dev secret answers 503 on every route.
        if loaded.refusal:
            response = error_response(ServiceUnavailable(loaded.refusal, code=ErrorCode.MISCONFIGURED))
        else:
            response = get_response(event)
        _normalise_chalice_error(response)
        policy = loaded.cors
        origin = event.headers.get("origin")
        if event.method == "OPTIONS":
            headers = policy.preflight_headers(origin, self.app.routes.get(event.path, {}).keys())
        else:
            headers = policy.response_headers(origin)
        response.headers.update(headers)
        response.headers["Vary"] = add_vary_origin(response.headers)
        return response


def request_now() -> Now:
    """The clock reading of the current request (a fresh one outside a request)."""
    return _request_now.get() or Now.read()


def _preflight(**_params: str) -> Response:
    return Response(body="", status_code=204)


# Chalice's own error codes (its error_response() and ChaliceViewError class names) -> ours.
CHALICE_ERRORS: dict[str, ErrorCode] = {
    "BadRequest": ErrorCode.BAD_REQUEST,
    "BadRequestError": ErrorCode.BAD_REQUEST,
    "NotFoundError": ErrorCode.NOT_FOUND,
    "MethodNotAllowedError": ErrorCode.METHOD_NOT_ALLOWED,
    "UnsupportedMediaType": ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    "InternalServerError": ErrorCode.INTERNAL_ERROR,
}


def _normalise_chalice_error(response: Response) -> None:
    """Chalice's own errors (405, 415, 500) in the same shape as ours."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        fallback = ErrorCode.INTERNAL_ERROR if response.status_code >= 500 else ErrorCode.BAD_REQUEST
        error = ApiError(str(body["Message"]), code=CHALICE_ERRORS.get(str(body["Code"]), fallback))
        response.body = json.dumps(error.body(), separators=(",", ":"))
        response.headers.update(JSON_HEADERS)
