"""Settings: every variable parsed in one place, every problem reported at once, never a crash."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from chalicelib import settings
from tests.conftest import PROD_CLIENT_ID, PROD_SECRET, ROOT

DEV = {"STAGE": "dev", "GOOGLE_CLIENT_ID": "1-abc.apps.googleusercontent.com", "JWT_SECRET_KEY": "d" * 8 + "e" * 24}
PROD = {"STAGE": "prod", "GOOGLE_CLIENT_ID": PROD_CLIENT_ID, "JWT_SECRET_KEY": PROD_SECRET}


def origins(raw: str, base: dict[str, str] = DEV) -> list[str]:
    loaded = settings.parse({**base, "ALLOWED_ORIGINS": raw})
    assert loaded.problems == ()
    assert loaded.settings is not None
    return [e.text for e in loaded.settings.allowed_origins]


def problems(**env: str) -> tuple[str, ...]:
    return settings.parse({k: v for k, v in env.items()}).problems


# Original failure 7: ALLOWED_ORIGINS as a comma-separated string crashed the settings at import.
def test_allowed_origins_comma_separated_with_spaces_trailing_slashes_and_empty_items() -> None:
    raw = " http://localhost:3000/ , ,https://zduan-job.vercel.app//,"
    assert origins(raw) == ["http://localhost:3000", "https://zduan-job.vercel.app"]


def test_allowed_origins_json_list() -> None:
    assert origins('["http://localhost:3000", " https://zduan-job.vercel.app/ "]') == [
        "http://localhost:3000",
        "https://zduan-job.vercel.app",
    ]


def test_allowed_origins_default_ports_are_dropped_and_case_folded() -> None:
    assert origins("HTTPS://Zduan-Job.Vercel.App:443,http://localhost:80") == [
        "https://zduan-job.vercel.app",
        "http://localhost",
    ]


def test_allowed_origins_broken_json_is_reported_not_raised() -> None:
    found = problems(**DEV, ALLOWED_ORIGINS='["http://localhost:3000"')
    assert len(found) == 1 and found[0].startswith("ALLOWED_ORIGINS:") and "JSON list" in found[0]


# Original failure 4: `*` with credentials.
def test_star_origin_is_refused_because_credentials_are_on() -> None:
    found = problems(**DEV, ALLOWED_ORIGINS="http://localhost:3000,*")
    assert found == ("ALLOWED_ORIGINS: '*' cannot be allowed while credentials are on; list each origin",)


# Original failure 5: a wildcard subdomain. A `*` inside the first label is supported; a bare one is not.
def test_wildcard_inside_first_label_is_accepted() -> None:
    assert origins("https://zduan-job-*.vercel.app") == ["https://zduan-job-*.vercel.app"]


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("https://*.vercel.app", "bare '*' label"),
        ("https://zduan-*.vercel.*", "more than one"),
        ("https://app.*-x.vercel.app", "first DNS label"),
        ("https://app-*.com", "two more labels"),
        ("https://app.example.com/path", "no path"),
        ("ftp://app.example.com", "not an origin"),
        ("https://user@app.example.com", "not an origin"),
        ("https://app.example.com:99999", "invalid port"),
        ("https://bad_host.example.com", "valid host"),
    ],
)
def test_malformed_origins_are_named(raw: str, why: str) -> None:
    found = problems(**DEV, ALLOWED_ORIGINS=raw)
    assert len(found) == 1 and found[0].startswith("ALLOWED_ORIGINS:") and why in found[0]


def test_production_allows_http_only_for_localhost() -> None:
    assert origins("http://localhost:3000,https://zduan-job.vercel.app", PROD) == [
        "http://localhost:3000",
        "https://zduan-job.vercel.app",
    ]
    found = problems(**PROD, ALLOWED_ORIGINS="http://zduan-job.vercel.app")
    assert len(found) == 1 and "use https://" in found[0]


def test_every_problem_is_reported_at_once_without_secret_values() -> None:
    secret = "short-secret"
    found = problems(
        STAGE="prod",
        GOOGLE_CLIENT_ID="not-a-client-id",
        JWT_SECRET_KEY=secret,
        ALLOWED_ORIGINS="*",
        ACCESS_TOKEN_EXPIRE_MINUTES="a day",
        GOOGLE_CERTS_URL="http://127.0.0.1:9/certs",
    )
    names = [p.split(":", 1)[0] for p in found]
    assert names == [
        "GOOGLE_CLIENT_ID",
        "GOOGLE_CERTS_URL",
        "JWT_SECRET_KEY",
        "ACCESS_TOKEN_EXPIRE_MINUTES",
        "ALLOWED_ORIGINS",
    ]
    assert not any(secret in p for p in found)


def test_missing_required_settings_are_named() -> None:
    assert problems() == ("GOOGLE_CLIENT_ID: is required but not set", settings.SECRET_MISSING)
    assert problems(GOOGLE_CLIENT_ID="  ", JWT_SECRET_KEY="") == problems()


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        ("x" * 31, "at least 32 bytes"),
        ("change-me-change-me-change-me-change-me", "placeholder"),
        ("dev-only-insecure-jwt-secret-never-use-on-prod-0001", "placeholder"),
        ("ab" * 20, "placeholder"),
    ],
)
def test_production_refuses_short_or_placeholder_secrets(secret: str, expected: str) -> None:
    found = problems(**{**PROD, "JWT_SECRET_KEY": secret})
    assert len(found) == 1 and found[0].startswith("JWT_SECRET_KEY:") and expected in found[0]
    assert secret not in found[0]


def test_dev_accepts_the_committed_dev_secret_but_prod_does_not() -> None:
    dev_secret = "dev-only-insecure-jwt-secret-never-use-on-prod-0001"
    assert problems(**{**DEV, "JWT_SECRET_KEY": dev_secret}) == ()
    assert problems(**{**PROD, "JWT_SECRET_KEY": dev_secret, "STAGE": "staging"}) != ()


def test_production_trusts_only_google_certs() -> None:
    assert problems(**PROD, GOOGLE_CERTS_URL="https://www.googleapis.com/oauth2/v1/certs") == ()
    for url in (
        "http://www.googleapis.com/oauth2/v1/certs",
        "https://certs.example.com/oauth2/v1/certs",
        "http://127.0.0.1:8765/c",
    ):
        found = problems(**PROD, GOOGLE_CERTS_URL=url)
        assert len(found) == 1 and found[0].startswith("GOOGLE_CERTS_URL:")
    assert problems(**DEV, GOOGLE_CERTS_URL="http://127.0.0.1:8765/oauth2/v1/certs") == ()


def test_production_refuses_the_placeholder_client_id() -> None:
    found = problems(**{**PROD, "GOOGLE_CLIENT_ID": "REPLACE-WITH-YOUR-CLIENT-ID.apps.googleusercontent.com"})
    assert len(found) == 1 and found[0].startswith("GOOGLE_CLIENT_ID:") and "placeholder" in found[0]


def test_client_ids_and_hosted_domains_are_lists() -> None:
    loaded = settings.parse(
        {
            **DEV,
            "GOOGLE_CLIENT_ID": "1-a.apps.googleusercontent.com, 2-b.apps.googleusercontent.com",
            "ALLOWED_HOSTED_DOMAINS": '["Example.com"]',
        }
    )
    assert loaded.settings is not None
    assert loaded.settings.google_client_ids == ("1-a.apps.googleusercontent.com", "2-b.apps.googleusercontent.com")
    assert loaded.settings.allowed_hosted_domains == ("example.com",)


def test_defaults() -> None:
    loaded = settings.parse(DEV)
    assert loaded.settings is not None
    assert loaded.settings.access_token_expire_minutes == 1440
    assert loaded.settings.google_certs_urls == ("https://www.googleapis.com/oauth2/v1/certs",)
    assert loaded.settings.allowed_origins == ()


def test_invalid_stage_name_is_reported_and_the_rest_judged_as_production() -> None:
    found = problems(**{**PROD, "STAGE": "Prod!"})
    assert len(found) == 1 and found[0].startswith("STAGE:")
    assert len(problems(**{**DEV, "STAGE": "Prod!"})) == 2  # DEV's low-variety secret fails the strict rules


def test_load_is_cached_per_environment() -> None:
    first = settings.load(dict(DEV))
    assert settings.load(dict(DEV)) is first
    assert settings.load({**DEV, "ACCESS_TOKEN_EXPIRE_MINUTES": "60"}) is not first


# Original failure 7 again: a bad configuration must never stop app.py from importing.
def test_app_imports_with_a_broken_environment() -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "STAGE": "prod",
        "ALLOWED_ORIGINS": "*,[",
        "JWT_SECRET_KEY": "x",
        "ACCESS_TOKEN_EXPIRE_MINUTES": "soon",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    run = subprocess.run(
        [sys.executable, "-c", "import app; print(sorted(app.app.routes))"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "/health" in run.stdout


def test_the_pre_deploy_check_reads_a_stage_from_config(tmp_path: object) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "chalicelib.settings", "prod"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1
    assert "prod: GOOGLE_CLIENT_ID: is still the placeholder" in run.stderr
    assert "prod: the JWT secret is read from SSM parameter '/job-hunt-tracker/prod/jwt-secret'" in run.stdout
    run = subprocess.run(
        [sys.executable, "-m", "chalicelib.settings", "dev"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0 and "dev: configuration OK" in run.stdout


def test_a_changed_environment_is_noticed_on_the_next_load(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in DEV.items():
        monkeypatch.setenv(name, value)
    first = settings.load()
    assert settings.load() is first  # cached: a warm request does not parse again
    monkeypatch.setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "60")  # os.environ changed in place
    changed = settings.load()
    assert changed is not first and changed.settings is not None
    assert changed.settings.access_token_expire_minutes == 60


def test_the_readme_configuration_table_lists_exactly_the_settings() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") : readme.index("## Deploy")]
    documented = re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", table, re.MULTILINE)
    assert sorted(name for name, _ in documented) == sorted(settings.ENV_NAMES)
    defaults = dict(documented)
    for name, field in settings.Settings.model_fields.items():
        if isinstance(field.default, int) and not isinstance(field.default, bool):
            assert f"`{field.default}`" in defaults[str(field.alias)], (name, defaults[str(field.alias)])
