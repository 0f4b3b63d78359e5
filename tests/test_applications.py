"""The applications API through the test client (dev stage, SQLite): what a signed-in person sees."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.store import factory
from local_google.issuer import GoogleIssuer
from tests.conftest import ALLOWED, RICH_APPLICATION, LambdaContext, MakeClient, StageEnv, body, rest_event, sign_in

Api = Callable[..., Any]


def api_for(client: Client, token: str) -> Api:
    def call(method: str, path: str, payload: Any = None, headers: dict[str, str] | None = None) -> Any:
        all_headers = {"Authorization": f"Bearer {token}", "Origin": ALLOWED, **(headers or {})}
        kwargs: dict[str, Any] = {"headers": all_headers}
        if payload is not None:
            all_headers["Content-Type"] = "application/json"
            kwargs["body"] = payload if isinstance(payload, str) else json.dumps(payload)
        return getattr(client.http, method.lower())(path, **kwargs)

    return call


def signed_in(client: Client, issuer: GoogleIssuer, sub: str = "109876543210987654321", **claims: Any) -> Api:
    response = sign_in(client, issuer.id_token(sub=sub, **claims))
    assert response.status_code == 200, response.body
    return api_for(client, body(response)["access_token"])


@pytest.fixture
def api(client: Client, issuer: GoogleIssuer) -> Api:
    return signed_in(client, issuer)


def create(api: Api, **fields: Any) -> dict[str, Any]:
    response = api("POST", "/api/applications", {"company": "Acme", "role": "Engineer", **fields})
    assert response.status_code == 201, response.body
    return body(response)  # type: ignore[no-any-return]


# ---- create ---------------------------------------------------------------------------------------


def test_create_returns_201_with_location_etag_and_server_fields(api: Api) -> None:
    response = api(
        "POST",
        "/api/applications",
        # Padded and with a tag repeated in another case: stored trimmed and deduplicated.
        {**RICH_APPLICATION, "company": " Acme ", "tags": ["python", "Python", "fintech"]},
    )
    assert response.status_code == 201, response.body
    data = body(response)
    assert response.headers["Location"] == f"/api/applications/{data['id']}"
    assert response.headers["ETag"] == f'"{data["id"]}.1"'
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert data["company"] == "Acme" and data["currency"] == "EUR" and data["tags"] == ["python", "fintech"]
    assert data["version"] == 1 and data["created_at"] == data["updated_at"]
    assert data["status_history"] == [{"status": "applied", "at": data["created_at"]}]
    assert api("GET", response.headers["Location"]).status_code == 200


def test_create_defaults(api: Api) -> None:
    data = create(api)
    assert data["status"] == "wishlist" and data["tags"] == [] and data["notes"] is None and data["url"] is None


def test_location_keeps_the_api_gateway_stage_prefix(issuer: GoogleIssuer, tmp_path: Any, stage_env: StageEnv) -> None:
    stage_env("dev", SQLITE_PATH=str(tmp_path / "stage.db"), GOOGLE_CERTS_URL=issuer.certs_url)
    signin = rest_event("POST", "/auth/google", stage="api", headers={"Content-Type": "application/json"})
    signin["body"] = json.dumps({"credential": issuer.id_token()})
    token = json.loads(app_module.app(signin, LambdaContext())["body"])["access_token"]
    event = rest_event(
        "POST",
        "/api/applications",
        stage="api",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    event["body"] = json.dumps({"company": "Acme", "role": "Engineer"})
    response = app_module.app(event, LambdaContext())
    assert response["statusCode"] == 201
    assert response["headers"]["Location"] == f"/api/api/applications/{json.loads(response['body'])['id']}"


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"role": "Engineer"}, "company", "Field required"),
        ({"company": "Acme"}, "role", "Field required"),
        ({"company": "", "role": "Engineer"}, "company", "at least 1 character"),
        ({"company": "A" * 201, "role": "Engineer"}, "company", "at most 200 characters"),
        ({"company": "Acme", "role": "Eng", "salary": 5}, "salary", "is not a field of an application"),
        ({"company": "Acme", "role": "Eng", "status": "hired"}, "status", "'wishlist'"),
        ({"company": "Acme", "role": "Eng", "work_mode": "mars"}, "work_mode", "'remote'"),
        ({"company": "Acme", "role": "Eng", "salary_min": 10, "salary_max": 5}, "salary_min", "must not exceed"),
        ({"company": "Acme", "role": "Eng", "salary_min": "100"}, "salary_min", "valid integer"),
        ({"company": "Acme", "role": "Eng", "salary_min": -1}, "salary_min", "greater than or equal to 0"),
        ({"company": "Acme", "role": "Eng", "applied_on": "yesterday"}, "applied_on", "date string"),
        ({"company": "Acme", "role": "Eng", "applied_on": 1732000000}, "applied_on", "date string"),
        ({"company": "Acme", "role": "Eng", "url": "javascript:alert(1)"}, "url", "http(s) URL"),
        ({"company": "Acme", "role": "Eng", "currency": "EURO"}, "currency", "pattern"),
        ({"company": "Acme", "role": "Eng", "notes": "x" * 10_001}, "notes", "at most 10000 characters"),
        ({"company": "Acme", "role": "Eng", "tags": [f"t{i}" for i in range(21)]}, "tags", "at most 20 items"),
        ({"company": "Acme", "role": "Eng", "tags": ["x" * 41]}, "tags.0", "at most 40 characters"),
        ({"company": "Acme", "role": "Eng", "status_history": []}, "status_history", "is not a field"),
        ({"company": "Acme", "role": "Eng", "version": 9}, "version", "is not a field"),
    ],
)
def test_invalid_fields_get_422_naming_them(api: Api, payload: dict[str, Any], field: str, words: str) -> None:
    response = api("POST", "/api/applications", payload)
    assert response.status_code == 422, response.body
    data = body(response)
    assert data["error"] == "validation_error" and data["field"] == field
    assert any(e["field"] == field and words in e["message"] for e in data["errors"]), data
    assert body(api("GET", "/api/applications"))["items"] == []  # nothing stored


def test_a_422_names_every_field_at_fault_the_salary_range_included(api: Api) -> None:
    bad = {"company": "Acme", "role": "Eng", "salary_min": 10, "salary_max": 5, "currency": "EURO", "url": "ftp://x"}
    response = api("POST", "/api/applications", bad)
    assert response.status_code == 422
    faults = {e["field"]: e["message"] for e in body(response)["errors"]}
    assert set(faults) == {"url", "currency", "salary_min"}, faults
    assert faults["salary_min"] == "must not exceed salary_max"
    # A PATCH: its own fields first; the range is checked on the result (the stored salary_max here).
    created = create(api, salary_max=5)
    patched = api("PATCH", f"/api/applications/{created['id']}", {"salary_min": 10})
    assert patched.status_code == 422
    assert body(patched)["errors"] == [{"field": "salary_min", "message": "must not exceed salary_max"}]


def test_a_422_also_lists_the_fields_as_fastapi_did(api: Api) -> None:
    response = api("POST", "/api/applications", {"role": "", "tags": ["x" * 41], "salary": 1})
    assert response.status_code == 422
    data = body(response)
    assert sorted(data["detail"], key=str) == sorted(
        [
            {"loc": ["body", "salary"], "msg": "is not a field of an application", "type": "extra_forbidden"},
            {"loc": ["body", "company"], "msg": "Field required", "type": "missing"},
            {"loc": ["body", "role"], "msg": "String should have at least 1 character", "type": "string_too_short"},
            {"loc": ["body", "tags", 0], "msg": "String should have at most 40 characters", "type": "string_too_long"},
        ],
        key=str,
    )
    assert {e["field"] for e in data["errors"]} == {"salary", "company", "role", "tags.0"}  # ours, unchanged
    created = create(api)
    cleared = api("PATCH", f"/api/applications/{created['id']}", {"company": None})
    assert body(cleared)["detail"] == [
        {"loc": ["body", "company"], "msg": "company cannot be null", "type": "value_error"}
    ]


@pytest.mark.parametrize(("raw", "words"), [("[1, 2]", "JSON object"), ("{oops", "not valid JSON"), ("", "empty")])
def test_malformed_bodies_get_400(api: Api, raw: str, words: str) -> None:
    response = api("POST", "/api/applications", raw, {"Content-Type": "application/json"})
    assert response.status_code == 400 and words in body(response)["message"] and body(response)["field"] == "body"


# ---- read, update, delete -------------------------------------------------------------------------


def test_get_has_an_etag_with_the_version(api: Api) -> None:
    created = create(api)
    response = api("GET", f"/api/applications/{created['id']}")
    assert response.status_code == 200 and body(response) == created
    assert response.headers["ETag"] == f'"{created["id"]}.1"'


def test_another_users_application_is_a_404_exactly_like_a_missing_one(client: Client, issuer: GoogleIssuer) -> None:
    alice = signed_in(client, issuer, sub="alice")
    bob = signed_in(client, issuer, sub="bob", email="bob@example.com")
    secret = create(alice, notes="private")
    missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    for method, payload in (("GET", None), ("PATCH", {"notes": "mine now"}), ("DELETE", None)):
        theirs = bob(method, f"/api/applications/{secret['id']}", payload)
        nothing = bob(method, f"/api/applications/{missing}", payload)
        assert theirs.status_code == nothing.status_code == 404
        assert body(theirs)["error"] == body(nothing)["error"] == "not_found"
    assert body(alice("GET", f"/api/applications/{secret['id']}")) == secret


@pytest.mark.parametrize("bad_id", ["not-an-id", "x" * 300, "01ARZ3NDEKTSV4RRFFQ69G5FA%", "0" * 26 + "0"])
def test_malformed_ids_are_404_not_500(api: Api, bad_id: str) -> None:
    for method, payload in (("GET", None), ("PATCH", {"notes": "x"}), ("DELETE", None)):
        assert api(method, f"/api/applications/{bad_id}", payload).status_code == 404


def test_patch_changes_only_what_is_sent_and_keeps_the_status_history(api: Api) -> None:
    created = create(api, notes="first", location="Berlin", tags=["a"])
    response = api(
        "PATCH", f"/api/applications/{created['id']}", {"status": "applied", "location": None, "tags": ["b"]}
    )
    assert response.status_code == 200, response.body
    data = body(response)
    assert (
        data["status"] == "applied" and data["location"] is None and data["tags"] == ["b"] and data["notes"] == "first"
    )
    assert data["version"] == 2 and response.headers["ETag"] == f'"{created["id"]}.2"'
    assert [h["status"] for h in data["status_history"]] == ["wishlist", "applied"]
    data = body(api("PATCH", f"/api/applications/{created['id']}", {"status": "interviewing"}))
    assert [h["status"] for h in data["status_history"]] == ["wishlist", "applied", "interviewing"]
    assert data["created_at"] == created["created_at"] and data["updated_at"] >= created["updated_at"]


def test_a_patch_that_changes_nothing_keeps_the_version(api: Api) -> None:
    created = create(api, notes="same")
    response = api("PATCH", f"/api/applications/{created['id']}", {"notes": "same"})
    assert response.status_code == 200 and body(response)["version"] == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"company": None}, "company"),
        ({"status": None}, "status"),
        ({"salary_max": 1, "salary_min": 2}, "salary_min"),
        ({"id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "id"),
        ({"status_history": []}, "status_history"),
    ],
)
def test_invalid_patches_get_422_and_change_nothing(api: Api, payload: dict[str, Any], field: str) -> None:
    created = create(api)
    response = api("PATCH", f"/api/applications/{created['id']}", payload)
    assert response.status_code == 422 and body(response)["field"] == field, response.body
    assert body(api("GET", f"/api/applications/{created['id']}")) == created


def test_patch_merged_salary_range_is_checked(api: Api) -> None:
    created = create(api, salary_min=50, salary_max=60)
    response = api("PATCH", f"/api/applications/{created['id']}", {"salary_max": 40})
    assert response.status_code == 422 and body(response)["field"] == "salary_min"


def test_if_match_stale_gets_412_with_the_current_etag_and_changes_nothing(api: Api) -> None:
    created = create(api)
    path = f"/api/applications/{created['id']}"
    first_etag = f'"{created["id"]}.1"'
    assert api("PATCH", path, {"notes": "v2"}, {"If-Match": first_etag}).status_code == 200
    stale = api("PATCH", path, {"notes": "lost update"}, {"If-Match": first_etag})
    assert stale.status_code == 412
    assert stale.headers["ETag"] == f'"{created["id"]}.2"'
    assert body(stale)["error"] == "precondition_failed" and body(stale)["field"] == "If-Match"
    assert body(api("GET", path))["notes"] == "v2"
    assert api("DELETE", path, headers={"If-Match": first_etag}).status_code == 412
    assert api("GET", path).status_code == 200
    assert (
        api("PATCH", path, {"notes": "v3"}, {"If-Match": f'W/"{created["id"]}.2"'}).status_code == 412
    )  # weak never matches
    assert api("PATCH", path, {"notes": "v3"}, {"If-Match": f'"x", "{created["id"]}.2"'}).status_code == 200
    assert api("PATCH", path, {"notes": "v4"}, {"If-Match": "*"}).status_code == 200
    assert api("DELETE", path, headers={"If-Match": f'"{created["id"]}.4"'}).status_code == 204
    assert api("GET", path).status_code == 404


def test_a_412_says_whether_the_application_changed_or_the_tag_never_matched(api: Api) -> None:
    created = create(api)
    path = f"/api/applications/{created['id']}"
    assert api("PATCH", path, {"notes": "v2"}).status_code == 200
    changed = api("PATCH", path, {"notes": "x"}, {"If-Match": f'"{created["id"]}.1"'})
    assert changed.status_code == 412 and "changed since you read it (it is now version 2)" in body(changed)["message"]
    for never in (f'"{created["id"]}.9"', '"not-ours"', f'W/"{created["id"]}.1"'):
        response = api("DELETE", path, headers={"If-Match": never})
        assert response.status_code == 412
        assert body(response)["message"] == (
            f'If-Match does not match this application\'s current ETag, "{created["id"]}.2"; '
            "send the ETag of your last GET."
        )
        assert response.headers["ETag"] == f'"{created["id"]}.2"'


def test_malformed_if_match_is_400(api: Api) -> None:
    created = create(api)
    response = api("PATCH", f"/api/applications/{created['id']}", {"notes": "x"}, {"If-Match": "3"})
    assert response.status_code == 400 and body(response)["field"] == "If-Match"


def test_delete_then_404(api: Api) -> None:
    created = create(api)
    response = api("DELETE", f"/api/applications/{created['id']}")
    assert response.status_code == 204 and response.body == b""
    assert api("GET", f"/api/applications/{created['id']}").status_code == 404
    assert api("DELETE", f"/api/applications/{created['id']}").status_code == 404


# ---- listing --------------------------------------------------------------------------------------


def test_listing_pages_newest_first_with_filters(api: Api) -> None:
    made = [
        create(
            api,
            company=f"Co {i}",
            status=["applied", "wishlist", "interviewing"][i % 3],
            tags=["remote"] if i % 2 else [],
        )
        for i in range(11)
    ]
    newest = [m["id"] for m in reversed(made)]
    assert [i["id"] for i in body(api("GET", "/api/applications"))["items"]] == newest

    def walk(query: str) -> list[str]:
        seen, cursor = [], None
        while True:
            page = body(api("GET", f"/api/applications?{query}" + (f"&cursor={cursor}" if cursor else "")))
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    assert walk("limit=3") == newest
    expected = [m["id"] for m in reversed(made) if m["status"] in ("applied", "interviewing") and "remote" in m["tags"]]
    assert len(expected) > 2
    assert walk("limit=2&status=applied,interviewing&tag=REMOTE") == expected
    assert walk("limit=2&status=applied&status=interviewing&tag=remote") == expected
    assert walk("limit=4&q=co%201") == [m["id"] for m in reversed(made) if "co 1" in m["company"].lower()]


def test_follow_up_due_lists_what_is_due_today_or_earlier(api: Api) -> None:
    today = dt.datetime.now(dt.UTC).date()
    due = [create(api, next_follow_up_on=(today - dt.timedelta(days=d)).isoformat())["id"] for d in (3, 0)]
    create(api, next_follow_up_on=(today + dt.timedelta(days=1)).isoformat())
    create(api)
    items = body(api("GET", "/api/applications?follow_up_due=true"))["items"]
    assert [i["id"] for i in items] == list(reversed(due))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("status=hired", "status"),
        ("follow_up_due=yes", "follow_up_due"),
        ("sort=company", "sort"),
        ("cursor=abc", "cursor"),
        ("cursor=abc.def", "cursor"),
        ("limit=1&limit=2", "limit"),
        ("q=" + "x" * 101, "q"),
    ],
)
def test_bad_list_queries_get_400_naming_the_parameter(api: Api, query: str, field: str) -> None:
    response = api("GET", f"/api/applications?{query}")
    assert response.status_code == 400, response.body
    assert body(response)["field"] == field


def test_a_cursor_only_works_for_its_user_and_its_query(client: Client, issuer: GoogleIssuer) -> None:
    alice = signed_in(client, issuer, sub="alice")
    bob = signed_in(client, issuer, sub="bob", email="bob@example.com")
    for i in range(3):
        create(alice, company=f"A{i}", status="applied")
        create(bob, company=f"B{i}", status="applied")
    cursor = body(alice("GET", "/api/applications?limit=1&status=applied"))["next_cursor"]
    assert cursor
    assert alice("GET", f"/api/applications?limit=1&status=applied&cursor={cursor}").status_code == 200
    assert (
        alice("GET", f"/api/applications?limit=5&status=applied&cursor={cursor}").status_code == 200
    )  # limit may change
    assert bob("GET", f"/api/applications?limit=1&status=applied&cursor={cursor}").status_code == 400
    assert alice("GET", f"/api/applications?limit=1&status=wishlist&cursor={cursor}").status_code == 400
    payload, mac = cursor.split(".")
    forged = payload[:-2] + ("AA" if not payload.endswith("AA") else "BB")
    assert alice("GET", f"/api/applications?limit=1&status=applied&cursor={forged}.{mac}").status_code == 400


# ---- statistics -----------------------------------------------------------------------------------


def test_stats(api: Api) -> None:
    today = dt.datetime.now(dt.UTC).date()

    def days_ago(n: int) -> str:
        return (today - dt.timedelta(days=n)).isoformat()

    create(api)  # wishlist: never applied
    create(api, status="applied", applied_on=days_ago(2))
    create(api, status="applied", applied_on=days_ago(10))
    replied = create(api, status="applied", applied_on=days_ago(40))
    assert api("PATCH", f"/api/applications/{replied['id']}", {"status": "rejected"}).status_code == 200
    interviewing = create(api, status="applied")  # applied today, by its history
    assert api("PATCH", f"/api/applications/{interviewing['id']}", {"status": "interviewing"}).status_code == 200
    create(api, status="offer", applied_on=days_ago(5))  # never passed through "applied"
    response = api("GET", "/api/applications/stats")
    assert response.status_code == 200
    kept = ("total", "by_status", "applied_last_7_days", "applied_last_30_days", "response_rate")
    assert {key: body(response)[key] for key in kept} == {
        "total": 6,
        "by_status": {
            "wishlist": 1,
            "applied": 2,
            "screening": 0,
            "interviewing": 1,
            "offer": 1,
            "accepted": 0,
            "rejected": 1,
            "withdrawn": 0,
            "ghosted": 0,
        },
        "applied_last_7_days": 3,
        "applied_last_30_days": 4,
        "response_rate": 0.5,
    }


def test_stats_of_nothing(api: Api) -> None:
    data = body(api("GET", "/api/applications/stats"))
    assert data["total"] == 0 and data["response_rate"] == 0.0 and set(data["by_status"].values()) == {0}


# ---- the account ----------------------------------------------------------------------------------


def test_sign_in_creates_then_refreshes_the_profile(client: Client, issuer: GoogleIssuer) -> None:
    first = body(signed_in(client, issuer, name="Jane")("GET", "/api/user"))
    again = body(
        signed_in(client, issuer, name="Jane Q. Doe", picture="https://example.com/new.png")("GET", "/api/user")
    )
    assert again["name"] == "Jane Q. Doe" and again["picture"] == "https://example.com/new.png"
    assert again["created_at"] == first["created_at"] and again["last_login_at"] >= first["last_login_at"]


def test_deleting_the_account_removes_everything_and_revokes_the_token(client: Client, issuer: GoogleIssuer) -> None:
    api = signed_in(client, issuer)
    created = create(api)
    other = signed_in(client, issuer, sub="someone-else")
    kept = create(other)
    assert api("DELETE", "/api/user").status_code == 204
    for method, path, payload in (
        ("GET", "/api/user", None),
        ("GET", "/api/applications", None),
        ("POST", "/api/applications", {"company": "A", "role": "B"}),
        ("GET", f"/api/applications/{created['id']}", None),
        ("GET", "/api/applications/stats", None),
        ("DELETE", "/api/user", None),
    ):
        response = api(method, path, payload)
        assert response.status_code == 401, (method, path, response.body)
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="job-hunt-tracker", error="invalid_token"')
    assert body(other("GET", f"/api/applications/{kept['id']}")) == kept
    fresh = signed_in(client, issuer)
    assert body(fresh("GET", "/api/applications"))["items"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/applications"),
        ("POST", "/api/applications"),
        ("GET", "/api/applications/stats"),
        ("GET", "/api/applications/01ARZ3NDEKTSV4RRFFQ69G5FAV"),
        ("PATCH", "/api/applications/01ARZ3NDEKTSV4RRFFQ69G5FAV"),
        ("DELETE", "/api/applications/01ARZ3NDEKTSV4RRFFQ69G5FAV"),
        ("DELETE", "/api/user"),
    ],
)
def test_every_application_route_requires_a_token(client: Client, method: str, path: str) -> None:
    response = getattr(client.http, method.lower())(path, headers={"Origin": ALLOWED})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == 'Bearer realm="job-hunt-tracker"'


def test_data_survives_a_restart(make_client: MakeClient, issuer: GoogleIssuer, tmp_path: Any) -> None:
    db = str(tmp_path / "restart.db")
    first = make_client("dev", SQLITE_PATH=db)
    created = create(signed_in(first, issuer))
    factory._stores.clear()  # a new process: no cached store, a new connection to the same file
    second = make_client("dev", SQLITE_PATH=db)
    assert body(signed_in(second, issuer)("GET", f"/api/applications/{created['id']}")) == created


def test_a_422_names_nested_fields_where_they_are(api: Api) -> None:
    response = api("POST", "/api/applications", {"company": "A", "role": "B", "contacts": [{"name": "x", "foo": 1}]})
    assert response.status_code == 422
    assert body(response)["errors"] == [{"field": "contacts.0.foo", "message": "is not a field of a contact"}]
    assert body(response)["detail"][0]["loc"] == ["body", "contacts", 0, "foo"]
    created = create(api)
    response = api("PATCH", f"/api/applications/{created['id']}", {"contacts": None})
    assert body(response)["errors"] == [{"field": "contacts", "message": "contacts cannot be null"}]
    for payload, field, message in (
        ({"reminders": {"foo": 1}}, "reminders.foo", "is not a field of the reminder settings"),
        ({"reminders": {"hour": None}}, "reminders.hour", "hour cannot be null"),
    ):
        response = api("PATCH", "/api/user", payload)
        assert response.status_code == 422
        assert body(response)["errors"] == [{"field": field, "message": message}]
        assert body(response)["detail"][0]["loc"] == ["body", *field.split(".")]
    response = api("PATCH", "/api/user", {})
    assert response.status_code == 422 and body(response)["detail"][0]["loc"] == ["body"]
