"""Sessions people can end: sign out, sign out everywhere, and deletion that stays deleted.

Every case runs on SQLite and on DynamoDB Local, through the test client, as a browser would.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib import ids, tokens
from chalicelib.store import factory
from chalicelib.store.base import MAX_REVOKED, Session, Sessions
from local_google.issuer import GoogleIssuer
from tests.conftest import ALLOWED, MakeClient, body, sign_in

SUB = "109876543210987654321"
ID = "01KBX7Q3ZJ8W2N5V4R6T9Y0M1C"  # some application id


@pytest.fixture
def client(both_stores: Client) -> Client:
    return both_stores


def token_for(client: Client, issuer: GoogleIssuer, sub: str = SUB) -> str:
    response = sign_in(client, issuer.id_token(sub=sub))
    assert response.status_code == 200, response.body
    return str(body(response)["access_token"])


def call(client: Client, method: str, path: str, token: str | None, payload: Any = None, **headers: str) -> Any:
    all_headers = {"Origin": ALLOWED, **headers}
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    kwargs: dict[str, Any] = {"headers": all_headers}
    if payload is not None:
        all_headers["Content-Type"] = "text/csv" if isinstance(payload, bytes) else "application/json"
        kwargs["body"] = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return getattr(client.http, method.lower())(path, **kwargs)


def logout(client: Client, token: str, payload: Any = None) -> Any:
    return call(client, "POST", "/auth/logout", token, payload)


# Every route that needs the bearer token, with a request that would otherwise succeed or 404.
AUTHENTICATED = [
    ("GET", "/api/user", None),
    ("GET", "/api/applications", None),
    ("GET", "/api/applications/stats", None),
    ("POST", "/api/applications", {"company": "Acme", "role": "Engineer"}),
    ("GET", f"/api/applications/{ID}", None),
    ("PATCH", f"/api/applications/{ID}", {"notes": "x"}),
    ("DELETE", f"/api/applications/{ID}", None),
    ("POST", "/auth/logout", None),
    ("DELETE", "/api/user", None),
    ("PATCH", "/api/user", {"timezone": "Europe/Berlin"}),
    ("GET", f"/api/applications/{ID}/interviews", None),
    ("POST", f"/api/applications/{ID}/interviews", {"kind": "technical", "starts_at": "2026-12-03T14:00:00Z"}),
    ("GET", f"/api/applications/{ID}/interviews/{ID}", None),
    ("PATCH", f"/api/applications/{ID}/interviews/{ID}", {"notes": "x"}),
    ("DELETE", f"/api/applications/{ID}/interviews/{ID}", None),
    ("GET", "/api/interviews", None),
    ("GET", "/api/export", None),
    ("POST", "/api/import", b"company,role\nAcme,Engineer\n"),
    ("POST", "/api/calendar", None),
    ("DELETE", "/api/calendar", None),
]


def test_the_list_of_authenticated_routes_is_every_route_that_needs_a_token() -> None:
    from chalicelib import openapi

    document = openapi.document(app_module.app.routes)
    secured = {
        (method.upper(), path.replace("{app_id}", ID).replace("{interview_id}", ID))
        for path, item in document["paths"].items()
        for method, op in item.items()
        if op.get("security")
    }
    assert secured == {(method, path) for method, path, _ in AUTHENTICATED}


def assert_refused(client: Client, token: str, words: str) -> None:
    """The token gets 401 on every authenticated route, with a challenge and CORS headers."""
    for method, path, payload in AUTHENTICATED:
        response = call(client, method, path, token, payload)
        assert response.status_code == 401, (method, path, response.body)
        assert words in body(response)["message"], (method, path, body(response))
        assert body(response)["error"] == "invalid_token"
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="job-hunt-tracker", error="invalid_token"')
        assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


@pytest.fixture
def new_container() -> Callable[[], None]:
    """Forget what this process holds (verified tokens, store handles), as another container would."""

    def forget() -> None:
        tokens._verified_claims.cache_clear()
        factory._stores.clear()

    return forget


def test_logout_ends_that_token_everywhere_and_only_that_token(
    client: Client, issuer: GoogleIssuer, new_container: Callable[[], None]
) -> None:
    first, second = token_for(client, issuer), token_for(client, issuer)
    response = logout(client, first)
    assert response.status_code == 204 and response.body == b""
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    new_container()  # the revocation is in the store, not in this process
    assert_refused(client, first, "signed out")
    assert call(client, "GET", "/api/user", second).status_code == 200  # the other session goes on
    assert call(client, "GET", "/api/user", token_for(client, issuer)).status_code == 200


def test_logout_everywhere_ends_every_token_issued_until_then(client: Client, issuer: GoogleIssuer) -> None:
    first, second = token_for(client, issuer), token_for(client, issuer)
    other_user = token_for(client, issuer, sub="222222222222222222222")
    assert logout(client, second, {"everywhere": True}).status_code == 204
    assert_refused(client, first, "signed out")
    assert_refused(client, second, "signed out")
    later = token_for(client, issuer)
    assert call(client, "GET", "/api/user", later).status_code == 200  # a later sign-in works
    assert call(client, "GET", "/api/user", other_user).status_code == 200  # other users are untouched


def test_logout_with_everywhere_false_is_a_plain_logout(client: Client, issuer: GoogleIssuer) -> None:
    first, second = token_for(client, issuer), token_for(client, issuer)
    assert logout(client, first, {"everywhere": False}).status_code == 204
    assert call(client, "GET", "/api/user", first).status_code == 401
    assert call(client, "GET", "/api/user", second).status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"everywhere": "yes"}, "everywhere"),
        ({"everywhere": 1}, "everywhere"),
        ({"all": True}, "all"),
        ("[true]", "body"),
        ("{not json", "body"),
        ("[" * 100_000 + "]" * 100_000, "body"),
    ],
)
def test_a_bad_logout_body_is_a_400_and_signs_nothing_out(
    client: Client, issuer: GoogleIssuer, payload: Any, field: str
) -> None:
    token = token_for(client, issuer)
    response = logout(client, token, payload)
    assert response.status_code == 400, response.body
    assert body(response)["field"] == field
    assert call(client, "GET", "/api/user", token).status_code == 200


def test_logout_needs_a_valid_token(client: Client, issuer: GoogleIssuer) -> None:
    response = logout(client, "not.a.token")
    assert response.status_code == 401 and body(response)["error"] == "invalid_token"
    response = call(client, "POST", "/auth/logout", None)
    assert response.status_code == 401 and body(response)["error"] == "missing_token"


def test_a_token_from_before_a_deletion_never_works_again(
    client: Client, issuer: GoogleIssuer, new_container: Callable[[], None]
) -> None:
    old, unused = token_for(client, issuer), token_for(client, issuer)
    created = call(client, "POST", "/api/applications", old, {"company": "Old Co", "role": "Dev"})
    assert created.status_code == 201
    assert call(client, "DELETE", "/api/user", old).status_code == 204
    assert call(client, "GET", "/api/user", old).status_code == 401  # account gone
    # The same Google account signs in again and starts a new account with its own data.
    fresh = token_for(client, issuer)
    assert call(client, "POST", "/api/applications", fresh, {"company": "New Co", "role": "Dev"}).status_code == 201
    new_container()
    for stale in (old, unused):
        assert_refused(client, stale, "signed out")
    assert [a["company"] for a in body(call(client, "GET", "/api/applications", fresh))["items"]] == ["New Co"]


def test_revoked_ids_stay_bounded_and_older_sessions_fold_into_the_cut_off(
    client: Client, issuer: GoogleIssuer
) -> None:
    issued = [token_for(client, issuer) for _ in range(MAX_REVOKED + 3)]
    keep = token_for(client, issuer)
    for token in issued:
        assert logout(client, token).status_code == 204
    for token in (issued[0], issued[1], issued[-1]):
        assert call(client, "GET", "/api/user", token).status_code == 401
    assert call(client, "GET", "/api/user", keep).status_code == 200  # issued after every folded one
    store: Any = factory.store_for(app_settings(client))
    if hasattr(store, "client"):  # DynamoDB: the profile item itself
        item = store.client.get_item(
            TableName=store.table_name, Key={"PK": {"S": f"USER#{SUB}"}, "SK": {"S": "PROFILE"}}
        )
        assert len(item["Item"]["revoked"]["M"]) <= MAX_REVOKED
    else:
        row = store._connection().execute("SELECT revoked FROM users WHERE id = ?", (SUB,)).fetchone()
        assert len(json.loads(row["revoked"])) <= MAX_REVOKED


def app_settings(client: Client) -> Any:
    """The settings the client's stage runs with (read during a request, as the app does)."""
    from chalicelib import settings

    seen: list[Any] = []
    original = settings.load

    def spy(*args: Any) -> Any:
        loaded = original(*args)
        seen.append(loaded.settings)
        return loaded

    settings.load = spy  # type: ignore[assignment]
    try:
        call(client, "GET", "/health", None)
    finally:
        settings.load = original
    return seen[-1]


# ---- the profile's Sessions value, directly -------------------------------------------------------


def test_sessions_prune_expired_revocations_and_fold_the_oldest() -> None:
    now_s = 2_000_000_000
    jti = [ids.new_id(now_s * 1000) for _ in range(MAX_REVOKED + 2)]  # one millisecond: order by id
    expired = ids.new_id(now_s * 1000 - 7_200_000)
    sessions = Sessions("", {expired: now_s - 1})  # expired: pruned on the next change
    for token_id in jti:
        sessions = sessions.revoke(token_id, now_s + 3600, now_s)
    assert len(sessions.revoked) == MAX_REVOKED and expired not in sessions.revoked
    assert sessions.after == jti[1]  # the two oldest folded into the cut-off
    assert not any(sessions.admits(Session("u", token_id)) for token_id in jti)
    later = ids.new_id(now_s * 1000)
    assert sessions.admits(Session("u", later))
    ended = sessions.end_all(ids.new_id(now_s * 1000))
    assert not ended.admits(Session("u", later)) and ended.revoked == {}
    assert ended.admits(Session("u", ids.new_id(now_s * 1000)))  # issued after the cut, same millisecond


# ---- one round trip -------------------------------------------------------------------------------


@pytest.fixture
def dynamodb_client(make_client: MakeClient, dynamodb_table: tuple[str, str]) -> Client:
    endpoint, table = dynamodb_table
    return make_client("dev", STORE="dynamodb", DYNAMODB_TABLE=table, DYNAMODB_ENDPOINT_URL=endpoint)


@pytest.fixture
def round_trips(dynamodb_client: Client) -> Iterator[list[str]]:
    seen: list[str] = []
    store = factory.store_for(app_settings(dynamodb_client))
    store.client.meta.events.register("before-call.dynamodb", lambda model, **_: seen.append(model.name))  # type: ignore[attr-defined]
    yield seen


@pytest.mark.slow
def test_the_session_check_costs_no_extra_dynamodb_round_trip(
    dynamodb_client: Client, issuer: GoogleIssuer, round_trips: list[str]
) -> None:
    token = token_for(dynamodb_client, issuer)
    created = body(call(dynamodb_client, "POST", "/api/applications", token, {"company": "A", "role": "B"}))
    path = f"/api/applications/{created['id']}"
    for method, route, expected in [
        ("GET", "/api/user", ["GetItem"]),
        ("GET", path, ["BatchGetItem"]),
        ("POST", "/api/applications", ["TransactWriteItems"]),
        ("DELETE", path, ["TransactWriteItems"]),
    ]:
        round_trips.clear()
        payload = {"company": "A", "role": "B"} if method == "POST" else None
        response = call(dynamodb_client, method, route, token, payload)
        assert response.status_code in (200, 201, 204), response.body
        assert round_trips == expected, (method, route)
    assert logout(dynamodb_client, token).status_code == 204
    round_trips.clear()
    assert call(dynamodb_client, "GET", "/api/user", token).status_code == 401
    assert round_trips == ["GetItem"]
