"""No input makes a 5xx: random requests to every route in `app.routes`, through the test client.

Each route (method and path, preflights included) is read from the route table when this module is
imported, so a route added later is fuzzed without touching this file. Per example the fuzzing
account signs in afresh and makes one application (so a random request may `DELETE /api/user` or
sign out without starving the next one), then one random request goes to the route: a random JSON
body (any shape, NaN and Infinity literals, huge strings, any script, lone surrogates) or random
bytes, random headers (Authorization, If-Match, Origin, Content-Type and made-up ones), a random
query string and random path parameters -- often the real token and id, so the request gets past
authentication and lookup to the code behind them. Every answer must be below 500, JSON with our
error shape when it is an error (a success too, but for /docs and its files), and carry
printable-ASCII headers only.

Three inputs that were 500s while this was written (JSON nested past the parser's limit in a body
and in a bearer token, a non-ASCII cursor) also have targeted tests at the end, each naming its
reproducer.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app as app_module
from chalicelib.auth import CREDENTIAL_FIELDS
from chalicelib.models import ApplicationData, Status, WorkMode
from chalicelib.transfer import IMPORT_COLUMNS
from local_google.issuer import GoogleIssuer
from tests.conftest import ALLOWED, MakeClient

pytestmark = pytest.mark.slow  # about 20 s: CI and `make test` run it, the quick selection does not

ROUTES = sorted((path, method) for path, methods in app_module.app.routes.items() for method in methods)
PARAMETER = re.compile(r"\{([^}]+)\}")
# Field names the app reads, so random objects often reach validation rather than "unknown field".
FIELD_NAMES = sorted({*ApplicationData.model_fields, *CREDENTIAL_FIELDS, "everywhere"})
HEADER_NAMES = ["Authorization", "If-Match", "Origin", "Content-Type", "Idempotency-Key", "Accept", "X-Anything"]

FUZZ = settings(
    # Per route and test: about 20 s for the module on a 2-core machine. NO_5XX_MAX_EXAMPLES=500
    # runs a deeper hunt locally, NO_5XX_RANDOM=1 other cases each run; CI uses the defaults.
    max_examples=int(os.environ.get("NO_5XX_MAX_EXAMPLES", "40")),
    deadline=None,  # a request's time is not what this test is about
    derandomize=not os.environ.get("NO_5XX_RANDOM"),  # the same cases on every run and in CI
    database=None,  # no .hypothesis/ directory in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
# The targeted tests at the end aim at one input each: a few examples are enough.
TARGETED = settings(FUZZ, max_examples=10)


@dataclass
class Fuzzing:
    """The client, the Google credential of the fuzzing account, and what the last sign-in gave."""

    client: Client
    credential: str
    token: str = ""
    app_id: str = ""

    def fresh_session(self) -> None:
        """Sign in again and make an application: earlier examples may have deleted or signed out both."""
        json_headers = {"Content-Type": "application/json"}
        response = self.client.http.post(
            "/auth/google", headers=json_headers, body=json.dumps({"credential": self.credential})
        )
        assert response.status_code == 200, response.body
        self.token = json.loads(response.body)["access_token"]
        response = self.client.http.post(
            "/api/applications",
            headers={**json_headers, "Authorization": f"Bearer {self.token}"},
            body=json.dumps({"company": "Fuzz Co", "role": "Target", "tags": ["fuzz"]}),
        )
        assert response.status_code == 201, response.body
        self.app_id = json.loads(response.body)["id"]


@pytest.fixture
def fuzzing(make_client: MakeClient, issuer: GoogleIssuer) -> Iterator[Fuzzing]:
    # Sign-in is fuzzed itself, not its rate limiter (tested on its own).
    client = make_client("dev", SIGNIN_RATE_LIMIT_PER_MINUTE="0")
    yield Fuzzing(client, issuer.id_token())


# ---- strategies ----------------------------------------------------------------------------------

# Any text, lone surrogates included: json.dumps writes them as \ud800 escapes, as a client could.
any_text = st.text(st.characters(codec=None), max_size=40)
ascii_text = st.text(st.characters(codec="ascii"), max_size=40)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)  # json.dumps writes NaN / Infinity literals
    | any_text
    | st.sampled_from(["2026-11-26", "20260101", "2026-W01-1", "applied", "https://x.example/a", "EUR"])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(FIELD_NAMES) | any_text, children, max_size=6)
    ),
    max_leaves=12,
)


@st.composite
def huge_strings(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(FIELD_NAMES))
    size = draw(st.integers(10_000, 300_000))
    char = draw(st.sampled_from(["x", "é", "😀", "\\u0000", "\\ud800"]))
    return b'{"%s": "%s"}' % (name.encode(), (char * size).encode())


def nested(depth: int, inner: bytes = b"1") -> bytes:
    return b"[" * depth + inner + b"]" * depth


# Applications that are valid, or valid but for one field, so that requests reach the store.
person_text = st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=40).filter(str.strip)
field_values: dict[str, st.SearchStrategy[Any]] = {
    "company": person_text,
    "role": person_text,
    "status": st.sampled_from([s.value for s in Status]),
    "url": person_text.map(lambda t: f"https://jobs.example/{t}"),
    "location": person_text,
    "work_mode": st.sampled_from([m.value for m in WorkMode]),
    "salary_min": st.integers(0, 10**6),
    "salary_max": st.integers(10**6, 10**9),
    "currency": st.sampled_from(["EUR", "usd", "Chf"]),
    "source": person_text,
    "applied_on": st.dates().map(str),
    "next_follow_up_on": st.dates().map(str),
    "notes": st.text(st.characters(exclude_categories=["Cs"]), max_size=300),  # controls too: some 422s
    "tags": st.lists(person_text, max_size=5),
}


@st.composite
def applications(draw: st.DrawFn) -> dict[str, Any]:
    names = ["company", "role", *draw(st.sets(st.sampled_from(sorted(field_values))))]
    app = {name: draw(field_values[name]) for name in names}
    spoiled = draw(st.none() | st.sampled_from(FIELD_NAMES))  # one field random, or none
    if spoiled is not None:
        app[spoiled] = draw(json_values)
    return app


json_objects = st.one_of(applications(), st.dictionaries(st.sampled_from(FIELD_NAMES), json_values))

# Hypothesis leans towards each one_of's first branch: the branches that get furthest come first.
bodies = st.one_of(
    json_objects.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    huge_strings(),
    st.integers(1, 100_000).map(nested),  # past the JSON parser's limit (10,000 on CPython 3.13) too
    st.binary(max_size=64),  # not UTF-8, not JSON
    any_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", b"NaN", b"Infinity", b'{"company": NaN, "role": -Infinity}', b"[" * 100]),
)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt_like(segment: st.SearchStrategy[bytes]) -> st.SearchStrategy[str]:
    return st.tuples(segment, segment, st.binary(max_size=40)).map(lambda p: f"{b64(p[0])}.{b64(p[1])}.{b64(p[2])}")


# Token segments: objects keyed by JWT header and claim names, values of any JSON.
JWT_NAMES = ["alg", "kid", "typ", "crit", "iss", "aud", "sub", "email", "email_verified", "iat", "exp", "jti", "hd"]
jwt_objects = st.fixed_dictionaries(
    {}, optional={name: any_text | json_values | st.sampled_from(["HS256", "RS256"]) for name in JWT_NAMES}
)
shallow_json = st.one_of(jwt_objects, jwt_objects, json_values).map(lambda v: json.dumps(v).encode())
# A JWT-looking token of random JSON, or text.
random_tokens = st.one_of(jwt_like(shallow_json), any_text.filter(str.strip), ascii_text.filter(str.strip))


# Sign-in bodies: a Google-looking credential (random JWT parts) or any text, in each accepted field.
credential_bodies = st.dictionaries(
    st.sampled_from(CREDENTIAL_FIELDS), random_tokens | st.just("a.b.c"), min_size=1, max_size=2
).map(lambda v: json.dumps(v).encode())


CSV_HEADERS = sorted({alias for aliases in IMPORT_COLUMNS.values() for alias in aliases} | {"Company Name", "X"})
csv_cells = st.one_of(
    st.sampled_from(["", "applied", "Phone Screen", "2026-11-02", "03/04/2026", "31/12/2026", "€65,000", "85k",
                     "https://a.example/x", "Sam <sam@a.example>", "applied (2026-01-01T00:00:00Z) -> offer (x)"]),
    any_text,
)  # fmt: skip


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """Spreadsheet-like files: known and unknown column names, odd cells, quotes, delimiters, a BOM."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    header = draw(st.lists(st.sampled_from(CSV_HEADERS) | any_text, min_size=1, max_size=8))
    rows = draw(st.lists(st.lists(csv_cells, max_size=10), max_size=8))
    quote = draw(st.sampled_from(['"', "", '"unclosed']))
    text = "\n".join(delimiter.join(quote + c if quote and "," in c else c for c in row) for row in [header, *rows])
    return draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + text.encode("utf-8", "surrogatepass")


def bodies_for(template: str) -> st.SearchStrategy[bytes]:
    """Sign-in routes mostly get credentials, the import CSV files, the others mostly applications; each gets
    the others too."""
    if template == "/api/import":
        return st.one_of(csv_files(), bodies)
    return (
        st.one_of(credential_bodies, bodies) if template.startswith("/auth/") else st.one_of(bodies, credential_bodies)
    )


@st.composite
def random_authorizations(draw: st.DrawFn, real: str) -> str | None:
    """No header, another scheme, a random token, or the real one with a piece replaced."""
    kind = draw(st.sampled_from(["none", "scheme", "random", "random", "tampered", "tampered"]))
    if kind == "none":
        return None
    if kind == "scheme":
        return f"{draw(any_text)} {draw(any_text)}"
    if kind == "random":
        return f"Bearer {draw(random_tokens)}"
    cut = draw(st.integers(0, len(real) - 1))
    return f"Bearer {real[:cut]}{draw(any_text)}{real[cut + 1 :]}"


@st.composite
def header_sets(draw: st.DrawFn, real_token: str, real_id: str, signed_in: bool = True) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Origin": ALLOWED}
    authorization = f"Bearer {real_token}" if signed_in else draw(random_authorizations(real_token))
    if authorization is not None:
        headers["Authorization"] = authorization
    for name in draw(st.lists(st.sampled_from(HEADER_NAMES[1:]), max_size=3, unique=True)):
        if name == "Content-Type":  # mostly JSON: chalice answers 415 to anything else before our code runs
            media = ["application/json; charset=utf-8"] * 4 + ["text/plain", "text/csv", "text/csv; charset=utf-8"]
            headers[name] = draw(st.sampled_from(media) | any_text)
        elif name == "If-Match":
            headers[name] = draw(st.sampled_from([f'"{real_id}.1"', "*", f'W/"{real_id}.1"']) | any_text)
        else:
            headers[name] = draw(any_text)
    return headers


@st.composite
def query_strings(draw: st.DrawFn) -> str:
    known = {
        "limit": st.integers(-5, 200).map(str) | any_text,
        "status": st.sampled_from([s.value for s in Status]) | any_text,
        "tag": person_text | any_text,
        "q": person_text | any_text,
        "follow_up_due": st.sampled_from(["true", "false"]) | any_text,
        "cursor": st.tuples(any_text, any_text).map(".".join),  # a cursor's shape: payload.mac
    }
    pairs = draw(
        st.lists(st.sampled_from(sorted(known)).flatmap(lambda k: st.tuples(st.just(k), known[k])), max_size=4)
    )
    if draw(st.integers(0, 4)) == 4:  # now and then a parameter no route knows
        pairs.append((draw(any_text), draw(any_text)))
    encoded = urlencode([(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass")) for k, v in pairs])
    return f"?{encoded}" if encoded else ""


# A path parameter as API Gateway hands it over (decoded), never holding what would change the route. Nor
# one starting with ";": chalice local's route matcher (urlparse) drops a last segment's ";params", so
# "/calendar/;" never reaches a route there (API Gateway passes it on as the parameter).
path_values = st.text(st.characters(codec="utf-8", exclude_characters="/?#"), min_size=1, max_size=40).filter(
    lambda v: not v.startswith(";")
)


@st.composite
def paths(draw: st.DrawFn, template: str, real_id: str) -> str:
    def fill(match: re.Match[str]) -> str:
        return draw(st.sampled_from([real_id, real_id.lower(), real_id + "\n"]) | path_values)

    return PARAMETER.sub(fill, template)


# ---- checks --------------------------------------------------------------------------------------

Strategy = Callable[[Fuzzing], st.SearchStrategy[Any]]


def send(
    fuzzing: Fuzzing,
    method: str,
    data: st.DataObject,
    template: str,
    *,
    query: Strategy = lambda f: query_strings(),
    headers: Strategy = lambda f: header_sets(f.token, f.app_id),
    body: Strategy | None = None,
) -> Any:
    """One fresh session, one random request to `method template`, and what its answer must be;
    the response, for a test to say more."""
    fuzzing.fresh_session()
    path = data.draw(paths(template, fuzzing.app_id), label="path")
    url = path + data.draw(query(fuzzing), label="query")
    request_headers = data.draw(headers(fuzzing), label="headers")
    if template == "/api/import" and data.draw(st.booleans(), label="csv"):
        request_headers["Content-Type"] = "text/csv"  # mostly: past chalice's and our 415, to the parser
    payload = data.draw(body(fuzzing) if body else bodies_for(template), label="body")
    response = fuzzing.client.http.request(method, url, headers=request_headers, body=payload)
    assert response.status_code < 500, (response.status_code, response.body[:500])
    for name, value in response.headers.items():
        text = f"{name}: {value}"
        assert text.isascii() and text.isprintable(), f"header not printable ASCII: {text!r}"
    if response.status_code >= 400:
        answer = json.loads(response.body)
        assert {"error", "message"} <= set(answer) and isinstance(answer["message"], str), answer
    elif response.body and template.startswith(("/docs", "/reminders/unsubscribe")):  # HTML, JS, CSS pages
        assert response.headers["Content-Type"].startswith(("text/html", "text/javascript", "text/css"))
    elif response.body and response.headers["Content-Type"].startswith(("text/csv", "text/calendar")):
        assert template in ("/api/export", "/calendar/{feed}"), template  # the CSV export, the feed
    elif response.body:
        json.loads(response.body)
    return response


@pytest.mark.parametrize(("path", "method"), ROUTES, ids=[f"{m} {p}" for p, m in ROUTES])
@FUZZ
@given(data=st.data())
def test_no_random_request_with_a_valid_token_gets_a_5xx(
    fuzzing: Fuzzing, path: str, method: str, data: st.DataObject
) -> None:
    send(fuzzing, method, data, path)


@pytest.mark.parametrize(("path", "method"), ROUTES, ids=[f"{m} {p}" for p, m in ROUTES])
@FUZZ
@given(data=st.data())
def test_no_random_request_with_a_random_credential_gets_a_5xx(
    fuzzing: Fuzzing, path: str, method: str, data: st.DataObject
) -> None:
    send(fuzzing, method, data, path, headers=lambda f: header_sets(f.token, f.app_id, signed_in=False))


# ---- inputs that were 500s before issue 9's pipeline: each hit on purpose ------------------------

BODY_ROUTES = [(p, m) for p, m in ROUTES if m in {"POST", "PATCH", "PUT"}]
deep_bodies = st.integers(10_001, 100_000).map(nested) | st.integers(10_001, 100_000).map(
    lambda n: b'{"company": ' + b"[" * n
)


# Was a 500 (RecursionError reading the body): POST /api/applications with '[' * 100000 + ']' * 100000.
@TARGETED
@given(data=st.data())
def test_json_bodies_nested_past_the_parser_limit_get_a_4xx(fuzzing: Fuzzing, data: st.DataObject) -> None:
    path, method = data.draw(st.sampled_from(BODY_ROUTES), label="route")
    send(fuzzing, method, data, path, body=lambda f: deep_bodies)


@st.composite
def deep_bearer_headers(draw: st.DrawFn) -> dict[str, str]:
    depth = draw(st.integers(10_001, 100_000))
    segment = b64(nested(depth))
    token = draw(st.sampled_from([f"{segment}.e30.AA", f"eyJhbGciOiJIUzI1NiJ9.{segment}.AA"]))
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


# Was a 500 (RecursionError in tokens.verify): GET /api/user, Bearer b64url('[' * 100000 + ']' * 100000).e30.AA
@TARGETED
@given(data=st.data())
def test_bearer_tokens_nested_past_the_parser_limit_get_401(fuzzing: Fuzzing, data: st.DataObject) -> None:
    auth_routes = [(p, m) for p, m in ROUTES if p.startswith("/api/") and m != "OPTIONS"]
    path, method = data.draw(st.sampled_from(auth_routes), label="route")
    response = send(fuzzing, method, data, path, headers=lambda f: deep_bearer_headers())
    assert response.status_code == 401 and json.loads(response.body)["error"] == "invalid_token", response.body


# Was a 500 (TypeError from hmac.compare_digest on the cursor): GET /api/applications?cursor=%C3%A9.%C3%A9
@TARGETED
@given(data=st.data())
def test_non_ascii_cursors_get_400(fuzzing: Fuzzing, data: st.DataObject) -> None:
    cursor = st.tuples(any_text, any_text).filter(lambda p: not (p[0] + p[1]).isascii())
    query = cursor.map(lambda p: "?" + urlencode({"cursor": f"{p[0]}.{p[1]}".encode("utf-8", "surrogatepass")}))
    real = lambda f: st.just({"Authorization": f"Bearer {f.token}"})  # noqa: E731
    send(fuzzing, "GET", data, "/api/applications", query=lambda f: query, headers=real)
