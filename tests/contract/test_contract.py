"""The contract as a frontend developer meets it: clients generated from /openapi.json.

- openapi-typescript (default options) turns the document into types, and `tsc --strict` must
  accept usage.ts (minimal create and patch bodies, a list page, stats, an error switched on its
  code, with `@ts-expect-error` lines that must stay errors) and reject must-fail.ts (a misspelled
  sign-in field).
- Redocly CLI lints the document with its recommended rules: zero errors.
- openapi-python-client generates a Python client without a warning; `mypy --strict` accepts
  client_flow.py against it, and the flow runs against `chalice local`.

The node tools come from scripts/install-contract-tools.sh (package-lock.json pins them). Without
them these tests skip locally and fail on CI, like DynamoDB Local's.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import app as app_module
from chalicelib import openapi
from local_google.issuer import GoogleIssuer
from tests.chalice_local import LocalServer, dev_stage_server
from tests.dynamodb_local import dynamodb_local_required

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
BIN = HERE / "node_modules" / ".bin"
GENERATED = HERE / "generated"  # git-ignored: what openapi-typescript writes
TSC = ("--strict", "--noEmit", "--target", "ES2022", "--module", "ES2022", "--moduleResolution", "bundler")
PACKAGE = "job_hunt_tracker_client"
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        message = f"{path} is missing: run `bash scripts/install-contract-tools.sh`"
        if dynamodb_local_required():  # the same rule: on CI, fail instead of skipping
            pytest.fail(f"{message}. CI must run the contract tests.", pytrace=False)
        pytest.skip(message)
    return path


def run(command: list[str], cwd: Path = HERE, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def document() -> dict[str, Any]:
    return openapi.document(app_module.app.routes)


@pytest.fixture(scope="module")
def document_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("contract") / "openapi.json"
    path.write_text(json.dumps(document(), indent=2))
    return path


@pytest.fixture(scope="module")
def typescript_types(document_file: Path) -> Path:
    GENERATED.mkdir(exist_ok=True)
    out = GENERATED / "api.d.ts"
    generated = run([str(tool("openapi-typescript")), str(document_file), "--output", str(out)])
    assert generated.returncode == 0, generated.stdout + generated.stderr
    return out


def test_the_typescript_usage_compiles_under_strict(typescript_types: Path) -> None:
    compiled = run([str(tool("tsc")), *TSC, "usage.ts"])
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


def test_a_misspelled_sign_in_field_does_not_compile(typescript_types: Path) -> None:
    compiled = run([str(tool("tsc")), *TSC, "must-fail.ts"])
    assert compiled.returncode != 0
    errors = [line for line in compiled.stdout.splitlines() if "error TS" in line]
    assert len(errors) == 1 and errors[0].startswith("must-fail.ts(7,"), compiled.stdout
    assert "'credentail' does not exist" in errors[0], errors


def test_redocly_finds_no_error(document_file: Path) -> None:
    linted = run([str(tool("redocly")), "lint", "--format", "json", str(document_file)])
    report = json.loads(linted.stdout[linted.stdout.index("{") :])
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert errors == [], json.dumps(errors, indent=2)
    assert linted.returncode == 0, linted.stderr
    warnings = {p["ruleId"] for p in report["problems"]}
    assert warnings <= {"info-license"}, report["problems"]  # no licence to name: the only warning


@pytest.fixture(scope="module")
def python_client(document_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated client's parent folder (for sys.path / MYPYPATH)."""
    root = tmp_path_factory.mktemp("python-client")
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}  # its ruff post-hook
    generated = run(
        [
            str(VENV_BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(document_file),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(HERE / "python-client.yaml"),
        ],
        cwd=root,
        env=env,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout + generated.stderr, generated.stdout + generated.stderr
    return root


def test_the_python_flow_type_checks_against_the_generated_client(python_client: Path) -> None:
    checked = run(
        [
            str(VENV_BIN / "mypy"),
            "--strict",
            "--follow-imports=silent",
            "--no-incremental",
            str(HERE / "client_flow.py"),
        ],
        cwd=python_client,
        env={**os.environ, "MYPYPATH": str(python_client)},
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.fixture(scope="module")
def server(issuer: GoogleIssuer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    work = tmp_path_factory.mktemp("contract-server")
    stage = {"GOOGLE_CERTS_URL": issuer.certs_url, "SQLITE_PATH": str(work / "contract.db")}
    with dev_stage_server(work, stage) as running:
        yield running


def test_the_generated_python_client_drives_the_whole_flow(
    python_client: Path, server: LocalServer, issuer: GoogleIssuer
) -> None:
    served = requests.get(f"{server.url}/openapi.json", timeout=10)
    assert served.json() == document()  # the client was generated from what this server serves
    sys.path.insert(0, str(python_client))
    try:
        # Imported by name: mypy checks client_flow.py against the generated client, above, not here.
        flow = importlib.import_module("tests.contract.client_flow").flow
        steps = flow(server.url, issuer.id_token(sub="contract-1", email="contract@example.com"))
    finally:
        sys.path.remove(str(python_client))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]
    assert steps == [
        "health",
        "signed in as contract@example.com",
        "created",
        "listed",
        "patched",
        "412",
        "stats",
        "deleted",
    ]


def test_chalice_local_answers_an_unknown_route_itself(server: LocalServer) -> None:
    """Pinned, not fixed: `chalice local` imitates API Gateway's own 403 for a path it has no route
    for, in its shape and echoing the Authorization header, before the app is called. Deployed,
    API Gateway answers MISSING_AUTHENTICATION_TOKEN with the gateway response deploy/merge_template.py
    sets up (404, our error shape, no echo). If chalice changes this, this test says so."""
    response = requests.get(f"{server.url}/no/such/route", headers={"Authorization": "Bearer abc.def"}, timeout=10)
    assert response.status_code == 403
    assert "error" not in response.json() and "Bearer abc.def" in response.text


def test_the_contract_tools_are_pinned() -> None:
    lock = json.loads((HERE / "package-lock.json").read_text())
    wanted = json.loads((HERE / "package.json").read_text())["devDependencies"]
    installed = {name: lock["packages"][f"node_modules/{name}"]["version"] for name in wanted}
    majors = {name: int(version.split(".")[0]) for name, version in installed.items()}
    assert majors == {"@redocly/cli": 2, "openapi-typescript": 7, "typescript": 5}, installed
