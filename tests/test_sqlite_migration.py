"""A SQLite file made before sessions existed opens, keeps its data and gains what sessions need."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from chalicelib import ids
from chalicelib.store.base import Session
from chalicelib.store.sqlite import SCHEMA_VERSION, SqliteStore

BEFORE_SESSIONS = """
CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT, picture TEXT,
                    created_at TEXT NOT NULL, last_login_at TEXT NOT NULL);
INSERT INTO users VALUES ('u1', 'u1@example.com', 'U', NULL, '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z');
"""


def test_a_file_from_before_sessions_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(BEFORE_SESSIONS)
    store = SqliteStore(str(path))
    token = ids.new_id()
    assert store.get_user("u1", Session("u1", token)).email == "u1@example.com"  # old tokens still work
    store.update_sessions("u1", Session("u1", token), lambda s: s.revoke(token, 2_000_000_000, 0))
    assert store._connection().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    reopened = SqliteStore(str(path))
    columns = {row[1] for row in reopened._connection().execute("PRAGMA table_info(users)")}
    assert {"sessions_after", "revoked"} <= columns
    assert reopened.get_user("u1").name == "U"
