"""The sign-in rate limit (429 + Retry-After, kept in the store) and the structured request log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.store import factory
from local_google.issuer import GoogleIssuer
from tests.conftest import ALLOWED, DEV_SECRET, LambdaContext, MakeClient, StageEnv, body, rest_event, sign_in


def test_too_many_sign_ins_get_429_with_retry_after(make_client: MakeClient, issuer: GoogleIssuer) -> None:
    client = make_client("dev", SIGNIN_RATE_LIMIT_PER_MINUTE="3")
    assert sign_in(client, issuer.id_token()).status_code == 200
    assert sign_in(client, "not-a-token").status_code == 401  # failed attempts count too
    assert sign_in(client, issuer.id_token()).status_code == 200
    limited = sign_in(client, issuer.id_token())
    assert limited.status_code == 429
    assert body(limited)["error"] == "rate_limited" and "limit 3 a minute" in body(limited)["message"]
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["Access-Control-Allow-Origin"] == ALLOWED  # the browser can read it


def test_the_limit_holds_across_containers(make_client: MakeClient, issuer: GoogleIssuer, tmp_path: Path) -> None:
    db = str(tmp_path / "shared.db")
    client = make_client("dev", SIGNIN_RATE_LIMIT_PER_MINUTE="2", SQLITE_PATH=db)
    assert sign_in(client, issuer.id_token()).status_code == 200
    factory._stores.clear()  # another container: a new store object, the same storage
    assert sign_in(client, issuer.id_token()).status_code == 200
    factory._stores.clear()
    assert sign_in(client, issuer.id_token()).status_code == 429


def test_the_limit_is_per_client_address_and_can_be_off(
    monkeypatch: pytest.MonkeyPatch, issuer: GoogleIssuer, tmp_path: Path, stage_env: StageEnv
) -> None:
    stage_env(
        "dev", SQLITE_PATH=str(tmp_path / "ips.db"), GOOGLE_CERTS_URL=issuer.certs_url, SIGNIN_RATE_LIMIT_PER_MINUTE="1"
    )

    def attempt(ip: str) -> int:
        event = rest_event("POST", "/auth/google", stage="api", headers={"Content-Type": "application/json"})
        event["requestContext"]["identity"]["sourceIp"] = ip
        event["body"] = json.dumps({"credential": issuer.id_token()})
        return int(app_module.app(event, LambdaContext())["statusCode"])

    assert [attempt("198.51.100.1"), attempt("198.51.100.1"), attempt("198.51.100.2")] == [200, 429, 200]
    monkeypatch.setenv("SIGNIN_RATE_LIMIT_PER_MINUTE", "0")
    assert [attempt("198.51.100.1") for _ in range(3)] == [200, 200, 200]


def test_addresses_are_stored_only_as_keyed_hashes(
    make_client: MakeClient, issuer: GoogleIssuer, tmp_path: Path
) -> None:
    db = tmp_path / "hashes.db"
    client = make_client("dev", SQLITE_PATH=str(db))
    assert sign_in(client, issuer.id_token()).status_code == 200
    import sqlite3

    keys = [row[0] for row in sqlite3.connect(db).execute("SELECT key FROM hits")]
    assert len(keys) == 1 and keys[0].startswith("signin:") and "127.0.0.1" not in keys[0]


def _log_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"request_id"')]


def test_one_json_line_per_request_and_never_a_secret(
    client: Client, issuer: GoogleIssuer, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    credential = issuer.id_token(email="private.person@example.com", sub="4242424242")
    signed = sign_in(client, credential)
    token = body(signed)["access_token"]
    auth = {"Authorization": f"Bearer {token}", "Origin": ALLOWED}
    client.http.get("/api/user", headers=auth)
    client.http.post(
        "/api/applications",
        headers={**auth, "Content-Type": "application/json"},
        body=json.dumps({"company": "Acme", "role": "Dev"}),
    )
    client.http.get("/api/user", headers={"Authorization": "Bearer forged.token.value"})
    client.http.get("/health")

    out, err = capsys.readouterr()
    lines = _log_lines(out)
    assert [(r["method"], r["route"], r["status"]) for r in lines] == [
        ("POST", "/auth/google", 200),
        ("GET", "/api/user", 200),
        ("POST", "/api/applications", 201),
        ("GET", "/api/user", 401),
        ("GET", "/health", 200),
    ]
    for record in lines:
        assert set(record) == {"request_id", "method", "route", "status", "duration_ms", "cold_start", "user"}
        assert isinstance(record["duration_ms"], float) and record["duration_ms"] >= 0
        assert isinstance(record["cold_start"], bool) and record["request_id"]
    users = [r["user"] for r in lines]
    assert users[0] == users[1] == users[2] and len(users[0]) == 16 and users[3] is None and users[4] is None
    everything = out + err + caplog.text
    for forbidden in (credential, token, "forged.token.value", DEV_SECRET, "4242424242", "private.person@example.com"):
        assert forbidden not in everything


def test_only_the_first_request_of_a_container_is_a_cold_start(
    client: Client, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module.api, "_cold_start", True)
    for _ in range(3):
        client.http.get("/health")
    assert [r["cold_start"] for r in _log_lines(capsys.readouterr().out)] == [True, False, False]


def test_an_unreachable_store_is_a_503_not_a_500(make_client: MakeClient, issuer: GoogleIssuer) -> None:
    # Prod's store points at a loopback port where nothing listens (conftest's NO_DYNAMODB).
    prod = make_client("prod")
    response = sign_in(prod, "not-even-a-token")
    assert response.status_code == 503, response.body
    assert body(response)["error"] == "storage_unavailable" and response.headers["Retry-After"] == "5"


def test_a_bug_is_still_a_500(client: Client, issuer: GoogleIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib import tracker

    def broken(*args: Any) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(tracker, "stats", broken)
    token = body(sign_in(client, issuer.id_token()))["access_token"]
    response = client.http.get(
        "/api/applications/stats", headers={"Authorization": f"Bearer {token}", "Origin": ALLOWED}
    )
    assert response.status_code == 500
    assert body(response) == {
        "error": "internal_error",
        "message": "An internal server error occurred.",
        "detail": "An internal server error occurred.",
    }
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_what_counts_as_a_storage_outage() -> None:
    import sqlite3

    from botocore.exceptions import ClientError, EndpointConnectionError

    from chalicelib.store.base import outage_message

    def is_outage(exc: BaseException) -> bool:
        return outage_message(exc) is not None

    def client_error(code: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": "x"}}, "Query")

    assert is_outage(sqlite3.OperationalError("database is locked"))
    assert not is_outage(sqlite3.OperationalError("no such table: applications"))  # a bug, not an outage
    assert is_outage(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    assert is_outage(client_error("ProvisionedThroughputExceededException"))
    assert not is_outage(client_error("ValidationException"))
    assert not is_outage(KeyError("a bug"))


def test_each_storage_outage_is_named_with_what_to_do() -> None:
    from botocore.exceptions import ClientError, ReadTimeoutError

    from chalicelib.store.base import outage_message

    def client_error(code: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": "x"}}, "GetItem")

    table = "job-hunt-tracker-prod"
    missing = outage_message(client_error("ResourceNotFoundException"), table=table)
    assert missing is not None and f"DynamoDB table {table!r} does not exist" in missing and "make deploy" in missing
    denied = outage_message(client_error("AccessDeniedException"), table=table)
    assert denied is not None and f"may not use DynamoDB table {table!r} (AccessDeniedException)" in denied
    assert "make deploy" in denied
    throttled = outage_message(client_error("ThrottlingException"), table=table)
    assert throttled is not None and table in throttled and "try again shortly" in throttled
    timeout = outage_message(ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"), table=table)
    assert timeout is not None and "cannot be reached" in timeout
    assert outage_message(client_error("ConditionalCheckFailedException"), table=table) is None
