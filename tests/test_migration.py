"""The original backend and this one, side by side: what the original's frontend reads must match.

The original (FastAPI + Mangum, vendored in bench/original) runs in its own venv, the one `python
-m bench` builds (bench/subjects.build_original, cached under .bench/), through its Mangum handler
(tests/original_handler.py); this app through its Chalice handler. Both get the same API Gateway
requests, from http://localhost:3000, with Google ID tokens from the same test issuer, and each is
then called with the access token it issued itself. For every request the test compares what a
frontend reads: the status, the type of `detail`, the WWW-Authenticate scheme, the CORS headers,
and on success the fields the frontend uses.

Where this app answers differently on purpose, DELIBERATE names the difference; the test fails on
any difference not named there, and on a named one that no longer happens. The README's
"Migrating from the original" section lists each (a test checks).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest

import app as app_module
from bench.events import ORIGIN, rest_v1_event
from bench.subjects import OriginalBuild, SetupError, build_original
from chalicelib import tokens
from chalicelib.clock import Now
from local_google.issuer import GoogleIssuer
from tests.conftest import CLIENT_ID, DEV_SECRET, ROOT, LambdaContext, stage_variables

pytestmark = pytest.mark.slow

ORIGINAL_SECRET = "original-backend-test-secret-0123456789abcdef"
CACHE = ROOT / ".bench"  # where `python -m bench` keeps the original's venv: built once, reused
HANDLER = Path(__file__).resolve().parent / "original_handler.py"
USER_FIELDS = ("id", "email", "name", "picture")


@dataclass(frozen=True)
class Difference:
    """A deliberate difference: what the original answered, what this app answers, and the README's words."""

    original: Any
    ours: Any
    readme: str  # a phrase the README's "Migrating from the original" section must contain


# (request, what is compared) -> the difference. Nothing else may differ.
DELIBERATE: dict[tuple[str, str], Difference] = {
    ("sign_in_without_token", "status"): Difference(422, 400, "without a Google token: `400`"),
    ("sign_in_without_token", "detail"): Difference("list", "str", "`detail` is a string there"),
    ("preflight", "status"): Difference(200, 204, "Preflights answer `204`"),
    # A failed sign-in is not a bearer challenge (tests/test_input_rules.py pins it): no WWW-Authenticate.
    ("bad_google_token", "www_authenticate"): Difference("Bearer", None, "no `WWW-Authenticate` on a failed sign-in"),
    ("garbage_google_token", "www_authenticate"): Difference(
        "Bearer", None, "no `WWW-Authenticate` on a failed sign-in"
    ),
    # The access token a signed-in user of the original holds, sent to each backend.
    ("token_from_the_original", "status"): Difference(200, 401, "Access tokens the original issued get `401`"),
    ("token_from_the_original", "detail"): Difference(None, "str", "Access tokens the original issued get `401`"),
    ("token_from_the_original", "www_authenticate"): Difference(
        None, "Bearer", "Access tokens the original issued get `401`"
    ),
    ("token_from_the_original", "fields"): Difference(
        {
            "id": "109876543210987654321",
            "email": "jane.doe@example.com",
            "name": "Jane Doe",
            "picture": "https://lh3.googleusercontent.com/a/jane",
        },
        None,
        "Access tokens the original issued get `401`",
    ),
}


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: str
    body: Any = None
    token: str | None = None  # "own": the access token that app issued; else the header value itself
    preflight: bool = False


def event(call: Call, style: str, stage: str, own_token: str | None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"} if call.body is not None else {}
    if call.token is not None:
        headers["Authorization"] = f"Bearer {own_token if call.token == 'own' else call.token}"
    if call.preflight:
        headers = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    return rest_v1_event(
        call.method,
        call.path,
        style="literal" if style == "ours" else "proxy",
        headers=headers,
        body=json.dumps(call.body) if call.body is not None else None,
        stage=stage,
    )


def seen(call: Call, response: dict[str, Any]) -> dict[str, Any]:
    """What a frontend reads from one response."""
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers.setdefault(name.lower(), ", ".join(values))
    text = response.get("body") or ""
    try:
        data = json.loads(text) if text else None
    except ValueError:  # the original's preflight answers "OK"
        data = None
    www = headers.get("www-authenticate")
    out: dict[str, Any] = {
        "status": response["statusCode"],
        "detail": type(data["detail"]).__name__ if isinstance(data, dict) and "detail" in data else None,
        "www_authenticate": www.split(" ", 1)[0].split(",")[0] if www else None,
        "allow_origin": headers.get("access-control-allow-origin"),
        "allow_credentials": headers.get("access-control-allow-credentials"),
    }
    if call.preflight:
        methods = headers.get("access-control-allow-methods", "")
        allowed_headers = headers.get("access-control-allow-headers", "").lower()
        out["preflight_allows_get_with_authorization"] = "GET" in methods and "authorization" in allowed_headers
    elif response["statusCode"] == 200 and isinstance(data, dict):
        if call.path == "/health":
            out["fields"] = {"status": data["status"]}
        elif call.path == "/auth/google":
            out["fields"] = {
                "access_token": type(data["access_token"]).__name__,
                "token_type": data["token_type"],
                "user": {k: data["user"][k] for k in USER_FIELDS},
            }
        else:
            out["fields"] = {k: data[k] for k in USER_FIELDS}
    return out


@pytest.fixture(scope="module")
def original() -> OriginalBuild:
    try:
        return build_original(CACHE)  # needs the package index the first time
    except SetupError as exc:
        pytest.fail(f"the original app's venv could not be built: {exc}", pytrace=False)


def run_original(
    build: OriginalBuild, calls: list[Call], token: str | None, issuer: GoogleIssuer, cwd: Path
) -> list[dict[str, Any]]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GOOGLE_CLIENT_ID": CLIENT_ID,
        "JWT_SECRET_KEY": ORIGINAL_SECRET,
        "ALLOWED_ORIGINS": ORIGIN,
        "GOOGLE_CERTS_URL": issuer.certs_url,
    }
    events = [event(call, "original", "prod", token) for call in calls]
    run = subprocess.run(
        [str(build.venv_python), str(HANDLER), str(build.app)],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        cwd=cwd,  # the original reads an optional .env from its working directory: an empty one here
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    answers: list[dict[str, Any]] = json.loads(run.stdout)
    return answers


def run_ours(calls: list[Call], token: str | None) -> list[dict[str, Any]]:
    return [app_module.app(event(call, "ours", "api", token), LambdaContext()) for call in calls]


@pytest.fixture(scope="module")
def both(
    original: OriginalBuild, issuer: GoogleIssuer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Each request's (original, ours) view, by name."""
    work = tmp_path_factory.mktemp("migration")
    env = {"GOOGLE_CERTS_URL": issuer.certs_url, "SQLITE_PATH": str(work / "ours.db")}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**stage_variables("dev"), **env}.items():  # os.environ as the dev stage's Lambda sees it
            patch.setenv(name, value)
        now = int(time.time())
        signing_in = [Call("sign_in", "POST", "/auth/google", {"token": issuer.id_token()})]
        original_sign_in = run_original(original, signing_in, None, issuer, work)
        ours_sign_in = run_ours(signing_in, None)
        original_token = json.loads(original_sign_in[0]["body"])["access_token"]
        ours_token = json.loads(ours_sign_in[0]["body"])["access_token"]
        expired = {
            "original": jwt.encode(
                {"sub": "1", "email": "jane.doe@example.com", "iat": now - 7200, "exp": now - 3600},
                ORIGINAL_SECRET,
                algorithm="HS256",
            ),
            "ours": tokens.issue(
                "1",
                "jane.doe@example.com",
                None,
                None,
                secret=DEV_SECRET,
                stage="dev",
                lifetime_s=3600,
                now=Now((now - 7200) * 1000),
            ),
        }

        def calls(which: str) -> list[Call]:
            return [
                Call("health", "GET", "/health"),
                Call("user", "GET", "/api/user", token="own"),
                Call(
                    "bad_google_token",
                    "POST",
                    "/auth/google",
                    {"token": issuer.id_token(iat=now - 7200, exp=now - 3600)},
                ),
                Call("garbage_google_token", "POST", "/auth/google", {"token": "not-a-google-id-token"}),
                Call("missing_access_token", "GET", "/api/user"),
                Call("expired_access_token", "GET", "/api/user", token=expired[which]),
                Call("garbage_access_token", "GET", "/api/user", token="garbage.token.value"),
                Call("sign_in_without_token", "POST", "/auth/google", {}),
                Call("token_from_the_original", "GET", "/api/user", token=original_token),
                Call("preflight", "OPTIONS", "/api/user", preflight=True),
            ]

        original_answers = run_original(original, calls("original"), original_token, issuer, work)
        ours_answers = run_ours(calls("ours"), ours_token)
    views = {
        "sign_in": (seen(signing_in[0], original_sign_in[0]), seen(signing_in[0], ours_sign_in[0])),
    }
    for call, theirs, ours in zip(calls("ours"), original_answers, ours_answers, strict=True):
        views[call.name] = (seen(call, theirs), seen(call, ours))
    return views


def test_what_the_frontend_reads_is_the_same_but_for_the_named_differences(
    both: dict[str, tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    differences: dict[tuple[str, str], tuple[Any, Any]] = {}
    for name, (theirs, ours) in both.items():
        for key in theirs.keys() | ours.keys():
            if theirs.get(key) != ours.get(key):
                differences[(name, key)] = (theirs.get(key), ours.get(key))
    assert differences == {key: (d.original, d.ours) for key, d in DELIBERATE.items()}


def test_the_cases_the_issue_names_are_compared(both: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> None:
    statuses = {name: ours["status"] for name, (_, ours) in both.items()}
    assert statuses == {
        "sign_in": 200,
        "health": 200,
        "user": 200,
        "bad_google_token": 401,
        "garbage_google_token": 401,
        "missing_access_token": 401,
        "expired_access_token": 401,
        "garbage_access_token": 401,
        "sign_in_without_token": 400,
        "token_from_the_original": 401,
        "preflight": 204,
    }
    for name, (theirs, ours) in both.items():
        assert ours["allow_origin"] == ORIGIN and ours["allow_credentials"] == "true", name
        if ours["status"] == 401 and "google" not in name:  # an access token's 401: the bearer challenge
            assert ours["www_authenticate"] == "Bearer", name
            assert theirs["www_authenticate"] == "Bearer" or name == "token_from_the_original", name
        if ours["status"] >= 400:
            assert ours["detail"] == "str", name  # the message, as the original's HTTPException sent it
    assert both["user"][1]["fields"]["email"] == "jane.doe@example.com"


def test_the_readme_lists_every_named_difference() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Migrating from the original", 1)[1].split("\n## ", 1)[0]
    missing = [d.readme for d in DELIBERATE.values() if d.readme not in section]
    assert missing == []
