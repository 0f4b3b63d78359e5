"""Our own access token: a standard HS256 JWT (RFC 7519), issued and verified with the stdlib.

`iss` names this API and `aud` names the stage, so a token minted by dev is refused by prod
even when someone reuses a secret. Verification pins the algorithm (the header must say HS256:
`none`, HS512, RS256 ... are refused), checks the signature in constant time before reading the
claims, and requires every claim.

Why not pyjwt (which the tests use as an independent implementation to check these tokens):
importing it loads `cryptography` whenever that is installed (google-auth needs it), which cost
every cold start ~50 ms and ~12 MiB for an algorithm that needs only hmac; and its per-call key
and input checks made a warm /api/user twice as slow (measured with `python -m bench`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "job-hunt-tracker-api"
REQUIRED_CLAIMS = ("sub", "email", "iat", "exp", "iss", "aud", "jti")
# Containers' clocks may differ by a little: a token "issued" this far ahead is still accepted.
IAT_LEEWAY_SECONDS = 30
_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
_SEGMENT = re.compile(rb"[A-Za-z0-9_-]*")
_MALFORMED = "The access token is malformed; sign in again to get a new one."


def audience(stage: str) -> str:
    return f"{ISSUER}/{stage}"


@dataclass(frozen=True)
class Identity:
    """Who a request is from, as the access token says."""

    user_id: str
    email: str
    name: str | None
    picture: str | None
    token_id: str
    issued_at: int


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(segment: bytes) -> bytes:
    """Strict base64url without padding, as JWS requires."""
    if not _SEGMENT.fullmatch(segment) or len(segment) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))


def _mac(signing_input: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()


def issue(
    identity_claims: dict[str, Any], *, secret: str, stage: str, lifetime_s: int, now: float | None = None
) -> str:
    """A signed access token for a verified user (`sub`, `email`, `name`, `picture`)."""
    issued = int(time.time() if now is None else now)
    claims = {
        "sub": identity_claims["sub"],
        "email": identity_claims["email"],
        "name": identity_claims.get("name"),
        "picture": identity_claims.get("picture"),
        "iat": issued,
        "exp": issued + lifetime_s,
        "iss": ISSUER,
        "aud": audience(stage),
        "jti": uuid.uuid4().hex,
    }
    signing_input = _HEADER + b"." + _b64(json.dumps(claims, separators=(",", ":")).encode())
    return (signing_input + b"." + _b64(_mac(signing_input, secret))).decode("ascii")


def _is_time(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def verify(token: str, *, secret: str, stage: str, now: float | None = None) -> Identity:
    """The identity in a valid token, or Unauthorized saying what is wrong with it."""
    try:
        raw = token.encode("ascii")
        if raw.count(b".") != 2:
            raise ValueError("not three segments")
        header_segment, payload_segment, signature_segment = raw.split(b".")
        header = json.loads(_unb64(header_segment))
        signature = _unb64(signature_segment)
    except (UnicodeError, ValueError, binascii.Error):
        raise Unauthorized(_MALFORMED) from None
    if not isinstance(header, dict):
        raise Unauthorized(_MALFORMED)
    if header.get("alg") != ALGORITHM:
        raise Unauthorized(
            f"The access token uses algorithm {str(header.get('alg'))[:20]!r}; "
            f"only {ALGORITHM} tokens issued by this API are accepted."
        )
    if not hmac.compare_digest(signature, _mac(header_segment + b"." + payload_segment, secret)):
        raise Unauthorized("The access token's signature is invalid; sign in again.")
    try:
        claims = json.loads(_unb64(payload_segment))
    except (ValueError, binascii.Error):
        raise Unauthorized(_MALFORMED) from None
    if not isinstance(claims, dict):
        raise Unauthorized(_MALFORMED)
    for name in REQUIRED_CLAIMS:
        if claims.get(name) is None:
            raise Unauthorized(f"The access token lacks the {name!r} claim; sign in again.")
    if not _is_time(claims["iat"]) or not _is_time(claims["exp"]):
        raise Unauthorized(_MALFORMED)
    current = time.time() if now is None else now
    if claims["exp"] <= current:
        raise Unauthorized("The access token has expired; sign in again.")
    if claims["iat"] > current + IAT_LEEWAY_SECONDS:
        raise Unauthorized("The access token is not valid yet (issued in the future).")
    if claims["aud"] != audience(stage):
        raise Unauthorized(f"The access token was issued for another stage, not {stage!r}; sign in to this API.")
    if claims["iss"] != ISSUER:
        raise Unauthorized("The access token was not issued by this API.")
    if not isinstance(claims["sub"], str) or not isinstance(claims["email"], str):
        raise Unauthorized("The access token's claims are malformed; sign in again.")
    return Identity(
        user_id=claims["sub"],
        email=claims["email"],
        name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        picture=claims.get("picture") if isinstance(claims.get("picture"), str) else None,
        token_id=str(claims["jti"]),
        issued_at=claims["iat"],
    )
