"""One clock reading per request: every timestamp, id and expiry of a request comes from it."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Now:
    """An instant in whole milliseconds since the epoch (UTC)."""

    ms: int

    @classmethod
    def read(cls) -> Now:
        return cls(time.time_ns() // 1_000_000)

    @property
    def seconds(self) -> int:
        return self.ms // 1000

    @property
    def iso(self) -> str:
        """RFC 3339 in UTC with milliseconds, e.g. 2026-11-26T21:14:03.512Z."""
        moment = dt.datetime.fromtimestamp(self.ms / 1000, dt.UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    @property
    def date(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.ms / 1000, dt.UTC).date()
