"""A moto server on a free loopback port, in this process: AWS's APIs for the deploy rehearsal.

In-process (moto's ThreadedMotoServer) rather than `moto_server` in a subprocess, so a test can
shim, in moto's own models, what moto lacks for a call the project makes (the rehearsal says so
where it does). Everything reaches it over HTTP through `AWS_ENDPOINT_URL`, as AWS would be reached.
"""

from __future__ import annotations

import os
import urllib.request
from types import TracebackType

from moto.server import ThreadedMotoServer

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account id


class MotoServer:
    """`with MotoServer() as moto:` serves every AWS service moto has at `moto.endpoint_url`."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint_url = ""

    def __enter__(self) -> MotoServer:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self.reset()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.reset()
        self._server.stop()

    def reset(self) -> None:
        """Forget every resource (moto's state is per process, shared with any mock_aws)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def environ(self) -> dict[str, str]:
        """What a process needs to reach this server instead of AWS, with dummy credentials."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
