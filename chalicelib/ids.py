"""Application ids: sortable by creation time, unguessable, URL-safe; and the hash users are logged as.

A ULID: 48 bits of milliseconds since the epoch then 80 random bits, in Crockford base32
(26 characters). Later ids sort after earlier ones as plain strings. Within one process they are
monotonic (ULID's rule: in the same millisecond the random part is incremented), so even
applications created in one millisecond list in creation order.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_PATTERN = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")


_lock = threading.Lock()
_last = (0, 0)


def new_id(now_ms: int | None = None) -> str:
    global _last
    millis = int(time.time() * 1000) if now_ms is None else now_ms
    with _lock:
        if millis <= _last[0] and _last[1] < (1 << 80) - 1:
            millis, randomness = _last[0], _last[1] + 1
        else:
            randomness = secrets.randbits(80)
        _last = (millis, randomness)
    value = (millis << 80) | randomness
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def is_id(text: str) -> bool:
    return bool(ID_PATTERN.match(text))


def log_hash(secret: str, user_id: str) -> str:
    """How a user appears in logs (the access log's `user`, the reminder pass's failures): never the raw
    id, a keyed hash, stable for one user and useless without the secret; the same everywhere, so the
    lines can be matched."""
    return hmac.new(secret.encode(), f"log\n{user_id}".encode(), hashlib.sha256).hexdigest()[:16]
