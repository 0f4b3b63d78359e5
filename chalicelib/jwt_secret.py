"""The key our access tokens are signed with: from JWT_SECRET_KEY, or from SSM Parameter Store.

On prod it is a SecureString parameter (JWT_SECRET_SSM_PARAMETER), read once per container and
again after SECRETS_TTL_SECONDS, so a rotated value reaches every container within the TTL.
A parameter that is missing, unreadable or weak is a configuration problem (/health says so),
never a crash; if a refresh fails, the value already read keeps serving.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from chalicelib.settings import Settings, secret_problem

log = logging.getLogger(__name__)


class SecretUnavailable(Exception):
    """The secret cannot be had; the message names the setting and the cause, never the value."""


_lock = threading.Lock()
_cache: dict[str, tuple[str, float]] = {}
# A failed first read is remembered briefly, so a missing parameter does not cost an SSM call
# (and a throttling risk) on every request.
_failures: dict[str, tuple[str, float]] = {}
FAILURE_TTL_SECONDS = 30.0
_client: Any = None


def _ssm_client() -> Any:
    global _client
    if _client is None:
        import boto3  # provided by the Lambda runtime; only stages that use SSM pay for the import
        from botocore.config import Config

        _client = boto3.client("ssm", config=Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2}))
    return _client


def _read_parameter(name: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        reply = _ssm_client().get_parameter(Name=name, WithDecryption=True)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ParameterNotFound":
            raise SecretUnavailable(f"parameter {name!r} does not exist (see the README's deploy section)") from None
        if code in ("AccessDeniedException", "AccessDenied"):
            raise SecretUnavailable(f"the function's role may not read parameter {name!r} (ssm:GetParameter)") from None
        if "KMS" in code or code.startswith("InvalidKey"):
            raise SecretUnavailable(f"parameter {name!r} cannot be decrypted ({code})") from None
        raise SecretUnavailable(f"SSM answered {code or 'an error'} for parameter {name!r}") from None
    except BotoCoreError as exc:
        raise SecretUnavailable(f"SSM cannot be reached ({type(exc).__name__})") from None
    value = reply.get("Parameter", {}).get("Value")
    if not isinstance(value, str):
        raise SecretUnavailable(f"parameter {name!r} has no value")
    return value


def jwt_secret(settings: Settings, clock: Callable[[], float] = time.monotonic) -> str:
    if settings.jwt_secret_key is not None:
        return settings.jwt_secret_key.get_secret_value()
    name = settings.jwt_secret_ssm_parameter
    assert name is not None  # settings require one of the two
    with _lock:
        cached = _cache.get(name)
        now = clock()
        if cached is not None and now - cached[1] < settings.secrets_ttl_seconds:
            return cached[0]
        failed = _failures.get(name)
        if cached is None and failed is not None and now - failed[1] < FAILURE_TTL_SECONDS:
            raise SecretUnavailable(failed[0])
        try:
            value = _read_parameter(name)
            problem = secret_problem(value, production=settings.is_production)
            if problem:
                raise SecretUnavailable(f"the value of {name!r} {problem}")
        except SecretUnavailable as exc:
            if cached is not None:
                log.warning("JWT_SECRET_SSM_PARAMETER: refresh failed (%s); keeping the value read before", exc)
                _cache[name] = (cached[0], now)
                return cached[0]
            message = f"JWT_SECRET_SSM_PARAMETER: {exc}"
            _failures[name] = (message, now)
            raise SecretUnavailable(message) from None
        _failures.pop(name, None)
        _cache[name] = (value, now)
        return value
