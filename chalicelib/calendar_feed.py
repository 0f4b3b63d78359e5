"""The person's calendar feed: a secret URL calendar apps subscribe to (they cannot send a bearer token).

The secret is 256 random bits, URL-safe; only its SHA-256 is stored (Store.set_feed), so a copy of
the table gives no working feed URL. Creating a feed again rotates the secret: the old URL stops
working in the same store write.

The feed (RFC 5545, built with `icalendar`, imported by the feed route only): a VEVENT per interview
of a live application and an all-day VEVENT per `next_follow_up_on`. UIDs are made from the ids,
so calendar apps update an event instead of adding a second; DTSTAMP is the item's `updated_at`,
so the same data gives the same bytes, and the ETag is their hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from chalicelib.domain_errors import FeedNotFound
from chalicelib.models import Application, Interview, parse_rfc3339
from chalicelib.store.base import Everything, Session, Store

UID_DOMAIN = "job-hunt-tracker"
PRODID = "-//Job Hunt Tracker//Calendar feed//EN"
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class Feed:
    body: bytes
    etag: str  # a strong entity tag, quoted


def feed_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(store: Store, session: Session) -> str:
    """A new feed secret for the person; the one before stops working."""
    secret = secrets.token_urlsafe(32)
    store.set_feed(session.user_id, feed_hash(secret), session)
    return secret


def delete(store: Store, session: Session) -> None:
    store.set_feed(session.user_id, None, session)


def read(store: Store, secret: str) -> Feed:
    """The feed whose secret this is, or FeedNotFound."""
    if not _SECRET.fullmatch(secret):
        raise FeedNotFound
    user_id = store.feed_owner(feed_hash(secret))
    if user_id is None:
        raise FeedNotFound
    body = render(store.everything(user_id))
    return Feed(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def _instant(text: str) -> dt.datetime:
    return parse_rfc3339(text).astimezone(dt.UTC)


def _interview_event(interview: Interview, app: Application):  # type: ignore[no-untyped-def]
    from icalendar import Event

    start = _instant(interview.starts_at)
    event = Event()
    event.add("uid", f"interview-{interview.id}@{UID_DOMAIN}")
    event.add("dtstamp", _instant(interview.updated_at))
    event.add("dtstart", start)
    event.add("dtend", start + dt.timedelta(minutes=interview.duration_minutes))
    event.add("summary", f"Interview: {interview.kind.value.replace('_', ' ')} — {app.company}")
    if interview.location or interview.meeting_url:
        event.add("location", interview.location or interview.meeting_url)
    if interview.meeting_url:
        event.add("url", interview.meeting_url)
    lines = [f"{app.role} at {app.company}"]
    if interview.interviewers:
        lines.append("With: " + ", ".join(interview.interviewers))
    if interview.meeting_url:
        lines.append(f"Meeting: {interview.meeting_url}")
    if interview.notes:
        lines.append("")
        lines.append(interview.notes)
    event.add("description", "\n".join(lines))
    event.add("sequence", interview.version)
    if interview.outcome.value == "cancelled":
        event.add("status", "CANCELLED")
    return event


def _follow_up_event(app: Application):  # type: ignore[no-untyped-def]
    from icalendar import Event

    assert app.next_follow_up_on is not None
    event = Event()
    event.add("uid", f"follow-up-{app.id}@{UID_DOMAIN}")
    event.add("dtstamp", _instant(app.updated_at))
    event.add("dtstart", app.next_follow_up_on)
    event.add("dtend", app.next_follow_up_on + dt.timedelta(days=1))
    event.add("summary", f"Follow up: {app.company} — {app.role}")
    event.add("transp", "TRANSPARENT")
    if app.url:
        event.add("url", app.url)
    event.add("sequence", app.version)
    return event


def render(data: Everything) -> bytes:
    """The iCalendar text of a person's interviews and follow-ups, the same bytes for the same data."""
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "Job hunt")
    calendar.add("x-wr-timezone", data.profile.timezone)
    apps = {app.id: app for app in data.applications}
    for interview in sorted(data.live_interviews, key=lambda i: (i.starts_at, i.id)):
        calendar.add_component(_interview_event(interview, apps[interview.application_id]))
    for app in sorted(data.applications, key=lambda a: a.id):
        if app.next_follow_up_on is not None:
            calendar.add_component(_follow_up_event(app))
    return bytes(calendar.to_ical())
