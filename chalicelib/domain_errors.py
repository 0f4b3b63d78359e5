"""The errors of the use cases that only some routes load (import, the calendar feed, reminders).

They live apart from those modules so that web.ERRORS can map them to statuses without putting
csv, icalendar's helpers or the mailer on every cold start: only the route that needs a module
imports it.
"""

from __future__ import annotations


class TooLarge(Exception):
    """A file past an import limit; the message names it."""


class BadFile(Exception):
    """A file that is not a CSV this import can read (not UTF-8, no header, no company or role column)."""

    def __init__(self, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.field = field


class FeedNotFound(Exception):
    """No feed has this secret (never made, rotated, deleted, or the account is gone)."""


class BadUnsubscribeLink(Exception):
    """The unsubscribe token is malformed or forged, or its account is gone."""
