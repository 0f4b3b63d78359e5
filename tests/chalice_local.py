"""`chalice local --no-autoreload --stage dev` in a subprocess, for the tests that need a real server.

One launcher for the browser tests (tests/e2e), the fuzzing (tests/test_fuzz.py) and the contract
tests (tests/contract): a free loopback port, the server's output in a log file, a wait until
GET /health answers 200, and the whole process group ended afterwards, whatever happened.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from chalicelib.settings import ENV_NAMES
from tests.conftest import ROOT, project_dir

CHALICE = Path(sys.executable).parent / "chalice"  # the venv's, beside the interpreter running the tests


@dataclass(frozen=True)
class LocalServer:
    url: str  # http://127.0.0.1:<port>
    log_path: Path  # everything the server wrote, stdout and stderr

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:]) or "(empty)"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def health_status(port: int) -> tuple[int, str] | None:
    """GET /health's status and body, or None while nothing answers (http.client: no proxy applies)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/health")
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    except OSError:  # refused, reset or timed out: not serving yet
        return None
    finally:
        connection.close()


@contextmanager
def dev_stage_server(work: Path, stage: Mapping[str, str]) -> Iterator[LocalServer]:
    """The checkout's app.py and chalicelib under `chalice local`, as the dev stage with `stage`'s
    variables changed (in a copy of .chalice/config.json under `work`). The settings come from
    the stage's config only, never from the shell running the tests."""
    project = project_dir(work, {"dev": dict(stage)})
    for name in ("app.py", "chalicelib"):
        (project / name).symlink_to(ROOT / name)
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    with run_chalice_local(env, log_path=work / "chalice-local.log", project_dir=project, cwd=ROOT) as running:
        yield running


@contextmanager
def run_chalice_local(
    env: Mapping[str, str],
    *,
    log_path: Path,
    project_dir: Path | None = None,
    cwd: Path = ROOT,
    timeout: float = 60,
    stop_timeout: float = 10,
) -> Iterator[LocalServer]:
    """The dev stage under `chalice local`, serving once /health has answered 200.

    `env` is the server's whole environment (PYTHONUNBUFFERED=1 is added, so the log is current);
    `project_dir` a copy of the project with its own .chalice/config.json (`--project-dir`), or None
    for the checkout's; `cwd` where relative paths in the stage's settings resolve. The test fails,
    with the log's tail, if the server exits, if /health answers anything but 200, or if nothing
    answers within `timeout` seconds. On the way out the process group gets SIGTERM, and SIGKILL if
    it has not ended `stop_timeout` seconds later.
    """
    port = free_port()
    command = [str(CHALICE)]
    if project_dir is not None:
        command += ["--project-dir", str(project_dir)]
    command += ["local", "--no-autoreload", "--stage", "dev", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, ended whole below
        )
    server = LocalServer(f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                pytest.fail(f"chalice local exited with {process.returncode}:\n{server.log_tail()}", pytrace=False)
            answer = health_status(port)
            if answer is not None:
                status, text = answer
                if status == 200:
                    break
                pytest.fail(f"chalice local answered /health with {status}: {text}\n{server.log_tail()}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(
                    f"chalice local did not answer /health within {timeout:g} s:\n{server.log_tail()}", pytrace=False
                )
            time.sleep(0.1)
        yield server
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=stop_timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=stop_timeout)
