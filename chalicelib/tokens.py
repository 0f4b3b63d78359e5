"""Our own access token: an HS256 JWT (RFC 7519), issued and verified with pyjwt.

`iss` names this API and `aud` names the stage, so a token minted by dev is refused by prod even
when someone reuses a secret. pyjwt verifies: the algorithm is pinned to HS256 (`none`, HS512,
RS256 ... are refused), the signature, `crit`, canonical base64, and that `exp`, `iat`, `iss`,
`aud`, `jti` and `sub` are present and right. On top, where pyjwt is laxer: `sub` and `email`
must be strings, `exp` and `iat` integers, `iat` not ahead of this request's clock, and any input
(non-ASCII, segments nested beyond recursion limits) is a 401, never a 500.

`jti` is a ULID (chalicelib.ids): token ids sort by when they were issued, which is what a
sign-out's cut-off on the profile compares them with (store.base.Sessions).

pyjwt is imported on the first verification or issue, not with this module: importing it loads
`cryptography` (google-auth needs it, so it is in the package), which /health and CORS preflights
should not pay for.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from chalicelib import ids
from chalicelib.clock import Now
from chalicelib.errors import Unauthorized
from chalicelib.store.base import Session

ALGORITHM = "HS256"
ISSUER = "job-hunt-tracker-api"
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "jti", "sub", "email")
# Containers' clocks may differ by a little: a token "issued" this far ahead is still accepted.
IAT_LEEWAY_SECONDS = 30
MAX_TOKEN_LENGTH = 4096
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
    token_id: str  # a ULID: its time is when the token was issued
    expires_at: int  # epoch seconds

    @property
    def session(self) -> Session:
        return Session(self.user_id, self.token_id)


def issue(
    user_id: str,
    email: str,
    name: str | None,
    picture: str | None,
    *,
    secret: str,
    stage: str,
    lifetime_s: int,
    now: Now,
) -> str:
    """A signed access token for a verified user, issued at `now`."""
    claims = {
        "sub": user_id,
        "email": email,
        "name": name,
        "picture": picture,
        "iat": now.seconds,
        "exp": now.seconds + lifetime_s,
        "iss": ISSUER,
        "aud": audience(stage),
        "jti": ids.new_id(now.ms),
    }
    import jwt  # first use, not import time (see the module's docstring)

    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _is_time(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def verify(token: str, *, secret: str, stage: str, now: Now) -> Identity:
    """The identity in a valid token, or Unauthorized saying what is wrong with it."""
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise Unauthorized(_MALFORMED)
    claims = _verified_claims(token, secret, stage)
    if claims["exp"] <= now.seconds:
        raise Unauthorized("The access token has expired; sign in again.")
    if claims["iat"] > now.seconds + IAT_LEEWAY_SECONDS:
        raise Unauthorized("The access token is not valid yet (issued in the future).")
    name, picture = claims.get("name"), claims.get("picture")
    return Identity(
        user_id=claims["sub"],
        email=claims["email"],
        name=name if isinstance(name, str) else None,
        picture=picture if isinstance(picture, str) else None,
        token_id=claims["jti"],
        expires_at=claims["exp"],
    )


# A warm container sees the same few tokens again and again: what pyjwt verified for exactly this
# token, key and stage is kept (bounded), and only the clock checks above run per request. Failures
# are not kept (lru_cache does not cache exceptions). Measured: 40 us of a warm request otherwise.
@functools.lru_cache(maxsize=512)
def _verified_claims(token: str, secret: str, stage: str) -> dict[str, Any]:
    import jwt

    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=audience(stage),
            issuer=ISSUER,
            # pyjwt checks sub and jti are strings; iat is ours, against the request's clock
            options={"require": list(REQUIRED_CLAIMS), "verify_iat": False},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired; sign in again.") from None
    except jwt.InvalidAudienceError:
        raise Unauthorized(
            f"The access token was issued for another stage, not {stage!r}; sign in to this API."
        ) from None
    except jwt.InvalidIssuerError:
        raise Unauthorized("The access token was not issued by this API.") from None
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthorized(f"The access token lacks the {exc.claim!r} claim; sign in again.") from None
    except jwt.InvalidAlgorithmError:
        raise Unauthorized(
            f"The access token's algorithm is not accepted; only {ALGORITHM} tokens issued by this API are."
        ) from None
    except jwt.InvalidSignatureError:
        raise Unauthorized("The access token's signature is invalid; sign in again.") from None
    except (jwt.InvalidTokenError, RecursionError, ValueError, TypeError, OverflowError):
        raise Unauthorized(_MALFORMED) from None
    if not isinstance(claims["email"], str):  # pyjwt only requires it
        raise Unauthorized("The access token's claims are malformed; sign in again.")
    if not _is_time(claims["iat"]) or not _is_time(claims["exp"]) or not ids.is_id(claims["jti"]):
        raise Unauthorized(_MALFORMED)
    return claims
