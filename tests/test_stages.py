"""Stages, events and runtime: what made the original 404 on every route, and the config it deploys with."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import pytest

import app as app_module
from tests.conftest import PROD_CLIENT_ID, PROD_SECRET, ROOT, LambdaContext, StageEnv, project_config, rest_event

CONFIG = project_config()


@pytest.fixture
def prod_env(stage_env: StageEnv) -> None:
    stage_env("prod", GOOGLE_CLIENT_ID=PROD_CLIENT_ID, JWT_SECRET_KEY=PROD_SECRET)


# Original failure 9: every route 404'd behind the /prod stage prefix.
def test_prod_stage_event_reaches_health(prod_env: None) -> None:
    response = app_module.app(
        rest_event("GET", "/health", headers={"Origin": "https://zduan-job.vercel.app"}), LambdaContext()
    )
    assert response["statusCode"] == 200, response
    payload = json.loads(response["body"])
    assert payload["status"] == "healthy" and payload["stage"] == "prod"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", payload["timestamp"])
    assert response["headers"]["Access-Control-Allow-Origin"] == "https://zduan-job.vercel.app"


def test_prod_stage_event_reaches_a_protected_route_and_a_preflight(prod_env: None) -> None:
    response = app_module.app(rest_event("GET", "/api/user"), LambdaContext())
    assert response["statusCode"] == 401
    assert response["headers"]["WWW-Authenticate"].startswith("Bearer")
    preflight = app_module.app(
        rest_event("OPTIONS", "/auth/google", headers={"Origin": "http://localhost:3000"}), LambdaContext()
    )
    assert preflight["statusCode"] == 204
    assert preflight["headers"]["Access-Control-Allow-Methods"] == "OPTIONS, POST"


def test_health_reports_each_problem_without_secret_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("GOOGLE_CLIENT_ID", PROD_CLIENT_ID)
    monkeypatch.setenv("JWT_SECRET_KEY", "changeme-please-changeme-please-changeme")
    monkeypatch.setenv("ALLOWED_ORIGINS", "*")
    response = app_module.app(rest_event("GET", "/health"), LambdaContext())
    assert response["statusCode"] == 503
    payload = json.loads(response["body"])
    assert payload["status"] == "unhealthy" and payload["stage"] == "prod"
    assert [p.split(":")[0] for p in payload["problems"]] == ["JWT_SECRET_KEY", "ALLOWED_ORIGINS"]
    assert "changeme" not in response["body"]


def test_health_is_cheap_and_local(client: Any) -> None:
    response = client.http.get("/health")
    assert response.status_code == 200
    assert json.loads(response.body)["stage"] == "dev"
    assert json.loads(response.body)["version"] == "2.0.0"


def test_stage_configuration() -> None:
    stages = CONFIG["stages"]
    assert set(stages) == {"dev", "prod"}
    assert stages["prod"]["api_gateway_stage"] == "prod"
    assert stages["dev"]["environment_variables"]["ALLOWED_ORIGINS"] == "http://localhost:3000,http://localhost:5173"
    assert (
        stages["prod"]["environment_variables"]["ALLOWED_ORIGINS"]
        == "https://zduan-job.vercel.app,http://localhost:3000"
    )
    assert stages["prod"]["environment_variables"]["STAGE"] == "prod"
    # The prod secret never lives in the committed config.
    assert "JWT_SECRET_KEY" not in stages["prod"]["environment_variables"]
    assert stages["prod"]["environment_variables"]["JWT_SECRET_SSM_PARAMETER"] == "/job-hunt-tracker/prod/jwt-secret"


# Original failure 1: the runtime the template named was not the Python that built it.
def test_the_project_python_is_a_runtime_lambda_accepts() -> None:
    pinned = (ROOT / ".python-version").read_text().strip()
    assert pinned.startswith("3.13.")
    assert sys.version_info[:2] == (3, 13), (
        "run the tests in the project's Python 3.13 venv: chalice packages the Python it runs under"
    )


# Original failure 2: == pins that stopped building on a new Python.
def test_requirements_use_ranges_not_pins() -> None:
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            spec = line.split("#", 1)[0].strip()
            assert "==" not in spec, f"{name}: {spec}"
    runtime = [line.split("#", 1)[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    names = {re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0].lower() for spec in runtime if spec}
    assert names == {"pydantic", "google-auth", "requests", "pyjwt", "tzdata", "icalendar"}
