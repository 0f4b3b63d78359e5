"""What a client may send: dates, text, Google ID tokens, and the headers we answer with (issue 9, part 3).

Every case is a request through the test client, checked as a client sees it: status, body, headers.
The application cases run on SQLite and, marked slow, on DynamoDB Local.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import auth
from local_google.issuer import GoogleIssuer
from tests.conftest import ALLOWED, RICH_APPLICATION, MakeClient, body, sign_in
from tests.test_applications import Api, api_for, create

CONTROL_MESSAGE = "must not contain control characters (tab, newline and carriage return are allowed)"


@pytest.fixture(params=["sqlite", pytest.param("dynamodb", marks=pytest.mark.slow)])
def store_client(request: pytest.FixtureRequest, make_client: MakeClient) -> Client:
    if request.param == "sqlite":
        return make_client("dev")
    endpoint, table = request.getfixturevalue("dynamodb_table")
    return make_client("dev", STORE="dynamodb", DYNAMODB_ENDPOINT_URL=endpoint, DYNAMODB_TABLE=table)


@pytest.fixture
def api(store_client: Client, issuer: GoogleIssuer) -> Api:
    response = sign_in(store_client, issuer.id_token())
    assert response.status_code == 200, response.body
    return api_for(store_client, body(response)["access_token"])


def listed(api: Api) -> list[dict[str, Any]]:
    response = api("GET", "/api/applications")
    assert response.status_code == 200, response.body
    items: list[dict[str, Any]] = body(response)["items"]
    return items


def assert_422(response: Any, field: str, words: str) -> None:
    assert response.status_code == 422, response.body
    data = body(response)
    assert data["error"] == "validation_error" and data["field"] == field, data
    assert words in data["message"], data["message"]
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


# ---- dates: YYYY-MM-DD and nothing else ------------------------------------------------------------

NOT_YYYY_MM_DD = [
    "20260101",  # ISO 8601 basic format: date.fromisoformat takes it
    "2026-W01-1",  # ISO week date: date.fromisoformat takes it too
    "2026-001",  # ordinal date
    "2026-11-26T10:00:00",
    "2026-1-5",
    "2026-11-26\n",
    " 2026-11-26",
    "２０２６-11-26",  # full-width digits are digits to \d and int(), not to a date field
]


@pytest.mark.parametrize("date_field", ["applied_on", "next_follow_up_on"])
@pytest.mark.parametrize("value", NOT_YYYY_MM_DD)
def test_dates_other_than_yyyy_mm_dd_get_422_naming_the_field(api: Api, date_field: str, value: str) -> None:
    response = api("POST", "/api/applications", {"company": "Acme", "role": "Eng", date_field: value})
    assert_422(response, date_field, "must be a date string like 2026-11-26 (YYYY-MM-DD)")
    app = create(api)
    assert_422(api("PATCH", f"/api/applications/{app['id']}", {date_field: value}), date_field, "YYYY-MM-DD")
    assert [item[date_field] for item in listed(api)] == [None]


def test_an_impossible_date_gets_422_saying_so(api: Api) -> None:
    response = api("POST", "/api/applications", {"company": "Acme", "role": "Eng", "applied_on": "2026-02-30"})
    assert_422(response, "applied_on", "must be a real date like 2026-11-26 (YYYY-MM-DD)")


def test_a_yyyy_mm_dd_date_is_stored_and_returned_as_sent(api: Api) -> None:
    app = create(api, applied_on="2024-02-29", next_follow_up_on="2026-12-31")
    assert (app["applied_on"], app["next_follow_up_on"]) == ("2024-02-29", "2026-12-31")


# ---- text: no control characters but tab, newline and carriage return -----------------------------

# One of each kind: NUL, an ANSI escape, DEL, and a C1 control (U+0085, Unicode category Cc too).
CONTROLS = ["\x00", "\x1b[31m", "\x7f", "\x85"]
TEXT_FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "company": lambda bad: {"company": f"Ac{bad}me"},
    "role": lambda bad: {"role": f"Eng{bad}ineer"},
    "location": lambda bad: {"location": f"Ber{bad}lin"},
    "source": lambda bad: {"source": f"Linked{bad}In"},
    "notes": lambda bad: {"notes": f"line one\n{bad}line two"},
    "url": lambda bad: {"url": f"https://jobs.example/{bad}42"},
    "currency": lambda bad: {"currency": f"E{bad}"[:3]},
    "tags.1": lambda bad: {"tags": ["python", f"fin{bad}tech"]},
}


@pytest.mark.parametrize("control", CONTROLS, ids=["nul", "escape", "del", "c1-nel"])
@pytest.mark.parametrize("field", list(TEXT_FIELDS))
def test_control_characters_in_text_get_422_naming_the_field(api: Api, field: str, control: str) -> None:
    change = TEXT_FIELDS[field](control)
    words = "pattern" if field == "currency" else CONTROL_MESSAGE  # three letters: the pattern says it
    assert_422(api("POST", "/api/applications", {"company": "Acme", "role": "Eng", **change}), field, words)
    app = create(api, **RICH_APPLICATION)
    assert_422(api("PATCH", f"/api/applications/{app['id']}", change), field, words)
    assert listed(api) == [app]  # nothing stored, nothing changed


def test_tab_newline_carriage_return_and_any_script_or_emoji_are_kept(api: Api) -> None:
    text = {
        "company": "Zürich Straße Øresund — 株式会社",
        "role": "Ingeniería\tBackend",
        "notes": "Line one\r\nLine two\n\tindented · emoji 👩‍💻 (a zero-width joiner inside) and ‏RTL mark",
        "tags": ["café", "🚀"],
    }
    app = create(api, **text)
    assert {name: app[name] for name in text} == text
    response = api("GET", f"/api/applications/{app['id']}")
    assert {name: body(response)[name] for name in text} == text


def test_an_application_stored_before_the_rule_still_reads(
    make_client: MakeClient, issuer: GoogleIssuer, tmp_path: Path
) -> None:
    """A NUL was accepted before the control-character rule: such a document reads, lists and counts."""
    client = make_client("dev")
    api = api_for(client, body(sign_in(client, issuer.id_token()))["access_token"])
    app = create(api, notes="clean")
    with sqlite3.connect(tmp_path / "dev.db") as conn:  # the file make_client gives the dev stage
        doc = json.loads(conn.execute("SELECT doc FROM applications WHERE id = ?", (app["id"],)).fetchone()[0])
        doc["notes"] = "stored\x00before"
        conn.execute("UPDATE applications SET doc = ? WHERE id = ?", (json.dumps(doc), app["id"]))
    response = api("GET", f"/api/applications/{app['id']}")
    assert response.status_code == 200 and body(response)["notes"] == "stored\x00before"
    assert [item["notes"] for item in listed(api)] == ["stored\x00before"]
    assert body(api("GET", "/api/applications/stats"))["total"] == 1
    # Changing it asks for clean text, naming the field that holds the control character.
    assert_422(api("PATCH", f"/api/applications/{app['id']}", {"status": "applied"}), "notes", CONTROL_MESSAGE)
    response = api("PATCH", f"/api/applications/{app['id']}", {"status": "applied", "notes": "cleaned"})
    assert response.status_code == 200 and body(response)["notes"] == "cleaned"


# ---- Google ID tokens: claims Google would never send -----------------------------------------------


def _segment(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _signed(issuer: GoogleIssuer, payload: bytes) -> str:
    """A token signed with the trusted test key whose payload is exactly `payload` (any JSON text)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    header = json.dumps({"alg": "RS256", "kid": issuer.key.kid, "typ": "JWT"}).encode()
    signing_input = f"{_segment(header)}.{_segment(payload)}"
    signature = issuer.key.private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_segment(signature)}"


def _claims_text(issuer: GoogleIssuer, **literal: str) -> bytes:
    """The issuer's usual claims as JSON text, with some claims replaced by raw JSON literals (NaN, 1e308)."""
    text = json.dumps({k: v for k, v in issuer.claims().items() if k not in literal})
    extra = ", ".join(f'"{name}": {value}' for name, value in literal.items())
    return f"{text[:-1]}, {extra}}}".encode()


def _assert_401(response: Any, words: str) -> None:
    assert response.status_code == 401, response.body
    data = body(response)
    assert data["error"] == "invalid_google_credential" and data["field"] == "credential", data
    assert words in data["message"], data["message"]
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "WWW-Authenticate" not in response.headers  # a sign-in failure, not a bearer challenge
    assert all(value.isascii() and value.isprintable() for value in response.headers.values())


TIME_WORDS = "numeric 'exp' and 'iat'"
NOW = int(time.time())
BAD_TIMES = {
    "exp 1e308": {"exp": "1e308"},
    "exp NaN": {"exp": "NaN"},
    "exp Infinity": {"exp": "Infinity"},
    "exp -Infinity": {"exp": "-Infinity"},
    "iat NaN": {"iat": "NaN"},
    "exp a float": {"exp": f"{NOW + 3600}.5"},
    "exp true": {"exp": "true"},
    "iat true": {"iat": "true"},
    "exp a string": {"exp": f'"{NOW + 3600}"'},
    "exp in the year 3000": {"exp": "32503680000"},
    "exp a huge integer": {"exp": "9" * 400},
    "iat negative": {"iat": "-1"},
    "exp before iat": {"iat": str(NOW), "exp": str(NOW - 1)},
    "a two-day lifetime": {"iat": str(NOW - 60), "exp": str(NOW + 2 * 86400)},
}


@pytest.mark.parametrize("case", list(BAD_TIMES))
def test_google_exp_and_iat_must_be_sane_whole_seconds(client: Client, issuer: GoogleIssuer, case: str) -> None:
    token = _signed(issuer, _claims_text(issuer, **BAD_TIMES[case]))
    _assert_401(sign_in(client, token), TIME_WORDS)


@pytest.mark.parametrize("value", ["1", "1.0", '"True"', '"1"', '"yes"', "[true]", '{"v": true}'])
def test_google_email_verified_must_be_true(client: Client, issuer: GoogleIssuer, value: str) -> None:
    token = _signed(issuer, _claims_text(issuer, email_verified=value))
    _assert_401(sign_in(client, token), "not verified this account's email")


def test_google_email_verified_true_or_the_string_true_signs_in(client: Client, issuer: GoogleIssuer) -> None:
    for value in ("true", '"true"'):
        response = sign_in(client, _signed(issuer, _claims_text(issuer, email_verified=value)))
        assert response.status_code == 200, response.body


DEEP = 20_000  # past the JSON parser's recursion limit (10,000 nested arrays on CPython 3.13)


def test_a_google_token_nested_as_deep_as_the_length_cap_allows_gets_401(client: Client) -> None:
    depth = auth.MAX_CREDENTIAL_LENGTH * 3 // 4 - 20
    for token in (_segment(b"[" * depth) + ".e30.AA", "e30." + _segment(b'{"a":' + b"[" * depth) + ".AA"):
        assert len(token) <= auth.MAX_CREDENTIAL_LENGTH
        _assert_401(sign_in(client, token), "not a Google ID token")


def test_a_google_token_nested_past_the_parser_limit_gets_401_not_500(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Today the 8 KiB length cap stops such a token first; were it raised, the verifier still says 401."""
    monkeypatch.setattr(auth, "MAX_CREDENTIAL_LENGTH", 10 * DEEP)
    for token in (f"{_segment(b'[' * DEEP)}.e30.AA", f"e30.{_segment(b'[' * DEEP + b']' * DEEP)}.AA"):
        _assert_401(sign_in(client, token), "its parts are not base64url JSON")


@pytest.mark.parametrize(
    "token",
    ["é.é.é", "eyJh\u00e9.eyJ.AA", "ｅｙＪ.e30.AA", "e30.e30\u2028.AA", "e30\u3002e30\u3002AA"],
    ids=["latin", "inside-a-segment", "full-width", "line-separator", "ideographic-full-stops"],
)
def test_non_ascii_in_a_google_credential_gets_401(client: Client, token: str) -> None:
    _assert_401(sign_in(client, token), "characters other than base64url and dots")


def test_a_valid_google_token_with_non_ascii_claims_signs_in(client: Client, issuer: GoogleIssuer) -> None:
    response = sign_in(client, issuer.id_token(name="Zoë Ångström 李", email="zoë@exämple.com"))
    assert response.status_code == 200, response.body
    assert body(response)["user"]["name"] == "Zoë Ångström 李"
    assert all(value.isascii() and value.isprintable() for value in response.headers.values())


# ---- response headers: printable ASCII, whatever the client sent --------------------------------------


def _alg_token(alg: str) -> str:
    return f"{_segment(json.dumps({'alg': alg}).encode())}.e30.AA"


@pytest.mark.parametrize("alg", ["é€李", "HS256\r\nSet-Cookie: a=b", "\x00\x7f\x85", 'x"\\y'])
def test_a_bearer_challenge_never_carries_what_the_client_sent_raw(client: Client, alg: str) -> None:
    response = client.http.get("/api/user", headers={"Authorization": f"Bearer {_alg_token(alg)}", "Origin": ALLOWED})
    assert response.status_code == 401, response.body
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="job-hunt-tracker", error="invalid_token", error_description="')
    description = challenge.split('error_description="', 1)[1]
    assert description.endswith('"') and '"' not in description[:-1] and "\\" not in description
    for value in response.headers.values():
        assert value.isascii() and value.isprintable(), repr(value)
    assert "Set-Cookie" not in response.headers and "set-cookie" not in response.headers


def test_every_error_header_is_printable_ascii() -> None:
    """The one place error headers are made: whatever a future message or value holds, it is made safe."""
    from chalicelib.errors import PreconditionFailed, Unauthorized

    challenge = Unauthorized('bad "tok\\en" é\r\nX-Injected: 1\t\x00').headers["WWW-Authenticate"]
    assert challenge.endswith("error_description=\"bad 'token' ?  X-Injected: 1 ?\"")
    etag = PreconditionFailed("stale", headers={"ETag": '"é\r\n.1"'}).headers["ETag"]
    assert etag == '"?  .1"'
