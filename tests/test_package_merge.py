"""`chalice package --stage prod` with the merge template deploy/merge_template.py derives, offline.

The merge template adds the DynamoDB table and hands its name to the function, CORS headers on
the errors API Gateway answers itself, stage throttling and alarms; the role's policy is
.chalice/policy-prod.json, least privilege. cfn-lint checks the result.
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

from chalicelib import errors, schemas
from chalicelib.store.dynamodb import DEFAULT_TABLE, TTL_ATTRIBUTE, table_definition
from deploy import merge_template
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

CHALICE_DIR = ROOT / ".chalice"
BIN = Path(sys.executable).parent
TABLE_ARN = f"arn:aws:dynamodb:*:*:table/{DEFAULT_TABLE}"


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("package-merge")
    project = work / "project"
    project.mkdir()
    shutil.copy(ROOT / "app.py", project / "app.py")
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(CHALICE_DIR, project / ".chalice", ignore=shutil.ignore_patterns("deployments", "deployed"))
    (project / "requirements.txt").write_text("")  # nothing to download; the template does not depend on it
    merge = work / "merge-template-prod.json"
    merge.write_text(json.dumps(merge_template.build("prod", environ={})))
    run = subprocess.run(
        [str(BIN / "chalice"), "package", "--stage", "prod", "--merge-template", str(merge), str(work / "out")],
        cwd=project,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return work / "out"


@pytest.fixture(scope="module")
def template(out_dir: Path) -> dict[str, Any]:
    return json.loads((out_dir / "sam.json").read_text())  # type: ignore[no-any-return]


def _tables(template: dict[str, Any]) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"}


def test_the_table_is_the_one_the_store_creates(template: dict[str, Any]) -> None:
    ((logical_id, table),) = _tables(template).items()
    props = table["Properties"]
    expected = table_definition(DEFAULT_TABLE)
    assert props["TableName"] == DEFAULT_TABLE
    assert props["BillingMode"] == "PAY_PER_REQUEST" == expected["BillingMode"]
    assert props["KeySchema"] == expected["KeySchema"]
    assert props["AttributeDefinitions"] == expected["AttributeDefinitions"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    # Deleting or replacing the stack must never take the data with it.
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert "ProvisionedThroughput" not in props and "GlobalSecondaryIndexes" not in props, logical_id


def test_the_function_gets_the_tables_name_from_the_template(template: dict[str, Any]) -> None:
    (logical_id,) = _tables(template)
    variables = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["DYNAMODB_TABLE"] == {"Ref": logical_id}
    assert variables["STORE"] == "dynamodb"
    assert variables["STAGE"] == "prod"  # the stage's other variables survive the merge


def test_the_role_has_exactly_the_policy_file(template: dict[str, Any]) -> None:
    config = json.loads((CHALICE_DIR / "config.json").read_text())["stages"]["prod"]
    assert (config["autogen_policy"], config["iam_policy_file"]) == (False, "policy-prod.json")
    assert config["environment_variables"]["DYNAMODB_TABLE"] == DEFAULT_TABLE
    policy = json.loads((CHALICE_DIR / config["iam_policy_file"]).read_text())
    roles = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    # one role per function (the API's and the hourly send_reminders'), each with exactly the file
    assert len(roles) == 2
    assert [p["PolicyDocument"] for role in roles for p in role["Properties"]["Policies"]] == [policy, policy]
    for statement in policy["Statement"]:
        actions = statement["Action"]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert statement["Effect"] == "Allow" and "*" not in actions
        if any(a.startswith("dynamodb:") for a in actions):
            assert all(a.startswith("dynamodb:") for a in actions)
            assert resources == [TABLE_ARN]  # never "*", no index ARN: the table has no index
        elif actions == ["ssm:GetParameter"]:  # the JWT secret, that one parameter only
            assert resources == [
                f"arn:aws:ssm:*:*:parameter{config['environment_variables']['JWT_SECRET_SSM_PARAMETER']}"
            ]
        elif actions == ["kms:Decrypt"]:  # only as SSM decrypts that parameter for us
            assert resources == ["arn:aws:kms:*:*:key/*"]
            assert statement["Condition"]["StringLike"]["kms:ViaService"] == "ssm.*.amazonaws.com"
            assert statement["Condition"]["StringLike"]["kms:EncryptionContext:PARAMETER_ARN"].endswith(
                config["environment_variables"]["JWT_SECRET_SSM_PARAMETER"]
            )
        elif actions == ["ses:SendEmail"]:  # reminder e-mails, from the stage's sender identity only
            sender = config["environment_variables"]["REMINDERS_FROM_EMAIL"]
            identities = (sender, sender.rsplit("@", 1)[1])
            assert resources == [f"arn:aws:ses:*:*:identity/{identity}" for identity in identities]
        else:
            assert sorted(actions) == ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
            assert resources == ["arn:aws:logs:*:*:*"]


def _cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "cfn-lint"), str(path)], capture_output=True, text=True, timeout=300)


def test_cfn_lint_passes_on_the_template(out_dir: Path) -> None:
    run = _cfn_lint(out_dir / "sam.json")
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")


def test_every_action_in_the_policy_is_a_real_iam_action(tmp_path: Path) -> None:
    # cfn-lint skips its IAM action check (W3037) on SAM templates, so lint the policy in a plain one.
    policy = json.loads((CHALICE_DIR / "policy-prod.json").read_text())
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
        ],
    }
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": trust, "Policies": [{"PolicyName": "p", "PolicyDocument": policy}]},
    }
    plain = tmp_path / "role.json"
    plain.write_text(json.dumps({"Resources": {"Role": role}}))
    run = _cfn_lint(plain)
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    # ... and the check is live: an action that does not exist is reported.
    policy["Statement"][0]["Action"].append("dynamodb:TransactWriteItems")
    plain.write_text(json.dumps({"Resources": {"Role": role}}))
    assert "W3037" in _cfn_lint(plain).stdout


def _prod() -> dict[str, Any]:
    return json.loads((CHALICE_DIR / "config.json").read_text())["stages"]["prod"]  # type: ignore[no-any-return]


def test_gateway_errors_carry_cors_headers_for_the_prod_frontend(template: dict[str, Any]) -> None:
    api = template["Resources"]["RestAPI"]["Properties"]
    first_https = _prod()["environment_variables"]["ALLOWED_ORIGINS"].split(",")[0]
    assert first_https == "https://zduan-job.vercel.app"  # derived from the config, not copied by hand:
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        headers = api["GatewayResponses"][kind]["ResponseParameters"]["Headers"]
        assert headers == {
            "Access-Control-Allow-Origin": f"'{first_https}'",
            "Access-Control-Allow-Credentials": "'true'",
            "Access-Control-Expose-Headers": "'ETag, Location, Retry-After, WWW-Authenticate'",
            "Vary": "'Origin'",
        }


def test_gateway_errors_answer_in_our_error_shape_without_echoing_the_request(template: dict[str, Any]) -> None:
    responses = template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    assert {"MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    for kind, response in responses.items():
        text = response["ResponseTemplates"]["application/json"]
        assert "$" not in text, (kind, text)  # nothing from the request or $context (e.g. the Authorization header)
        parsed = schemas.ErrorBody.model_validate_json(text, strict=True)
        assert parsed.error in errors.ErrorCode and parsed.message and parsed.detail == parsed.message, kind
    unknown_route = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert unknown_route["StatusCode"] == "404"
    assert json.loads(unknown_route["ResponseTemplates"]["application/json"])["error"] == "not_found"
    assert "StatusCode" not in responses["DEFAULT_4XX"]  # the status API Gateway chose
    no_origin = merge_template.gateway_responses(None)
    assert set(no_origin) == set(responses) and all("ResponseParameters" not in r for r in no_origin.values())


def test_the_gateway_origin_follows_the_configuration() -> None:
    assert (
        merge_template.gateway_origin("http://localhost:3000, https://a.example/,https://b.example")
        == "https://a.example"
    )
    assert merge_template.gateway_origin('["https://x-*.vercel.app", "https://x.vercel.app"]') == "https://x.vercel.app"
    assert merge_template.gateway_origin("http://localhost:3000") is None


def test_stage_throttling_from_build_settings() -> None:
    default = merge_template.build("prod", environ={})["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    assert default == [{"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": 25, "ThrottlingBurstLimit": 50}]
    custom = merge_template.build("prod", environ={"API_THROTTLE_RATE": "5", "API_THROTTLE_BURST": "9"})
    settings = custom["Resources"]["RestAPI"]["Properties"]["MethodSettings"][0]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (5, 9)
    with pytest.raises(SystemExit, match="API_THROTTLE_RATE must be a positive whole number"):
        merge_template.build("prod", environ={"API_THROTTLE_RATE": "fast"})


def test_alarms_watch_the_api_stage_and_the_function(template: dict[str, Any]) -> None:
    alarms = {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    api_dims = [{"Name": "ApiName", "Value": "job-hunt-tracker-api"}, {"Name": "Stage", "Value": "prod"}]
    assert template["Resources"]["RestAPI"]["Properties"]["Name"] == "job-hunt-tracker-api"
    found = {(a["Namespace"], a["MetricName"], a.get("ExtendedStatistic", a.get("Statistic"))) for a in alarms.values()}
    assert found == {
        ("AWS/ApiGateway", "5XXError", "Sum"),
        ("AWS/ApiGateway", "Latency", "p99"),
        ("AWS/Lambda", "Errors", "Sum"),
        ("AWS/Lambda", "Throttles", "Sum"),
    }
    for alarm in alarms.values():
        expected = (
            api_dims
            if alarm["Namespace"] == "AWS/ApiGateway"
            else [{"Name": "FunctionName", "Value": {"Ref": "APIHandler"}}]
        )
        assert alarm["Dimensions"] == expected
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert template["Resources"]["AlarmTopic"]["Type"] == "AWS::SNS::Topic"


def test_prod_reserves_concurrency_and_keeps_logs_30_days(template: dict[str, Any]) -> None:
    function = template["Resources"]["APIHandler"]["Properties"]
    assert function["ReservedConcurrentExecutions"] == _prod()["reserved_concurrency"] == 20
    groups = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Logs::LogGroup"]
    default_days, _ = merge_template.BUILD_SETTINGS["LOG_RETENTION_DAYS"]
    assert [g["RetentionInDays"] for g in groups] == [default_days] == [30]
    # The function's own log group: not chalice's log_retention_in_days, which names another group.
    assert [g["LogGroupName"] for g in groups] == [{"Fn::Sub": "/aws/lambda/${APIHandler}"}]
    assert "log_retention_in_days" not in _prod()


def _translated(template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The template as CloudFormation's SAM transform expands it (aws-sam-translator, offline)."""
    from samtranslator.translator.transform import transform  # type: ignore[import-untyped]

    class NoManagedPolicies:  # the function's role is chalice's own: no managed policy to look up
        def load(self) -> dict[str, str]:
            return {}

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    copy = json.loads(json.dumps(template))
    for resource in copy["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":  # the API's and send_reminders
            resource["Properties"]["CodeUri"] = "s3://artifacts/deployment.zip"  # as `aws cloudformation package` does
    return transform(copy, {}, NoManagedPolicies())  # type: ignore[no-any-return]


def _stage_names(expanded: dict[str, Any]) -> set[str]:
    resources = expanded["Resources"].values()
    stages = {r["Properties"]["StageName"] for r in resources if r["Type"] == "AWS::ApiGateway::Stage"}
    # A Deployment with a StageName creates that stage too (SAM's default "Stage").
    return stages | {
        r["Properties"]["StageName"]
        for r in resources
        if r["Type"] == "AWS::ApiGateway::Deployment" and "StageName" in r["Properties"]
    }


def test_the_sam_transform_makes_one_stage_prod_with_the_throttling(
    template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    expanded = _translated(template, monkeypatch)
    assert _stage_names(expanded) == {"prod"}
    [stage] = [r for r in expanded["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert stage["Properties"]["MethodSettings"] == [
        {"HttpMethod": "*", "ResourcePath": "/*", "ThrottlingBurstLimit": 50, "ThrottlingRateLimit": 25}
    ]
    # Without OpenApiVersion, SAM adds a second stage named "Stage", outside throttling and alarms.
    without = json.loads(json.dumps(template))
    del without["Resources"]["RestAPI"]["Properties"]["OpenApiVersion"]
    assert _stage_names(_translated(without, monkeypatch)) == {"prod", "Stage"}


@pytest.mark.filterwarnings("ignore:Tried to parse AWS.* not supported by moto")
def test_the_template_path_creates_its_stack_in_the_emulator(
    template: dict[str, Any], out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The expanded template as a CloudFormation stack in moto, as far as moto's CloudFormation goes:
    it has no AWS::ApiGateway::Stage or AWS::CloudWatch::Alarm (the SAM expansion test above checks
    those), and ignores a table's TTL, PITR and SSE (test_the_table_is_the_one_the_store_creates)."""
    import boto3
    from moto import mock_aws
    from moto.apigateway import models as apigateway

    import app as app_module

    # Shim: moto's CloudFormation creates a RestApi without importing its Body (AWS imports it).
    create_api = apigateway.RestAPI.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def with_body(cls: Any, /, name: str, resource: dict[str, Any], account_id: str, region: str, **kw: Any) -> Any:
        api = create_api(cls, name, resource, account_id, region, **kw)
        body = {k: v for k, v in resource["Properties"]["Body"].items() if k != "swagger"}
        body["openapi"], body["info"] = "3.0.1", {"description": "", **body["info"]}  # moto reads OpenAPI 3 only
        apigateway.apigateway_backends[account_id][region].put_rest_api(api.id, body, False, "overwrite")
        return api

    monkeypatch.setattr(apigateway.RestAPI, "create_from_cloudformation_json", classmethod(with_body))
    expanded = _translated(template, monkeypatch)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="artifacts")
        s3.upload_file(str(out_dir / "deployment.zip"), "artifacts", "deployment.zip")
        cloudformation = boto3.client("cloudformation", region_name="us-east-1")
        cloudformation.create_stack(
            StackName="job-hunt-tracker-prod", TemplateBody=json.dumps(expanded), Capabilities=["CAPABILITY_IAM"]
        )
        (stack,) = cloudformation.describe_stacks(StackName="job-hunt-tracker-prod")["Stacks"]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        created = {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cloudformation.describe_stack_resources(StackName="job-hunt-tracker-prod")["StackResources"]
            if "LogicalResourceId" in r and "PhysicalResourceId" in r
        }
        function = created["APIHandler"]
        lam = boto3.client("lambda", region_name="us-east-1")
        config = lam.get_function_configuration(FunctionName=function)
        assert config["Runtime"] == "python3.13"
        assert config["Environment"]["Variables"]["DYNAMODB_TABLE"] == created["TrackerTable"] == DEFAULT_TABLE
        assert lam.get_function_concurrency(FunctionName=function)["ReservedConcurrentExecutions"] == 20
        groups = boto3.client("logs", region_name="us-east-1").describe_log_groups()["logGroups"]
        # Retention on the group the function writes to, whatever CloudFormation names the function.
        assert {g["logGroupName"]: g.get("retentionInDays") for g in groups} == {f"/aws/lambda/{function}": 30}
        apigw = boto3.client("apigateway", region_name="us-east-1")
        methods = {
            (r["path"], m)
            for r in apigw.get_resources(restApiId=created["RestAPI"])["items"]
            for m in r.get("resourceMethods", {})
        }
        assert methods == {(path, m) for path, route in app_module.app.routes.items() for m in route}
