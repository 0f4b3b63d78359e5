"""A Python program written against the client openapi-python-client generates from /openapi.json.

tests/contract/test_contract.py generates the client as the package `job_hunt_tracker_client`,
type-checks this file with `mypy --strict` against it, and runs `flow()` against `chalice local`.
Only the generated client talks to the server here: no hand-written request.
"""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

from job_hunt_tracker_client import AuthenticatedClient, Client
from job_hunt_tracker_client.api.applications import (
    application_stats,
    create_application,
    delete_application,
    list_applications,
    read_application,
    update_application,
)
from job_hunt_tracker_client.api.auth import auth_google
from job_hunt_tracker_client.api.meta import health
from job_hunt_tracker_client.models import (
    Application,
    ApplicationData,
    ApplicationPage,
    ApplicationPatch,
    AuthResponse,
    ErrorBody,
    ErrorCode,
    FunnelStats,
    Health,
    SignInWithCredential,
    Status,
)


def flow(base_url: str, google_id_token: str) -> list[str]:
    """sign-in -> create -> list -> patch with If-Match -> 412 -> stats -> delete; what happened, in order."""
    steps: list[str] = []
    public = Client(base_url=base_url, raise_on_unexpected_status=True)
    up = health.sync(client=public)
    assert isinstance(up, Health) and up.timestamp.tzinfo is not None, up
    steps.append("health")

    signed_in = auth_google.sync(client=public, body=SignInWithCredential(credential=google_id_token))
    assert isinstance(signed_in, AuthResponse), signed_in
    steps.append(f"signed in as {signed_in.user.email}")
    api = AuthenticatedClient(base_url=base_url, token=signed_in.access_token, raise_on_unexpected_status=True)

    created = create_application.sync_detailed(client=api, body=ApplicationData(company="Acme", role="Engineer"))
    assert created.status_code == HTTPStatus.CREATED and isinstance(created.parsed, Application), created
    app = created.parsed
    assert app.status == Status.WISHLIST and app.tags == [] and app.url is None, app
    age = dt.datetime.now(dt.UTC) - app.created_at  # a datetime, not a string (format: date-time)
    assert abs(age) < dt.timedelta(hours=1), app.created_at
    etag = created.headers["ETag"]
    steps.append("created")

    page = list_applications.sync(client=api, limit=10)
    assert isinstance(page, ApplicationPage) and [item.id for item in page.items] == [app.id], page
    steps.append("listed")

    moved = update_application.sync_detailed(
        app.id, client=api, body=ApplicationPatch(status=Status.INTERVIEWING), if_match=etag
    )
    assert moved.status_code == HTTPStatus.OK and isinstance(moved.parsed, Application), moved
    assert moved.parsed.status == Status.INTERVIEWING and moved.parsed.version == app.version + 1
    assert [change.status for change in moved.parsed.status_history] == [Status.WISHLIST, Status.INTERVIEWING]
    steps.append("patched")

    stale = update_application.sync_detailed(app.id, client=api, body=ApplicationPatch(notes="too late"), if_match=etag)
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED and isinstance(stale.parsed, ErrorBody), stale
    assert stale.parsed.error == ErrorCode.PRECONDITION_FAILED, stale.parsed
    assert stale.parsed.detail == stale.parsed.message, stale.parsed  # what a frontend of the original reads
    assert stale.headers["ETag"] == moved.headers["ETag"]
    steps.append("412")

    stats = application_stats.sync(client=api)
    assert isinstance(stats, FunnelStats), stats
    assert stats.total == 1 and stats.by_status.interviewing == 1 and stats.by_status.wishlist == 0, stats
    steps.append("stats")

    gone = delete_application.sync_detailed(app.id, client=api, if_match=moved.headers["ETag"])
    assert gone.status_code == HTTPStatus.NO_CONTENT, gone
    missing = read_application.sync(app.id, client=api)
    assert isinstance(missing, ErrorBody) and missing.error == ErrorCode.NOT_FOUND, missing
    steps.append("deleted")
    return steps
