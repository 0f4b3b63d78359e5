"""The measured process: import one Lambda handler and call it with API Gateway events.

Run by bench/runner.py as `python [-S -E -B] bench/child.py JOB.json`, with the interpreter and
flags of the tree being measured; it writes its results to the job's `result_path`.

Standard library only, and as little of it as possible before the timed import: it imports what
AWS's Python bootstrap has imported before it loads the handler (json, logging, os, sys, time,
traceback, warnings), plus `importlib` and `resource`. Nothing else (not even `typing`: the
annotations below are strings), so the handler's import pays for everything it needs.
"""

import importlib
import json
import logging  # noqa: F401 (imported by AWS's bootstrap before the handler: not the app's cost)
import os
import resource
import sys
import time
import traceback
import warnings  # noqa: F401 (as logging)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TextIO

    Handler = Callable[[dict[str, Any], Any], Any]

MARKER = "@@bench-import@@"  # on stderr right before the timed import (for -X importtime)
STEP = "@@bench-step@@"  # lockstep mode: on stderr after each call; the parent answers a line on stdin


class LambdaContext:
    """What the AWS Python runtime passes as `context`."""

    def __init__(self, name: str, memory_mb: str) -> None:
        h = os.urandom(16).hex()
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + name
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        self.log_group_name = "/aws/lambda/" + name
        self.log_stream_name = "2026/01/01/[$LATEST]" + h
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + 15

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Mismatch(AssertionError):
    """A response that is not what the route must answer: the run stops (timing a failure is meaningless)."""


def null_handler(origin: str) -> "Handler":
    """The floor's handler: what the harness costs around a call to a handler that does nothing."""

    def handler(event: "dict[str, Any]", context: "Any") -> "dict[str, Any]":
        return {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": origin}, "body": "{}"}

    return handler


def header(response: "dict[str, Any]", name: str) -> "str | None":
    for key in ("headers", "multiValueHeaders"):
        for k, v in (response.get(key) or {}).items():
            if k.lower() == name:
                return ",".join(v) if isinstance(v, list) else str(v)
    return None


def body_of(response: "dict[str, Any]") -> "Any":
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        import base64

        body = base64.b64decode(body).decode()
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body


def check(response: "Any", route: "dict[str, Any]", origin: str) -> None:
    if not isinstance(response, dict) or "statusCode" not in response:
        raise Mismatch(f"{route['name']}: the handler returned {response!r:.300}, not a proxy response")
    if response["statusCode"] != route["expect_status"]:
        raise Mismatch(
            f"{route['name']}: status {response['statusCode']}, expected {route['expect_status']}; "
            f"body {str(response.get('body'))[:600]}"
        )
    if route["expect_cors"] and header(response, "access-control-allow-origin") != origin:
        raise Mismatch(f"{route['name']}: no Access-Control-Allow-Origin: {origin} in {response.get('headers')}")


class DynamoCounter:
    """DynamoDB calls seen through botocore's events: API calls (`before-call`), HTTP sends (retries
    included) and the time inside them, from parameter validation to the parsed answer."""

    def __init__(self) -> None:
        self.calls = 0
        self.sends = 0
        self.ns = 0
        self.ops: list[str] = []
        self._started = 0

    def install(self) -> None:
        # Registered on boto3's default session before the app creates its client: the client
        # copies the session's handlers. Imported after the timed import, so no one pays for it.
        import boto3

        boto3.setup_default_session()
        events = boto3.DEFAULT_SESSION.events  # type: ignore[union-attr]
        events.register("provide-client-params.dynamodb", self._start)
        events.register("before-call.dynamodb", self._call)
        events.register("before-send.dynamodb", self._send)
        events.register("after-call.dynamodb", self._end)
        events.register("after-call-error.dynamodb", self._end)

    def snapshot(self) -> "tuple[int, int, int, int]":
        return self.calls, self.sends, self.ns, len(self.ops)

    def since(self, snap: "tuple[int, int, int, int]") -> "dict[str, Any]":
        return {
            "calls": self.calls - snap[0],
            "sends": self.sends - snap[1],
            "ns": self.ns - snap[2],
            "ops": self.ops[snap[3] :],
        }

    def _start(self, **_: "Any") -> None:
        self._started = time.perf_counter_ns()

    def _call(self, event_name: str = "", **_: "Any") -> None:
        self.calls += 1
        self.ops.append(event_name.rsplit(".", 1)[-1])

    def _send(self, **_: "Any") -> None:
        self.sends += 1

    def _end(self, **_: "Any") -> None:
        if self._started:
            self.ns += time.perf_counter_ns() - self._started
            self._started = 0


def maxrss_kb() -> int:
    """Peak RSS of this process since exec, in KiB: VmHWM from /proc.

    Not ru_maxrss: on Linux that is also at least the *parent's* RSS at fork (exec keeps the old
    memory's high-water mark), so under a parent holding 50 MiB every child would seem to use 50 MiB.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def set_path(job: "dict[str, Any]") -> None:
    """sys.path = the tree's entries, then the interpreter's own (the script's directory dropped)."""
    rest = sys.path[1:]
    if job["clean"]:
        rest = [p for p in rest if "site-packages" not in p and "dist-packages" not in p]
    sys.path[:] = [*job["path"], *rest]


def load(job: "dict[str, Any]") -> "Handler":
    spec = job["handler"]
    if not spec:
        return null_handler(job["origin"])
    module_name, _, attr = spec.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    handler: Handler = obj
    return handler


class Session:
    """Calls of one process: fresh event and context each call, placeholders filled from earlier answers."""

    def __init__(self, job: "dict[str, Any]", handler: "Handler") -> None:
        self.job = job
        self.handler = handler
        self.origin: str = job["origin"]
        self.values: dict[str, str] = dict(job.get("values") or {})

    def event_text(self, route: "dict[str, Any]") -> str:
        text: str = route["event"]
        for name, value in self.values.items():
            text = text.replace(f"@@{name}@@", json.dumps(value)[1:-1])  # inside a JSON string: escaped
        return text

    def context(self) -> LambdaContext:
        return LambdaContext(self.job["function_name"], self.job["memory_mb"])

    def call(self, route: "dict[str, Any]") -> "tuple[Any, int]":
        event, context = json.loads(self.event_text(route)), self.context()
        perf = time.perf_counter_ns
        a = perf()
        response = self.handler(event, context)
        b = perf()
        check(response, route, self.origin)
        return response, b - a

    def remember(self, response: "dict[str, Any]") -> None:
        """What later events may refer to: @@token@@, @@app_id@@, @@etag@@."""
        etag = header(response, "etag")
        if etag:
            self.values["etag"] = etag
        body = body_of(response)
        if isinstance(body, dict):
            if isinstance(body.get("access_token"), str):
                self.values["token"] = body["access_token"]
            if isinstance(body.get("id"), str) and response.get("statusCode") == 201:
                self.values["app_id"] = body["id"]


def run_first(s: Session, res: "dict[str, Any]") -> None:
    route = s.job["routes"][0]
    _, first_ns = s.call(route)
    res.update(t_first_done=time.monotonic_ns(), first_ns=first_ns, rss_kb_first=maxrss_kb())
    _, res["second_ns"] = s.call(route)


def run_warm(s: Session, res: "dict[str, Any]", counter: "DynamoCounter | None") -> None:
    out: dict[str, Any] = {}
    for route in s.job["routes"]:
        for _ in range(s.job["warmup"]):
            s.call(route)
        samples, ddb_ns, ddb_calls, ddb_sends = [], [], [], []
        for _ in range(s.job["iters"]):
            snap = counter.snapshot() if counter else None
            _, ns = s.call(route)
            samples.append(ns)
            if counter and snap:
                seen = counter.since(snap)
                ddb_ns.append(seen["ns"])
                ddb_calls.append(seen["calls"])
                ddb_sends.append(seen["sends"])
        out[route["name"]] = {"ns": samples}
        if counter:
            out[route["name"]].update(ddb_ns=ddb_ns, ddb_calls=ddb_calls, ddb_sends=ddb_sends)
    res["warm"] = out
    res["rss_kb_end"] = maxrss_kb()


def run_script(s: Session, res: "dict[str, Any]", counter: "DynamoCounter | None") -> None:
    steps = []
    for route in s.job["routes"]:
        snap = counter.snapshot() if counter else None
        response, ns = s.call(route)
        s.remember(response)
        step: dict[str, Any] = {
            "name": route["name"],
            "status": response["statusCode"],
            "ns": ns,
            "body": body_of(response),
            "etag": header(response, "etag"),
        }
        if counter and snap:
            step["dynamodb"] = counter.since(snap)
        steps.append(step)
    res["steps"] = steps
    res["values"] = s.values


def run_lockstep(s: Session, res: "dict[str, Any]", stdin: "TextIO") -> None:
    """One call at a time; after each, the parent reads what it counts (the issuer's cert fetches)."""
    route = s.job["routes"][0]
    for i in range(s.job["iters"]):
        s.call(route)
        sys.stderr.write(f"{STEP} {i}\n")
        sys.stderr.flush()
        if not stdin.readline():
            raise RuntimeError("the parent closed the lockstep pipe")
    res["calls"] = s.job["iters"]


def run_profile(s: Session, res: "dict[str, Any]") -> None:
    """cProfile over warm calls of one route (imported only after the warm-up: not in the profile)."""
    route = s.job["routes"][0]
    for _ in range(s.job["warmup"]):
        s.call(route)
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(s.job["iters"]):
        s.call(route)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.strip_dirs()
    for order in ("tottime", "cumulative"):
        text.write(f"\n=== by {order} ===\n")
        stats.sort_stats(order).print_stats(s.job.get("top", 30))
    res["profile"] = text.getvalue()


def run(job: "dict[str, Any]", res: "dict[str, Any]") -> None:
    set_path(job)
    if job.get("line_buffered_stdout"):
        # AWS's bootstrap makes stdout unbuffered: every log line is its own write.
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if job.get("marker"):
        sys.stderr.write(MARKER + "\n")
        sys.stderr.flush()
    t0 = time.monotonic_ns()
    handler = load(job)
    t1 = time.monotonic_ns()
    res.update(
        t_ready=t1,
        import_ns=t1 - t0,
        rss_kb_import=maxrss_kb(),
        ru_maxrss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        modules=len(sys.modules),
    )
    mode = job["mode"]
    if mode == "cold":
        return
    counter = None
    if job.get("dynamodb_hooks"):
        counter = DynamoCounter()
        counter.install()
    session = Session(job, handler)
    if mode == "first":
        run_first(session, res)
    elif mode == "warm":
        run_warm(session, res, counter)
    elif mode == "script":
        run_script(session, res, counter)
    elif mode == "lockstep":
        run_lockstep(session, res, sys.stdin)
    elif mode == "profile":
        run_profile(session, res)
    else:
        raise ValueError(f"unknown mode {mode!r}")


def main() -> int:
    with open(sys.argv[1]) as f:
        job = json.load(f)
    res: dict[str, Any] = {}
    try:
        run(job, res)
    except BaseException as exc:  # reported to the parent, which stops the run with it
        res["error"] = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    with open(job["result_path"], "w") as f:
        json.dump(res, f)
    return 3 if "error" in res else 0


if __name__ == "__main__":
    sys.exit(main())
