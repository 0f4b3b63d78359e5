"""The deployer's policy: what a person needs to deploy, instead of AdministratorAccess (original failure 3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

POLICY = json.loads((ROOT / "deploy" / "deployer-policy.json").read_text())
# Actions whose IAM resource can only be "*" (AWS's service authorization reference).
UNSCOPED = {"sts:GetCallerIdentity", "cloudwatch:DescribeAlarms"}


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def test_nothing_is_granted_on_everything_but_what_cannot_be_scoped() -> None:
    for statement in POLICY["Statement"]:
        assert statement["Effect"] == "Allow"
        assert all("*" not in action for action in _actions(statement)), statement["Sid"]  # no service:* wildcards
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if "*" in resources:
            assert set(_actions(statement)) <= UNSCOPED, statement["Sid"]


def test_pass_role_only_to_lambda() -> None:
    [statement] = [s for s in POLICY["Statement"] if "iam:PassRole" in _actions(s)]
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}


def test_it_covers_what_the_prod_template_creates() -> None:
    granted = {a.split(":")[0] for s in POLICY["Statement"] for a in _actions(s)}
    assert {
        "lambda",
        "iam",
        "apigateway",
        "dynamodb",
        "logs",
        "cloudformation",
        "s3",
        "sns",
        "cloudwatch",
        "ssm",
    } <= granted


@pytest.mark.slow
def test_every_action_is_a_real_iam_action(tmp_path: Path) -> None:
    # cfn-lint checks action names (W3037) in a managed policy resource.
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Deployer": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": POLICY}}},
    }
    path = tmp_path / "deployer.json"
    path.write_text(json.dumps(template))
    run = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(path)], capture_output=True, text=True, timeout=300
    )
    assert (run.returncode, run.stdout) == (0, ""), run.stdout
    with_typo = json.loads(json.dumps(POLICY))
    with_typo["Statement"][0]["Action"].append("lambda:CreateFunktion")
    template["Resources"]["Deployer"]["Properties"]["PolicyDocument"] = with_typo
    path.write_text(json.dumps(template))
    run = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(path)], capture_output=True, text=True, timeout=300
    )
    assert "W3037 'createfunktion'" in run.stdout  # the check above can fail
