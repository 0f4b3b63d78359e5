"""Reminder e-mails: the settings, whom a pass reminds, what is in the e-mail, exactly once, retries,
daylight saving time, SES (moto on loopback), the outbox, and one-click unsubscribe. Store-level
tests run on SQLite and DynamoDB Local (the `store` fixture); API tests on both (`both_stores`).

"Now" is Wednesday 2026-12-02 07:00 UTC: 08:00 in Berlin (UTC+1 in winter), 12:30 in Kolkata.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import ids, reminders, tracker
from chalicelib.clock import Now
from chalicelib.mailer import Message, OutboxMailer, SesMailer
from chalicelib.models import Application, Interview, StatusChange
from chalicelib.store.base import Everything, ReminderEntry, Store
from tests.conftest import ALLOWED, DEV_SECRET, ROOT, body, sign_in
from tests.test_store_contract import store, user  # noqa: F401 (the fixture: SQLite, then DynamoDB Local)

SECRET = "r" * 40
NOW = Now(int(dt.datetime(2026, 12, 2, 7, 0, tzinfo=dt.UTC).timestamp() * 1000))
LINKS = reminders.Links(frontend="https://app.example", api="https://api.example/prod", sender="rem@example.com")
_ms = [NOW.ms - 10**9]


def at(now: Now, hours: float = 0, days: float = 0) -> Now:
    return Now(now.ms + int((hours * 3600 + days * 86400) * 1000))


class Outbox:
    """A mailer that keeps what it is given; `fail_for` addresses raise instead."""

    def __init__(self, fail_for: frozenset[str] = frozenset()) -> None:
        self.sent: list[Message] = []
        self.fail_for = set(fail_for)
        self._lock = threading.Lock()

    def send(self, message: Message) -> str:
        if message.to in self.fail_for:
            raise RuntimeError("SES said no")
        with self._lock:
            self.sent.append(message)
        return str(len(self.sent))

    def to(self, address: str) -> list[Message]:
        return [m for m in self.sent if m.to == address]


def application(company: str, status: str = "applied", *, since: Now = NOW, **fields: Any) -> Application:
    _ms[0] += 1
    return Application.model_validate(
        {
            "company": company,
            "role": "Engineer",
            "status": status,
            **fields,
            "id": ids.new_id(_ms[0]),
            "created_at": since.iso,
            "updated_at": since.iso,
            "version": 1,
            "status_history": [StatusChange.model_validate({"status": status, "at": since.iso})],
        }
    )


def interview(of: Application, starts: Now, outcome: str = "pending") -> Interview:
    _ms[0] += 1
    return Interview.model_validate(
        {
            "id": ids.new_id(_ms[0]),
            "application_id": of.id,
            "kind": "technical",
            "starts_at": starts.iso,
            "outcome": outcome,
            "created_at": NOW.iso,
            "updated_at": NOW.iso,
            "version": 1,
        }
    )


def person(
    store: Store,  # noqa: F811
    name: str,
    timezone: str = "Europe/Berlin",
    hour: int = 8,
    *,
    email: bool = True,
    when: Now = NOW,
    due: bool = True,
) -> str:
    """A person with these settings (made at `when`) and, when `due`, one follow-up due yesterday."""
    who = user(name)
    store.sign_in(who, when.iso)
    store.update_settings(who.id, lambda current: tracker.plan_settings(current, timezone, email, hour, when))
    if due:
        store.create_application(who.id, application(f"{name.title()} Corp", next_follow_up_on="2026-12-01"))
    return who.id


def run(store: Store, mailer: Any, now: Now = NOW) -> dict[str, int]:  # noqa: F811
    report = reminders.run_pass(store, mailer, secret=SECRET, links=LINKS, now=now)
    return report.outcomes or {}


# ---- which list, and the settings ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "hour", "now", "listed"),
    [
        ("UTC", 8, NOW, 8),
        ("Europe/Berlin", 8, NOW, 7),  # UTC+1 in winter
        ("Europe/Berlin", 8, Now(int(dt.datetime(2026, 7, 1, tzinfo=dt.UTC).timestamp() * 1000)), 6),  # UTC+2
        ("Asia/Kolkata", 8, NOW, 3),  # 02:30 UTC: the first whole UTC hour after it
        ("Asia/Kathmandu", 8, NOW, 3),  # 02:15 UTC
        ("America/New_York", 22, NOW, 3),  # 03:00 UTC the next day
        ("Pacific/Kiritimati", 0, NOW, 10),  # UTC+14
    ],
)
def test_each_person_is_listed_at_the_utc_hour_their_local_hour_begins(
    zone: str, hour: int, now: Now, listed: int
) -> None:
    assert tracker.reminder_hour_utc(zone, hour, now) == listed


def test_settings_put_a_person_on_one_list_and_move_or_take_them_off(store: Store) -> None:  # noqa: F811
    uid = person(store, "ada", "Europe/Berlin", 8, due=False)
    assert store.reminder_list(7) == [ReminderEntry(uid)]
    store.update_settings(uid, lambda c: tracker.plan_settings(c, None, None, 20, NOW))
    assert store.reminder_list(7) == []
    assert store.reminder_list(19) == [ReminderEntry(uid)]
    store.update_settings(uid, lambda c: tracker.plan_settings(c, "Asia/Tokyo", None, None, NOW))
    assert store.reminder_list(19) == [] and store.reminder_list(11) == [ReminderEntry(uid)]
    store.update_settings(uid, lambda c: tracker.plan_settings(c, None, False, None, NOW))
    assert all(store.reminder_list(h) == [] for h in range(24))
    assert store.get_user(uid).reminders.model_dump() == {"email": False, "hour": 20}
    assert store.get_user(uid).timezone == "Asia/Tokyo"


def test_deleting_the_account_takes_the_person_off_the_lists(store: Store) -> None:  # noqa: F811
    uid = person(store, "ada")
    store.delete_user(uid)
    assert store.reminder_list(7) == []


# ---- what a pass sends ---------------------------------------------------------------------------


def test_a_pass_emails_whose_hour_it_is_with_what_is_due_and_only_that(store: Store) -> None:  # noqa: F811
    uid = person(store, "ada", due=False)
    later = person(store, "bob", hour=9)  # listed at 08 UTC: not this pass
    due = application("Acme", "screening", next_follow_up_on="2026-12-02")  # today in Berlin
    overdue = application("Initech", "interviewing", next_follow_up_on="2026-11-20")
    not_yet = application("Hooli", next_follow_up_on="2026-12-03")
    quiet = application("Globex", since=at(NOW, days=-22))  # applied 22 days ago, no answer
    recent = application("Umbrella", since=at(NOW, days=-20))
    answered = application("Stark", "rejected", since=at(NOW, days=-30))
    for app in (due, overdue, not_yet, quiet, recent, answered):
        store.create_application(uid, app)
    store.create_interview(uid, interview(not_yet, at(NOW, hours=5)))
    store.create_interview(uid, interview(recent, at(NOW, hours=25)))  # beyond 24 h
    store.create_interview(uid, interview(due, at(NOW, hours=3), outcome="cancelled"))
    store.create_interview(uid, interview(due, at(NOW, hours=-1)))  # already over

    mailer = Outbox()
    assert run(store, mailer) == {"sent": 1}
    [message] = mailer.sent
    assert message.to == "ada@example.com" and message.sender == "rem@example.com"
    assert message.subject == "Job hunt: 4 things to follow up today"
    lines = message.text.splitlines()
    assert [line for line in lines if line.startswith("- ")] == [
        "- Initech — Engineer: Follow up (due 2026-11-20)",
        "- Acme — Engineer: Follow up (due 2026-12-02)",
        "- Hooli — Engineer: Interview (technical) Wed 02 Dec 13:00",  # in Berlin time
        "- Globex — Engineer: No answer in three weeks (applied 2026-11-10): follow up or mark ghosted",
    ]
    for app in (due, overdue, not_yet, quiet):
        assert f"https://app.example/applications/{app.id}" in message.text
        assert f'href="https://app.example/applications/{app.id}"' in message.html
    assert "Umbrella" not in message.text and "Stark" not in message.text
    token = reminders.unsubscribe_token(SECRET, uid)
    assert dict(message.headers) == {
        "List-Unsubscribe": f"<https://api.example/prod/reminders/unsubscribe/{token}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert mailer.to("bob@example.com") == []
    assert run(store, mailer, at(NOW, hours=1)) == {"sent": 1}
    assert len(mailer.to("bob@example.com")) == 1 and later


def test_nothing_due_means_no_email(store: Store) -> None:  # noqa: F811
    uid = person(store, "ada", due=False)
    store.create_application(uid, application("Acme", next_follow_up_on="2026-12-05"))
    mailer = Outbox()
    assert run(store, mailer) == {"nothing_due": 1}
    assert mailer.sent == []


def test_a_person_is_emailed_at_most_once_a_local_day(store: Store) -> None:  # noqa: F811
    person(store, "ada")
    mailer = Outbox()
    assert run(store, mailer) == {"sent": 1}
    assert run(store, mailer) == {"already_sent": 1}  # the schedule fired twice
    assert run(store, mailer, at(NOW, days=1)) == {"sent": 1}  # the next day
    assert len(mailer.sent) == 2


def test_opted_out_people_get_nothing(store: Store) -> None:  # noqa: F811
    person(store, "ada", email=False)
    mailer = Outbox()
    assert run(store, mailer) == {}
    assert mailer.sent == []


class Lockstep:
    """A store whose `everything` waits until both passes have read the same person: both see
    "not sent today", so only the conditional claim can keep the second e-mail from going out."""

    def __init__(self, inner: Store) -> None:
        self._inner = inner
        self._barriers: dict[str, threading.Barrier] = {}
        self._lock = threading.Lock()

    def everything(self, user_id: str, session: Any = None) -> Everything:
        data = self._inner.everything(user_id, session)
        with self._lock:
            barrier = self._barriers.setdefault(user_id, threading.Barrier(2, timeout=30))
        barrier.wait()
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_two_concurrent_passes_send_each_email_once(store: Store) -> None:  # noqa: F811
    people = [person(store, f"p{i}") for i in range(8)]
    mailer = Outbox()
    shared: Any = Lockstep(store)
    reports: list[dict[str, int]] = []
    threads = [threading.Thread(target=lambda: reports.append(run(shared, mailer))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(m.to for m in mailer.sent) == {f"p{i}@example.com": 1 for i in range(8)}
    assert len(reports) == 2 and len(people) == 8
    assert sum(r.get("sent", 0) for r in reports) == 8
    assert sum(r.get("already_sent", 0) for r in reports) == 8  # each lost the claim once


def test_a_failed_send_does_not_stop_the_others_and_is_retried_next_hour(
    store: Store,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    ada = person(store, "ada")
    person(store, "bob")
    mailer = Outbox(fail_for=frozenset({"ada@example.com"}))
    with caplog.at_level("ERROR"):
        assert run(store, mailer) == {"sent": 1, "failed": 1}
    # Logged as the access log logs a user (web.log_user), never by the raw id.
    assert ids.log_hash(SECRET, ada) in caplog.text and ada not in caplog.text
    assert [m.to for m in mailer.sent] == ["bob@example.com"]
    mailer.fail_for.clear()
    assert run(store, mailer, at(NOW, hours=1)) == {"sent": 1}  # ada's retry, on the 08 UTC list
    assert [m.to for m in mailer.sent] == ["bob@example.com", "ada@example.com"]
    assert run(store, mailer, at(NOW, hours=2)) == {}  # the retry entry is gone
    assert run(store, mailer, at(NOW, hours=24)) == {"sent": 2}  # tomorrow, as usual


def test_after_a_daylight_saving_change_the_person_moves_to_the_new_hour(store: Store) -> None:  # noqa: F811
    summer = Now(int(dt.datetime(2026, 7, 1, 5, 0, tzinfo=dt.UTC).timestamp() * 1000))
    person(store, "ada", when=summer)  # 08:00 in Berlin was 06:00 UTC then
    assert len(store.reminder_list(6)) == 1
    mailer = Outbox()
    assert run(store, mailer, at(NOW, hours=-1)) == {"not_yet": 1}  # 06 UTC is 07:00 in winter
    assert store.reminder_list(6) == [] and len(store.reminder_list(7)) == 1
    assert run(store, mailer) == {"sent": 1}


def test_a_half_hour_zone_is_reminded_in_the_first_whole_utc_hour_after_its_hour(store: Store) -> None:  # noqa: F811
    person(store, "ada", "Asia/Kolkata", 8)
    mailer = Outbox()
    assert run(store, mailer, at(NOW, hours=-4)) == {"sent": 1}  # 03:00 UTC, 08:30 in Kolkata
    assert len(mailer.sent) == 1


def test_a_deleted_person_on_a_list_is_dropped_not_emailed(store: Store) -> None:  # noqa: F811
    uid = person(store, "ada")
    store.set_reminder_retry(uid, 8, True)
    store.delete_user(uid)
    mailer = Outbox()
    assert run(store, mailer, at(NOW, hours=1)) in ({"gone": 1}, {})
    assert store.reminder_list(8) == [] and mailer.sent == []


# ---- SES (moto on loopback) ------------------------------------------------------------------------


@pytest.fixture
def moto() -> Any:
    from tests.moto_server import MotoServer

    with MotoServer() as server:
        yield server


def _ses_sent() -> list[Any]:
    from moto.ses.models import ses_backends

    from tests.moto_server import ACCOUNT, REGION

    return list(ses_backends[ACCOUNT][REGION].sent_messages)


def test_ses_sends_the_reminder_with_one_click_unsubscribe_headers(store: Store, moto: Any) -> None:  # noqa: F811
    import boto3

    ses = boto3.client("sesv2", endpoint_url=moto.endpoint_url, region_name="us-east-1")
    ses.create_email_identity(EmailIdentity="rem@example.com")
    uid = person(store, "ada")
    person(store, "bob")
    assert run(store, SesMailer(ses)) == {"sent": 2}
    sent = sorted(_ses_sent(), key=lambda m: m.destinations)
    # moto lists the To header's address again after Destination's: the set is what was sent to
    assert [set(m.destinations) for m in sent] == [{"ada@example.com"}, {"bob@example.com"}]
    parsed = email.message_from_string(sent[0].raw_data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["From"] == "rem@example.com" and parsed["To"] == "ada@example.com"
    token = reminders.unsubscribe_token(SECRET, uid)
    assert parsed["List-Unsubscribe"] == f"<https://api.example/prod/reminders/unsubscribe/{token}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None and "Ada Corp — Engineer: Follow up (due 2026-12-01)" in text.get_content()
    assert html is not None and "Ada Corp — Engineer</a>" in html.get_content()


def test_ses_refusing_one_message_is_logged_and_retried(store: Store, moto: Any) -> None:  # noqa: F811
    import boto3

    ses = boto3.client("sesv2", endpoint_url=moto.endpoint_url, region_name="us-east-1")
    person(store, "ada")  # the sender identity is not verified: SES rejects the message
    assert run(store, SesMailer(ses)) == {"failed": 1}
    assert _ses_sent() == []
    ses.create_email_identity(EmailIdentity="rem@example.com")
    assert run(store, SesMailer(ses), at(NOW, hours=1)) == {"sent": 1}
    assert len(_ses_sent()) == 1


# ---- the outbox and `make reminders` -----------------------------------------------------------------


def test_the_outbox_mailer_writes_an_eml_file(tmp_path: Path) -> None:
    message = Message("a@example.com", "b@example.com", "Hi", "text", "<p>html</p>", (("X-Test", "1"),))
    OutboxMailer(str(tmp_path / "outbox")).send(message)
    [path] = (tmp_path / "outbox").iterdir()
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert path.suffix == ".eml" and parsed["Subject"] == "Hi" and parsed["X-Test"] == "1"


def test_make_reminders_runs_one_pass_on_the_dev_stage_into_the_outbox(tmp_path: Path) -> None:
    db = tmp_path / "dev.db"
    from chalicelib.store.sqlite import SqliteStore

    local = SqliteStore(str(db))
    person(local, "ada")
    local.close()
    env = {**os.environ, "SQLITE_PATH": str(db), "OUTBOX_DIR": str(tmp_path / "outbox")}
    command = [sys.executable, "-m", "chalicelib.reminders", "--at", "2026-12-02T08:00:00+01:00"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"listed": 1, "reminder_pass": 7, "sent": 1}
    [eml] = (tmp_path / "outbox").iterdir()
    parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert parsed["To"] == "ada@example.com"
    assert parsed["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/reminders/unsubscribe/")


def test_the_hourly_schedule_is_registered_on_the_app() -> None:
    from chalice.app import ScheduledEventConfig

    import app as app_module

    [source] = [s for s in app_module.app.event_sources if s.name == "send_reminders"]
    assert isinstance(source, ScheduledEventConfig)
    expression = source.schedule_expression
    assert not isinstance(expression, str) and expression.to_string() == "rate(1 hour)"


# ---- the API: settings and one-click unsubscribe -------------------------------------------------


def _signed_in(client: Client, issuer: Any, email_address: str = "jane.doe@example.com") -> tuple[str, str]:
    reply = body(sign_in(client, issuer.id_token(email=email_address)))
    return reply["access_token"], reply["user"]["id"]


def _patch(client: Client, token: str, payload: Any) -> Any:
    return client.http.request(
        "PATCH",
        "/api/user",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Origin": ALLOWED},
        body=json.dumps(payload).encode(),
    )


def test_reminder_settings_are_off_by_default_and_set_by_patch(both_stores: Client, issuer: Any) -> None:
    token, _ = _signed_in(both_stores, issuer)
    auth = {"Authorization": f"Bearer {token}"}
    assert body(both_stores.http.get("/api/user", headers=auth))["reminders"] == {"email": False, "hour": 8}
    reply = _patch(both_stores, token, {"reminders": {"email": True}})
    assert reply.status_code == 200 and body(reply)["reminders"] == {"email": True, "hour": 8}
    reply = _patch(both_stores, token, {"reminders": {"hour": 18}, "timezone": "Asia/Tokyo"})
    assert body(reply)["reminders"] == {"email": True, "hour": 18} and body(reply)["timezone"] == "Asia/Tokyo"
    assert body(both_stores.http.get("/api/user", headers=auth))["reminders"] == {"email": True, "hour": 18}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"reminders": {"hour": 24}}, "reminders.hour"),
        ({"reminders": {"hour": -1}}, "reminders.hour"),
        ({"reminders": {"hour": "8"}}, "reminders.hour"),
        ({"reminders": {"email": "yes"}}, "reminders.email"),
        ({"reminders": {"email": None}}, "reminders.email"),
        ({"reminders": {"daily": True}}, "reminders.daily"),
        ({"reminders": None}, "reminders"),
        ({"reminders": True}, "reminders"),
        ({}, "body"),
    ],
)
def test_bad_reminder_settings_are_422_naming_the_field(client: Client, issuer: Any, payload: Any, field: str) -> None:
    token, _ = _signed_in(client, issuer)
    reply = _patch(client, token, payload)
    assert reply.status_code == 422, reply.body
    assert [e["field"] for e in body(reply)["errors"]] == [field]


def _assert_page_headers(headers: Any) -> None:
    """The unsubscribe page is HTML that runs nothing, sends no referrer (the token is in its URL), is never cached."""
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"


def test_one_click_unsubscribe_turns_reminders_off(both_stores: Client, issuer: Any) -> None:
    token, uid = _signed_in(both_stores, issuer)
    _patch(both_stores, token, {"reminders": {"email": True}})
    path = f"/reminders/unsubscribe/{reminders.unsubscribe_token(DEV_SECRET, uid)}"
    page = both_stores.http.get(path)
    assert page.status_code == 200
    _assert_page_headers(page.headers)
    assert '<form method="post">' in page.body.decode() and "<button" in page.body.decode()
    assert body(both_stores.http.get("/api/user", headers={"Authorization": f"Bearer {token}"}))["reminders"][
        "email"
    ]  # the page alone changes nothing (link scanners GET it)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    done = both_stores.http.post(path, headers=form, body="List-Unsubscribe=One-Click")
    assert done.status_code == 200 and "off" in done.body.decode()
    _assert_page_headers(done.headers)
    user_now = body(both_stores.http.get("/api/user", headers={"Authorization": f"Bearer {token}"}))
    assert user_now["reminders"] == {"email": False, "hour": 8}
    assert both_stores.http.post(path, headers=form, body="List-Unsubscribe=One-Click").status_code == 200


@pytest.mark.parametrize(
    "bad",
    [
        "nonsense",
        "c3ViLWFkYQ.AAAA",  # a real-looking user id with a made-up MAC
        reminders.unsubscribe_token("another-secret-of-enough-length-0123456789", "sub-ada"),
        "%FF%FE.x",
    ],
)
def test_a_bad_or_forged_unsubscribe_token_is_404(client: Client, bad: str) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    path = f"/reminders/unsubscribe/{bad}"
    for reply in (client.http.get(path), client.http.post(path, headers=form, body=b"List-Unsubscribe=One-Click")):
        assert reply.status_code == 404, reply.body
        assert body(reply)["field"] == "token"


def test_the_unsubscribe_link_of_a_deleted_account_is_404(client: Client, issuer: Any) -> None:
    token, uid = _signed_in(client, issuer)
    client.http.delete("/api/user", headers={"Authorization": f"Bearer {token}"})
    path = f"/reminders/unsubscribe/{reminders.unsubscribe_token(DEV_SECRET, uid)}"
    assert client.http.post(path, headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 404
    assert client.http.get(path).status_code == 404


# ---- production: the sender, its IAM, and what a pass needs --------------------------------------


def test_the_function_may_send_from_the_prod_sender_identity_only() -> None:
    from tests.conftest import stage_variables

    sender = stage_variables("prod")["REMINDERS_FROM_EMAIL"]
    policy = json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())
    [ses] = [s for s in policy["Statement"] if any(a.startswith("ses:") for a in s["Action"])]
    assert ses["Action"] == ["ses:SendEmail"]
    domain = sender.rsplit("@", 1)[1]
    assert ses["Resource"] == [f"arn:aws:ses:*:*:identity/{sender}", f"arn:aws:ses:*:*:identity/{domain}"]


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({}, "reminders need PUBLIC_API_URL on a production stage"),
        ({"PUBLIC_API_URL": "https://api.example/prod"}, "REMINDERS_FROM_EMAIL is still the placeholder"),
    ],
)
def test_a_production_pass_without_its_settings_sends_nothing_and_says_why(
    stage_env: Any, caplog: pytest.LogCaptureFixture, overrides: dict[str, str], problem: str
) -> None:
    from tests.conftest import PROD_CLIENT_ID, PROD_SECRET

    stage_env("prod", GOOGLE_CLIENT_ID=PROD_CLIENT_ID, JWT_SECRET_KEY=PROD_SECRET, **overrides)
    with caplog.at_level("ERROR"):
        assert reminders.scheduled_pass(NOW) is None
    assert problem in caplog.text


def test_the_scheduled_handler_of_a_dev_stage_inside_lambda_refuses_and_says_why(
    stage_env: Any, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Plain `chalice deploy` puts the dev stage's send_reminders online too: it must send nothing."""
    import app as app_module
    from tests.conftest import LambdaContext

    outbox = tmp_path / "outbox"
    stage_env("dev", AWS_LAMBDA_FUNCTION_NAME="job-hunt-tracker-api-dev-send_reminders", OUTBOX_DIR=str(outbox))
    event = {
        "version": "0",
        "id": "e1",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-12-02T07:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/job-hunt-tracker-api-dev-send_reminders-event"],
        "detail": {},
    }
    with caplog.at_level("ERROR"):
        app_module.send_reminders(event, LambdaContext())
    assert "reminder pass not run: the dev stage is for `chalice local`" in caplog.text
    assert not outbox.exists()


def test_an_interview_whose_application_is_gone_counts_nowhere(
    store: Store,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DynamoDB deletes an application's 51st interview just after it: until then `everything` can
    hold an interview of an application that is not there. The stats, the export, the calendar feed
    and the reminder leave it out (Everything.live_interviews)."""
    from chalicelib import calendar_feed, transfer
    from chalicelib.store.base import Session

    uid = person(store, "ada", due=False)
    kept = application("Acme")
    store.create_application(uid, kept)
    live = interview(kept, at(NOW, hours=2))
    orphan = interview(application("Gone Corp"), at(NOW, hours=3))
    store.create_interview(uid, live)
    real = store.everything(uid)
    data = Everything(real.profile, real.applications, [*real.interviews, orphan], real.reminder_state)
    assert data.live_interviews == [live]
    monkeypatch.setattr(store, "everything", lambda user_id, session=None: data)
    session = Session(uid, ids.new_id())

    assert tracker.stats(store, session, NOW).interviews.total == 1
    assert [i.id for i in transfer.export_json(store, session, NOW).interviews] == [live.id]
    feed = calendar_feed.render(data).decode()
    assert live.id in feed and orphan.id not in feed
    assert [d.what for d in reminders.due_items(data, NOW) if d.kind == "interview"] == [
        "Interview (technical) Wed 02 Dec 10:00"
    ]
