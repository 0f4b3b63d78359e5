"""The real prod package, built offline the way `make package` builds it, proven before any deploy.

`python -m deploy.build package` (the code `make package` runs) builds a temporary copy of the
project with its dependencies from .wheelhouse/ (`make wheelhouse`) and the package index made
unreachable. Then the deployment zip, unpacked, is imported by a clean interpreter that sees only
the standard library, the package and boto3/botocore (which the Lambda runtime provides), and
answers API Gateway events: the check that would have caught the original app's missing
`requests` and `email-validator`. The template is checked and linted, the size is held under
Lambda's limits, and the precompiled bytecode is shown to be used. Sizes and the cold-import gain
are printed in the "deployment package" section at the end of the pytest run.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import py_compile
import secrets
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deploy.build import chalice_config
from deploy.bytecode import CACHE_TAG, UNCHECKED_HASH_FLAGS, problems, pyc_name
from deploy.wheelhouse import DEFAULT_DIR as WHEELHOUSE
from deploy.wheelhouse import staleness
from local_google.issuer import SigningKey
from tests.conftest import PROD_CLIENT_ID, ROOT, rest_event
from tests.dynamodb_local import dynamodb_local_required
from tests.test_package import REFUSED

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
MB = 2**20
ZIPPED_LIMIT = 50 * MB  # Lambda: a zip uploaded directly (chalice deploy)
UNZIPPED_LIMIT = 250 * MB  # Lambda: the function's code unpacked (262,144,000 bytes), layers included
# What the Lambda Python runtime brings besides the standard library: the AWS SDK and its dependencies.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
APP_CODE = {"app.py", "chalicelib", "chalice"}
ORIGIN = "http://localhost:3000"
GOOGLE_CERTS = "https://www.googleapis.com/oauth2/v1/certs"
TIMING_RUNS = 7
# Nothing may reach a package index: an offline build that is not offline fails here.
UNREACHABLE_INDEX = {
    "PIP_CONFIG_FILE": os.devnull,  # the machine's pip.conf (extra indexes, find-links) is not read
    "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
    "PIP_EXTRA_INDEX_URL": "http://127.0.0.1:9/extra",
    "PIP_RETRIES": "0",
    "PIP_DEFAULT_TIMEOUT": "2",
}

# The clean interpreter: `python -S -E -B`, so no site-packages, no PYTHON* variables, no .pyc
# written. argv: package dir, runtime dir, job (JSON). Prints one JSON line.
CHILD = r"""
import json, logging, os, sys, time, traceback, warnings  # what AWS's bootstrap imports before the handler

package, runtime, job = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
inside = package.rstrip("/") + "/"
stdlib = [p for p in sys.path if p and "site-packages" not in p]
sys.path[:] = [package, runtime, *stdlib]

import importlib.machinery
compiled = []  # modules Python compiled from source: none may come from the package when it has bytecode
_compile = importlib.machinery.SourceFileLoader.source_to_code
def _spy(self, data, path, *args, **kwargs):
    compiled.append(path)
    return _compile(self, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = _spy

started = time.perf_counter()
import app
import chalicelib.google_identity
import_ms = (time.perf_counter() - started) * 1000
out = {"import_ms": import_ms, "sys_path": sys.path}

if job["mode"] == "serve":
    class Context:
        function_name = "job-hunt-tracker-api-prod"
        memory_limit_in_mb = 512
        aws_request_id = "00000000-0000-0000-0000-000000000000"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:job-hunt-tracker-api-prod"
        def get_remaining_time_in_millis(self):
            return 15000
    out["responses"] = {name: app.app(event, Context()) for name, event in job["events"].items()}
    # The sign-in path, offline: Google's certs come from the job instead of googleapis.com.
    from chalicelib import google_identity
    certs = google_identity.GoogleCerts(fetch=lambda url: (job["certs"], 3600))
    claims = google_identity.verify_id_token(
        job["id_token"], client_ids=[job["client_id"]], certs_urls=[job["certs_url"]],
        clock_skew_seconds=10, certs=certs)
    out["signed_in_sub"] = claims["sub"]
    import chalicelib.store.dynamodb  # the prod store: boto3 from the runtime, nothing called

mods = [m for m in list(sys.modules.values()) if getattr(m, "__file__", None)]
out["loaded"] = {m.__name__: m.__file__ for m in mods}
out["cached_missing"] = [m.__name__ for m in mods
                         if m.__file__.startswith(inside) and m.__file__.endswith(".py")
                         and not os.path.isfile(getattr(m, "__cached__", None) or "")]
out["compiled"] = [p for p in compiled if p.startswith(inside)]
print(json.dumps(out))
"""


class _Report:
    """Prints what the build measured in a section of pytest's final summary (CI logs show it)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.lines:
            terminalreporter.write_sep("-", "deployment package")
            for line in self.lines:
                terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def report(request: pytest.FixtureRequest) -> list[str]:
    plugin = _Report()
    request.config.pluginmanager.register(plugin, "deployment-package-report")
    return plugin.lines


def _wheelhouse() -> Path:
    architecture = chalice_config(ROOT, "prod").lambda_architecture
    why_not = staleness(WHEELHOUSE, ROOT / "requirements.txt", architecture)
    if why_not is not None:
        message = f"{why_not}: run `make wheelhouse` so the package builds offline"
        if dynamodb_local_required():
            pytest.fail(f"{message} (CI runs every test: .ci/run must run `make wheelhouse` before the tests)")
        pytest.skip(message)
    return WHEELHOUSE


def _project_copy(target: Path) -> Path:
    """The files chalice packages, with the stale bytecode a developer's tree has."""
    target.mkdir(parents=True)
    shutil.copy(ROOT / "app.py", target / "app.py")
    shutil.copy(ROOT / "requirements.txt", target / "requirements.txt")
    shutil.copytree(ROOT / "chalicelib", target / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / ".chalice", target / ".chalice", ignore=shutil.ignore_patterns("deployments", "deployed"))
    cache = target / "chalicelib" / "__pycache__"
    py_compile.compile(str(target / "chalicelib" / "cors.py"), cfile=str(cache / f"cors.{CACHE_TAG}.pyc"))
    (cache / "cors.cpython-311.pyc").write_bytes(b"another Python's bytecode")
    return target


def _pycs(tree: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes()[:16] for p in tree.rglob("*.pyc")}


def _merge_template(project: Path) -> Path:
    """The merge template `make package` passes: deploy/merge_template.py's output where that module
    exists (it derives more from the config), else the hand-written one."""
    if importlib.util.find_spec("deploy.merge_template") is None:
        return project / ".chalice" / "merge-template-prod.json"
    generated = project.parent / "merge-template-prod.json"
    module = importlib.import_module("deploy.merge_template")
    generated.write_text(json.dumps(module.build("prod", environ={}, root=project)))
    return generated


def _build(project: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    wheelhouse = ["--wheelhouse", env["PIP_FIND_LINKS"]] if "PIP_FIND_LINKS" in env else ["--no-wheelhouse"]
    command = [sys.executable, "-m", "deploy.build", "--project-dir", str(project), *wheelhouse, "--stage", "prod"]
    return subprocess.run(
        [*command, "package", "--merge-template", str(_merge_template(project)), str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@dataclass(frozen=True)
class Built:
    work: Path
    out: Path  # chalice package's output: sam.json and deployment.zip
    output: str  # what the build printed
    seconds: float
    pycs_before: dict[Path, bytes]  # .pyc headers in the project copy before and after the build
    pycs_after: dict[Path, bytes]

    @property
    def zip(self) -> Path:
        return self.out / "deployment.zip"


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Built:
    wheelhouse = _wheelhouse()
    work = tmp_path_factory.mktemp("package-build")
    project = _project_copy(work / "project")
    before = _pycs(project)
    env = {
        **os.environ,
        **UNREACHABLE_INDEX,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    started = time.monotonic()
    run = _build(project, work / "out", env)
    assert run.returncode == 0, run.stdout + run.stderr
    return Built(work, work / "out", run.stdout, time.monotonic() - started, before, _pycs(project))


@pytest.fixture(scope="module")
def template(build: Built) -> dict[str, Any]:
    return json.loads((build.out / "sam.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def unpacked(build: Built) -> Path:
    target = build.work / "task"  # what Lambda unpacks into /var/task
    with zipfile.ZipFile(build.zip) as zf:
        zf.extractall(target)
    return target


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the Lambda runtime adds to the standard library: boto3 and its dependencies (the venv's)."""
    target = tmp_path_factory.mktemp("lambda-runtime")
    site = Path(sysconfig.get_paths()["purelib"])
    for name in RUNTIME_PROVIDED:
        source = site / name if (site / name).is_dir() else site / f"{name}.py"
        assert source.exists(), source
        (target / source.name).symlink_to(source, target_is_directory=source.is_dir())
    return target


def _lambda_env() -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        **config["stages"]["prod"]["environment_variables"],
        "GOOGLE_CLIENT_ID": PROD_CLIENT_ID,
        # Set even where prod names JWT_SECRET_SSM_PARAMETER: the variable takes precedence.
        "JWT_SECRET_KEY": secrets.token_urlsafe(36),  # 48 url-safe characters
        "DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens: these routes must not need the store
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nor any other AWS service (SSM): never reach AWS from a test
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": "job-hunt-tracker-api-prod",
        "LAMBDA_TASK_ROOT": "/var/task",
    }


def _clean_python(package: Path, runtime: Path, job: dict[str, Any], cwd: Path) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, "-S", "-E", "-B", "-c", CHILD, str(package), str(runtime), json.dumps(job)],
        cwd=cwd,
        env=_lambda_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _serve_job() -> dict[str, Any]:
    key = SigningKey()
    now = int(time.time())
    id_token = key.sign(
        {
            "iss": "https://accounts.google.com",
            "aud": PROD_CLIENT_ID,
            "sub": "109876543210987654321",
            "email": "jane.doe@example.com",
            "email_verified": True,
            "iat": now,
            "exp": now + 600,
        }
    )
    return {
        "mode": "serve",
        "events": {
            "health": rest_event("GET", "/health", headers={"Origin": ORIGIN}),
            "user_without_token": rest_event("GET", "/api/user", headers={"Origin": ORIGIN}),
            "preflight": rest_event(
                "OPTIONS",
                "/api/user",
                headers={
                    "Origin": ORIGIN,
                    "Access-Control-Request-Method": "GET",
                    "Access-Control-Request-Headers": "authorization",
                },
            ),
        },
        "certs": {key.kid: key.cert_pem},
        "certs_url": GOOGLE_CERTS,
        "client_id": PROD_CLIENT_ID,
        "id_token": id_token,
    }


def _inside(path: str, roots: list[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


# --- the build ------------------------------------------------------------------------------------


def test_the_build_is_offline_and_ships_the_prebuilt_zip_with_bytecode(build: Built) -> None:
    output = build.output
    assert "(offline)" in output
    # chalice package reused the zip deploy/build.py prebuilt: `chalice deploy` takes the same path.
    assert "Reusing existing deployment package." in output
    assert "deployment.zip: the prebuilt package, bytecode already complete" in output
    assert "dropped 2 stale bytecode files" in output  # the copy's timestamp and cpython-311 .pyc


def test_the_working_tree_gets_no_bytecode_from_the_build(build: Built) -> None:
    # Chalice imports app.py; with PYTHONDONTWRITEBYTECODE nothing is written (the files are part
    # of chalice's cache key), and no unchecked-hash .pyc -- which would hide later edits -- appears.
    assert build.pycs_after == build.pycs_before
    assert all(int.from_bytes(h[4:8], "little") != UNCHECKED_HASH_FLAGS for h in build.pycs_after.values())


def test_every_module_has_unchecked_hash_bytecode_for_this_python_and_nothing_else(build: Built) -> None:
    with zipfile.ZipFile(build.zip) as zf:
        assert problems(zf) == []
        names = set(zf.namelist())
    sources = {n for n in names if n.endswith(".py")}
    assert {"app.py", "chalice/app.py", "chalicelib/settings.py", "pydantic/main.py"} <= sources
    assert all(pyc_name(s) in names for s in sources)
    bytecode = {n for n in names if n.endswith(".pyc")}
    assert all(n.endswith(f".{CACHE_TAG}.pyc") and "/__pycache__/" in f"/{n}" for n in bytecode)
    assert "chalicelib/__pycache__/cors.cpython-311.pyc" not in names


def test_the_template_runs_the_building_python_on_the_prod_stage(template: dict[str, Any]) -> None:
    function = template["Resources"]["APIHandler"]["Properties"]
    assert function["Runtime"] == f"python{sys.version_info.major}.{sys.version_info.minor}" == "python3.13"
    assert function["Runtime"] not in REFUSED
    assert function["CodeUri"] == "./deployment.zip"
    api = template["Resources"]["RestAPI"]["Properties"]
    assert api["StageName"] == "prod"
    for path, methods in api["DefinitionBody"]["paths"].items():
        assert "options" in methods, path
        assert methods["options"]["x-amazon-apigateway-integration"]["type"] == "aws_proxy", path


def test_cfn_lint_passes(build: Built) -> None:
    run = subprocess.run(
        [str(BIN / "cfn-lint"), str(build.out / "sam.json")], capture_output=True, text=True, timeout=300
    )
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")


def test_the_package_fits_lambdas_limits(build: Built, unpacked: Path, report: list[str]) -> None:
    zipped = build.zip.stat().st_size
    sizes: dict[str, int] = {}
    for path in unpacked.rglob("*"):
        if path.is_file():
            top = path.relative_to(unpacked).parts[0]
            sizes[top] = sizes.get(top, 0) + path.stat().st_size
    total = sum(sizes.values())
    deps = sorted(((s, n) for n, s in sizes.items() if n not in APP_CODE and ".dist-info" not in n), reverse=True)
    report.append(
        f"deployment.zip: {zipped / MB:.1f} MiB zipped (limit 50), {total / MB:.1f} MiB unpacked (limit 250), "
        f"{sum(1 for p in unpacked.rglob('*') if p.is_file())} files; built offline in {build.seconds:.0f} s"
    )
    report.append("largest dependencies, unpacked with bytecode:")
    report.extend(f"  {size / MB:6.2f} MiB  {name}" for size, name in deps[:10])
    assert zipped < ZIPPED_LIMIT
    assert total < UNZIPPED_LIMIT


# --- the package, imported and served by a clean interpreter --------------------------------------


def test_a_clean_interpreter_serves_the_prod_routes_from_the_package(unpacked: Path, runtime_dir: Path) -> None:
    result = _clean_python(unpacked, runtime_dir, _serve_job(), cwd=unpacked)
    responses = result["responses"]

    assert responses["health"]["statusCode"] == 200, responses["health"]
    health = json.loads(responses["health"]["body"])
    assert (health["status"], health["stage"]) == ("healthy", "prod")

    assert responses["user_without_token"]["statusCode"] == 401, responses["user_without_token"]
    assert responses["user_without_token"]["headers"]["WWW-Authenticate"].startswith("Bearer")

    preflight = responses["preflight"]
    assert preflight["statusCode"] == 204, preflight
    headers = preflight["headers"]
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert {"GET", "DELETE"} <= {m.strip() for m in headers["Access-Control-Allow-Methods"].split(",")}
    assert "authorization" in headers["Access-Control-Allow-Headers"].lower()
    assert "Origin" in headers["Vary"]

    # Sign-in's verification ran: google-auth, requests and cryptography's native code from the package.
    assert result["signed_in_sub"] == "109876543210987654321"


def test_every_module_comes_from_the_package_the_stdlib_or_the_runtimes_boto3(
    unpacked: Path, runtime_dir: Path
) -> None:
    result = _clean_python(unpacked, runtime_dir, _serve_job(), cwd=unpacked)
    package, runtime = str(unpacked), str(runtime_dir)
    stdlib = [p for p in result["sys_path"] if p not in (package, runtime)]
    assert not any("site-packages" in p for p in stdlib), stdlib
    loaded: dict[str, str] = result["loaded"]
    outside = {name: f for name, f in loaded.items() if not _inside(f, [package, runtime, *stdlib])}
    assert outside == {}
    from_runtime = {name.split(".")[0] for name, f in loaded.items() if _inside(f, [runtime])}
    assert from_runtime <= set(RUNTIME_PROVIDED) - {"urllib3"}, from_runtime  # requests' urllib3 is packaged
    for name in ("app", "chalice", "chalicelib.google_identity", "requests", "google.auth.crypt", "pydantic_core"):
        assert _inside(loaded[name], [package]), (name, loaded[name])
    assert _inside(loaded["boto3"], [runtime])


# --- bytecode -----------------------------------------------------------------------------------


def test_the_bytecode_is_used_and_cold_imports_are_faster(
    unpacked: Path, runtime_dir: Path, build: Built, report: list[str]
) -> None:
    bare = build.work / "task-without-bytecode"
    shutil.copytree(unpacked, bare, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    job = {"mode": "time"}
    with_pyc: list[float] = []
    without: list[float] = []
    for run in range(TIMING_RUNS + 1):  # interleaved; the first pair warms the page cache
        fast = _clean_python(unpacked, runtime_dir, job, cwd=unpacked)
        slow = _clean_python(bare, runtime_dir, job, cwd=bare)
        # With bytecode nothing from the package is compiled; without, every module it loads is.
        assert fast["compiled"] == [] and fast["cached_missing"] == [], fast["compiled"][:5]
        package_modules = {f for f in slow["loaded"].values() if _inside(f, [str(bare)]) and f.endswith(".py")}
        assert len(package_modules) > 100 and package_modules <= set(slow["compiled"])
        if run:
            with_pyc.append(fast["import_ms"])
            without.append(slow["import_ms"])
    fast_ms, slow_ms = statistics.median(with_pyc), statistics.median(without)
    report.append(
        f"cold import of app + chalicelib.google_identity, median of {TIMING_RUNS} clean interpreters: "
        f"{fast_ms:.0f} ms with bytecode, {slow_ms:.0f} ms without ({slow_ms / fast_ms:.1f}x, "
        f"{slow_ms - fast_ms:.0f} ms saved per cold start; {len(package_modules)} modules from the package)"
    )
    assert not any((bare / "chalicelib").rglob("*.pyc"))  # -B: the no-bytecode runs stayed without


# --- offline means offline --------------------------------------------------------------------------


def test_without_the_wheelhouse_the_same_build_needs_the_index(tmp_path: Path) -> None:
    """The control: the environment reaches chalice's pip, so the build above really was offline."""
    _wheelhouse()
    project = _project_copy(tmp_path / "project")
    env = {**os.environ, **UNREACHABLE_INDEX, "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("PIP_FIND_LINKS", None)
    env.pop("PIP_NO_INDEX", None)
    run = _build(project, tmp_path / "out", env)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "the dependencies could not be downloaded" in run.stderr
    assert not (tmp_path / "out" / "deployment.zip").exists()
