"""The Store on SQLite (stdlib): the default for the dev stage and `chalice local`.

One file, schema created on first use. Each thread gets its own connection (chalice local
serves requests on threads); every write is one transaction, and updates are conditional on
the version, so concurrent writers conflict instead of overwriting each other.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from chalicelib.models import Application, UserOut, UserRecord
from chalicelib.store.base import ApplicationNotFound, ListFilter, Page, UserNotFound, VersionConflict

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT,
    picture TEXT,
    created_at TEXT NOT NULL,
    last_login_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hits (
    key TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS applications (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    company_lc TEXT NOT NULL,
    role_lc TEXT NOT NULL,
    tags_lc TEXT NOT NULL,
    next_follow_up_on TEXT,
    doc TEXT NOT NULL,
    PRIMARY KEY (user_id, id)
) WITHOUT ROWID;
"""


def _columns(user_id: str, app: Application) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "id": app.id,
        "version": app.version,
        "status": app.status.value,
        "company_lc": app.company.lower(),
        "role_lc": app.role.lower(),
        "tags_lc": json.dumps([t.lower() for t in app.tags]),
        "next_follow_up_on": app.next_follow_up_on.isoformat() if app.next_follow_up_on else None,
        "doc": app.model_dump_json(),
    }


class SqliteStore:
    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            folder = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(folder, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(SCHEMA)
            self._local.conn = conn
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- users ---------------------------------------------------------------------------------

    def sign_in(self, user: UserOut, now: str) -> UserRecord:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO users (id, email, name, picture, created_at, last_login_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, "
                "picture = excluded.picture, last_login_at = excluded.last_login_at",
                (user.id, user.email, user.name, user.picture, now, now),
            )
            return self._user(conn, user.id)

    def get_user(self, user_id: str) -> UserRecord:
        return self._user(self._connection(), user_id)

    def _user(self, conn: sqlite3.Connection, user_id: str) -> UserRecord:
        row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        if row is None:
            raise UserNotFound(user_id)
        return UserRecord.model_validate(dict(row))

    def delete_user(self, user_id: str) -> None:
        with self._transaction() as conn:
            if conn.execute("DELETE FROM users WHERE id = ?", (user_id,)).rowcount == 0:
                raise UserNotFound(user_id)

    def _require_user(self, conn: sqlite3.Connection, user_id: str) -> None:
        if conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is None:
            raise UserNotFound(user_id)

    # -- applications --------------------------------------------------------------------------

    def create_application(self, user_id: str, app: Application) -> None:
        columns = _columns(user_id, app)
        with self._transaction() as conn:
            self._require_user(conn, user_id)
            names = ", ".join(columns)
            marks = ", ".join("?" for _ in columns)
            conn.execute(f"INSERT INTO applications ({names}) VALUES ({marks})", tuple(columns.values()))  # noqa: S608

    def get_application(self, user_id: str, app_id: str) -> Application:
        conn = self._connection()
        self._require_user(conn, user_id)
        row = conn.execute("SELECT doc FROM applications WHERE user_id = ? AND id = ?", (user_id, app_id)).fetchone()
        if row is None:
            raise ApplicationNotFound(app_id)
        return Application.model_validate_json(row["doc"])

    def replace_application(self, user_id: str, app: Application, expected_version: int) -> None:
        columns = _columns(user_id, app)
        with self._transaction() as conn:
            updated = conn.execute(
                "UPDATE applications SET version = :version, status = :status, company_lc = :company_lc, role_lc = :role_lc, "
                "tags_lc = :tags_lc, "
                "next_follow_up_on = :next_follow_up_on, doc = :doc "
                "WHERE user_id = :user_id AND id = :id AND version = :expected",
                {**columns, "expected": expected_version},
            ).rowcount
            if updated == 0:
                self._conflict(conn, user_id, app.id)

    def delete_application(self, user_id: str, app_id: str, expected_version: int | None) -> None:
        with self._transaction() as conn:
            self._require_user(conn, user_id)
            sql = "DELETE FROM applications WHERE user_id = ? AND id = ?"
            params: tuple[Any, ...] = (user_id, app_id)
            if expected_version is not None:
                sql += " AND version = ?"
                params += (expected_version,)
            if conn.execute(sql, params).rowcount == 0:
                self._conflict(conn, user_id, app_id)

    def _conflict(self, conn: sqlite3.Connection, user_id: str, app_id: str) -> None:
        """Why a conditional write matched nothing: the application is gone, or its version moved."""
        row = conn.execute(
            "SELECT version FROM applications WHERE user_id = ? AND id = ?", (user_id, app_id)
        ).fetchone()
        if row is None:
            raise ApplicationNotFound(app_id)
        raise VersionConflict(int(row["version"]))

    def list_applications(self, user_id: str, flt: ListFilter, limit: int, after_id: str | None) -> Page:
        conn = self._connection()
        self._require_user(conn, user_id)
        where = ["user_id = ?"]
        params: list[Any] = [user_id]
        if after_id is not None:
            where.append("id < ?")
            params.append(after_id)
        if flt.statuses:
            where.append(f"status IN ({', '.join('?' for _ in flt.statuses)})")
            params.extend(sorted(s.value for s in flt.statuses))
        if flt.tag is not None:
            where.append("EXISTS (SELECT 1 FROM json_each(tags_lc) WHERE value = ?)")
            params.append(flt.tag.lower())
        if flt.q is not None:
            where.append("(instr(company_lc, ?) > 0 OR instr(role_lc, ?) > 0)")
            params.extend([flt.q, flt.q])
        if flt.follow_up_due_by is not None:
            where.append("next_follow_up_on IS NOT NULL AND next_follow_up_on <= ?")
            params.append(flt.follow_up_due_by.isoformat())
        sql = f"SELECT doc FROM applications WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?"  # noqa: S608
        rows = conn.execute(sql, (*params, limit + 1)).fetchall()
        items = [Application.model_validate_json(r["doc"]) for r in rows[:limit]]
        return Page(items=items, has_more=len(rows) > limit)

    def count_hit(self, key: str, window_start: int, expires_at: int) -> int:
        with self._transaction() as conn:
            conn.execute("DELETE FROM hits WHERE expires_at < ?", (window_start,))
            row = conn.execute(
                "INSERT INTO hits (key, window_start, count, expires_at) VALUES (?, ?, 1, ?) "
                "ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1 RETURNING count",
                (key, window_start, expires_at),
            ).fetchone()
            return int(row["count"])

    def all_applications(self, user_id: str) -> Sequence[Application]:
        conn = self._connection()
        self._require_user(conn, user_id)
        rows = conn.execute("SELECT doc FROM applications WHERE user_id = ? ORDER BY id DESC", (user_id,)).fetchall()
        return [Application.model_validate_json(r["doc"]) for r in rows]
