"""One command for production: what `make deploy` runs, in order, idempotently.

    python -m deploy.production [--stage prod] [--project-dir .] [--wheelhouse DIR | --no-wheelhouse]
                                [-- more chalice deploy options, e.g. --profile NAME]

[1/6] settings  the stage's settings are valid (else exit 1, listing each problem)
[2/6] secret    the JWT secret's SSM parameter exists (else exit 1 with the put-parameter line)
[3/6] table     the DynamoDB table exists with the template path's properties: on-demand,
                point-in-time recovery, encryption, TTL (created or corrected)
[4/6] deploy    `chalice deploy --stage prod`, shipping the prebuilt zip with bytecode (deploy/build.py)
[5/6] post      what chalice cannot configure: stage throttling, GatewayResponses (our error shape, CORS), the
                SNS topic and alarms, retention on the log group the function really writes to
[6/6] ready     GET <url>/health/ready, and each check's result

Steps 3 and 5 apply the resources deploy/merge_template.py declares for the template path (one
description, two ways to apply it), and each says "created", "updated" or "already right": a
second run changes nothing that is already right. deploy/deployer-policy.json grants these calls.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy import merge_template

ROOT = Path(__file__).resolve().parent.parent
STEPS = 6
GENERATE_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"

# GET url -> (status, body); the rehearsal passes one that invokes the deployed zip as Lambda would.
Fetch = Callable[[str], tuple[int, str]]


class DeployError(Exception):
    """A step failed; the message says what to do."""


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (the URL chalice deployed)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@dataclass
class Deployment:
    project_dir: Path
    stage: str
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    chalice_args: Sequence[str] = ()
    fetch: Fetch = http_get
    session: Any = None
    out: Callable[[str], None] = print

    def __post_init__(self) -> None:
        self.config = json.loads((self.project_dir / ".chalice" / "config.json").read_text())
        self.stage_config = self.config["stages"][self.stage]
        self.app_name: str = self.config["app_name"]
        self.api_stage: str = self.stage_config.get("api_gateway_stage", "api")
        self.template: dict[str, Any] = {}
        self.variables: dict[str, str] = {}

    # -- helpers ---------------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        if self.session is None:
            import boto3

            self.session = boto3.Session()
            if self.session.region_name is None:
                raise DeployError("no AWS region: set AWS_DEFAULT_REGION (or pass --profile with a region)")
        return self.session.client(service)

    @property
    def region(self) -> str:
        self.client("sts")  # creates the session, and checks the region is set
        return str(self.session.region_name)

    def step(self, number: int, title: str) -> None:
        self.out(f"[{number}/{STEPS}] {title}")

    def say(self, what: str, outcome: str) -> None:
        self.out(f"      {what}: {outcome}")

    def resource(self, logical_id: str) -> dict[str, Any]:
        return self.template["Resources"][logical_id]["Properties"]  # type: ignore[no-any-return]

    # -- the steps -------------------------------------------------------------------------------

    def run(self) -> str:
        """Every step; the deployed API's URL."""
        self.check_settings()
        self.check_secret()
        self.ensure_table()
        deployed = self.chalice_deploy()
        self.post_deploy(deployed)
        return self.check_ready(deployed["rest_api_url"])

    def check_settings(self) -> None:
        from chalicelib import settings

        self.step(1, f"settings of stage {self.stage} (.chalice/config.json)")
        self.variables = settings.stage_environment(str(self.project_dir), self.stage)
        problems = list(settings.parse(self.variables).problems)
        try:
            self.template = merge_template.build(self.stage, self.environ, root=self.project_dir)
        except SystemExit as exc:  # a build setting (API_THROTTLE_RATE, LOG_RETENTION_DAYS, ...) is invalid
            problems.append(str(exc))
        if problems:
            raise DeployError(
                f"{len(problems)} problem(s) in stage {self.stage}'s settings:\n"
                + "\n".join(f"  - {p}" for p in problems)
            )
        self.say("settings", "ok")

    def check_secret(self) -> None:
        self.step(2, "JWT secret")
        name = self.variables.get("JWT_SECRET_SSM_PARAMETER")
        if not name:
            self.say("secret", "JWT_SECRET_KEY in the stage's environment (no SSM parameter to check)")
            return
        from botocore.exceptions import ClientError

        try:
            self.client("ssm").get_parameter(Name=name)  # no decryption: only whether it exists
        except ClientError as err:
            if err.response["Error"]["Code"] != "ParameterNotFound":
                raise
            raise DeployError(
                f"SSM parameter {name!r} does not exist. Create it once (the value never leaves your machine):\n"
                f"  aws ssm put-parameter --region {self.region} --name {name} --type SecureString "
                f'--value "$({GENERATE_SECRET})"'
            ) from None
        self.say(f"parameter {name}", "exists")

    def ensure_table(self) -> None:
        self.step(3, "DynamoDB table")
        props = self.resource("TrackerTable")
        name = props["TableName"]
        if self.variables.get("DYNAMODB_TABLE", name) != name:
            raise DeployError(
                f"DYNAMODB_TABLE is {self.variables['DYNAMODB_TABLE']!r} but the template's table is {name!r}"
            )
        ddb = self.client("dynamodb")
        from botocore.exceptions import ClientError

        try:
            table = ddb.describe_table(TableName=name)["Table"]
        except ClientError as err:
            if err.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            ddb.create_table(
                TableName=name,
                AttributeDefinitions=props["AttributeDefinitions"],
                KeySchema=props["KeySchema"],
                BillingMode=props["BillingMode"],
                SSESpecification={"Enabled": props["SSESpecification"]["SSEEnabled"]},
                DeletionProtectionEnabled=True,  # the template path's DeletionPolicy: Retain
            )
            ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 60})
            self.say(f"table {name}", "created")
            table = ddb.describe_table(TableName=name)["Table"]
        else:
            self.say(f"table {name}", "exists")
        if table["KeySchema"] != props["KeySchema"]:
            raise DeployError(f"table {name} has key schema {table['KeySchema']}, not {props['KeySchema']}")
        right = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED") == props["BillingMode"]
        if not right:
            ddb.update_table(TableName=name, BillingMode=props["BillingMode"])
        self.say(f"billing mode {props['BillingMode']}", _outcome(right))
        right = table.get("SSEDescription", {}).get("Status") in ("ENABLED", "ENABLING", "UPDATING")
        if not right:
            ddb.update_table(TableName=name, SSESpecification={"Enabled": True, "SSEType": "KMS"})
        self.say("encryption (KMS)", _outcome(right))
        ttl_spec = props["TimeToLiveSpecification"]
        ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        right = (
            ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
            and ttl.get("AttributeName") == ttl_spec["AttributeName"]
        )
        if not right:
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl_spec)
        self.say(f"TTL on {ttl_spec['AttributeName']}", _outcome(right))
        backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        right = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") == "ENABLED"
        if not right:
            ddb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        self.say("point-in-time recovery", _outcome(right))

    def chalice_deploy(self) -> dict[str, str]:
        from deploy import build

        self.step(4, f"chalice deploy --stage {self.stage} (with bytecode)")
        rc = build.deploy(self.project_dir, self.stage, list(self.chalice_args))
        if rc != 0:
            raise DeployError(f"chalice deploy failed (exit {rc}); see above")
        state = json.loads((self.project_dir / ".chalice" / "deployed" / f"{self.stage}.json").read_text())
        found = {r["name"]: r for r in state["resources"]}
        function_arn = found["api_handler"]["lambda_arn"]
        return {
            "function_name": function_arn.rsplit(":", 1)[1],
            "rest_api_id": found["rest_api"]["rest_api_id"],
            "rest_api_url": found["rest_api"]["rest_api_url"],
        }

    def post_deploy(self, deployed: Mapping[str, str]) -> None:
        self.step(5, "what chalice cannot configure")
        self.stage_throttling(deployed["rest_api_id"])
        self.gateway_responses(deployed["rest_api_id"])
        topic_arn = self.alarm_topic()
        self.alarms(topic_arn, deployed["function_name"])
        self.log_retention(deployed["function_name"])

    def stage_throttling(self, rest_api_id: str) -> None:
        (wanted,) = self.resource("RestAPI")["MethodSettings"]
        rate, burst = wanted["ThrottlingRateLimit"], wanted["ThrottlingBurstLimit"]
        apigw = self.client("apigateway")
        stage = apigw.get_stage(restApiId=rest_api_id, stageName=self.api_stage)
        current = stage.get("methodSettings", {}).get("*/*", {})
        right = current.get("throttlingRateLimit") == float(rate) and current.get("throttlingBurstLimit") == burst
        if not right:
            apigw.update_stage(
                restApiId=rest_api_id,
                stageName=self.api_stage,
                patchOperations=[
                    {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(rate)},
                    {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(burst)},
                ],
            )
        self.say(f"throttling of stage {self.api_stage} ({rate}/s, burst {burst})", _outcome(right))

    def gateway_responses(self, rest_api_id: str) -> None:
        apigw = self.client("apigateway")
        wanted = self.resource("RestAPI").get("GatewayResponses", {})
        changed = False
        for kind, spec in sorted(wanted.items()):
            headers = spec.get("ResponseParameters", {}).get("Headers", {})
            # Our error shape (merge_template.gateway_responses): the body, the status if it is set, CORS.
            put: dict[str, Any] = {
                "responseParameters": {f"gatewayresponse.header.{k}": v for k, v in headers.items()},
                "responseTemplates": dict(spec.get("ResponseTemplates", {})),
            }
            if "StatusCode" in spec:
                put["statusCode"] = spec["StatusCode"]
            try:
                current = apigw.get_gateway_response(restApiId=rest_api_id, responseType=kind)
            except apigw.exceptions.NotFoundException:  # AWS describes defaults; emulators may not
                current = {}
            right = all(current.get(name) == value for name, value in put.items())
            if not right:
                apigw.put_gateway_response(restApiId=rest_api_id, responseType=kind, **put)
                changed = True
            self.say(f"gateway response {kind}", _outcome(right))
        if changed:  # gateway responses reach the stage with a deployment
            apigw.create_deployment(
                restApiId=rest_api_id, stageName=self.api_stage, description="deploy/production.py: gateway responses"
            )

    def alarm_topic(self) -> str:
        sns = self.client("sns")
        name = f"{self.app_name}-{self.stage}-alarms"
        display = self.resource("AlarmTopic")["DisplayName"]
        # Looked up by its ARN, not by listing topics (sns:ListTopics cannot be scoped to this app).
        account = self.client("sts").get_caller_identity()["Account"]
        arn = f"arn:aws:sns:{self.region}:{account}:{name}"
        try:
            attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        except sns.exceptions.NotFoundException:
            arn = sns.create_topic(Name=name, Attributes={"DisplayName": display})["TopicArn"]
            self.say(f"SNS topic {name}", "created (subscribe to it: see the README)")
            return str(arn)
        right = attributes.get("DisplayName") == display
        if not right:
            sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue=display)
        self.say(f"SNS topic {name}", _outcome(right))
        return str(arn)

    def alarms(self, topic_arn: str, function_name: str) -> None:
        cloudwatch = self.client("cloudwatch")
        refs = {"AlarmTopic": topic_arn, "APIHandler": function_name}

        def resolve(value: Any) -> Any:
            if isinstance(value, dict) and set(value) == {"Ref"}:
                return refs[value["Ref"]]
            if isinstance(value, dict):
                return {k: resolve(v) for k, v in value.items()}
            if isinstance(value, list):
                return [resolve(v) for v in value]
            return value

        for logical_id, resource in sorted(self.template["Resources"].items()):
            if resource.get("Type") != "AWS::CloudWatch::Alarm":
                continue
            wanted = resolve(resource["Properties"])
            name = f"{self.app_name}-{self.stage}-{logical_id}"
            found = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
            right = bool(found) and all(_same(found[0].get(key), value) for key, value in wanted.items())
            if not right:
                cloudwatch.put_metric_alarm(AlarmName=name, **wanted)
            self.say(f"alarm {name}", _outcome(right, created=not found))

    def log_retention(self, function_name: str) -> None:
        logs = self.client("logs")
        group = f"/aws/lambda/{function_name}"  # the group the function writes to (not chalice's *-api_handler)
        days = self.resource("ApiHandlerLogGroup")["RetentionInDays"]
        found = [
            g for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] if g["logGroupName"] == group
        ]
        if not found:
            logs.create_log_group(logGroupName=group)
        right = bool(found) and found[0].get("retentionInDays") == days
        if not right:
            logs.put_retention_policy(logGroupName=group, retentionInDays=days)
        self.say(f"log group {group} ({days} days)", _outcome(right, created=not found))

    def check_ready(self, url: str) -> str:
        ready_url = url.rstrip("/") + "/health/ready"
        self.step(6, f"GET {ready_url}")
        status, text = 0, ""
        for attempt in range(3):  # a function deployed seconds ago can take a moment to answer
            if attempt:
                time.sleep(2)
            status, text = self.fetch(ready_url)
            if status == 200:
                break
        try:
            body = json.loads(text)
        except ValueError:
            body = {}
        for name, outcome in (body.get("checks") or {}).items():
            self.say(name, outcome)
        if status != 200:
            raise DeployError(f"{ready_url} answered {status}: {text[:500]}")
        self.out(f"Ready: {url}")
        return url


def _outcome(right: bool, *, created: bool = False) -> str:
    return "already right" if right else "created" if created else "updated"


def _same(current: Any, wanted: Any) -> bool:
    """Whether what CloudWatch describes equals what the template asks for (numbers as floats)."""
    if isinstance(wanted, (int, float)) and not isinstance(wanted, bool):
        return isinstance(current, (int, float)) and float(current) == float(wanted)
    if isinstance(wanted, list) and isinstance(current, list):
        key = (lambda d: json.dumps(d, sort_keys=True)) if wanted and isinstance(wanted[0], dict) else str
        return sorted(map(key, current)) == sorted(map(key, wanted))
    return bool(current == wanted)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.production", description=__doc__.split("\n\n")[0])
    parser.add_argument("--project-dir", type=Path, default=ROOT)
    parser.add_argument("--stage", default="prod")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--wheelhouse", type=Path, help="build offline from this wheelhouse, or fail")
    where.add_argument("--no-wheelhouse", action="store_true", help="download the dependencies from the package index")
    parser.add_argument("chalice_args", nargs=argparse.REMAINDER, help="more chalice deploy options, after --")
    args = parser.parse_args(argv)

    from deploy.build import BuildError, chalice_config, use_wheelhouse
    from deploy.bytecode import BytecodeError
    from deploy.wheelhouse import DEFAULT_DIR

    project_dir = args.project_dir.resolve()
    started = time.monotonic()
    try:
        use_wheelhouse(
            None if args.no_wheelhouse else args.wheelhouse or DEFAULT_DIR,
            project_dir / "requirements.txt",
            chalice_config(project_dir, args.stage).lambda_architecture,
            required=args.wheelhouse is not None,
        )
        Deployment(project_dir, args.stage, chalice_args=[a for a in args.chalice_args if a != "--"]).run()
    except (DeployError, BuildError, BytecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Done in {time.monotonic() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
