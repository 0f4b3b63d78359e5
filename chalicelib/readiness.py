"""Readiness: can this deployment serve a signed-in request right now? (`GET /health/ready`)

`/health` is the cheap liveness check (no network). Readiness checks what a request needs, in
order: the configuration, the JWT secret (SSM on prod), the store (the table exists and answers,
or the SQLite file opens) and Google's signing certs (from the warm container's cache while
fresh). Each check reports "ok" or its problem in words, never a secret; a check that cannot run
because an earlier one failed says so. Every dependency is a parameter, so tests can pass their own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib import __version__
from chalicelib.settings import Loaded, Settings
from chalicelib.store.base import Store, UserNotFound, outage_message

log = logging.getLogger(__name__)

OK = "ok"
CHECKS = ("configuration", "secret", "storage", "google_certs")
# A user id no one has: reading its profile proves the store answers, and reads nothing real.
PROBE_USER = "readiness-probe"


@dataclass(frozen=True)
class Readiness:
    stage: str | None
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(value == OK for value in self.checks.values())

    @property
    def status(self) -> int:
        return 200 if self.ready else 503

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": "ready" if self.ready else "not_ready",
            "checks": dict(self.checks),
            "stage": self.stage,
            "version": __version__,
        }
        if not self.ready:  # a 503: its message as `detail`, like every error body
            failed = "; ".join(f"{name}: {value}" for name, value in self.checks.items() if value != OK)
            out["detail"] = f"The API is not ready: {failed}"
        return out


def check(
    loaded: Loaded,
    *,
    secret: Callable[[Settings], str] | None = None,
    store: Callable[[Settings], Store] | None = None,
    certs: Callable[[str], int] | None = None,
) -> Readiness:
    """Every check's outcome; `secret`, `store` and `certs` default to the ones requests use."""
    checks: dict[str, str] = {}
    settings = loaded.settings
    if loaded.refusal:
        checks["configuration"] = loaded.refusal
    elif settings is None:
        checks["configuration"] = "; ".join(loaded.problems)
    else:
        checks["configuration"] = OK
    if checks["configuration"] != OK or settings is None:
        skipped = "not checked: the configuration is not valid"
        checks.update({name: skipped for name in CHECKS[1:]})
    else:
        checks["secret"] = _secret(settings, secret)
        checks["storage"] = _storage(settings, store)
        checks["google_certs"] = _certs(settings, certs)
    result = Readiness(loaded.stage, checks)
    if not result.ready:
        log.error("not ready: %s", "; ".join(f"{k}: {v}" for k, v in checks.items() if v != OK))
    return result


def _secret(settings: Settings, read: Callable[[Settings], str] | None) -> str:
    from chalicelib.jwt_secret import SecretUnavailable, jwt_secret

    try:
        (read or jwt_secret)(settings)
    except SecretUnavailable as exc:
        return str(exc)
    return OK


def _storage(settings: Settings, open_store: Callable[[Settings], Store] | None) -> str:
    from chalicelib.store.factory import store_for

    table = settings.table_name if settings.store_kind == "dynamodb" else None
    try:
        (open_store or store_for)(settings).get_user(PROBE_USER)
    except UserNotFound:
        return OK
    except Exception as exc:  # every failure is reported in words, none is raised
        message = outage_message(exc, table=table)
        if message is not None:
            return message
        if settings.store_kind == "sqlite":
            return f"the SQLite database {settings.sqlite_path!r} cannot be opened ({type(exc).__name__}: {exc})"
        return f"{settings.store_kind} answered {type(exc).__name__}"
    return OK  # a profile under the probe id: the store answers all the same


def _certs(settings: Settings, key_count: Callable[[str], int] | None) -> str:
    if key_count is None:
        from chalicelib.google_identity import CERTS  # requests and crypto: only readiness pays for them here

        key_count = CERTS.key_count
    from chalicelib.google_identity import CertsUnavailable

    problems = []
    for url in settings.google_certs_urls:
        try:
            if key_count(url) == 0:
                problems.append(f"{url} publishes no usable certificate")
        except CertsUnavailable as exc:
            problems.append(f"Google's certs cannot be read: {exc}")
    return "; ".join(problems) or OK
