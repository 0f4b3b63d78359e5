"""The deploy rehearsal (issues 10 and 14): `make deploy`'s own code against a local AWS, no account.

A moto server on a free loopback port (tests/moto_server.py) stands in for AWS; chalice, boto3 and
the deployed function all reach it through AWS_ENDPOINT_URL. In order, on one emulator:

1. plain `chalice deploy --stage prod` (what the design card said): the function answers, but with
   no table every sign-in is a 503 naming the table -- never a 500;
2. `make deploy`'s code (deploy/production.py), twice: what exists afterwards is checked resource
   by resource, the deployed zip is invoked as Lambda would invoke it, and the second run changes
   nothing;
3. plain `chalice deploy` (the dev stage): the deployed zip refuses to serve.

"Invoked as Lambda would": the zip chalice uploaded (the emulator's CodeSha256 proves which) is
unpacked and its handler called in `python -S -E -B` -- no site-packages, boto3 from a runtime
folder as Lambda provides it -- with the function's environment as the emulator stores it.
The only stand-in on the function's side is Google: its certs come from the local issuer, not
from googleapis.com (no network in tests); the prod stage is production in every other respect.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from bench.events import rest_v1_event
from deploy import merge_template, production
from deploy.build import CHALICE
from deploy.wheelhouse import offline_pip_env
from local_google.issuer import GoogleIssuer
from tests.conftest import PROD_CLIENT_ID, ROOT
from tests.moto_server import MotoServer
from tests.test_package_build import UNREACHABLE_INDEX, _wheelhouse

pytestmark = pytest.mark.slow

APP = "job-hunt-tracker-api"
PROD_FUNCTION = f"{APP}-prod"
DEV_FUNCTION = f"{APP}-dev"
TABLE = "job-hunt-tracker-prod"
PARAMETER = "/job-hunt-tracker/prod/jwt-secret"
ORIGIN = "https://zduan-job.vercel.app"
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())


# --- where the emulator differs from AWS for a call chalice makes: shimmed here, in moto -------


def _shim_moto(mp: pytest.MonkeyPatch) -> None:
    from moto.apigateway import models

    # 1. chalice creates and updates its REST API by importing a Swagger 2.0 document
    #    (import_rest_api, put_rest_api mode=overwrite). moto 5 refuses Swagger 2.0 and requires
    #    info.description; AWS accepts both. The parts moto reads (paths, methods and their
    #    x-amazon-apigateway-integration) are the same in both versions, so relabel the document.
    def as_openapi3(doc: dict[str, Any]) -> dict[str, Any]:
        doc = {k: v for k, v in doc.items() if k != "swagger"} | {"openapi": "3.0.1"}
        doc["info"] = {"description": "", **doc.get("info", {})}
        return doc

    import_api, put_api = models.APIGatewayBackend.import_rest_api, models.APIGatewayBackend.put_rest_api
    mp.setattr(
        models.APIGatewayBackend,
        "import_rest_api",
        lambda self, doc, fail_on_warnings: import_api(self, as_openapi3(doc), fail_on_warnings),
    )
    mp.setattr(
        models.APIGatewayBackend,
        "put_rest_api",
        lambda self, api_id, doc, fail_on_warnings, mode="merge": put_api(
            self, api_id, as_openapi3(doc), fail_on_warnings, mode
        ),
    )

    # 2. A new deployment to an existing stage (chalice makes one on every deploy) keeps the stage's
    #    settings on AWS; moto replaces the stage, dropping its throttling. Keep it, as AWS does.
    create_deployment = models.RestAPI.create_deployment

    def keep_stage(self: Any, name: str, description: str, stage_variables: Any = None) -> Any:
        stage = self.stages.get(name)
        deployment = create_deployment(self, name, description, stage_variables)
        if stage is not None:
            stage.deployment_id = deployment.id
            self.stages[name] = stage
        return deployment

    mp.setattr(models.RestAPI, "create_deployment", keep_stage)


# --- the emulator, the project and the deployed function ----------------------------------------


@dataclass
class Rehearsal:
    moto: MotoServer
    project: Path
    runtime: Path
    google: GoogleIssuer  # the local stand-in for Google Sign-In, for the prod client id
    unpacked: dict[str, Path] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return boto3.Session(region_name="us-east-1").client(service)  # type: ignore[call-overload]

    def chalice(self, *args: str) -> str:
        """Plain chalice, as a user would run it in the project."""
        run = subprocess.run(
            [str(CHALICE), *args],
            cwd=self.project,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        return run.stdout

    def deployed_zip(self, function: str) -> Path:
        """The package the emulator holds for `function`, unpacked as Lambda unpacks it into /var/task."""
        sha = self.client("lambda").get_function_configuration(FunctionName=function)["CodeSha256"]
        if sha not in self.unpacked:
            zips = [
                z
                for z in (self.project / ".chalice" / "deployments").glob("*.zip")
                if base64.b64encode(hashlib.sha256(z.read_bytes()).digest()).decode() == sha
            ]
            assert len(zips) == 1, f"no zip in .chalice/deployments is the one {function} runs ({sha})"
            target = self.project.parent / f"task-{len(self.unpacked)}"
            with zipfile.ZipFile(zips[0]) as zf:
                zf.extractall(target)
            self.unpacked[sha] = target
        return self.unpacked[sha]

    def invoke(self, function: str, *events: dict[str, Any]) -> list[dict[str, Any]]:
        """Call the deployed handler with each event in one warm container, as Lambda would."""
        config = self.client("lambda").get_function_configuration(FunctionName=function)
        module, attribute = config["Handler"].rsplit(".", 1)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            **config["Environment"]["Variables"],
            # What the Lambda runtime adds; the endpoint makes "AWS" the emulator.
            **self.moto.environ(),
            "AWS_LAMBDA_FUNCTION_NAME": function,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config["MemorySize"]),
            "LAMBDA_TASK_ROOT": "/var/task",
        }
        task = self.deployed_zip(function)
        job = {"module": module, "attribute": attribute, "events": events, "certs_url": self.google.certs_url}
        run = subprocess.run(
            [sys.executable, "-S", "-E", "-B", "-c", CHILD, str(task), str(self.runtime), json.dumps(job)],
            cwd=task,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    def fetch(self, url: str) -> tuple[int, str]:
        """deploy/production.py's GET of the deployed URL, answered by the deployed function."""
        apis = self.client("apigateway").get_rest_apis()["items"]
        host, _, path = url.removeprefix("https://").partition("/")
        stage, _, resource = path.partition("/")
        assert host.split(".")[0] in {a["id"] for a in apis} and stage == "prod", url
        (response,) = self.invoke(PROD_FUNCTION, event("GET", "/" + resource))
        return response["statusCode"], response["body"]

    def api_id(self, stage: str = "prod") -> str:
        """The REST API chalice deployed for `stage` (its own record, .chalice/deployed/<stage>.json)."""
        state = json.loads((self.project / ".chalice" / "deployed" / f"{stage}.json").read_text())
        (api,) = [r for r in state["resources"] if r["resource_type"] == "rest_api"]
        return str(api["rest_api_id"])

    def id_token(self) -> str:
        return self.google.id_token()


# The handler in a clean interpreter. argv: task dir, runtime dir, job (JSON). Prints one JSON line.
CHILD = r"""
import importlib, json, sys
task, runtime, job = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path[:] = [task, runtime, *[p for p in sys.path if p and "site-packages" not in p]]
handler = getattr(importlib.import_module(job["module"]), job["attribute"])

# Google's certs from the local issuer instead of googleapis.com (no network in tests).
from chalicelib import google_identity
fetch = google_identity._Fetcher()
google_identity.CERTS = google_identity.GoogleCerts(fetch=lambda url: fetch(job["certs_url"]))

class Context:
    function_name = "rehearsal"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:rehearsal"
    def get_remaining_time_in_millis(self):
        return 15000

token, responses = None, []
for event in job["events"]:
    for name in ("headers", "multiValueHeaders"):
        auth = event[name].get("Authorization")
        if auth is not None:
            event[name]["Authorization"] = auth.replace("{token}", str(token)) if isinstance(auth, str) else [
                a.replace("{token}", str(token)) for a in auth]
    response = handler(event, Context())
    try:
        token = json.loads(response["body"]).get("access_token") or token
    except (ValueError, AttributeError):
        pass
    responses.append(response)
print(json.dumps(responses))
"""


def event(method: str, resource: str, *, body: Any = None, token: bool = False, stage: str = "prod") -> dict[str, Any]:
    headers = {"Origin": ORIGIN}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer {token}"
    return rest_v1_event(
        method,
        resource,
        style="literal",
        headers=headers,
        body=None if body is None else json.dumps(body),
        stage=stage,
    )


def _project_copy(target: Path) -> Path:
    """What a user has after cloning: the app, .chalice's committed files, nothing deployed."""
    target.mkdir(parents=True)
    shutil.copy(ROOT / "app.py", target / "app.py")
    shutil.copy(ROOT / "requirements.txt", target / "requirements.txt")
    shutil.copytree(ROOT / "chalicelib", target / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / ".chalice", target / ".chalice", ignore=shutil.ignore_patterns("deployments", "deployed"))
    # The README's first step: put your Google OAuth client id in place of the placeholder.
    config = json.loads((target / ".chalice" / "config.json").read_text())
    config["stages"]["prod"]["environment_variables"]["GOOGLE_CLIENT_ID"] = PROD_CLIENT_ID
    (target / ".chalice" / "config.json").write_text(json.dumps(config, indent=2))
    return target


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rehearsal]:
    wheelhouse = _wheelhouse()
    work = tmp_path_factory.mktemp("rehearsal")
    runtime = work / "lambda-runtime"  # what the Lambda runtime adds to the standard library
    runtime.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for name in RUNTIME_PROVIDED:
        source = site / name if (site / name).is_dir() else site / f"{name}.py"
        (runtime / source.name).symlink_to(source, target_is_directory=source.is_dir())
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    with pytest.MonkeyPatch.context() as mp, MotoServer() as moto, GoogleIssuer(PROD_CLIENT_ID) as google:
        _shim_moto(mp)
        for name, value in {**moto.environ(), **UNREACHABLE_INDEX, **offline_pip_env(wheelhouse)}.items():
            mp.setenv(name, value)
        yield Rehearsal(moto, _project_copy(work / "project"), runtime, google)


# --- 1. plain `chalice deploy --stage prod`: no table, and a 503 that says so ---------------------


@dataclass(frozen=True)
class Deployed:
    no_secret: str  # why `make deploy` stopped before the secret existed
    plain_prod: list[dict[str, Any]]  # responses of the function plain `chalice deploy --stage prod` made
    runs: list[list[str]]  # what each `make deploy` run printed
    failures: list[str]  # why a run stopped, if one did
    states: list[dict[str, Any]]  # what existed after each run
    actions: set[str]  # the IAM actions of every AWS call deploy/production.py made
    served: list[dict[str, Any]]  # the deployed prod function: ready, sign in, create, list
    plain_dev: list[dict[str, Any]]  # the function plain `chalice deploy` made


def iam_action(operation: Any) -> str:
    """The IAM action a botocore operation needs (API Gateway's are named by HTTP method)."""
    prefix = {"monitoring": "cloudwatch"}.get(operation.service_model.endpoint_prefix)
    prefix = prefix or operation.service_model.endpoint_prefix
    if prefix == "apigateway":
        return f"apigateway:{operation.http['method']}"
    return f"{prefix}:{operation.name}"


def _state(r: Rehearsal) -> dict[str, Any]:
    function = r.client("lambda").get_function_configuration(FunctionName=PROD_FUNCTION)
    apis = r.client("apigateway").get_rest_apis()["items"]
    tables = r.client("dynamodb").list_tables()["TableNames"]
    return {"code": function["CodeSha256"], "api_ids": sorted(a["id"] for a in apis), "tables": tables}


@pytest.fixture(scope="module")
def deployed(rehearsal: Rehearsal) -> Deployed:
    r = rehearsal
    stopped: list[str] = []
    with pytest.raises(production.DeployError) as no_secret:
        production.Deployment(r.project, "prod", fetch=r.fetch, out=stopped.append).run()
    assert stopped[-1] == "[2/6] JWT secret"  # stopped there: nothing created yet
    secret = base64.urlsafe_b64encode(os.urandom(36)).decode()
    r.client("ssm").put_parameter(Name=PARAMETER, Value=secret, Type="SecureString")  # the README's step

    r.chalice("deploy", "--stage", "prod")
    plain_prod = r.invoke(
        PROD_FUNCTION,
        event("GET", "/health"),
        event("POST", "/auth/google", body={"credential": r.id_token()}),
        event("GET", "/health/ready"),
    )

    runs, failures, states, actions = [], [], [], set()
    session = boto3.Session(region_name="us-east-1")
    session.events.register("before-call", lambda model, **_: actions.add(iam_action(model)))
    for _ in range(2):
        lines: list[str] = []
        try:
            production.Deployment(r.project, "prod", fetch=r.fetch, out=lines.append, session=session).run()
        except production.DeployError as exc:  # recorded: the tests below say what is missing
            failures.append(str(exc))
        runs.append(lines)
        states.append(_state(r))

    served = r.invoke(
        PROD_FUNCTION,
        event("GET", "/health/ready"),
        event("POST", "/auth/google", body={"credential": r.id_token()}),
        event("POST", "/api/applications", body={"company": "Acme", "role": "Backend Engineer"}, token=True),
        event("GET", "/api/applications", token=True),
    )

    r.chalice("deploy")  # no --stage: chalice's default, the dev stage
    plain_dev = r.invoke(
        DEV_FUNCTION,
        event("GET", "/health", stage="api"),
        event("GET", "/health/ready", stage="api"),
        event("POST", "/auth/google", body={"credential": r.id_token()}, stage="api"),
        event("GET", "/api/applications", token=True, stage="api"),
    )
    return Deployed(str(no_secret.value), plain_prod, runs, failures, states, actions, served, plain_dev)


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def test_make_deploy_without_the_secret_says_how_to_create_it(deployed: Deployed) -> None:
    assert deployed.no_secret.startswith(f"SSM parameter {PARAMETER!r} does not exist")
    assert f"aws ssm put-parameter --region us-east-1 --name {PARAMETER} --type SecureString" in deployed.no_secret


def test_plain_chalice_deploy_without_the_table_answers_503_naming_it(deployed: Deployed) -> None:
    health, sign_in, ready = deployed.plain_prod
    assert health["statusCode"] == 200  # liveness: configuration only
    assert sign_in["statusCode"] == 503, sign_in
    assert sign_in["headers"]["Retry-After"] == "5"
    assert body(sign_in)["error"] == "storage_unavailable"
    assert f"DynamoDB table {TABLE!r} does not exist" in body(sign_in)["message"]
    assert "run `make deploy`" in body(sign_in)["message"]
    assert ready["statusCode"] == 503
    assert f"DynamoDB table {TABLE!r} does not exist" in body(ready)["checks"]["storage"]
    assert body(ready)["checks"]["secret"] == "ok"


# --- 2. `make deploy`: what exists afterwards ----------------------------------------------------


def test_make_deploy_runs_its_six_steps_and_ends_ready(deployed: Deployed) -> None:
    assert deployed.failures == []
    first = deployed.runs[0]
    assert [line.split("]")[0] + "]" for line in first if line.startswith("[")] == [f"[{n}/6]" for n in range(1, 7)]
    assert first[-1].startswith("Ready: https://") and first[-1].endswith(".execute-api.us-east-1.amazonaws.com/prod/")
    for check in ("configuration", "secret", "storage", "google_certs"):
        assert f"      {check}: ok" in first


def test_the_function_is_configured_as_the_stage_says(rehearsal: Rehearsal, deployed: Deployed) -> None:
    lam = rehearsal.client("lambda")
    function = lam.get_function_configuration(FunctionName=PROD_FUNCTION)
    prod = CONFIG["stages"]["prod"]
    assert function["Runtime"] == "python3.13"
    assert function["Handler"] == "app.app"
    assert function["MemorySize"] == CONFIG["lambda_memory_size"] == 512
    assert function["Timeout"] == CONFIG["lambda_timeout"] == 15
    expected_env = {**prod["environment_variables"], "GOOGLE_CLIENT_ID": PROD_CLIENT_ID}
    assert function["Environment"]["Variables"] == expected_env
    concurrency = lam.get_function_concurrency(FunctionName=PROD_FUNCTION)
    assert concurrency["ReservedConcurrentExecutions"] == prod["reserved_concurrency"] == 20
    iam = rehearsal.client("iam")
    role = function["Role"].rsplit("/", 1)[1]
    (policy_name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    assert document == json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())


def test_make_deploy_creates_the_hourly_reminder_function_and_its_schedule(
    rehearsal: Rehearsal, deployed: Deployed
) -> None:
    lam = rehearsal.client("lambda")
    name = f"{PROD_FUNCTION}-send_reminders"
    function = lam.get_function_configuration(FunctionName=name)
    assert (function["Handler"], function["Timeout"]) == ("app.send_reminders", 300)
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 1
    events = rehearsal.client("events")
    rules = events.list_rules()["Rules"]
    matching = [r for r in rules if r["Name"] == f"{name}-event"]  # chalice's name for the rule
    assert len(matching) == 1, [r["Name"] for r in rules]
    rule = matching[0]
    assert (rule["ScheduleExpression"], rule["State"]) == ("rate(1 hour)", "ENABLED")
    targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert [t["Arn"] for t in targets] == [function["FunctionArn"]]
    iam = rehearsal.client("iam")
    role = function["Role"].rsplit("/", 1)[1]
    (policy_name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    assert document == json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())


def test_every_method_including_options_reaches_the_function(rehearsal: Rehearsal, deployed: Deployed) -> None:
    apigw = rehearsal.client("apigateway")
    api = {"id": rehearsal.api_id()}
    function_arn = rehearsal.client("lambda").get_function_configuration(FunctionName=PROD_FUNCTION)["FunctionArn"]
    import app as app_module

    methods = {}
    for resource in apigw.get_resources(restApiId=api["id"], embed=["methods"])["items"]:
        for method in resource.get("resourceMethods", {}):
            integration = apigw.get_integration(restApiId=api["id"], resourceId=resource["id"], httpMethod=method)
            methods[(resource["path"], method)] = integration
    expected = {(path, m) for path, route in app_module.app.routes.items() for m in route}
    assert set(methods) == expected
    assert ("/api/applications", "OPTIONS") in methods
    for key, integration in methods.items():
        assert integration["type"].upper() == "AWS_PROXY", key  # chalice writes aws_proxy; AWS shows it uppercase
        assert function_arn in integration["uri"], key


def test_the_stage_is_throttled_and_gateway_errors_carry_cors(rehearsal: Rehearsal, deployed: Deployed) -> None:
    apigw = rehearsal.client("apigateway")
    api = {"id": rehearsal.api_id()}
    stages = apigw.get_stages(restApiId=api["id"])["item"]
    assert [s["stageName"] for s in stages] == ["prod"]
    settings = stages[0]["methodSettings"].get("*/*", {})
    assert (settings.get("throttlingRateLimit"), settings.get("throttlingBurstLimit")) == (25.0, 50)
    for kind in merge_template.GATEWAY_ERRORS:
        response = apigw.get_gateway_response(restApiId=api["id"], responseType=kind)
        headers = response["responseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{ORIGIN}'", kind
        assert headers["gatewayresponse.header.Access-Control-Allow-Credentials"] == "'true'", kind
        assert headers["gatewayresponse.header.Vary"] == "'Origin'", kind
        body = json.loads(response["responseTemplates"]["application/json"])  # our error shape, issue 15
        assert set(body) == {"error", "message", "detail"}, kind
    unknown_route = apigw.get_gateway_response(restApiId=api["id"], responseType="MISSING_AUTHENTICATION_TOKEN")
    assert unknown_route["statusCode"] == "404"
    assert json.loads(unknown_route["responseTemplates"]["application/json"])["error"] == "not_found"


def test_alarms_notify_the_topic(rehearsal: Rehearsal, deployed: Deployed) -> None:
    topics = [t["TopicArn"] for t in rehearsal.client("sns").list_topics()["Topics"]]
    found = [t for t in topics if t.endswith(f":{APP}-prod-alarms")]
    assert len(found) == 1, topics
    topic = found[0]
    alarms = rehearsal.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{APP}-prod-")["MetricAlarms"]
    assert {(a["Namespace"], a["MetricName"]) for a in alarms} == {
        ("AWS/ApiGateway", "5XXError"),
        ("AWS/ApiGateway", "Latency"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
    }
    for alarm in alarms:
        assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic], alarm["AlarmName"]
        dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        if alarm["Namespace"] == "AWS/Lambda":
            assert dimensions == {"FunctionName": PROD_FUNCTION}
        else:
            assert dimensions == {"ApiName": APP, "Stage": "prod"}


def test_the_table_has_the_template_paths_properties(rehearsal: Rehearsal, deployed: Deployed) -> None:
    ddb = rehearsal.client("dynamodb")
    table = ddb.describe_table(TableName=TABLE)["Table"]
    template = json.loads((ROOT / ".chalice" / "merge-template-prod.json").read_text())
    props = template["Resources"]["TrackerTable"]["Properties"]
    assert table["KeySchema"] == props["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(props["AttributeDefinitions"], key=str)
    assert table["BillingModeSummary"]["BillingMode"] == props["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["Status"] == "ENABLED"
    ttl = ddb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    backups = ddb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_logs_are_kept_30_days_in_the_group_the_function_writes_to(rehearsal: Rehearsal, deployed: Deployed) -> None:
    groups = rehearsal.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]
    retention = {g["logGroupName"]: g.get("retentionInDays") for g in groups}
    assert retention.get(f"/aws/lambda/{PROD_FUNCTION}") == 30, retention
    assert f"/aws/lambda/{PROD_FUNCTION}-api_handler" not in retention  # chalice's name for it, never written


def test_the_deployed_zip_serves_a_signed_in_user(deployed: Deployed) -> None:
    ready, sign_in, created, listed = deployed.served
    assert ready["statusCode"] == 200, ready
    assert body(ready)["checks"] == {"configuration": "ok", "secret": "ok", "storage": "ok", "google_certs": "ok"}
    assert sign_in["statusCode"] == 200, sign_in
    assert created["statusCode"] == 201, created
    assert created["headers"]["Location"].startswith("/prod/api/applications/")
    assert listed["statusCode"] == 200, listed
    assert [a["company"] for a in body(listed)["items"]] == ["Acme"]
    assert listed["headers"]["Access-Control-Allow-Origin"] == ORIGIN


def test_a_second_make_deploy_changes_nothing(deployed: Deployed) -> None:
    second = deployed.runs[1]
    outcomes = [line.rsplit(": ", 1)[1] for line in second if line.startswith("      ") and ": " in line]
    changed = [line for line in second if line.startswith("      ") and line.endswith((": created", ": updated"))]
    # 4 table properties, throttling, the gateway responses, the topic, 4 alarms, the log group
    expected = 4 + 1 + len(merge_template.GATEWAY_ERRORS) + 1 + 4 + 1
    assert changed == [] and outcomes.count("already right") == expected, second
    assert deployed.states[1] == deployed.states[0]  # same code, same API, same table


def test_the_deployer_policy_grants_every_call_make_deploy_makes(deployed: Deployed) -> None:
    policy = json.loads((ROOT / "deploy" / "deployer-policy.json").read_text())
    granted = {a for statement in policy["Statement"] for a in statement["Action"]}
    assert {"dynamodb:CreateTable", "logs:PutRetentionPolicy", "cloudwatch:PutMetricAlarm"} <= deployed.actions
    assert deployed.actions - granted == set()


# --- 3. plain `chalice deploy`: the dev stage refuses to serve ---------------------------------


def test_plain_chalice_deploy_puts_a_dev_stage_online_that_refuses_to_serve(deployed: Deployed) -> None:
    for response in deployed.plain_dev:
        assert response["statusCode"] == 503, response
        payload = body(response)
        assert payload["error"] == "misconfigured"
        assert payload["message"].startswith("the dev stage is for `chalice local`; deploy with `make deploy`")
        assert "access_token" not in response["body"] and "items" not in response["body"]


def test_settings_with_the_committed_placeholder_stop_make_deploy_at_step_one(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copytree(ROOT / ".chalice", project / ".chalice", ignore=shutil.ignore_patterns("deployments", "deployed"))
    lines: list[str] = []
    with pytest.raises(production.DeployError) as failed:
        production.Deployment(project, "prod", out=lines.append, environ={}).run()
    assert lines == ["[1/6] settings of stage prod (.chalice/config.json)"]
    assert "GOOGLE_CLIENT_ID: is still the placeholder" in str(failed.value)
