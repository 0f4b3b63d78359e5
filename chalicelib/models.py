"""What comes in and goes out of the API: pydantic models, validated at the edge."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    SerializerFunctionWrapHandler,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    computed_field,
    model_serializer,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

# A UTC instant as the API sends it, e.g. "2026-11-26T09:30:00Z" (RFC 3339).
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class UserOut(BaseModel):
    id: str
    email: str
    name: str | None = None
    picture: str | None = None


class AuthResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserOut


class UserRecord(UserOut):
    """A stored profile: what Google told us at the last sign-in, and when."""

    created_at: Timestamp
    last_login_at: Timestamp


class Status(StrEnum):
    WISHLIST = "wishlist"
    APPLIED = "applied"
    SCREENING = "screening"
    INTERVIEWING = "interviewing"
    OFFER = "offer"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    GHOSTED = "ghosted"


# Statuses that mean the employer answered an application.
RESPONSE_STATUSES = frozenset({Status.SCREENING, Status.INTERVIEWING, Status.OFFER, Status.ACCEPTED, Status.REJECTED})


class WorkMode(StrEnum):
    ONSITE = "onsite"
    HYBRID = "hybrid"
    REMOTE = "remote"


# Exactly YYYY-MM-DD: fromisoformat alone also takes 20260101 and 2026-W01-1. ASCII digits only
# (\d would take other scripts' digits) and \Z, not $, which lets a trailing newline through.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def _iso_date(value: Any) -> Any:
    """Dates come as 'YYYY-MM-DD' strings only (no timestamps, no datetimes, no other ISO forms)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError("must be a date string like 2026-11-26 (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a real date like 2026-11-26 (YYYY-MM-DD)") from None


# Unicode category Cc is exactly these 65 code points: C0 (U+0000-U+001F), DEL (U+007F) and C1
# (U+0080-U+009F). Tab, newline and carriage return stay allowed; every other letter, mark,
# symbol or emoji (and the zero-width joiner emoji need, category Cf) is fine.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Validation context for documents read back from a store: what was saved before a rule existed
# is read as it was stored (Application.stored).
STORED = {"stored": True}


def _plain_text(value: str, info: ValidationInfo) -> str:
    """Text a person typed: no control characters but tab, newline and carriage return.

    The rule is on what clients send. A stored application is read with the STORED context and not
    re-checked, so one saved before the rule (a NUL was accepted then) still reads instead of
    failing every list and stats call.
    """
    if _CONTROL.search(value) and not (info.context or {}).get("stored"):
        raise ValueError("must not contain control characters (tab, newline and carriage return are allowed)")
    return value


PlainText = AfterValidator(_plain_text)


def _http_url(value: str) -> str:
    if not value.lower().startswith(("http://", "https://")) or len(value) < 11 or any(c.isspace() for c in value):
        raise ValueError("must be an http(s) URL")
    return value


def _unique_tags(tags: list[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for tag in tags:
        if tag.lower() not in seen:
            seen.add(tag.lower())
            unique.append(tag)
    return unique


Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), PlainText]
OptionalText200 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), PlainText]
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2048), PlainText, AfterValidator(_http_url)]
# Three ASCII letters: the pattern already refuses control characters.
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), PlainText]
Money = Annotated[int, Field(strict=True, ge=0, le=1_000_000_000)]

# The fields a person fills in, other than the required company and role.
OPTIONAL_FIELDS = (
    "url",
    "location",
    "work_mode",
    "salary_min",
    "salary_max",
    "currency",
    "source",
    "applied_on",
    "next_follow_up_on",
    "notes",
)


class _Editable(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: Url | None = None
    location: OptionalText200 | None = None
    work_mode: WorkMode | None = None
    salary_min: Money | None = None
    salary_max: Money | None = None
    currency: Currency | None = None
    source: OptionalText200 | None = None
    applied_on: IsoDate | None = None
    next_follow_up_on: IsoDate | None = None
    notes: Annotated[str, StringConstraints(max_length=10_000), PlainText] | None = None


class ApplicationData(_Editable):
    """A complete, valid set of the fields a person fills in."""

    company: Text200
    role: Text200
    status: Status = Status.WISHLIST
    tags: Annotated[list[Tag], Field(max_length=20), AfterValidator(_unique_tags)] = Field(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _salary_range(cls, data: Any, handler: ModelWrapValidatorHandler[ApplicationData]) -> ApplicationData:
        """salary_min > salary_max is a 422 on salary_min, reported beside any other field's error
        (an "after" validator would run only once every field is valid, hiding it)."""
        try:
            valid = handler(data)
        except ValidationError as exc:
            found = exc.errors()
            faulty = {e["loc"][0] for e in found if e["loc"]}
            if _salary_inverted(data) and not faulty & {"salary_min", "salary_max"}:
                raise _with_salary_error(cls.__name__, found, data) from None
            raise
        if _salary_inverted(valid.model_dump(include={"salary_min", "salary_max"})):
            raise _with_salary_error(cls.__name__, [], valid)
        return valid


SALARY_RANGE = PydanticCustomError("salary_range", "must not exceed salary_max")


def _salary(data: Any, name: str) -> Any:
    return data.get(name) if isinstance(data, dict) else getattr(data, name, None)


def _salary_inverted(data: Any) -> bool:
    low, high = _salary(data, "salary_min"), _salary(data, "salary_max")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
        return False
    return bool(low > high)


def _with_salary_error(title: str, found: list[ErrorDetails], data: Any) -> ValidationError:
    """The errors pydantic found, and the salary range's after them, as one ValidationError."""
    lines: list[InitErrorDetails] = []
    for e in found:
        line: InitErrorDetails = {"type": e["type"], "loc": e["loc"], "input": e["input"]}
        if "ctx" in e:
            line["ctx"] = e["ctx"]
        lines.append(line)
    lines.append({"type": SALARY_RANGE, "loc": ("salary_min",), "input": _salary(data, "salary_min")})
    return ValidationError.from_exception_data(title, lines)


def _without_null(schema: dict[str, Any]) -> None:
    """A field's JSON Schema without its `null` branch. (SkipJsonSchema[None] would do it too, but it
    turns `X | None` into a tagged union whose error locations name the branch.)"""
    branches = [branch for branch in schema.pop("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches


NOT_NULL = Field(None, json_schema_extra=_without_null)


class ApplicationPatch(_Editable):
    """A partial update: only the fields sent change; null clears an optional field.

    company, role, status and tags cannot be cleared: null for them is a 422, so their JSON Schema
    does not allow it (NOT_NULL) although the model must accept None to name the field."""

    company: Text200 | None = NOT_NULL
    role: Text200 | None = NOT_NULL
    status: Status | None = NOT_NULL
    tags: Annotated[list[Tag], Field(max_length=20)] | None = NOT_NULL

    @model_validator(mode="after")
    def _required_stay_set(self) -> ApplicationPatch:
        for name in ("company", "role", "status", "tags"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


OUTPUT_ORDER = (
    "id",
    "company",
    "role",
    "status",
    *OPTIONAL_FIELDS,
    "tags",
    "status_history",
    "created_at",
    "updated_at",
    "version",
)


class StatusChange(BaseModel):
    status: Status
    at: Timestamp


class Application(ApplicationData):
    """A stored application: the fields plus what the server keeps."""

    model_config = ConfigDict(extra="forbid")

    id: str
    created_at: Timestamp
    updated_at: Timestamp
    version: int
    status_history: list[StatusChange]

    @model_serializer(mode="wrap")
    def _in_output_order(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        # No return annotation: the JSON Schema stays the fields' own (an annotation would replace it).
        data = handler(self)
        if not isinstance(data, dict):
            return data
        return {name: data[name] for name in OUTPUT_ORDER if name in data} | data

    @classmethod
    def stored(cls, doc: str | bytes) -> Application:
        """An application as a store saved it (JSON), read without re-applying input-only rules."""
        return cls.model_validate_json(doc, context=STORED)

    def to_json(self) -> dict[str, Any]:
        """The API representation: identity first, then what a person filled in, then history."""
        return self.model_dump(mode="json")


class ApplicationPage(BaseModel):
    """GET /api/applications: one page, newest first, and the cursor of the next page (null on the last)."""

    items: list[Application]
    next_cursor: str | None


Count = Annotated[int, Field(ge=0)]


class StatusCounts(BaseModel):
    """How many applications have each status: every status, 0 included."""

    model_config = ConfigDict(extra="forbid")

    wishlist: Count
    applied: Count
    screening: Count
    interviewing: Count
    offer: Count
    accepted: Count
    rejected: Count
    withdrawn: Count
    ghosted: Count


class ApplicationStats(BaseModel):
    """GET /api/applications/stats (see tracker.stats)."""

    total: Annotated[int, Field(ge=0)]
    by_status: StatusCounts
    applied_last_7_days: Annotated[int, Field(ge=0)]
    applied_last_30_days: Annotated[int, Field(ge=0)]
    response_rate: Annotated[float, Field(ge=0, le=1)]


class Health(BaseModel):
    """GET /health when the configuration is valid."""

    status: Literal["healthy"]
    timestamp: Timestamp
    stage: str
    version: str


class Unhealthy(BaseModel):
    """GET /health when the configuration is invalid: every problem, never a secret's value."""

    status: Literal["unhealthy"]
    problems: list[str]
    stage: str | None
    version: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def detail(self) -> str:
        """The problems as one message, under the name the original (FastAPI) backend's errors used."""
        return "The API is misconfigured: " + "; ".join(self.problems)
