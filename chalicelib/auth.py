"""Sign-in and request authentication: the use cases behind /auth/google and every protected route."""

from __future__ import annotations

from typing import Any

from chalicelib import ids, tokens
from chalicelib.clock import Now
from chalicelib.errors import BadRequest, ErrorCode, Unauthorized
from chalicelib.models import AuthResponse, UserOut
from chalicelib.settings import Settings
from chalicelib.store.base import Store

# Google Identity Services posts `credential`; older frontends send `token` or `id_token`.
CREDENTIAL_FIELDS = ("credential", "token", "id_token")
MAX_CREDENTIAL_LENGTH = 8192


def credential_from(body: Any) -> str:
    """The Google ID token from a sign-in body, or BadRequest naming what is missing."""
    if not isinstance(body, dict):
        raise BadRequest(
            'The request body must be a JSON object like {"credential": "<Google ID token>"}.', field="body"
        )
    for name in CREDENTIAL_FIELDS:
        if name in body:
            value = body[name]
            if not isinstance(value, str) or not value.strip():
                raise BadRequest(f"'{name}' must be a non-empty string holding the Google ID token.", field=name)
            if len(value) > MAX_CREDENTIAL_LENGTH:
                raise BadRequest(f"'{name}' is too long to be a Google ID token.", field=name)
            return value.strip()
    raise BadRequest(
        'The request body lacks the Google ID token: send {"credential": "<Google ID token>"} '
        "('token' and 'id_token' are accepted too).",
        field="credential",
    )


def sign_in_with_google(settings: Settings, secret: str, store: Store, body: Any, now: Now) -> AuthResponse:
    """Exchange a Google ID token for our access token, creating or refreshing the stored profile."""
    credential = credential_from(body)
    # Imported here: only sign-in pays for requests and google-auth's crypto.
    from chalicelib.google_identity import verify_id_token

    claims = verify_id_token(
        credential,
        client_ids=settings.google_client_ids,
        certs_urls=settings.google_certs_urls,
        clock_skew_seconds=settings.google_clock_skew_seconds,
        hosted_domains=settings.allowed_hosted_domains,
        now=now.ms / 1000,
    )
    user = UserOut(
        id=claims["sub"],
        email=claims["email"],
        name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        picture=claims.get("picture") if isinstance(claims.get("picture"), str) else None,
    )
    # A new profile admits tokens issued from here on (ids are monotonic: the token's sorts after).
    store.sign_in(user, now.iso, sessions_after=ids.new_id(now.ms))
    lifetime = settings.access_token_expire_minutes * 60
    access_token = tokens.issue(
        user.id, user.email, user.name, user.picture, secret=secret, stage=settings.stage, lifetime_s=lifetime, now=now
    )
    return AuthResponse(access_token=access_token, expires_in=lifetime, user=user)


def bearer_token(authorization: str | None) -> str:
    """The token from an `Authorization: Bearer ...` header, or Unauthorized."""
    if not authorization or not authorization.strip():
        raise Unauthorized("Sign in first: send 'Authorization: Bearer <access token>'.", error=None)
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <access token>'.", error=ErrorCode.INVALID_REQUEST)
    return token.strip()


def authenticate(settings: Settings, secret: str, authorization: str | None, now: Now) -> tokens.Identity:
    return tokens.verify(bearer_token(authorization), secret=secret, stage=settings.stage, now=now)
