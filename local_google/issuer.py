"""A stand-in for Google Sign-In: an RSA key, Google-style ID tokens signed with it, its certs on loopback.

The tests use it with a fresh key each run; the dev stand-in (`python -m local_google`) uses the
committed dev key. The app fetches the certs exactly as it fetches Google's, so every path of
sign-in (signature, rotation, caching, outage) runs without the internet.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

ISSUER = "https://accounts.google.com"
CERTS_PATH = "/oauth2/v1/certs"
TOKEN_PATH = "/token"


def subject_for(email: str) -> str:
    """A stable Google-style numeric subject for an email, so one email is always one user."""
    return "1" + str(int(hashlib.sha256(email.lower().encode()).hexdigest(), 16))[:20]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segment(obj: dict[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


class SigningKey:
    """An RSA key and self-signed certificate, like one entry of Google's certs document."""

    def __init__(self, private_key: rsa.RSAPrivateKey | None = None, cert_pem: str | None = None) -> None:
        self.private_key = private_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = hashlib.sha1(public_der, usedforsecurity=False).hexdigest()  # a key id, like Google's
        if cert_pem is not None:
            self.cert_pem = cert_pem
            return
        now = dt.datetime.now(dt.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "federated-signon.system.gserviceaccount.com")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .sign(self.private_key, hashes.SHA256())
        )
        self.cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()

    @classmethod
    def from_files(cls, key_path: str, certs_path: str) -> SigningKey:
        """The key in `key_path` (PEM) with its certificate from a certs document (kid -> PEM)."""
        with open(key_path, "rb") as f:
            private_key = serialization.load_pem_private_key(f.read(), password=None)
        assert isinstance(private_key, rsa.RSAPrivateKey)
        with open(certs_path) as f:
            certs = json.load(f)
        key = cls(private_key, cert_pem="")
        key.cert_pem = certs[key.kid]
        return key

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def sign(self, claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
        head = {"alg": "RS256", "kid": self.kid, "typ": "JWT", **(header or {})}
        signing_input = f"{_segment(head)}.{_segment(claims)}"
        signature = self.private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        issuer: GoogleIssuer = self.server.issuer  # type: ignore[attr-defined]
        path, _, query = self.path.partition("?")
        if path == TOKEN_PATH:
            self._token(issuer, parse_qs(query))
            return
        if path != CERTS_PATH:
            self._send(404, b"", {})
            return
        with issuer.lock:
            issuer.fetches += 1
            status = issuer.fail_with
            body = json.dumps({k.kid: k.cert_pem for k in issuer.published}).encode()
            max_age = issuer.max_age
        if status:
            self._send(status, b'{"error": "unavailable"}', {})
            return
        self._send(200, body, {"Cache-Control": f"public, max-age={max_age}, must-revalidate, no-transform"})

    def _token(self, issuer: GoogleIssuer, params: dict[str, list[str]]) -> None:
        """A credential as Google Identity Services hands one to the page: {"credential": "<ID token>"}."""
        email = (params.get("email") or ["jane.doe@example.com"])[0]
        name = (params.get("name") or [email.split("@")[0].replace(".", " ").title()])[0]
        token = issuer.id_token(
            sub=(params.get("sub") or [subject_for(email)])[0], email=email, name=name, picture=None
        )
        self._send(200, json.dumps({"credential": token}).encode(), {"Cache-Control": "no-store"})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class GoogleIssuer:
    """`with GoogleIssuer(client_id) as g:` serves certs at `g.certs_url`; `g.id_token()` mints."""

    def __init__(self, client_id: str, max_age: int = 21600, port: int = 0, key: SigningKey | None = None) -> None:
        self.client_id = client_id
        self.key = key or SigningKey()
        self.published: list[SigningKey] = [self.key]
        self.max_age = max_age
        self.fail_with = 0  # an HTTP status to answer instead of the certs, for outage tests
        self.fetches = 0
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._server.issuer = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, name="google-issuer", daemon=True)

    @property
    def certs_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{CERTS_PATH}"

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "azp": self.client_id,
            "aud": self.client_id,
            "sub": "109876543210987654321",
            "email": "jane.doe@example.com",
            "email_verified": True,
            "name": "Jane Doe",
            "picture": "https://lh3.googleusercontent.com/a/jane",
            "iat": now,
            "exp": now + 3600,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def id_token(self, key: SigningKey | None = None, header: dict[str, Any] | None = None, **overrides: Any) -> str:
        """A Google-style ID token; a claim given as None is left out."""
        return (key or self.key).sign(self.claims(**overrides), header)

    def rotate(self) -> SigningKey:
        """Publish a new key beside the old one (as Google does) and sign with it from now on."""
        new = SigningKey()
        with self.lock:
            self.published.append(new)
        self.key = new
        return new

    def __enter__(self) -> GoogleIssuer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
