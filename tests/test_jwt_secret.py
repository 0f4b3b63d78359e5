"""The JWT secret from SSM Parameter Store (moto): read once per TTL, problems reported, never a crash."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest
from botocore.stub import Stubber
from chalice.test import Client
from moto import mock_aws

from chalicelib import jwt_secret, settings
from local_google.issuer import GoogleIssuer
from tests.conftest import PROD_CLIENT_ID, FakeClock, MakeClient, body, sign_in

PARAMETER = "/job-hunt-tracker/test/jwt-secret"
STRONG = "R9v2mXq7Lk3Wz8Tn4Hc6Jb1Fd5Gs0Ya-uE_pQ"
ROTATED = "N4c8Vb2Xm6Lq9Wz3Tk7Hj1Fd5Gs0Ya-uE_rS"


def forget_secrets() -> None:
    """Forget cached secrets and the SSM client, as a new container would have none."""
    jwt_secret._cache.clear()
    jwt_secret._failures.clear()
    jwt_secret._client = None


@pytest.fixture(autouse=True)
def ssm() -> Iterator[Any]:
    forget_secrets()
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")
    forget_secrets()


def put(ssm: Any, value: str) -> None:
    ssm.put_parameter(Name=PARAMETER, Value=value, Type="SecureString", Overwrite=True)


def from_ssm(make_client: MakeClient, stage: str = "dev", **env: Any) -> Client:
    return make_client(stage, JWT_SECRET_KEY=None, JWT_SECRET_SSM_PARAMETER=PARAMETER, **env)


def test_tokens_are_signed_with_the_parameter(ssm: Any, make_client: MakeClient, issuer: GoogleIssuer) -> None:
    put(ssm, STRONG)
    client = from_ssm(make_client)
    assert client.http.get("/health").status_code == 200
    token = body(sign_in(client, issuer.id_token()))["access_token"]
    assert jwt.decode(token, STRONG, algorithms=["HS256"], audience="job-hunt-tracker-api/dev")["sub"]
    assert client.http.get("/api/user", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_missing_parameter_is_a_configuration_problem(make_client: MakeClient, issuer: GoogleIssuer) -> None:
    client = from_ssm(make_client, "prod")
    health = client.http.get("/health")
    assert health.status_code == 503
    assert body(health)["problems"] == [
        f"JWT_SECRET_SSM_PARAMETER: parameter {PARAMETER!r} does not exist (see the README's deploy section)"
    ]
    response = client.http.get("/api/user", headers={"Authorization": "Bearer x.y.z"})
    assert response.status_code == 503 and body(response)["error"] == "misconfigured"
    assert sign_in(client, issuer.id_token()).status_code == 503


def test_a_weak_parameter_value_is_refused_without_showing_it(ssm: Any, make_client: MakeClient) -> None:
    put(ssm, "changeme-changeme-changeme-changeme-42")
    health = from_ssm(make_client, "prod").http.get("/health")
    assert health.status_code == 503
    [problem] = body(health)["problems"]
    assert problem.startswith("JWT_SECRET_SSM_PARAMETER: the value of") and "placeholder" in problem
    assert b"changeme" not in health.body


def test_access_denied_names_the_permission(make_client: MakeClient) -> None:
    client = boto3.client("ssm", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_client_error("get_parameter", service_error_code="AccessDeniedException", http_status_code=400)
    stub.activate()
    jwt_secret._client = client
    health = from_ssm(make_client, "prod").http.get("/health")
    assert health.status_code == 503
    assert body(health)["problems"] == [
        f"JWT_SECRET_SSM_PARAMETER: the function's role may not read parameter {PARAMETER!r} (ssm:GetParameter)"
    ]


def test_a_failure_is_not_retried_on_every_request(make_client: MakeClient, ssm: Any) -> None:
    calls: list[str] = []
    client = boto3.client("ssm", region_name="us-east-1")
    client.meta.events.register("before-call.ssm.GetParameter", lambda **kw: calls.append("GetParameter"))
    jwt_secret._client = client
    prod = from_ssm(make_client, "prod")
    for _ in range(5):
        assert prod.http.get("/health").status_code == 503
    assert calls == ["GetParameter"]  # the parameter is missing: asked once, then remembered for 30 s


def _settings(**env: str) -> settings.Settings:
    loaded = settings.parse(
        {"STAGE": "prod", "GOOGLE_CLIENT_ID": PROD_CLIENT_ID, "JWT_SECRET_SSM_PARAMETER": PARAMETER, **env}
    )
    assert loaded.settings is not None, loaded.problems
    return loaded.settings


def test_the_value_is_read_once_per_ttl_and_a_rotation_arrives_after_it(ssm: Any) -> None:
    put(ssm, STRONG)
    clock = FakeClock()
    config = _settings(SECRETS_TTL_SECONDS="300")
    assert jwt_secret.jwt_secret(config, clock) == STRONG
    put(ssm, ROTATED)
    clock.advance(299)
    assert jwt_secret.jwt_secret(config, clock) == STRONG
    clock.advance(2)
    assert jwt_secret.jwt_secret(config, clock) == ROTATED


def test_a_failed_refresh_keeps_the_value_already_read(ssm: Any) -> None:
    put(ssm, STRONG)
    clock = FakeClock()
    config = _settings(SECRETS_TTL_SECONDS="60")
    assert jwt_secret.jwt_secret(config, clock) == STRONG
    ssm.delete_parameter(Name=PARAMETER)
    clock.advance(61)
    assert jwt_secret.jwt_secret(config, clock) == STRONG


def test_an_env_secret_needs_no_ssm(make_client: MakeClient) -> None:
    calls: list[str] = []
    client = boto3.client("ssm", region_name="us-east-1")
    client.meta.events.register("before-call.ssm.GetParameter", lambda **kw: calls.append("GetParameter"))
    jwt_secret._client = client
    prod = make_client("prod")  # JWT_SECRET_KEY from the environment, no parameter
    health = prod.http.get("/health")
    assert health.status_code == 200 and body(health)["stage"] == "prod"
    assert calls == []
