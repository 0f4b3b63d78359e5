"""The Store protocol: everything the use cases need from storage, and nothing else.

Every operation is scoped to one user: an application id of another user is simply not found.
Writes to an application are conditional on its version, so two concurrent updates can never
silently lose one. Implementations: sqlite.py (local, stdlib) and dynamodb.py (AWS, boto3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from chalicelib.models import AgendaItem, Application, Interview, Reminders, Status, UserOut, UserRecord

# Revoked tokens kept on a profile, at most: past this the oldest are folded into the cut-off
# (which also ends the other sessions begun before them), so a profile item stays small.
MAX_REVOKED = 100


class StoreError(Exception):
    """Base of the store's expected outcomes (not outages: those propagate as they are)."""


class UserNotFound(StoreError):
    """No such user, or the account was deleted (or is being deleted)."""


class SessionEnded(StoreError):
    """The access token was signed out, or issued before the user's sessions were ended."""


class ApplicationNotFound(StoreError):
    """No application with that id for that user."""


class InterviewNotFound(StoreError):
    """No interview with that id on that application of that user."""


class TooManyInterviews(StoreError):
    """The application already has MAX_INTERVIEWS interviews."""


class VersionConflict(StoreError):
    """The application's stored version is not the expected one."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"stored version is {current_version}")
        self.current_version = current_version


@dataclass(frozen=True)
class Session:
    """Who a request is from: the user, and the id of the access token they sent."""

    user_id: str
    token_id: str  # a ULID (chalicelib.ids): token ids sort by when they were issued


@dataclass(frozen=True)
class Sessions:
    """What ends sessions, kept on the profile: a cut-off and the ids of tokens signed out.

    A token is admitted when its id sorts after `after` and is not in `revoked` (token id -> its
    expiry, epoch seconds; pruned once expired, since then it is refused anyway). Token ids are
    ULIDs, monotonic within a container, so a cut-off made with a fresh id ends every token this
    container issued before it, even in the same millisecond. A profile made by a sign-in starts
    with a cut-off made just before its first token, so a token issued before an account was
    deleted never works for the account made after it.
    """

    after: str = ""
    revoked: Mapping[str, int] = field(default_factory=dict)

    def admits(self, session: Session) -> bool:
        return session.token_id > self.after and session.token_id not in self.revoked

    def revoke(self, token_id: str, expires_at: int, now_s: int) -> Sessions:
        """Also sign out `token_id`; the list pruned of expired tokens and kept to MAX_REVOKED."""
        kept = {jti: exp for jti, exp in self.revoked.items() if exp > now_s}
        kept[token_id] = expires_at
        after = self.after
        if len(kept) > MAX_REVOKED:
            after = max(after, sorted(kept)[len(kept) - MAX_REVOKED - 1])
            kept = {jti: exp for jti, exp in kept.items() if jti > after}
        return Sessions(after, kept)

    def end_all(self, cut: str) -> Sessions:
        """Every token issued before the fresh id `cut` refused; later sign-ins work."""
        return Sessions(max(self.after, cut), {})


@dataclass(frozen=True)
class IdempotentCreate:
    """A create sent with an Idempotency-Key: kept with the application for `expires_at`, so a
    retry with the same key gets the first answer instead of a second application."""

    key_hash: str  # sha256 of the user id and the key, hex (the key itself is never stored)
    fingerprint: str  # sha256 of the validated request body, hex
    created_s: int  # epoch seconds
    expires_at: int  # epoch seconds; after it the key may be used again
    response: str  # the application as first answered, JSON


class IdempotencyKeyTaken(StoreError):
    """A create with this key is already stored (possibly for another body)."""

    def __init__(self, record: IdempotentCreate) -> None:
        super().__init__("idempotency key already used")
        self.record = record


# botocore errors that mean "the service is not answering right now", not "you asked wrongly".
_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)
# The function's role may not use the table (its policy is not the one `make deploy` sets).
_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "UnrecognizedClientException"})
DEPLOY_HINT = "run `make deploy` (it creates the table and the function's policy; plain `chalice deploy` does not)"


def outage_message(exc: BaseException, *, table: str | None = None) -> str | None:
    """Why storage cannot serve this request, in words naming the table and what to run (a 503);
    None when the exception is not an outage (a bug: a 500). Never includes a secret or user data."""
    module = type(exc).__module__
    # Judged by module and name, not isinstance: importing sqlite3 or botocore here would put them
    # on every cold start, whichever store the stage uses.
    if module == "sqlite3" and type(exc).__name__ == "OperationalError":
        if "locked" in str(exc) or "busy" in str(exc):
            return "The SQLite database is busy; try again shortly."
        return None
    if not module.startswith("botocore"):
        return None
    named = f"DynamoDB table {table!r}" if table else "the DynamoDB table"
    response = getattr(exc, "response", None)  # a ClientError's parsed reply; None on connection errors
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    if code is None:  # a connection or timeout error
        return f"Storage is not answering right now ({named} cannot be reached); try again shortly."
    if code == "ResourceNotFoundException":
        return f"Storage is not set up: {named} does not exist; {DEPLOY_HINT}."
    if code in _DENIED_CODES:
        return f"Storage is not set up: the function may not use {named} ({code}); {DEPLOY_HINT}."
    if code in _TRANSIENT_CODES:
        return f"Storage is not answering right now ({named}: {code}); try again shortly."
    return None


@dataclass(frozen=True)
class ListFilter:
    """Which applications to list. Empty fields do not filter."""

    statuses: frozenset[Status] = frozenset()
    tag: str | None = None  # matched case-insensitively against each tag
    q: str | None = None  # lowercase; a substring of company or role, case-insensitively
    follow_up_due_by: dt.date | None = None  # next_follow_up_on set and on or before this date
    contact: str | None = None  # lowercase; a substring of a contact's name or email, case-insensitively


@dataclass(frozen=True)
class AgendaPage:
    items: Sequence[AgendaItem]  # by starts_at, then id
    has_more: bool


@dataclass(frozen=True)
class ReminderState:
    """What the reminder pass keeps on a profile besides the person's settings."""

    listed_at: int | None = None  # the UTC hour whose reminder list holds the person (None: not listed)
    last_sent_on: str | None = None  # the local date (YYYY-MM-DD) of the last reminder claimed


@dataclass(frozen=True)
class Everything:
    """One pass over a user's data, for statistics: the profile, every application and interview."""

    profile: UserRecord
    applications: Sequence[Application]
    interviews: Sequence[Interview]
    reminder_state: ReminderState = ReminderState()

    @property
    def live_interviews(self) -> list[Interview]:
        """The interviews of the applications in `applications`: an interview of a deleted application
        may outlive it in the store (DynamoDB deletes them after the application), and never counts."""
        live = {app.id for app in self.applications}
        return [i for i in self.interviews if i.application_id in live]


@dataclass(frozen=True)
class SettingsChange:
    """The person's settings after a PATCH, and the UTC hour whose reminder list should hold them."""

    timezone: str
    reminders: Reminders
    listed_at: int | None  # None: on no list (reminders off)


@dataclass(frozen=True)
class ReminderEntry:
    """One person on the reminder list of a UTC hour: at their hour, or for a retry of a failed send."""

    user_id: str
    retry: bool = False


@dataclass(frozen=True)
class Page:
    items: Sequence[Application]  # newest first (id descending)
    has_more: bool  # more matching items exist after the last one


class Store(Protocol):
    """Every user-scoped read or write takes the request's `session` (None only for maintenance and
    tests): when given, a signed-out or ended session is refused with SessionEnded, checked in the
    same round trip that finds the user."""

    def sign_in(self, user: UserOut, now: str, sessions_after: str = "") -> UserRecord:
        """Create the profile on first sign-in; later, update email, name, picture and last_login_at.

        A new profile admits only tokens whose ids sort after `sessions_after`. A profile whose deletion was interrupted is
        deleted completely first, then created anew.
        """
        ...

    def get_user(self, user_id: str, session: Session | None = None) -> UserRecord:
        """The profile, or UserNotFound / SessionEnded."""
        ...

    def update_sessions(self, user_id: str, session: Session, change: Callable[[Sessions], Sessions]) -> None:
        """Replace the profile's Sessions with change(current), atomically; UserNotFound / SessionEnded."""
        ...

    def delete_user(self, user_id: str, session: Session | None = None) -> None:
        """Delete the profile and everything of the user, or UserNotFound / SessionEnded.

        From the moment it starts, the user is not found by any other operation; an interrupted
        deletion is finished by the next sign-in.
        """
        ...

    def create_application(
        self,
        user_id: str,
        app: Application,
        session: Session | None = None,
        idempotency: IdempotentCreate | None = None,
    ) -> None:
        """Store a new application (app.version is 1), or UserNotFound / SessionEnded.

        With `idempotency`, the record is stored in the same transaction; IdempotencyKeyTaken with
        the stored record (and nothing written) when an unexpired record with that key exists.
        """
        ...

    def get_application(self, user_id: str, app_id: str, session: Session | None = None) -> Application:
        """The application, or UserNotFound / SessionEnded / ApplicationNotFound (checked in that order)."""
        ...

    def replace_application(self, user_id: str, app: Application, expected_version: int) -> None:
        """Write `app` (whose version is expected_version + 1) only if the stored version is expected_version.

        ApplicationNotFound when it no longer exists, VersionConflict when another write came first.
        """
        ...

    def delete_application(
        self, user_id: str, app_id: str, expected_version: int | None, session: Session | None = None
    ) -> None:
        """Delete it, only if its version matches when one is given.

        UserNotFound / SessionEnded / ApplicationNotFound / VersionConflict.
        """
        ...

    def list_applications(
        self, user_id: str, flt: ListFilter, limit: int, after_id: str | None, session: Session | None = None
    ) -> Page:
        """Up to `limit` matching applications, newest first, with ids below `after_id` when given.

        UserNotFound / SessionEnded.
        """
        ...

    def all_applications(self, user_id: str, session: Session | None = None) -> Sequence[Application]:
        """Every application of the user (for statistics), or UserNotFound / SessionEnded."""
        ...

    def everything(self, user_id: str, session: Session | None = None) -> Everything:
        """The profile, every application and every interview, in one pass; UserNotFound / SessionEnded."""
        ...

    # -- reminders: a list per UTC hour (0-23) of whom to remind then -----------------------------

    def update_settings(
        self, user_id: str, plan: Callable[[UserRecord], SettingsChange], session: Session | None = None
    ) -> UserRecord:
        """Apply plan(current profile) atomically: the settings, and the person moved to the reminder
        list of change.listed_at (off every list when None). UserNotFound / SessionEnded."""
        ...

    def reminder_list(self, hour: int) -> Sequence[ReminderEntry]:
        """Everyone on the reminder list of UTC hour `hour` (a Query of that list only, never a Scan)."""
        ...

    def relist_reminders(self, user_id: str, expected: int, listed_at: int | None) -> bool:
        """Move the person from the list of `expected` to that of `listed_at` (off the lists when None), only
        if the profile still says `expected`; False when it did not (or the user is gone: then the
        entry at `expected` is dropped)."""
        ...

    def set_reminder_retry(self, user_id: str, hour: int, retry: bool) -> None:
        """Put (retry=True) or take off (False) a retry entry for the person on the list of `hour`."""
        ...

    def claim_reminder(self, user_id: str, day: str) -> bool:
        """Record that the reminder of local date `day` is being sent, only if the person still has
        reminders on and none was claimed for `day` or later: the exactly-once step, before sending."""
        ...

    def release_reminder(self, user_id: str, day: str, previous: str | None) -> None:
        """Undo claim_reminder(day) after a failed send (so a retry may send), if nothing changed it since."""
        ...

    # -- interviews: each belongs to one application; MAX_INTERVIEWS per application --------------

    def create_interview(self, user_id: str, interview: Interview, session: Session | None = None) -> None:
        """Store a new interview (version 1) of interview.application_id.

        UserNotFound / SessionEnded / ApplicationNotFound / TooManyInterviews.
        """
        ...

    def get_interview(self, user_id: str, app_id: str, interview_id: str, session: Session | None = None) -> Interview:
        """UserNotFound / SessionEnded / ApplicationNotFound / InterviewNotFound (checked in that order)."""
        ...

    def list_interviews(self, user_id: str, app_id: str, session: Session | None = None) -> Sequence[Interview]:
        """Every interview of the application by starts_at (then id); UserNotFound / SessionEnded / ApplicationNotFound."""
        ...

    def replace_interview(
        self, user_id: str, interview: Interview, expected_version: int, session: Session | None = None
    ) -> None:
        """Write `interview` (version expected_version + 1) only if the stored one is expected_version.

        UserNotFound / SessionEnded / ApplicationNotFound / InterviewNotFound / VersionConflict.
        """
        ...

    def delete_interview(
        self,
        user_id: str,
        app_id: str,
        interview_id: str,
        expected_version: int | None,
        session: Session | None = None,
    ) -> None:
        """UserNotFound / SessionEnded / ApplicationNotFound / InterviewNotFound / VersionConflict."""
        ...

    def agenda(
        self,
        user_id: str,
        start: str,
        end: str,
        limit: int,
        after: tuple[str, str] | None,
        session: Session | None = None,
    ) -> AgendaPage:
        """Up to `limit` interviews whose starts_at is in [start, end) (UTC instants as stored), by
        starts_at then id, after the (starts_at, id) `after` when given; UserNotFound / SessionEnded."""
        ...

    # -- data in: an import ----------------------------------------------------------------------

    def add_applications(self, user_id: str, apps: Sequence[Application], session: Session | None = None) -> None:
        """Store many new applications (version 1, no interviews), or UserNotFound / SessionEnded.

        Each application is written whole or not at all; the profile (and session) is checked with
        every write. An outage part way leaves the applications written so far (an import that is
        run again skips them as duplicates).
        """
        ...

    # -- the calendar feed: a secret URL, stored only as its hash ------------------------------------

    def set_feed(self, user_id: str, feed_hash: str | None, session: Session | None = None) -> None:
        """Make `feed_hash` the user's one calendar feed (None: no feed); the previous one stops
        working in the same step. UserNotFound / SessionEnded."""
        ...

    def feed_owner(self, feed_hash: str) -> str | None:
        """The id of the live user whose current feed has this hash, or None."""
        ...

    def count_hit(self, key: str, window_start: int, expires_at: int) -> int:
        """Add one to the counter of `key` in the window starting at `window_start` (epoch seconds);
        return the new count. Counters are gone some time after `expires_at` (epoch seconds).
        One atomic step, so every container sees the same count (rate limits)."""
        ...
