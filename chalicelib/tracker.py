"""The use cases of tracking job applications: no HTTP, no boto3, just settings, a Store and values."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from chalicelib import ids
from chalicelib.errors import BadRequest, Conflict, NotFound, PreconditionFailed, Unauthorized, ValidationFailed
from chalicelib.models import (
    RESPONSE_STATUSES,
    Application,
    ApplicationData,
    ApplicationPatch,
    Status,
    StatusChange,
    UserRecord,
)
from chalicelib.store.base import ApplicationNotFound, ListFilter, Store, UserNotFound, VersionConflict

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
LIST_PARAMS = frozenset({"limit", "cursor", "status", "tag", "q", "follow_up_due"})
_UPDATE_ATTEMPTS = 3


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def validation_errors(exc: ValidationError) -> ValidationFailed:
    errors = []
    for err in exc.errors(include_url=False, include_input=False):
        field = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "is not a field of an application"
        elif not field:  # a model-level rule names its field in the message
            field = message.split(" ", 1)[0]
        errors.append({"field": field or "body", "message": message})
    return ValidationFailed(errors)


def _json_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object of application fields.", field="body")
    return body


# ---- account ------------------------------------------------------------------------------------


def profile(store: Store, user_id: str) -> UserRecord:
    try:
        return store.get_user(user_id)
    except UserNotFound:
        raise account_gone() from None


def delete_account(store: Store, user_id: str) -> None:
    try:
        store.delete_user(user_id)
    except UserNotFound:
        raise account_gone() from None


def account_gone() -> Unauthorized:
    return Unauthorized("This account no longer exists; sign in again to start a new one.")


# ---- one application ----------------------------------------------------------------------------


def etag(app: Application) -> str:
    return f'"{app.id}.{app.version}"'


def _not_found(app_id: str) -> NotFound:
    return NotFound(f"No application with id {app_id[:40]!r}.", field="id")


def create_application(store: Store, user_id: str, body: Any) -> Application:
    try:
        data = ApplicationData.model_validate(_json_object(body))
    except ValidationError as exc:
        raise validation_errors(exc) from None
    now = utc_now()
    app = Application.model_validate(
        {
            **data.model_dump(),
            "id": ids.new_id(),
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "status_history": [StatusChange(status=data.status, at=now)],
        }
    )
    store.create_application(user_id, app)
    return app


def get_application(store: Store, user_id: str, app_id: str) -> Application:
    if not ids.is_id(app_id):
        raise _not_found(app_id)
    try:
        return store.get_application(user_id, app_id)
    except ApplicationNotFound:
        raise _not_found(app_id) from None


def _check_if_match(if_match: str | None, app: Application) -> None:
    """RFC 9110 If-Match: `*` or a list of strong entity tags, one of which must be current."""
    if if_match is None:
        return
    value = if_match.strip()
    if value == "*":
        return
    tags = [t.strip() for t in value.split(",") if t.strip()]
    if not tags or not all(
        (t.startswith('"') or t.startswith('W/"')) and t.endswith('"') and len(t) >= 2 for t in tags
    ):
        raise BadRequest(
            'If-Match must be "*" or entity tags as sent in ETag, e.g. If-Match: "<etag>".', field="If-Match"
        )
    if etag(app) not in tags:  # weak tags (W/"...") never match: If-Match compares strongly
        raise PreconditionFailed(
            f"The application changed since you read it (it is now version {app.version}); "
            "GET it again and reapply your change.",
            field="If-Match",
            headers={"ETag": etag(app)},
        )


def update_application(store: Store, user_id: str, app_id: str, body: Any, if_match: str | None) -> Application:
    try:
        patch = ApplicationPatch.model_validate(_json_object(body))
    except ValidationError as exc:
        raise validation_errors(exc) from None
    changes = patch.model_dump(include=patch.model_fields_set)
    for _ in range(_UPDATE_ATTEMPTS):
        current = get_application(store, user_id, app_id)
        _check_if_match(if_match, current)
        fields = current.model_dump(include=set(ApplicationData.model_fields))
        merged_fields = {**fields, **changes}
        if merged_fields == fields:
            return current  # nothing changes: no new version
        try:
            merged = ApplicationData.model_validate(merged_fields)
        except ValidationError as exc:
            raise validation_errors(exc) from None
        now = utc_now()
        history = list(current.status_history)
        if merged.status != current.status:
            history.append(StatusChange(status=merged.status, at=now))
        updated = Application.model_validate(
            {
                **current.model_dump(),
                **merged.model_dump(),
                "updated_at": now,
                "version": current.version + 1,
                "status_history": history,
            }
        )
        try:
            store.replace_application(user_id, updated, expected_version=current.version)
            return updated
        except ApplicationNotFound:
            raise _not_found(app_id) from None
        except VersionConflict:
            # Another write came first. Re-read: with If-Match that answers 412 with the current
            # ETag; without it, the partial update is reapplied on top of the other change.
            continue
    raise Conflict("The application is being changed by other requests right now; try again.", field="id")


def delete_application(store: Store, user_id: str, app_id: str, if_match: str | None) -> None:
    expected = None
    if if_match is not None:
        current = get_application(store, user_id, app_id)
        _check_if_match(if_match, current)
        expected = None if if_match.strip() == "*" else current.version
    elif not ids.is_id(app_id):
        raise _not_found(app_id)
    try:
        store.delete_application(user_id, app_id, expected)
    except ApplicationNotFound:
        raise _not_found(app_id) from None
    except VersionConflict as exc:
        raise PreconditionFailed(
            f"The application changed since you read it (it is now version {exc.current_version}); GET it again.",
            field="If-Match",
            headers={"ETag": f'"{app_id}.{exc.current_version}"'},
        ) from None


# ---- listing ------------------------------------------------------------------------------------


class Cursors:
    """Opaque page cursors, signed and bound to the user and the query they came from."""

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"job-hunt-tracker/cursor/v1", hashlib.sha256).digest()

    def _mac(self, user_id: str, query: str, payload: str) -> str:
        mac = hmac.new(self._key, f"{user_id}\n{query}\n{payload}".encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def encode(self, user_id: str, query: str, after_id: str) -> str:
        payload = base64.urlsafe_b64encode(after_id.encode()).rstrip(b"=").decode()
        return f"{payload}.{self._mac(user_id, query, payload)}"

    def decode(self, user_id: str, query: str, cursor: str) -> str:
        payload, _, mac = cursor.partition(".")
        if not payload or not mac or not hmac.compare_digest(mac, self._mac(user_id, query, payload)):
            raise BadRequest("cursor is not one this API gave for this query; start again without it.", field="cursor")
        try:
            after_id = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
        except ValueError:
            raise BadRequest("cursor is malformed.", field="cursor") from None
        return after_id


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise BadRequest(f"'{name}' may be given once.", field=name)
    return values[0] if values else None


def parse_list_query(params: Mapping[str, Sequence[str]]) -> tuple[ListFilter, int, str | None]:
    unknown = sorted(set(params) - LIST_PARAMS)
    if unknown:
        raise BadRequest(
            f"Unknown query parameter(s): {', '.join(unknown)}; use {', '.join(sorted(LIST_PARAMS))}.", field=unknown[0]
        )
    raw_limit = _one(params, "limit")
    try:
        limit = DEFAULT_LIMIT if raw_limit is None else int(raw_limit)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}.", field="limit")
    statuses: set[Status] = set()
    for value in params.get("status") or []:
        for item in (v.strip() for v in value.split(",")):
            if item not in Status.__members__.values():
                raise BadRequest(
                    f"status {item[:40]!r} is not one of {', '.join(s.value for s in Status)}.", field="status"
                )
            statuses.add(Status(item))
    tag = _one(params, "tag")
    if tag is not None and not 1 <= len(tag.strip()) <= 40:
        raise BadRequest("tag must be 1 to 40 characters.", field="tag")
    q = _one(params, "q")
    if q is not None and not 1 <= len(q.strip()) <= 100:
        raise BadRequest("q must be 1 to 100 characters.", field="q")
    due = _one(params, "follow_up_due")
    if due not in (None, "true", "false"):
        raise BadRequest("follow_up_due must be true or false.", field="follow_up_due")
    flt = ListFilter(
        statuses=frozenset(statuses),
        tag=tag.strip().lower() if tag else None,
        q=q.strip().lower() if q else None,
        follow_up_due_by=today() if due == "true" else None,
    )
    return flt, limit, _one(params, "cursor")


def _query_key(flt: ListFilter) -> str:
    return json.dumps(
        [sorted(s.value for s in flt.statuses), flt.tag, flt.q, flt.follow_up_due_by is not None], separators=(",", ":")
    )


def list_applications(
    store: Store, cursors: Cursors, user_id: str, params: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    flt, limit, cursor = parse_list_query(params)
    query = _query_key(flt)
    after_id = cursors.decode(user_id, query, cursor) if cursor else None
    if after_id is not None and not ids.is_id(after_id):
        raise BadRequest("cursor is malformed.", field="cursor")
    try:
        page = store.list_applications(user_id, flt, limit, after_id)
    except UserNotFound:
        raise account_gone() from None
    next_cursor = cursors.encode(user_id, query, page.items[-1].id) if page.has_more and page.items else None
    return {"items": [a.to_json() for a in page.items], "next_cursor": next_cursor}


# ---- statistics ---------------------------------------------------------------------------------


def _applied_on(app: Application) -> dt.date | None:
    """When it was applied for: the date the person gave, else the first move past wishlist."""
    if app.applied_on is not None:
        return app.applied_on
    for change in app.status_history:
        if change.status != Status.WISHLIST:
            return dt.date.fromisoformat(change.at[:10])
    return None


def stats(store: Store, user_id: str, on: dt.date | None = None) -> dict[str, Any]:
    try:
        apps = store.all_applications(user_id)
    except UserNotFound:
        raise account_gone() from None
    day = on or today()
    by_status = {s.value: 0 for s in Status}
    last_7 = last_30 = reached = responded = 0
    for app in apps:
        by_status[app.status.value] += 1
        applied = _applied_on(app)
        if applied is not None:
            age = (day - applied).days
            last_7 += 0 <= age < 7
            last_30 += 0 <= age < 30
        seen = [c.status for c in app.status_history]
        if Status.APPLIED in seen:
            reached += 1
            after = seen[seen.index(Status.APPLIED) + 1 :]
            responded += any(s in RESPONSE_STATUSES for s in after)
    return {
        "total": len(apps),
        "by_status": by_status,
        "applied_last_7_days": last_7,
        "applied_last_30_days": last_30,
        "response_rate": round(responded / reached, 4) if reached else 0.0,
    }
