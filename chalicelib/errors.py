"""Errors as values: each one knows its HTTP status, and app.py maps them in one place."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Every `error` code the API sends: the one list the code and /openapi.json both use, so a client
    can switch on it with type checking. Adding a code is adding it here."""

    BAD_REQUEST = "bad_request"
    VALIDATION_ERROR = "validation_error"
    UNPROCESSABLE = "unprocessable"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    MISSING_TOKEN = "missing_token"
    INVALID_TOKEN = "invalid_token"
    INVALID_REQUEST = "invalid_request"  # an Authorization header that is not `Bearer <token>`
    INVALID_GOOGLE_CREDENTIAL = "invalid_google_credential"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    PRECONDITION_FAILED = "precondition_failed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    SERVICE_UNAVAILABLE = "service_unavailable"
    MISCONFIGURED = "misconfigured"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    GOOGLE_CERTS_UNAVAILABLE = "google_certs_unavailable"


class ApiError(Exception):
    """A failure a client can see: a status, a stable code and a message a person can act on."""

    status = 400
    code = ErrorCode.BAD_REQUEST

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        retry_after: int | None = None,
        code: ErrorCode | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers = {name: header_value(value) for name, value in (headers or {}).items()}
        if retry_after is not None:
            self.headers["Retry-After"] = str(retry_after)
        if code is not None:
            self.code = ErrorCode(code)  # a more specific code than the class's, e.g. "misconfigured"

    def body(self) -> dict[str, Any]:
        # `detail` is the message again, under the name FastAPI uses: a frontend written against the
        # original backend shows `error.detail`.
        out: dict[str, Any] = {"error": self.code.value, "message": self.message, "detail": self.message}
        if self.field is not None:
            out["field"] = self.field
        return out


class BadRequest(ApiError):
    status = 400
    code = ErrorCode.BAD_REQUEST


class Unauthorized(ApiError):
    """401 with the RFC 6750 challenge, so a client knows to (re)authenticate."""

    status = 401
    code = ErrorCode.INVALID_TOKEN

    def __init__(
        self, message: str, *, field: str = "Authorization", error: ErrorCode | None = ErrorCode.INVALID_TOKEN
    ) -> None:
        challenge = 'Bearer realm="job-hunt-tracker"'
        if error:
            challenge += f', error="{error.value}", error_description="{_quote(message)}"'
        code = error or ErrorCode.MISSING_TOKEN
        super().__init__(message, field=field, headers={"WWW-Authenticate": challenge}, code=code)


class InvalidGoogleCredential(ApiError):
    """The Google ID token we were given cannot be used to sign in."""

    status = 401
    code = ErrorCode.INVALID_GOOGLE_CREDENTIAL

    def __init__(self, message: str, *, field: str = "credential") -> None:
        super().__init__(message, field=field)


class NotFound(ApiError):
    status = 404
    code = ErrorCode.NOT_FOUND


class ValidationFailed(ApiError):
    """422: the JSON was well-formed but its fields are not acceptable; each one is named."""

    status = 422
    code = ErrorCode.VALIDATION_ERROR

    def __init__(self, errors: list[dict[str, str]], detail: list[dict[str, Any]] | None = None) -> None:
        """`errors`: {field, message} each; `detail`: the same in FastAPI's shape ({loc, msg, type},
        `loc` starting with "body"), derived from `errors` when not given."""
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{first['field']}: {first['message']}{more}", field=first["field"])
        self.errors = errors
        self.detail = detail if detail is not None else [_fastapi_detail(e) for e in errors]

    def body(self) -> dict[str, Any]:
        return {**super().body(), "detail": self.detail, "errors": self.errors}


class Unprocessable(ApiError):
    """422 for a well-formed request the API will not carry out (not a field of the body at fault)."""

    status = 422
    code = ErrorCode.UNPROCESSABLE


class PreconditionFailed(ApiError):
    """412: If-Match named a version that is no longer the stored one."""

    status = 412
    code = ErrorCode.PRECONDITION_FAILED


class TooManyRequests(ApiError):
    status = 429
    code = ErrorCode.RATE_LIMITED


class Conflict(ApiError):
    status = 409
    code = ErrorCode.CONFLICT


class PayloadTooLarge(ApiError):
    status = 413
    code = ErrorCode.PAYLOAD_TOO_LARGE


class ServiceUnavailable(ApiError):
    status = 503
    code = ErrorCode.SERVICE_UNAVAILABLE


def _fastapi_detail(error: dict[str, str]) -> dict[str, Any]:
    loc: list[str | int] = ["body", *(int(p) if p.isdigit() else p for p in error["field"].split("."))]
    return {"loc": loc, "msg": error["message"], "type": "value_error"}


# Only visible ASCII and space go into a header value. API Gateway and http.server (chalice local)
# encode header values as Latin-1 or ASCII, and a client-chosen control character in a header is
# how response splitting starts: so line breaks and tabs become spaces, anything else '?'.
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]")


def _header_safe(char: re.Match[str]) -> str:
    return " " if char.group() in "\t\r\n" else "?"


def header_value(text: str) -> str:
    """`text` as a header value: printable ASCII only (every error's headers pass through here)."""
    return _NOT_PRINTABLE_ASCII.sub(_header_safe, text)


def _quote(text: str) -> str:
    """A header-safe quoted-string body: printable ASCII only, no quotes or backslashes."""
    return header_value(text.replace("\\", "").replace('"', "'"))


class UnsupportedMediaType(ApiError):
    status = 415
    code = ErrorCode.UNSUPPORTED_MEDIA_TYPE
