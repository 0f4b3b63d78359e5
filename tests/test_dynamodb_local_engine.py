"""Smoke test: the tests can talk to the real DynamoDB Local engine."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from tests.dynamodb_fixtures import dynamo_client


@pytest.mark.slow
def test_conditional_put_is_enforced(dynamodb_endpoint: str) -> None:
    client = dynamo_client(dynamodb_endpoint)
    table = f"engine-smoke-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
    )
    try:
        client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
        item = {"PK": {"S": "USER#1"}, "SK": {"S": "PROFILE"}, "name": {"S": "Ada"}}

        client.put_item(
            TableName=table,
            Item=item,
            ConditionExpression="attribute_not_exists(PK)",
        )
        with pytest.raises(ClientError) as excinfo:
            client.put_item(
                TableName=table,
                Item=item,
                ConditionExpression="attribute_not_exists(PK)",
            )
        error = excinfo.value.response["Error"]
        assert error["Code"] == "ConditionalCheckFailedException"

        stored = client.get_item(TableName=table, Key={"PK": item["PK"], "SK": item["SK"]})
        assert stored["Item"] == item
    finally:
        client.delete_table(TableName=table)
