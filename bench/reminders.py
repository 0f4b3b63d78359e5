"""The reminder pass with N opted-in people (issue 12): what one hourly pass reads and how long it takes.

    python -m bench.reminders [--store sqlite|dynamodb] [--people 1000] [--apps 5]

Everyone is in UTC with reminders at 08:00, so all N are on the 08 UTC list (the worst hour), each
with `--apps` applications, one of them with a follow-up due. Rows: the pass at 08 (N e-mails), the
same pass again (the schedule fired twice: N reads, no e-mail), and the pass at 09 (nobody listed:
one Query of an empty list, whatever N is). On DynamoDB each row counts the calls by operation,
so "never a Scan" is a number. The mailer keeps messages in memory: this measures the store side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.stores import StoreKind, open_store
from chalicelib import ids, reminders, tracker
from chalicelib.clock import Now
from chalicelib.mailer import Message
from chalicelib.models import Application, StatusChange, UserOut

SECRET = "bench-secret-" + "x" * 32
LINKS = reminders.Links("https://app.example", "https://api.example/prod", "rem@example.com")
EIGHT = Now(int(dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC).timestamp() * 1000))


class Kept:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> str:
        self.sent.append(message)
        return str(len(self.sent))


def seed(store: Any, people: int, apps: int) -> None:
    ms = EIGHT.ms - 10**9
    for p in range(people):
        who = UserOut(id=f"bench-{p:05d}", email=f"p{p}@example.com", name=f"P{p}", picture=None)
        store.sign_in(who, EIGHT.iso)
        store.update_settings(who.id, lambda c: tracker.plan_settings(c, "UTC", True, 8, EIGHT))
        for a in range(apps):
            ms += 1
            app = Application.model_validate(
                {
                    "company": f"Company {a}",
                    "role": "Engineer",
                    "status": "screening",
                    "next_follow_up_on": "2026-12-01" if a == 0 else "2026-12-20",
                    "id": ids.new_id(ms),
                    "created_at": EIGHT.iso,
                    "updated_at": EIGHT.iso,
                    "version": 1,
                    "status_history": [StatusChange.model_validate({"status": "screening", "at": EIGHT.iso})],
                }
            )
            store.create_application(who.id, app)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reminders", description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=["sqlite", "dynamodb"], default="sqlite")
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--apps", type=int, default=5)
    args = parser.parse_args(argv)
    kind: StoreKind = args.store
    with tempfile.TemporaryDirectory() as work, open_store(kind, Path(work)) as bench:
        store = bench.store()
        calls: Counter[str] = Counter()
        client = getattr(store, "client", None)
        if client is not None:
            client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.update([model.name]))
        started = time.monotonic()
        seed(store, args.people, args.apps)
        print(
            f"{bench.describe()}: {args.people} people x {args.apps} applications seeded in "
            f"{time.monotonic() - started:.1f}s"
        )
        print("| pass | listed | e-mails | seconds | per person ms | store calls |")
        print("|---|---|---|---|---|---|")
        for label, now in (("08 UTC", EIGHT), ("08 UTC again", EIGHT), ("09 UTC", Now(EIGHT.ms + 3600_000))):
            calls.clear()
            mailer = Kept()
            started = time.monotonic()
            report = reminders.run_pass(store, mailer, secret=SECRET, links=LINKS, now=now)
            seconds = time.monotonic() - started
            per = seconds * 1000 / report.listed if report.listed else 0.0
            ops = ", ".join(f"{name} {n}" for name, n in sorted(calls.items())) or "(SQLite: no calls counted)"
            print(f"| {label} | {report.listed} | {len(mailer.sent)} | {seconds:.2f} | {per:.2f} | {ops} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
