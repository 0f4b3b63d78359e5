"""Issue 14: inside Lambda, a development stage or the committed dev secret never serves."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib import settings
from tests.conftest import (
    ALLOWED,
    DEV_SECRET,
    PROD_CLIENT_ID,
    PROD_SECRET,
    LambdaContext,
    StageEnv,
    rest_event,
)

IN_LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "job-hunt-tracker-api-dev"}
DEV_MESSAGE = "the dev stage is for `chalice local`; deploy with `make deploy`, which uses the prod stage"


def invoke(method: str, resource: str, stage: str = "api", **headers: str) -> dict[str, Any]:
    return app_module.app(rest_event(method, resource, stage=stage, headers=headers or None), LambdaContext())


ROUTES = [("GET", "/health"), ("GET", "/health/ready"), ("GET", "/api/user"), ("POST", "/auth/google")]


@pytest.mark.parametrize(("method", "resource"), ROUTES)
def test_the_dev_stage_in_lambda_answers_503_on_every_route(
    stage_env: StageEnv, method: str, resource: str, caplog: pytest.LogCaptureFixture
) -> None:
    stage_env("dev", **IN_LAMBDA)
    with caplog.at_level(logging.ERROR):
        response = invoke(method, resource, Origin=ALLOWED)
    assert response["statusCode"] == 503, response
    payload = json.loads(response["body"])
    assert payload["error"] == "misconfigured"
    assert payload["message"].startswith(DEV_MESSAGE)
    assert DEV_SECRET not in response["body"]
    # Still readable by the browser: the CORS headers are on the refusal too.
    assert response["headers"]["Access-Control-Allow-Origin"] == ALLOWED


def test_the_refusal_is_logged_once_per_environment(stage_env: StageEnv, caplog: pytest.LogCaptureFixture) -> None:
    stage_env("dev", AWS_LAMBDA_FUNCTION_NAME="job-hunt-tracker-api-dev-logged-once")
    with caplog.at_level(logging.ERROR):
        invoke("GET", "/health")
        invoke("GET", "/health")
    said = [r.getMessage() for r in caplog.records if "refusing to serve" in r.getMessage()]
    assert len(said) == 1 and DEV_MESSAGE in said[0]


def test_a_preflight_on_the_dev_stage_in_lambda_is_refused_too(stage_env: StageEnv) -> None:
    stage_env("dev", **IN_LAMBDA)
    response = invoke("OPTIONS", "/api/applications", Origin=ALLOWED)
    assert response["statusCode"] == 503


@pytest.mark.parametrize("stage", ["local", "test"])
def test_every_development_stage_name_is_refused_in_lambda(stage_env: StageEnv, stage: str) -> None:
    stage_env("dev", STAGE=stage, **IN_LAMBDA)
    response = invoke("GET", "/health")
    assert response["statusCode"] == 503
    assert json.loads(response["body"])["message"].startswith(f"the {stage} stage is for `chalice local`")


def test_the_committed_secret_is_refused_on_a_production_stage_in_lambda(stage_env: StageEnv) -> None:
    stage_env("prod", GOOGLE_CLIENT_ID=PROD_CLIENT_ID, JWT_SECRET_KEY=DEV_SECRET, **IN_LAMBDA)
    for resource in ("/health", "/api/user"):
        response = invoke("GET", resource, stage="prod")
        assert response["statusCode"] == 503, response
        payload = json.loads(response["body"])
        assert payload["error"] == "misconfigured"
        assert "JWT_SECRET_KEY is the dev stage's committed value" in payload["message"]
        assert DEV_SECRET not in response["body"]


def test_the_committed_secret_is_refused_even_where_it_would_otherwise_pass(stage_env: StageEnv) -> None:
    # A stage name outside the development set with a committed secret that no placeholder rule
    # catches: the rule is the value itself, not its wording.
    loaded = settings.parse({"STAGE": "staging", "JWT_SECRET_KEY": DEV_SECRET, **IN_LAMBDA})
    assert loaded.refusal == settings.COMMITTED_SECRET_REFUSAL


def test_the_digest_is_the_committed_secret() -> None:
    assert hashlib.sha256(DEV_SECRET.encode()).hexdigest() == settings.COMMITTED_SECRET_SHA256


def test_prod_in_lambda_with_its_own_secret_serves(stage_env: StageEnv) -> None:
    stage_env("prod", GOOGLE_CLIENT_ID=PROD_CLIENT_ID, JWT_SECRET_KEY=PROD_SECRET, **IN_LAMBDA)
    response = invoke("GET", "/health", stage="prod")
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["status"] == "healthy"


def test_outside_lambda_the_dev_stage_serves_as_before(stage_env: StageEnv) -> None:
    stage_env("dev", AWS_LAMBDA_FUNCTION_NAME=None)
    response = invoke("GET", "/health")
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["stage"] == "dev"


def test_the_test_client_serves_the_dev_stage(client: Client) -> None:
    response = client.http.get("/health")
    assert response.status_code == 200 and json.loads(response.body)["status"] == "healthy"
