"""DynamoStore against the real engine (DynamoDB Local): what the shared contract cannot see.

Round trips per operation, paging through a selective filter, deleting more applications than one
batch holds, an interrupted deletion, the table's creation (function and command line), and the
IAM policy granting exactly the actions the store calls. The behaviour both stores share is in
test_store_contract.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from chalicelib.ids import new_id
from chalicelib.models import Application, Status, StatusChange, UserOut
from chalicelib.store.base import ApplicationNotFound, ListFilter, UserNotFound, VersionConflict
from chalicelib.store.dynamodb import DynamoStore, create_table
from tests.conftest import ROOT
from tests.dynamodb_fixtures import dynamo_client
from tests.dynamodb_local import DUMMY_ACCESS_KEY_ID, DUMMY_REGION, DUMMY_SECRET_ACCESS_KEY
from tests.store_oracle import matches

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


NOW = "2026-11-26T10:00:00.000Z"
LATER = "2026-11-27T09:30:00.000Z"
_clock = [1_800_000_000_000]


class Calls:
    """The DynamoDB operations a client makes, with the IAM actions each one needs."""

    def __init__(self, client: DynamoDBClient) -> None:
        self.operations: list[str] = []
        self.actions: set[str] = set()
        client.meta.events.register("provide-client-params.dynamodb", self._record)

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.operations.append(model.name)
        if model.name in ("TransactWriteItems", "TransactGetItems"):
            # Authorized per action inside: Put -> PutItem, ConditionCheck -> ConditionCheckItem, ...
            for item in params["TransactItems"]:
                (kind,) = item
                self.actions.add(f"dynamodb:{kind}Item" if kind != "Get" else "dynamodb:GetItem")
        else:
            self.actions.add(f"dynamodb:{model.name}")

    def take(self) -> list[str]:
        taken, self.operations = self.operations, []
        return taken


@pytest.fixture(scope="module")
def client(dynamodb_endpoint: str) -> DynamoDBClient:
    return dynamo_client(dynamodb_endpoint)


@pytest.fixture
def table(client: DynamoDBClient) -> Iterator[str]:
    name = f"store-{uuid.uuid4().hex[:12]}"
    assert create_table(name, client=client) is True
    yield name
    client.delete_table(TableName=name)


@pytest.fixture
def store(table: str, dynamodb_endpoint: str) -> DynamoStore:
    return DynamoStore(table, client=dynamo_client(dynamodb_endpoint))


@pytest.fixture
def calls(store: DynamoStore) -> Calls:
    return Calls(store.client)


def user(name: str = "ada") -> UserOut:
    return UserOut(id=f"sub-{name}-{uuid.uuid4().hex[:6]}", email=f"{name}@example.com", name=name.title())


def application(**fields: Any) -> Application:
    _clock[0] += 1
    status = fields.pop("status", Status.WISHLIST)
    return Application.model_validate(
        {
            "company": "Acme",
            "role": "Engineer",
            "status": status,
            **fields,
            "id": new_id(_clock[0]),
            "created_at": NOW,
            "updated_at": NOW,
            "version": 1,
            "status_history": [StatusChange(status=status, at=NOW)],
        }
    )


def partition(client: DynamoDBClient, table: str, user_id: str) -> list[str]:
    """The sort keys stored for a user, read directly."""
    out = client.query(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"USER#{user_id}"}},
        ConsistentRead=True,
    )
    return [item["SK"]["S"] for item in out["Items"]]


def mark_deleting(client: DynamoDBClient, table: str, user_id: str) -> None:
    """What a deletion that died right after its first step leaves behind."""
    client.update_item(
        TableName=table,
        Key={"PK": {"S": f"USER#{user_id}"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="SET deleting = :true",
        ExpressionAttributeValues={":true": {"BOOL": True}},
    )


# ---- the table ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_create_table_is_idempotent_and_turns_ttl_on(client: DynamoDBClient) -> None:
    name = f"create-{uuid.uuid4().hex[:12]}"
    try:
        assert create_table(name, client=client) is True
        assert create_table(name, client=client) is False
        described = client.describe_table(TableName=name)["Table"]
        assert described["TableStatus"] == "ACTIVE"
        assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert [(k["AttributeName"], k["KeyType"]) for k in described["KeySchema"]] == [("PK", "HASH"), ("SK", "RANGE")]
        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert (ttl.get("TimeToLiveStatus"), ttl.get("AttributeName")) == ("ENABLED", "expires_at")
    finally:
        client.delete_table(TableName=name)


@pytest.mark.slow
def test_command_line_creates_the_table_then_finds_it(client: DynamoDBClient, dynamodb_endpoint: str) -> None:
    name = f"cli-{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY}
    command = [
        sys.executable,
        "-m",
        "chalicelib.store.dynamodb",
        "create-table",
        "--table",
        name,
        "--endpoint-url",
        dynamodb_endpoint,
        "--region",
        DUMMY_REGION,
    ]
    try:
        first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert (first.returncode, first.stdout) == (0, f"created table {name}; it is ACTIVE, with TTL on expires_at\n")
        again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert (again.returncode, again.stdout) == (
            0,
            f"table {name} already exists; it is ACTIVE, with TTL on expires_at\n",
        )
        assert client.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
    finally:
        client.delete_table(TableName=name)


def test_command_line_reports_a_failure_and_exits_1() -> None:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY}
    # Port 9 on loopback: nothing listens, so the connection is refused at once (and never leaves the machine).
    run = subprocess.run(
        [sys.executable, "-m", "chalicelib.store.dynamodb", "create-table", "--endpoint-url", "http://127.0.0.1:9"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert run.stderr.startswith("error: Could not connect to the endpoint URL")


# ---- round trips --------------------------------------------------------------------------------


@pytest.mark.slow
def test_each_operation_is_one_round_trip(store: DynamoStore, calls: Calls) -> None:
    who, other = user(), user("bob")
    store.sign_in(other, NOW)
    calls.take()

    store.sign_in(who, NOW)
    assert calls.take() == ["UpdateItem"]
    store.sign_in(who, LATER)
    assert calls.take() == ["UpdateItem"]
    store.get_user(who.id)
    assert calls.take() == ["GetItem"]
    app = application()
    store.create_application(who.id, app)
    assert calls.take() == ["TransactWriteItems"]
    assert store.get_application(who.id, app.id) == app
    assert calls.take() == ["BatchGetItem"]
    v2 = app.model_copy(update={"version": 2, "notes": "v2"})
    store.replace_application(who.id, v2, 1)
    assert calls.take() == ["PutItem"]
    assert store.all_applications(who.id) == [v2]
    assert calls.take() == ["Query"]
    assert store.list_applications(who.id, ListFilter(), 20, None).items == [v2]
    assert calls.take() == ["GetItem", "Query"]
    store.delete_application(who.id, app.id, 2)
    assert calls.take() == ["TransactWriteItems"]

    # The expected failures cost no extra call either.
    with pytest.raises(UserNotFound):
        store.get_user("nobody")
    assert calls.take() == ["GetItem"]
    with pytest.raises(UserNotFound):
        store.create_application("nobody", application())
    assert calls.take() == ["TransactWriteItems"]
    kept = application()
    store.create_application(other.id, kept)
    calls.take()
    with pytest.raises(ApplicationNotFound):
        store.get_application(who.id, kept.id)
    assert calls.take() == ["BatchGetItem"]
    with pytest.raises(VersionConflict) as conflict:
        store.replace_application(other.id, kept.model_copy(update={"version": 3}), 2)
    assert conflict.value.current_version == 1
    assert calls.take() == ["PutItem"]
    with pytest.raises(ApplicationNotFound):
        store.replace_application(who.id, kept.model_copy(update={"version": 2}), 1)
    assert calls.take() == ["PutItem"]
    with pytest.raises(VersionConflict):
        store.delete_application(other.id, kept.id, 5)
    assert calls.take() == ["TransactWriteItems"]
    with pytest.raises(ApplicationNotFound):
        store.delete_application(who.id, kept.id, None)
    assert calls.take() == ["TransactWriteItems"]


@pytest.mark.slow
def test_replace_never_recreates_a_deleted_application(store: DynamoStore, client: DynamoDBClient, table: str) -> None:
    who = user()
    store.sign_in(who, NOW)
    app = application()
    store.create_application(who.id, app)
    store.delete_application(who.id, app.id, None)
    with pytest.raises(ApplicationNotFound):
        store.replace_application(who.id, app.model_copy(update={"version": 2}), 1)
    assert partition(client, table, who.id) == ["PROFILE"]


@pytest.mark.slow
def test_a_replace_retried_after_it_landed_is_not_a_conflict(store: DynamoStore) -> None:
    # What botocore does when the answer to a successful PutItem is lost: it sends it again.
    who = user()
    store.sign_in(who, NOW)
    app = application()
    store.create_application(who.id, app)
    v2 = app.model_copy(update={"version": 2, "updated_at": LATER, "notes": "v2"})
    store.replace_application(who.id, v2, 1)
    store.replace_application(who.id, v2, 1)
    with pytest.raises(VersionConflict):
        store.replace_application(who.id, v2.model_copy(update={"notes": "other"}), 1)
    assert store.get_application(who.id, app.id) == v2


@pytest.mark.slow
def test_item_layout(store: DynamoStore, client: DynamoDBClient, table: str) -> None:
    who = user()
    store.sign_in(who, NOW, "01KBX7Q3ZJ8W2N5V4R6T9Y0M1C")
    app = application(
        company="Acme GmbH", role="Data Engineer", tags=["Python", "Remote"], next_follow_up_on="2026-12-01"
    )
    store.create_application(who.id, app)
    key = {"PK": {"S": f"USER#{who.id}"}}
    stored = client.get_item(TableName=table, Key={**key, "SK": {"S": f"APP#{app.id}"}})["Item"]
    assert Application.model_validate_json(stored.pop("doc")["S"]) == app
    assert stored == {
        **key,
        "SK": {"S": f"APP#{app.id}"},
        "version": {"N": "1"},
        "status": {"S": "wishlist"},
        "tags_lc": {"L": [{"S": "python"}, {"S": "remote"}]},
        "company_lc": {"S": "acme gmbh"},
        "role_lc": {"S": "data engineer"},
        "next_follow_up_on": {"S": "2026-12-01"},
    }
    profile = client.get_item(TableName=table, Key={**key, "SK": {"S": "PROFILE"}})["Item"]
    assert profile == {
        **key,
        "SK": {"S": "PROFILE"},
        "id": {"S": who.id},
        "email": {"S": "ada@example.com"},
        "name": {"S": "Ada"},
        "created_at": {"S": NOW},
        "last_login_at": {"S": NOW},
        "sessions_after": {"S": "01KBX7Q3ZJ8W2N5V4R6T9Y0M1C"},  # tokens issued before the profile never work
    }


# ---- listing ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_paging_through_a_selective_filter_is_exact(store: DynamoStore, calls: Calls) -> None:
    who, other = user(), user("eve")
    store.sign_in(who, NOW)
    store.sign_in(other, NOW)
    apps = []
    for i in range(120):
        rare = i % 7 == 0
        app = application(
            company="Rare Co" if rare else f"Common {i}",
            status=Status.OFFER if rare else Status.APPLIED,
            tags=["Rare"] if rare else ["common"],
            next_follow_up_on="2026-11-01" if i < 10 else "2026-11-20" if rare else "2026-12-20",
        )
        apps.append(app)
        store.create_application(who.id, app)
    store.create_application(other.id, application(company="Rare Co", tags=["rare"]))  # never listed for `who`
    calls.take()

    for flt in (
        ListFilter(tag="RARE"),
        ListFilter(statuses=frozenset({Status.OFFER, Status.GHOSTED})),
        ListFilter(q="rare"),
        ListFilter(follow_up_due_by=dt.date(2026, 11, 26)),
        ListFilter(follow_up_due_by=dt.date(2026, 11, 5)),  # only the 10 oldest: past the first Query page
        ListFilter(tag="rare", q="rare co", statuses=frozenset({Status.OFFER})),
        ListFilter(),
    ):
        expected = [a.id for a in reversed(apps) if matches(flt, a)]
        for limit in (5, 6, 200):  # last pages short and exactly full; one page for all
            got: list[str] = []
            after = None
            while True:
                page = store.list_applications(who.id, flt, limit, after)
                assert len(page.items) <= limit
                got += [a.id for a in page.items]
                queries = calls.take()
                assert queries[0] == "GetItem" and 2 <= len(queries) <= 3, queries  # never a Scan
                if not page.has_more:
                    break
                assert page.items, "has_more with an empty page"
                after = page.items[-1].id
            assert got == expected, (flt, limit)

    # A cursor whose application was deleted in the meantime still resumes just below it.
    middle = apps[60]
    store.delete_application(who.id, middle.id, None)
    page = store.list_applications(who.id, ListFilter(), 3, middle.id)
    assert [a.id for a in page.items] == [a.id for a in reversed(apps[57:60])]


# ---- deleting a user ----------------------------------------------------------------------------


@pytest.mark.slow
def test_deleting_a_user_with_more_applications_than_one_batch(
    store: DynamoStore, calls: Calls, client: DynamoDBClient, table: str
) -> None:
    who, other = user(), user("bob")
    store.sign_in(who, NOW)
    store.sign_in(other, NOW)
    for _ in range(60):
        store.create_application(who.id, application())
    kept = application()
    store.create_application(other.id, kept)
    calls.take()

    store.delete_user(who.id)

    assert calls.take() == ["UpdateItem", "Query", "BatchWriteItem", "BatchWriteItem", "BatchWriteItem", "DeleteItem"]
    assert partition(client, table, who.id) == []
    assert store.get_application(other.id, kept.id) == kept
    with pytest.raises(UserNotFound):
        store.delete_user(who.id)


@pytest.mark.slow
def test_an_interrupted_deletion_hides_the_user_and_the_next_sign_in_finishes_it(
    store: DynamoStore, client: DynamoDBClient, table: str
) -> None:
    who = user()
    store.sign_in(who, NOW)
    apps = [application() for _ in range(30)]
    for app in apps:
        store.create_application(who.id, app)
    mark_deleting(client, table, who.id)
    # ... and part of the purge had run.
    for app in apps[:10]:
        client.delete_item(TableName=table, Key={"PK": {"S": f"USER#{who.id}"}, "SK": {"S": f"APP#{app.id}"}})

    for call in (
        lambda: store.get_user(who.id),
        lambda: store.get_application(who.id, apps[20].id),
        lambda: store.list_applications(who.id, ListFilter(), 10, None),
        lambda: store.all_applications(who.id),
        lambda: store.create_application(who.id, application()),
        lambda: store.delete_application(who.id, apps[20].id, None),
    ):
        with pytest.raises(UserNotFound):
            call()

    fresh = store.sign_in(who, LATER)
    assert (fresh.created_at, fresh.last_login_at) == (LATER, LATER)
    assert store.get_user(who.id) == fresh
    assert store.all_applications(who.id) == []
    assert partition(client, table, who.id) == ["PROFILE"]


@pytest.mark.slow
def test_deleting_again_finishes_an_interrupted_deletion(
    store: DynamoStore, client: DynamoDBClient, table: str
) -> None:
    who = user()
    store.sign_in(who, NOW)
    for _ in range(3):
        store.create_application(who.id, application())
    mark_deleting(client, table, who.id)
    store.delete_user(who.id)
    assert partition(client, table, who.id) == []
    with pytest.raises(UserNotFound):
        store.delete_user(who.id)


# ---- the IAM policy -----------------------------------------------------------------------------


@pytest.mark.slow
def test_the_prod_policy_grants_exactly_the_actions_the_store_uses(store: DynamoStore, calls: Calls) -> None:
    who = user()
    store.sign_in(who, NOW)
    app = application()
    store.create_application(who.id, app)
    store.get_user(who.id)
    store.get_application(who.id, app.id)
    store.replace_application(who.id, app.model_copy(update={"version": 2}), 1)
    store.list_applications(who.id, ListFilter(tag="x"), 10, None)
    store.all_applications(who.id)
    store.delete_application(who.id, app.id, 2)
    store.create_application(who.id, application())
    store.delete_user(who.id)

    policy = json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())
    granted = {a for s in policy["Statement"] for a in s["Action"] if a.startswith("dynamodb:")}
    assert calls.actions == granted


# ---- outages propagate, conflicts are retried (no engine needed) ---------------------------------


def _stubbed() -> tuple[DynamoStore, Stubber]:
    client = boto3.client(
        "dynamodb",
        region_name=DUMMY_REGION,
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
    )
    stubber = Stubber(client)
    stubber.activate()
    return DynamoStore("t-stub", client=client), stubber


def test_throttling_propagates_as_it_is() -> None:
    store, stubber = _stubbed()
    stubber.add_client_error("get_item", service_error_code="ProvisionedThroughputExceededException")
    with pytest.raises(ClientError) as raised:
        store.get_user("u")
    assert raised.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"


def test_a_transaction_conflict_is_retried() -> None:
    store, stubber = _stubbed()
    conflict = {"CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}]}
    stubber.add_client_error("transact_write_items", "TransactionCanceledException", modeled_fields=conflict)
    stubber.add_response("transact_write_items", {})
    store.create_application("u", application())
    stubber.assert_no_pending_responses()
