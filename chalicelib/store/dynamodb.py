"""The Store on DynamoDB: one on-demand table, one partition per user, the low-level client.

Items, all under PK = "USER#<user id>":
  SK = "PROFILE"       the profile's fields, plus `deleting` while a deletion is under way
                       and what ends sessions: `sessions_after` (the cut-off token id), `revoked` (a map of
                       signed-out token ids to their expiry) and `sessions_v` (their version)
  SK = "APP#<app id>"  `doc` (the application as JSON) plus copies of what conditions and filters
                       read: version, status, tags_lc, company_lc, role_lc, next_follow_up_on
  SK = "IDEM#<hash>"   a create sent with an Idempotency-Key: fingerprint, response, created_s and
                       expires_at (the table's TTL attribute)

Application ids are ULIDs, so "APP#" keys sort by creation and a descending Query is newest first.

    python -m chalicelib.store.dynamodb create-table [--table NAME] [--endpoint-url URL] [--region R]
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.models import Application, UserOut, UserRecord
from chalicelib.store.base import (
    ApplicationNotFound,
    IdempotencyKeyTaken,
    IdempotentCreate,
    ListFilter,
    Page,
    Session,
    SessionEnded,
    Sessions,
    UserNotFound,
    VersionConflict,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        ConditionCheckTypeDef,
        CreateTableInputTypeDef,
        DeleteTypeDef,
        QueryInputTypeDef,
        TransactWriteItemTypeDef,
        WriteRequestTypeDef,
    )

    Item = dict[str, AttributeValueTypeDef]

DEFAULT_TABLE = "job-hunt-tracker-prod"
TTL_ATTRIBUTE = "expires_at"
PROFILE = "PROFILE"
APP = "APP#"
IDEM = "IDEM#"
_BATCH_WRITE_MAX = 25
# DynamoDB applies Limit before the filter: a filtered listing reads this many items per call so
# that a selective filter still needs few round trips.
_FILTERED_PAGE = 100
_ATTEMPTS = 6
_CONDITION_FAILED = "ConditionalCheckFailed"
# Fail well inside the Lambda's 15 s timeout instead of botocore's 60 s defaults.
_CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})


def _s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _code(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "")


def _condition_failed(err: ClientError) -> bool:
    return _code(err) == "ConditionalCheckFailedException"


def _old_item(err: ClientError) -> Item | None:
    """The item a failed condition saw (ReturnValuesOnConditionCheckFailure=ALL_OLD); None if absent."""
    return cast("dict[str, Any]", err.response).get("Item")


def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.025 * 2**attempt))  # noqa: S311 - jitter, not security


def _is_conflict(err: ClientError) -> bool:
    """A write collided with a transaction on the same item (botocore does not retry these)."""
    reasons = {r.get("Code") for r in err.response.get("CancellationReasons", [])}
    return _code(err) == "TransactionConflictException" or (
        "TransactionConflict" in reasons and _CONDITION_FAILED not in reasons
    )


def _retry_conflicts[T](write: Callable[[], T]) -> T:
    """Run a write, again after a pause if it collided with another request of the same user.

    Two requests at once, say two creates both checking the profile, would otherwise fail one.
    """
    for attempt in range(_ATTEMPTS):
        try:
            return write()
        except ClientError as err:
            if attempt == _ATTEMPTS - 1 or not _is_conflict(err):
                raise
            _pause(attempt)
    raise AssertionError("unreachable")


def _new_client(endpoint_url: str | None, region_name: str | None) -> DynamoDBClient:
    if region_name is None and endpoint_url is not None and boto3.session.Session().region_name is None:
        region_name = "us-east-1"  # DynamoDB Local ignores the region, but botocore insists on one
    return boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=region_name, config=_CLIENT_CONFIG)


def _app_item(key: Item, app: Application) -> Item:
    item: Item = {
        **key,
        "doc": _s(app.model_dump_json()),
        "version": {"N": str(app.version)},
        "status": _s(app.status.value),
        "tags_lc": {"L": [_s(tag.lower()) for tag in app.tags]},
        # Two attributes, not one joined string, so a search can never match across the two.
        "company_lc": _s(app.company.lower()),
        "role_lc": _s(app.role.lower()),
    }
    if app.next_follow_up_on is not None:
        item["next_follow_up_on"] = _s(app.next_follow_up_on.isoformat())
    return item


def _application(item: Item) -> Application:
    return Application.stored(item["doc"]["S"])


def _sessions(item: Item) -> Sessions:
    revoked = item.get("revoked", {}).get("M", {})
    return Sessions(item.get("sessions_after", {"S": ""})["S"], {k: int(v["N"]) for k, v in revoked.items()})


def _checked_profile(item: Item | None, user_id: str, session: Session | None) -> Item:
    """The profile item if it is live and admits the session; else UserNotFound / SessionEnded."""
    if not item or "deleting" in item:
        raise UserNotFound(user_id)
    if session is not None and not _sessions(item).admits(session):
        raise SessionEnded(user_id)
    return item


def _session_condition(session: Session | None) -> tuple[str, dict[str, str], Item]:
    """A condition on the profile item saying it admits `session` (nothing when None)."""
    if session is None:
        return "", {}, {}
    return (
        " AND (attribute_not_exists(sessions_after) OR sessions_after < :jti) AND attribute_not_exists(revoked.#jti)",
        {"#jti": session.token_id},
        {":jti": _s(session.token_id)},
    )


def _idempotent(item: Item) -> IdempotentCreate:
    return IdempotentCreate(
        key_hash=item["SK"]["S"].removeprefix(IDEM),
        fingerprint=item["fingerprint"]["S"],
        created_s=int(item["created_s"]["N"]),
        expires_at=int(item[TTL_ATTRIBUTE]["N"]),
        response=item["response"]["S"],
    )


def _user(item: Item) -> UserRecord:
    return UserRecord.model_validate({k: v["S"] for k, v in item.items() if k in UserRecord.model_fields})


def _filter(flt: ListFilter) -> tuple[str, dict[str, str], Item]:
    """The FilterExpression equivalent of ListFilter.matches, with its names and values."""
    clauses: list[str] = []
    names: dict[str, str] = {}
    values: Item = {}
    if flt.statuses:
        names["#status"] = "status"  # a reserved word
        placeholders = [f":status{i}" for i in range(len(flt.statuses))]
        values.update(zip(placeholders, (_s(status.value) for status in sorted(flt.statuses)), strict=True))
        clauses.append(f"#status IN ({', '.join(placeholders)})")
    if flt.tag is not None:
        clauses.append("contains(tags_lc, :tag)")
        values[":tag"] = _s(flt.tag.lower())
    if flt.q:  # an empty q matches everything, as in ListFilter.matches
        clauses.append("(contains(company_lc, :q) OR contains(role_lc, :q))")
        values[":q"] = _s(flt.q)
    if flt.follow_up_due_by is not None:
        clauses.append("next_follow_up_on <= :due")  # false when the attribute is absent
        values[":due"] = _s(flt.follow_up_due_by.isoformat())
    return " AND ".join(clauses), names, values


class DynamoStore:
    def __init__(
        self,
        table_name: str,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        client: Any | None = None,
    ) -> None:
        self.table_name = table_name
        self._endpoint_url = endpoint_url
        self._region_name = region_name
        self._client: DynamoDBClient | None = client

    @property
    def client(self) -> DynamoDBClient:
        # Created once and kept, so warm invocations reuse its connections.
        if self._client is None:
            self._client = _new_client(self._endpoint_url, self._region_name)
        return self._client

    def _key(self, user_id: str, sort_key: str) -> Item:
        return {"PK": _s(f"USER#{user_id}"), "SK": _s(sort_key)}

    def _live_profile(self, user_id: str, session: Session | None) -> ConditionCheckTypeDef:
        extra, names, values = _session_condition(session)
        check: ConditionCheckTypeDef = {
            "TableName": self.table_name,
            "Key": self._key(user_id, PROFILE),
            "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(deleting)" + extra,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if names:
            check["ExpressionAttributeNames"] = names
            check["ExpressionAttributeValues"] = values
        return check

    def _transact(self, items: Sequence[TransactWriteItemTypeDef]) -> list[Item | None] | None:
        """Run a write transaction: None when it committed, else what each failed condition saw.

        The list has one entry per action: None where its condition held, the item it saw
        (an empty dict when there was none) where it failed.
        """
        try:
            _retry_conflicts(lambda: self.client.transact_write_items(TransactItems=items))
        except ClientError as err:
            reasons = err.response.get("CancellationReasons", [])
            if not any(r.get("Code") == _CONDITION_FAILED for r in reasons):
                raise
            seen = cast("list[dict[str, Any]]", reasons)
            return [r.get("Item", {}) if r.get("Code") == _CONDITION_FAILED else None for r in seen]
        return None

    def _items(self, query: QueryInputTypeDef) -> Iterator[Item]:
        """Every item a Query matches, page after page, fetching a page only when it is needed."""
        while True:
            page = self.client.query(**query)
            yield from page["Items"]
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _require_user(self, user_id: str, session: Session | None) -> None:
        self.get_user(user_id, session)

    # -- rate limits -----------------------------------------------------------------------------

    def count_hit(self, key: str, window_start: int, expires_at: int) -> int:
        # Its own partition per key and window; the table's TTL on expires_at removes it later.
        reply = self.client.update_item(
            TableName=self.table_name,
            Key={"PK": _s(f"HITS#{key}"), "SK": _s(f"WINDOW#{window_start}")},
            UpdateExpression="ADD #count :one SET #expires = if_not_exists(#expires, :expires)",
            ExpressionAttributeNames={"#count": "count", "#expires": TTL_ATTRIBUTE},
            ExpressionAttributeValues={":one": {"N": "1"}, ":expires": {"N": str(expires_at)}},
            ReturnValues="UPDATED_NEW",
        )
        return int(reply["Attributes"]["count"]["N"])

    # -- users ---------------------------------------------------------------------------------

    def sign_in(self, user: UserOut, now: str, sessions_after: str = "") -> UserRecord:
        sets = [
            "id = :id",
            "email = :email",
            "last_login_at = :now",
            "created_at = if_not_exists(created_at, :now)",
            "sessions_after = if_not_exists(sessions_after, :after)",
        ]
        removes: list[str] = []
        names = {"#name": "name", "#picture": "picture"}  # name is a reserved word
        values: Item = {":id": _s(user.id), ":email": _s(user.email), ":now": _s(now), ":after": _s(sessions_after)}
        for placeholder, value in (("#name", user.name), ("#picture", user.picture)):
            if value is None:
                removes.append(placeholder)
            else:
                sets.append(f"{placeholder} = :{placeholder[1:]}")
                values[f":{placeholder[1:]}"] = _s(value)
        update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        for _ in range(3):
            try:
                out = _retry_conflicts(
                    lambda: self.client.update_item(
                        TableName=self.table_name,
                        Key=self._key(user.id, PROFILE),
                        UpdateExpression=update,
                        ConditionExpression="attribute_not_exists(deleting)",
                        ExpressionAttributeNames=names,
                        ExpressionAttributeValues=values,
                        ReturnValues="ALL_NEW",
                    )
                )
                return _user(out["Attributes"])
            except ClientError as err:
                if not _condition_failed(err):
                    raise
            self._purge(user.id)  # an interrupted deletion: finish it, then start afresh
        raise RuntimeError(f"the profile of {user.id} keeps being deleted while signing in")

    def get_user(self, user_id: str, session: Session | None = None) -> UserRecord:
        return _user(_checked_profile(self._profile(user_id), user_id, session))

    def _profile(self, user_id: str) -> Item | None:
        out = self.client.get_item(TableName=self.table_name, Key=self._key(user_id, PROFILE), ConsistentRead=True)
        return out.get("Item")

    def update_sessions(self, user_id: str, session: Session, change: Callable[[Sessions], Sessions]) -> None:
        for attempt in range(_ATTEMPTS):
            item = _checked_profile(self._profile(user_id), user_id, session)
            new = change(_sessions(item))
            version = item.get("sessions_v", {"N": "0"})["N"]
            try:
                self.client.update_item(
                    TableName=self.table_name,
                    Key=self._key(user_id, PROFILE),
                    UpdateExpression="SET sessions_after = :after, revoked = :revoked, sessions_v = :next",
                    ConditionExpression="attribute_exists(PK) AND attribute_not_exists(deleting) AND "
                    "(attribute_not_exists(sessions_v) OR sessions_v = :v)",
                    ExpressionAttributeValues={
                        ":after": _s(new.after),
                        ":revoked": {"M": {jti: {"N": str(exp)} for jti, exp in new.revoked.items()}},
                        ":v": {"N": version},
                        ":next": {"N": str(int(version) + 1)},
                    },
                )
                return
            except ClientError as err:
                if not _condition_failed(err):
                    raise
            _pause(attempt)  # another sign-out of this user came first: read again
        raise RuntimeError(f"the sessions of {user_id} keep changing")

    def delete_user(self, user_id: str, session: Session | None = None) -> None:
        # Marked first: from here on every other operation finds no user, and no application can
        # be added, so the purge below cannot miss one. A profile already marked is a deletion
        # that was interrupted (or whose first attempt's answer was lost): this one finishes it.
        extra, names, values = _session_condition(session)
        update: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": self._key(user_id, PROFILE),
            "UpdateExpression": "SET deleting = :true",
            "ConditionExpression": "attribute_exists(PK)" + extra,
            "ExpressionAttributeValues": {":true": {"BOOL": True}, **values},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if names:
            update["ExpressionAttributeNames"] = names
        try:
            _retry_conflicts(lambda: self.client.update_item(**update))
        except ClientError as err:
            if not _condition_failed(err):
                raise
            old = _old_item(err)
            if not old:
                raise UserNotFound(user_id) from None
            raise SessionEnded(user_id) from None
        self._purge(user_id)

    def _purge(self, user_id: str) -> None:
        """Delete every item of the user, then the profile if it is still the one marked for deletion."""
        everything = self._items(
            {
                "TableName": self.table_name,
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": _s(f"USER#{user_id}")},
                "ProjectionExpression": "PK, SK",
                "ConsistentRead": True,
            }
        )
        keys = (key for key in everything if key["SK"]["S"] != PROFILE)
        for chunk in itertools.batched(keys, _BATCH_WRITE_MAX, strict=False):
            requests: Sequence[WriteRequestTypeDef] = [{"DeleteRequest": {"Key": key}} for key in chunk]
            for attempt in range(_ATTEMPTS):
                out = self.client.batch_write_item(RequestItems={self.table_name: requests})
                requests = out.get("UnprocessedItems", {}).get(self.table_name, [])  # type: ignore[assignment]
                if not requests:
                    break
                _pause(attempt)
            else:
                raise RuntimeError(f"DynamoDB kept items of {user_id} unprocessed; the next sign-in resumes")
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key=self._key(user_id, PROFILE),
                ConditionExpression="attribute_exists(deleting)",
            )
        except ClientError as err:
            # A concurrent sign-in finished the deletion and created a fresh profile: keep that.
            if not _condition_failed(err):
                raise

    # -- applications --------------------------------------------------------------------------

    def create_application(
        self,
        user_id: str,
        app: Application,
        session: Session | None = None,
        idempotency: IdempotentCreate | None = None,
    ) -> None:
        actions: list[TransactWriteItemTypeDef] = [
            {"ConditionCheck": self._live_profile(user_id, session)},
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": _app_item(self._key(user_id, APP + app.id), app),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
        if idempotency is not None:
            record: Item = {
                **self._key(user_id, IDEM + idempotency.key_hash),
                "fingerprint": _s(idempotency.fingerprint),
                "response": _s(idempotency.response),
                "created_s": {"N": str(idempotency.created_s)},
                TTL_ATTRIBUTE: {"N": str(idempotency.expires_at)},
            }
            # TTL deletes expired items only eventually: an expired record may be overwritten.
            actions.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": record,
                        "ConditionExpression": "attribute_not_exists(PK) OR #expires <= :now",
                        "ExpressionAttributeNames": {"#expires": TTL_ATTRIBUTE},
                        "ExpressionAttributeValues": {":now": {"N": str(idempotency.created_s)}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
        failed = self._transact(actions)
        if failed is not None:
            if failed[0] is not None:
                _checked_profile(failed[0], user_id, session)
                raise UserNotFound(user_id)
            if len(failed) > 2 and failed[2]:
                raise IdempotencyKeyTaken(_idempotent(failed[2]))
            raise RuntimeError(f"application id {app.id} is already taken")  # ids are random: a bug, not a state

    def get_application(self, user_id: str, app_id: str, session: Session | None = None) -> Application:
        profile_key, app_key = self._key(user_id, PROFILE), self._key(user_id, APP + app_id)
        # BatchGetItem, not TransactGetItems: plain reads never collide with a concurrent write.
        request: dict[str, Any] = {self.table_name: {"Keys": [profile_key, app_key], "ConsistentRead": True}}
        found: dict[str, Item] = {}
        for attempt in range(_ATTEMPTS):
            out = self.client.batch_get_item(RequestItems=request)
            found.update((item["SK"]["S"], item) for item in out["Responses"].get(self.table_name, []))
            request = dict(out.get("UnprocessedKeys") or {})
            if not request:
                break
            _pause(attempt)
        else:
            raise RuntimeError(f"DynamoDB kept reads of {user_id} unprocessed")
        _checked_profile(found.get(PROFILE), user_id, session)
        app = found.get(APP + app_id)
        if app is None:
            raise ApplicationNotFound(app_id)
        return _application(app)

    def replace_application(self, user_id: str, app: Application, expected_version: int) -> None:
        item = _app_item(self._key(user_id, APP + app.id), app)
        try:
            _retry_conflicts(
                lambda: self.client.put_item(
                    TableName=self.table_name,
                    Item=item,
                    ConditionExpression="version = :expected",
                    ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            )
        except ClientError as err:
            if not _condition_failed(err):
                raise
            old = _old_item(err)
            if old is None:
                raise ApplicationNotFound(app.id) from None
            if old["doc"] == item["doc"]:
                return  # botocore retried after our write landed (its answer was lost): done
            raise VersionConflict(int(old["version"]["N"])) from None

    def delete_application(
        self, user_id: str, app_id: str, expected_version: int | None, session: Session | None = None
    ) -> None:
        delete: DeleteTypeDef = {
            "TableName": self.table_name,
            "Key": self._key(user_id, APP + app_id),
            "ConditionExpression": "attribute_exists(PK)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if expected_version is not None:
            delete["ConditionExpression"] = "version = :expected"
            delete["ExpressionAttributeValues"] = {":expected": {"N": str(expected_version)}}
        failed = self._transact([{"ConditionCheck": self._live_profile(user_id, session)}, {"Delete": delete}])
        if failed is None:
            return
        if failed[0] is not None:
            _checked_profile(failed[0], user_id, session)
            raise UserNotFound(user_id)
        old = failed[1]
        if not old:
            raise ApplicationNotFound(app_id)
        raise VersionConflict(int(old["version"]["N"]))

    def list_applications(
        self, user_id: str, flt: ListFilter, limit: int, after_id: str | None, session: Session | None = None
    ) -> Page:
        self._require_user(user_id, session)
        where, names, values = _filter(flt)
        query: QueryInputTypeDef = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :app)",
            "ExpressionAttributeValues": {":pk": _s(f"USER#{user_id}"), ":app": _s(APP), **values},
            "ScanIndexForward": False,
            "ConsistentRead": True,
            # One more than asked for, so has_more is exact.
            "Limit": max(limit + 1, _FILTERED_PAGE) if where else limit + 1,
        }
        if where:
            query["FilterExpression"] = where
        if names:
            query["ExpressionAttributeNames"] = names
        if after_id is not None:
            # A key need not exist to start after it: the query resumes just below that id.
            query["ExclusiveStartKey"] = self._key(user_id, APP + after_id)
        found = list(itertools.islice(self._items(query), limit + 1))
        return Page(items=[_application(item) for item in found[:limit]], has_more=len(found) > limit)

    def all_applications(self, user_id: str, session: Session | None = None) -> Sequence[Application]:
        # "APP#..." < "PROFILE": one Query reads the profile with the applications, so checking
        # the user costs no extra round trip.
        items = list(
            self._items(
                {
                    "TableName": self.table_name,
                    "KeyConditionExpression": "PK = :pk AND SK BETWEEN :app AND :profile",
                    "ExpressionAttributeValues": {
                        ":pk": _s(f"USER#{user_id}"),
                        ":app": _s(APP),
                        ":profile": _s(PROFILE),
                    },
                    "ScanIndexForward": False,
                    "ConsistentRead": True,
                }
            )
        )
        _checked_profile(next((item for item in items if item["SK"]["S"] == PROFILE), None), user_id, session)
        return [_application(item) for item in items if item["SK"]["S"].startswith(APP)]


# -- the table ---------------------------------------------------------------------------------


def table_definition(table_name: str) -> CreateTableInputTypeDef:
    """CreateTable's arguments; .chalice/merge-template-prod.json declares the same table."""
    return {
        "TableName": table_name,
        "AttributeDefinitions": [
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def create_table(
    table_name: str,
    *,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    client: Any | None = None,
) -> bool:
    """Create the table unless it exists (then False); either way wait until ACTIVE, with TTL on."""
    ddb: DynamoDBClient = client or _new_client(endpoint_url, region_name)
    try:
        ddb.create_table(**table_definition(table_name))
        created = True
    except ClientError as err:
        if _code(err) != "ResourceInUseException":
            raise
        created = False
    ddb.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    try:
        ttl = ddb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            ddb.update_time_to_live(
                TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
            )
    except ClientError as err:
        # Old DynamoDB Local releases lack the TTL API; a local table can do without expiry.
        if _code(err) != "UnknownOperationException":
            raise
    return created


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.store.dynamodb", description="The tracker's table.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-table", help="create the table unless it exists, with TTL on expires_at")
    create.add_argument("--table", default=DEFAULT_TABLE, help=f"table name (default: {DEFAULT_TABLE})")
    create.add_argument("--endpoint-url", help="e.g. http://localhost:8000 for DynamoDB Local")
    create.add_argument("--region", help="AWS region (default: from the AWS configuration)")
    args = parser.parse_args(argv)
    try:
        created = create_table(args.table, endpoint_url=args.endpoint_url, region_name=args.region)
    except (BotoCoreError, ClientError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    done = f"created table {args.table}" if created else f"table {args.table} already exists"
    print(f"{done}; it is ACTIVE, with TTL on {TTL_ATTRIBUTE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
