"""Per-client limits kept in the store, so they hold across every container of the function.

A fixed one-minute window per client address: simple, one atomic store write per request, and
at worst twice the limit across a window boundary. Addresses are stored only as keyed hashes.
"""

from __future__ import annotations

import hashlib
import hmac

from chalicelib.errors import TooManyRequests
from chalicelib.store.base import Store

WINDOW_SECONDS = 60


def _client_key(secret: str, scope: str, client_ip: str) -> str:
    digest = hmac.new(secret.encode(), f"{scope}\n{client_ip}".encode(), hashlib.sha256).hexdigest()
    return f"{scope}:{digest[:32]}"


def check_sign_in(store: Store, *, secret: str, client_ip: str, limit: int, now: float) -> None:
    """TooManyRequests once `client_ip` made more than `limit` sign-in attempts this minute (0: no limit)."""
    if limit <= 0:
        return
    window_start = int(now) // WINDOW_SECONDS * WINDOW_SECONDS
    expires_at = window_start + 2 * WINDOW_SECONDS
    count = store.count_hit(_client_key(secret, "signin", client_ip), window_start, expires_at)
    if count > limit:
        retry_after = max(1, window_start + WINDOW_SECONDS - int(now))
        raise TooManyRequests(
            f"Too many sign-in attempts from this address (limit {limit} a minute); try again in {retry_after} s.",
            retry_after=retry_after,
        )
