"""`chalice package --stage prod`, offline: the template the first deploy would create.

The dependencies are left out (an empty requirements.txt, so nothing is downloaded); the
template -- runtime, stage, integrations, environment -- does not depend on them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

# Runtimes Lambda refuses to create or update (AWS's deprecation schedule, as cfn-lint's E2533 knows it).
REFUSED = {f"python3.{minor}" for minor in range(0, 12)} | {"python2.7"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("package")
    project = work / "project"
    project.mkdir()
    shutil.copy(ROOT / "app.py", project / "app.py")
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    (project / ".chalice").mkdir()
    shutil.copy(ROOT / ".chalice" / "config.json", project / ".chalice" / "config.json")
    shutil.copy(ROOT / ".chalice" / "policy-prod.json", project / ".chalice" / "policy-prod.json")
    (project / "requirements.txt").write_text("")
    chalice = Path(sys.executable).parent / "chalice"
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    run = subprocess.run(
        [str(chalice), "package", "--stage", "prod", str(work / "out")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads((work / "out" / "sam.json").read_text())  # type: ignore[no-any-return]


def test_runtime_is_the_building_python_and_one_lambda_accepts(template: dict[str, Any]) -> None:
    runtime = template["Resources"]["APIHandler"]["Properties"]["Runtime"]
    assert runtime == f"python{sys.version_info.major}.{sys.version_info.minor}" == "python3.13"
    assert runtime not in REFUSED


def test_stage_is_prod(template: dict[str, Any]) -> None:
    assert template["Resources"]["RestAPI"]["Properties"]["StageName"] == "prod"


def test_every_path_has_an_options_that_reaches_the_function(template: dict[str, Any]) -> None:
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    assert set(paths) == {
        "/health",
        "/health/ready",
        "/auth/google",
        "/auth/logout",
        "/api/user",
        "/api/applications",
        "/api/applications/stats",
        "/api/applications/{app_id}",
        "/api/applications/{app_id}/interviews",
        "/api/applications/{app_id}/interviews/{interview_id}",
        "/api/interviews",
        "/api/export",
        "/api/import",
        "/api/calendar",
        "/calendar/{feed}",
        "/docs",
        "/docs/{asset}",
        "/openapi.json",
        "/reminders/unsubscribe/{token}",
    }
    for path, methods in paths.items():
        assert "options" in methods, path
        for method, spec in methods.items():
            integration = spec["x-amazon-apigateway-integration"]
            assert integration["type"] == "aws_proxy", (path, method, integration["type"])  # never a MOCK preflight


def test_prod_environment_carries_no_secret(template: dict[str, Any]) -> None:
    variables = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["STAGE"] == "prod"
    assert variables["ALLOWED_ORIGINS"] == "https://zduan-job.vercel.app,http://localhost:3000"
    assert "JWT_SECRET_KEY" not in variables
