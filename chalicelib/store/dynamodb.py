"""The Store on DynamoDB: one on-demand table, one partition per user, the low-level client.

Items, all under PK = "USER#<user id>":
  SK = "PROFILE"       the profile's fields, plus `deleting` while a deletion is under way
                       and `feed_hash` (the calendar feed's, see FEED# below),
                       and what ends sessions: `sessions_after` (the cut-off token id), `revoked` (a map of
                       signed-out token ids to their expiry) and `sessions_v` (their version)
  SK = "APP#<app id>"  `doc` (the application as JSON) plus copies of what conditions and filters
                       read: version, status, tags_lc, company_lc, role_lc, next_follow_up_on
  SK = "IDEM#<hash>"   a create sent with an Idempotency-Key: fingerprint, response, created_s and
                       expires_at (the table's TTL attribute)
  SK = "IV#<app id>#<interview id>"
                       an interview: `doc` (JSON), version, starts_at. Its application's item keeps
                       `iv_count` (how many) and `iv_seq` (bumped by every interview write, which is
                       conditional on the application's version and iv_seq)
  SK = "AGENDA#<starts_at>#<interview id>"
                       the same interview on the person's agenda: `doc`, plus the application's
                       company and role (copied; rewritten in the transaction that renames the
                       application). starts_at is UTC with milliseconds and `Z`, so the keys sort
                       by time and the agenda of [from, to) is one Query: SK BETWEEN
                       "AGENDA#<from>" AND "AGENDA#<to>" (a key at exactly <to> sorts after
                       "AGENDA#<to>", so it is left out)

And one item per calendar feed, in its own partition so a feed is found without knowing the user:
  PK = "FEED#<sha256 of the secret>", SK = "FEED"   `user_id`; valid only while the user's profile
                       has the same `feed_hash` (set and rotated in one transaction with it)
Outside the users' partitions, the reminder lists (a Query of one list is a pass's only read of whom to remind):
  PK = "REMIND#<UTC hour, 00-23>", SK = "USER#<user id>"   the person is reminded in that UTC hour
                       (the profile's `reminders_listed_at` names the hour; both change in one transaction)
  PK = "REMIND#<UTC hour>", SK = "RETRY#<user id>"          their send failed an hour before: try again
The profile also keeps `reminders_email` (BOOL), `reminders_hour` (N), `reminded_on` (the local
date of the last reminder claimed) and `settings_v` (bumped by every change of those settings).

Application ids are ULIDs, so "APP#" keys sort by creation and a descending Query is newest first.
"AGENDA#" < "APP#" < "IDEM#" < "IV#" < "PROFILE": statistics read SK BETWEEN "APP#" AND "PROFILE",
one pass over the applications, their interviews and the profile (and no agenda copies).

    python -m chalicelib.store.dynamodb create-table [--table NAME] [--endpoint-url URL] [--region R]
"""

from __future__ import annotations

import itertools
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.models import MAX_INTERVIEWS, AgendaItem, Application, Interview, Reminders, UserOut, UserRecord
from chalicelib.store.base import (
    AgendaPage,
    ApplicationNotFound,
    Everything,
    IdempotencyKeyTaken,
    IdempotentCreate,
    InterviewNotFound,
    ListFilter,
    Page,
    ReminderEntry,
    ReminderState,
    Session,
    SessionEnded,
    Sessions,
    SettingsChange,
    TooManyInterviews,
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
IV = "IV#"
AGENDA = "AGENDA#"
FEED = "FEED#"
# An import's transactions: at most this many applications (plus the profile check) and about this
# many bytes each (DynamoDB allows 100 actions and 4 MB).
_IMPORT_CHUNK = 99
_IMPORT_CHUNK_BYTES = 3_000_000
REMIND = "REMIND#"
# DynamoDB's limit on the actions of one transaction.
_TRANSACTION_MAX = 100
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
    if app.contacts:
        # One string: a contact search is a substring; "\n" never appears in a search (inputs refuses it).
        item["contacts_lc"] = _s("\n".join(v.lower() for c in app.contacts for v in (c.name, c.email) if v))
    if app.next_follow_up_on is not None:
        item["next_follow_up_on"] = _s(app.next_follow_up_on.isoformat())
    return item


def _feed_key(feed_hash: str) -> Item:
    return {"PK": _s(f"{FEED}{feed_hash}"), "SK": _s("FEED")}


def _agenda_sk(interview: tuple[str, str]) -> str:
    """The agenda key of the interview (starts_at, id)."""
    return f"{AGENDA}{interview[0]}#{interview[1]}"


def _same_doc(old: Item, new: Item) -> bool:
    return old.get("doc") == new["doc"]


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
    fields: dict[str, Any] = {k: v["S"] for k, v in item.items() if k in UserRecord.model_fields and "S" in v}
    fields["reminders"] = Reminders(
        email=item.get("reminders_email", {"BOOL": False})["BOOL"],
        hour=int(item.get("reminders_hour", {"N": "8"})["N"]),
    )
    return UserRecord.model_validate(fields)


def _listed_at(item: Item) -> int | None:
    return int(item["reminders_listed_at"]["N"]) if "reminders_listed_at" in item else None


def _list_key(hour: int, user_id: str, *, retry: bool = False) -> Item:
    return {"PK": _s(f"{REMIND}{hour:02d}"), "SK": _s(f"{'RETRY' if retry else 'USER'}#{user_id}")}


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
    if flt.contact is not None:
        clauses.append("contains(contacts_lc, :contact)")  # false when the attribute is absent
        values[":contact"] = _s(flt.contact)
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

    def _update_item(self, **request: Any) -> Any:
        """UpdateItem, again after a pause when it collided with a transaction on the same item.

        Every transaction of a user puts a ConditionCheck on the profile, and botocore does not retry
        a plain write that meets one in flight (TransactionConflictException): without this, a
        sign-out or a reminder claim racing another request of the user would be a 500.
        """
        return _retry_conflicts(lambda: self.client.update_item(**request))

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
                out = self._update_item(
                    TableName=self.table_name,
                    Key=self._key(user.id, PROFILE),
                    UpdateExpression=update,
                    ConditionExpression="attribute_not_exists(deleting)",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
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
                self._update_item(
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
            "ReturnValues": "ALL_NEW",
        }
        if names:
            update["ExpressionAttributeNames"] = names
        try:
            marked = self._update_item(**update)
        except ClientError as err:
            if not _condition_failed(err):
                raise
            old = _old_item(err)
            if not old:
                raise UserNotFound(user_id) from None
            raise SessionEnded(user_id) from None
        self._purge(user_id, _listed_at(marked.get("Attributes", {})))

    def _purge(self, user_id: str, listed_at: int | None = None) -> None:
        """Delete every item of the user, the calendar feed's pointer and their reminder list entry at
        `listed_at`, then the profile if it is still the one marked for deletion. An entry left on a
        list (an interrupted deletion, a retry entry) is dropped by the reminder pass that finds no user."""
        everything = self._items(
            {
                "TableName": self.table_name,
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": _s(f"USER#{user_id}")},
                "ProjectionExpression": "PK, SK, feed_hash",
                "ConsistentRead": True,
            }
        )
        feed: list[str] = []  # the profile's feed_hash, seen last ("PROFILE" sorts after the other keys)

        def keys() -> Iterator[Item]:
            for item in everything:
                if item["SK"]["S"] == PROFILE:
                    feed.extend([item["feed_hash"]["S"]] if "feed_hash" in item else [])
                else:
                    yield {"PK": item["PK"], "SK": item["SK"]}

        for chunk in itertools.batched(keys(), _BATCH_WRITE_MAX, strict=False):
            requests: Sequence[WriteRequestTypeDef] = [{"DeleteRequest": {"Key": key}} for key in chunk]
            for attempt in range(_ATTEMPTS):
                out = self.client.batch_write_item(RequestItems={self.table_name: requests})
                requests = out.get("UnprocessedItems", {}).get(self.table_name, [])  # type: ignore[assignment]
                if not requests:
                    break
                _pause(attempt)
            else:
                raise RuntimeError(f"DynamoDB kept items of {user_id} unprocessed; the next sign-in resumes")
        for feed_hash in feed:
            self.client.delete_item(TableName=self.table_name, Key=_feed_key(feed_hash))
        if listed_at is not None:
            self.client.delete_item(TableName=self.table_name, Key=_list_key(listed_at, user_id))
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
        return _application(self._application_item(user_id, app_id, session)[0])

    def _read(self, user_id: str, *sort_keys: str) -> dict[str, Item]:
        """The profile and these items of the user that exist, by sort key: one BatchGetItem."""
        keys = [self._key(user_id, sk) for sk in (PROFILE, *sort_keys)]
        # BatchGetItem, not TransactGetItems: plain reads never collide with a concurrent write.
        request: dict[str, Any] = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
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
        return found

    def replace_application(self, user_id: str, app: Application, expected_version: int) -> None:
        item = _app_item(self._key(user_id, APP + app.id), app)
        for _ in range(_ATTEMPTS):
            try:
                # The common case, one PutItem: an application without interviews (a Put would
                # drop iv_count and iv_seq, and a rename must reach the agenda copies).
                _retry_conflicts(
                    lambda: self.client.put_item(
                        TableName=self.table_name,
                        Item=item,
                        ConditionExpression="version = :expected AND (attribute_not_exists(iv_count) OR iv_count = :zero)",
                        ExpressionAttributeValues={":expected": {"N": str(expected_version)}, ":zero": {"N": "0"}},
                        ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    )
                )
                return
            except ClientError as err:
                if not _condition_failed(err):
                    raise
                old = _old_item(err)
            if old is None:
                raise ApplicationNotFound(app.id) from None
            if _same_doc(old, item):
                return  # botocore retried after our write landed (its answer was lost): done
            if int(old["version"]["N"]) != expected_version:
                raise VersionConflict(int(old["version"]["N"])) from None
            if self._replace_with_interviews(user_id, app, item, old):
                return
        raise VersionConflict(expected_version)  # interviews kept changing: the caller reads again

    def _replace_with_interviews(self, user_id: str, app: Application, item: Item, old: Item) -> bool:
        """Replace an application that has interviews, keeping its counters; a rename also rewrites
        the agenda copies, in one transaction conditional on iv_seq (no interview write in between).
        False when that condition failed."""
        seq = old.get("iv_seq", {"N": "0"})
        item = {**item, "iv_count": old["iv_count"], "iv_seq": seq}
        actions: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": item,
                    "ConditionExpression": "version = :expected AND iv_seq = :seq",
                    "ExpressionAttributeValues": {":expected": old["version"], ":seq": seq},
                }
            }
        ]
        before = Application.stored(old["doc"]["S"])
        if (before.company, before.role) != (app.company, app.role):
            for interview in self._interview_keys(user_id, app.id):
                actions.append(
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": self._key(user_id, _agenda_sk(interview)),
                            "UpdateExpression": "SET company = :company, #role = :role",
                            "ExpressionAttributeNames": {"#role": "role"},
                            "ExpressionAttributeValues": {":company": _s(app.company), ":role": _s(app.role)},
                        }
                    }
                )
        return self._transact(actions) is None

    def _interviews_of(self, user_id: str, app_id: str, projection: str) -> Iterator[Item]:
        """The interview items of an application (these attributes of them): one Query."""
        return self._items(
            {
                "TableName": self.table_name,
                "KeyConditionExpression": "PK = :pk AND begins_with(SK, :iv)",
                "ExpressionAttributeValues": {":pk": _s(f"USER#{user_id}"), ":iv": _s(f"{IV}{app_id}#")},
                "ProjectionExpression": projection,
                "ConsistentRead": True,
            }
        )

    def _interview_keys(self, user_id: str, app_id: str) -> list[tuple[str, str]]:
        """(starts_at, id) of every interview of the application."""
        found = self._interviews_of(user_id, app_id, "SK, starts_at")
        return [(item["starts_at"]["S"], item["SK"]["S"].rsplit("#", 1)[1]) for item in found]

    def delete_application(
        self, user_id: str, app_id: str, expected_version: int | None, session: Session | None = None
    ) -> None:
        """One transaction with the application's interviews and their agenda copies; an application
        with MAX_INTERVIEWS has one more than fits, deleted just after (see _delete_rest)."""
        condition = "attribute_exists(PK)" if expected_version is None else "version = :expected"
        values: Item = {} if expected_version is None else {":expected": {"N": str(expected_version)}}
        interviews: list[tuple[str, str]] = []
        seq: AttributeValueTypeDef | None = None  # set once the application is known to have interviews
        for _ in range(_ATTEMPTS):
            delete: DeleteTypeDef = {
                "TableName": self.table_name,
                "Key": self._key(user_id, APP + app_id),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
            if seq is None:
                delete["ConditionExpression"] = condition + " AND (attribute_not_exists(iv_count) OR iv_count = :zero)"
                delete["ExpressionAttributeValues"] = {**values, ":zero": {"N": "0"}}
            else:
                delete["ConditionExpression"] = condition + " AND iv_seq = :seq"
                delete["ExpressionAttributeValues"] = {**values, ":seq": seq}
            actions: list[TransactWriteItemTypeDef] = [
                {"ConditionCheck": self._live_profile(user_id, session)},
                {"Delete": delete},
            ]
            keys = [self._key(user_id, sk) for i in interviews for sk in (f"{IV}{app_id}#{i[1]}", _agenda_sk(i))]
            now, rest = keys[: _TRANSACTION_MAX - 2], keys[_TRANSACTION_MAX - 2 :]
            actions.extend({"Delete": {"TableName": self.table_name, "Key": key}} for key in now)
            failed = self._transact(actions)
            if failed is None:
                self._delete_rest(user_id, rest)
                return
            if failed[0] is not None:
                _checked_profile(failed[0], user_id, session)
                raise UserNotFound(user_id)
            old = failed[1]
            if not old:
                raise ApplicationNotFound(app_id)
            if expected_version is not None and int(old["version"]["N"]) != expected_version:
                raise VersionConflict(int(old["version"]["N"]))
            # It has interviews (or they changed since we read them): read them, then try again. The
            # condition on iv_seq (read before them) fails if an interview is written in between.
            seq = old.get("iv_seq", {"N": "0"})
            interviews = self._interview_keys(user_id, app_id)
        raise RuntimeError(f"the interviews of {app_id} keep changing while it is deleted")

    def _delete_rest(self, user_id: str, keys: Sequence[Item]) -> None:
        """Items of an application deleted by the transaction before (at most the last interview's two)."""
        for key in keys:
            self.client.delete_item(TableName=self.table_name, Key=key)

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

    # -- data in: an import ------------------------------------------------------------------------

    def add_applications(self, user_id: str, apps: Sequence[Application], session: Session | None = None) -> None:
        """Transactions of up to 99 applications plus the profile's check: each application is one
        item, so none is ever half written, and none is written once the account is being deleted."""
        if not apps:
            self._require_user(user_id, session)
            return
        chunks: list[list[TransactWriteItemTypeDef]] = []
        size = 0
        for app in apps:
            item = _app_item(self._key(user_id, APP + app.id), app)
            doc_size = len(item["doc"]["S"]) * 2  # a bound on its bytes in the request (its copies too)
            if not chunks or len(chunks[-1]) >= _IMPORT_CHUNK or size + doc_size > _IMPORT_CHUNK_BYTES:
                chunks.append([])
                size = 0
            put: TransactWriteItemTypeDef = {
                "Put": {"TableName": self.table_name, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}
            }
            chunks[-1].append(put)
            size += doc_size

        def write(chunk: list[TransactWriteItemTypeDef]) -> None:
            failed = self._transact([{"ConditionCheck": self._live_profile(user_id, session)}, *chunk])
            if failed is not None:
                if failed[0] is not None:
                    _checked_profile(failed[0], user_id, session)
                    raise UserNotFound(user_id)
                raise RuntimeError("an imported application's id is already taken")  # ids are random: a bug

        # One after another: each checks the profile item, and transactions on the same item at once
        # would cancel each other (TransactionConflict).
        for chunk in chunks:
            write(chunk)

    # -- the calendar feed -------------------------------------------------------------------------

    def set_feed(self, user_id: str, feed_hash: str | None, session: Session | None = None) -> None:
        for attempt in range(_ATTEMPTS):
            profile = _checked_profile(self._profile(user_id), user_id, session)
            old = profile.get("feed_hash", {}).get("S")
            check = self._live_profile(user_id, session)
            values: Item = {**check.get("ExpressionAttributeValues", {})}  # type: ignore[dict-item]
            condition = check["ConditionExpression"]
            if old is None:
                condition += " AND attribute_not_exists(feed_hash)"
            else:
                condition += " AND feed_hash = :old"
                values[":old"] = _s(old)
            if feed_hash is None:
                update = "REMOVE feed_hash"
            else:
                update = "SET feed_hash = :new"
                values[":new"] = _s(feed_hash)
            profile_update: dict[str, Any] = {
                "TableName": self.table_name,
                "Key": check["Key"],
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
            if values:
                profile_update["ExpressionAttributeValues"] = values
            if "ExpressionAttributeNames" in check:
                profile_update["ExpressionAttributeNames"] = check["ExpressionAttributeNames"]
            actions: list[TransactWriteItemTypeDef] = [{"Update": profile_update}]  # type: ignore[typeddict-item]
            if old is not None and old != feed_hash:
                actions.append({"Delete": {"TableName": self.table_name, "Key": _feed_key(old)}})
            if feed_hash is not None and feed_hash != old:
                item: Item = {**_feed_key(feed_hash), "user_id": _s(user_id)}
                actions.append({"Put": {"TableName": self.table_name, "Item": item}})
            failed = self._transact(actions)
            if failed is None:
                return
            _checked_profile(failed[0], user_id, session)  # gone or signed out: say so
            _pause(attempt)  # another rotation came first: read again
        raise RuntimeError(f"the calendar feed of {user_id} keeps changing")

    def feed_owner(self, feed_hash: str) -> str | None:
        out = self.client.get_item(TableName=self.table_name, Key=_feed_key(feed_hash), ConsistentRead=True)
        user_id = out.get("Item", {}).get("user_id", {}).get("S")
        if user_id is None:
            return None
        profile = self._profile(user_id)
        if not profile or "deleting" in profile or profile.get("feed_hash", {}).get("S") != feed_hash:
            return None  # a pointer left by an interrupted rotation or deletion: not the current feed
        return user_id

    # -- the person's settings and statistics ---------------------------------------------------

    def everything(self, user_id: str, session: Session | None = None) -> Everything:
        # "APP#" < "IDEM#" < "IV#" < "PROFILE": one Query reads the applications, their interviews
        # and the profile (the agenda copies sort before "APP#" and are not read).
        items = self._items(
            {
                "TableName": self.table_name,
                "KeyConditionExpression": "PK = :pk AND SK BETWEEN :app AND :profile",
                "ExpressionAttributeValues": {":pk": _s(f"USER#{user_id}"), ":app": _s(APP), ":profile": _s(PROFILE)},
                "ProjectionExpression": "SK, doc, #deleting, sessions_after, revoked, id, email, #name, picture, "
                "created_at, last_login_at, #tz, reminders_email, reminders_hour, reminders_listed_at, reminded_on",
                "ExpressionAttributeNames": {"#deleting": "deleting", "#name": "name", "#tz": "timezone"},
                "ConsistentRead": True,
            }
        )
        apps: list[Application] = []
        interviews: list[Interview] = []
        profile: Item | None = None
        for item in items:
            sk = item["SK"]["S"]
            if sk.startswith(APP):
                apps.append(_application(item))
            elif sk.startswith(IV):
                interviews.append(Interview.stored(item["doc"]["S"]))
            elif sk == PROFILE:
                profile = item
        checked = _checked_profile(profile, user_id, session)
        apps.reverse()  # newest first, as all_applications
        state = ReminderState(_listed_at(checked), checked["reminded_on"]["S"] if "reminded_on" in checked else None)
        return Everything(_user(checked), apps, interviews, state)

    # -- reminders -------------------------------------------------------------------------------

    def _relist(self, user_id: str, old: int | None, new: int | None) -> list[TransactWriteItemTypeDef]:
        """The list entries to delete and put when the person moves from the list of `old` to `new`."""
        actions: list[TransactWriteItemTypeDef] = []
        if old is not None and old != new:
            actions.append({"Delete": {"TableName": self.table_name, "Key": _list_key(old, user_id)}})
        if new is not None:
            item = {**_list_key(new, user_id), "user_id": _s(user_id)}
            actions.append({"Put": {"TableName": self.table_name, "Item": item}})
        return actions

    def update_settings(
        self, user_id: str, plan: Callable[[UserRecord], SettingsChange], session: Session | None = None
    ) -> UserRecord:
        for attempt in range(_ATTEMPTS):
            item = _checked_profile(self._profile(user_id), user_id, session)
            current = _user(item)
            change = plan(current)
            extra, names, values = _session_condition(session)
            version = item.get("settings_v", {"N": "0"})["N"]
            sets = "SET #tz = :tz, reminders_email = :email, reminders_hour = :hour, settings_v = :next"
            values = {
                **values,
                ":tz": _s(change.timezone),
                ":email": {"BOOL": change.reminders.email},
                ":hour": {"N": str(change.reminders.hour)},
                ":v": {"N": version},
                ":next": {"N": str(int(version) + 1)},
            }
            if change.listed_at is None:
                update = sets + " REMOVE reminders_listed_at"
            else:
                update = sets + ", reminders_listed_at = :listed"
                values[":listed"] = {"N": str(change.listed_at)}
            profile: TransactWriteItemTypeDef = {
                "Update": {
                    "TableName": self.table_name,
                    "Key": self._key(user_id, PROFILE),
                    "UpdateExpression": update,
                    "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(deleting) AND "
                    "(attribute_not_exists(settings_v) OR settings_v = :v)" + extra,
                    "ExpressionAttributeNames": {"#tz": "timezone", **names},
                    "ExpressionAttributeValues": values,
                }
            }
            if self._transact([profile, *self._relist(user_id, _listed_at(item), change.listed_at)]) is None:
                return current.model_copy(update={"timezone": change.timezone, "reminders": change.reminders})
            _pause(attempt)  # another change of the settings came first (or the session ended): read again
        raise RuntimeError(f"the settings of {user_id} keep changing")

    def reminder_list(self, hour: int) -> Sequence[ReminderEntry]:
        items = self._items(
            {
                "TableName": self.table_name,
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": _s(f"{REMIND}{hour:02d}")},
                "ProjectionExpression": "SK, user_id",
            }
        )
        entries = [ReminderEntry(item["user_id"]["S"], item["SK"]["S"].startswith("RETRY#")) for item in items]
        return sorted(entries, key=lambda e: (e.retry, e.user_id))

    def relist_reminders(self, user_id: str, expected: int, listed_at: int | None) -> bool:
        update: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": self.table_name,
                "Key": self._key(user_id, PROFILE),
                "UpdateExpression": (
                    "REMOVE reminders_listed_at" if listed_at is None else "SET reminders_listed_at = :new"
                )
                + " ADD settings_v :one",
                "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(deleting) AND "
                "reminders_listed_at = :expected",
                "ExpressionAttributeValues": {
                    ":expected": {"N": str(expected)},
                    ":one": {"N": "1"},
                    **({} if listed_at is None else {":new": {"N": str(listed_at)}}),
                },
            }
        }
        old: list[TransactWriteItemTypeDef] = [
            {"Delete": {"TableName": self.table_name, "Key": _list_key(expected, user_id)}}
        ]
        moves = self._relist(user_id, expected, listed_at) if listed_at != expected else []
        if self._transact([update, *moves]) is None:
            return True
        # The profile lists the person elsewhere, or is gone: the entry at `expected` is stale.
        self._transact(old)
        return False

    def set_reminder_retry(self, user_id: str, hour: int, retry: bool) -> None:
        key = _list_key(hour, user_id, retry=True)
        if retry:
            self.client.put_item(TableName=self.table_name, Item={**key, "user_id": _s(user_id)})
        else:
            self.client.delete_item(TableName=self.table_name, Key=key)

    def claim_reminder(self, user_id: str, day: str) -> bool:
        try:
            self._update_item(
                TableName=self.table_name,
                Key=self._key(user_id, PROFILE),
                UpdateExpression="SET reminded_on = :day",
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(deleting) AND "
                "reminders_email = :true AND (attribute_not_exists(reminded_on) OR reminded_on < :day)",
                ExpressionAttributeValues={":day": _s(day), ":true": {"BOOL": True}},
            )
        except ClientError as err:
            if not _condition_failed(err):
                raise
            return False
        return True

    def release_reminder(self, user_id: str, day: str, previous: str | None) -> None:
        values: Item = {":day": _s(day)}
        if previous is None:
            update = "REMOVE reminded_on"
        else:
            update = "SET reminded_on = :previous"
            values[":previous"] = _s(previous)
        try:
            self._update_item(
                TableName=self.table_name,
                Key=self._key(user_id, PROFILE),
                UpdateExpression=update,
                ConditionExpression="reminded_on = :day",
                ExpressionAttributeValues=values,
            )
        except ClientError as err:
            if not _condition_failed(err):
                raise

    # -- interviews ------------------------------------------------------------------------------

    def _application_item(
        self, user_id: str, app_id: str, session: Session | None, *sort_keys: str
    ) -> tuple[Item, dict[str, Item]]:
        """The live application item (else UserNotFound / SessionEnded / ApplicationNotFound) and
        what else was read with it, in one BatchGetItem."""
        found = self._read(user_id, APP + app_id, *sort_keys)
        _checked_profile(found.get(PROFILE), user_id, session)
        app = found.get(APP + app_id)
        if app is None:
            raise ApplicationNotFound(app_id)
        return app, found

    def _bump_application(self, user_id: str, app: Item, count_change: int) -> TransactWriteItemTypeDef:
        """The transaction action every interview write carries: the application is still the version
        whose company and role were copied, no other interview write came in between, and iv_seq moves."""
        seq = int(app.get("iv_seq", {"N": "0"})["N"])
        count = int(app.get("iv_count", {"N": "0"})["N"])
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": {"PK": app["PK"], "SK": app["SK"]},
                "UpdateExpression": "SET iv_count = :count, iv_seq = :next",
                "ConditionExpression": "version = :version AND "
                + ("iv_seq = :seq" if "iv_seq" in app else "attribute_not_exists(iv_seq)"),
                "ExpressionAttributeValues": {
                    ":count": {"N": str(count + count_change)},
                    ":next": {"N": str(seq + 1)},
                    ":version": app["version"],
                    **({":seq": app["iv_seq"]} if "iv_seq" in app else {}),
                },
            }
        }

    def _interview_items(self, user_id: str, interview: Interview, app: Item) -> tuple[Item, Item]:
        doc = _s(interview.model_dump_json())
        before = _application(app)
        stored: Item = {
            **self._key(user_id, f"{IV}{interview.application_id}#{interview.id}"),
            "doc": doc,
            "version": {"N": str(interview.version)},
            "starts_at": _s(interview.starts_at),
        }
        agenda: Item = {
            **self._key(user_id, _agenda_sk((interview.starts_at, interview.id))),
            "doc": doc,
            "company": _s(before.company),
            "role": _s(before.role),
        }
        return stored, agenda

    def _interview_write(
        self, user_id: str, interview_id: str, session: Session | None, actions: list[TransactWriteItemTypeDef]
    ) -> bool:
        """Run an interview write (the profile check first, the application's bump second): True when it
        committed, False when the application changed meanwhile (read again); the other failures raised."""
        failed = self._transact([{"ConditionCheck": self._live_profile(user_id, session)}, *actions])
        if failed is None:
            return True
        if failed[0] is not None:
            _checked_profile(failed[0], user_id, session)
            raise UserNotFound(user_id)
        if failed[1] is not None:
            return False
        seen = failed[2]
        if not seen:
            raise InterviewNotFound(interview_id)
        raise VersionConflict(int(seen["version"]["N"]))

    def create_interview(self, user_id: str, interview: Interview, session: Session | None = None) -> None:
        for attempt in range(_ATTEMPTS):
            app, _ = self._application_item(user_id, interview.application_id, session)
            if int(app.get("iv_count", {"N": "0"})["N"]) >= MAX_INTERVIEWS:
                raise TooManyInterviews(interview.application_id)
            stored, agenda = self._interview_items(user_id, interview, app)
            actions: list[TransactWriteItemTypeDef] = [
                self._bump_application(user_id, app, +1),
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": stored,
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {"Put": {"TableName": self.table_name, "Item": agenda}},
            ]
            if self._interview_write(user_id, interview.id, session, actions):
                return
            _pause(attempt)
        raise RuntimeError(f"application {interview.application_id} keeps changing")

    def get_interview(self, user_id: str, app_id: str, interview_id: str, session: Session | None = None) -> Interview:
        _, item = self._interview_and_application(user_id, app_id, interview_id, session)
        return Interview.stored(item["doc"]["S"])

    def list_interviews(self, user_id: str, app_id: str, session: Session | None = None) -> Sequence[Interview]:
        self._application_item(user_id, app_id, session)
        found = self._interviews_of(user_id, app_id, "doc")
        interviews = [Interview.stored(item["doc"]["S"]) for item in found]
        return sorted(interviews, key=lambda i: (i.starts_at, i.id))

    def _interview_and_application(
        self, user_id: str, app_id: str, interview_id: str, session: Session | None
    ) -> tuple[Item, Item]:
        sk = f"{IV}{app_id}#{interview_id}"
        app, found = self._application_item(user_id, app_id, session, sk)
        if sk not in found:
            raise InterviewNotFound(interview_id)
        return app, found[sk]

    def replace_interview(
        self, user_id: str, interview: Interview, expected_version: int, session: Session | None = None
    ) -> None:
        for attempt in range(_ATTEMPTS):
            app, old = self._interview_and_application(user_id, interview.application_id, interview.id, session)
            stored, agenda = self._interview_items(user_id, interview, app)
            if int(old["version"]["N"]) != expected_version:
                if old["doc"] == stored["doc"]:
                    return  # an earlier attempt landed
                raise VersionConflict(int(old["version"]["N"]))
            actions: list[TransactWriteItemTypeDef] = [
                self._bump_application(user_id, app, 0),
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": stored,
                        "ConditionExpression": "version = :expected",
                        "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
            if old["starts_at"]["S"] != interview.starts_at:
                old_agenda = self._key(user_id, _agenda_sk((old["starts_at"]["S"], interview.id)))
                actions.append({"Delete": {"TableName": self.table_name, "Key": old_agenda}})
            actions.append({"Put": {"TableName": self.table_name, "Item": agenda}})
            if self._interview_write(user_id, interview.id, session, actions):
                return
            _pause(attempt)
        raise RuntimeError(f"application {interview.application_id} keeps changing")

    def delete_interview(
        self,
        user_id: str,
        app_id: str,
        interview_id: str,
        expected_version: int | None,
        session: Session | None = None,
    ) -> None:
        for attempt in range(_ATTEMPTS):
            app, old = self._interview_and_application(user_id, app_id, interview_id, session)
            if expected_version is not None and int(old["version"]["N"]) != expected_version:
                raise VersionConflict(int(old["version"]["N"]))
            delete: DeleteTypeDef = {
                "TableName": self.table_name,
                "Key": {"PK": old["PK"], "SK": old["SK"]},
                "ConditionExpression": "version = :seen",
                "ExpressionAttributeValues": {":seen": old["version"]},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
            agenda_key = self._key(user_id, _agenda_sk((old["starts_at"]["S"], interview_id)))
            actions: list[TransactWriteItemTypeDef] = [
                self._bump_application(user_id, app, -1),
                {"Delete": delete},
                {"Delete": {"TableName": self.table_name, "Key": agenda_key}},
            ]
            if self._interview_write(user_id, interview_id, session, actions):
                return
            _pause(attempt)
        raise RuntimeError(f"application {app_id} keeps changing")

    def agenda(
        self,
        user_id: str,
        start: str,
        end: str,
        limit: int,
        after: tuple[str, str] | None,
        session: Session | None = None,
    ) -> AgendaPage:
        self._require_user(user_id, session)
        query: QueryInputTypeDef = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :from AND :to",
            "ExpressionAttributeValues": {
                ":pk": _s(f"USER#{user_id}"),
                ":from": _s(AGENDA + start),
                ":to": _s(AGENDA + end),
            },
            "ConsistentRead": True,
            "Limit": limit + 1,
        }
        if after is not None:
            # A cursor need not fall in this window (its query's "now" moved, or the person's time
            # zone did); DynamoDB refuses a start key outside the key condition, so clamp it as
            # SQLite's comparison does: past the end, nothing more; before the start, from the start.
            after_key = _agenda_sk(after)
            if after_key >= AGENDA + end:
                return AgendaPage(items=[], has_more=False)
            if after_key >= AGENDA + start:
                query["ExclusiveStartKey"] = self._key(user_id, after_key)
        found = list(itertools.islice(self._items(query), limit + 1))
        items = [AgendaItem.of(item["doc"]["S"], item["company"]["S"], item["role"]["S"]) for item in found[:limit]]
        return AgendaPage(items=items, has_more=len(found) > limit)


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
    import argparse  # the command line only: not on a DynamoDB stage's cold start

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
