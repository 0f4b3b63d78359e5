"""Smoke test: the tests can talk to the real DynamoDB Local engine."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.dynamodb_local import (
    DUMMY_ACCESS_KEY_ID,
    DUMMY_REGION,
    DUMMY_SECRET_ACCESS_KEY,
    INSTALL_HINT,
    SKIP_MESSAGE,
    DynamoDBLocal,
    dynamodb_local_required,
    find_dynamodb_local,
)


# TODO: move to tests/conftest.py once other tests need it.
@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    """Endpoint URL of a DynamoDB Local engine shared by the whole session."""
    found = find_dynamodb_local()
    if found is None:
        if dynamodb_local_required():
            pytest.fail(
                "DynamoDB Local (Java + DynamoDBLocal.jar) is required on CI or "
                "with REQUIRE_DYNAMODB_LOCAL=1, but was not found. " + INSTALL_HINT,
                pytrace=False,
            )
        pytest.skip(SKIP_MESSAGE)
    java, jar_dir = found
    with DynamoDBLocal(java, jar_dir) as engine:
        yield engine.endpoint_url


@pytest.mark.slow
def test_conditional_put_is_enforced(dynamodb_endpoint: str) -> None:
    client = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_endpoint,
        region_name=DUMMY_REGION,
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
    )
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
