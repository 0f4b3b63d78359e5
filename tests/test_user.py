"""GET /api/user: our access token required; every bad token is a 401 with a Bearer challenge."""

from __future__ import annotations

import re
import time
import warnings
from typing import Any

import jwt
import pytest
from chalice.test import Client

from chalicelib import settings, tokens
from chalicelib.clock import Now
from chalicelib.ids import new_id
from chalicelib.models import UserOut
from chalicelib.store.factory import store_for
from local_google.issuer import GoogleIssuer
from tests.conftest import ALLOWED, DEV_SECRET, PROD_CLIENT_ID, PROD_SECRET, MakeClient, body, sign_in


def get_user(client: Client, authorization: str | None) -> Any:
    headers = {"Origin": ALLOWED}
    if authorization is not None:
        headers["Authorization"] = authorization
    return client.http.get("/api/user", headers=headers)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "u1",
        "email": "u1@example.com",
        "name": "U One",
        "picture": None,
        "iat": now,
        "exp": now + 600,
        "iss": "job-hunt-tracker-api",
        "aud": "job-hunt-tracker-api/dev",
        "jti": new_id(),
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not Ellipsis}


def test_signed_in_user_is_returned(client: Client, issuer: GoogleIssuer) -> None:
    token = body(sign_in(client, issuer.id_token()))["access_token"]
    response = get_user(client, f"Bearer {token}")
    assert response.status_code == 200
    profile = body(response)
    assert profile == {
        "id": "109876543210987654321",
        "email": "jane.doe@example.com",
        "name": "Jane Doe",
        "picture": "https://lh3.googleusercontent.com/a/jane",
        "created_at": profile["created_at"],
        "last_login_at": profile["created_at"],
        "timezone": "UTC",
        "reminders": {"email": False, "hour": 8},
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", profile["created_at"])
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert get_user(client, f"bearer   {token}  ").status_code == 200  # the scheme is case-insensitive


def test_missing_token_gets_a_plain_bearer_challenge(client: Client) -> None:
    response = get_user(client, None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="job-hunt-tracker"'
    assert body(response)["error"] == "missing_token" and body(response)["field"] == "Authorization"
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def _hs(secret: str = DEV_SECRET, alg: str = "HS256", **overrides: Any) -> str:
    with warnings.catch_warnings():  # HS512 wants a 64-byte key; the point is that we refuse HS512 at all
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(claims(**overrides), secret, algorithm=alg)


BAD = {
    "basic scheme": ("Basic dXNlcjpwYXNz", "invalid_request", "must be 'Bearer <access token>'"),
    "bearer without token": ("Bearer ", "invalid_request", "must be 'Bearer <access token>'"),
    "malformed": ("Bearer not.a.jwt", "invalid_token", "malformed"),
    "garbage": ("Bearer abc", "invalid_token", "malformed"),
    "expired": (f"Bearer {_hs(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)}", "invalid_token", "expired"),
    "bad signature": (
        f"Bearer {_hs(secret='another-secret-of-at-least-32-bytes!!')}",
        "invalid_token",
        "signature is invalid",
    ),
    "alg none": (
        f"Bearer {jwt.encode(claims(), None, algorithm='none')}",  # type: ignore[arg-type]
        "invalid_token",
        "algorithm is not accepted",
    ),
    "hs512 with our secret": (f"Bearer {_hs(alg='HS512')}", "invalid_token", "algorithm is not accepted"),
    "other stage": (f"Bearer {_hs(aud='job-hunt-tracker-api/prod')}", "invalid_token", "another stage"),
    "other issuer": (f"Bearer {_hs(iss='someone-else')}", "invalid_token", "not issued by this API"),
    "no jti": (f"Bearer {_hs(jti=...)}", "invalid_token", "'jti'"),
    "no exp": (f"Bearer {_hs(exp=...)}", "invalid_token", "'exp'"),
    "no email": (f"Bearer {_hs(email=...)}", "invalid_token", "'email'"),
    "sub not a string": (f"Bearer {_hs(sub=123)}", "invalid_token", "malformed"),
    "email not a string": (f"Bearer {_hs(email=['a@b.c'])}", "invalid_token", "malformed"),
    "jti not one of ours": (f"Bearer {_hs(jti='x')}", "invalid_token", "malformed"),
    "exp not a whole number": (f"Bearer {_hs(exp=time.time() + 600.5)}", "invalid_token", "malformed"),
    "issued in the future": (f"Bearer {_hs(iat=int(time.time()) + 3600)}", "invalid_token", "not valid yet"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_tokens_get_401_with_a_bearer_challenge(client: Client, case: str) -> None:
    authorization, error, words = BAD[case]
    response = get_user(client, authorization)
    assert response.status_code == 401, response.body
    data = body(response)
    assert data["error"] == error and words in data["message"], data
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer realm="job-hunt-tracker", error="{error}", error_description="')
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_an_rs256_token_is_refused_even_with_a_valid_signature(client: Client, issuer: GoogleIssuer) -> None:
    response = get_user(client, f"Bearer {issuer.id_token()}")
    assert response.status_code == 401 and "algorithm is not accepted" in body(response)["message"]


@pytest.mark.slow
def test_a_dev_token_does_not_work_on_prod_even_with_the_same_secret(
    make_client: MakeClient, issuer: GoogleIssuer, dynamodb_table: tuple[str, str]
) -> None:
    endpoint, table = dynamodb_table
    dev = make_client("dev", JWT_SECRET_KEY=PROD_SECRET)
    prod = make_client("prod", DYNAMODB_ENDPOINT_URL=endpoint, DYNAMODB_TABLE=table)
    dev_token = body(sign_in(dev, issuer.id_token()))["access_token"]
    assert get_user(dev, f"Bearer {dev_token}").status_code == 200
    response = get_user(prod, f"Bearer {dev_token}")
    assert response.status_code == 401
    assert "issued for another stage, not 'prod'" in body(response)["message"]
    # The same person signed in on prod (its own store): that token works there and not on dev.
    prod_settings = settings.parse(
        {
            "STAGE": "prod",
            "GOOGLE_CLIENT_ID": PROD_CLIENT_ID,
            "JWT_SECRET_KEY": PROD_SECRET,
            "DYNAMODB_ENDPOINT_URL": endpoint,
            "DYNAMODB_TABLE": table,
        }
    ).settings
    assert prod_settings is not None
    store_for(prod_settings).sign_in(UserOut(id="u1", email="u1@example.com"), "2026-11-26T00:00:00.000Z")
    prod_token = tokens.issue(
        "u1", "u1@example.com", None, None, secret=PROD_SECRET, stage="prod", lifetime_s=60, now=Now.read()
    )
    assert get_user(prod, f"Bearer {prod_token}").status_code == 200
    assert get_user(dev, f"Bearer {prod_token}").status_code == 401


def test_our_tokens_are_standard_jwts_with_every_claim_required() -> None:
    token = tokens.issue(
        "u1", "u1@example.com", "U", None, secret=DEV_SECRET, stage="dev", lifetime_s=60, now=Now.read()
    )
    claims = jwt.decode(
        token,
        DEV_SECRET,
        algorithms=["HS256"],
        audience="job-hunt-tracker-api/dev",
        issuer="job-hunt-tracker-api",
        options={"require": list(tokens.REQUIRED_CLAIMS)},
    )
    assert (claims["sub"], claims["email"], claims["name"], claims["exp"] - claims["iat"]) == (
        "u1",
        "u1@example.com",
        "U",
        60,
    )
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    identity = tokens.verify(_hs(sub="u9", email="u9@example.com"), secret=DEV_SECRET, stage="dev", now=Now.read())
    assert (identity.user_id, identity.email) == ("u9", "u9@example.com")


@pytest.mark.parametrize(
    "token",
    ["a.b", "a.b.c.d", "e30.e30.***", "e30.e30", "éé.e30.e30", "e30.e30.e30", ".e30.", "W10.e30.", "e30.W10."],
)
def test_malformed_tokens_are_401_never_500(client: Client, token: str) -> None:
    response = get_user(client, f"Bearer {token}")
    assert response.status_code == 401 and body(response)["error"] == "invalid_token"
