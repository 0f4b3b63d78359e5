"""POST /auth/google: the browser's Google ID token in, our access token out."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from chalice.test import Client

from chalicelib import ids
from local_google.issuer import GoogleIssuer, SigningKey
from tests.conftest import ALLOWED, CLIENT_ID, DEV_SECRET, FakeClock, MakeClient, body, sign_in


def post(client: Client, raw: str, content_type: str = "application/json") -> Any:
    return client.http.post("/auth/google", headers={"Content-Type": content_type, "Origin": ALLOWED}, body=raw)


@pytest.mark.parametrize("field", ["credential", "token", "id_token"])
def test_sign_in_returns_our_token_and_the_google_user(client: Client, issuer: GoogleIssuer, field: str) -> None:
    response = sign_in(client, issuer.id_token(), field)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    data = body(response)
    assert data["token_type"] == "bearer"
    assert data["expires_in"] == 86400
    assert data["user"] == {
        "id": "109876543210987654321",
        "email": "jane.doe@example.com",
        "name": "Jane Doe",
        "picture": "https://lh3.googleusercontent.com/a/jane",
    }
    claims = jwt.decode(
        data["access_token"],
        DEV_SECRET,
        algorithms=["HS256"],
        audience="job-hunt-tracker-api/dev",
        issuer="job-hunt-tracker-api",
    )
    assert claims["sub"] == "109876543210987654321"  # users are keyed by Google's sub, never by email
    assert claims["email"] == "jane.doe@example.com"
    assert claims["exp"] - claims["iat"] == 24 * 3600
    assert abs(claims["iat"] - time.time()) < 60
    assert ids.is_id(claims["jti"])  # a ULID: its time is when the token was issued


def test_each_sign_in_gets_a_distinct_token_id(client: Client, issuer: GoogleIssuer) -> None:
    first, second = (body(sign_in(client, issuer.id_token()))["access_token"] for _ in range(2))
    assert jwt.get_unverified_header(first)["alg"] == "HS256"
    assert (
        jwt.decode(first, options={"verify_signature": False})["jti"]
        != jwt.decode(second, options={"verify_signature": False})["jti"]
    )


def test_token_lifetime_follows_the_setting(make_client: MakeClient, issuer: GoogleIssuer) -> None:
    client = make_client("dev", ACCESS_TOKEN_EXPIRE_MINUTES="30")
    data = body(sign_in(client, issuer.id_token()))
    assert data["expires_in"] == 1800
    claims = jwt.decode(data["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 1800


def test_any_configured_client_id_is_accepted(make_client: MakeClient, issuer: GoogleIssuer) -> None:
    client = make_client("dev", GOOGLE_CLIENT_ID=f"999-web.apps.googleusercontent.com, {CLIENT_ID}")
    assert sign_in(client, issuer.id_token()).status_code == 200
    assert sign_in(client, issuer.id_token(aud="999-web.apps.googleusercontent.com")).status_code == 200


# ---- 400: the request itself is wrong -------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ("{not json", "body", "not valid JSON"),
        ("", "body", "empty"),
        ('["a.b.c"]', "body", "must be a JSON object"),
        ('"a.b.c"', "body", "must be a JSON object"),
        ("{}", "credential", "lacks the Google ID token"),
        ('{"idToken": "a.b.c"}', "credential", "lacks the Google ID token"),
        ('{"credential": 42}', "credential", "non-empty string"),
        ('{"credential": "  "}', "credential", "non-empty string"),
        ('{"token": null}', "token", "non-empty string"),
        (json.dumps({"id_token": "x" * 9000}), "id_token", "too long"),
    ],
)
def test_bad_bodies_get_400_naming_the_field(client: Client, raw: str, field: str, words: str) -> None:
    response = post(client, raw)
    assert response.status_code == 400
    data = body(response)
    assert data["error"] == "bad_request" and data["field"] == field and words in data["message"]
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_a_non_json_content_type_gets_415_naming_it(client: Client, issuer: GoogleIssuer) -> None:
    response = post(client, json.dumps({"credential": issuer.id_token()}), "text/plain")
    assert response.status_code == 415
    assert body(response) == {
        "error": "unsupported_media_type",
        "message": "Unsupported media type: text/plain",
        "detail": "Unsupported media type: text/plain",
    }


# ---- 401: the Google credential is not acceptable --------------------------------------------


def _tampered(token: str) -> str:
    head, payload, sig = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["email"] = "mallory@example.com"
    return f"{head}.{jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()}.{sig}"


def _unsigned(issuer: GoogleIssuer) -> str:
    return jwt.encode(issuer.claims(), None, algorithm="none")  # type: ignore[arg-type]


CASES: dict[str, tuple[Callable[[GoogleIssuer], str], str]] = {
    "malformed": (lambda g: "not-a-jwt", "three dot-separated parts"),
    "garbage segments": (lambda g: "a.b.c", "base64url JSON"),
    "alg none": (_unsigned, "Google ID tokens use RS256"),
    "hs256 signed": (
        lambda g: jwt.encode(g.claims(), "k" * 32, algorithm="HS256", headers={"kid": g.key.kid}),
        "RS256",
    ),
    "tampered payload": (lambda g: _tampered(g.id_token()), "signature is invalid"),
    "unpublished key": (lambda g: g.id_token(key=SigningKey()), "key Google does not publish"),
    "expired": (lambda g: g.id_token(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600), "has expired"),
    "issued in the future": (lambda g: g.id_token(iat=int(time.time()) + 600), "not valid yet"),
    "other audience": (lambda g: g.id_token(aud="other-app.apps.googleusercontent.com"), "another Google client id"),
    "other issuer": (lambda g: g.id_token(iss="https://evil.example"), "not issued by Google"),
    "unverified email": (lambda g: g.id_token(email_verified=False), "not verified this account's email"),
    "no email_verified claim": (lambda g: g.id_token(email_verified=None), "not verified this account's email"),
    "no email": (lambda g: g.id_token(email=None), "lacks an email"),
    "no sub": (lambda g: g.id_token(sub=None), "lacks the Google account id"),
    "no exp": (lambda g: g.id_token(exp=None), "numeric 'exp' and 'iat'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_unacceptable_google_tokens_get_401_saying_why(client: Client, issuer: GoogleIssuer, case: str) -> None:
    make, words = CASES[case]
    response = sign_in(client, make(issuer))
    assert response.status_code == 401, response.body
    data = body(response)
    assert data["error"] == "invalid_google_credential" and data["field"] == "credential"
    assert words in data["message"], data["message"]
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_clock_skew_tolerates_a_slightly_early_iat_and_a_just_expired_exp(
    make_client: MakeClient, issuer: GoogleIssuer
) -> None:
    client = make_client("dev", GOOGLE_CLOCK_SKEW_SECONDS="30")
    now = int(time.time())
    assert sign_in(client, issuer.id_token(iat=now + 20)).status_code == 200
    assert sign_in(client, issuer.id_token(iat=now - 3600, exp=now - 20)).status_code == 200
    assert sign_in(client, issuer.id_token(iat=now + 45)).status_code == 401


def test_email_verified_as_string_true_is_accepted(client: Client, issuer: GoogleIssuer) -> None:
    assert sign_in(client, issuer.id_token(email_verified="true")).status_code == 200


def test_hosted_domains_restrict_sign_in(make_client: MakeClient, issuer: GoogleIssuer) -> None:
    client = make_client("dev", ALLOWED_HOSTED_DOMAINS="example.com,corp.example")
    assert sign_in(client, issuer.id_token(hd="example.com")).status_code == 200
    for token in (issuer.id_token(), issuer.id_token(hd="gmail.com")):
        response = sign_in(client, token)
        assert response.status_code == 401
        assert "limited to Google Workspace accounts of: example.com, corp.example" in body(response)["message"]


# ---- Google's certs: cached, refetched on rotation, 503 when unreachable --------------------


def test_certs_are_fetched_once_per_max_age_window(client: Client, issuer: GoogleIssuer, clock: FakeClock) -> None:
    issuer.max_age = 3600
    for _ in range(5):
        assert sign_in(client, issuer.id_token()).status_code == 200
    assert issuer.fetches == 1
    clock.advance(3599)
    assert sign_in(client, issuer.id_token()).status_code == 200
    assert issuer.fetches == 1
    clock.advance(2)
    assert sign_in(client, issuer.id_token()).status_code == 200
    assert issuer.fetches == 2


def test_a_rotated_key_triggers_one_rate_limited_refetch(
    client: Client, issuer: GoogleIssuer, clock: FakeClock
) -> None:
    old = issuer.key
    try:
        assert sign_in(client, issuer.id_token()).status_code == 200
        assert issuer.fetches == 1
        issuer.rotate()
        # Just fetched: an unknown kid does not hammer the certs endpoint.
        assert sign_in(client, issuer.id_token()).status_code == 401
        assert issuer.fetches == 1
        clock.advance(61)
        assert sign_in(client, issuer.id_token()).status_code == 200
        assert issuer.fetches == 2
        # Tokens from a key nobody publishes: at most one refetch per minute, however many arrive.
        for _ in range(5):
            assert sign_in(client, issuer.id_token(key=SigningKey())).status_code == 401
        assert issuer.fetches == 2
        clock.advance(61)
        for _ in range(5):
            assert sign_in(client, issuer.id_token(key=SigningKey())).status_code == 401
        assert issuer.fetches == 3
    finally:
        issuer.key = old
        issuer.published[:] = [old]


def test_certs_outage_gets_503_with_retry_after(client: Client, issuer: GoogleIssuer) -> None:
    issuer.fail_with = 500
    response = sign_in(client, issuer.id_token())
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert body(response)["error"] == "google_certs_unavailable"
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_unreachable_certs_server_gets_503(make_client: MakeClient, issuer: GoogleIssuer) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens here
    client = make_client("dev", GOOGLE_CERTS_URL=f"http://127.0.0.1:{port}/oauth2/v1/certs")
    response = sign_in(client, issuer.id_token())
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"


def test_certs_that_are_not_json_get_503(make_client: MakeClient, issuer: GoogleIssuer) -> None:
    client = make_client("dev", GOOGLE_CERTS_URL=issuer.certs_url.replace("/oauth2/v1/certs", "/nothing-here"))
    assert sign_in(client, issuer.id_token()).status_code == 503


def test_cached_certs_are_used_while_a_refetch_fails(client: Client, issuer: GoogleIssuer, clock: FakeClock) -> None:
    issuer.max_age = 60
    assert sign_in(client, issuer.id_token()).status_code == 200
    issuer.fail_with = 503
    clock.advance(120)
    assert sign_in(client, issuer.id_token()).status_code == 200
    assert issuer.fetches == 2


def test_a_misconfigured_stage_answers_503_not_500(make_client: MakeClient, issuer: GoogleIssuer) -> None:
    client = make_client("dev", JWT_SECRET_KEY=None)
    response = sign_in(client, issuer.id_token())
    assert response.status_code == 503
    assert body(response) == {
        "error": "misconfigured",
        "message": "The API is misconfigured; GET /health lists the settings at fault.",
        "detail": "The API is misconfigured; GET /health lists the settings at fault.",
    }
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
