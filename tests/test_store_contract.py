"""One contract, every Store: SQLite always, DynamoDB Local where the engine is installed (always in CI)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.ids import new_id
from chalicelib.models import Application, Interview, Status, StatusChange, UserOut
from chalicelib.store.base import (
    ApplicationNotFound,
    ListFilter,
    Session,
    SessionEnded,
    Store,
    UserNotFound,
    VersionConflict,
)
from chalicelib.store.sqlite import SqliteStore
from tests.store_oracle import matches

NOW = "2026-11-26T10:00:00.000Z"
LATER = "2026-11-27T09:30:00.000Z"
_clock = [1_790_000_000_000]


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        sqlite = SqliteStore(str(tmp_path / "contract.db"))
        yield sqlite
        sqlite.close()
    else:
        from chalicelib.store.dynamodb import DynamoStore, create_table
        from tests.dynamodb_fixtures import dynamo_client

        endpoint = request.getfixturevalue("dynamodb_endpoint")
        client = dynamo_client(endpoint)
        table = f"contract-{uuid.uuid4().hex[:12]}"
        create_table(table, client=client)
        yield DynamoStore(table, client=client)
        client.delete_table(TableName=table)


def user(name: str = "ada") -> UserOut:
    return UserOut(
        id=f"sub-{name}-{uuid.uuid4().hex[:6]}", email=f"{name}@example.com", name=name.title(), picture=None
    )


def application(**fields: Any) -> Application:
    """A new application; ids increase by one millisecond each, so creation order is known."""
    _clock[0] += 1
    status = fields.pop("status", Status.WISHLIST)
    base: dict[str, Any] = {"company": "Acme", "role": "Engineer", "status": status}
    base.update(fields)
    return Application.model_validate(
        {
            **base,
            "id": new_id(_clock[0]),
            "created_at": NOW,
            "updated_at": NOW,
            "version": 1,
            "status_history": [StatusChange(status=status, at=NOW)],
        }
    )


def bump(app: Application, **changes: Any) -> Application:
    return app.model_copy(update={**changes, "version": app.version + 1, "updated_at": LATER})


# ---- users --------------------------------------------------------------------------------------


def test_sign_in_creates_then_updates_the_profile(store: Store) -> None:
    who = user()
    created = store.sign_in(who, NOW)
    assert (created.id, created.email, created.name, created.created_at, created.last_login_at) == (
        who.id,
        "ada@example.com",
        "Ada",
        NOW,
        NOW,
    )
    renamed = UserOut(id=who.id, email="ada@new.example", name="Ada L.", picture="https://example.com/p.png")
    updated = store.sign_in(renamed, LATER)
    assert updated.model_dump() == {
        "id": who.id,
        "email": "ada@new.example",
        "name": "Ada L.",
        "picture": "https://example.com/p.png",
        "created_at": NOW,
        "last_login_at": LATER,
        "timezone": "UTC",
        "reminders": {"email": False, "hour": 8},
    }
    assert store.get_user(who.id) == updated


def test_unknown_user(store: Store) -> None:
    with pytest.raises(UserNotFound):
        store.get_user("nobody")
    with pytest.raises(UserNotFound):
        store.create_application("nobody", application())
    with pytest.raises(UserNotFound):
        store.list_applications("nobody", ListFilter(), 10, None)
    with pytest.raises(UserNotFound):
        store.delete_user("nobody")


def test_delete_user_removes_the_profile_and_every_application(store: Store) -> None:
    who, other = user(), user("bob")
    store.sign_in(who, NOW)
    store.sign_in(other, NOW)
    apps = [application(company=f"C{i}") for i in range(30)]
    for app in apps:
        store.create_application(who.id, app)
    kept = application(company="Other's")
    store.create_application(other.id, kept)

    store.delete_user(who.id)

    for call in (
        lambda: store.get_user(who.id),
        lambda: store.get_application(who.id, apps[0].id),
        lambda: store.all_applications(who.id),
        lambda: store.delete_user(who.id),
        lambda: store.delete_application(who.id, apps[1].id, None),
    ):
        with pytest.raises(UserNotFound):
            call()
    assert store.get_application(other.id, kept.id) == kept
    # Signing in again starts from nothing: the old applications are gone, not resurrected.
    fresh = store.sign_in(who, LATER)
    assert fresh.created_at == LATER
    assert store.all_applications(who.id) == []


# ---- single applications ------------------------------------------------------------------------


def test_create_then_get_round_trips_every_field(store: Store) -> None:
    who = user()
    store.sign_in(who, NOW)
    app = application(
        status=Status.APPLIED,
        url="https://jobs.example.com/1",
        location="Berlin",
        work_mode="hybrid",
        salary_min=60000,
        salary_max=80000,
        currency="EUR",
        source="referral",
        applied_on="2026-11-20",
        next_follow_up_on="2026-11-30",
        notes="Ünïcode ✓ and\nnew lines",
        tags=["Python", "remote-ok"],
    )
    store.create_application(who.id, app)
    got = store.get_application(who.id, app.id)
    assert got == app
    assert got.applied_on == dt.date(2026, 11, 20) and got.salary_min == 60000


def test_another_users_application_is_not_found(store: Store) -> None:
    alice, bob = user("alice"), user("bob")
    store.sign_in(alice, NOW)
    store.sign_in(bob, NOW)
    app = application()
    store.create_application(alice.id, app)
    with pytest.raises(ApplicationNotFound):
        store.get_application(bob.id, app.id)
    with pytest.raises(ApplicationNotFound):
        store.get_application(alice.id, new_id())
    with pytest.raises(ApplicationNotFound):
        store.replace_application(bob.id, bump(app, company="Hijacked"), 1)
    with pytest.raises(ApplicationNotFound):
        store.delete_application(bob.id, app.id, None)
    assert store.get_application(alice.id, app.id) == app
    assert store.list_applications(bob.id, ListFilter(), 10, None).items == []


def test_replace_is_conditional_on_the_version(store: Store) -> None:
    who = user()
    store.sign_in(who, NOW)
    app = application()
    store.create_application(who.id, app)
    v2 = bump(app, company="Acme 2")
    store.replace_application(who.id, v2, 1)
    assert store.get_application(who.id, app.id) == v2
    with pytest.raises(VersionConflict) as conflict:
        store.replace_application(who.id, bump(app, company="stale"), 1)
    assert conflict.value.current_version == 2
    assert store.get_application(who.id, app.id) == v2
    with pytest.raises(ApplicationNotFound):
        store.replace_application(who.id, bump(application()), 1)


def test_concurrent_updates_one_wins_and_the_other_conflicts(store: Store) -> None:
    who = user()
    store.sign_in(who, NOW)
    app = application()
    store.create_application(who.id, app)
    read = store.get_application(who.id, app.id)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def writer(name: str) -> None:
        start.wait()
        try:
            store.replace_application(who.id, bump(read, notes=f"by {name}"), read.version)
            outcomes[name] = "ok"
        except VersionConflict as exc:
            outcomes[name] = f"conflict {exc.current_version}"

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes.values()) == ["conflict 2", "ok"]
    winner = next(n for n, o in outcomes.items() if o == "ok")
    stored = store.get_application(who.id, app.id)
    assert stored.notes == f"by {winner}" and stored.version == 2
    # The loser re-reads and applies its change on top: nothing is lost.
    loser = "b" if winner == "a" else "a"
    store.replace_application(who.id, bump(stored, tags=[f"from-{loser}"]), 2)
    final = store.get_application(who.id, app.id)
    assert (final.notes, final.tags, final.version) == (f"by {winner}", [f"from-{loser}"], 3)


def test_delete_application_honours_the_version(store: Store) -> None:
    who = user()
    store.sign_in(who, NOW)
    app = application()
    store.create_application(who.id, app)
    with pytest.raises(VersionConflict) as conflict:
        store.delete_application(who.id, app.id, 7)
    assert conflict.value.current_version == 1
    assert store.get_application(who.id, app.id) == app
    store.delete_application(who.id, app.id, 1)
    with pytest.raises(ApplicationNotFound):
        store.get_application(who.id, app.id)
    with pytest.raises(ApplicationNotFound):
        store.delete_application(who.id, app.id, None)
    other = application()
    store.create_application(who.id, other)
    store.delete_application(who.id, other.id, None)
    assert store.all_applications(who.id) == []


# ---- listing ------------------------------------------------------------------------------------


def _walk(store: Store, user_id: str, flt: ListFilter, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    after = None
    while True:
        page = store.list_applications(user_id, flt, limit, after)
        pages.append([a.id for a in page.items])
        if not page.has_more:
            return pages
        after = page.items[-1].id


def test_listing_is_newest_first_and_pages_exactly(store: Store) -> None:
    who = user()
    store.sign_in(who, NOW)
    apps = [application(company=f"C{i}") for i in range(7)]
    for app in apps:
        store.create_application(who.id, app)
    newest_first = [a.id for a in reversed(apps)]
    assert _walk(store, who.id, ListFilter(), 3) == [newest_first[0:3], newest_first[3:6], newest_first[6:]]
    assert _walk(store, who.id, ListFilter(), 7) == [newest_first]  # exactly `limit` left: no further page
    assert _walk(store, who.id, ListFilter(), 100) == [newest_first]


def test_filters_alone_and_combined(store: Store) -> None:
    who, other = user(), user("eve")
    store.sign_in(who, NOW)
    store.sign_in(other, NOW)
    statuses = list(Status)
    apps = []
    for i in range(40):
        app = application(
            company=["Acme Corp", "Globex", "Initech"][i % 3],
            role=["Backend Engineer", "Data Scientist"][i % 2],
            status=statuses[i % len(statuses)],
            tags=[["Python"], ["python", "Remote"], []][i % 3],
            next_follow_up_on=[None, "2026-11-20", "2026-11-26", "2026-12-01"][i % 4],
            contacts=[
                [],
                [{"name": "Sam Åberg", "email": "SAM@acme.example"}],
                [{"name": "Kim"}, {"name": "Lee Park", "email": "lee@globex.example"}],
                [{"name": "Ana", "email": "ana@initech.example"}],
                [{"name": "Sam Lee"}],
            ][i % 5],
        )
        apps.append(app)
        store.create_application(who.id, app)
    store.create_application(other.id, application(company="Acme Corp"))  # never listed for `who`

    filters = [
        ListFilter(statuses=frozenset({Status.APPLIED})),
        ListFilter(statuses=frozenset({Status.APPLIED, Status.OFFER, Status.GHOSTED})),
        ListFilter(tag="PYTHON"),
        ListFilter(tag="remote"),
        ListFilter(tag="absent"),
        ListFilter(q="acme"),
        ListFilter(q="data sci"),
        ListFilter(follow_up_due_by=dt.date(2026, 11, 26)),
        ListFilter(contact="sam"),
        ListFilter(contact="åberg"),
        ListFilter(contact="globex.example"),
        ListFilter(contact="lee"),
        ListFilter(contact="nobody"),
        ListFilter(contact="e", q="acme"),
        ListFilter(
            statuses=frozenset({Status.WISHLIST, Status.APPLIED, Status.SCREENING}),
            tag="python",
            q="engineer",
            follow_up_due_by=dt.date(2026, 11, 30),
        ),
    ]
    for flt in filters:
        expected = [a.id for a in reversed(apps) if matches(flt, a)]
        got = [i for page in _walk(store, who.id, flt, 4) for i in page]
        assert got == expected, flt
    assert len([a for a in apps if matches(ListFilter(q="acme"), a)]) == 14  # the filters really select
    assert len([a for a in apps if matches(ListFilter(contact="lee"), a)]) == 16


def test_all_applications(store: Store) -> None:
    who = user()
    store.sign_in(who, NOW)
    apps = [application() for _ in range(5)]
    for app in apps:
        store.create_application(who.id, app)
    assert sorted(a.id for a in store.all_applications(who.id)) == sorted(a.id for a in apps)


# ---- rate-limit counters ------------------------------------------------------------------------


def test_hits_count_per_key_and_window(store: Store) -> None:
    assert [store.count_hit("ip-a", 1000, 1120) for _ in range(3)] == [1, 2, 3]
    assert store.count_hit("ip-b", 1000, 1120) == 1
    assert store.count_hit("ip-a", 1060, 1180) == 1  # a new window starts from one


def test_concurrent_hits_are_all_counted(store: Store) -> None:
    start = threading.Barrier(8)
    seen: list[int] = []

    def hit() -> None:
        start.wait()
        for _ in range(5):
            seen.append(store.count_hit("busy", 2000, 2120))

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(seen) == list(range(1, 41))  # every hit got its own number: none lost


# ---- an import's writes, the calendar feed -------------------------------------------------------


def test_add_applications_writes_every_one_in_transactions_of_99(store: Store) -> None:
    ada = store.sign_in(user(), NOW, sessions_after="0")
    apps = [application(company=f"Co {n}", notes="x" * 500) for n in range(250)]  # three transactions on DynamoDB
    store.add_applications(ada.id, apps)
    stored = store.all_applications(ada.id)
    assert sorted(stored, key=lambda a: a.id) == apps


def test_add_applications_checks_the_user_and_session_and_writes_nothing_then(store: Store) -> None:
    ada = store.sign_in(user(), NOW, sessions_after="0")
    session = Session(ada.id, new_id(_clock[0]))
    store.update_sessions(ada.id, session, lambda s: s.end_all(new_id(_clock[0] + 10)))
    with pytest.raises(SessionEnded):
        store.add_applications(ada.id, [application()], session)
    assert store.all_applications(ada.id) == []
    with pytest.raises(UserNotFound):
        store.add_applications("sub-nobody", [application()])
    with pytest.raises(UserNotFound):
        store.add_applications("sub-nobody", [])


def test_a_feed_is_found_by_its_hash_until_replaced_deleted_or_the_account_gone(store: Store) -> None:
    ada, bob = store.sign_in(user("ada"), NOW), store.sign_in(user("bob"), NOW)
    assert store.feed_owner("a" * 64) is None
    store.set_feed(ada.id, "a" * 64)
    store.set_feed(bob.id, "b" * 64)
    assert (store.feed_owner("a" * 64), store.feed_owner("b" * 64)) == (ada.id, bob.id)
    store.set_feed(ada.id, "c" * 64)
    assert (store.feed_owner("a" * 64), store.feed_owner("c" * 64)) == (None, ada.id)
    store.set_feed(ada.id, None)
    store.set_feed(ada.id, None)  # none: still fine
    assert store.feed_owner("c" * 64) is None and store.feed_owner("b" * 64) == bob.id
    store.delete_user(bob.id)
    assert store.feed_owner("b" * 64) is None
    with pytest.raises(UserNotFound):
        store.set_feed(bob.id, "d" * 64)


def test_an_agenda_cursor_outside_the_window_is_clamped_never_an_error(store: Store) -> None:
    """A cursor made for another window (its query's "now" moved, or the person's time zone did):
    before the window it starts from the start; at or past its end there is nothing more."""
    who = user()
    store.sign_in(who, "2026-11-26T00:00:00.000Z")
    app = application()
    store.create_application(who.id, app)
    made = []
    for starts in ("2030-06-02T09:00:00.000Z", "2030-06-03T09:00:00.000Z"):
        _clock[0] += 1
        interview = Interview.model_validate(
            {"kind": "technical", "starts_at": starts, "id": new_id(_clock[0]), "application_id": app.id}
            | {"created_at": "2026-11-26T00:00:00.000Z", "updated_at": "2026-11-26T00:00:00.000Z", "version": 1}
        )
        store.create_interview(who.id, interview)
        made.append(interview)
    start, end = "2030-06-02T00:00:00.000Z", "2030-06-04T00:00:00.000Z"
    before = ("2030-06-01T00:00:00.000Z", made[0].id)
    assert [i.id for i in store.agenda(who.id, start, end, 10, before).items] == [m.id for m in made]
    past = ("2030-06-05T00:00:00.000Z", made[0].id)
    page = store.agenda(who.id, start, end, 10, past)
    assert (page.items, page.has_more) == ([], False)
    within = (made[0].starts_at, made[0].id)
    assert [i.id for i in store.agenda(who.id, start, end, 10, within).items] == [made[1].id]
