"""GET /health/ready: each check by name, 200 only when a signed-in request can be served."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib import __version__, google_identity, schemas
from local_google.issuer import GoogleIssuer
from tests.conftest import ALLOWED, MakeClient, body, sign_in
from tests.test_jwt_secret import forget_secrets

OK_CHECKS = {"configuration": "ok", "secret": "ok", "storage": "ok", "google_certs": "ok"}
NOWHERE = "http://127.0.0.1:9/oauth2/v1/certs"  # nothing listens on the discard port


@pytest.fixture
def certs_from_issuer(monkeypatch: pytest.MonkeyPatch, issuer: GoogleIssuer) -> None:
    """A prod stage must name Google's certs URL; here its fetches go to the local issuer instead."""
    fetch = google_identity._Fetcher()
    monkeypatch.setattr(
        google_identity, "CERTS", google_identity.GoogleCerts(fetch=lambda _url: fetch(issuer.certs_url))
    )


def ready(client: Any) -> tuple[int, dict[str, Any]]:
    response = client.http.get("/health/ready", headers={"Origin": ALLOWED})
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, body(response)


def test_ready_when_every_check_passes(make_client: MakeClient) -> None:
    status, payload = ready(make_client("dev"))
    assert status == 200
    assert payload == {"status": "ready", "checks": OK_CHECKS, "stage": "dev", "version": __version__}


def test_prod_is_ready_with_its_table(
    make_client: MakeClient, dynamodb_table: tuple[str, str], certs_from_issuer: None
) -> None:
    endpoint, table = dynamodb_table
    status, payload = ready(make_client("prod", DYNAMODB_ENDPOINT_URL=endpoint, DYNAMODB_TABLE=table))
    assert (status, payload["checks"]) == (200, OK_CHECKS)


def test_a_missing_table_is_named(
    make_client: MakeClient, dynamodb_endpoint: str, certs_from_issuer: None, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client("prod", DYNAMODB_ENDPOINT_URL=dynamodb_endpoint, DYNAMODB_TABLE="never-created")
    with caplog.at_level(logging.ERROR):
        status, payload = ready(client)
    assert status == 503 and payload["status"] == "not_ready"
    assert payload["detail"] == f"The API is not ready: storage: {payload['checks']['storage']}"  # as every error body
    schemas.NotReady.model_validate(payload, strict=True)  # what /openapi.json says a 503 is
    storage = payload["checks"].pop("storage")
    assert "'never-created' does not exist" in storage and "make deploy" in storage
    assert payload["checks"] == {"configuration": "ok", "secret": "ok", "google_certs": "ok"}
    assert "never-created" in caplog.text


def test_a_missing_secret_is_named(make_client: MakeClient) -> None:
    forget_secrets()
    with mock_aws():
        boto3.client("ssm", region_name="us-east-1")  # an empty Parameter Store
        client = make_client("dev", JWT_SECRET_KEY=None, JWT_SECRET_SSM_PARAMETER="/job-hunt-tracker/dev/missing")
        status, payload = ready(client)
    forget_secrets()
    assert status == 503
    assert payload["checks"]["secret"] == (
        "JWT_SECRET_SSM_PARAMETER: parameter '/job-hunt-tracker/dev/missing' does not exist "
        "(see the README's deploy section)"
    )
    assert {k: v for k, v in payload["checks"].items() if k != "secret"} == {
        "configuration": "ok",
        "storage": "ok",
        "google_certs": "ok",
    }


def test_unreachable_certs_are_named(make_client: MakeClient) -> None:
    status, payload = ready(make_client("dev", GOOGLE_CERTS_URL=NOWHERE))
    assert status == 503
    assert payload["checks"]["google_certs"].startswith("Google's certs cannot be read: ConnectionError fetching")
    assert NOWHERE in payload["checks"]["google_certs"]
    assert payload["checks"]["storage"] == "ok"


def test_a_sqlite_file_that_cannot_open_is_named(make_client: MakeClient, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    status, payload = ready(make_client("dev", SQLITE_PATH=str(not_a_folder / "tracker.db")))
    assert status == 503
    assert payload["checks"]["storage"].startswith(f"the SQLite database {str(not_a_folder / 'tracker.db')!r} cannot")


def test_an_invalid_configuration_skips_the_rest(make_client: MakeClient) -> None:
    status, payload = ready(make_client("dev", JWT_SECRET_KEY="short"))
    assert status == 503
    assert payload["checks"]["configuration"].startswith("JWT_SECRET_KEY: must be at least 32 bytes")
    assert "short" not in str(payload)
    for name in ("secret", "storage", "google_certs"):
        assert payload["checks"][name] == "not checked: the configuration is not valid"


def test_readiness_reuses_the_cached_certs(make_client: MakeClient, issuer: GoogleIssuer) -> None:
    client = make_client("dev")
    for _ in range(3):
        assert ready(client)[0] == 200
    assert issuer.fetches == 1


def test_a_missing_table_is_a_503_naming_it_never_a_500(
    make_client: MakeClient,
    dynamodb_endpoint: str,
    issuer: GoogleIssuer,
    certs_from_issuer: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # What plain `chalice deploy --stage prod` leaves: the function, and no table.
    client = make_client("prod", DYNAMODB_ENDPOINT_URL=dynamodb_endpoint, DYNAMODB_TABLE="job-hunt-tracker-prod")
    with caplog.at_level(logging.ERROR):
        response = sign_in(client, issuer.id_token())
    assert response.status_code == 503, response.body
    assert response.headers["Retry-After"] == "5"
    payload = body(response)
    assert payload["error"] == "storage_unavailable"
    assert "DynamoDB table 'job-hunt-tracker-prod' does not exist" in payload["message"]
    assert "run `make deploy`" in payload["message"]
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("storage unavailable")]
    assert len(said) == 1 and "job-hunt-tracker-prod" in said[0]
