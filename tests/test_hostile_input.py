"""Hostile input meets a 4xx naming what is at fault, never a 500: bodies nested beyond recursion
limits, NaN, oversized bodies, non-ASCII in every opaque value a client sends back, and retried
creates (Idempotency-Key). Each case runs on SQLite and on DynamoDB Local."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import pytest
from chalice.test import Client

from chalicelib import clock
from local_google.issuer import GoogleIssuer
from tests.conftest import ALLOWED, body, sign_in
from tests.test_sessions import SUB, call, token_for

DEEP = "[" * 20_000 + "]" * 20_000
DEEP_OBJECT = '{"a":' * 20_000 + "1" + "}" * 20_000
APP = {"company": "Acme", "role": "Engineer"}


@pytest.fixture
def client(both_stores: Client) -> Client:
    return both_stores


@pytest.fixture
def token(client: Client, issuer: GoogleIssuer) -> str:
    return token_for(client, issuer)


def created(client: Client, token: str) -> dict[str, Any]:
    response = call(client, "POST", "/api/applications", token, APP)
    assert response.status_code == 201, response.body
    return body(response)  # type: ignore[no-any-return]


def assert_error(response: Any, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.body
    data = body(response)
    assert data["field"] == field, data
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    for name, value in response.headers.items():
        assert str(value).isascii() and "\n" not in str(value), (name, value)
    return data  # type: ignore[no-any-return]


# ---- bodies -----------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [DEEP, DEEP_OBJECT, '{"company": NaN, "role": "x"}', '{"salary_min": Infinity}'])
def test_deep_or_non_json_bodies_are_400_on_every_route_that_reads_one(
    client: Client, token: str, payload: str
) -> None:
    app_id = created(client, token)["id"]
    sign_in_response = client.http.post(
        "/auth/google", headers={"Content-Type": "application/json", "Origin": ALLOWED}, body=payload
    )
    assert_error(sign_in_response, 400, "body")
    assert_error(call(client, "POST", "/api/applications", token, payload), 400, "body")
    assert_error(call(client, "PATCH", f"/api/applications/{app_id}", token, payload), 400, "body")
    assert_error(call(client, "POST", "/auth/logout", token, payload), 400, "body")
    assert body(call(client, "GET", f"/api/applications/{app_id}", token))["version"] == 1  # nothing changed


def test_an_oversized_body_is_413_and_stores_nothing(client: Client, token: str) -> None:
    huge = json.dumps({**APP, "notes": "x" * 300_000})
    data = assert_error(call(client, "POST", "/api/applications", token, huge), 413, "body")
    assert data["error"] == "payload_too_large"
    assert body(call(client, "GET", "/api/applications", token))["items"] == []


# ---- tokens -----------------------------------------------------------------------------------


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "bad",
    [
        f"{_b64(DEEP)}.{_b64('{}')}.c2ln",  # header nested beyond recursion limits
        f"{_b64(DEEP_OBJECT)}.{_b64('{}')}.c2ln",
        f"{_b64('{"alg":"HS256"}')}.{_b64(DEEP)}.c2ln",  # payload (read only after the signature)
        "é.é.é",
        "eyJhbGciOiJIUzI1NiJ9.ü.x",
        "a" * 10_000,
    ],
)
def test_hostile_access_tokens_are_401(client: Client, bad: str) -> None:
    response = call(client, "GET", "/api/user", bad)
    data = assert_error(response, 401, "Authorization")
    assert data["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="job-hunt-tracker", error="invalid_token"')


# ---- opaque values sent back ------------------------------------------------------------------


@pytest.mark.parametrize("cursor", ["é.é", "abc.dé", "ÿ" * 50, "x" * 5000, "."])
def test_non_ascii_or_forged_cursors_are_400(client: Client, token: str, cursor: str) -> None:
    response = call(client, "GET", f"/api/applications?cursor={quote(cursor)}", token)
    assert_error(response, 400, "cursor")


@pytest.mark.parametrize("if_match", ['"é"', "é", '"01KBX7Q3ZJ8W2N5V4R6T9Y0M1C.1"é', 'W/"x", "ü"'])
def test_non_ascii_if_match_is_400_and_changes_nothing(client: Client, token: str, if_match: str) -> None:
    app_id = created(client, token)["id"]
    path = f"/api/applications/{app_id}"
    assert_error(call(client, "PATCH", path, token, {"notes": "x"}, **{"If-Match": if_match}), 400, "If-Match")
    assert_error(call(client, "DELETE", path, token, None, **{"If-Match": if_match}), 400, "If-Match")
    assert body(call(client, "GET", path, token))["version"] == 1


def test_a_foreign_but_well_formed_if_match_is_412_with_the_current_etag(client: Client, token: str) -> None:
    app_id = created(client, token)["id"]
    response = call(client, "PATCH", f"/api/applications/{app_id}", token, {"notes": "x"}, **{"If-Match": '"nope"'})
    assert_error(response, 412, "If-Match")
    assert response.headers["ETag"] == f'"{app_id}.1"'


@pytest.mark.parametrize("app_id", ["é" * 26, "01KBX7Q3ZJ8W2N5V4R6T9Y0M1É", "%00", "x" * 1000])
def test_non_ascii_or_foreign_ids_are_404(client: Client, token: str, app_id: str) -> None:
    path = f"/api/applications/{quote(app_id)}"
    for method, payload in (("GET", None), ("PATCH", {"notes": "x"}), ("DELETE", None)):
        data = assert_error(call(client, method, path, token, payload), 404, "id")
        assert data["error"] == "not_found"


# ---- Idempotency-Key --------------------------------------------------------------------------


def test_a_retried_create_with_the_same_key_answers_the_first_response_and_creates_nothing(
    client: Client, token: str
) -> None:
    first = call(client, "POST", "/api/applications", token, APP, **{"Idempotency-Key": "retry-1"})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = call(client, "POST", "/api/applications", token, {**APP}, **{"Idempotency-Key": "retry-1"})
    assert again.status_code == 201
    assert body(again) == body(first)  # the same application, the same body
    assert again.headers["Location"] == first.headers["Location"] and again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(body(call(client, "GET", "/api/applications", token))["items"]) == 1
    stats = body(call(client, "GET", "/api/applications/stats", token))
    assert stats["total"] == 1  # the kept key is not an application


def test_the_same_key_with_another_body_is_422_naming_the_header(client: Client, token: str) -> None:
    assert call(client, "POST", "/api/applications", token, APP, **{"Idempotency-Key": "k"}).status_code == 201
    response = call(client, "POST", "/api/applications", token, {**APP, "role": "Manager"}, **{"Idempotency-Key": "k"})
    data = assert_error(response, 422, "Idempotency-Key")
    assert data["error"] == "idempotency_key_reused"
    assert len(body(call(client, "GET", "/api/applications", token))["items"]) == 1


def test_keys_of_different_users_never_collide(client: Client, issuer: GoogleIssuer, token: str) -> None:
    other = token_for(client, issuer, sub="333333333333333333333")
    mine = call(client, "POST", "/api/applications", token, APP, **{"Idempotency-Key": "shared"})
    theirs = call(client, "POST", "/api/applications", other, APP, **{"Idempotency-Key": "shared"})
    assert mine.status_code == theirs.status_code == 201
    assert body(mine)["id"] != body(theirs)["id"] and "Idempotent-Replayed" not in theirs.headers


@pytest.mark.parametrize("key", ["", " leading", "trailing ", "é", "a\tb", "x" * 256])
def test_a_malformed_key_is_400_and_creates_nothing(client: Client, token: str, key: str) -> None:
    response = call(client, "POST", "/api/applications", token, APP, **{"Idempotency-Key": key})
    assert_error(response, 400, "Idempotency-Key")
    assert body(call(client, "GET", "/api/applications", token))["items"] == []


def test_a_key_may_be_used_again_after_24_hours(
    client: Client, issuer: GoogleIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = call(client, "POST", "/api/applications", token_for(client, issuer), APP, **{"Idempotency-Key": "daily"})
    later = clock.Now.read().ms + (24 * 3600 + 5) * 1000
    monkeypatch.setattr(clock.Now, "read", classmethod(lambda cls: cls(later)))
    now_s = later // 1000  # a Google credential and our token of that later day
    response = sign_in(client, issuer.id_token(sub=SUB, iat=now_s, exp=now_s + 3600))
    token = body(response)["access_token"]
    again = call(client, "POST", "/api/applications", token, APP, **{"Idempotency-Key": "daily"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert body(again)["id"] != body(first)["id"]
    assert len(body(call(client, "GET", "/api/applications", token))["items"]) == 2


def test_a_max_length_printable_key_works(client: Client, token: str) -> None:
    key = "K" + " ~" * 126 + "!"
    assert len(key) == 254
    response = call(client, "POST", "/api/applications", token, APP, **{"Idempotency-Key": key})
    assert response.status_code == 201


def test_sign_in_bodies_that_are_not_objects_are_400(client: Client) -> None:
    for payload in ("[]", '"x"', "1e999", "null"):
        response = client.http.post(
            "/auth/google", headers={"Content-Type": "application/json", "Origin": ALLOWED}, body=payload
        )
        assert response.status_code == 400, (payload, response.body)
