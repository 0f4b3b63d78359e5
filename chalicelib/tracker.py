"""The use cases of tracking job applications: typed values in, models out, domain errors raised.

No HTTP here (parsing requests and mapping errors to statuses is chalicelib/web.py's job) and no
boto3 (that is the Store's). Every use case acts for one `Session` -- the user and the token they
sent -- so a signed-out token is refused by the same store call that finds the user -- and reads
the time from the request's one `Now`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, replace

from chalicelib import ids
from chalicelib.clock import Now
from chalicelib.models import (
    FUNNEL_STAGES,
    RESPONSE_STATUSES,
    Application,
    ApplicationData,
    ApplicationPatch,
    FunnelStats,
    Interview,
    InterviewData,
    InterviewPatch,
    InterviewStats,
    Outcome,
    Reminders,
    SourceStats,
    Status,
    StatusChange,
    StatusCounts,
    UserPatch,
    UserRecord,
    WeekCount,
    utc_instant,
)
from chalicelib.store.base import (
    AgendaPage,
    ApplicationNotFound,
    IdempotencyKeyTaken,
    IdempotentCreate,
    InterviewNotFound,
    ListFilter,
    Page,
    Session,
    Sessions,
    SettingsChange,
    Store,
    VersionConflict,
)

_UPDATE_ATTEMPTS = 3
IDEMPOTENCY_SECONDS = 24 * 3600


class Stale(Exception):
    """The client's expected version is not the stored one.

    `changed`: the client named an earlier version of it (someone changed it since); otherwise it
    named a version the application never had, or another application's.
    """

    what = "application"

    def __init__(self, app_id: str, version: int, *, changed: bool = True) -> None:
        super().__init__(f"{app_id} is at version {version}")
        self.app_id = app_id
        self.version = version
        self.changed = changed


class StaleInterview(Stale):
    """The client's expected version of an interview is not the stored one."""

    what = "interview"


class BadWindow(Exception):
    """An agenda window that ends before it starts."""


class Busy(Exception):
    """Other requests kept changing the application while this one tried to."""


class IdempotencyKeyReused(Exception):
    """The idempotency key was used for a create with another body."""


@dataclass(frozen=True)
class Expect:
    """What the client expects the application to be (If-Match): any version, or one of these."""

    versions: frozenset[tuple[str, int]] | None = None  # (id, version) pairs; None: any

    def check(self, app: Application) -> None:
        if self.versions is not None and (app.id, app.version) not in self.versions:
            raise Stale(app.id, app.version, changed=self._earlier(app.id, app.version))

    def check_interview(self, interview: Interview) -> None:
        if self.versions is not None and (interview.id, interview.version) not in self.versions:
            raise StaleInterview(
                interview.id, interview.version, changed=self._earlier(interview.id, interview.version)
            )

    def _earlier(self, item_id: str, version: int) -> bool:
        """Whether the client named an earlier version of this item (someone changed it since)."""
        return any(i == item_id and v < version for i, v in self.versions or ())


# ---- account ------------------------------------------------------------------------------------


def profile(store: Store, session: Session) -> UserRecord:
    return store.get_user(session.user_id, session)


def update_settings(store: Store, session: Session, patch: UserPatch, now: Now) -> UserRecord:
    """PATCH /api/user: the time zone and reminder settings sent (the rest stays), and the person put
    on (or taken off) the reminder list that goes with them, in one atomic write."""
    sent = patch.reminders

    def plan(current: UserRecord) -> SettingsChange:
        return plan_settings(current, patch.timezone, sent.email if sent else None, sent.hour if sent else None, now)

    return store.update_settings(session.user_id, plan, session)


def plan_settings(
    current: UserRecord, timezone: str | None, email: bool | None, hour: int | None, now: Now
) -> SettingsChange:
    """The settings after a change (what was not given stays), and the reminder list that goes with them."""
    reminders = Reminders(
        email=current.reminders.email if email is None else email,
        hour=current.reminders.hour if hour is None else hour,
    )
    zone = timezone or current.timezone
    return SettingsChange(zone, reminders, reminder_hour_utc(zone, reminders.hour, now) if reminders.email else None)


def reminder_hour_utc(timezone: str, hour: int, now: Now) -> int:
    """The UTC hour (0-23) whose reminder list holds a person reminded at local `hour` in `timezone`:
    the UTC hour in which that local hour begins today, rounded up to a whole hour (08:00 in
    Asia/Kolkata is 02:30 UTC: listed at 03). chalicelib/reminders.py says why."""
    zone = zone_of(timezone)
    begins = dt.datetime.combine(today(zone, now), dt.time(hour), zone).astimezone(dt.UTC)
    return (begins.hour + (1 if begins.minute or begins.second else 0)) % 24


def zone_of(name: str) -> dt.tzinfo:
    if name == "UTC":
        return dt.UTC  # the default: no time zone database needed
    from zoneinfo import ZoneInfo  # loaded by the routes that need a person's "today"

    return ZoneInfo(name)


def local_date(instant: str, zone: dt.tzinfo) -> dt.date:
    """The date in `zone` of an instant as stored (RFC 3339, UTC)."""
    return dt.datetime.fromisoformat(instant).astimezone(zone).date()


def today(zone: dt.tzinfo, now: Now) -> dt.date:
    return dt.datetime.fromtimestamp(now.ms / 1000, zone).date()


def delete_account(store: Store, session: Session) -> None:
    store.delete_user(session.user_id, session)


def sign_out(store: Store, session: Session, *, expires_at: int, everywhere: bool, now: Now) -> None:
    """End this token (until it would have expired anyway), or every token issued up to now."""

    def change(current: Sessions) -> Sessions:
        if everywhere:
            return current.end_all(ids.new_id(now.ms))
        return current.revoke(session.token_id, expires_at, now.seconds)

    store.update_sessions(session.user_id, session, change)


# ---- one application ----------------------------------------------------------------------------


def create_application(
    store: Store, session: Session, data: ApplicationData, now: Now, idempotency_key: str | None = None
) -> tuple[Application, bool]:
    """The new application, and whether it is the replay of an earlier create with the same key."""
    app = Application.model_validate(
        {
            **data.model_dump(),
            "id": ids.new_id(now.ms),
            "created_at": now.iso,
            "updated_at": now.iso,
            "version": 1,
            "status_history": [StatusChange(status=data.status, at=now.iso)],
        }
    )
    record = None
    if idempotency_key is not None:
        key = hashlib.sha256(f"{session.user_id}\n{idempotency_key}".encode()).hexdigest()
        fingerprint = hashlib.sha256(data.model_dump_json().encode()).hexdigest()
        record = IdempotentCreate(
            key, fingerprint, now.seconds, now.seconds + IDEMPOTENCY_SECONDS, app.model_dump_json()
        )
    try:
        store.create_application(session.user_id, app, session, record)
    except IdempotencyKeyTaken as taken:
        assert record is not None
        if taken.record.fingerprint != record.fingerprint:
            raise IdempotencyKeyReused from None
        return Application.stored(taken.record.response), True
    return app, False


def get_application(store: Store, session: Session, app_id: str) -> Application:
    if not ids.is_id(app_id):
        raise ApplicationNotFound(app_id)
    return store.get_application(session.user_id, app_id, session)


def update_application(
    store: Store, session: Session, app_id: str, patch: ApplicationPatch, expect: Expect | None, now: Now
) -> Application:
    """Apply the fields sent; a pydantic ValidationError if the result is not a valid application."""
    changes = patch.model_dump(include=patch.model_fields_set)
    for _ in range(_UPDATE_ATTEMPTS):
        current = get_application(store, session, app_id)
        if expect is not None:
            expect.check(current)
        fields = current.model_dump(include=set(ApplicationData.model_fields))
        merged_fields = {**fields, **changes}
        if merged_fields == fields:
            return current  # nothing changes: no new version
        merged = ApplicationData.model_validate(merged_fields)
        history = list(current.status_history)
        if merged.status != current.status:
            history.append(StatusChange(status=merged.status, at=now.iso))
        updated = Application.model_validate(
            {
                **current.model_dump(),
                **merged.model_dump(),
                "updated_at": now.iso,
                "version": current.version + 1,
                "status_history": history,
            }
        )
        try:
            store.replace_application(session.user_id, updated, expected_version=current.version)
            return updated
        except VersionConflict:
            # Another write came first. Re-read: with If-Match that answers Stale with the current
            # version; without it, the partial update is reapplied on top of the other change.
            continue
    raise Busy(app_id)


def delete_application(store: Store, session: Session, app_id: str, expect: Expect | None) -> None:
    expected = None
    if expect is not None and expect.versions is not None:
        current = get_application(store, session, app_id)
        expect.check(current)
        expected = current.version
    elif not ids.is_id(app_id):
        raise ApplicationNotFound(app_id)
    try:
        store.delete_application(session.user_id, app_id, expected, session)
    except VersionConflict as exc:
        raise Stale(app_id, exc.current_version) from None


# ---- listing and statistics ---------------------------------------------------------------------


def list_applications(
    store: Store, session: Session, flt: ListFilter, limit: int, after_id: str | None, now: Now | None = None
) -> Page:
    """A page of applications. With a follow-up filter and `now`, "due" means on or before the
    person's today in their time zone (one more read of the profile, only then)."""
    if flt.follow_up_due_by is not None and now is not None:
        zone = zone_of(store.get_user(session.user_id, session).timezone)
        flt = replace(flt, follow_up_due_by=today(zone, now))
    return store.list_applications(session.user_id, flt, limit, after_id, session)


def _applied_on(app: Application, zone: dt.tzinfo = dt.UTC) -> dt.date | None:
    """When it was applied for: the date the person gave, else the day (in the person's time zone)
    of the first move past wishlist."""
    if app.applied_on is not None:
        return app.applied_on
    for change in app.status_history:
        if change.status != Status.WISHLIST:
            return local_date(change.at, zone)
    return None


def _first_answer(app: Application) -> StatusChange | None:
    """The employer's first answer after the application reached `applied` (as for response_rate):
    None if it never reached applied or got no answer since."""
    seen = [c.status for c in app.status_history]
    if Status.APPLIED not in seen:
        return None
    for change in app.status_history[seen.index(Status.APPLIED) + 1 :]:
        if change.status in RESPONSE_STATUSES:
            return change
    return None


def _funnel_reach(app: Application) -> int:
    """How far along FUNNEL_STAGES the application got: the index of the latest stage its history
    holds, -1 if none (a later stage counts for every stage before it)."""
    reached = [FUNNEL_STAGES.index(c.status) for c in app.status_history if c.status in FUNNEL_STAGES]
    return max(reached, default=-1)


def _iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def stats(store: Store, session: Session, now: Now) -> FunnelStats:
    """The statistics of the README's "Statistics" section, from one pass over the user's data."""
    import statistics  # the stats route only: not on every cold start

    data = store.everything(session.user_id, session)
    zone = zone_of(data.profile.timezone)
    day = today(zone, now)
    apps = data.applications
    by_status = {s: 0 for s in Status}
    last_7 = last_30 = reached = responded = 0
    funnel = [0] * len(FUNNEL_STAGES)
    days_to_answer: list[int] = []
    sources: dict[str, list[int]] = {}  # source -> [total, applied, responded]
    this_monday = day - dt.timedelta(days=day.weekday())
    weeks = [this_monday - dt.timedelta(weeks=n) for n in range(11, -1, -1)]
    per_week: Counter[dt.date] = Counter()
    for app in apps:
        by_status[app.status] += 1
        applied = _applied_on(app, zone)
        if applied is not None:
            age = (day - applied).days
            last_7 += 0 <= age < 7
            last_30 += 0 <= age < 30
            if weeks[0] <= applied <= day:
                per_week[applied - dt.timedelta(days=applied.weekday())] += 1
        for stage in range(_funnel_reach(app) + 1):
            funnel[stage] += 1
        source = sources.setdefault((app.source or "").strip().lower() or "unknown", [0, 0, 0])
        source[0] += 1
        if Status.APPLIED in (c.status for c in app.status_history):
            reached += 1
            source[1] += 1
            answer = _first_answer(app)
            if answer is not None:
                responded += 1
                source[2] += 1
                if applied is not None:
                    days_to_answer.append(max(0, (local_date(answer.at, zone) - applied).days))
    interviews = data.live_interviews
    by_outcome = {o: 0 for o in Outcome}
    for interview in interviews:
        by_outcome[interview.outcome] += 1
    now_iso = now.iso
    return FunnelStats(
        total=len(apps),
        by_status=StatusCounts.model_validate({s.value: n for s, n in by_status.items()}),
        applied_last_7_days=last_7,
        applied_last_30_days=last_30,
        response_rate=round(responded / reached, 4) if reached else 0.0,
        funnel={stage.value: count for stage, count in zip(FUNNEL_STAGES, funnel, strict=True)},  # type: ignore[misc]
        conversion={
            stage.value: round(funnel[n] / funnel[n - 1], 3) if funnel[n - 1] else 0.0  # type: ignore[misc]
            for n, stage in enumerate(FUNNEL_STAGES)
            if n > 0
        },
        median_days_to_response=statistics.median(days_to_answer) if days_to_answer else None,
        by_source={
            name: SourceStats(total=t, applied=a, responded=r, response_rate=round(r / a, 4) if a else 0.0)
            for name, (t, a, r) in sorted(sources.items())
        },
        weekly_applied=[WeekCount(week=_iso_week(monday), count=per_week[monday]) for monday in weeks],
        interviews=InterviewStats(
            total=len(interviews),
            upcoming=sum(i.starts_at >= now_iso and i.outcome == Outcome.PENDING for i in interviews),
            by_outcome=by_outcome,
        ),
    )


# ---- interviews ---------------------------------------------------------------------------------


def create_interview(store: Store, session: Session, app_id: str, data: InterviewData, now: Now) -> Interview:
    if not ids.is_id(app_id):
        raise ApplicationNotFound(app_id)
    interview = Interview.model_validate(
        {
            **data.model_dump(),
            "id": ids.new_id(now.ms),
            "application_id": app_id,
            "created_at": now.iso,
            "updated_at": now.iso,
            "version": 1,
        }
    )
    store.create_interview(session.user_id, interview, session)
    return interview


def list_interviews(store: Store, session: Session, app_id: str) -> list[Interview]:
    if not ids.is_id(app_id):
        raise ApplicationNotFound(app_id)
    return list(store.list_interviews(session.user_id, app_id, session))


def get_interview(store: Store, session: Session, app_id: str, interview_id: str) -> Interview:
    if not ids.is_id(app_id):
        raise ApplicationNotFound(app_id)
    if not ids.is_id(interview_id):
        store.get_application(session.user_id, app_id, session)  # a missing application says so first
        raise InterviewNotFound(interview_id)
    return store.get_interview(session.user_id, app_id, interview_id, session)


def update_interview(
    store: Store,
    session: Session,
    app_id: str,
    interview_id: str,
    patch: InterviewPatch,
    expect: Expect | None,
    now: Now,
) -> Interview:
    changes = patch.model_dump(include=patch.model_fields_set)
    for _ in range(_UPDATE_ATTEMPTS):
        current = get_interview(store, session, app_id, interview_id)
        if expect is not None:
            expect.check_interview(current)
        fields = current.model_dump(include=set(InterviewData.model_fields))
        merged_fields = {**fields, **changes}
        if merged_fields == fields:
            return current
        merged = InterviewData.model_validate(merged_fields)
        updated = Interview.model_validate(
            {**current.model_dump(), **merged.model_dump(), "updated_at": now.iso, "version": current.version + 1}
        )
        try:
            store.replace_interview(session.user_id, updated, current.version, session)
            return updated
        except VersionConflict:
            continue
    raise Busy(interview_id)


def delete_interview(store: Store, session: Session, app_id: str, interview_id: str, expect: Expect | None) -> None:
    expected = None
    if expect is not None and expect.versions is not None:
        current = get_interview(store, session, app_id, interview_id)
        expect.check_interview(current)
        expected = current.version
    elif not (ids.is_id(app_id) and ids.is_id(interview_id)):
        get_interview(store, session, app_id, interview_id)  # raises the not-found of the right one
    try:
        store.delete_interview(session.user_id, app_id, interview_id, expected, session)
    except VersionConflict as exc:
        raise StaleInterview(interview_id, exc.current_version) from None


AGENDA_DAYS = 14


def _instant(bound: dt.date | dt.datetime, zone: dt.tzinfo | None) -> dt.datetime:
    if isinstance(bound, dt.datetime):
        return bound
    assert zone is not None
    return dt.datetime.combine(bound, dt.time(), zone)  # the day starts at local midnight


def agenda(
    store: Store,
    session: Session,
    start: dt.date | dt.datetime | None,
    end: dt.date | dt.datetime | None,
    limit: int,
    after: tuple[str, str] | None,
    now: Now,
) -> AgendaPage:
    """Interviews starting in [start, end): by default from now for AGENDA_DAYS days; a date bound
    is midnight in the person's time zone (a date-time is taken as given)."""
    dated = any(isinstance(b, dt.date) and not isinstance(b, dt.datetime) for b in (start, end))
    zone = zone_of(store.get_user(session.user_id, session).timezone) if dated else None
    low = _instant(start, zone) if start is not None else dt.datetime.fromtimestamp(now.ms / 1000, dt.UTC)
    try:
        high = _instant(end, zone) if end is not None else low + dt.timedelta(days=AGENDA_DAYS)
    except OverflowError:
        high = dt.datetime.max.replace(tzinfo=dt.UTC)
    if high <= low:
        raise BadWindow("'to' must be later than 'from'.")
    try:
        window = utc_instant(low), utc_instant(high)
    except (OverflowError, ValueError):
        raise BadWindow("'from' and 'to' must be between the years 1 and 9999 in UTC.") from None
    return store.agenda(session.user_id, *window, limit, after, session)
