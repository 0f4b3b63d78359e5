"""A real browser against `chalice local`: CORS as Chromium enforces it, not as a test client assumes.

Headless Chromium (Debian's `chromium`, driven by Playwright) loads tests/e2e/page.html from
http://localhost:3000 (an origin the dev stage allows) or http://localhost:3001 (one it does
not), and the page calls the API with fetch(..., {credentials: "include"}). The tests read what
the page displays. Without Chromium they are skipped locally and fail on CI
(`dynamodb_local_required()`'s rule: `CI` set and not "false"/"0").
"""

from __future__ import annotations

import errno
import http.client
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from chalicelib import tokens
from chalicelib.clock import Now
from local_google.dev import dev_issuer
from local_google.issuer import subject_for
from tests.chalice_local import run_chalice_local
from tests.conftest import AWS_ENV, ROOT
from tests.dynamodb_local import dynamodb_local_required

pytestmark = pytest.mark.slow

PAGE_FILE = Path(__file__).resolve().parent / "page.html"
PAGE_TITLE = "Job Hunt Tracker: browser test page"
ALLOWED_PORT = 3000  # http://localhost:3000 is in the dev stage's ALLOWED_ORIGINS
BLOCKED_PORT = 3001  # http://localhost:3001 is not
DEV_ENV: dict[str, str] = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"][
    "environment_variables"
]
DEV_SECRET = DEV_ENV["JWT_SECRET_KEY"]
CHROMIUM_CANDIDATES = ("/usr/bin/chromium",)
# Needed here: root (no sandbox), no GPU, no network beyond loopback (nothing in the background
# may reach out), a small /dev/shm.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
INSTALL_HINT = "install Debian's Chromium (`apt-get install -y chromium`; never `playwright install`)"
FAILED_TO_FETCH = {"outcome": "network-error", "error": "TypeError: Failed to fetch"}
ULID = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
SERVER_LOG_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/1\.[01]" (?P<status>\d{3})')


# --- Chromium ------------------------------------------------------------------------------------


def find_chromium() -> str | None:
    found = os.environ.get("CHROMIUM_PATH", "").strip() or shutil.which("chromium")
    for candidate in (found, *CHROMIUM_CANDIDATES):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module", autouse=True)
def chromium() -> str:
    """Chromium's path; first, so that nothing is started when the module is skipped."""
    path = find_chromium()
    if path is None:
        message = (
            f"Chromium not found (looked for CHROMIUM_PATH, `chromium` on PATH, /usr/bin/chromium): {INSTALL_HINT}"
        )
        if dynamodb_local_required():
            pytest.fail(f"{message}. CI must run the browser tests.", pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # Playwright gives every launch a fresh temporary user-data-dir and removes it on close.
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class BrowserPage:
    """A page in a fresh browser context, with the console messages Chromium logged for it."""

    page: Page
    console: list[str]

    def open(self, port: int) -> None:
        self.page.goto(f"http://localhost:{port}/page.html")
        # Another server on this port (e.g. on [::1]) would show another page: say so plainly.
        assert self.page.title() == PAGE_TITLE, f"http://localhost:{port} serves another page"
        assert self.page.inner_text("#origin") == f"http://localhost:{port}"

    def run(self, function: str, *args: Any) -> None:
        """Call one of page.html's functions and wait for it (they never throw)."""
        self.page.evaluate(f"(args) => {function}(...args)", list(args))

    def shown(self, section: str) -> dict[str, str]:
        """What the page displays in a section: each field's name and its rendered text."""
        fields: dict[str, str] = {}
        for detail in self.page.locator(f"#{section} dd").all():
            name = detail.get_attribute("data-field")
            assert name is not None
            fields[name] = detail.inner_text()
        return fields

    def cors_errors(self) -> list[str]:
        return [text for text in self.console if "blocked by CORS policy" in text]


@pytest.fixture
def page(browser: Browser) -> Iterator[BrowserPage]:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    try:
        opened = BrowserPage(context.new_page(), [])

        def log(message: ConsoleMessage) -> None:
            opened.console.append(message.text)

        opened.page.on("console", log)
        yield opened
    finally:
        context.close()


# --- the page's two origins ----------------------------------------------------------------------


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.partition("?")[0] != "/page.html":
            self.send_error(404)
            return
        body = PAGE_FILE.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def serve_page(port: int) -> ThreadingHTTPServer:
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), _PageHandler)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        pytest.fail(
            f"Port {port} on 127.0.0.1 is taken, but the browser tests must serve their page at exactly "
            f"http://localhost:{port} (the dev stage allows http://localhost:{ALLOWED_PORT}; "
            f"http://localhost:{BLOCKED_PORT} is the origin it does not allow). "
            f"Stop what listens there (`ss -ltnp 'sport = :{port}'`) and run again.",
            pytrace=False,
        )
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=f"page-{port}", daemon=True).start()
    return server


@pytest.fixture(scope="module")
def page_servers(chromium: str) -> Iterator[None]:
    servers: list[ThreadingHTTPServer] = []
    try:
        for port in (ALLOWED_PORT, BLOCKED_PORT):
            servers.append(serve_page(port))
        yield
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


# --- the API under `chalice local` ---------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    status: int


@dataclass
class Api:
    base: str
    log_path: Path

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def requests_since(self, offset: int) -> list[Request]:
        """The requests `chalice local` logged after `offset` (a log size), in order."""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", "replace")
        return [
            Request(m["method"], m["path"], int(m["status"]))
            for line in text.splitlines()
            if (m := SERVER_LOG_LINE.search(line))
        ]

    def call(self, method: str, path: str, *, token: str | None = None, body: Any = None) -> tuple[int, Any]:
        """A plain HTTP call from Python (no Origin, no browser): status and JSON body."""
        host, _, port = self.base.removeprefix("http://").partition(":")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        return response.status, json.loads(raw) if raw else None

    def sign_in(self, email: str, name: str) -> dict[str, Any]:
        status, data = self.call("POST", "/auth/google", body={"credential": credential(email, name)})
        assert status == 200, data
        result: dict[str, Any] = data
        return result


def credential(email: str, name: str) -> str:
    """A Google-style ID token from the dev stand-in (the dev stage trusts local_google/certs.json)."""
    return dev_issuer().id_token(sub=subject_for(email), email=email, name=name, picture=None)


@pytest.fixture(scope="module")
def api(chromium: str) -> Iterator[Api]:
    """`chalice local` on the dev stage as committed, on a free loopback port, with a fresh SQLite file."""
    workdir = Path(tempfile.mkdtemp(prefix="e2e-chalice-"))
    # The dev stage's own variables override these; it sets no SQLITE_PATH, so this one counts.
    env = {**os.environ, **AWS_ENV, "SQLITE_PATH": str(workdir / "e2e.db")}
    try:
        # cwd=ROOT: GOOGLE_CERTS_URL's file:local_google/certs.json is relative to it.
        with run_chalice_local(env, log_path=workdir / "chalice-local.log", cwd=ROOT, timeout=30) as server:
            api = Api(server.url, server.log_path)
            status, health = api.call("GET", "/health")
            assert status == 200 and health["stage"] == "dev", health
            yield api
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --- the tests -----------------------------------------------------------------------------------


def test_an_allowed_origin_signs_in_reads_the_user_and_creates_an_application(
    api: Api, page_servers: None, page: BrowserPage
) -> None:
    email, name = "ada.browser@example.com", "Ada Browser"
    user_id = subject_for(email)
    page.open(ALLOWED_PORT)
    offset = api.log_size()

    page.run("signIn", api.base, credential(email, name))
    assert page.shown("sign-in") == {
        "outcome": "response",
        "status": "200",
        "token-type": "bearer",
        "user-id": user_id,
        "email": email,
        "name": name,
    }

    page.run("loadUser")
    assert page.shown("user") == {
        "outcome": "response",
        "status": "200",
        "user-id": user_id,
        "email": email,
        "name": name,
    }

    page.run("createApplication", "Acme", "Backend Engineer", "applied")
    created = page.shown("application")
    app_id = created["id"]
    assert ULID.match(app_id), created
    assert created == {
        "outcome": "response",
        "status": "201",
        "id": app_id,
        "company": "Acme",
        "role": "Backend Engineer",
        "application-status": "applied",
        "version": "1",
        # Readable only because the API lists them in Access-Control-Expose-Headers.
        "etag": f'"{app_id}.1"',
        "location": f"/api/applications/{app_id}",
    }

    page.run("listApplications")
    assert page.shown("applications") == {
        "outcome": "response",
        "status": "200",
        "count": "1",
        "companies": "Acme",
        "ids": app_id,
    }
    assert page.cors_errors() == []

    # Each call went through a preflight the API allowed, then the call itself.
    assert api.requests_since(offset) == [
        Request("OPTIONS", "/auth/google", 204),
        Request("POST", "/auth/google", 200),
        Request("OPTIONS", "/api/user", 204),
        Request("GET", "/api/user", 200),
        Request("OPTIONS", "/api/applications", 204),
        Request("POST", "/api/applications", 201),
        Request("GET", "/api/applications", 200),  # the preflight for the path is cached
    ]

    # The API, asked from Python, has exactly what the page created.
    token = api.sign_in(email, name)["access_token"]
    status, listed = api.call("GET", "/api/applications", token=token)
    assert status == 200
    assert [(a["id"], a["company"], a["role"], a["status"]) for a in listed["items"]] == [
        (app_id, "Acme", "Backend Engineer", "applied")
    ]


def test_a_non_allowed_origin_is_blocked_by_the_browser_and_changes_nothing(
    api: Api, page_servers: None, page: BrowserPage
) -> None:
    email, name = "bea.blocked@example.com", "Bea Blocked"
    signed_in = api.sign_in(email, name)
    token = signed_in["access_token"]
    status, _ = api.call("POST", "/api/applications", token=token, body={"company": "Before Corp", "role": "Dev"})
    assert status == 201
    profile_before = api.call("GET", "/api/user", token=token)
    applications_before = api.call("GET", "/api/applications", token=token)
    assert profile_before[0] == 200 and applications_before[0] == 200
    assert [a["company"] for a in applications_before[1]["items"]] == ["Before Corp"]

    page.open(BLOCKED_PORT)
    offset = api.log_size()
    # The same calls as the allowed page makes; a sign-in that got through would rename the
    # user and move last_login_at, and the others would read or write with a valid token.
    page.run("signIn", api.base, credential(email, "Renamed By Another Site"))
    assert page.shown("sign-in") == FAILED_TO_FETCH
    page.run("useToken", api.base, token)
    page.run("loadUser")
    assert page.shown("user") == FAILED_TO_FETCH
    page.run("createApplication", "Evil Corp", "Exfiltrator", "offer")
    assert page.shown("application") == FAILED_TO_FETCH
    page.run("listApplications")
    assert page.shown("applications") == FAILED_TO_FETCH

    # Chromium says why, once per call: its CORS check refused the preflight's answer.
    assert page.cors_errors() == [
        f"Access to fetch at '{api.base}{path}' from origin 'http://localhost:{BLOCKED_PORT}' has been blocked by "
        "CORS policy: Response to preflight request doesn't pass access control check: "
        "No 'Access-Control-Allow-Origin' header is present on the requested resource."
        for path in ("/auth/google", "/api/user", "/api/applications", "/api/applications")
    ], page.console
    # Only preflights reached the API, each answered without CORS headers; no call was sent.
    assert api.requests_since(offset) == [
        Request("OPTIONS", "/auth/google", 204),
        Request("OPTIONS", "/api/user", 204),
        Request("OPTIONS", "/api/applications", 204),
        Request("OPTIONS", "/api/applications", 204),  # a refused preflight is not cached
    ]

    assert api.call("GET", "/api/user", token=token) == profile_before
    assert api.call("GET", "/api/applications", token=token) == applications_before


def test_an_expired_token_reaches_the_page_as_a_readable_401(api: Api, page_servers: None, page: BrowserPage) -> None:
    email, name = "eve.expired@example.com", "Eve Expired"
    signed_in = api.sign_in(email, name)
    two_hours_ago = Now(int((time.time() - 7200) * 1000))
    expired = tokens.issue(
        signed_in["user"]["id"], email, name, None, secret=DEV_SECRET, stage="dev", lifetime_s=3600, now=two_hours_ago
    )
    page.open(ALLOWED_PORT)

    # The same user's valid token first: the page reads the profile, and no challenge.
    page.run("readUser", api.base, signed_in["access_token"])
    assert page.shown("read-user") == {
        "outcome": "response",
        "status": "200",
        "www-authenticate": "",
        "content-type": "application/json",
        "email": email,
    }

    page.run("readUser", api.base, expired)
    message = "The access token has expired; sign in again."
    assert page.shown("read-user") == {
        "outcome": "response",
        "status": "401",
        # Not a CORS-safelisted header: readable only through Access-Control-Expose-Headers.
        "www-authenticate": f'Bearer realm="job-hunt-tracker", error="invalid_token", error_description="{message}"',
        "content-type": "application/json",
        "error": "invalid_token",
        "message": message,
        "field": "Authorization",
    }
    assert page.cors_errors() == []
