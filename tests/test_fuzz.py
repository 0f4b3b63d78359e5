"""Schemathesis against the running API: every operation of /openapi.json, fuzzed through `chalice local`.

The server is the dev stage under `chalice local --no-autoreload`, with two of its settings moved
aside in a copy of .chalice/config.json (chalice local lets the stage's variables override the
shell's): SQLite in a temporary file, and Google's certs from the test issuer alone -- the dev
stage also lists Google's own URL, which a fuzzed credential must never make the server fetch.

Two accounts sign in. The owner's applications are made first and must be byte-identical after
the run. The fuzzing runs as the second account, so a fuzzed PATCH or DELETE can reach only that
account's applications; `DELETE /api/user` is left out (it would end the fuzzing account's
session; test_applications covers it). Every response must be no 5xx and conform to the
document: status code, content type, headers and body schema.
"""

from __future__ import annotations

import os
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import app as app_module
from chalicelib import openapi
from local_google.issuer import GoogleIssuer
from tests.chalice_local import LocalServer, dev_stage_server
from tests.conftest import RICH_APPLICATION

pytestmark = pytest.mark.slow

# Per operation, for the fuzzing phase (the coverage phase adds a bounded set of boundary cases).
# FUZZ_MAX_EXAMPLES / FUZZ_SEED run a deeper or different hunt locally; CI uses the defaults.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
SEED = int(os.environ.get("FUZZ_SEED", "20261126"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
NOT_FUZZED = ("DELETE", "/api/user")

# The document app.py serves (the `fuzzing` fixture checks the server serves exactly this one). It
# is built at import rather than fetched through schemathesis.pytest.from_fixture: that lazy loader
# sets pytest's private Node._nodeid, which pytest 9.2 removed.
DOCUMENT = openapi.document(app_module.app.routes)
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,  # derandomized: the same cases every run
            "database": "none",  # and no .hypothesis/ example database in the working tree
            "with-security-parameters": False,  # the fuzzing account's token is sent instead
        },
        # The coverage phase also sends each path the methods it does not document. TRACE and QUERY
        # never reach the app: chalice local's http.server answers them 501 itself, and an API
        # Gateway REST API has no such methods.
        "phases": {"coverage": {"unexpected-methods": ["GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"]}},
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG).exclude(method=NOT_FUZZED[0], path=NOT_FUZZED[1])


@pytest.fixture(scope="module")
def server(issuer: GoogleIssuer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    work = tmp_path_factory.mktemp("fuzz")
    stage = {
        "GOOGLE_CERTS_URL": issuer.certs_url,
        "SQLITE_PATH": str(work / "fuzz.db"),
        "SIGNIN_RATE_LIMIT_PER_MINUTE": "0",  # fuzz sign-in itself, not the limiter's 429 (tested on its own)
    }
    with dev_stage_server(work, stage) as running:
        yield running


def sign_in(server: LocalServer, issuer: GoogleIssuer, sub: str, email: str) -> dict[str, str]:
    response = requests.post(
        f"{server.url}/auth/google", json={"credential": issuer.id_token(sub=sub, email=email)}, timeout=10
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def snapshot(server: LocalServer, headers: dict[str, str]) -> dict[str, tuple[int, bytes, str | None]]:
    """Everything the account can read, byte for byte (statistics left out: they depend on today's date)."""
    seen: dict[str, tuple[int, bytes, str | None]] = {}
    paths = ["/api/user", "/api/applications"]
    listing = requests.get(f"{server.url}/api/applications", headers=headers, timeout=10).json()
    paths += [f"/api/applications/{item['id']}" for item in listing["items"]]
    paths += [f"/api/applications/{item['id']}/interviews" for item in listing["items"]]
    paths.append("/api/interviews?from=2026-01-01&to=2028-01-01")
    for path in paths:
        response = requests.get(f"{server.url}{path}", headers=headers, timeout=10)
        seen[path] = (response.status_code, response.content, response.headers.get("ETag"))
    return seen


@dataclass
class Fuzzing:
    """The fuzzing account, its applications to aim at, and what was sent."""

    server: LocalServer
    headers: dict[str, str]
    owner: dict[str, str]
    owner_before: dict[str, tuple[int, bytes, str | None]]
    pool: list[str] = field(default_factory=list)
    interviews: list[tuple[str, str]] = field(default_factory=list)  # (application id, interview id)
    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    other_methods: int = 0
    started: float = field(default_factory=time.monotonic)

    def new_application(self) -> str:
        response = requests.post(
            f"{self.server.url}/api/applications",
            json={"company": "Fuzz Co", "role": "Target", "tags": ["fuzz"]},
            headers=self.headers,
            timeout=10,
        )
        assert response.status_code == 201, response.text
        app_id: str = response.json()["id"]
        return app_id

    def new_interview(self) -> tuple[str, str]:
        app_id = self.new_application()
        response = requests.post(
            f"{self.server.url}/api/applications/{app_id}/interviews",
            json={"kind": "technical", "starts_at": "2026-12-03T14:00:00Z"},
            headers=self.headers,
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return app_id, response.json()["id"]

    def existing_interview(self, pick: int) -> tuple[str, str]:
        if not self.interviews:
            self.interviews.append(self.new_interview())
        return self.interviews[pick % len(self.interviews)]

    def existing_id(self, pick: int) -> str:
        if not self.pool:
            self.pool.append(self.new_application())
        return self.pool[pick % len(self.pool)]


@pytest.fixture(scope="module")
def fuzzing(server: LocalServer, issuer: GoogleIssuer) -> Fuzzing:
    owner = sign_in(server, issuer, "owner-100000000000000000001", "owner@example.com")
    for payload in (RICH_APPLICATION, {"company": "Globex", "role": "SRE"}):
        created = requests.post(f"{server.url}/api/applications", json=payload, headers=owner, timeout=10)
        assert created.status_code == 201, created.text
    moved = requests.patch(
        f"{server.url}/api/applications/{created.json()['id']}",
        json={"status": "screening", "notes": "Phone screen booked"},
        headers={**owner, "If-Match": created.headers["ETag"]},
        timeout=10,
    )
    assert moved.status_code == 200, moved.text
    booked = requests.post(
        f"{server.url}/api/applications/{created.json()['id']}/interviews",
        json={"kind": "phone_screen", "starts_at": "2026-12-03T14:00:00+01:00", "interviewers": ["Sam"]},
        headers=owner,
        timeout=10,
    )
    assert booked.status_code == 201, booked.text
    served = requests.get(f"{server.url}/openapi.json", timeout=10)
    assert served.status_code == 200 and served.json() == DOCUMENT
    before = snapshot(server, owner)
    assert len(before) == 7 and all(status == 200 for status, _, _ in before.values())
    fuzzer = sign_in(server, issuer, "fuzzer-200000000000000000002", "fuzzer@example.com")
    run = Fuzzing(server, fuzzer, owner, before)
    run.pool.extend(run.new_application() for _ in range(3))
    run.interviews.extend(run.new_interview() for _ in range(2))
    return run


@schema.parametrize()
def test_fuzz(case: schemathesis.Case[Any], fuzzing: Fuzzing) -> None:
    # Random ids only ever find nothing: half the cases (chosen by the generated id, so a case is
    # aimed the same way when Hypothesis replays it) go to one of the fuzzing account's applications.
    generated = (case.path_parameters or {}).get("app_id")
    pick = zlib.crc32(generated.encode()) if isinstance(generated, str) else 1
    if pick % 2 == 0:
        assert case.path_parameters is not None
        if "interview_id" in case.path_parameters:
            case.path_parameters["app_id"], case.path_parameters["interview_id"] = fuzzing.existing_interview(pick // 2)
        else:
            case.path_parameters["app_id"] = fuzzing.existing_id(pick // 2)
    fuzzing.cases[case.operation.label] += 1
    if case.method.upper() != case.operation.method.upper():  # the coverage phase probing an undocumented method
        fuzzing.other_methods += 1
    response = case.call(base_url=fuzzing.server.url, headers=fuzzing.headers, timeout=30)
    fuzzing.statuses[response.status_code] += 1
    case.validate_response(response, checks=CHECKS, headers=fuzzing.headers)
    if case.method.upper() == "DELETE" and response.status_code == 204:
        params = case.path_parameters or {}
        deleted = params.get("app_id")
        if "interview_id" in params:
            fuzzing.interviews = [i for i in fuzzing.interviews if i[1] != params["interview_id"]]
        else:
            fuzzing.pool = [a for a in fuzzing.pool if a != deleted]
            fuzzing.interviews = [i for i in fuzzing.interviews if i[0] != deleted]


def test_fuzzing_ran_and_left_the_owners_data_intact(fuzzing: Fuzzing, capsys: pytest.CaptureFixture[str]) -> None:
    """Runs after test_fuzz (file order): reports its counts, so CI logs show them, and checks the owner's data."""
    elapsed = time.monotonic() - fuzzing.started
    total = sum(fuzzing.cases.values())
    per_operation = ", ".join(f"{op}: {n}" for op, n in sorted(fuzzing.cases.items()))
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(fuzzing.statuses.items()))
    with capsys.disabled():
        print(
            f"\nschemathesis {schemathesis.__version__}: {total} cases over {len(fuzzing.cases)} operations "
            f"in {elapsed:.1f}s (fuzzing phase: at most {MAX_EXAMPLES} examples per operation; seed {SEED})\n"
            f"  per operation: {per_operation}\n  of which undocumented methods (405 expected): {fuzzing.other_methods}\n"
            f"  responses by status: {statuses}"
        )
    assert snapshot(fuzzing.server, fuzzing.owner) == fuzzing.owner_before
    operations = {f"{method.upper()} {path}" for path, item in DOCUMENT["paths"].items() for method in item}
    assert set(fuzzing.cases) == operations - {" ".join(NOT_FUZZED)}, "every operation is fuzzed (run the whole file)"
    assert all(status < 500 for status in fuzzing.statuses)
