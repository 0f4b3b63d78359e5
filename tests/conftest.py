"""Shared fixtures: the test Google issuer, stage clients, and a clock for the certs cache."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from bench.events import rest_v1_event
from chalicelib import google_identity
from local_google.issuer import GoogleIssuer
from tests.dynamodb_fixtures import dynamodb_endpoint, dynamodb_table  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "job-hunt-tracker-local.apps.googleusercontent.com"
PROD_CLIENT_ID = "123456789012-prodclient.apps.googleusercontent.com"
PROD_SECRET = "vK3q9Zt7Lm2Xw8Rp4Hn6Jd1Fb5Gc0Ys-uE_aT"
ALLOWED = "http://localhost:3000"
# A DynamoDB endpoint where nothing listens: a prod-stage test that reaches the store by mistake
# fails at once instead of reaching AWS. Tests that need DynamoDB pass the local engine's URL.
NO_DYNAMODB = "http://127.0.0.1:9"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
EVIL = "https://evil.example"
# An application with every field the API accepts set, as a client would send it.
RICH_APPLICATION: Mapping[str, Any] = {
    "company": "Acme",
    "role": "Backend Engineer",
    "status": "applied",
    "url": "https://jobs.acme.example/42",
    "location": "Berlin",
    "work_mode": "hybrid",
    "salary_min": 70000,
    "salary_max": 90000,
    "currency": "eur",
    "source": "LinkedIn",
    "applied_on": "2026-11-20",
    "next_follow_up_on": "2026-11-27",
    "notes": "Referred by Sam",
    "tags": ["python", "fintech"],
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session", autouse=True)
def offline_aws() -> Iterator[None]:
    """Dummy credentials and region: nothing in the tests may reach AWS, and boto3 needs them set."""
    saved = {k: os.environ.get(k) for k in AWS_ENV}
    os.environ.update(AWS_ENV)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def issuer() -> Iterator[GoogleIssuer]:
    with GoogleIssuer(CLIENT_ID) as g:
        yield g


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, issuer: GoogleIssuer) -> FakeClock:
    """A fresh, empty certs cache on a clock the test moves; the issuer back to its defaults."""
    fake = FakeClock()
    monkeypatch.setattr(google_identity, "CERTS", google_identity.GoogleCerts(clock=fake))
    issuer.fail_with = 0
    issuer.fetches = 0
    issuer.max_age = 21600
    return fake


def project_config() -> dict[str, Any]:
    """The project's .chalice/config.json, freshly read (callers may change their copy)."""
    return json.loads((ROOT / ".chalice" / "config.json").read_text())  # type: ignore[no-any-return]


def stage_variables(stage: str) -> dict[str, str]:
    return dict(project_config()["stages"][stage]["environment_variables"])


DEV_SECRET = stage_variables("dev")["JWT_SECRET_KEY"]

StageEnv = Callable[..., None]


@pytest.fixture
def stage_env(monkeypatch: pytest.MonkeyPatch) -> StageEnv:
    """`stage_env(stage, **overrides)`: os.environ as the stage's Lambda sees it (None unsets), for
    calling the handler directly with `rest_event` (the test client sets it only during a request)."""

    def apply(stage: str, **overrides: str | None) -> None:
        for name, value in {**stage_variables(stage), **overrides}.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)

    return apply


class LambdaContext:
    function_name = "job-hunt-tracker-api-prod"
    memory_limit_in_mb = 512
    aws_request_id = str(uuid.uuid4())
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:job-hunt-tracker-api-prod"

    def get_remaining_time_in_millis(self) -> int:
        return 15000


def rest_event(
    method: str, resource: str, stage: str = "prod", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway REST API (v1) proxy event for a route without path parameters, as the
    execute-api endpoint sends it (the bench's builder: one description of the event's shape)."""
    return rest_v1_event(method, resource, style="literal", headers=headers, stage=stage)


def project_dir(tmp_path: Path, stage_env: dict[str, dict[str, str]] | None = None) -> Path:
    """A copy of the project's .chalice/config.json with some stages' variables changed."""
    config = project_config()
    for stage, env in (stage_env or {}).items():
        variables = config["stages"][stage].setdefault("environment_variables", {})
        for name, value in env.items():
            if value is None:
                variables.pop(name, None)
            else:
                variables[name] = value
    target = tmp_path / "project"
    (target / ".chalice").mkdir(parents=True, exist_ok=True)
    (target / ".chalice" / "config.json").write_text(json.dumps(config))
    return target


MakeClient = Callable[..., Client]


@pytest.fixture
def make_client(tmp_path: Path, issuer: GoogleIssuer, clock: FakeClock) -> Iterator[MakeClient]:
    """`make_client(stage, **env)`: a test client for that stage, certs from the test issuer."""
    clients: list[Client] = []

    def make(stage: str = "dev", **env: Any) -> Client:
        overrides: dict[str, Any] = {}
        if stage == "dev":
            overrides.update(GOOGLE_CERTS_URL=issuer.certs_url, SQLITE_PATH=str(tmp_path / "dev.db"))
        if stage == "prod":
            overrides.update(
                GOOGLE_CLIENT_ID=PROD_CLIENT_ID, JWT_SECRET_KEY=PROD_SECRET, DYNAMODB_ENDPOINT_URL=NO_DYNAMODB
            )
        overrides.update(env)
        where = project_dir(tmp_path / f"{stage}-{len(clients)}", {stage: overrides})
        client = Client(app_module.app, stage_name=stage, project_dir=str(where))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> Client:
    return make_client("dev")


@pytest.fixture(params=["sqlite", pytest.param("dynamodb", marks=pytest.mark.slow)])
def both_stores(request: pytest.FixtureRequest, make_client: MakeClient) -> Client:
    """A dev-stage client (the test issuer's certs trusted, no sign-in rate limit) on SQLite, then on
    DynamoDB Local: a test using it runs once on each store."""
    if request.param == "sqlite":
        return make_client("dev", SIGNIN_RATE_LIMIT_PER_MINUTE="0")
    endpoint, table = request.getfixturevalue("dynamodb_table")
    return make_client(
        "dev", STORE="dynamodb", DYNAMODB_TABLE=table, DYNAMODB_ENDPOINT_URL=endpoint, SIGNIN_RATE_LIMIT_PER_MINUTE="0"
    )


def sign_in(client: Client, id_token: str, field: str = "credential") -> Any:
    response = client.http.post(
        "/auth/google",
        headers={"Content-Type": "application/json", "Origin": ALLOWED},
        body=json.dumps({field: id_token}),
    )
    return response


def body(response: Any) -> Any:
    return json.loads(response.body)
