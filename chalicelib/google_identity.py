"""A Google ID token in, a verified identity out.

google-auth checks the RS256 signature against Google's certs; the claims are checked here so
each failure gets a message a frontend developer can act on. Google's certs are cached in the
warm container for the `max-age` Google sends (google-auth's own helpers fetch them on every
call), and a token signed with a key we have not seen triggers at most one early refetch per
minute, for key rotation. Imported only by the sign-in route: it pulls in requests and crypto.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

import requests
from google.auth import crypt

from chalicelib.errors import ErrorCode, InvalidGoogleCredential, ServiceUnavailable

log = logging.getLogger(__name__)

GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
SIGNING_ALGORITHM = "RS256"
RETRY_AFTER_SECONDS = 30
REFETCH_MIN_INTERVAL_SECONDS = 60.0
DEFAULT_MAX_AGE_SECONDS = 300
MAX_MAX_AGE_SECONDS = 24 * 3600
STALE_GRACE_SECONDS = 24 * 3600
FETCH_TIMEOUT = (3.05, 5.0)
FILE_MAX_AGE_SECONDS = 60
# Google ID tokens live one hour; times outside 2001..2100 are not from Google.
MAX_LIFETIME_SECONDS = 24 * 3600
EARLIEST_TIME = 1_000_000_000
LATEST_TIME = 4_102_444_800
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*(\d+)", re.IGNORECASE)


class CertsUnavailable(Exception):
    """Google's certs could not be fetched or read."""


@dataclass
class _Certs:
    verifiers: dict[str, crypt.Verifier]
    fetched_at: float
    expires_at: float


def max_age_of(cache_control: str | None) -> int:
    match = _MAX_AGE.search(cache_control or "")
    if not match:
        return DEFAULT_MAX_AGE_SECONDS
    return min(int(match.group(1)), MAX_MAX_AGE_SECONDS)


class _Fetcher:
    """GET the certs document over one reused session."""

    def __init__(self) -> None:
        self._session: requests.Session | None = None

    def __call__(self, url: str) -> tuple[dict[str, str], int]:
        if url.startswith("file:"):
            return _read_file(url), FILE_MAX_AGE_SECONDS
        if self._session is None:
            self._session = requests.Session()
        try:
            response = self._session.get(url, timeout=FETCH_TIMEOUT)
        except requests.RequestException as exc:
            raise CertsUnavailable(f"{type(exc).__name__} fetching {url}") from exc
        if response.status_code != 200:
            raise CertsUnavailable(f"HTTP {response.status_code} from {url}")
        try:
            body = response.json()
        except ValueError as exc:
            raise CertsUnavailable(f"{url} did not answer JSON") from exc
        if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
            raise CertsUnavailable(f"{url} did not answer a JSON object of key id -> PEM certificate")
        return body, max_age_of(response.headers.get("Cache-Control"))


def _read_file(url: str) -> dict[str, str]:
    """A certs document on disk (the dev stand-in's), read like a fetch; paths are relative to the cwd."""
    path = url.removeprefix("file://") if url.startswith("file://") else url.removeprefix("file:")
    try:
        with open(path) as f:
            body = json.load(f)
    except (OSError, ValueError) as exc:
        raise CertsUnavailable(f"cannot read {path}: {type(exc).__name__}") from exc
    if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
        raise CertsUnavailable(f"{path} is not a JSON object of key id -> PEM certificate")
    return body


class GoogleCerts:
    """Google's signing certs per URL, cached for their max-age, refetched on rotation."""

    def __init__(
        self,
        fetch: Callable[[str], tuple[dict[str, str], int]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch or _Fetcher()
        self._clock = clock
        self._entries: dict[str, _Certs] = {}
        self._lock = threading.Lock()

    def verifier(self, url: str, kid: str | None) -> crypt.Verifier | None:
        """The verifier for key `kid`, or None when Google does not publish it."""
        with self._lock:
            now = self._clock()
            entry = self._entries.get(url)
            if entry is None or now >= entry.expires_at:
                entry = self._refresh(url, entry, now)
            found = entry.verifiers.get(kid or "")
            if found is None and now - entry.fetched_at >= REFETCH_MIN_INTERVAL_SECONDS:
                entry = self._refresh(url, entry, now)
                found = entry.verifiers.get(kid or "")
            return found

    def key_count(self, url: str) -> int:
        """How many keys `url` publishes, from the cache while it is fresh (readiness); CertsUnavailable."""
        with self._lock:
            now = self._clock()
            entry = self._entries.get(url)
            if entry is None or now >= entry.expires_at:
                entry = self._refresh(url, entry, now)
            return len(entry.verifiers)

    def _refresh(self, url: str, stale: _Certs | None, now: float) -> _Certs:
        try:
            pems, max_age = self._fetch(url)
        except CertsUnavailable as exc:
            if stale is not None and now < stale.expires_at + STALE_GRACE_SECONDS:
                log.warning("google certs refetch failed (%s); using the cached certs", exc)
                stale.fetched_at = now
                return stale
            log.error("google certs unavailable: %s", exc)
            raise
        verifiers = {}
        for kid, pem in pems.items():
            try:
                verifiers[kid] = crypt.RSAVerifier.from_string(pem)
            except ValueError:
                log.warning("google certs: skipping unreadable certificate for key %s", kid)
        entry = _Certs(verifiers=verifiers, fetched_at=now, expires_at=now + max_age)
        self._entries[url] = entry
        return entry


# One per container: a warm container reuses what it fetched.
CERTS = GoogleCerts()


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _split(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    if not token.isascii():
        raise InvalidGoogleCredential(
            "The credential is not a Google ID token (it holds characters other than base64url and dots)."
        )
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidGoogleCredential(
            "The credential is not a Google ID token (expected a JWT of three dot-separated parts)."
        )
    try:
        header = json.loads(_b64decode(parts[0]))
        payload = json.loads(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
    except (ValueError, binascii.Error, RecursionError):  # RecursionError: JSON nested past the parser's limit
        raise InvalidGoogleCredential(
            "The credential is not a Google ID token (its parts are not base64url JSON)."
        ) from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise InvalidGoogleCredential(
            "The credential is not a Google ID token (header or payload is not a JSON object)."
        )
    return header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def verify_id_token(
    token: str,
    *,
    client_ids: Sequence[str],
    certs_urls: Sequence[str],
    clock_skew_seconds: int,
    hosted_domains: Sequence[str] = (),
    certs: GoogleCerts | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The claims of a valid Google ID token, or InvalidGoogleCredential / ServiceUnavailable."""
    certs = certs or CERTS
    header, claims, signed, signature = _split(token)
    if header.get("alg") != SIGNING_ALGORITHM:
        raise InvalidGoogleCredential(
            f"The credential is signed with {str(header.get('alg'))[:20]!r}; Google ID tokens use {SIGNING_ALGORITHM}."
        )
    kid = header.get("kid")
    verifier = _find_verifier(certs, certs_urls, kid if isinstance(kid, str) else None)
    if verifier is None:
        raise InvalidGoogleCredential(
            "The credential is signed with a key Google does not publish; it was not issued by Google."
        )
    if not verifier.verify(signed, signature):
        raise InvalidGoogleCredential("The credential's signature is invalid; it was altered or not issued by Google.")
    _check_claims(claims, client_ids, clock_skew_seconds, hosted_domains, time.time() if now is None else now)
    return claims


def _find_verifier(certs: GoogleCerts, urls: Sequence[str], kid: str | None) -> crypt.Verifier | None:
    """The first source that publishes `kid`; 503 only when none does and one could not be read."""
    unavailable = False
    for url in urls:
        try:
            found = certs.verifier(url, kid)
        except CertsUnavailable:
            unavailable = True
            continue
        if found is not None:
            return found
    if unavailable:
        raise ServiceUnavailable(
            "Google's signing certificates cannot be fetched right now; try signing in again shortly.",
            retry_after=RETRY_AFTER_SECONDS,
            code=ErrorCode.GOOGLE_CERTS_UNAVAILABLE,
        )
    return None


def _is_time(value: object) -> TypeGuard[int]:
    """Whole seconds since 1970 in a sane range: not a bool, not a float (1e308, NaN, Infinity)."""
    return isinstance(value, int) and not isinstance(value, bool) and EARLIEST_TIME <= value <= LATEST_TIME


def _check_claims(
    claims: dict[str, Any], client_ids: Sequence[str], skew: int, hosted_domains: Sequence[str], now: float
) -> None:
    if claims.get("iss") not in GOOGLE_ISSUERS:
        raise InvalidGoogleCredential("The credential was not issued by Google (its 'iss' is not accounts.google.com).")
    if claims.get("aud") not in client_ids:
        raise InvalidGoogleCredential(
            f"The credential was issued for another Google client id ({str(claims.get('aud'))[:100]!r}); "
            "the frontend must request it with this API's GOOGLE_CLIENT_ID."
        )
    exp, iat = claims.get("exp"), claims.get("iat")
    if not _is_time(exp) or not _is_time(iat) or not 0 < exp - iat <= MAX_LIFETIME_SECONDS:
        raise InvalidGoogleCredential(
            "The credential lacks numeric 'exp' and 'iat' claims (whole seconds since 1970, "
            "'exp' after 'iat' and at most a day later); it was not issued by Google."
        )
    if now > exp + skew:
        raise InvalidGoogleCredential(
            "The Google credential has expired (they last one hour); get a fresh one from Google Sign-In."
        )
    if now < iat - skew:
        raise InvalidGoogleCredential(
            "The Google credential is not valid yet (issued in the future); check the device clock."
        )
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise InvalidGoogleCredential("The credential lacks the Google account id ('sub').")
    if not isinstance(claims.get("email"), str) or "@" not in claims["email"]:
        raise InvalidGoogleCredential("The credential lacks an email address; request the 'email' scope.")
    verified = claims.get("email_verified")
    # `in (True, "true")` would also take 1 and 1.0 (they equal True): only the JSON true, or the
    # string "true" that Google once sent, mean verified.
    if verified is not True and verified != "true":
        raise InvalidGoogleCredential(
            "Google has not verified this account's email address; verify it with Google first."
        )
    if hosted_domains and str(claims.get("hd", "")).lower() not in hosted_domains:
        raise InvalidGoogleCredential(
            "Sign-in is limited to Google Workspace accounts of: " + ", ".join(hosted_domains) + "."
        )
