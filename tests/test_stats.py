"""The statistics on a hand-built history, on both stores: every expected number is written out here.

The person is in New York (UTC-5 in winter); "now" is Wednesday 2026-12-02 10:00 UTC, 05:00 there:
their today is 2026-12-02, the current ISO week 2026-W49 (Mon Nov 30 - Sun Dec 6), and the last
twelve weeks are W38..W49.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from chalicelib import ids, tracker
from chalicelib.clock import Now
from chalicelib.models import Application, Interview
from chalicelib.store.base import ListFilter, Session, Store
from tests.store_oracle import set_timezone
from tests.test_store_contract import store, user  # noqa: F401 (the fixture: SQLite, then DynamoDB Local)

NOW = Now(int(dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC).timestamp() * 1000))
_ms = [NOW.ms - 10**9]


def app(source: str | None, history: list[tuple[str, str]], applied_on: str | None = None) -> Application:
    _ms[0] += 1
    return Application.model_validate(
        {
            "id": ids.new_id(_ms[0]),
            "company": "Acme",
            "role": "Engineer",
            "status": history[-1][0],
            "source": source,
            "applied_on": applied_on,
            "status_history": [{"status": s, "at": f"{at}.000Z"} for s, at in history],
            "created_at": f"{history[0][1]}.000Z",
            "updated_at": f"{history[-1][1]}.000Z",
            "version": len(history),
        }
    )


def interview(of: Application, starts_at: str, outcome: str) -> Interview:
    _ms[0] += 1
    return Interview.model_validate(
        {
            "id": ids.new_id(_ms[0]),
            "application_id": of.id,
            "kind": "technical",
            "starts_at": f"{starts_at}.000Z",
            "outcome": outcome,
            "created_at": NOW.iso,
            "updated_at": NOW.iso,
            "version": 1,
        }
    )


def signed_in(store: Store, timezone: str) -> Session:  # noqa: F811
    who = user()
    store.sign_in(who, NOW.iso)
    session = Session(who.id, ids.new_id(NOW.ms))
    set_timezone(store, who.id, timezone, session)
    return session


def test_the_funnel_on_a_hand_built_history(store: Store) -> None:  # noqa: F811
    session = signed_in(store, "America/New_York")
    # A: applied at 03:00 UTC on Nov 26 -- Nov 25 in New York -- then screening (3 days later), on to offer.
    a = app(
        "LinkedIn",
        [
            ("wishlist", "2026-11-20T12:00:00"),
            ("applied", "2026-11-26T03:00:00"),
            ("screening", "2026-11-28T15:00:00"),
            ("interviewing", "2026-11-30T15:00:00"),
            ("offer", "2026-12-01T15:00:00"),
        ],
    )
    # B: applied on Nov 10 (the date the person gave), rejected 10 days later.
    b = app(" linkedin ", [("applied", "2026-11-10T12:00:00"), ("rejected", "2026-11-20T12:00:00")], "2026-11-10")
    c = app(None, [("wishlist", "2026-11-01T12:00:00")])  # never applied
    # D: straight from wishlist to offer: reaches applied, screening and interviewing too, but never
    # held "applied", so it is not in response_rate, the median or its source's applied count.
    d = app("Referral", [("wishlist", "2026-10-01T12:00:00"), ("offer", "2026-10-15T12:00:00")])
    # E: the whole way, answered after 2 days; applied in week 36, before the twelve weeks.
    e = app(
        "referral",
        [
            ("applied", "2026-09-01T12:00:00"),
            ("screening", "2026-09-03T12:00:00"),
            ("interviewing", "2026-09-10T12:00:00"),
            ("offer", "2026-09-20T12:00:00"),
            ("accepted", "2026-09-25T12:00:00"),
        ],
        "2026-09-01",
    )
    # F: applied at 03:00 UTC on Monday Nov 30 -- Sunday Nov 29 in New York, week 48 not 49. No answer.
    f = app("LinkedIn", [("applied", "2026-11-30T03:00:00")])
    # G: applied Nov 23, screening 6 days later.
    g = app("Job board", [("applied", "2026-11-23T12:00:00"), ("screening", "2026-11-29T12:00:00")], "2026-11-23")
    for each in (a, b, c, d, e, f, g):
        store.create_application(session.user_id, each, session)
    for round_ in (
        interview(a, "2026-12-05T15:00:00", "pending"),  # upcoming
        interview(a, "2026-11-29T15:00:00", "passed"),
        interview(a, "2026-12-10T15:00:00", "cancelled"),  # in the future, but not upcoming
        interview(g, "2026-12-03T15:00:00", "pending"),  # upcoming
        interview(g, "2026-11-30T10:00:00", "no_show"),
    ):
        store.create_interview(session.user_id, round_, session)

    stats = tracker.stats(store, session, NOW).model_dump(mode="json")

    assert stats == {
        "total": 7,
        "by_status": {
            "wishlist": 1,  # c
            "applied": 1,  # f
            "screening": 1,  # g
            "interviewing": 0,
            "offer": 2,  # a, d
            "accepted": 1,  # e
            "rejected": 1,  # b
            "withdrawn": 0,
            "ghosted": 0,
        },
        # Ages from Dec 2 (local): f 3 days, a 7 (Nov 25 in New York; it would be 6 in UTC), g 9, b 22.
        "applied_last_7_days": 1,
        "applied_last_30_days": 4,
        "response_rate": 0.8,  # held applied: a b e f g; answered after it: a b e g
        "funnel": {"applied": 6, "screening": 4, "interviewing": 3, "offer": 3, "accepted": 1},
        "conversion": {"screening": 0.667, "interviewing": 0.75, "offer": 1.0, "accepted": 0.333},
        "median_days_to_response": 4.5,  # a 3, b 10, e 2, g 6
        "by_source": {
            "job board": {"total": 1, "applied": 1, "responded": 1, "response_rate": 1.0},
            "linkedin": {"total": 3, "applied": 3, "responded": 2, "response_rate": 0.6667},
            "referral": {"total": 2, "applied": 1, "responded": 1, "response_rate": 1.0},
            "unknown": {"total": 1, "applied": 0, "responded": 0, "response_rate": 0.0},
        },
        "weekly_applied": [
            {"week": "2026-W38", "count": 0},
            {"week": "2026-W39", "count": 0},
            {"week": "2026-W40", "count": 0},
            {"week": "2026-W41", "count": 0},
            {"week": "2026-W42", "count": 1},  # d, Oct 15
            {"week": "2026-W43", "count": 0},
            {"week": "2026-W44", "count": 0},
            {"week": "2026-W45", "count": 0},
            {"week": "2026-W46", "count": 1},  # b, Nov 10
            {"week": "2026-W47", "count": 0},
            {"week": "2026-W48", "count": 3},  # g Nov 23, a Nov 25, f Nov 29 (all in New York)
            {"week": "2026-W49", "count": 0},
        ],
        "interviews": {
            "total": 5,
            "upcoming": 2,
            "by_outcome": {"pending": 2, "passed": 1, "failed": 0, "cancelled": 1, "no_show": 1},
        },
    }


def test_stats_of_nothing(store: Store) -> None:  # noqa: F811
    stats = tracker.stats(store, signed_in(store, "UTC"), NOW)
    assert stats.median_days_to_response is None and stats.by_source == {}
    assert stats.conversion == {"screening": 0.0, "interviewing": 0.0, "offer": 0.0, "accepted": 0.0}
    assert [w.week for w in stats.weekly_applied][::11] == ["2026-W38", "2026-W49"]
    assert stats.interviews.model_dump(mode="json") == {
        "total": 0,
        "upcoming": 0,
        "by_outcome": {"pending": 0, "passed": 0, "failed": 0, "cancelled": 0, "no_show": 0},
    }


def test_follow_ups_are_due_by_the_persons_today(store: Store) -> None:  # noqa: F811
    # 10:00 UTC on Dec 2 is already Dec 3 in Kiritimati (UTC+14) and still Dec 1 at UTC-12.
    rows: dict[str, Any] = {}
    session = signed_in(store, "UTC")
    for day in ("2026-12-01", "2026-12-02", "2026-12-03"):
        rows[day] = app(None, [("applied", "2026-11-01T12:00:00")])
        rows[day] = rows[day].model_copy(update={"next_follow_up_on": dt.date.fromisoformat(day)})
        store.create_application(session.user_id, rows[day], session)

    def due_days() -> list[str]:
        page = tracker.list_applications(store, session, ListFilter(follow_up_due_by=NOW.date), 100, None, NOW)
        return sorted(a.next_follow_up_on.isoformat() for a in page.items if a.next_follow_up_on)

    assert due_days() == ["2026-12-01", "2026-12-02"]
    set_timezone(store, session.user_id, "Pacific/Kiritimati", session)
    assert due_days() == ["2026-12-01", "2026-12-02", "2026-12-03"]
    set_timezone(store, session.user_id, "Etc/GMT+12", session)
    assert due_days() == ["2026-12-01"]


def test_a_version_1_sqlite_file_gets_the_new_columns(tmp_path: Any) -> None:
    """A database made before interviews and time zones (schema version 1) opens and works."""
    import sqlite3

    from chalicelib.store.sqlite import SCHEMA_VERSION, SqliteStore

    path = tmp_path / "v1.db"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT, picture TEXT,
            created_at TEXT NOT NULL, last_login_at TEXT NOT NULL,
            sessions_after TEXT NOT NULL DEFAULT '', revoked TEXT NOT NULL DEFAULT '{}');
        CREATE TABLE applications (user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            id TEXT NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL, company_lc TEXT NOT NULL,
            role_lc TEXT NOT NULL, tags_lc TEXT NOT NULL, next_follow_up_on TEXT, doc TEXT NOT NULL,
            PRIMARY KEY (user_id, id)) WITHOUT ROWID;
        PRAGMA user_version = 1;
        """
    )
    kept = app("LinkedIn", [("applied", "2026-11-30T12:00:00")])
    doc = kept.model_dump_json(exclude={"contacts"})  # as version 1 stored it
    old.execute("INSERT INTO users VALUES ('u1', 'u@example.com', NULL, NULL, 'x', 'x', '', '{}')")
    old.execute(
        "INSERT INTO applications VALUES ('u1', ?, 1, 'applied', 'acme', 'engineer', '[]', NULL, ?)", (kept.id, doc)
    )
    old.commit()
    old.close()
    store = SqliteStore(str(path))  # noqa: F811
    session = Session("u1", ids.new_id(NOW.ms))
    assert store.get_user("u1", session).timezone == "UTC"
    assert store.get_application("u1", kept.id, session).contacts == []
    assert tracker.stats(store, session, NOW).total == 1
    store.create_interview("u1", interview(kept, "2026-12-03T10:00:00", "pending"), session)
    assert set_timezone(store, "u1", "Asia/Tokyo", session).timezone == "Asia/Tokyo"
    assert [a.id for a in store.list_applications("u1", ListFilter(contact="x"), 10, None, session).items] == []
    version = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]
    assert version == SCHEMA_VERSION == 3
    store.close()


def test_time_zones_work_without_the_systems_zone_database() -> None:
    """Lambda's images may have no /usr/share/zoneinfo: the zones come from the tzdata package."""
    import subprocess
    import sys

    script = (
        "from chalicelib.models import UserPatch; from chalicelib import tracker; "
        "UserPatch.model_validate({'timezone': 'Europe/Berlin'}); "
        "print(tracker.today(tracker.zone_of('Pacific/Kiritimati'), tracker.Now(1796205600000)))"
    )
    env = {"PYTHONTZPATH": "", "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "2026-12-03"
