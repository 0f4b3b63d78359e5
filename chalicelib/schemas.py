"""The bodies the OpenAPI document describes beyond chalicelib.models: errors, sign-in, health, pages.

models.py holds what the code validates and stores; these describe the remaining bodies the API
sends or accepts, so that /openapi.json derives every schema from a model. They live apart so only
the /openapi.json route (and the tests, which check the real responses validate against them)
pays for building them: they are not on the cold start of any other request.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from chalicelib.auth import MAX_CREDENTIAL_LENGTH
from chalicelib.errors import ErrorCode


def _optional_not_null(schema: dict[str, Any]) -> None:
    """For a field that is absent rather than null: its schema has no `default: null` to contradict it."""
    schema.pop("default", None)


Omitted = Field(None, json_schema_extra=_optional_not_null)


class FieldError(BaseModel):
    """One field at fault in a 422."""

    model_config = ConfigDict(extra="forbid")

    field: str
    message: str


class ValidationDetail(BaseModel):
    """One field at fault in a 422, in FastAPI's shape (what the original backend sent)."""

    model_config = ConfigDict(extra="forbid")

    loc: list[str | int]  # where: "body", then the field's path, e.g. ["body", "tags", 0]
    msg: str
    type: str  # pydantic's error type, e.g. "missing", "string_too_long", "extra_forbidden"


class ErrorBody(BaseModel):
    """Every error the API answers: a stable code, a message a person can act on, and what is at fault.

    Built by errors.ApiError.body() (and web.py for Chalice's own errors), which leaves out `field`
    and `errors` when there is nothing to say: they are optional, never null.
    """

    model_config = ConfigDict(extra="forbid")

    error: ErrorCode
    message: str
    detail: str | list[ValidationDetail] = Field(
        description="For frontends written against the original (FastAPI) backend: the message again, "
        "or for a 422 the fields at fault as FastAPI lists them. New code should read `error` and `errors`."
    )
    field: str | SkipJsonSchema[None] = Omitted
    errors: list[FieldError] | SkipJsonSchema[None] = Omitted


GoogleIdToken = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CREDENTIAL_LENGTH)]


class SignInWithCredential(BaseModel):
    """The name Google Identity Services uses for the ID token."""

    credential: GoogleIdToken


class SignInWithToken(BaseModel):
    """The name the original backend's frontend sends."""

    token: GoogleIdToken


class SignInWithIdToken(BaseModel):
    """The name some older frontends send."""

    id_token: GoogleIdToken


class SignInRequest(RootModel[SignInWithCredential | SignInWithToken | SignInWithIdToken]):
    """POST /auth/google: the Google ID token under one of three names, `credential` first.
    auth.credential_from reads it (the first of the three present); other keys are ignored."""


class SignOutRequest(BaseModel):
    """POST /auth/logout: optional; without it only the token sent is signed out."""

    model_config = ConfigDict(extra="forbid")

    everywhere: bool | SkipJsonSchema[None] = Omitted


class Readiness(BaseModel):
    """GET /health/ready: each check "ok" or its problem in words (never a secret)."""

    status: Literal["ready", "not_ready"]
    checks: dict[Literal["configuration", "secret", "storage", "google_certs"], str]
    stage: str | None
    version: str


class NotReady(Readiness):
    """GET /health/ready's 503: the checks, and the failed ones as one message (`detail`, as every error body)."""

    status: Literal["not_ready"]
    detail: str
