"""Our own access token: issue and verify (pyjwt, HS256).

`iss` names this API and `aud` names the stage, so a token minted by dev is refused by prod
even when someone reuses a secret. Decoding pins the algorithm and requires every claim.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from chalicelib.errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "job-hunt-tracker-api"
REQUIRED_CLAIMS = ("sub", "email", "iat", "exp", "iss", "aud", "jti")


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
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(token: str, *, secret: str, stage: str) -> Identity:
    """The identity in a valid token, or Unauthorized saying what is wrong with it."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise Unauthorized("The access token is malformed; sign in again to get a new one.") from None
    if header.get("alg") != ALGORITHM:
        raise Unauthorized(
            f"The access token uses algorithm {str(header.get('alg'))[:20]!r}; only {ALGORITHM} tokens issued by this API are accepted."
        )
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=audience(stage),
            issuer=ISSUER,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired; sign in again.") from None
    except jwt.InvalidAudienceError:
        raise Unauthorized(
            f"The access token was issued for another stage, not {stage!r}; sign in to this API."
        ) from None
    except jwt.InvalidIssuerError:
        raise Unauthorized("The access token was not issued by this API.") from None
    except jwt.InvalidSignatureError:
        raise Unauthorized("The access token's signature is invalid; sign in again.") from None
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthorized(f"The access token lacks the {exc.claim!r} claim; sign in again.") from None
    except jwt.ImmatureSignatureError:
        raise Unauthorized("The access token is not valid yet (issued in the future).") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("The access token is malformed; sign in again to get a new one.") from None
    if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("email"), str):
        raise Unauthorized("The access token's claims are malformed; sign in again.")
    return Identity(
        user_id=claims["sub"],
        email=claims["email"],
        name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        picture=claims.get("picture") if isinstance(claims.get("picture"), str) else None,
        token_id=str(claims["jti"]),
        issued_at=int(claims["iat"]),
    )
