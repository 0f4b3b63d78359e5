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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

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

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT,
    picture TEXT,
    created_at TEXT NOT NULL,
    last_login_at TEXT NOT NULL,
    sessions_after TEXT NOT NULL DEFAULT '',
    revoked TEXT NOT NULL DEFAULT '{}'
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
CREATE TABLE IF NOT EXISTS idempotency (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key_hash TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    response TEXT NOT NULL,
    created_s INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key_hash)
) WITHOUT ROWID;
"""
# Schema versions (PRAGMA user_version): 1 added the users' session columns. A file made before
# gets them on first open; CREATE TABLE IF NOT EXISTS adds new tables by itself.
SCHEMA_VERSION = 1
_USER_COLUMNS = {
    "sessions_after": "TEXT NOT NULL DEFAULT ''",
    "revoked": "TEXT NOT NULL DEFAULT '{}'",
}


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


def _sessions(row: sqlite3.Row) -> Sessions:
    return Sessions(str(row["sessions_after"]), json.loads(row["revoked"]))


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
            if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                self._migrate(conn)
            self._local.conn = conn
        return conn

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            present = {row["name"] for row in conn.execute("PRAGMA table_info(users)")}
            for name, declaration in _USER_COLUMNS.items():
                if name not in present:
                    conn.execute(f"ALTER TABLE users ADD COLUMN {name} {declaration}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

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

    def sign_in(self, user: UserOut, now: str, sessions_after: str = "") -> UserRecord:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO users (id, email, name, picture, created_at, last_login_at, sessions_after) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, "
                "picture = excluded.picture, last_login_at = excluded.last_login_at",
                (user.id, user.email, user.name, user.picture, now, now, sessions_after),
            )
            return self._user(conn, user.id, None)

    def get_user(self, user_id: str, session: Session | None = None) -> UserRecord:
        return self._user(self._connection(), user_id, session)

    def _user(self, conn: sqlite3.Connection, user_id: str, session: Session | None) -> UserRecord:
        row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        if row is None:
            raise UserNotFound(user_id)
        if session is not None and not _sessions(row).admits(session):
            raise SessionEnded(user_id)
        return UserRecord.model_validate({name: row[name] for name in UserRecord.model_fields})

    def update_sessions(self, user_id: str, session: Session, change: Callable[[Sessions], Sessions]) -> None:
        with self._transaction() as conn:
            self._user(conn, user_id, session)
            row = conn.execute("SELECT sessions_after, revoked FROM users WHERE id = ?", (user_id,)).fetchone()
            new = change(_sessions(row))
            conn.execute(
                "UPDATE users SET sessions_after = ?, revoked = ? WHERE id = ?",
                (new.after, json.dumps(dict(new.revoked)), user_id),
            )

    def delete_user(self, user_id: str, session: Session | None = None) -> None:
        with self._transaction() as conn:
            self._user(conn, user_id, session)
            conn.execute("DELETE FROM users WHERE id = ?", (user_id,))

    def _require_user(self, conn: sqlite3.Connection, user_id: str, session: Session | None = None) -> None:
        self._user(conn, user_id, session)

    # -- applications --------------------------------------------------------------------------

    def create_application(
        self,
        user_id: str,
        app: Application,
        session: Session | None = None,
        idempotency: IdempotentCreate | None = None,
    ) -> None:
        columns = _columns(user_id, app)
        with self._transaction() as conn:
            self._require_user(conn, user_id, session)
            if idempotency is not None:
                taken = self._idempotent(conn, user_id, idempotency.key_hash)
                if taken is not None and taken.expires_at > idempotency.created_s:
                    raise IdempotencyKeyTaken(taken)
                conn.execute(
                    "INSERT INTO idempotency (user_id, key_hash, fingerprint, response, created_s, expires_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, key_hash) DO UPDATE SET "
                    "fingerprint = excluded.fingerprint, response = excluded.response, "
                    "created_s = excluded.created_s, expires_at = excluded.expires_at",
                    (
                        user_id,
                        idempotency.key_hash,
                        idempotency.fingerprint,
                        idempotency.response,
                        idempotency.created_s,
                        idempotency.expires_at,
                    ),
                )
                conn.execute(
                    "DELETE FROM idempotency WHERE user_id = ? AND expires_at <= ?", (user_id, idempotency.created_s)
                )
            names = ", ".join(columns)
            marks = ", ".join("?" for _ in columns)
            conn.execute(f"INSERT INTO applications ({names}) VALUES ({marks})", tuple(columns.values()))  # noqa: S608

    @staticmethod
    def _idempotent(conn: sqlite3.Connection, user_id: str, key_hash: str) -> IdempotentCreate | None:
        row = conn.execute(
            "SELECT fingerprint, response, created_s, expires_at FROM idempotency WHERE user_id = ? AND key_hash = ?",
            (user_id, key_hash),
        ).fetchone()
        if row is None:
            return None
        return IdempotentCreate(
            key_hash, row["fingerprint"], int(row["created_s"]), int(row["expires_at"]), row["response"]
        )

    def get_application(self, user_id: str, app_id: str, session: Session | None = None) -> Application:
        conn = self._connection()
        self._require_user(conn, user_id, session)
        row = conn.execute("SELECT doc FROM applications WHERE user_id = ? AND id = ?", (user_id, app_id)).fetchone()
        if row is None:
            raise ApplicationNotFound(app_id)
        return Application.stored(row["doc"])

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

    def delete_application(
        self, user_id: str, app_id: str, expected_version: int | None, session: Session | None = None
    ) -> None:
        with self._transaction() as conn:
            self._require_user(conn, user_id, session)
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

    def list_applications(
        self, user_id: str, flt: ListFilter, limit: int, after_id: str | None, session: Session | None = None
    ) -> Page:
        conn = self._connection()
        self._require_user(conn, user_id, session)
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
        items = [Application.stored(r["doc"]) for r in rows[:limit]]
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

    def all_applications(self, user_id: str, session: Session | None = None) -> Sequence[Application]:
        conn = self._connection()
        self._require_user(conn, user_id, session)
        rows = conn.execute("SELECT doc FROM applications WHERE user_id = ? ORDER BY id DESC", (user_id,)).fetchall()
        return [Application.stored(r["doc"]) for r in rows]
