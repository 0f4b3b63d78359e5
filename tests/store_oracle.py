"""What a ListFilter selects, said plainly in Python: the oracle the store contract checks both stores against."""

from __future__ import annotations

from chalicelib.clock import Now
from chalicelib.models import Application, UserRecord
from chalicelib.store.base import ListFilter, Session, Store
from chalicelib.tracker import plan_settings


def matches(flt: ListFilter, app: Application) -> bool:
    if flt.statuses and app.status not in flt.statuses:
        return False
    if flt.tag is not None and flt.tag.lower() not in {t.lower() for t in app.tags}:
        return False
    if flt.q is not None and flt.q not in app.company.lower() and flt.q not in app.role.lower():
        return False
    if flt.contact is not None and not any(
        flt.contact in value.lower() for c in app.contacts for value in (c.name, c.email) if value
    ):
        return False
    return flt.follow_up_due_by is None or (
        app.next_follow_up_on is not None and app.next_follow_up_on <= flt.follow_up_due_by
    )


def set_timezone(store: Store, user_id: str, timezone: str, session: Session | None = None) -> UserRecord:
    """The person's time zone set the way PATCH /api/user sets it (reminders as they were)."""
    return store.update_settings(
        user_id, lambda current: plan_settings(current, timezone, None, None, Now.read()), session
    )
