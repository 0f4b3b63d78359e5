"""The dev stand-in for Google: the whole flow offline on the dev stage, and useless against prod."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib import google_identity
from chalicelib.settings import GOOGLE_CERTS_URL
from local_google.dev import dev_issuer
from local_google.issuer import GoogleIssuer
from tests.conftest import ALLOWED, ROOT, FakeClock, MakeClient, body, project_dir, sign_in


@pytest.fixture
def dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Client:
    """The dev stage exactly as committed (its certs come from local_google/certs.json), a temp database."""
    monkeypatch.chdir(ROOT)
    where = project_dir(tmp_path, {"dev": {"SQLITE_PATH": str(tmp_path / "dev.db")}})
    return Client(app_module.app, stage_name="dev", project_dir=str(where))


def token_from_command(email: str, name: str) -> str:
    run = subprocess.run([sys.executable, "-m", "local_google", "token", "--email", email, "--name", name],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    return run.stdout.strip()


def test_the_token_command_signs_in_on_the_dev_stage(dev: Client) -> None:
    response = sign_in(dev, token_from_command("newcomer@example.com", "New Comer"))
    assert response.status_code == 200, response.body
    data = body(response)
    assert data["user"]["email"] == "newcomer@example.com" and data["user"]["name"] == "New Comer"
    auth = {"Authorization": f"Bearer {data['access_token']}", "Origin": ALLOWED, "Content-Type": "application/json"}
    created = dev.http.post("/api/applications", headers=auth, body=json.dumps({"company": "Acme", "role": "Dev"}))
    assert created.status_code == 201
    listed = body(dev.http.get("/api/applications", headers=auth))["items"]
    assert [a["id"] for a in listed] == [body(created)["id"]]
    assert body(dev.http.get("/api/user", headers=auth))["email"] == "newcomer@example.com"


def test_one_email_is_always_one_user(dev: Client) -> None:
    first = body(sign_in(dev, token_from_command("same@example.com", "Same")))["user"]["id"]
    again = body(sign_in(dev, token_from_command("same@example.com", "Same Again")))["user"]["id"]
    assert first == again


def test_the_stand_in_server_hands_out_credentials(dev: Client) -> None:
    with dev_issuer() as issuer:
        base = issuer.certs_url.removesuffix("/oauth2/v1/certs")
        with urllib.request.urlopen(f"{base}/token?email=browser%40example.com") as reply:
            credential = json.load(reply)["credential"]
    response = sign_in(dev, credential)
    assert response.status_code == 200 and body(response)["user"]["email"] == "browser@example.com"


def test_a_stand_in_token_gets_401_on_prod(make_client: MakeClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Prod trusts only Google's certs URL. "Google" here is another local key, served to the
    certs cache for Google's URL without any network: the stand-in's key is simply not in it."""
    with GoogleIssuer("123456789012-prodclient.apps.googleusercontent.com") as google:
        google_certs = {google.key.kid: google.key.cert_pem}

        def fetch(url: str) -> tuple[dict[str, str], int]:
            assert url == GOOGLE_CERTS_URL, url  # nothing else is ever asked for on prod
            return google_certs, 3600

        monkeypatch.setattr(google_identity, "CERTS", google_identity.GoogleCerts(fetch=fetch))
        prod = make_client("prod", SIGNIN_RATE_LIMIT_PER_MINUTE="0")  # no store on prod here: no counting
        # "Google's" own token passes the same verification prod runs...
        claims = google_identity.verify_id_token(
            google.id_token(), client_ids=[google.client_id], certs_urls=[GOOGLE_CERTS_URL], clock_skew_seconds=10
        )
        assert claims["email"] == "jane.doe@example.com"
        # ...and the stand-in's are refused before anything is stored.
        stand_in = token_from_command("mallory@example.com", "Mallory").replace("\n", "")
        dev_signed = dev_issuer().id_token(aud="123456789012-prodclient.apps.googleusercontent.com")
        for credential in (stand_in, dev_signed):
            response = sign_in(prod, credential)
            assert response.status_code == 401
            assert "key Google does not publish" in body(response)["message"]


def test_prod_refuses_the_stand_ins_certs_as_configuration(make_client: MakeClient) -> None:
    prod = make_client("prod", GOOGLE_CERTS_URL="file:local_google/certs.json")
    health = prod.http.get("/health")
    assert health.status_code == 503
    assert body(health)["problems"][0].startswith("GOOGLE_CERTS_URL: must be https://www.googleapis.com/")


def test_the_dev_certs_file_matches_the_dev_key() -> None:
    certs: dict[str, Any] = json.loads((ROOT / "local_google" / "certs.json").read_text())
    assert list(certs) == [dev_issuer().key.kid]
