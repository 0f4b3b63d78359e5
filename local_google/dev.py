"""The dev stage's stand-in issuer: its client id from .chalice/config.json and the committed dev key."""

from __future__ import annotations

import json
from pathlib import Path

from local_google.issuer import GoogleIssuer, SigningKey

HERE = Path(__file__).resolve().parent
KEY_FILE = HERE / "dev-signing-key.pem"
CERTS_FILE = HERE / "certs.json"
CONFIG = HERE.parent / ".chalice" / "config.json"


def dev_client_id() -> str:
    config = json.loads(CONFIG.read_text())
    client_ids = config["stages"]["dev"]["environment_variables"]["GOOGLE_CLIENT_ID"]
    return str(client_ids).split(",")[0].strip()


def dev_issuer(port: int = 0) -> GoogleIssuer:
    return GoogleIssuer(dev_client_id(), port=port, key=SigningKey.from_files(str(KEY_FILE), str(CERTS_FILE)))
