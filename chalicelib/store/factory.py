"""The Store a stage's settings ask for, created on first use and reused by warm invocations."""

from __future__ import annotations

from chalicelib.settings import Settings
from chalicelib.store.base import Store

_stores: dict[tuple[str, str, str | None], Store] = {}


def store_for(settings: Settings) -> Store:
    if settings.store_kind == "sqlite":
        key: tuple[str, str, str | None] = ("sqlite", settings.sqlite_path, None)
    else:
        key = ("dynamodb", settings.table_name, settings.dynamodb_endpoint_url)
    store = _stores.get(key)
    if store is None:
        # Imported here: the DynamoDB store pulls in boto3, which only a DynamoDB stage pays for.
        if key[0] == "sqlite":
            from chalicelib.store.sqlite import SqliteStore

            store = SqliteStore(key[1])
        else:
            from chalicelib.store.dynamodb import DynamoStore

            store = DynamoStore(key[1], endpoint_url=key[2])
        _stores[key] = store
    return store
