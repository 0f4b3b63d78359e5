"""Every setting, read from the environment and validated in one place.

Settings are read at request time, not at import: a bad configuration must never stop the
module from importing (Lambda reports that as Runtime.ImportModuleError and nothing answers).
Instead `load()` returns every problem at once; /health shows them and other routes answer 503.
The parsed result is cached per environment, so a warm request does not parse again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from chalicelib.cors import CorsPolicy, OriginEntry, parse_origin

log = logging.getLogger(__name__)

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_CERTS_HOST = "www.googleapis.com"
CLIENT_ID_SUFFIX = ".apps.googleusercontent.com"
# Stages where convenience beats strictness. Every other stage is treated as production.
DEVELOPMENT_STAGES = frozenset({"dev", "local", "test"})
MIN_SECRET_BYTES = 32
_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
# Words that mark a secret someone copied from a sample instead of generating.
_PLACEHOLDER_MARKERS = (
    "change",
    "replace",
    "placeholder",
    "example",
    "your-",
    "your_",
    "insecure",
    "dev-only",
    "secret-key",
    "xxxx",
)


def _split_list(value: Any) -> Any:
    """A list from a JSON list or a comma-separated string: items trimmed, empties dropped."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise ValueError("starts with '[' but is not a JSON list of strings") from exc
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError("must be a JSON list of strings")
        else:
            value = text.split(",")
    if isinstance(value, (list, tuple)):
        return tuple(v.strip() for v in value if isinstance(v, str) and v.strip()) + tuple(
            v for v in value if not isinstance(v, str)
        )
    return value


def is_placeholder(text: str) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in _PLACEHOLDER_MARKERS)


class Settings(BaseModel):
    """The configuration of one stage. Field aliases are the environment variable names."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    # STAGE comes first: later validators read it to apply production rules.
    stage: str = Field("dev", alias="STAGE", pattern=_STAGE.pattern)
    google_client_ids: tuple[str, ...] = Field(alias="GOOGLE_CLIENT_ID", min_length=1)
    google_certs_urls: tuple[str, ...] = Field((GOOGLE_CERTS_URL,), alias="GOOGLE_CERTS_URL", min_length=1)
    google_clock_skew_seconds: int = Field(10, alias="GOOGLE_CLOCK_SKEW_SECONDS", ge=0, le=300)
    allowed_hosted_domains: tuple[str, ...] = Field((), alias="ALLOWED_HOSTED_DOMAINS")
    jwt_secret_key: SecretStr | None = Field(None, alias="JWT_SECRET_KEY")
    jwt_secret_ssm_parameter: str | None = Field(
        None, alias="JWT_SECRET_SSM_PARAMETER", pattern=r"^(/[A-Za-z0-9_.-]+)+$|^[A-Za-z0-9_.-]+$", max_length=1011
    )
    secrets_ttl_seconds: int = Field(300, alias="SECRETS_TTL_SECONDS", ge=0, le=86400)
    signin_rate_limit_per_minute: int = Field(20, alias="SIGNIN_RATE_LIMIT_PER_MINUTE", ge=0, le=100_000)
    access_token_expire_minutes: int = Field(1440, alias="ACCESS_TOKEN_EXPIRE_MINUTES", ge=5, le=43200)
    allowed_origins: tuple[OriginEntry, ...] = Field((), alias="ALLOWED_ORIGINS")
    cors_max_age_seconds: int = Field(600, alias="CORS_MAX_AGE_SECONDS", ge=0, le=86400)
    store: Literal["sqlite", "dynamodb"] | None = Field(None, alias="STORE")
    sqlite_path: str = Field(".data/job-hunt-tracker.db", alias="SQLITE_PATH", min_length=1)
    dynamodb_table: str | None = Field(None, alias="DYNAMODB_TABLE", pattern=r"^[A-Za-z0-9_.-]{3,255}$")
    dynamodb_endpoint_url: str | None = Field(None, alias="DYNAMODB_ENDPOINT_URL", pattern=r"^https?://[^\s/]+(/.*)?$")
    serve_docs: bool | None = Field(None, alias="SERVE_DOCS")
    mailer: Literal["ses", "outbox"] | None = Field(None, alias="MAILER")
    outbox_dir: str = Field(".data/outbox", alias="OUTBOX_DIR", min_length=1)
    reminders_from_email: str | None = Field(
        None, alias="REMINDERS_FROM_EMAIL", pattern=r"^[^@\s<>]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$"
    )
    frontend_url: str | None = Field(None, alias="FRONTEND_URL", pattern=r"^https?://[^\s/]+(/\S*)?$", max_length=500)
    public_api_url: str | None = Field(
        None, alias="PUBLIC_API_URL", pattern=r"^https?://[^\s/]+(/\S*)?$", max_length=500
    )

    @property
    def docs_served(self) -> bool:
        """GET /docs: on unless set otherwise on development stages, off unless set on production."""
        return self.serve_docs if self.serve_docs is not None else not self.is_production

    @property
    def mailer_kind(self) -> Literal["ses", "outbox"]:
        """SES on production stages; .eml files in OUTBOX_DIR unless chosen otherwise on development stages."""
        return self.mailer or ("ses" if self.is_production else "outbox")

    @property
    def reminders_problem(self) -> str | None:
        """Why a reminder pass cannot send on this stage (None when it can)."""
        missing = [
            name
            for name, value in (
                ("REMINDERS_FROM_EMAIL", self.reminders_from_email),
                ("FRONTEND_URL", self.frontend_url),
                ("PUBLIC_API_URL", self.public_api_url),
            )
            if value is None
        ]
        if self.is_production and missing:
            return f"reminders need {', '.join(missing)} on a production stage"
        if self.is_production and self.reminders_from_email and is_placeholder(self.reminders_from_email):
            return "REMINDERS_FROM_EMAIL is still the placeholder; set your verified SES identity"
        return None

    @property
    def is_production(self) -> bool:
        return self.stage not in DEVELOPMENT_STAGES

    @property
    def store_kind(self) -> Literal["sqlite", "dynamodb"]:
        """SQLite unless chosen otherwise on a development stage; DynamoDB on production stages."""
        return self.store or ("dynamodb" if self.is_production else "sqlite")

    @property
    def table_name(self) -> str:
        return self.dynamodb_table or f"job-hunt-tracker-{self.stage}"

    @property
    def cors(self) -> CorsPolicy:
        return CorsPolicy(self.allowed_origins, self.cors_max_age_seconds)

    @field_validator("google_client_ids", "allowed_hosted_domains", "google_certs_urls", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("google_client_ids")
    @classmethod
    def _client_ids(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        for client_id in value:
            if not client_id.endswith(CLIENT_ID_SUFFIX) or len(client_id) <= len(CLIENT_ID_SUFFIX):
                raise ValueError(f"each client id must be an OAuth web client id ending in {CLIENT_ID_SUFFIX}")
            if _production(info) and is_placeholder(client_id.removesuffix(CLIENT_ID_SUFFIX)):
                raise ValueError("is still the placeholder; set your Google OAuth web client id")
        return value

    @field_validator("allowed_hosted_domains")
    @classmethod
    def _domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(d.lower() for d in value)

    @field_validator("google_certs_urls")
    @classmethod
    def _certs_urls(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        for url in value:
            parts = urlsplit(url)
            if _production(info) and (parts.scheme != "https" or parts.hostname != GOOGLE_CERTS_HOST):
                raise ValueError(
                    f"must be https://{GOOGLE_CERTS_HOST}/... on a production stage: only Google's own certs are "
                    "trusted there (a local stand-in's file or loopback URL is for development stages)"
                )
            if parts.scheme == "file" and parts.path:
                continue
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(
                    "each source must be an http(s) URL serving Google's certs (JSON of key id -> PEM certificate), "
                    "or file:<path> of such a document on a development stage"
                )
        return value

    @field_validator("jwt_secret_key")
    @classmethod
    def _secret(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        problem = secret_problem(value.get_secret_value(), production=_production(info))
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("mailer")
    @classmethod
    def _mailer(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value == "outbox" and _production(info):
            raise ValueError("outbox writes files inside one Lambda container; a production stage sends with ses")
        return value

    @field_validator("frontend_url", "public_api_url")
    @classmethod
    def _https(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and _production(info) and not value.startswith("https://"):
            raise ValueError("must be an https:// URL on a production stage (links in e-mails)")
        return value.rstrip("/") if value else value

    @field_validator("store")
    @classmethod
    def _store(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value == "sqlite" and _production(info):
            raise ValueError("sqlite keeps data inside one Lambda container; a production stage needs dynamodb")
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any, info: ValidationInfo) -> Any:
        return parse_origins(value, production=_production(info))


def parse_origins(value: Any, *, production: bool) -> Any:
    items = _split_list(value)
    if not isinstance(items, tuple):
        return items
    entries = tuple(parse_origin(item) for item in items)
    if production:
        for entry in entries:
            if entry.scheme == "http" and not entry.is_loopback:
                raise ValueError(f"{entry.text!r}: a production stage allows http:// only for localhost; use https://")
    return entries


def secret_problem(secret: str, *, production: bool) -> str | None:
    """What is wrong with a JWT signing secret, in words that never include it."""
    # RFC 7518 3.2: an HS256 key MUST be at least 256 bits; pyjwt warns below that too.
    if len(secret.encode()) < MIN_SECRET_BYTES:
        return (
            f"must be at least {MIN_SECRET_BYTES} bytes "
            '(generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))")'
        )
    if production and (is_placeholder(secret) or len(set(secret)) < 8):
        return "looks like a placeholder or sample value; a production stage needs a random one"
    return None


def _production(info: ValidationInfo) -> bool:
    stage = info.data.get("stage")
    # An invalid STAGE is reported on its own; judge the rest by the strict rules.
    return not isinstance(stage, str) or stage not in DEVELOPMENT_STAGES


ENV_NAMES: tuple[str, ...] = tuple(str(f.alias) for f in Settings.model_fields.values() if f.alias is not None)


# The Lambda runtime sets this; `chalice local`, the test client and the tests do not.
LAMBDA_MARKER = "AWS_LAMBDA_FUNCTION_NAME"
# SHA-256 of the dev stage's JWT_SECRET_KEY, committed in .chalice/config.json (a public value: the
# digest only keeps the string itself out of the package; tests/test_refusal.py keeps it in step).
COMMITTED_SECRET_SHA256 = "3b77f0c608145c86da9f532cda21056d5dd30279d0ea49c9fc8eb53a08319964"
DEV_STAGE_REFUSAL = (
    "the {stage} stage is for `chalice local`; deploy with `make deploy`, which uses the prod stage "
    "(plain `chalice deploy` deploys the dev stage, whose settings are public in the repository)"
)
COMMITTED_SECRET_REFUSAL = (
    "JWT_SECRET_KEY is the dev stage's committed value, published in the repository: anyone could sign "
    "tokens; set JWT_SECRET_SSM_PARAMETER to a SecureString parameter holding a random secret"
)


@dataclass(frozen=True)
class Loaded:
    """The outcome of reading the environment: settings, or the list of what is wrong."""

    settings: Settings | None
    problems: tuple[str, ...]
    stage: str | None
    # The CORS policy, when ALLOWED_ORIGINS itself is valid, so that even the 503 a broken
    # configuration causes stays readable by the browser.
    cors: CorsPolicy
    # Why this environment must not serve at all (inside Lambda only): every route answers 503 with it.
    refusal: str | None = None


def refusal(environ: Mapping[str, str]) -> str | None:
    """Inside Lambda, a development stage or the committed dev secret refuses to serve: a public API
    signed with a published secret must be impossible by construction, whatever else is set."""
    if not environ.get(LAMBDA_MARKER):
        return None
    stage = environ.get("STAGE", "").strip() or "dev"
    if stage in DEVELOPMENT_STAGES:
        return DEV_STAGE_REFUSAL.format(stage=stage)
    secret = environ.get("JWT_SECRET_KEY", "").strip()
    if secret and hashlib.sha256(secret.encode()).hexdigest() == COMMITTED_SECRET_SHA256:
        return COMMITTED_SECRET_REFUSAL
    return None


def parse(environ: Mapping[str, str]) -> Loaded:
    """Validate the settings found in `environ`; never raises for a bad value."""
    raw = {name: environ[name] for name in ENV_NAMES if environ.get(name, "").strip()}
    problems: list[str] = []
    settings: Settings | None = None
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(err) for err in exc.errors(include_input=False, include_url=False)]
    if "JWT_SECRET_KEY" not in raw and "JWT_SECRET_SSM_PARAMETER" not in raw:
        problems.append(SECRET_MISSING)
    refused = refusal(environ)
    if problems:
        problems.sort(key=lambda p: ENV_NAMES.index(p.split(":", 1)[0]) if p.split(":", 1)[0] in ENV_NAMES else 0)
        stage = raw.get("STAGE", "dev")
        return Loaded(None, tuple(problems), stage if _STAGE.match(stage) else None, _cors_alone(raw), refused)
    assert settings is not None
    return Loaded(settings, (), settings.stage, settings.cors, refused)


SECRET_MISSING = (
    "JWT_SECRET_KEY: is required but not set (or name the SSM SecureString parameter that holds it in "
    "JWT_SECRET_SSM_PARAMETER)"
)


def _describe(err: Mapping[str, Any]) -> str:
    name = ".".join(str(p) for p in err["loc"]) or "settings"
    if err["type"] == "missing":
        return f"{name}: is required but not set"
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{name}: {message}"


def _cors_alone(raw: Mapping[str, str]) -> CorsPolicy:
    try:
        entries = parse_origins(
            raw.get("ALLOWED_ORIGINS", ""), production=raw.get("STAGE", "dev") not in DEVELOPMENT_STAGES
        )
        max_age = int(raw.get("CORS_MAX_AGE_SECONDS", "600"))
        return CorsPolicy(entries, max_age if 0 <= max_age <= 86400 else 600)
    except ValueError:
        return CorsPolicy(())


_cache: dict[tuple[object, ...], Loaded] = {}
_ENCODED_NAMES = tuple(os.fsencode(name) for name in (*ENV_NAMES, LAMBDA_MARKER))


def _environment_key(env: Mapping[str, str]) -> tuple[object, ...]:
    """The values of our variables, as cheaply as possible: this runs on every request."""
    raw = getattr(env, "_data", None)  # os.environ keeps its encoded values in a plain dict
    if isinstance(raw, dict):
        return tuple(map(raw.get, _ENCODED_NAMES))
    return tuple(env.get(name) for name in (*ENV_NAMES, LAMBDA_MARKER))


def load(environ: Mapping[str, str] | None = None) -> Loaded:
    """The settings of the current environment, parsed once per distinct environment."""
    env = os.environ if environ is None else environ
    key = _environment_key(env)
    loaded = _cache.get(key)
    if loaded is None:
        loaded = parse(env)
        if loaded.refusal:
            log.error("refusing to serve: %s", loaded.refusal)
        elif loaded.problems:
            log.error("configuration invalid: %s", "; ".join(loaded.problems))
        if len(_cache) >= 16:
            _cache.clear()
        _cache[key] = loaded
    return loaded


def stage_environment(project_dir: str, stage: str) -> dict[str, str]:
    """The environment .chalice/config.json gives a stage once deployed."""
    with open(os.path.join(project_dir, ".chalice", "config.json")) as f:
        config = json.load(f)
    env = dict(config.get("environment_variables", {}))
    env.update(config.get("stages", {}).get(stage, {}).get("environment_variables", {}))
    return env


if __name__ == "__main__":
    import sys

    target = sys.argv[1] if len(sys.argv) > 1 else "prod"
    env = stage_environment(".", target)
    found = parse(env).problems
    for problem in found:
        print(f"{target}: {problem}", file=sys.stderr)
    if env.get("JWT_SECRET_SSM_PARAMETER"):
        name = env["JWT_SECRET_SSM_PARAMETER"]
        print(
            f"{target}: the JWT secret is read from SSM parameter {name!r}; create it before the first deploy "
            f"(aws ssm get-parameter --name {name} shows whether it exists)"
        )
    print(
        f"{target}: configuration OK" if not found else f"{target}: {len(found)} problem(s); fix them before deploying"
    )
    sys.exit(1 if found else 0)
