"""What the deployed function imports: only what requirements.txt brings, and nothing a route doesn't need.

Original failures 6 and 8: `requests` and `email-validator` were imported at run time but never
packaged, so the function died at import. Here a fresh interpreter serves every route through the
Lambda handler and every third-party module it loaded must come from a distribution that
requirements.txt installs (directly or as a dependency), from chalice (which packages its own
runtime) or from boto3/botocore (which Lambda provides).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import metadata

from chalice.test import Client

import app as app_module
from local_google.issuer import GoogleIssuer
from tests.conftest import ALLOWED, CLIENT_ID, ROOT, LambdaContext, StageEnv, rest_event

CHILD = r"""
import json, sys
from bench.events import rest_v1_event  # stdlib only; loaded before the baseline below
baseline = {m.split(".")[0] for m in sys.modules}  # what site's .pth files (and the line above) loaded
import app

def event(method, path, headers=None, body=None):
    return rest_v1_event(method, path, style="literal", headers=headers, body=body, stage="api")

def loaded():
    # Third-party modules, and sqlite3: a stdlib module a route may still not need.
    names = {m.split(".")[0] for m in sys.modules} - (set(sys.stdlib_module_names) - {"sqlite3"}) - baseline
    # Extension modules that register odd top-level names have no file; what has one is judged.
    return {n: getattr(sys.modules.get(n), "__file__", None) for n in sorted(names)}

report = {"import": loaded()}
statuses = {}
for name, ev in json.loads(sys.argv[1]).items():
    statuses[name] = app.app(event(*ev), None)["statusCode"]
    report[name] = loaded()
token = json.loads(app.app(event("POST", "/auth/google", {"Content-Type": "application/json"},
                                 json.dumps({"credential": sys.argv[2]})), None)["body"])["access_token"]
statuses["user"] = app.app(event("GET", "/api/user", {"Authorization": "Bearer " + token}), None)["statusCode"]
report["signed_in"] = loaded()
made = app.app(event("POST", "/api/calendar", {"Authorization": "Bearer " + token}), None)
feed = json.loads(made["body"])["url"].rsplit("/", 1)[1]
feed_event = rest_v1_event("GET", "/calendar/{feed}", style="literal", params={"feed": feed}, stage="api")
statuses["feed"] = app.app(feed_event, None)["statusCode"]
report["feed"] = loaded()
print(json.dumps({"statuses": statuses, "modules": report}))
"""


def _requirement_closure() -> set[str]:
    """Distribution names requirements.txt installs, with everything they depend on."""
    wanted = [
        re.split(r"[<>=!~\[ ;]", line.split("#")[0].strip(), maxsplit=1)[0]
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    seen: set[str] = set()
    while wanted:
        name = wanted.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        for req in metadata.requires(name) or []:
            if "extra ==" not in req:
                wanted.append(re.split(r"[<>=!~\[ ;(]", req, maxsplit=1)[0])
    return seen


def _run_child(issuer: GoogleIssuer) -> dict:  # type: ignore[type-arg]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "STAGE": "dev",
        "GOOGLE_CLIENT_ID": CLIENT_ID,
        "JWT_SECRET_KEY": "a-test-secret-that-is-long-enough-0123456789",
        "GOOGLE_CERTS_URL": issuer.certs_url,
        "ALLOWED_ORIGINS": "http://localhost:3000",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    requests = {
        "health": ["GET", "/health"],
        "anonymous_user": ["GET", "/api/user"],
        "preflight": ["OPTIONS", "/api/user", {"Origin": "http://localhost:3000"}],
    }
    run = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(ROOT)!r})\n" + CHILD,
            json.dumps(requests),
            issuer.id_token(),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_every_module_the_function_loads_is_packaged(issuer: GoogleIssuer) -> None:
    result = _run_child(issuer)
    assert result["statuses"] == {"health": 200, "anonymous_user": 401, "preflight": 204, "user": 200, "feed": 200}
    providers = metadata.packages_distributions()
    allowed = _requirement_closure() | {"chalice", "boto3", "botocore"}
    assert "icalendar" not in result["modules"]["signed_in"] and "icalendar" in result["modules"]["feed"]
    for top, where in result["modules"]["feed"].items():  # everything loaded by then, the feed's icalendar too
        if top in ("app", "chalicelib") or where is None or "site-packages" not in where:
            continue
        dists = {d.lower().replace("_", "-") for d in providers.get(top, [])}
        assert dists & allowed, (
            f"{top} (from {dists or 'nowhere'}) is imported at run time but requirements.txt does not bring it"
        )


def test_health_and_the_user_route_do_not_load_sign_in_machinery(issuer: GoogleIssuer) -> None:
    modules = _run_child(issuer)["modules"]
    for stage in ("import", "health", "anonymous_user", "preflight"):
        loaded = set(modules[stage])
        assert not {"google", "requests", "urllib3", "cryptography", "jwt", "boto3", "sqlite3"} & loaded, (
            stage,
            loaded,
        )
    assert {"google", "requests", "cryptography", "sqlite3", "jwt"} <= set(modules["signed_in"])


def test_the_test_client_and_a_raw_event_get_the_same_answer(client: Client, stage_env: StageEnv) -> None:
    """The REST proxy events these tests build (here and in CHILD) reach the app as the test client's
    requests do: the same status, body and headers for the same request."""
    stage_env("dev")
    for method, path in (("GET", "/health"), ("GET", "/api/user"), ("OPTIONS", "/api/applications")):
        via_client = getattr(client.http, method.lower())(path, headers={"Origin": ALLOWED})
        via_event = app_module.app(rest_event(method, path, stage="api", headers={"Origin": ALLOWED}), LambdaContext())
        assert via_event["statusCode"] == via_client.status_code, path
        assert via_event["headers"] == via_client.headers, path
        if path != "/health":  # its timestamp differs by a few milliseconds
            assert via_event["body"].encode() == via_client.body, path
