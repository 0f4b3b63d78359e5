"""CORS as one small value: given a request's Origin, exactly the headers to add.

Credentials are on, so an origin is echoed only when it is allowed, never `*`.
An entry may hold one `*` inside its first DNS label (`https://app-*.vercel.app`) for
preview deployments; the `*` matches letters, digits and hyphens only, never a dot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ALLOW_HEADERS = "Authorization, Content-Type, If-Match"
EXPOSE_HEADERS = "ETag, Location, Retry-After, WWW-Authenticate"

_ORIGIN = re.compile(r"^(?P<scheme>https?)://(?P<host>[^/:?#@\s\\]+)(?::(?P<port>\d{1,5}))?$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_WILD_LABEL = re.compile(r"^[a-z0-9-]*\*[a-z0-9-]*$")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1"}


@dataclass(frozen=True)
class OriginEntry:
    """One allowed origin as configured, normalised (`scheme://host[:port]`)."""

    text: str
    scheme: str
    host: str

    @property
    def is_pattern(self) -> bool:
        return "*" in self.host

    @property
    def is_loopback(self) -> bool:
        return self.host in _LOOPBACK_HOSTS


def parse_origin(raw: str) -> OriginEntry:
    """Normalise one configured origin or raise ValueError saying what is wrong with it."""
    text = raw.strip().rstrip("/").lower()
    if text == "*":
        raise ValueError("'*' cannot be allowed while credentials are on; list each origin")
    match = _ORIGIN.match(text)
    if not match:
        raise ValueError(
            f"{raw.strip()!r} is not an origin like https://app.example.com (scheme, host, optional port; no path)"
        )
    scheme, host, port = match["scheme"], match["host"], match["port"]
    labels = host.split(".")
    stars = host.count("*")
    if stars > 1:
        raise ValueError(f"{raw.strip()!r} has more than one '*'; only one, inside the first DNS label, is allowed")
    if stars == 1:
        first = labels[0]
        if "*" not in first or not _WILD_LABEL.match(first):
            raise ValueError(f"{raw.strip()!r}: a '*' may only stand inside the first DNS label")
        if first == "*":
            raise ValueError(
                f"{raw.strip()!r}: a bare '*' label matches every site on that domain; "
                "give a fixed part too, e.g. https://myapp-*.vercel.app"
            )
        if len(labels) < 3:
            raise ValueError(f"{raw.strip()!r}: a '*' label must sit under a domain with at least two more labels")
        labels = labels[1:]
    if not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{raw.strip()!r} does not have a valid host name")
    if port is not None:
        if not 0 < int(port) < 65536:
            raise ValueError(f"{raw.strip()!r} has an invalid port")
        if _DEFAULT_PORTS[scheme] == port:
            port = None
    normalised = f"{scheme}://{host}" + (f":{port}" if port else "")
    return OriginEntry(text=normalised, scheme=scheme, host=host)


def _pattern_regex(entry: OriginEntry) -> re.Pattern[str]:
    before, _, after = entry.text.partition("*")
    return re.compile(re.escape(before) + "[a-z0-9-]+" + re.escape(after))


class CorsPolicy:
    """Which origins may call the API with credentials, and the headers each one gets."""

    def __init__(self, entries: Iterable[OriginEntry], max_age: int = 600) -> None:
        self.entries = tuple(entries)
        self.max_age = max_age
        self._exact = frozenset(e.text for e in self.entries if not e.is_pattern)
        self._patterns = tuple(_pattern_regex(e) for e in self.entries if e.is_pattern)

    def allows(self, origin: str | None) -> bool:
        if not origin:
            return False
        if origin in self._exact:
            return True
        return any(p.fullmatch(origin) for p in self._patterns)

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """Headers for an actual (non-preflight) response; empty for a disallowed origin."""
        if origin is None or not self.allows(origin):
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Expose-Headers": EXPOSE_HEADERS,
        }

    def preflight_headers(self, origin: str | None, methods: Iterable[str]) -> dict[str, str]:
        """Headers for a preflight answer; empty for a disallowed origin."""
        if origin is None or not self.allows(origin):
            return {}
        allowed = sorted(set(methods) | {"OPTIONS"})
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Methods": ", ".join(allowed),
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": str(self.max_age),
        }


def add_vary_origin(headers: Mapping[str, object]) -> str:
    """The Vary value with Origin added once to whatever the response already varies on."""
    current = next((str(v) for k, v in headers.items() if k.lower() == "vary"), "")
    parts = [p.strip() for p in current.split(",") if p.strip()]
    if not any(p.lower() == "origin" for p in parts):
        parts.append("Origin")
    return ", ".join(parts)
