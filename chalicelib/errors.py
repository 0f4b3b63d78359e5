"""Errors as values: each one knows its HTTP status, and app.py maps them in one place."""

from __future__ import annotations

import re
from typing import Any


class ApiError(Exception):
    """A failure a client can see: a status, a stable code and a message a person can act on."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        retry_after: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers = {name: header_value(value) for name, value in (headers or {}).items()}
        if retry_after is not None:
            self.headers["Retry-After"] = str(retry_after)
        if code is not None:
            self.code = code  # a more specific code than the class's, e.g. "misconfigured"

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        return out


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class Unauthorized(ApiError):
    """401 with the RFC 6750 challenge, so a client knows to (re)authenticate."""

    status = 401
    code = "invalid_token"

    def __init__(self, message: str, *, field: str = "Authorization", error: str | None = "invalid_token") -> None:
        challenge = 'Bearer realm="job-hunt-tracker"'
        if error:
            challenge += f', error="{error}", error_description="{_quote(message)}"'
        super().__init__(message, field=field, headers={"WWW-Authenticate": challenge}, code=error or "missing_token")


class InvalidGoogleCredential(ApiError):
    """The Google ID token we were given cannot be used to sign in."""

    status = 401
    code = "invalid_google_credential"

    def __init__(self, message: str, *, field: str = "credential") -> None:
        super().__init__(message, field=field)


class NotFound(ApiError):
    status = 404
    code = "not_found"


class ValidationFailed(ApiError):
    """422: the JSON was well-formed but its fields are not acceptable; each one is named."""

    status = 422
    code = "validation_error"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{first['field']}: {first['message']}{more}", field=first["field"])
        self.errors = errors

    def body(self) -> dict[str, Any]:
        return {**super().body(), "errors": self.errors}


class Unprocessable(ApiError):
    """422 for a well-formed request the API will not carry out (not a field of the body at fault)."""

    status = 422
    code = "unprocessable"


class PreconditionFailed(ApiError):
    """412: If-Match named a version that is no longer the stored one."""

    status = 412
    code = "precondition_failed"


class TooManyRequests(ApiError):
    status = 429
    code = "rate_limited"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class ServiceUnavailable(ApiError):
    status = 503
    code = "service_unavailable"


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
    code = "unsupported_media_type"
