"""Run by tests/test_migration.py with the original app's own venv (bench/subjects.build_original):
call its Mangum handler with each API Gateway event read from stdin (a JSON list) and write the
responses to stdout (a JSON list). Standard library only: it runs outside this project's venv.

    <original venv>/bin/python tests/original_handler.py <the original's code folder> < events.json
"""

from __future__ import annotations

import importlib
import io
import json
import sys
from contextlib import redirect_stdout
from typing import Any


class LambdaContext:
    function_name = "job-hunt-tracker-original"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:job-hunt-tracker-original"
    memory_limit_in_mb = "512"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/job-hunt-tracker-original"
    log_stream_name = "2026/01/01/[$LATEST]0"

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


def main() -> None:
    sys.path.insert(0, sys.argv[1])
    events: list[dict[str, Any]] = json.load(sys.stdin)
    with redirect_stdout(io.StringIO()):  # whatever the app prints stays out of the answer
        handler = importlib.import_module("main").handler
        responses = [handler(event, LambdaContext()) for event in events]
    json.dump(responses, sys.stdout)


if __name__ == "__main__":
    main()
