"""What a ListFilter selects, said plainly in Python: the oracle the store contract checks both stores against."""

from __future__ import annotations

from chalicelib.models import Application
from chalicelib.store.base import ListFilter


def matches(flt: ListFilter, app: Application) -> bool:
    if flt.statuses and app.status not in flt.statuses:
        return False
    if flt.tag is not None and flt.tag.lower() not in {t.lower() for t in app.tags}:
        return False
    if flt.q is not None and flt.q not in app.company.lower() and flt.q not in app.role.lower():
        return False
    return flt.follow_up_due_by is None or (
        app.next_follow_up_on is not None and app.next_follow_up_on <= flt.follow_up_due_by
    )
