"""What comes in and goes out of the API: pydantic models, validated at the edge."""

from __future__ import annotations

import datetime as dt
import json
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
    WithJsonSchema,
    computed_field,
    field_validator,
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


class Reminders(BaseModel):
    """The person's reminder e-mails: off until they opt in; `hour` is in their time zone."""

    model_config = ConfigDict(extra="forbid")

    email: bool = False
    hour: int = 8


class UserRecord(UserOut):
    """A stored profile: what Google told us at the last sign-in, and when."""

    created_at: Timestamp
    last_login_at: Timestamp
    timezone: str = "UTC"  # an IANA name the person chose (PATCH /api/user); their "today"
    reminders: Reminders = Field(default_factory=Reminders)


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


def _email(value: str) -> str:
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain.strip(".") or any(c.isspace() for c in value):
        raise ValueError("must be an email address like sam@example.com")
    return value


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


class Contact(BaseModel):
    """A person at the employer or agency: who to write to about an application."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text200
    role: OptionalText200 | None = None
    email: Annotated[str, StringConstraints(max_length=254), PlainText, AfterValidator(_email)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40), PlainText] | None = None
    linkedin_url: Url | None = None
    notes: Annotated[str, StringConstraints(max_length=2_000), PlainText] | None = None


Contacts = Annotated[list[Contact], Field(max_length=20)]


class ApplicationData(_Editable):
    """A complete, valid set of the fields a person fills in."""

    company: Text200
    role: Text200
    status: Status = Status.WISHLIST
    tags: Annotated[list[Tag], Field(max_length=20), AfterValidator(_unique_tags)] = Field(default_factory=list)
    contacts: Contacts = Field(default_factory=list)

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


def _not_null(value: Any, info: ValidationInfo) -> Any:
    """For a field a patch may leave out but not clear: sent as null, a 422 located at the field."""
    if value is None:
        raise ValueError(f"{info.field_name} cannot be null")
    return value


NOT_NULL = Field(None, json_schema_extra=_without_null)


class ApplicationPatch(_Editable):
    """A partial update: only the fields sent change; null clears an optional field.

    company, role, status, tags and contacts cannot be cleared: null for them is a 422, so their
    JSON Schema does not allow it (NOT_NULL) although the model must accept None to name the field."""

    company: Text200 | None = NOT_NULL
    role: Text200 | None = NOT_NULL
    status: Status | None = NOT_NULL
    tags: Annotated[list[Tag], Field(max_length=20)] | None = NOT_NULL
    contacts: Contacts | None = NOT_NULL

    _required_stay_set = field_validator("company", "role", "status", "tags", "contacts")(_not_null)


OUTPUT_ORDER = (
    "id",
    "company",
    "role",
    "status",
    *OPTIONAL_FIELDS,
    "tags",
    "contacts",
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


# ---- the person's settings ----------------------------------------------------------------------


def _iana_zone(value: Any) -> Any:
    """An IANA time zone name the zone database knows, e.g. Europe/Berlin."""
    if not isinstance(value, str):
        return value  # the str type reports it
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # only PATCH /api/user and "today" need it

    if not 1 <= len(value) <= 64 or not value.isascii() or not value.isprintable():
        raise ValueError("must be an IANA time zone name like Europe/Berlin")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"{value!r} is not an IANA time zone name (like Europe/Berlin or UTC)") from None
    return value


TimeZoneName = Annotated[str, AfterValidator(_iana_zone)]


class RemindersPatch(BaseModel):
    """The reminder settings sent: only those given change."""

    model_config = ConfigDict(extra="forbid")

    email: Annotated[bool, Field(strict=True)] | None = None
    hour: Annotated[int, Field(strict=True, ge=0, le=23)] | None = None

    _stay_set = field_validator("email", "hour")(_not_null)


class UserPatch(BaseModel):
    """PATCH /api/user: the settings a person may change (at least one of them)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    timezone: TimeZoneName | None = None
    reminders: RemindersPatch | None = None

    _stay_set = field_validator("timezone", "reminders")(_not_null)

    @model_validator(mode="after")
    def _something(self) -> UserPatch:
        if not self.model_fields_set:
            raise ValueError('body must set timezone or reminders, e.g. {"reminders": {"email": true, "hour": 8}}')
        return self


# ---- interviews ---------------------------------------------------------------------------------


class InterviewKind(StrEnum):
    RECRUITER_CALL = "recruiter_call"
    PHONE_SCREEN = "phone_screen"
    TECHNICAL = "technical"
    TAKE_HOME = "take_home"
    ONSITE = "onsite"
    BEHAVIORAL = "behavioral"
    PANEL = "panel"
    FINAL = "final"
    OTHER = "other"


class Outcome(StrEnum):
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


_RFC3339 = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,9}))?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
MAX_INTERVIEWS = 50


def utc_instant(moment: dt.datetime) -> str:
    """An aware datetime as stored and returned: UTC, milliseconds, `Z` (so the text sorts as the time)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_rfc3339(value: str) -> dt.datetime:
    """An RFC 3339 date-time with an offset (`Z` or +hh:mm), or ValueError."""
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise ValueError("must be an RFC 3339 date-time with an offset, like 2026-12-03T14:00:00+01:00")
    day, clock, fraction, offset = match.groups()
    micro = ("." + (fraction + "00000")[:6]) if fraction else ""  # Python reads at most microseconds
    try:
        moment = dt.datetime.fromisoformat(f"{day}T{clock}{micro}{offset.upper().replace('Z', '+00:00')}")
        moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise ValueError("is not a valid date-time") from None
    return moment


def _starts_at(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 date-time with an offset, like 2026-12-03T14:00:00+01:00")
    return utc_instant(parse_rfc3339(value.strip()))


StartsAt = Annotated[
    str, BeforeValidator(_starts_at), WithJsonSchema({"type": "string", "format": "date-time"}, mode="validation")
]
Duration = Annotated[int, Field(strict=True, ge=5, le=1440)]
Interviewers = Annotated[list[Text200], Field(max_length=10)]


class _InterviewEditable(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    location: OptionalText200 | None = None
    meeting_url: Url | None = None
    notes: Annotated[str, StringConstraints(max_length=10_000), PlainText] | None = None


class InterviewData(_InterviewEditable):
    """A complete, valid set of the fields a person fills in for an interview."""

    kind: InterviewKind
    starts_at: StartsAt
    duration_minutes: Duration = 60
    interviewers: Interviewers = Field(default_factory=list)
    outcome: Outcome = Outcome.PENDING


class InterviewPatch(_InterviewEditable):
    """A partial update of an interview: only the fields sent change; null clears an optional field."""

    kind: InterviewKind | None = None
    starts_at: StartsAt | None = None
    duration_minutes: Duration | None = None
    interviewers: Interviewers | None = None
    outcome: Outcome | None = None

    _required_stay_set = field_validator("kind", "starts_at", "duration_minutes", "interviewers", "outcome")(_not_null)


class Interview(InterviewData):
    """A stored interview round of an application."""

    model_config = ConfigDict(extra="forbid")

    id: str
    application_id: str
    created_at: str
    updated_at: str
    version: int

    @classmethod
    def stored(cls, doc: str | bytes) -> Interview:
        """An interview as a store saved it (JSON), read without re-applying input-only rules."""
        return cls.model_validate_json(doc, context=STORED)


class InterviewList(BaseModel):
    """GET /api/applications/{id}/interviews: every interview of the application, by starts_at."""

    items: list[Interview]


class AgendaItem(Interview):
    """An interview on the person's agenda, with the application it belongs to."""

    company: str
    role: str

    @classmethod
    def of(cls, doc: str | bytes, company: str, role: str) -> AgendaItem:
        """A stored interview (JSON, read as stored) on the agenda, with its application's company and role."""
        return cls.model_validate({**json.loads(doc), "company": company, "role": role}, context=STORED)


class AgendaPage(BaseModel):
    """GET /api/interviews: one page of the agenda, by starts_at, and the next page's cursor (null on the last)."""

    items: list[AgendaItem]
    next_cursor: str | None


# ---- funnel statistics --------------------------------------------------------------------------

FUNNEL_STAGES = (Status.APPLIED, Status.SCREENING, Status.INTERVIEWING, Status.OFFER, Status.ACCEPTED)
Ratio = Annotated[float, Field(ge=0)]


class SourceStats(BaseModel):
    total: Count
    applied: Count
    responded: Count
    response_rate: Annotated[float, Field(ge=0, le=1)]


class WeekCount(BaseModel):
    week: Annotated[str, Field(pattern=r"^[0-9]{4}-W[0-9]{2}$")]
    count: Count


class InterviewStats(BaseModel):
    total: Count
    upcoming: Count
    by_outcome: dict[Outcome, Count]


class FunnelStats(ApplicationStats):
    """GET /api/applications/stats: the counts of ApplicationStats, and the funnel (see README)."""

    funnel: dict[Literal["applied", "screening", "interviewing", "offer", "accepted"], Count]
    conversion: dict[Literal["screening", "interviewing", "offer", "accepted"], Ratio]
    median_days_to_response: float | None
    by_source: dict[str, SourceStats]
    weekly_applied: list[WeekCount]
    interviews: InterviewStats


# ---- data out and in ----------------------------------------------------------------------------


class ExportSettings(BaseModel):
    timezone: str


class Export(BaseModel):
    """GET /api/export: everything of the signed-in person."""

    format: Literal["job-hunt-tracker-export"] = "job-hunt-tracker-export"
    version: Literal[1] = 1
    exported_at: str
    profile: UserRecord
    settings: ExportSettings
    applications: list[Application]  # oldest first, each with its status history and contacts
    interviews: list[Interview]  # by starts_at


class ImportRowError(BaseModel):
    row: Annotated[int, Field(ge=1)]  # the line of the file the row starts on; the header is line 1
    field: str  # the file's column as its header names it ("body" for the file itself)
    message: str


class ImportReport(BaseModel):
    """POST /api/import: what was imported (or, with dry_run, would be)."""

    created: Count
    duplicates: Count
    errors: list[ImportRowError]  # the first 100
    errors_total: Count
    dry_run: bool
    ignored_columns: list[str]  # columns of the file that no field is read from


class CalendarFeed(BaseModel):
    """POST /api/calendar: the secret address of the person's calendar feed."""

    url: str
