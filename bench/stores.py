"""The store this app's function uses during the run, on loopback only, and the data it is seeded with.

- sqlite (default): one file in the run's temporary directory.
- dynamodb: DynamoDB Local (tests/dynamodb_local.py: Java, in memory, a free loopback port) with a
  table made by the store's own `create_table`.

Applications for the scaling phase are added through the app's own use case
(`tracker.create_application`, which validates the body as POST /api/applications does) on the
same Store class the function uses, from this process: much faster than thousands of requests.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from chalicelib import tracker
from chalicelib.clock import Now
from chalicelib.ids import new_id
from chalicelib.models import ApplicationData
from chalicelib.store.base import Session, Store

StoreKind = Literal["sqlite", "dynamodb"]

# A term found in about 1% of the applications: a `q=` search must read every one to fill a page.
SEARCH_TERM = "initech"
_COMPANIES = (
    "Acme",
    "Globex",
    "Umbrella",
    "Hooli",
    "Stark Industries",
    "Wayne Enterprises",
    "Wonka Industries",
    "Soylent",
    "Tyrell",
    "Cyberdyne Systems",
    "Massive Dynamic",
    "Vandelay Industries",
)
_ROLES = (
    "Backend Engineer",
    "Senior Backend Engineer",
    "Platform Engineer",
    "Site Reliability Engineer",
    "Data Engineer",
    "Staff Software Engineer",
    "Python Developer",
    "Cloud Engineer",
)
_TAGS = ("python", "aws", "remote-first", "startup", "fintech", "referral", "dream-job", "visa")
_STATUSES = ("wishlist", "applied", "applied", "screening", "interviewing", "offer", "rejected", "ghosted")


def application_body(i: int, rng: random.Random, today: dt.date) -> dict[str, Any]:
    """A plausible application as a frontend would POST it."""
    status = rng.choice(_STATUSES)
    company = "Initech" if i % 97 == 0 else rng.choice(_COMPANIES)
    body: dict[str, Any] = {
        "company": company,
        "role": rng.choice(_ROLES),
        "status": status,
        "url": f"https://jobs.example.com/{company.lower().replace(' ', '-')}/{i}",
        "location": rng.choice(("Berlin", "Remote (EU)", "London", "Amsterdam", "Lisbon")),
        "work_mode": rng.choice(("onsite", "hybrid", "remote")),
        "salary_min": 60_000 + 1000 * rng.randrange(40),
        "currency": "EUR",
        "source": rng.choice(("LinkedIn", "referral", "company site", "HN who's hiring")),
        "notes": "Recruiter call went well; ask about the on-call rotation and the team's deploy process. " * 3,
        "tags": rng.sample(_TAGS, rng.randrange(4)),
    }
    body["salary_max"] = body["salary_min"] + 20_000
    if status != "wishlist":
        body["applied_on"] = (today - dt.timedelta(days=rng.randrange(90))).isoformat()
    if status in ("screening", "interviewing"):
        body["next_follow_up_on"] = (today + dt.timedelta(days=rng.randrange(-5, 10))).isoformat()
    return body


class BenchStore(AbstractContextManager["BenchStore"]):
    """A loopback store for the run: the function's environment for it, and seeding."""

    kind: StoreKind

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    def store(self) -> Store:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def seed(self, user_id: str, count: int, *, seed: int = 7) -> float:
        """Add `count` applications to an existing user; the seconds it took."""
        store, today = self.store(), dt.datetime.now(dt.UTC).date()
        rng = random.Random(seed)  # noqa: S311 (made-up data, the same every run)
        started = time.monotonic()
        for i in range(count):
            data = ApplicationData.model_validate(application_body(i, rng, today))
            now = Now.read()  # a session issued now: admitted by a profile made before
            tracker.create_application(store, Session(user_id, new_id(now.ms)), data, now)
        return time.monotonic() - started

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class SqliteBench(BenchStore):
    kind: StoreKind = "sqlite"

    def __init__(self, work: Path) -> None:
        self.path = work / "bench.db"
        self._store: Any = None

    def env(self) -> dict[str, str]:
        return {"STORE": "sqlite", "SQLITE_PATH": str(self.path)}

    def store(self) -> Store:
        if self._store is None:
            from chalicelib.store.sqlite import SqliteStore

            self._store = SqliteStore(str(self.path))
        store: Store = self._store
        return store

    def describe(self) -> str:
        return f"SQLite ({self.path.name} in the run's temporary directory)"

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._store is not None:
            self._store.close()


class DynamoBench(BenchStore):
    kind: StoreKind = "dynamodb"

    def __init__(self) -> None:
        from tests.dynamodb_local import DynamoDBLocal, DynamoDBLocalNotFoundError

        try:
            self.engine = DynamoDBLocal()
        except DynamoDBLocalNotFoundError as exc:
            raise SystemExit(f"--store dynamodb: {exc}") from None
        self.table = f"bench-{uuid.uuid4().hex[:12]}"
        self._store: Any = None

    def __enter__(self) -> DynamoBench:
        import boto3

        from chalicelib.store.dynamodb import DynamoStore, create_table

        self.engine.start()
        client = boto3.client("dynamodb", **self.engine.client_kwargs())  # type: ignore[call-overload]
        create_table(self.table, client=client)
        self._store = DynamoStore(self.table, client=client)
        return self

    def env(self) -> dict[str, str]:
        return {"STORE": "dynamodb", "DYNAMODB_TABLE": self.table, "DYNAMODB_ENDPOINT_URL": self.engine.endpoint_url}

    def store(self) -> Store:
        store: Store = self._store
        return store

    def describe(self) -> str:
        return f"DynamoDB Local ({self.engine.endpoint_url}, in memory, table {self.table})"

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.engine.stop()


def open_store(kind: StoreKind, work: Path) -> BenchStore:
    return DynamoBench() if kind == "dynamodb" else SqliteBench(work)
