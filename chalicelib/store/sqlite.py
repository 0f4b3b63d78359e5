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

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT,
    picture TEXT,
    created_at TEXT NOT NULL,
    last_login_at TEXT NOT NULL,
    sessions_after TEXT NOT NULL DEFAULT '',
    revoked TEXT NOT NULL DEFAULT '{}',
    timezone TEXT NOT NULL DEFAULT 'UTC',
    reminders_email INTEGER NOT NULL DEFAULT 0,
    reminders_hour INTEGER NOT NULL DEFAULT 8,
    reminders_listed_at INTEGER,
    reminded_on TEXT
);
CREATE TABLE IF NOT EXISTS reminder_list (
    hour INTEGER NOT NULL,
    retry INTEGER NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (hour, retry, user_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reminder_list_by_user ON reminder_list (user_id);
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
    contacts_lc TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (user_id, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS interviews (
    user_id TEXT NOT NULL,
    application_id TEXT NOT NULL,
    id TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (user_id, application_id, id),
    FOREIGN KEY (user_id, application_id) REFERENCES applications (user_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS interviews_by_start ON interviews (user_id, starts_at, id);
CREATE TABLE IF NOT EXISTS idempotency (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key_hash TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    response TEXT NOT NULL,
    created_s INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key_hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS feeds (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    hash TEXT NOT NULL UNIQUE
) WITHOUT ROWID;
"""
# Schema versions (PRAGMA user_version): 1 added the users' session columns; 2 the users' timezone
# and the applications' contacts_lc (and the interviews table). A file made before gets the columns
# on first open; CREATE TABLE IF NOT EXISTS adds new tables by itself. 3: the reminder columns
# (and the reminder_list table).
SCHEMA_VERSION = 3
_NEW_COLUMNS = {
    "users": {
        "sessions_after": "TEXT NOT NULL DEFAULT ''",
        "revoked": "TEXT NOT NULL DEFAULT '{}'",
        "timezone": "TEXT NOT NULL DEFAULT 'UTC'",
        "reminders_email": "INTEGER NOT NULL DEFAULT 0",
        "reminders_hour": "INTEGER NOT NULL DEFAULT 8",
        "reminders_listed_at": "INTEGER",
        "reminded_on": "TEXT",
    },
    # '[]' is right for every row made before: contacts came with version 2.
    "applications": {"contacts_lc": "TEXT NOT NULL DEFAULT '[]'"},
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
        "contacts_lc": json.dumps([v.lower() for c in app.contacts for v in (c.name, c.email) if v]),
    }


def _sessions(row: sqlite3.Row) -> Sessions:
    return Sessions(str(row["sessions_after"]), json.loads(row["revoked"]))


def _user(row: sqlite3.Row) -> UserRecord:
    fields: dict[str, Any] = {name: row[name] for name in UserRecord.model_fields if name != "reminders"}
    fields["reminders"] = Reminders(email=bool(row["reminders_email"]), hour=int(row["reminders_hour"]))
    return UserRecord.model_validate(fields)


class SqliteStore:
    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        # Threads open their connections one at a time: switching to WAL and creating or migrating
        # the schema from several connections at once can fail with "database is locked" at once,
        # without waiting out the busy timeout.
        self._opening = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            with self._opening:
                conn = self._open()
            self._local.conn = conn
        return conn

    def _open(self) -> sqlite3.Connection:
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
        return conn

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table, columns in _NEW_COLUMNS.items():
                present = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
                for name, declaration in columns.items():
                    if name not in present:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
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
        return _user(row)

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
                "tags_lc = :tags_lc, contacts_lc = :contacts_lc, "
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
        if flt.contact is not None:
            where.append("EXISTS (SELECT 1 FROM json_each(contacts_lc) WHERE instr(value, ?) > 0)")
            params.append(flt.contact)
        if flt.follow_up_due_by is not None:
            where.append("next_follow_up_on IS NOT NULL AND next_follow_up_on <= ?")
            params.append(flt.follow_up_due_by.isoformat())
        sql = f"SELECT doc FROM applications WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?"  # noqa: S608
        rows = conn.execute(sql, (*params, limit + 1)).fetchall()
        items = [Application.stored(r["doc"]) for r in rows[:limit]]
        return Page(items=items, has_more=len(rows) > limit)

    def add_applications(self, user_id: str, apps: Sequence[Application], session: Session | None = None) -> None:
        if not apps:
            self._require_user(self._connection(), user_id, session)
            return
        rows = [_columns(user_id, app) for app in apps]
        names = ", ".join(rows[0])
        marks = ", ".join(f":{name}" for name in rows[0])
        with self._transaction() as conn:  # one transaction: all of them or none
            self._require_user(conn, user_id, session)
            conn.executemany(f"INSERT INTO applications ({names}) VALUES ({marks})", rows)  # noqa: S608

    def set_feed(self, user_id: str, feed_hash: str | None, session: Session | None = None) -> None:
        with self._transaction() as conn:
            self._require_user(conn, user_id, session)
            conn.execute("DELETE FROM feeds WHERE user_id = ?", (user_id,))
            if feed_hash is not None:
                conn.execute("INSERT INTO feeds (user_id, hash) VALUES (?, ?)", (user_id, feed_hash))

    def feed_owner(self, feed_hash: str) -> str | None:
        row = self._connection().execute("SELECT user_id FROM feeds WHERE hash = ?", (feed_hash,)).fetchone()
        return None if row is None else str(row["user_id"])

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

    # -- the person's settings and statistics ---------------------------------------------------

    def everything(self, user_id: str, session: Session | None = None) -> Everything:
        conn = self._connection()
        conn.execute("BEGIN")  # one snapshot for the three reads
        try:
            profile = self._user(conn, user_id, session)
            row = conn.execute("SELECT reminders_listed_at, reminded_on FROM users WHERE id = ?", (user_id,)).fetchone()
            state = ReminderState(row["reminders_listed_at"], row["reminded_on"])
            apps = conn.execute("SELECT doc FROM applications WHERE user_id = ? ORDER BY id DESC", (user_id,))
            applications = [Application.stored(r["doc"]) for r in apps.fetchall()]
            rows = conn.execute("SELECT doc FROM interviews WHERE user_id = ?", (user_id,)).fetchall()
        finally:
            conn.execute("COMMIT")
        return Everything(profile, applications, [Interview.stored(r["doc"]) for r in rows], state)

    # -- reminders -------------------------------------------------------------------------------

    def update_settings(
        self, user_id: str, plan: Callable[[UserRecord], SettingsChange], session: Session | None = None
    ) -> UserRecord:
        with self._transaction() as conn:
            change = plan(self._user(conn, user_id, session))
            conn.execute(
                "UPDATE users SET timezone = ?, reminders_email = ?, reminders_hour = ?, reminders_listed_at = ? "
                "WHERE id = ?",
                (change.timezone, int(change.reminders.email), change.reminders.hour, change.listed_at, user_id),
            )
            conn.execute("DELETE FROM reminder_list WHERE user_id = ? AND retry = 0", (user_id,))
            if change.listed_at is not None:
                conn.execute(
                    "INSERT INTO reminder_list (hour, retry, user_id) VALUES (?, 0, ?)", (change.listed_at, user_id)
                )
            return self._user(conn, user_id, None)

    def reminder_list(self, hour: int) -> Sequence[ReminderEntry]:
        rows = self._connection().execute(
            "SELECT user_id, retry FROM reminder_list WHERE hour = ? ORDER BY retry, user_id", (hour,)
        )
        return [ReminderEntry(r["user_id"], bool(r["retry"])) for r in rows.fetchall()]

    def relist_reminders(self, user_id: str, expected: int, listed_at: int | None) -> bool:
        with self._transaction() as conn:
            row = conn.execute("SELECT reminders_listed_at FROM users WHERE id = ?", (user_id,)).fetchone()
            if row is None or row["reminders_listed_at"] != expected:
                conn.execute(
                    "DELETE FROM reminder_list WHERE user_id = ? AND hour = ? AND retry = 0", (user_id, expected)
                )
                return False
            conn.execute("UPDATE users SET reminders_listed_at = ? WHERE id = ?", (listed_at, user_id))
            conn.execute("DELETE FROM reminder_list WHERE user_id = ? AND retry = 0", (user_id,))
            if listed_at is not None:
                conn.execute("INSERT INTO reminder_list (hour, retry, user_id) VALUES (?, 0, ?)", (listed_at, user_id))
            return True

    def set_reminder_retry(self, user_id: str, hour: int, retry: bool) -> None:
        with self._transaction() as conn:
            if not retry:
                conn.execute("DELETE FROM reminder_list WHERE user_id = ? AND hour = ? AND retry = 1", (user_id, hour))
            elif conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is not None:
                conn.execute(
                    "INSERT OR IGNORE INTO reminder_list (hour, retry, user_id) VALUES (?, 1, ?)", (hour, user_id)
                )

    def claim_reminder(self, user_id: str, day: str) -> bool:
        with self._transaction() as conn:
            claimed = conn.execute(
                "UPDATE users SET reminded_on = ? WHERE id = ? AND reminders_email = 1 "
                "AND (reminded_on IS NULL OR reminded_on < ?)",
                (day, user_id, day),
            )
            return claimed.rowcount == 1

    def release_reminder(self, user_id: str, day: str, previous: str | None) -> None:
        with self._transaction() as conn:
            conn.execute("UPDATE users SET reminded_on = ? WHERE id = ? AND reminded_on = ?", (previous, user_id, day))

    # -- interviews ------------------------------------------------------------------------------

    def _require_application(self, conn: sqlite3.Connection, user_id: str, app_id: str) -> None:
        row = conn.execute("SELECT 1 FROM applications WHERE user_id = ? AND id = ?", (user_id, app_id)).fetchone()
        if row is None:
            raise ApplicationNotFound(app_id)

    def create_interview(self, user_id: str, interview: Interview, session: Session | None = None) -> None:
        with self._transaction() as conn:
            self._require_user(conn, user_id, session)
            self._require_application(conn, user_id, interview.application_id)
            count = conn.execute(
                "SELECT count(*) FROM interviews WHERE user_id = ? AND application_id = ?",
                (user_id, interview.application_id),
            ).fetchone()[0]
            if count >= MAX_INTERVIEWS:
                raise TooManyInterviews(interview.application_id)
            conn.execute(
                "INSERT INTO interviews (user_id, application_id, id, starts_at, version, doc) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    user_id,
                    interview.application_id,
                    interview.id,
                    interview.starts_at,
                    interview.version,
                    interview.model_dump_json(),
                ),
            )

    def get_interview(self, user_id: str, app_id: str, interview_id: str, session: Session | None = None) -> Interview:
        conn = self._connection()
        self._require_user(conn, user_id, session)
        self._require_application(conn, user_id, app_id)
        row = conn.execute(
            "SELECT doc FROM interviews WHERE user_id = ? AND application_id = ? AND id = ?",
            (user_id, app_id, interview_id),
        ).fetchone()
        if row is None:
            raise InterviewNotFound(interview_id)
        return Interview.stored(row["doc"])

    def list_interviews(self, user_id: str, app_id: str, session: Session | None = None) -> Sequence[Interview]:
        conn = self._connection()
        self._require_user(conn, user_id, session)
        self._require_application(conn, user_id, app_id)
        rows = conn.execute(
            "SELECT doc FROM interviews WHERE user_id = ? AND application_id = ? ORDER BY starts_at, id",
            (user_id, app_id),
        ).fetchall()
        return [Interview.stored(r["doc"]) for r in rows]

    def replace_interview(
        self, user_id: str, interview: Interview, expected_version: int, session: Session | None = None
    ) -> None:
        with self._transaction() as conn:
            self._require_user(conn, user_id, session)
            self._require_application(conn, user_id, interview.application_id)
            updated = conn.execute(
                "UPDATE interviews SET starts_at = ?, version = ?, doc = ? "
                "WHERE user_id = ? AND application_id = ? AND id = ? AND version = ?",
                (
                    interview.starts_at,
                    interview.version,
                    interview.model_dump_json(),
                    user_id,
                    interview.application_id,
                    interview.id,
                    expected_version,
                ),
            ).rowcount
            if updated == 0:
                self._interview_conflict(conn, user_id, interview.application_id, interview.id)

    def delete_interview(
        self,
        user_id: str,
        app_id: str,
        interview_id: str,
        expected_version: int | None,
        session: Session | None = None,
    ) -> None:
        with self._transaction() as conn:
            self._require_user(conn, user_id, session)
            self._require_application(conn, user_id, app_id)
            sql = "DELETE FROM interviews WHERE user_id = ? AND application_id = ? AND id = ?"
            params: tuple[Any, ...] = (user_id, app_id, interview_id)
            if expected_version is not None:
                sql += " AND version = ?"
                params += (expected_version,)
            if conn.execute(sql, params).rowcount == 0:
                self._interview_conflict(conn, user_id, app_id, interview_id)

    @staticmethod
    def _interview_conflict(conn: sqlite3.Connection, user_id: str, app_id: str, interview_id: str) -> None:
        row = conn.execute(
            "SELECT version FROM interviews WHERE user_id = ? AND application_id = ? AND id = ?",
            (user_id, app_id, interview_id),
        ).fetchone()
        if row is None:
            raise InterviewNotFound(interview_id)
        raise VersionConflict(int(row["version"]))

    def agenda(
        self,
        user_id: str,
        start: str,
        end: str,
        limit: int,
        after: tuple[str, str] | None,
        session: Session | None = None,
    ) -> AgendaPage:
        conn = self._connection()
        self._require_user(conn, user_id, session)
        low = after if after is not None else (start, "")
        rows = conn.execute(
            "SELECT i.doc, a.doc AS app FROM interviews i JOIN applications a "
            "ON a.user_id = i.user_id AND a.id = i.application_id "
            "WHERE i.user_id = ? AND (i.starts_at, i.id) > (?, ?) AND i.starts_at >= ? AND i.starts_at < ? "
            "ORDER BY i.starts_at, i.id LIMIT ?",
            (user_id, low[0], low[1], start, end, limit + 1),
        ).fetchall()
        items = []
        for row in rows[:limit]:
            app = json.loads(row["app"])
            items.append(AgendaItem.of(row["doc"], app["company"], app["role"]))
        return AgendaPage(items=items, has_more=len(rows) > limit)
