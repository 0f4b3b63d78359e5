"""Interviews and the agenda on DynamoDB Local: the key design, round trips, and renames racing interview writes."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

import pytest

from chalicelib.ids import new_id
from chalicelib.models import Interview
from chalicelib.store.base import Session
from chalicelib.store.dynamodb import DynamoStore
from tests.conftest import ROOT
from tests.store_oracle import set_timezone
from tests.test_dynamodb_store import (  # noqa: F401 (fixtures)
    NOW,
    Calls,
    application,
    calls,
    client,
    partition,
    store,
    table,
    user,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.slow
_ms = [1_810_000_000_000]


def interview(app_id: str, starts_at: str, **fields: Any) -> Interview:
    _ms[0] += 1
    return Interview.model_validate(
        {
            "kind": "technical",
            "starts_at": starts_at,
            **fields,
            "id": new_id(_ms[0]),
            "application_id": app_id,
            "created_at": NOW,
            "updated_at": NOW,
            "version": 1,
        }
    )


def test_the_key_design(store: DynamoStore, client: DynamoDBClient, table: str) -> None:  # noqa: F811
    who = user()
    store.sign_in(who, NOW)
    app = application()
    store.create_application(who.id, app)
    first = interview(app.id, "2026-12-03T14:00:00.000Z")
    store.create_interview(who.id, first)
    assert partition(client, table, who.id) == [
        f"AGENDA#2026-12-03T14:00:00.000Z#{first.id}",
        f"APP#{app.id}",
        f"IV#{app.id}#{first.id}",
        "PROFILE",
    ]
    item = client.get_item(TableName=table, Key={"PK": {"S": f"USER#{who.id}"}, "SK": {"S": f"APP#{app.id}"}})["Item"]
    assert (item["iv_count"], item["iv_seq"]) == ({"N": "1"}, {"N": "1"})
    moved = first.model_copy(update={"starts_at": "2026-12-04T09:00:00.000Z", "version": 2})
    store.replace_interview(who.id, moved, 1)
    assert f"AGENDA#2026-12-04T09:00:00.000Z#{first.id}" in partition(client, table, who.id)
    assert not any(sk.startswith("AGENDA#2026-12-03") for sk in partition(client, table, who.id))
    store.delete_interview(who.id, app.id, first.id, 2)
    assert partition(client, table, who.id) == [f"APP#{app.id}", "PROFILE"]
    store.create_interview(who.id, interview(app.id, "2026-12-05T10:00:00.000Z"))
    store.delete_user(who.id)
    assert partition(client, table, who.id) == []


def test_round_trips(store: DynamoStore, calls: Calls) -> None:  # noqa: F811
    who = user()
    store.sign_in(who, NOW)
    session = Session(who.id, new_id(_ms[0]))
    app = application()
    store.create_application(who.id, app)
    calls.take()
    made = interview(app.id, "2026-12-03T14:00:00.000Z")
    store.create_interview(who.id, made, session)
    assert calls.take() == ["BatchGetItem", "TransactWriteItems"]
    store.get_interview(who.id, app.id, made.id, session)
    assert calls.take() == ["BatchGetItem"]
    store.list_interviews(who.id, app.id, session)
    assert calls.take() == ["BatchGetItem", "Query"]
    page = store.agenda(who.id, "2026-12-01T00:00:00.000Z", "2026-12-15T00:00:00.000Z", 50, None, session)
    assert [i.id for i in page.items] == [made.id]
    assert calls.take() == ["GetItem", "Query"]  # the session check, then one Query: never a Scan
    store.everything(who.id, session)
    assert calls.take() == ["Query"]
    store.replace_interview(who.id, made.model_copy(update={"version": 2, "notes": "x"}), 1, session)
    assert calls.take() == ["BatchGetItem", "TransactWriteItems"]
    # An application with interviews: the one PutItem is refused, and the rename goes through one
    # transaction with the agenda copies.
    store.replace_application(who.id, app.model_copy(update={"version": 2, "company": "Initech"}), 1)
    assert calls.take() == ["PutItem", "Query", "TransactWriteItems"]
    assert (
        store.agenda(who.id, "2026-12-01T00:00:00.000Z", "2026-12-15T00:00:00.000Z", 50, None).items[0].company
        == "Initech"
    )
    calls.take()
    store.delete_application(who.id, app.id, 2, session)
    assert calls.take() == ["TransactWriteItems", "Query", "TransactWriteItems"]
    plain = application()
    store.create_application(who.id, plain)
    calls.take()
    store.replace_application(who.id, plain.model_copy(update={"version": 2, "company": "Initech"}), 1)
    store.delete_application(who.id, plain.id, 2, session)
    assert calls.take() == ["PutItem", "TransactWriteItems"]  # no interviews: as before


def test_renames_racing_interview_writes_leave_the_agenda_right(store: DynamoStore) -> None:  # noqa: F811
    who = user()
    store.sign_in(who, NOW)
    app = application(company="v0")
    store.create_application(who.id, app)
    errors: list[BaseException] = []

    def rename() -> None:
        current = app
        for n in range(1, 9):
            try:
                current = store.get_application(who.id, app.id)
                store.replace_application(
                    who.id,
                    current.model_copy(update={"version": current.version + 1, "company": f"v{n}"}),
                    current.version,
                )
            except Exception as exc:
                if type(exc).__name__ != "VersionConflict":
                    errors.append(exc)

    def add() -> None:
        try:
            for n in range(8):
                store.create_interview(who.id, interview(app.id, f"2026-12-{n + 1:02d}T10:00:00.000Z"))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=rename), threading.Thread(target=add), threading.Thread(target=add)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    final = store.get_application(who.id, app.id).company
    agenda = store.agenda(who.id, "2026-12-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z", 100, None)
    assert len(agenda.items) == 16
    assert {i.company for i in agenda.items} == {final}


def test_the_prod_policy_grants_what_interviews_use(store: DynamoStore, calls: Calls) -> None:  # noqa: F811
    who = user()
    store.sign_in(who, NOW)
    app = application()
    store.create_application(who.id, app)
    made = interview(app.id, "2026-12-03T14:00:00.000Z")
    store.create_interview(who.id, made)
    store.replace_interview(who.id, made.model_copy(update={"version": 2}), 1)
    store.agenda(who.id, "2026-12-01T00:00:00.000Z", "2026-12-15T00:00:00.000Z", 50, None)
    set_timezone(store, who.id, "Europe/Berlin")
    store.everything(who.id)
    store.replace_application(who.id, app.model_copy(update={"version": 2, "company": "X"}), 1)
    store.delete_interview(who.id, app.id, made.id, None)
    store.delete_application(who.id, app.id, None)
    store.delete_user(who.id)
    policy = json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())
    granted = {a for s in policy["Statement"] for a in s["Action"] if a.startswith("dynamodb:")}
    assert calls.actions <= granted


def _before_next_transaction(target: DynamoStore, step: Any) -> None:
    """Run `step` once, just before `target` sends its next TransactWriteItems (after its reads)."""
    done: list[bool] = []

    def hook(**_: Any) -> None:
        if not done:
            done.append(True)
            step()

    target.client.meta.events.register("before-call.dynamodb.TransactWriteItems", hook)


def test_an_interview_write_that_missed_a_rename_is_redone(
    store: DynamoStore,  # noqa: F811
    table: str,  # noqa: F811
    dynamodb_endpoint: str,
) -> None:
    from tests.dynamodb_fixtures import dynamo_client

    other = DynamoStore(table, client=dynamo_client(dynamodb_endpoint))
    who = user()
    store.sign_in(who, NOW)
    app = application(company="Before")
    store.create_application(who.id, app)

    def rename() -> None:
        current = other.get_application(who.id, app.id)
        renamed = current.model_copy(update={"version": current.version + 1, "company": "After"})
        other.replace_application(who.id, renamed, current.version)

    _before_next_transaction(store, rename)
    store.create_interview(who.id, interview(app.id, "2026-12-03T14:00:00.000Z"))
    agenda = store.agenda(who.id, "2026-12-01T00:00:00.000Z", "2026-12-15T00:00:00.000Z", 50, None)
    assert [i.company for i in agenda.items] == ["After"]


def test_two_creates_racing_for_the_last_place_leave_fifty(
    store: DynamoStore,  # noqa: F811
    table: str,  # noqa: F811
    dynamodb_endpoint: str,
) -> None:
    from chalicelib.store.base import TooManyInterviews
    from tests.dynamodb_fixtures import dynamo_client

    other = DynamoStore(table, client=dynamo_client(dynamodb_endpoint))
    who = user()
    store.sign_in(who, NOW)
    app = application()
    store.create_application(who.id, app)
    for n in range(49):
        other.create_interview(who.id, interview(app.id, f"2026-12-01T{n % 24:02d}:{n // 24:02d}:00.000Z"))
    _before_next_transaction(
        store, lambda: other.create_interview(who.id, interview(app.id, "2026-12-02T10:00:00.000Z"))
    )
    with pytest.raises(TooManyInterviews):
        store.create_interview(who.id, interview(app.id, "2026-12-02T11:00:00.000Z"))
    assert len(store.list_interviews(who.id, app.id)) == 50
