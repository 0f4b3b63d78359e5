"""The calendar feed: a secret URL (no bearer token), parsed back with icalendar, on both stores."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from chalice.test import Client
from icalendar import Calendar

import app as app_module
from bench.events import rest_v1_event
from local_google.issuer import GoogleIssuer
from tests.conftest import LambdaContext, MakeClient, StageEnv, body, sign_in
from tests.dynamodb_fixtures import dynamo_client
from tests.test_applications import Api, api_for, create


@pytest.fixture
def api(both_stores: Client, issuer: GoogleIssuer) -> Api:
    return api_for(both_stores, body(sign_in(both_stores, issuer.id_token(sub="2000000000001")))["access_token"])


def feed_path(api: Api) -> str:
    response = api("POST", "/api/calendar")
    assert response.status_code == 201, response.body
    url: str = body(response)["url"]
    assert url.startswith("http://localhost") or url.startswith("https://")
    path = urlsplit(url).path
    assert path.startswith("/calendar/") and path.endswith(".ics")
    return path


def fetch(client: Client, path: str, headers: dict[str, str] | None = None) -> Any:
    return client.http.get(path, headers=headers or {})  # no Authorization: calendar apps cannot send one


def events(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.body)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_feed_has_interviews_and_follow_ups_with_stable_uids(both_stores: Client, api: Api) -> None:
    app = create(api, company="Acme", role="Engineer", next_follow_up_on="2026-12-10")
    interview = api(
        "POST",
        f"/api/applications/{app['id']}/interviews",
        {
            "kind": "phone_screen",
            "starts_at": "2026-12-03T14:00:00+01:00",
            "duration_minutes": 45,
            "location": "Video call",
            "meeting_url": "https://meet.example/abc",
            "notes": "Ask about the team",
        },
    )
    assert interview.status_code == 201
    iv = body(interview)
    create(api, company="NoDates", role="Dev")  # no interview, no follow-up: no event
    path = feed_path(api)
    found = events(fetch(both_stores, path))
    assert set(found) == {f"interview-{iv['id']}@job-hunt-tracker", f"follow-up-{app['id']}@job-hunt-tracker"}
    meeting = found[f"interview-{iv['id']}@job-hunt-tracker"]
    assert meeting.decoded("DTSTART") == dt.datetime(2026, 12, 3, 13, 0, tzinfo=dt.UTC)
    assert meeting.decoded("DTEND") == dt.datetime(2026, 12, 3, 13, 45, tzinfo=dt.UTC)
    assert str(meeting["SUMMARY"]) == "Interview: phone screen — Acme"
    assert str(meeting["LOCATION"]) == "Video call"
    assert "Ask about the team" in str(meeting["DESCRIPTION"])
    assert "https://meet.example/abc" in str(meeting["DESCRIPTION"])
    follow = found[f"follow-up-{app['id']}@job-hunt-tracker"]
    assert follow.decoded("DTSTART") == dt.date(2026, 12, 10)
    assert str(follow["SUMMARY"]) == "Follow up: Acme — Engineer"
    # A change keeps the UID (calendar apps update the event) and changes the feed.
    api("PATCH", f"/api/applications/{app['id']}", {"next_follow_up_on": "2026-12-11"})
    again = events(fetch(both_stores, path))
    assert set(again) == set(found)
    assert again[f"follow-up-{app['id']}@job-hunt-tracker"].decoded("DTSTART") == dt.date(2026, 12, 11)


def test_etag_and_if_none_match_answer_304_until_the_data_changes(both_stores: Client, api: Api) -> None:
    app = create(api, next_follow_up_on="2026-12-10")
    path = feed_path(api)
    first = fetch(both_stores, path)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and fetch(both_stores, path).headers["ETag"] == etag  # the same data, the same tag
    cached = fetch(both_stores, path, {"If-None-Match": etag})
    assert cached.status_code == 304 and cached.headers["ETag"] == etag and not cached.body
    api("PATCH", f"/api/applications/{app['id']}", {"role": "Staff Engineer"})
    changed = fetch(both_stores, path, {"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_rotating_the_secret_retires_the_old_url_and_delete_removes_the_feed(both_stores: Client, api: Api) -> None:
    old = feed_path(api)
    new = feed_path(api)
    assert old != new
    gone = fetch(both_stores, old)
    assert gone.status_code == 404 and body(gone)["field"] == "feed"
    assert fetch(both_stores, new).status_code == 200
    assert api("DELETE", "/api/calendar").status_code == 204
    assert fetch(both_stores, new).status_code == 404
    assert api("DELETE", "/api/calendar").status_code == 204  # no feed: still done


def test_unknown_malformed_and_deleted_accounts_feeds_are_404(both_stores: Client, api: Api) -> None:
    path = feed_path(api)
    for wrong in ("/calendar/" + "A" * 43 + ".ics", "/calendar/short.ics", path.removesuffix(".ics"), "/calendar/x"):
        assert fetch(both_stores, wrong).status_code == 404, wrong
    assert api("DELETE", "/api/user").status_code == 204
    assert fetch(both_stores, path).status_code == 404


def test_the_secret_is_stored_only_as_a_hash(
    both_stores: Client, api: Api, tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    secret = feed_path(api).removeprefix("/calendar/").removesuffix(".ics")
    dumped = b"".join(p.read_bytes() for p in tmp_path.rglob("*.db*"))
    if request.node.callspec.params["both_stores"] == "sqlite":  # the file holds its hash, never the secret
        assert dumped, "no SQLite file under tmp_path: nothing was checked"
        assert secret.encode() not in dumped
        assert hashlib.sha256(secret.encode()).hexdigest().encode() in dumped


def test_through_api_gateway_the_url_keeps_the_stage_prefix_and_the_feed_and_import_work(
    issuer: GoogleIssuer, tmp_path: Any, stage_env: StageEnv
) -> None:
    """As the Lambda handler gets them from API Gateway: the feed URL, the .ics, a text/csv body."""
    stage_env("dev", SQLITE_PATH=str(tmp_path / "stage.db"), GOOGLE_CERTS_URL=issuer.certs_url)

    def call(method: str, template: str, headers: dict[str, str], payload: str | None = None, **params: str) -> Any:
        event = rest_v1_event(
            method, template, style="literal", params=params, headers=headers, body=payload, stage="api"
        )
        return app_module.app(event, LambdaContext())

    signin = call(
        "POST", "/auth/google", {"Content-Type": "application/json"}, json.dumps({"credential": issuer.id_token()})
    )
    auth = {"Authorization": "Bearer " + json.loads(signin["body"])["access_token"]}
    imported = call(
        "POST",
        "/api/import",
        {**auth, "Content-Type": "text/csv"},
        "Company;Job Title;Follow up\nAcme;Dev;2026-12-10\n",
    )
    assert imported["statusCode"] == 200 and json.loads(imported["body"])["created"] == 1
    created = call("POST", "/api/calendar", auth)
    assert created["statusCode"] == 201
    url = json.loads(created["body"])["url"]
    prefix = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/api/calendar/"
    assert url.startswith(prefix) and url.endswith(".ics")
    feed = call("GET", "/calendar/{feed}", {}, feed=url.removeprefix(prefix))
    assert feed["statusCode"] == 200 and feed["headers"]["Content-Type"] == "text/calendar; charset=utf-8"
    [event] = Calendar.from_ical(feed["body"]).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Follow up: Acme — Dev"


def test_creating_a_feed_needs_a_token(both_stores: Client) -> None:
    assert both_stores.http.post("/api/calendar").status_code == 401
    assert both_stores.http.delete("/api/calendar").status_code == 401


@pytest.mark.slow
def test_on_dynamodb_one_feed_item_the_hash_only_and_none_left_after_the_account(
    make_client: Any, issuer: GoogleIssuer, dynamodb_table: tuple[str, str]
) -> None:
    endpoint, table = dynamodb_table
    client = make_client(
        "dev", STORE="dynamodb", DYNAMODB_TABLE=table, DYNAMODB_ENDPOINT_URL=endpoint, SIGNIN_RATE_LIMIT_PER_MINUTE="0"
    )
    api = api_for(client, body(sign_in(client, issuer.id_token(sub="2000000000009")))["access_token"])
    ddb = dynamo_client(endpoint)

    def feed_items() -> list[dict[str, Any]]:
        items = ddb.scan(TableName=table)["Items"]
        return [i for i in items if i["PK"]["S"].startswith("FEED#")]

    feed_path(api)
    secret = feed_path(api).removeprefix("/calendar/").removesuffix(".ics")  # rotated: the first one's item is gone
    [item] = feed_items()
    assert item["PK"]["S"] == "FEED#" + hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps(ddb.scan(TableName=table)["Items"])
    assert api("DELETE", "/api/calendar").status_code == 204
    assert feed_items() == []
    feed_path(api)
    assert len(feed_items()) == 1
    assert api("DELETE", "/api/user").status_code == 204
    assert feed_items() == []


def test_the_feed_url_never_takes_a_scheme_or_host_a_client_made_up(
    make_client: MakeClient, issuer: GoogleIssuer
) -> None:
    client = make_client("dev")
    token = body(sign_in(client, issuer.id_token(sub="2000000000009")))["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for proto in ("javascript", "httpséx", "ftp"):
        response = client.http.post("/api/calendar", headers={**headers, "X-Forwarded-Proto": proto})
        assert response.status_code == 201
        assert body(response)["url"].startswith("http://localhost/calendar/"), proto
    public = make_client("dev", PUBLIC_API_URL="https://api.example.com/prod")
    token = body(sign_in(public, issuer.id_token(sub="2000000000010")))["access_token"]
    response = public.http.post(
        "/api/calendar",
        headers={"Authorization": f"Bearer {token}", "Host": "evil.example", "X-Forwarded-Proto": "http"},
    )
    assert response.status_code == 201
    url = body(response)["url"]
    assert url.startswith("https://api.example.com/prod/calendar/") and url.endswith(".ics")
