"""Follow-up reminders by e-mail: whom to remind this hour, what is due, and sending each at most once a day.

No HTTP here (the unsubscribe routes are in app.py) and no boto3 (the Store's and the mailer's).

Whom a pass reads, without a Scan: every person with reminders on is on exactly one of 24 lists, the
list of the UTC hour in which their local reminder hour begins today (rounded up to a whole UTC
hour for zones offset by a half or quarter hour: 08:00 in Asia/Kolkata is 02:30 UTC, listed at 03).
PATCH /api/user puts them on it (or takes them off) in the same atomic write as the settings. The
hourly pass reads only the list of the current UTC hour (one Query on DynamoDB, one index range on
SQLite), then each listed person's own partition.

Daylight saving time: a list is right for the offset the person's zone had when it was computed.
Each time the pass meets someone, it recomputes their hour and moves them if the offset changed,
so after a change they are reminded at most one hour late that day (the pass at the old hour sends
when their local hour has already begun) or on time (when it has not: the pass at the new hour does).

Exactly once: before sending, a conditional write sets the profile's "last sent on" to the
person's local date only if it was earlier; a second pass, overlapping or repeated, loses that
write and sends nothing. A failed send undoes the write (only if still that date) and puts the
person on the next hour's list as a retry; a failure never stops the pass for the others.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import html
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from chalicelib import ids
from chalicelib.clock import Now
from chalicelib.domain_errors import BadUnsubscribeLink
from chalicelib.mailer import Mailer, Message
from chalicelib.models import Application, Interview, Outcome, Status, UserRecord, utc_instant
from chalicelib.store.base import Everything, ReminderEntry, Store, UserNotFound
from chalicelib.tracker import plan_settings, reminder_hour_utc, today, zone_of

log = logging.getLogger("job-hunt-tracker.reminders")

NO_ANSWER_DAYS = 21
INTERVIEW_WINDOW = dt.timedelta(hours=24)
DEV_FRONTEND_URL = "http://localhost:3000"
DEV_API_URL = "http://127.0.0.1:8000"
DEV_FROM_EMAIL = "reminders@job-hunt-tracker.invalid"


# ---- what is due ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    kind: Literal["follow_up", "interview", "no_answer"]
    app: Application
    what: str  # e.g. "Follow up (due 2026-12-01)"


def due_items(data: Everything, now: Now) -> list[Due]:
    """Follow-ups due today or earlier, interviews in the next 24 h, applications in `applied` with no
    status change for three weeks; in that order, each by date."""
    zone = zone_of(data.profile.timezone)
    local_day = today(zone, now)
    start = dt.datetime.fromtimestamp(now.ms / 1000, dt.UTC)
    window = (utc_instant(start), utc_instant(start + INTERVIEW_WINDOW))
    by_id = {app.id: app for app in data.applications}
    follow_ups = sorted(
        (a for a in data.applications if a.next_follow_up_on is not None and a.next_follow_up_on <= local_day),
        key=lambda a: (a.next_follow_up_on, a.id),
    )
    items = [Due("follow_up", a, f"Follow up (due {a.next_follow_up_on})") for a in follow_ups]
    soon: list[Interview] = sorted(
        (
            iv
            for iv in data.live_interviews
            if window[0] <= iv.starts_at < window[1] and iv.outcome != Outcome.CANCELLED
        ),
        key=lambda iv: (iv.starts_at, iv.id),
    )
    for iv in soon:
        local = dt.datetime.fromisoformat(iv.starts_at).astimezone(zone)
        kind = iv.kind.value.replace("_", " ")
        items.append(Due("interview", by_id[iv.application_id], f"Interview ({kind}) {local:%a %d %b %H:%M}"))
    cutoff = utc_instant(start - dt.timedelta(days=NO_ANSWER_DAYS))
    quiet = sorted(
        (a for a in data.applications if a.status == Status.APPLIED and _status_since(a) <= cutoff),
        key=lambda a: (_status_since(a), a.id),
    )
    for a in quiet:
        since = _status_since(a)[:10]
        items.append(Due("no_answer", a, f"No answer in three weeks (applied {since}): follow up or mark ghosted"))
    return items


def _status_since(app: Application) -> str:
    return app.status_history[-1].at if app.status_history else app.updated_at


# ---- the message ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Links:
    frontend: str  # FRONTEND_URL: each item links to its application there
    api: str  # PUBLIC_API_URL: the unsubscribe link (stage prefix included)
    sender: str


def unsubscribe_token(secret: str, user_id: str) -> str:
    """A per-person token for the unsubscribe link: the user id and a MAC of it (no expiry: old e-mails keep working)."""
    ident = base64.urlsafe_b64encode(user_id.encode()).decode().rstrip("=")
    return f"{ident}.{_mac(secret, user_id)}"


def token_user(secret: str, token: str) -> str | None:
    """The user id a token was made for, or None for a bad or forged one."""
    ident, _, mac = token.partition(".")
    if not ident or not mac or len(token) > 400 or not token.isascii():
        return None
    try:
        user_id = base64.urlsafe_b64decode(ident + "=" * (-len(ident) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return user_id if hmac.compare_digest(mac, _mac(secret, user_id)) else None


def _mac(secret: str, user_id: str) -> str:
    digest = hmac.new(secret.encode(), f"unsubscribe\n{user_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def compose(profile: UserRecord, items: Sequence[Due], links: Links, unsubscribe_url: str) -> Message:
    count = len(items)
    subject = f"Job hunt: {count} thing{'s' if count != 1 else ''} to follow up today"
    lines = [f"Hello{' ' + profile.name if profile.name else ''},", "", "Due today in your job hunt:", ""]
    rows = []
    for item in items:
        link = f"{links.frontend}/applications/{item.app.id}"
        lines += [f"- {item.app.company} — {item.app.role}: {item.what}", f"  {link}"]
        rows.append(
            f'<li><a href="{html.escape(link)}">{html.escape(item.app.company)} — {html.escape(item.app.role)}</a>: '
            f"{html.escape(item.what)}</li>"
        )
    lines += ["", f"Stop these reminders: {unsubscribe_url}", ""]
    body = (
        f"<!doctype html><html><body><p>Due today in your job hunt:</p><ul>{''.join(rows)}</ul>"
        f'<p style="font-size:small"><a href="{html.escape(unsubscribe_url)}">Stop these reminders</a></p>'
        "</body></html>"
    )
    headers = (
        ("List-Unsubscribe", f"<{unsubscribe_url}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )
    return Message(links.sender, profile.email, subject, "\n".join(lines), body, headers)


# ---- one-click unsubscribe ---------------------------------------------------------------------


def unsubscribe(store: Store, secret: str, token: str, now: Now, *, check_only: bool = False) -> None:
    """Turn the token's person's reminders off (no session: the signed token is the authority)."""
    user_id = token_user(secret, token)
    if user_id is None:
        raise BadUnsubscribeLink(token)
    try:
        if check_only:
            store.get_user(user_id)
        else:
            store.update_settings(user_id, lambda current: plan_settings(current, None, False, None, now))
    except UserNotFound:
        raise BadUnsubscribeLink(token) from None


UNSUBSCRIBE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Reminder e-mails</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem">
<h1 style="font-size: 1.3rem">Job Hunt Tracker reminders</h1>
{body}
</body></html>
"""
ASK = (
    "<p>Stop the daily follow-up reminder e-mails? You can turn them on again in your settings.</p>"
    '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
    '<button type="submit">Stop reminder e-mails</button></form>'
)
DONE = "<p>Reminder e-mails are off. You can turn them on again in your settings.</p>"


# ---- one pass ------------------------------------------------------------------------------------

# What a pass did for one listed person (PassReport counts each).
PersonOutcome = Literal["sent", "failed", "nothing_due", "not_yet", "already_sent", "off", "gone", "stale"]


@dataclass
class PassReport:
    hour: int
    listed: int = 0
    outcomes: dict[str, int] | None = None

    def count(self, outcome: PersonOutcome) -> None:
        self.outcomes = self.outcomes or {}
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def json(self) -> str:
        return json.dumps({"reminder_pass": self.hour, "listed": self.listed, **(self.outcomes or {})}, sort_keys=True)


def run_pass(store: Store, mailer: Mailer, *, secret: str, links: Links, now: Now) -> PassReport:
    """Remind everyone on the list of the current UTC hour whose reminder is due; never raises for one person."""
    hour = dt.datetime.fromtimestamp(now.ms / 1000, dt.UTC).hour
    entries = store.reminder_list(hour)
    report = PassReport(hour, len(entries))
    for entry in entries:
        outcome: PersonOutcome
        try:
            outcome = remind(store, mailer, entry, hour, secret=secret, links=links, now=now)
        except Exception:
            # Logged with a keyed hash, never the user id; the next pass that lists them tries again.
            log.exception("reminder for %s failed", ids.log_hash(secret, entry.user_id))
            outcome = "failed"
        report.count(outcome)
    return report


def remind(
    store: Store, mailer: Mailer, entry: ReminderEntry, hour: int, *, secret: str, links: Links, now: Now
) -> PersonOutcome:
    """One listed person: send their reminder if it is due and not sent today; what happened."""
    try:
        data = store.everything(entry.user_id)
    except UserNotFound:
        _drop(store, entry, hour)
        return "gone"
    profile = data.profile
    if not profile.reminders.email:
        _drop(store, entry, hour)
        return "off"
    if not entry.retry:
        expected = reminder_hour_utc(profile.timezone, profile.reminders.hour, now)
        if expected != hour and not store.relist_reminders(entry.user_id, hour, expected):
            return "stale"  # the profile lists them elsewhere: that list's pass reminds them
    zone = zone_of(profile.timezone)
    local = dt.datetime.fromtimestamp(now.ms / 1000, zone)
    day = local.date().isoformat()
    previous = data.reminder_state.last_sent_on
    outcome: PersonOutcome
    if local.hour < profile.reminders.hour:
        outcome = "not_yet"
    elif previous is not None and previous >= day:
        outcome = "already_sent"
    else:
        items = due_items(data, now)
        if not items:
            outcome = "nothing_due"
        elif not store.claim_reminder(entry.user_id, day):
            outcome = "already_sent"  # another pass claimed it first
        else:
            url = f"{links.api}/reminders/unsubscribe/{unsubscribe_token(secret, entry.user_id)}"
            try:
                mailer.send(compose(profile, items, links, url))
                outcome = "sent"
            except Exception:
                log.exception(
                    "sending the reminder to %s failed; retried next hour", ids.log_hash(secret, entry.user_id)
                )
                store.release_reminder(entry.user_id, day, previous)
                store.set_reminder_retry(entry.user_id, (hour + 1) % 24, True)
                outcome = "failed"
    if entry.retry:
        store.set_reminder_retry(entry.user_id, hour, False)
    return outcome


def _drop(store: Store, entry: ReminderEntry, hour: int) -> None:
    if entry.retry:
        store.set_reminder_retry(entry.user_id, hour, False)
    else:
        store.relist_reminders(entry.user_id, hour, None)


# ---- the scheduled function and `make reminders` ---------------------------------------------------


def scheduled_pass(now: Now | None = None) -> PassReport | None:
    """The hourly pass with this stage's settings, store and mailer; None (logged) when it cannot run."""
    from chalicelib import settings as settings_module
    from chalicelib.jwt_secret import SecretUnavailable, jwt_secret
    from chalicelib.mailer import mailer_for
    from chalicelib.store.factory import store_for

    loaded = settings_module.load()
    conf = loaded.settings
    problem = loaded.refusal or "; ".join(loaded.problems) or (conf.reminders_problem if conf else None)
    if conf is None or problem:
        log.error("reminder pass not run: %s", problem)
        return None
    try:
        secret = jwt_secret(conf)
    except SecretUnavailable as exc:
        log.error("reminder pass not run: %s", exc)
        return None
    links = Links(
        frontend=conf.frontend_url or DEV_FRONTEND_URL,
        api=conf.public_api_url or DEV_API_URL,
        sender=conf.reminders_from_email or DEV_FROM_EMAIL,
    )
    report = run_pass(store_for(conf), mailer_for(conf), secret=secret, links=links, now=now or Now.read())
    print(report.json(), flush=True)  # one line in the function's log, like the access log's
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """`make reminders`: one pass now (or --at an instant), with a stage's settings from .chalice/config.json."""
    import argparse
    import os

    from chalicelib.models import parse_rfc3339
    from chalicelib.settings import stage_environment

    parser = argparse.ArgumentParser(prog="python -m chalicelib.reminders", description=main.__doc__)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--at", help="run as if it were this instant (RFC 3339), e.g. 2026-12-02T08:00:00+01:00")
    args = parser.parse_args(argv)
    for name, value in stage_environment(".", args.stage).items():
        os.environ.setdefault(name, value)  # what is set in the environment wins
    os.environ.setdefault("STAGE", args.stage)
    logging.basicConfig(level=logging.INFO)
    now = Now(int(parse_rfc3339(args.at).timestamp() * 1000)) if args.at else None
    return 0 if scheduled_pass(now) is not None else 1


if __name__ == "__main__":
    raise SystemExit(main())
