"""The bodies the OpenAPI document describes beyond chalicelib.models: errors, sign-in, health, pages.

models.py holds what the code validates and stores; these describe the remaining bodies the API
sends or accepts, so that /openapi.json derives every schema from a model. They live apart so only
the /openapi.json route (and the tests, which check the real responses validate against them)
pays for building them: they are not on the cold start of any other request.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema


def _optional_not_null(schema: dict[str, Any]) -> None:
    """For a field that is absent rather than null: its schema has no `default: null` to contradict it."""
    schema.pop("default", None)


Omitted = Field(None, json_schema_extra=_optional_not_null)


class FieldError(BaseModel):
    """One field at fault in a 422."""

    model_config = ConfigDict(extra="forbid")

    field: str
    message: str


class ErrorBody(BaseModel):
    """Every error the API answers: a stable code, a message a person can act on, and what is at fault.

    Built by errors.ApiError.body() (and app.py for Chalice's own errors), which leaves out `field`
    and `errors` when there is nothing to say: they are optional, never null.
    """

    model_config = ConfigDict(extra="forbid")

    error: str
    message: str
    field: str | SkipJsonSchema[None] = Omitted
    errors: list[FieldError] | SkipJsonSchema[None] = Omitted


GoogleIdToken = Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class SignInRequest(BaseModel):
    """POST /auth/google: the Google ID token, under the name Google Identity Services uses (`credential`)
    or one older frontends send (`token`, `id_token`). auth.credential_from reads it; other keys are ignored."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": [name]} for name in ("credential", "token", "id_token")]}
    )

    credential: GoogleIdToken | SkipJsonSchema[None] = Omitted
    token: GoogleIdToken | SkipJsonSchema[None] = Omitted
    id_token: GoogleIdToken | SkipJsonSchema[None] = Omitted


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
