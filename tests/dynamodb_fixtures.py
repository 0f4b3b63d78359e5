"""DynamoDB Local for pytest: one engine for the whole session, fresh tables on it, and clients.

Import the fixtures where they are needed (conftest.py, or a test module):
``from tests.dynamodb_fixtures import dynamodb_endpoint, dynamodb_table  # noqa: F401``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest

from chalicelib.store.dynamodb import create_table
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

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


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


def dynamo_client(endpoint: str) -> DynamoDBClient:
    """A low-level DynamoDB client for the engine at ``endpoint`` (dummy credentials)."""
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=DUMMY_REGION,
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
    )


@pytest.fixture
def dynamodb_table(dynamodb_endpoint: str) -> Iterator[tuple[str, str]]:
    """A fresh table made by the store's own create_table: (endpoint URL, table name); dropped after."""
    client = dynamo_client(dynamodb_endpoint)
    name = f"test-{uuid.uuid4().hex[:12]}"
    create_table(name, client=client)
    yield dynamodb_endpoint, name
    client.delete_table(TableName=name)
