"""The use cases of tracking job applications: typed values in, models out, domain errors raised.

No HTTP here (parsing requests and mapping errors to statuses is chalicelib/web.py's job) and no
boto3 (that is the Store's). Every use case acts for one `Session` -- the user and the token they
sent -- so a signed-out token is refused by the same store call that finds the user -- and reads
the time from the request's one `Now`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from chalicelib import ids
from chalicelib.clock import Now
from chalicelib.models import (
    RESPONSE_STATUSES,
    Application,
    ApplicationData,
    ApplicationPatch,
    ApplicationStats,
    Status,
    StatusChange,
    StatusCounts,
    UserRecord,
)
from chalicelib.store.base import (
    ApplicationNotFound,
    IdempotencyKeyTaken,
    IdempotentCreate,
    ListFilter,
    Page,
    Session,
    Sessions,
    Store,
    VersionConflict,
)

_UPDATE_ATTEMPTS = 3
IDEMPOTENCY_SECONDS = 24 * 3600


class Stale(Exception):
    """The client's expected version is not the stored one.

    `changed`: the client named an earlier version of it (someone changed it since); otherwise it
    named a version the application never had, or another application's.
    """

    def __init__(self, app_id: str, version: int, *, changed: bool = True) -> None:
        super().__init__(f"{app_id} is at version {version}")
        self.app_id = app_id
        self.version = version
        self.changed = changed


class Busy(Exception):
    """Other requests kept changing the application while this one tried to."""


class IdempotencyKeyReused(Exception):
    """The idempotency key was used for a create with another body."""


@dataclass(frozen=True)
class Expect:
    """What the client expects the application to be (If-Match): any version, or one of these."""

    versions: frozenset[tuple[str, int]] | None = None  # (id, version) pairs; None: any

    def check(self, app: Application) -> None:
        if self.versions is not None and (app.id, app.version) not in self.versions:
            changed = any(app_id == app.id and version < app.version for app_id, version in self.versions)
            raise Stale(app.id, app.version, changed=changed)


# ---- account ------------------------------------------------------------------------------------


def profile(store: Store, session: Session) -> UserRecord:
    return store.get_user(session.user_id, session)


def delete_account(store: Store, session: Session) -> None:
    store.delete_user(session.user_id, session)


def sign_out(store: Store, session: Session, *, expires_at: int, everywhere: bool, now: Now) -> None:
    """End this token (until it would have expired anyway), or every token issued up to now."""

    def change(current: Sessions) -> Sessions:
        if everywhere:
            return current.end_all(ids.new_id(now.ms))
        return current.revoke(session.token_id, expires_at, now.seconds)

    store.update_sessions(session.user_id, session, change)


# ---- one application ----------------------------------------------------------------------------


def create_application(
    store: Store, session: Session, data: ApplicationData, now: Now, idempotency_key: str | None = None
) -> tuple[Application, bool]:
    """The new application, and whether it is the replay of an earlier create with the same key."""
    app = Application.model_validate(
        {
            **data.model_dump(),
            "id": ids.new_id(now.ms),
            "created_at": now.iso,
            "updated_at": now.iso,
            "version": 1,
            "status_history": [StatusChange(status=data.status, at=now.iso)],
        }
    )
    record = None
    if idempotency_key is not None:
        key = hashlib.sha256(f"{session.user_id}\n{idempotency_key}".encode()).hexdigest()
        fingerprint = hashlib.sha256(data.model_dump_json().encode()).hexdigest()
        record = IdempotentCreate(
            key, fingerprint, now.seconds, now.seconds + IDEMPOTENCY_SECONDS, app.model_dump_json()
        )
    try:
        store.create_application(session.user_id, app, session, record)
    except IdempotencyKeyTaken as taken:
        assert record is not None
        if taken.record.fingerprint != record.fingerprint:
            raise IdempotencyKeyReused from None
        return Application.stored(taken.record.response), True
    return app, False


def get_application(store: Store, session: Session, app_id: str) -> Application:
    if not ids.is_id(app_id):
        raise ApplicationNotFound(app_id)
    return store.get_application(session.user_id, app_id, session)


def update_application(
    store: Store, session: Session, app_id: str, patch: ApplicationPatch, expect: Expect | None, now: Now
) -> Application:
    """Apply the fields sent; a pydantic ValidationError if the result is not a valid application."""
    changes = patch.model_dump(include=patch.model_fields_set)
    for _ in range(_UPDATE_ATTEMPTS):
        current = get_application(store, session, app_id)
        if expect is not None:
            expect.check(current)
        fields = current.model_dump(include=set(ApplicationData.model_fields))
        merged_fields = {**fields, **changes}
        if merged_fields == fields:
            return current  # nothing changes: no new version
        merged = ApplicationData.model_validate(merged_fields)
        history = list(current.status_history)
        if merged.status != current.status:
            history.append(StatusChange(status=merged.status, at=now.iso))
        updated = Application.model_validate(
            {
                **current.model_dump(),
                **merged.model_dump(),
                "updated_at": now.iso,
                "version": current.version + 1,
                "status_history": history,
            }
        )
        try:
            store.replace_application(session.user_id, updated, expected_version=current.version)
            return updated
        except VersionConflict:
            # Another write came first. Re-read: with If-Match that answers Stale with the current
            # version; without it, the partial update is reapplied on top of the other change.
            continue
    raise Busy(app_id)


def delete_application(store: Store, session: Session, app_id: str, expect: Expect | None) -> None:
    expected = None
    if expect is not None and expect.versions is not None:
        current = get_application(store, session, app_id)
        expect.check(current)
        expected = current.version
    elif not ids.is_id(app_id):
        raise ApplicationNotFound(app_id)
    try:
        store.delete_application(session.user_id, app_id, expected, session)
    except VersionConflict as exc:
        raise Stale(app_id, exc.current_version) from None


# ---- listing and statistics ---------------------------------------------------------------------


def list_applications(store: Store, session: Session, flt: ListFilter, limit: int, after_id: str | None) -> Page:
    return store.list_applications(session.user_id, flt, limit, after_id, session)


def _applied_on(app: Application) -> dt.date | None:
    """When it was applied for: the date the person gave, else the first move past wishlist."""
    if app.applied_on is not None:
        return app.applied_on
    for change in app.status_history:
        if change.status != Status.WISHLIST:
            return dt.date.fromisoformat(change.at[:10])
    return None


def stats(store: Store, session: Session, day: dt.date) -> ApplicationStats:
    apps = store.all_applications(session.user_id, session)
    by_status = {s: 0 for s in Status}
    last_7 = last_30 = reached = responded = 0
    for app in apps:
        by_status[app.status] += 1
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
    return ApplicationStats(
        total=len(apps),
        by_status=StatusCounts.model_validate({s.value: n for s, n in by_status.items()}),
        applied_last_7_days=last_7,
        applied_last_30_days=last_30,
        response_rate=round(responded / reached, 4) if reached else 0.0,
    )
