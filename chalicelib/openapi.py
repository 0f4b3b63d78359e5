"""The OpenAPI 3.1 document of this API, generated: the operations from the Chalice route table, the
bodies from the pydantic models.

No JSON Schema here is hand-written. app.py passes its route table (path -> method -> route entry;
only the method names and the view names are read, so this module stays chalice-free); each
request and response body is the JSON Schema pydantic derives from the model that validates or
describes it (validation mode for what comes in, serialization mode for what goes out). What
neither knows -- each operation's summary, status codes, query parameters and headers -- is the
`OPERATIONS` table below. A route missing from the table, or a table entry for no route, is an
error, so the document cannot drift from the app.

Generating the schemas takes milliseconds, not nothing: app.py imports this module only when
/openapi.json is first requested, and keeps the result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from chalicelib import __version__, ids, inputs, models, schemas

OPENAPI_VERSION = "3.1.0"
TITLE = "Job Hunt Tracker API"
SECURITY_SCHEME = "bearerAuth"
REF_TEMPLATE = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{([^{}]+)}")

ETAG_PATTERN = r'^"' + ids.ID_PATTERN.pattern.strip("^$") + r'\.[0-9]+"$'
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "app_id": {
        "description": "The application's id (a ULID: 26 characters, sortable by creation). "
        "Another user's application, like a missing one, is a 404.",
        "schema": {"type": "string", "pattern": ids.ID_PATTERN.pattern},
    },
    "asset": {
        "description": "A file of the docs page.",
        "schema": {"type": "string", "enum": ["swagger-ui-bundle.js", "swagger-ui.css", "init.js"]},
    },
    "feed": {
        "description": "`<secret>.ics`: the secret POST /api/calendar gave. A replaced, deleted or unknown "
        "one is a 404.",
        "schema": {"type": "string"},
    },
    "token": {
        "description": "The signed per-person token of a reminder e-mail's unsubscribe link. A bad or forged "
        "token, or one whose account was deleted, is a 404.",
        "schema": {"type": "string", "maxLength": 400},
    },
    "interview_id": {
        "description": "The interview's id (a ULID). One of another application, like a missing one, is a 404.",
        "schema": {"type": "string", "pattern": ids.ID_PATTERN.pattern},
    },
}


@dataclass(frozen=True)
class Op:
    """What the route table and the models do not say about one operation."""

    summary: str
    tag: str
    status: int = 200  # of the success response
    response: type[BaseModel] | None = None  # its body; None: no body
    request: type[BaseModel] | None = None  # the JSON body it takes; None: none
    request_required: bool = True  # whether that body must be sent
    errors: Mapping[int, str] | None = None  # status -> when, beyond those every operation of its kind has
    error_bodies: Mapping[int, type[BaseModel]] | None = None  # a status whose body is not schemas.ErrorBody
    error_headers: Mapping[int, Mapping[str, dict[str, Any]]] | None = None
    auth: bool = True  # needs the bearer token
    guarded: bool = True  # registered with app.endpoint: answers 503 while the configuration is invalid
    query: tuple[dict[str, Any], ...] = ()
    headers: tuple[dict[str, Any], ...] = ()  # request headers
    response_headers: Mapping[str, dict[str, Any]] | None = None  # of the success response
    description: str = ""
    media_types: tuple[str, ...] = ("application/json",)  # of a success body no model describes
    also_media: tuple[str, ...] = ()  # other media types a success body may be (as a string), beside the model's
    request_media: str | None = None  # a body that is not JSON (a string of this media type)
    not_modified: bool = False  # answers 304 to an If-None-Match naming its ETag


ETAG = {
    "description": 'The application\'s version as an entity tag, `"<id>.<version>"`: send it back in `If-Match`.',
    "required": True,
    "schema": {"type": "string", "pattern": ETAG_PATTERN},
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": 'Change only if the application is still this version: `*` or ETags as sent, e.g. `"<id>.3"`. '
    "A stale one gets 412 with the current ETag; a malformed one 400.",
    "schema": {"type": "string"},
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes a retry safe: the same key with the same body within 24 hours answers the first "
    "response again (the same application, `Idempotent-Replayed: true`) and creates nothing. 1-255 printable "
    "ASCII characters, e.g. a UUID; per user.",
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$",
    },
}
LIST_QUERY: tuple[dict[str, Any], ...] = (
    {
        "name": "limit",
        "in": "query",
        "description": f"Page size, 1 to {inputs.MAX_LIMIT}.",
        "schema": {"type": "integer", "minimum": 1, "maximum": inputs.MAX_LIMIT, "default": inputs.DEFAULT_LIMIT},
    },
    {
        "name": "cursor",
        "in": "query",
        "description": "`next_cursor` of the previous page, with the same filters (anything else is a 400).",
        "schema": {"type": "string"},
    },
    {
        "name": "status",
        "in": "query",
        "description": "Only these statuses: repeat the parameter or separate them with commas.",
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": {"$ref": REF_TEMPLATE.format(model=models.Status.__name__)}},
    },
    {
        "name": "tag",
        "in": "query",
        "description": "Only applications with this tag (case-insensitive).",
        "schema": {"type": "string", "minLength": 1, "maxLength": 40},
    },
    {
        "name": "q",
        "in": "query",
        "description": "Only applications whose company or role contains this (case-insensitive).",
        "schema": {"type": "string", "minLength": 1, "maxLength": 100},
    },
    {
        "name": "follow_up_due",
        "in": "query",
        "description": "`true`: only applications whose `next_follow_up_on` is today or earlier "
        "(today in the person's time zone, `timezone` of GET /api/user).",
        "schema": {"type": "boolean"},
    },
    {
        "name": "contact",
        "in": "query",
        "description": "Only applications with a contact whose name or email contains this (case-insensitive).",
        "schema": {"type": "string", "minLength": 1, "maxLength": 100},
    },
)
_BOUND_TEXT = "A date (midnight in the person's time zone) or an RFC 3339 date-time with an offset."
_BOUND: dict[str, Any] = {"schema": {"type": "string"}}
AGENDA_QUERY: tuple[dict[str, Any], ...] = (
    {
        "name": "from",
        "in": "query",
        **_BOUND,
        "description": "Start, inclusive (default: now). " + _BOUND_TEXT,
    },
    {
        "name": "to",
        "in": "query",
        **_BOUND,
        "description": "End, exclusive (default: 14 days after `from`). " + _BOUND_TEXT,
    },
    LIST_QUERY[0],
    {**LIST_QUERY[1], "description": "`next_cursor` of the previous page, with the same `from` and `to`."},
)
INTERVIEW_ETAG = {**ETAG, "description": 'The interview\'s version, `"<id>.<version>"`: send it back in `If-Match`.'}
NO_INTERVIEW = "No application with this id belongs to the signed-in user, or it has no interview with this id."

# What every operation of a kind can answer, besides its own errors.
UNSUPPORTED_MEDIA_TYPE = "The request's Content-Type is not application/json."
MISCONFIGURED = "The API is misconfigured (GET /health lists the settings at fault)."
UNAUTHORIZED = (
    "The access token is missing, malformed, expired, badly signed, for another stage, or its account is gone."
)
WWW_AUTHENTICATE = {
    "description": 'The RFC 6750 challenge, `Bearer realm="job-hunt-tracker"` plus the error when a token was sent.',
    "required": True,
    "schema": {"type": "string", "pattern": "^Bearer realm="},
}
RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "required": False,
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}
STALE_ETAG = {
    "description": "The application's current ETag (when it was read).",
    "required": False,
    "schema": {"type": "string", "pattern": ETAG_PATTERN},
}
OPERATIONS: dict[tuple[str, str], Op] = {
    ("GET", "/health"): Op(
        "Whether the API is configured correctly",
        "meta",
        response=models.Health,
        errors={503: "The configuration is invalid; `problems` names every setting at fault."},
        error_bodies={503: models.Unhealthy},
        auth=False,
        guarded=False,
        description="No auth and no network: reads the settings only.",
    ),
    ("GET", "/docs"): Op(
        "Interactive docs: Swagger UI for this document",
        "meta",
        auth=False,
        errors={404: "The docs are not served on this stage (`SERVE_DOCS`)."},
        media_types=("text/html",),
        description="Sign in, press Authorize and paste the `access_token` to try operations. Swagger UI is "
        "served from the package itself, not a CDN.",
    ),
    ("GET", "/docs/{asset}"): Op(
        "A file of the interactive docs page",
        "meta",
        auth=False,
        errors={404: "No such file, or the docs are not served on this stage (`SERVE_DOCS`)."},
        media_types=("text/javascript", "text/css"),
    ),
    ("GET", "/health/ready"): Op(
        "Whether the API can serve requests now",
        "meta",
        response=schemas.Readiness,
        errors={503: "A check failed; `checks` says which, in words: configuration, secret, storage, google_certs."},
        error_bodies={503: schemas.NotReady},
        auth=False,
        guarded=False,
        description="Checks the configuration, the JWT secret, the store (the table answers) and Google's certs "
        "(cached). `make deploy` calls it last.",
    ),
    ("GET", "/openapi.json"): Op(
        "This document", "meta", auth=False, guarded=False, description="Generated from the routes and the models."
    ),
    ("POST", "/auth/google"): Op(
        "Sign in with a Google ID token",
        "auth",
        response=models.AuthResponse,
        request=schemas.SignInRequest,
        errors={
            400: "The body is empty, not JSON, not an object, or lacks the credential; `field` says which.",
            401: "The Google credential cannot be used: malformed, badly signed, expired, for another client "
            "id, an unverified email or a domain not allowed. The message says which.",
            429: "Too many sign-in attempts from this address this minute; `Retry-After` says when to try again.",
            503: "Google's signing certs cannot be fetched right now (`Retry-After` says when to try again), "
            "or the API is misconfigured.",
        },
        error_headers={429: {"Retry-After": {**RETRY_AFTER, "required": True}}, 503: {"Retry-After": RETRY_AFTER}},
        auth=False,
        description="Verifies the Google ID token, creates or refreshes the profile, and returns our access token.",
    ),
    ("POST", "/auth/logout"): Op(
        "Sign out: end this access token, or every one",
        "auth",
        status=204,
        request=schemas.SignOutRequest,
        request_required=False,
        errors={400: "The body is not JSON, not an object, or has an unknown option; `field` says which."},
        description="With no body (or `everywhere: false`), the token sent gets 401 from then on, on every "
        "route. With `everywhere: true`, every token issued to this user until now does; signing in again "
        "gives a working one. Kept in the store: it holds in every container.",
    ),
    ("GET", "/api/user"): Op("The signed-in user's profile", "user", response=models.UserRecord),
    ("PATCH", "/api/user"): Op(
        "Change the user's settings: the time zone, the reminder e-mails",
        "user",
        response=models.UserRecord,
        request=models.UserPatch,
        errors={
            400: "The body is empty, not JSON or not an object.",
            422: "Neither `timezone` nor `reminders` is sent, `timezone` is not an IANA time zone name, "
            "`reminders.hour` is not 0-23, `reminders.email` not a boolean, or a field is unknown.",
        },
        description="`timezone` (an IANA name such as `Europe/Berlin`; `UTC` until set) decides the person's "
        "today: `follow_up_due`, the statistics' day windows and weeks, and the agenda's date bounds. "
        "`reminders` (`email`: off until the person opts in; `hour`: 0-23 in their time zone, 8 by default): "
        "at most one e-mail a day at that hour with the follow-ups due, the interviews of the next 24 h and "
        "the applications with no answer in three weeks; nothing due, no e-mail. Fields not sent stay.",
    ),
    ("DELETE", "/api/user"): Op(
        "Delete the account and all its applications",
        "user",
        status=204,
        description="From then on the access token gets 401 everywhere; signing in again starts an empty account.",
    ),
    ("GET", "/api/export"): Op(
        "Everything of the signed-in person, to keep or to move (JSON), or the applications as CSV",
        "data",
        response=models.Export,
        also_media=("text/csv",),
        query=(
            {
                "name": "format",
                "in": "query",
                "description": "`json` (the default): profile, settings, applications with their history and "
                "contacts, interviews. `csv`: one row per application, the columns of the README's CSV table.",
                "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"},
            },
        ),
        errors={400: "A query parameter is malformed, repeated or unknown."},
        response_headers={
            "Content-Disposition": {
                "description": "`attachment`, with a file name.",
                "required": True,
                "schema": {"type": "string", "pattern": "^attachment"},
            }
        },
    ),
    ("POST", "/api/import"): Op(
        "Import applications from a CSV file (this API's export, a spreadsheet, another tracker)",
        "data",
        response=models.ImportReport,
        request_media="text/csv",
        query=(
            {
                "name": "dry_run",
                "in": "query",
                "description": "`true`: validate and count only; nothing is stored.",
                "schema": {"type": "boolean", "default": False},
            },
        ),
        errors={
            400: "The body is empty, not UTF-8, has no header row or no company / role column; a query "
            "parameter is malformed or unknown. `field` says which.",
            413: "The file is larger than 5 MB or has more than 5,000 rows; the message names the limit.",
        },
        description="UTF-8 (a BOM is fine), comma, semicolon or tab separated, with a header row. Columns are "
        "matched by name (see the README); valid rows are imported, invalid ones reported in `errors` by line "
        "and column; a row equal to an application already there (company, role and applied_on; company and "
        "role case-insensitively) is counted in `duplicates` and not imported again.",
    ),
    ("POST", "/api/calendar"): Op(
        "Make (or replace) the secret address of the person's calendar feed",
        "calendar",
        status=201,
        response=models.CalendarFeed,
        description="The URL needs no token: anyone with it can read the feed. Calling this again replaces "
        "it; the old URL answers 404 from then on. Only a hash of the secret is stored.",
    ),
    ("DELETE", "/api/calendar"): Op(
        "Delete the calendar feed", "calendar", status=204, description="Its URL answers 404 from then on."
    ),
    ("GET", "/calendar/{feed}"): Op(
        "The calendar feed (iCalendar): interviews and follow-ups",
        "calendar",
        auth=False,
        media_types=("text/calendar",),
        not_modified=True,
        errors={404: "No feed has this address: never made, replaced, deleted, or the account is gone."},
        headers=(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "The ETag of the copy the calendar app has: 304 if it is still current.",
                "schema": {"type": "string"},
            },
        ),
        response_headers={
            "ETag": {"description": "The feed's version.", "required": True, "schema": {"type": "string"}}
        },
        description="For calendar apps (no Authorization header): a VEVENT per interview and an all-day VEVENT "
        "per `next_follow_up_on`, with stable UIDs.",
    ),
    ("GET", "/reminders/unsubscribe/{token}"): Op(
        "The unsubscribe page of a reminder e-mail: a button that stops them",
        "user",
        auth=False,
        errors={404: "The token is bad or forged, or its account was deleted."},
        media_types=("text/html",),
        description="The link of each reminder's `List-Unsubscribe` header, opened in a browser. No bearer token: "
        "the signed token in the path is the authority. Changes nothing; its button POSTs to the same URL.",
    ),
    ("POST", "/reminders/unsubscribe/{token}"): Op(
        "One-click unsubscribe (RFC 8058): turn the person's reminder e-mails off",
        "user",
        auth=False,
        errors={404: "The token is bad or forged, or its account was deleted."},
        media_types=("text/html",),
        description="What mail providers POST (`List-Unsubscribe=One-Click`, form-encoded) for the "
        "`List-Unsubscribe-Post` header; any body is accepted and ignored. Idempotent: reminders stay off.",
    ),
    ("GET", "/api/applications"): Op(
        "List applications, newest first",
        "applications",
        response=models.ApplicationPage,
        errors={400: "A query parameter is malformed, repeated or unknown; `field` names it."},
        query=LIST_QUERY,
    ),
    ("POST", "/api/applications"): Op(
        "Track a new application",
        "applications",
        status=201,
        response=models.Application,
        request=models.ApplicationData,
        errors={
            400: "The body is empty, not JSON or not an object, or Idempotency-Key is malformed.",
            413: f"The body is larger than {inputs.MAX_BODY_BYTES // 1024} KiB.",
            422: "Fields are missing, unknown or invalid (`errors` names each one), or Idempotency-Key was "
            "used before with another body.",
        },
        headers=(IDEMPOTENCY_KEY,),
        response_headers={
            "Location": {
                "description": "The new application's URL.",
                "required": True,
                "schema": {"type": "string"},
            },
            "ETag": ETAG,
        },
    ),
    ("GET", "/api/applications/stats"): Op(
        "Statistics over the signed-in user's applications: counts, the funnel, sources, weeks, interviews",
        "applications",
        response=models.FunnelStats,
        description="Every definition is in the README's Statistics section. Days and weeks are the "
        "person's, in their time zone.",
    ),
    ("POST", "/api/applications/{app_id}/interviews"): Op(
        "Add an interview round to an application",
        "interviews",
        status=201,
        response=models.Interview,
        request=models.InterviewData,
        errors={
            400: "The body is empty, not JSON or not an object.",
            404: "No application with this id belongs to the signed-in user.",
            409: f"The application already has {models.MAX_INTERVIEWS} interviews.",
            413: f"The body is larger than {inputs.MAX_BODY_BYTES // 1024} KiB.",
            422: "Fields are missing, unknown or invalid; `errors` names each one.",
        },
        response_headers={
            "Location": {"description": "The new interview's URL.", "required": True, "schema": {"type": "string"}},
            "ETag": INTERVIEW_ETAG,
        },
        description="`starts_at` takes any offset and is stored and returned in UTC (`Z`).",
    ),
    ("GET", "/api/applications/{app_id}/interviews"): Op(
        "An application's interviews, by starts_at",
        "interviews",
        response=models.InterviewList,
        errors={404: "No application with this id belongs to the signed-in user."},
    ),
    ("GET", "/api/applications/{app_id}/interviews/{interview_id}"): Op(
        "One interview",
        "interviews",
        response=models.Interview,
        errors={404: NO_INTERVIEW},
        response_headers={"ETag": INTERVIEW_ETAG},
    ),
    ("PATCH", "/api/applications/{app_id}/interviews/{interview_id}"): Op(
        "Change some fields of an interview",
        "interviews",
        response=models.Interview,
        request=models.InterviewPatch,
        errors={
            400: "The body is empty, not JSON or not an object, or If-Match is malformed.",
            404: NO_INTERVIEW,
            409: "Other requests kept changing the interview; try again.",
            412: "If-Match names a version that is no longer current; nothing changed.",
            422: "Fields are unknown or invalid, or the result would be; `errors` names each one.",
        },
        headers=(IF_MATCH,),
        response_headers={"ETag": INTERVIEW_ETAG},
    ),
    ("DELETE", "/api/applications/{app_id}/interviews/{interview_id}"): Op(
        "Delete an interview",
        "interviews",
        status=204,
        errors={
            400: "If-Match is malformed.",
            404: NO_INTERVIEW,
            412: "If-Match names a version that is no longer current; nothing was deleted.",
        },
        headers=(IF_MATCH,),
    ),
    ("GET", "/api/interviews"): Op(
        "The agenda: interviews across applications in a window, by starts_at",
        "interviews",
        response=models.AgendaPage,
        errors={400: "A query parameter is malformed, repeated or unknown, or `to` is not after `from`."},
        query=AGENDA_QUERY,
        description="Interviews whose `starts_at` is in [`from`, `to`), each with its application's company "
        "and role; by default from now for 14 days.",
    ),
    ("GET", "/api/applications/{app_id}"): Op(
        "One application",
        "applications",
        response=models.Application,
        errors={404: "No application with this id belongs to the signed-in user."},
        response_headers={"ETag": ETAG},
    ),
    ("PATCH", "/api/applications/{app_id}"): Op(
        "Change some fields of an application",
        "applications",
        response=models.Application,
        request=models.ApplicationPatch,
        errors={
            400: "The body is empty, not JSON or not an object, or If-Match is malformed.",
            404: "No application with this id belongs to the signed-in user.",
            409: "Other requests kept changing the application; try again.",
            412: "If-Match names a version that is no longer current; nothing changed.",
            422: "Fields are unknown or invalid, or the result would be; `errors` names each one.",
        },
        headers=(IF_MATCH,),
        response_headers={"ETag": ETAG},
        description="Only the fields sent change; `null` clears an optional field. A status change is added "
        "to `status_history`.",
    ),
    ("DELETE", "/api/applications/{app_id}"): Op(
        "Delete an application",
        "applications",
        status=204,
        errors={
            400: "If-Match is malformed.",
            404: "No application with this id belongs to the signed-in user.",
            412: "If-Match names a version that is no longer current; nothing was deleted.",
        },
        headers=(IF_MATCH,),
    ),
}

# Response bodies are model_dump()s of these models: every field is present, defaults included.
# Error bodies are not (ApiError.body() leaves out `field` and `errors`): their schema is the
# validation one, which keeps optional fields optional.
RESPONSE_MODE: JsonSchemaMode = "serialization"
REQUEST_MODE: JsonSchemaMode = "validation"
ERROR_MODEL = schemas.ErrorBody


class _Schemas(GenerateJsonSchema):
    """Pydantic's generator, with two changes for the clients generated from the document:
    - a response field with a default is still required: it is always sent;
    - no `default` anywhere: a request field's default is what the server does when it is left out,
      and generators (openapi-typescript's defaults among them) turn a field with a `default` into a
      required property, so `{company, role}` would not type-check as a create body. For a PATCH a
      left-out field means "unchanged" in any case.
    """

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        if self.mode == "serialization":
            return not field.get("serialization_exclude")
        return super().field_is_required(field, total)


def _schemas() -> tuple[dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]], dict[str, Any]]:
    """Each documented model's $ref, and the components/schemas they need."""
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ERROR_MODEL, REQUEST_MODE)]
    for op in OPERATIONS.values():
        wanted.extend((model, RESPONSE_MODE) for model in (op.error_bodies or {}).values())
        if op.request is not None:
            wanted.append((op.request, REQUEST_MODE))
        if op.response is not None:
            wanted.append((op.response, RESPONSE_MODE))
    unique = list(dict.fromkeys(wanted))
    refs, definitions = models_json_schema(unique, ref_template=REF_TEMPLATE, schema_generator=_Schemas)
    components = dict(definitions.get("$defs", {}))
    for name, schema in components.items():
        # A model sent and received with different schemas is named per mode (Contact-Input,
        # Contact-Output); its title follows, or client generators make two classes of one name.
        if name.endswith(("-Input", "-Output")):
            schema["title"] = name.replace("-", "")
    return {key: refs[key] for key in unique}, components


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ref(model: type[BaseModel]) -> str:
    return REF_TEMPLATE.format(model=model.__name__)


def _operation(
    method: str,
    path: str,
    op: Op,
    view_name: str | None,
    refs: Mapping[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]],
) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": view_name or _operation_id(method, path), "summary": op.summary}
    if op.description:
        out["description"] = op.description
    out["tags"] = [op.tag]
    parameters = [_path_parameter(name) for name in _PATH_PARAM.findall(path)] + list(op.query) + list(op.headers)
    if parameters:
        out["parameters"] = parameters
    if op.request is not None:
        out["requestBody"] = {"required": op.request_required, "content": _json(refs[(op.request, REQUEST_MODE)])}
    elif op.request_media is not None:
        out["requestBody"] = {"required": True, "content": {op.request_media: {"schema": {"type": "string"}}}}
    out["security"] = [{SECURITY_SCHEME: []}] if op.auth else []  # []: public, whatever a default says

    responses: dict[int, dict[str, Any]] = {}
    success: dict[str, Any] = {"description": op.summary}
    if op.response is not None:
        success["content"] = _json(refs[(op.response, RESPONSE_MODE)])
        success["content"].update({media: {"schema": {"type": "string"}} for media in op.also_media})
    elif op.status != 204:  # a body no model describes: this document (JSON), the docs page and its assets
        success["content"] = {
            media: {"schema": {"type": "object"} if media == "application/json" else {"type": "string"}}
            for media in op.media_types
        }
    if op.response_headers:
        success["headers"] = dict(op.response_headers)
    responses[op.status] = success
    if op.not_modified:
        responses[304] = {
            "description": "Not modified: If-None-Match names the current ETag.",
            "headers": dict(op.response_headers or {}),
        }

    errors = dict(op.errors or {})
    if op.auth:
        errors.setdefault(401, UNAUTHORIZED)
    errors.setdefault(415, UNSUPPORTED_MEDIA_TYPE.replace("application/json", op.request_media or "application/json"))
    if op.guarded:
        errors.setdefault(503, MISCONFIGURED)
    for status, when in errors.items():
        headers = dict((op.error_headers or {}).get(status, {}))
        if status == 401 and op.auth:
            headers["WWW-Authenticate"] = WWW_AUTHENTICATE
        if status == 412:
            headers["ETag"] = STALE_ETAG
        body = (op.error_bodies or {}).get(status)
        schema = refs[(body, RESPONSE_MODE)] if body is not None else {"$ref": _ref(ERROR_MODEL)}
        responses[status] = {"description": when, "content": _json(schema)} | ({"headers": headers} if headers else {})
    out["responses"] = {str(status): responses[status] for status in sorted(responses)}
    return out


def _path_parameter(name: str) -> dict[str, Any]:
    if name not in PATH_PARAMETERS:
        raise ValueError(f"path parameter {{{name}}} is not described in chalicelib/openapi.py PATH_PARAMETERS")
    return {"name": name, "in": "path", "required": True, **PATH_PARAMETERS[name]}


def _operation_id(method: str, path: str) -> str:
    return method.lower() + "_" + (re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "root")


def document(routes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of these routes (Chalice's `app.routes`: path -> method -> route entry).

    Every method of every path becomes an operation and nothing else does, except the CORS
    preflights (OPTIONS): they are the browser's, not a client's, and an SDK method for each would
    only mislead. Raises ValueError if a route is not in OPERATIONS or an entry there has no route.
    """
    refs, components = _schemas()
    routed = {(method.upper(), path) for path, methods in routes.items() for method in methods}
    undocumented = sorted(r for r in routed if r[0] != "OPTIONS" and r not in OPERATIONS)
    stale = sorted(set(OPERATIONS) - routed)
    if undocumented or stale:
        raise ValueError(
            f"chalicelib/openapi.py OPERATIONS is out of date: routes without an entry {undocumented}, "
            f"entries without a route {stale}"
        )
    paths: dict[str, dict[str, Any]] = {}
    for path in sorted(routes):
        item: dict[str, Any] = {}
        for method in sorted(routes[path]):
            if method.upper() != "OPTIONS":
                view_name = getattr(routes[path][method], "view_name", None)
                item[method.lower()] = _operation(
                    method.upper(), path, OPERATIONS[(method.upper(), path)], view_name, refs
                )
        for name in _PATH_PARAM.findall(path):
            _path_parameter(name)  # every path parameter described, preflight-only paths included
        if item:
            paths[path] = item
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": TITLE,
            "version": __version__,
            "description": "Track a job search: sign in with Google, then keep applications with their status "
            "history, follow-ups, notes and tags. Every response body is JSON, sent with `Cache-Control: no-store`; "
            'every error is `{"error", "message", "detail", "field"?, "errors"?}` (`detail`: what the original FastAPI backend sent).',
        },
        "tags": [
            {"name": "meta", "description": "Health and this document."},
            {"name": "auth", "description": "Signing in."},
            {"name": "user", "description": "The signed-in account."},
            {"name": "applications", "description": "The signed-in user's job applications."},
            {"name": "interviews", "description": "Interview rounds of applications, and the agenda across them."},
            {"name": "data", "description": "The person's data out (JSON, CSV) and in (CSV)."},
            {"name": "calendar", "description": "A calendar feed of interviews and follow-ups."},
        ],
        # Relative to where this document was fetched: the same stage, behind whatever prefix
        # (API Gateway's /api, a custom domain, chalice local) the client reached it through.
        "servers": [{"url": "."}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The `access_token` POST /auth/google returns.",
                }
            },
        },
    }
