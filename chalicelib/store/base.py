"""The Store protocol: everything the use cases need from storage, and nothing else.

Every operation is scoped to one user: an application id of another user is simply not found.
Writes to an application are conditional on its version, so two concurrent updates can never
silently lose one. Implementations: sqlite.py (local, stdlib) and dynamodb.py (AWS, boto3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from chalicelib.models import Application, Status, UserOut, UserRecord


class StoreError(Exception):
    """Base of the store's expected outcomes (not outages: those propagate as they are)."""


class UserNotFound(StoreError):
    """No such user, or the account was deleted (or is being deleted)."""


class ApplicationNotFound(StoreError):
    """No application with that id for that user."""


class VersionConflict(StoreError):
    """The application's stored version is not the expected one."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"stored version is {current_version}")
        self.current_version = current_version


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


def is_outage(exc: BaseException) -> bool:
    """Whether an exception from a store means storage is missing, unreachable or overloaded (a 503, not a bug)."""
    return outage_message(exc) is not None


@dataclass(frozen=True)
class ListFilter:
    """Which applications to list. Empty fields do not filter."""

    statuses: frozenset[Status] = frozenset()
    tag: str | None = None  # matched case-insensitively against each tag
    q: str | None = None  # lowercase; a substring of company or role, case-insensitively
    follow_up_due_by: dt.date | None = None  # next_follow_up_on set and on or before this date

    def matches(self, app: Application) -> bool:
        if self.statuses and app.status not in self.statuses:
            return False
        if self.tag is not None and self.tag.lower() not in {t.lower() for t in app.tags}:
            return False
        if self.q is not None and not app.matches_search(self.q):
            return False
        return self.follow_up_due_by is None or (
            app.next_follow_up_on is not None and app.next_follow_up_on <= self.follow_up_due_by
        )


@dataclass(frozen=True)
class Page:
    items: Sequence[Application]  # newest first (id descending)
    has_more: bool  # more matching items exist after the last one


class Store(Protocol):
    def sign_in(self, user: UserOut, now: str) -> UserRecord:
        """Create the profile on first sign-in; later, update email, name, picture and last_login_at.

        A profile whose deletion was interrupted is deleted completely first, then created anew.
        """
        ...

    def get_user(self, user_id: str) -> UserRecord:
        """The profile, or UserNotFound."""
        ...

    def delete_user(self, user_id: str) -> None:
        """Delete the profile and every application of it, or UserNotFound.

        From the moment it starts, the user is not found by any other operation; an interrupted
        deletion is finished by the next sign-in.
        """
        ...

    def create_application(self, user_id: str, app: Application) -> None:
        """Store a new application (app.version is 1), or UserNotFound."""
        ...

    def get_application(self, user_id: str, app_id: str) -> Application:
        """The application, or UserNotFound / ApplicationNotFound (checked in that order)."""
        ...

    def replace_application(self, user_id: str, app: Application, expected_version: int) -> None:
        """Write `app` (whose version is expected_version + 1) only if the stored version is expected_version.

        ApplicationNotFound when it no longer exists, VersionConflict when another write came first.
        """
        ...

    def delete_application(self, user_id: str, app_id: str, expected_version: int | None) -> None:
        """Delete it, only if its version matches when one is given.

        UserNotFound / ApplicationNotFound / VersionConflict.
        """
        ...

    def list_applications(self, user_id: str, flt: ListFilter, limit: int, after_id: str | None) -> Page:
        """Up to `limit` matching applications, newest first, with ids below `after_id` when given.

        UserNotFound when there is no such user.
        """
        ...

    def all_applications(self, user_id: str) -> Sequence[Application]:
        """Every application of the user (for statistics), or UserNotFound."""
        ...

    def count_hit(self, key: str, window_start: int, expires_at: int) -> int:
        """Add one to the counter of `key` in the window starting at `window_start` (epoch seconds);
        return the new count. Counters are gone some time after `expires_at` (epoch seconds).
        One atomic step, so every container sees the same count (rate limits)."""
        ...
